#!/bin/sh
# Run a command inside a private network namespace with only loopback up, so
# media tests can never send a packet outside the machine (PLATFORM.md,
# "WebRTC in tests, without leaving the machine").
#
#   tests/netns-run.sh COMMAND [ARGS...]
#
# As root this is `unshare --net`; otherwise an unprivileged user namespace
# maps us to root first (`unshare --user --map-root-user --net`). The exit
# status is the command's.
set -eu

if [ "$#" -eq 0 ]; then
	echo "usage: $0 COMMAND [ARGS...]" >&2
	exit 2
fi

if [ "${KETANG_NETNS_INNER:-}" = 1 ]; then
	# Second stage, already inside the new namespace.
	unset KETANG_NETNS_INNER
	ip link set lo up
	exec "$@"
fi

self=$(readlink -f "$0")
export KETANG_NETNS_INNER=1
if [ "$(id -u)" -eq 0 ]; then
	exec unshare --net -- "$self" "$@"
fi
exec unshare --user --map-root-user --net -- "$self" "$@"
