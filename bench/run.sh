#!/bin/sh
# Runs the benchmarks from a release build inside a private network namespace
# and prints their figures. Usage: bench/run.sh [BUILD_DIR] [SUBSCRIBERS] [SECONDS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-release}
subs=${2:-200}
secs=${3:-10}
exec "$here/../tests/netns-run.sh" "$build/bench/bench-forward" "$subs" "$secs"
