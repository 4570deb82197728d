#!/bin/sh
# Server lifecycle, end to end through the real binary (run inside a private
# network namespace by ctest; with the dev preset the binary carries
# ASan/UBSan/LSan, so "nothing leaked" is checked at exit):
#   - bad config is refused naming the key; good config starts on IPv4 + IPv6
#   - /healthz, /metrics, WHIP + WHEP offers answered, a DELETE
#   - SIGTERM with live sessions exits 0 with no sanitizer report
#   - a restart reuses the generated TLS certificate and token secret
set -eu

KETANG=${1:?usage: server-lifecycle.sh KETANG_BIN SOURCE_DIR}
SRC=${2:?usage: server-lifecycle.sh KETANG_BIN SOURCE_DIR}
PORT=18443
. "$(dirname "$0")/server-lib.sh"

cat >"$DIR/ketang.ini" <<INI
[server]
listen = 127.0.0.1:$PORT,[::1]:$PORT
data_dir = $DIR/data
[media]
ice_addresses = 127.0.0.1
INI

# 1. A bad key is named and nothing starts.
printf '[media]\nworkerz = 2\n' >"$DIR/bad.ini"
if "$KETANG" serve --config "$DIR/bad.ini" 2>"$DIR/bad.log"; then
	fail "serve accepted a config with an unknown key"
fi
grep -q "workerz" "$DIR/bad.log" || fail "the error does not name the bad key: $(cat "$DIR/bad.log")"



status_of() { # METHOD URL [curl args...] -> prints the HTTP status
	m=$1
	u=$2
	shift 2
	curl -sk -o "$DIR/body" -D "$DIR/headers" -w '%{http_code}' -X "$m" "$@" "$u"
}

start_server 2
B4="https://127.0.0.1:$PORT"
B6="https://[::1]:$PORT"

[ "$(status_of GET "$B4/healthz")" = 200 ] || fail "IPv4 /healthz"
grep -q '"status":"ok"' "$DIR/body" || fail "healthz body: $(cat "$DIR/body")"
[ "$(status_of GET "$B6/healthz")" = 200 ] || fail "IPv6 /healthz"

TEACHER=$(token --lesson life --role teacher)
OBSERVER=$(token --lesson life --role observer)

s=$(status_of POST "$B4/whip/life" -H "Authorization: Bearer $TEACHER" \
	-H "Content-Type: application/sdp" --data-binary "@$SRC/tests/unit/data/sdp/chrome-whip.sdp")
[ "$s" = 201 ] || fail "WHIP offer: $s $(cat "$DIR/body")"
grep -qi '^location: /whip/life/' "$DIR/headers" || fail "no WHIP Location"
grep -q '^a=candidate:' "$DIR/body" || fail "answer without candidates"
WHIP_LOC=$(grep -i '^location:' "$DIR/headers" | tr -d '\r' | awk '{print $2}')

s=$(status_of POST "$B6/whep/life" -H "Authorization: Bearer $OBSERVER" \
	-H "Content-Type: application/sdp" --data-binary "@$SRC/tests/unit/data/sdp/chrome-whep.sdp")
[ "$s" = 201 ] || fail "WHEP offer over IPv6: $s $(cat "$DIR/body")"
grep -q '^a=sendonly' "$DIR/body" || fail "WHEP answer is not sendonly"

[ "$(status_of GET "$B4/metrics")" = 200 ] || fail "/metrics"
grep -q '^ketang_lessons_live 1$' "$DIR/body" || fail "metrics: $(cat "$DIR/body")"
grep -q '^ketang_subscribers 1$' "$DIR/body" || fail "metrics subscribers: $(cat "$DIR/body")"

[ "$(status_of DELETE "$B4$WHIP_LOC" -H "Authorization: Bearer $TEACHER")" = 200 ] ||
	fail "DELETE of the WHIP session"

# SIGTERM with the WHEP session still open.
stop_server
FP1=$(sha256sum "$DIR/data/tls-cert.pem" | cut -d' ' -f1)

# 2. Restart: same certificate, same secret (the old token still works).
start_server 2
FP2=$(sha256sum "$DIR/data/tls-cert.pem" | cut -d' ' -f1)
[ "$FP1" = "$FP2" ] || fail "the TLS certificate was regenerated"
s=$(status_of POST "$B4/whip/life" -H "Authorization: Bearer $TEACHER" \
	-H "Content-Type: application/sdp" --data-binary "@$SRC/tests/unit/data/sdp/chrome-whip.sdp")
[ "$s" = 201 ] || fail "old token after restart: $s $(cat "$DIR/body")"
stop_server
echo "server-lifecycle: ok"
