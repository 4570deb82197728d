#!/bin/sh
# Side-by-side anchor for bench-forward: Janus's CPU per forwarded packet per
# subscriber for the same 600 kbit/s VP8 + Opus stream fanned out to N WebRTC
# subscribers (real ICE/DTLS/SRTP), on this machine. See bench/README.md.
#
#   bench/janus-anchor.sh [SUBSCRIBERS=200] [SECONDS=10]
#
# Environment:
#   BUILD_DIR=build-release    where bench/janus-anchor was built (a release build)
#   JANUS_DEBUG_LEVEL=3        Janus's log level (its log is shown on failure)
#   JANUS_ARGS="-l"            extra janus flags (-l: libnice debugging)
#   JANUS_LOG=FILE             keep a copy of Janus's log there
#   JANUS_EVENT_LOOPS=N        Janus's `event_loops` (unset: Janus's default, a thread
#                              per handle)
#
# Janus is Debian's package (1.1.2). If the `janus` binary is missing this
# script installs it with `apt-get install -y --no-install-recommends janus`
# (idempotent; it needs root). It is not in scripts/install-deps.sh on purpose:
# only this anchor needs it. The package's own service is never started.
#
# Everything runs inside a private network namespace (tests/netns-run.sh).
# Janus never gathers loopback ICE candidates, so the script adds a veth pair
# in that namespace: Janus gathers on kt-j0 (10.77.0.1), the subscribers on
# kt-j1 (10.77.0.2); the media crosses that in-kernel pair, as bench-forward's
# crosses lo. Janus runs from a config generated from bench/janus/*.in in a
# temporary directory, with the HTTP API on 127.0.0.1:8088 and one streaming
# mountpoint fed on UDP 5002 (Opus) / 5004 (VP8); bench/janus-anchor does the
# rest and prints the figures.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
subs=${1:-200}
secs=${2:-10}
build=${BUILD_DIR:-build-release}
case $build in /*) ;; *) build=$root/$build ;; esac
bin=$build/bench/janus-anchor

if [ "${KETANG_JANUS_INNER:-}" != 1 ]; then
	if ! command -v janus >/dev/null 2>&1; then
		echo "janus-anchor: installing Debian's janus package" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends janus >&2
	fi
	if [ ! -x "$bin" ]; then
		echo "janus-anchor: $bin is missing; build it first (make release, or" >&2
		echo "  cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release && cmake --build $build)" >&2
		exit 2
	fi
	export KETANG_JANUS_INNER=1
	exec "$root/tests/netns-run.sh" "$here/janus-anchor.sh" "$subs" "$secs"
fi

# ---- inside the namespace ----
iface=kt-j0
http_port=8088
video_port=5004
audio_port=5002
ip link add "$iface" type veth peer name kt-j1
ip addr add 10.77.0.1/24 dev "$iface"
ip addr add 10.77.0.2/24 dev kt-j1
# libnice's packets between the two addresses do cross the pair (its counters
# grow) and so arrive on a veth with a source address local to this
# namespace; without accept_local the kernel drops them as martians and ICE
# fails on both sides.
for dev in all "$iface" kt-j1; do
	sysctl -qw "net.ipv4.conf.$dev.accept_local=1"
done
ip link set "$iface" up
ip link set kt-j1 up

dir=$(mktemp -d /tmp/janus-anchor.XXXXXX)
janus_pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "$janus_pid" ] && kill -0 "$janus_pid" 2>/dev/null; then
		kill -TERM "$janus_pid" 2>/dev/null || true
		i=0
		while kill -0 "$janus_pid" 2>/dev/null && [ "$i" -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$janus_pid" 2>/dev/null || true
	fi
	if [ -n "${JANUS_LOG:-}" ]; then
		cp "$dir/janus.log" "$JANUS_LOG" || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Janus's module folders, as Debian's own config names them.
libdir=$(sed -n 's/^[[:space:]]*plugins_folder = "\(.*\)\/plugins".*/\1/p' /etc/janus/janus.jcfg)
libdir=${libdir:-/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/janus}
loops=
if [ -n "${JANUS_EVENT_LOOPS:-}" ]; then
	loops="event_loops = $JANUS_EVENT_LOOPS"
fi
for f in janus.jcfg janus.transport.http.jcfg janus.plugin.streaming.jcfg; do
	sed -e "s|@DIR@|$dir|g" -e "s|@LIBDIR@|$libdir|g" -e "s|@IFACE@|$iface|g" \
	    -e "s|@EVENT_LOOPS@|$loops|g" -e "s|@HTTP_PORT@|$http_port|g" \
	    -e "s|@DEBUG_LEVEL@|${JANUS_DEBUG_LEVEL:-3}|g" \
	    -e "s|@VIDEO_PORT@|$video_port|g" -e "s|@AUDIO_PORT@|$audio_port|g" \
	    "$here/janus/$f.in" >"$dir/$f"
done

# shellcheck disable=SC2086
janus -C "$dir/janus.jcfg" -F "$dir" -o ${JANUS_ARGS:-} >"$dir/janus.log" 2>&1 &
janus_pid=$!
# Ready once its HTTP API listens (state 0A in /proc/net/tcp, port in hex).
hexport=$(printf '%04X' "$http_port")
i=0
until awk -v p=":$hexport" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
	/proc/net/tcp; do
	if ! kill -0 "$janus_pid" 2>/dev/null || [ $i -ge 100 ]; then
		echo "janus-anchor: Janus did not start; its log:" >&2
		cat "$dir/janus.log" >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done
echo "janus-anchor: $(janus --version 2>/dev/null | head -1), ${loops:-a thread per handle}," \
	"ICE on $iface"
status=0
"$bin" --pid "$janus_pid" --http-port "$http_port" --address 10.77.0.2 --mountpoint 1 \
	--video-port "$video_port" --audio-port "$audio_port" "$subs" "$secs" || status=$?
if [ $status -ne 0 ]; then
	echo "janus-anchor: failed ($status); the last lines of Janus's log:" >&2
	tail -20 "$dir/janus.log" >&2
fi
exit $status
