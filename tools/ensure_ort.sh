#!/usr/bin/env bash
# Install onnxruntime-node (CPU) into .cache/ort when node and npm exist and it is missing.
# --ignore-scripts: the CPU binaries ship in the package; its install script only fetches
# optional GPU providers from elsewhere. Exit 0 when ORT is usable, 1 when not.
cd "$(dirname "$0")/.."
ORT_DIR=${ORT_DIR:-.cache/ort}
[ -d "$ORT_DIR/node_modules/onnxruntime-node" ] && exit 0
command -v node >/dev/null && command -v npm >/dev/null || exit 1
mkdir -p "$ORT_DIR"
(cd "$ORT_DIR" && timeout 600 npm install --no-audit --no-fund --ignore-scripts --silent onnxruntime-node >/dev/null 2>&1) || exit 1
[ -d "$ORT_DIR/node_modules/onnxruntime-node" ]
