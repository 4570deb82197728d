#!/bin/sh
# Installs the Debian packages Ketang needs to build, run and test.
# Idempotent: only missing packages are installed; apt-get only.
# gstreamer1.0-x (textoverlay) and fonts-wqy-microhei (Chinese glyphs) are run-time
# needs: the classroom wall (pipelines/kt-wall) labels each tile with its school's name.
# libgstrtspserver-1.0-dev: test-ingest serves a camera over RTSP (built with everything).
# liburing-dev: the media workers send through io_uring (transport/kt-send-batch.h).
set -eu

BUILD_PKGS="build-essential cmake pkg-config libglib2.0-dev \
 libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev \
 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
 gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice gstreamer1.0-tools \
 libnice-dev libsrtp2-dev libwebsockets-dev libwebsockets-evlib-glib libopus-dev libssl-dev \
 libjansson-dev libsqlite3-dev openssl libgstrtspserver-1.0-dev liburing-dev \
 gstreamer1.0-x fonts-wqy-microhei"
TEST_PKGS="chromium nodejs npm iproute2 nftables iptables libnetfilter-queue-dev ffmpeg libclang-rt-14-dev clang curl nginx-core libnginx-mod-rtmp"

want="$BUILD_PKGS"
if [ "${1:-}" = "--test" ]; then
	want="$want $TEST_PKGS"
fi

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

# node/npm may come from outside Debian on some machines; accept a working one.
case "$missing" in
*nodejs*|*npm*)
	if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
		missing=$(echo "$missing" | sed -e 's/ nodejs//' -e 's/ npm//')
	fi
	;;
esac

if [ -z "$(echo "$missing" | tr -d ' ')" ]; then
	exit 0
fi

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
