#!/bin/sh
# [limits] against the real binary (inside a private network namespace, run by ctest; with
# the dev preset the binary carries ASan/UBSan/LSan):
#   - http_rate: one client address over its bucket gets 429 + Retry-After + a JSON error;
#     (a rate of 1/s: the sanitizer build's slower requests must not refill it meanwhile)
#     another address (127.0.0.2) is not affected; after Retry-After the first is served again;
#   - dtls_handshakes: with 1, a second offer while the first session still connects gets 503
#     "busy" + Retry-After, the gauge on /metrics says 1; DELETE of the first frees the place;
#   - max_lessons, max_subscribers ([lesson]) and max_body_bytes ([server]): one more lesson,
#     viewer or byte is refused (503 naming the limit, 413), the lesson goes on;
#   - the server stays healthy throughout and exits cleanly.
set -eu

KETANG=${1:?usage: limits.sh KETANG_BIN SOURCE_DIR}
SRC=${2:?usage: limits.sh KETANG_BIN SOURCE_DIR}
PORT=18447
. "$(dirname "$0")/server-lib.sh"

WHIP_SDP="$SRC/tests/unit/data/sdp/chrome-whip.sdp"
WHEP_SDP="$SRC/tests/unit/data/sdp/chrome-whep.sdp"

cat >"$DIR/ketang.ini" <<INI
[server]
listen = 127.0.0.1:$PORT
data_dir = $DIR/data
[media]
ice_addresses = 127.0.0.1
[limits]
http_rate = 1
http_burst = 10
dtls_handshakes = 1
INI
start_server

# --- http_rate: 25 requests at once from 127.0.0.1 (one curl: no process start between;
# each answer's status and Retry-After in codes, each body in its own file).
set --
i=0
while [ $i -lt 25 ]; do
	set -- "$@" -o "$DIR/r$i" "$B/healthz"
	i=$((i + 1))
done
curl -sk -w '%{http_code} %header{retry-after}\n' "$@" >"$DIR/codes"
ok=$(grep -c '^200 ' "$DIR/codes" || true)
limited=$(grep -c '^429 ' "$DIR/codes" || true)
echo "http_rate 1/s, burst 10: 25 requests at once -> $ok x 200, $limited x 429"
[ "$ok" -ge 10 ] || fail "only $ok of the burst of 10 were served"
[ "$limited" -ge 5 ] || fail "only $limited refused of 25 (rate 1/s, burst 10)"
[ $((ok + limited)) -eq 25 ] || fail "other statuses: $(sort "$DIR/codes" | uniq -c)"

# The refusal itself (the last one): Retry-After and a JSON body.
last=$(grep -n '^429 ' "$DIR/codes" | tail -1)
n=$((${last%%:*} - 1))
retry=$(echo "$last" | awk '{print $2}' | tr -d '\r')
[ -n "$retry" ] && [ "$retry" -ge 1 ] || fail "no Retry-After: $last"
grep -q '"error":"rate_limited"' "$DIR/r$n" || fail "429 body: $(cat "$DIR/r$n")"

# Another client address has its own bucket.
s=$(curl -sk --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$B/healthz")
[ "$s" = 200 ] || fail "127.0.0.2 was refused too ($s)"

# After Retry-After (the server's own figure), 127.0.0.1 is served again.
sleep "$retry"
s=$(curl -sk -o /dev/null -w '%{http_code}' "$B/healthz")
[ "$s" = 200 ] || fail "still $s after Retry-After: $retry s"
echo "429 with Retry-After: $retry; 127.0.0.2 unaffected; served again after it"

# From here on, requests come from 127.0.0.3: a bucket of its own, full (10 requests).
curl() {
	command curl --interface 127.0.0.3 "$@"
}

# --- dtls_handshakes = 1: the WHIP session's peer connects to nobody (the offer's
# candidates are not in this namespace), so it stays connecting until it is deleted.
TEACHER=$(token --lesson lim --role teacher)
OBSERVER=$(token --lesson lim --role observer)
s=$(curl -sk -o "$DIR/body" -D "$DIR/headers" -w '%{http_code}' -X POST "$B/whip/lim" \
	-H "Authorization: Bearer $TEACHER" -H "Content-Type: application/sdp" \
	--data-binary "@$WHIP_SDP")
[ "$s" = 201 ] || fail "first offer: $s $(cat "$DIR/body")"
LOC=$(grep -i '^location:' "$DIR/headers" | tr -d '\r' | awk '{print $2}')

s=$(curl -sk -o "$DIR/body" -D "$DIR/headers" -w '%{http_code}' "$B/metrics")
[ "$s" = 200 ] || fail "/metrics: $s"
grep -q '^ketang_sessions_connecting 1$' "$DIR/body" ||
	fail "gauge: $(grep connecting "$DIR/body")"

s=$(curl -sk -o "$DIR/body" -D "$DIR/headers" -w '%{http_code}' -X POST "$B/whep/lim" \
	-H "Authorization: Bearer $OBSERVER" -H "Content-Type: application/sdp" \
	--data-binary "@$WHEP_SDP")
[ "$s" = 503 ] || fail "second offer while one connects: $s $(cat "$DIR/body")"
grep -q '"error":"busy"' "$DIR/body" || fail "503 body: $(cat "$DIR/body")"
grep -qi '^retry-after: 2' "$DIR/headers" || fail "503 without Retry-After"
echo "dtls_handshakes 1: second offer -> 503 busy, Retry-After 2"

s=$(curl -sk -o /dev/null -w '%{http_code}' -X DELETE "$B$LOC" -H "Authorization: Bearer $TEACHER")
[ "$s" = 200 ] || fail "DELETE of the first session: $s"

s=$(curl -sk -o "$DIR/body" -D "$DIR/headers" -w '%{http_code}' -X POST "$B/whip/lim" \
	-H "Authorization: Bearer $TEACHER" -H "Content-Type: application/sdp" \
	--data-binary "@$WHIP_SDP")
[ "$s" = 201 ] || fail "offer after the place was freed: $s $(cat "$DIR/body")"
echo "after DELETE of the first: the next offer -> 201"

[ "$(curl -sk -o /dev/null -w '%{http_code}' "$B/healthz")" = 200 ] || fail "healthz at the end"
stop_server
echo "PASS"
