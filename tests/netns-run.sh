#!/bin/sh
# Run a command inside a private network namespace with only loopback up, so
# media tests can never send a packet outside the machine (PLATFORM.md,
# "WebRTC in tests, without leaving the machine").
#
#   tests/netns-run.sh COMMAND [ARGS...]
#
# As root this is `unshare --net`; otherwise an unprivileged user namespace
# maps us to root first (`unshare --user --map-root-user --net`). With
# KETANG_NETNS_MOUNT=1 the command also gets a private mount namespace, so it
# may mount (e.g. a small tmpfs as a full disk) without touching the host's
# mounts; they vanish with it. The exit status is the command's.
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
mount_ns=
if [ "${KETANG_NETNS_MOUNT:-}" = 1 ]; then
	mount_ns="--mount --propagation private"
fi
if [ "$(id -u)" -eq 0 ]; then
	# shellcheck disable=SC2086 # the options are words
	exec unshare --net $mount_ns -- "$self" "$@"
fi
# shellcheck disable=SC2086
exec unshare --user --map-root-user --net $mount_ns -- "$self" "$@"
