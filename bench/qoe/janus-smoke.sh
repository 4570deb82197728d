#!/bin/sh
# Smoke test of the QoE bench's Janus anchor: one headless Chromium publishes
# its fake camera (640x480) with three VP8 simulcast layers + Opus into Janus
# 1.1.2's videoroom and watches it back from a second page; prints what the
# watcher got (getStats) and what the publisher sent per layer, then forces
# the lowest layer. See bench/qoe/README.md, "Janus anchor".
#
#   bench/qoe/janus-smoke.sh [SECONDS=10] [SIZE=640x480]
#
# SIZE is the fake camera's; the layers are SIZE/4, SIZE/2 and SIZE.
#
# Environment:
#   NODE_PATH=DIR            where playwright-core is, if not in tests/e2e/node_modules
#                            (e.g. /work/main/tests/e2e/node_modules)
#   KETANG_CHROMIUM=PATH     the browser (default /usr/bin/chromium)
#   JANUS_DEBUG_LEVEL=3      Janus's log level (its log is shown on failure)
#   JANUS_LOG=FILE           keep a copy of Janus's log there
#
# Network: everything runs in a private network namespace (tests/netns-run.sh),
# the browser's. Janus runs in a second, nested one, so that the only way
# between them is a veth pair, a link a harness can shape with tc: Janus on
# kt-q0 10.79.0.1 (its ICE is enforced to kt-q0, its HTTP API listens there on
# port 8088), the browser on kt-q1 10.79.0.2. No packet can leave the machine.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-10}
size=${2:-640x480}
case $size in
*[!0-9x]* | x* | *x | *x*x*)
	echo "janus-smoke: SIZE must be WIDTHxHEIGHT, not $size" >&2
	exit 2
	;;
*x*) ;;
*)
	echo "janus-smoke: SIZE must be WIDTHxHEIGHT, not $size" >&2
	exit 2
	;;
esac

if [ "${KETANG_QOE_INNER:-}" != 1 ]; then
	for cmd in janus node unshare nsenter setpriv ip; do
		if ! command -v "$cmd" >/dev/null 2>&1; then
			echo "janus-smoke: $cmd is missing" >&2
			exit 2
		fi
	done
	export KETANG_QOE_INNER=1
	exec "$root/tests/netns-run.sh" "$here/janus-smoke.sh" "$secs" "$size"
fi

# ---- inside the browser's namespace ----
janus_ip=10.79.0.1
browser_ip=10.79.0.2
http_port=8088
room=1234

dir=$(mktemp -d /tmp/janus-qoe.XXXXXX)
janus_pid=
holder_pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	status=$?
	if [ -n "$janus_pid" ] && kill -0 "$janus_pid" 2>/dev/null; then
		kill -TERM "$janus_pid" 2>/dev/null || true
		i=0
		while kill -0 "$janus_pid" 2>/dev/null && [ "$i" -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$janus_pid" 2>/dev/null || true
	fi
	# Closing the pipe ends the holder, and with it Janus's namespace and
	# the veth pair.
	exec 9>&- || true
	if [ -n "$holder_pid" ]; then
		wait "$holder_pid" 2>/dev/null || true
	fi
	if [ -n "${JANUS_LOG:-}" ] && [ -f "$dir/janus.log" ]; then
		cp "$dir/janus.log" "$JANUS_LOG" || true
	fi
	rm -rf "$dir"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Janus's namespace: held by a process that waits on a pipe. Opening the
# pipe for writing returns once the holder has opened it, i.e. once it is
# inside its new namespace; it exits when this script closes (or loses) fd 9.
mkfifo "$dir/hold"
# shellcheck disable=SC2016 # $1 is the inner shell's
unshare --net -- sh -c 'read -r _ <"$1"' holder "$dir/hold" &
holder_pid=$!
exec 9>"$dir/hold"
jns() {
	nsenter --net="/proc/$holder_pid/ns/net" "$@"
}
ip link add kt-q1 type veth peer name kt-q0 netns "$holder_pid"
jns ip link set lo up
jns ip addr add "$janus_ip/24" dev kt-q0
jns ip link set kt-q0 up
ip addr add "$browser_ip/24" dev kt-q1
ip link set kt-q1 up

# Janus's module folders, as Debian's own config names them.
libdir=$(sed -n 's/^[[:space:]]*plugins_folder = "\(.*\)\/plugins".*/\1/p' /etc/janus/janus.jcfg)
libdir=${libdir:-/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/janus}
for f in janus.jcfg janus.transport.http.jcfg janus.plugin.videoroom.jcfg; do
	sed -e "s|@DIR@|$dir|g" -e "s|@LIBDIR@|$libdir|g" -e "s|@IFACE@|kt-q0|g" \
	    -e "s|@HTTP_IP@|$janus_ip|g" -e "s|@IP@|$janus_ip|g" -e "s|@HTTP_PORT@|$http_port|g" \
	    -e "s|@DEBUG_LEVEL@|${JANUS_DEBUG_LEVEL:-3}|g" -e "s|@ROOM@|$room|g" \
	    "$here/janus/$f.in" >"$dir/$f"
done

# Not through jns: a backgrounded function would be a subshell, and $! its pid.
# Janus and node get SIGTERM should this script die without its cleanup
# (setpriv --pdeathsig): no Janus is left behind.
nsenter --net="/proc/$holder_pid/ns/net" setpriv --pdeathsig TERM \
	janus -C "$dir/janus.jcfg" -F "$dir" -o >"$dir/janus.log" 2>&1 9>&- &
janus_pid=$!
# Ready once its HTTP API listens (state 0A in its namespace's /proc/net/tcp,
# port in hex).
hexport=$(printf '%04X' "$http_port")
i=0
until awk -v p=":$hexport" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
	"/proc/$janus_pid/net/tcp" 2>/dev/null; do
	if ! kill -0 "$janus_pid" 2>/dev/null || [ $i -ge 100 ]; then
		echo "janus-smoke: Janus did not start; its log:" >&2
		cat "$dir/janus.log" >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done
echo "janus-smoke: $(janus --version 2>/dev/null | head -1), videoroom $room, API" \
	"http://$janus_ip:$http_port/janus, ICE on kt-q0 ($janus_ip), browser on kt-q1 ($browser_ip)"

status=0
setpriv --pdeathsig TERM node "$here/janus-smoke.mjs" --janus "http://$janus_ip:$http_port/janus" --room "$room" \
	--seconds "$secs" --width "${size%x*}" --height "${size#*x}" 9>&- || status=$?
if [ $status -ne 0 ]; then
	echo "janus-smoke: failed ($status); the last lines of Janus's log:" >&2
	tail -30 "$dir/janus.log" >&2
fi
exit $status
