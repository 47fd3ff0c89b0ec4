#!/usr/bin/env bash
# Install the Debian packages layerdiff's build, tests, bench and demo need; no-op when present.
# (clang, its compiler-rt and libomp: the libFuzzer harnesses in tests/fuzz/.)
set -euo pipefail
PKGS="build-essential pkg-config protobuf-c-compiler libprotobuf-c-dev libonnx-dev libcjson-dev
libopenblas-dev libopenblas-openmp-dev libncurses-dev libzip-dev libpng-dev libjpeg-dev libcmocka-dev zlib1g-dev mandoc tmux
python3 python3-numpy python3-onnx python3-jsonschema python3-pytest python3-setuptools python3-pip python3-venv libopenmpi-dev openmpi-bin dataset-fashion-mnist librsvg2-bin libxml2-utils time
clang libclang-rt-dev libomp-dev"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "make deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
