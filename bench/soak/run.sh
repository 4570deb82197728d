#!/bin/sh
# The soak (bench/soak/soak.mjs) against the sanitizer build, in a private network
# namespace. Usage: bench/soak/run.sh [MINUTES] (default 30). Needs `make test-deps`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)" --target ketang
# LeakSanitizer reports at exit, with the suppressions built into the sanitizer build
# (tests/support/gst-leaks.c), and makes the exit status non-zero.
export KETANG_BIN="$root/build-dev/ketang"
export SOAK_MINUTES="${1:-${SOAK_MINUTES:-30}}"
exec "$root/tests/netns-run.sh" node "$here/soak.mjs"
