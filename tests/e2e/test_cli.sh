#!/usr/bin/env bash
# End-to-end tests of the CLI surface: global flags, help, command table, exit codes.
. "$(dirname "$0")/lib.sh"
M=fixtures/models/fmnist_resnet.onnx

expect_rc 0 "--version" $LD --version
expect_out '^layerdiff [0-9]+\.[0-9]+' "--version prints the version"
expect_rc 0 "--help" $LD --help
expect_out 'inspect' "--help lists commands"
expect_rc 64 "no command is a usage error" $LD
expect_rc 64 "unknown command" $LD frobnicate
expect_out "unknown command 'frobnicate'" "unknown command is named"
expect_rc 64 "unknown global flag" $LD --bogus run $M
expect_rc 64 "unknown run flag" $LD run $M --bogus
expect_out "unknown option '--bogus'" "unknown flag is named"
expect_rc 64 "--threads needs a number" $LD --threads zero run $M
expect_rc 64 "--repeat range" $LD run $M --repeat 0
expect_rc 64 "run without MODEL" $LD run
expect_rc 0 "help run" $LD help run
expect_out -- '--save-outputs' "help run shows run's options"
expect_rc 0 "help inspect" $LD help inspect
expect_rc 64 "help of unknown command" $LD help nope
expect_rc 0 "--threads 1 run" $LD --threads 1 run $M
expect_rc 0 "-v accepted" $LD -v inspect $M --no-nodes

# make install / uninstall honour PREFIX and DESTDIR
D=$TMP/destdir
if make --no-print-directory install DESTDIR=$D PREFIX=/opt/ld >"$TMP/out" 2>&1 && [ -x $D/opt/ld/bin/layerdiff ] \
   && [ -f $D/opt/ld/share/man/man1/layerdiff-compare.1 ] && [ -f $D/opt/ld/share/man/man5/layerdiff-report.5 ]; then
    ok "make install DESTDIR=... PREFIX=... installs the binary and the man pages"
else notok "make install DESTDIR=... PREFIX=..." "$(tail -5 $TMP/out)"; fi
make --no-print-directory uninstall DESTDIR=$D PREFIX=/opt/ld >"$TMP/out" 2>&1
if [ -z "$(find $D -type f)" ]; then ok "make uninstall removes them"; else notok "make uninstall" "$(find $D -type f)"; fi
