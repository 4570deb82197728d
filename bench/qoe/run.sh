#!/bin/sh
# QoE bench (issue 5): see bench/qoe/README.md. Needs root, a release build
# (make release) and the link-emulation tools (built by `make test`, or
# `cmake --build build --target kt-delay kt-linkprobe`).
#   bench/qoe/run.sh [--profiles weak,dip] [--seconds 60] [--servers ketang,janus] [--size 640x480]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec node "$here/qoe.mjs" "$@"
