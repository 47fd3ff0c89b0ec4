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
