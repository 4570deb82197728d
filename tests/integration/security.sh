#!/bin/sh
# Security posture end to end through the real binary (inside a private network namespace;
# with the dev preset the binary carries ASan/UBSan/LSan, checked at each shutdown):
#   - TLS: 1.2 with ECDHE + AES-GCM and 1.3 are accepted; 1.0, 1.1, CBC suites and RSA key
#     exchange are refused (the client is freed from the system's OpenSSL policy so that
#     the refusal is the server's)
#   - headers: CSP with frame-ancestors 'none', X-Frame-Options, nosniff and Referrer-Policy
#     on pages, API answers and errors; HSTS only with a configured certificate
#   - file modes: data dir 0700 (also one made 0755 by hand), catalogs, audit log, secret,
#     TLS key, an imported recording and its directory readable by the server's user only
#   - audit log: CLI token mint, lesson create, archive listing, media replay and download,
#     recording delete, each with who (role, lesson, address), what and when; `ketang audit`
#     and GET /api/audit (admin only) print them; the log refuses UPDATE and DELETE; no token in the log, the catalog or
#     the server's output
set -eu

KETANG=${1:?usage: security.sh KETANG_BIN SOURCE_DIR}
PORT=18446
. "$(dirname "$0")/server-lib.sh"

header() { # NAME -> its value in $DIR/headers
	tr -d '\r' <"$DIR/headers" | sed -n "s/^$1: //Ip" | tail -1
}

# tls ARGS... -> s_client's output in $DIR/tls; status 0 when a cipher was agreed.
# OPENSSL_CONF=/dev/null: Debian's openssl.cnf would stop the client itself from offering
# TLS 1.0/1.1; SECLEVEL=0 lets it offer everything the test names.
tls() {
	OPENSSL_CONF=/dev/null timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
		-servername localhost "$@" </dev/null >"$DIR/tls" 2>&1 || true
	grep -q 'Cipher is [A-Z]' "$DIR/tls" && ! grep -q 'Cipher is (NONE)' "$DIR/tls"
}

mode() { # PATH -> octal mode
	stat -c %a "$1"
}

# A data dir an operator made by hand, readable by everyone.
mkdir -m 755 "$DIR/data"
write_config
start_server

# ---- TLS versions and suites ----
tls -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 ||
	fail "TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 refused: $(cat "$DIR/tls")"
grep -q 'Protocol *: TLSv1.2' "$DIR/tls" || fail "not TLS 1.2: $(cat "$DIR/tls")"
tls -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305 || fail "TLS 1.2 CHACHA20-POLY1305 refused"
tls -tls1_3 || fail "TLS 1.3 refused: $(cat "$DIR/tls")"
grep -q 'TLSv1.3' "$DIR/tls" || fail "not TLS 1.3: $(cat "$DIR/tls")"
tls -tls1_2 || fail "TLS 1.2 with the client's default list refused"
grep -q 'Cipher is ECDHE-ECDSA-AES.*GCM\|Cipher is ECDHE-ECDSA-CHACHA20' "$DIR/tls" ||
	fail "TLS 1.2 default negotiation: $(grep 'Cipher is' "$DIR/tls")"
for c in ECDHE-ECDSA-AES128-SHA256 ECDHE-ECDSA-AES256-SHA384 ECDHE-ECDSA-AES128-SHA \
	ECDHE-ECDSA-AES256-SHA AES128-GCM-SHA256 AES256-SHA; do
	if tls -tls1_2 -cipher "$c@SECLEVEL=0"; then
		fail "TLS 1.2 with $c (CBC or RSA key exchange) was accepted"
	fi
done
tls -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' && fail "TLS 1.1 was accepted: $(cat "$DIR/tls")"
tls -tls1 -cipher 'DEFAULT@SECLEVEL=0' && fail "TLS 1.0 was accepted: $(cat "$DIR/tls")"
echo "tls: 1.2 AEAD and 1.3 accepted; 1.0, 1.1, 6 CBC/RSA suites refused"

# ---- security headers ----
check_headers() { # WHAT -> asserts the headers every answer carries (no HSTS here)
	csp=$(header content-security-policy)
	case "$csp" in *"frame-ancestors 'none'"*) ;; *) fail "$1: CSP '$csp'" ;; esac
	[ "$(header x-frame-options)" = DENY ] || fail "$1: X-Frame-Options"
	[ "$(header x-content-type-options)" = nosniff ] || fail "$1: X-Content-Type-Options"
	[ "$(header referrer-policy)" = no-referrer ] || fail "$1: Referrer-Policy"
	[ -z "$(header strict-transport-security)" ] || fail "$1: HSTS with a self-signed cert"
}
for page in / /teacher /classroom /archive /watch /js/lesson-client.js; do
	expect 200 "" GET "$page" ""
	check_headers "$page"
	case "$(header content-security-policy)" in
	*"script-src 'self'"*"object-src 'none'"*) ;;
	*) fail "$page: page CSP '$(header content-security-policy)'" ;;
	esac
done
expect 404 "" GET /no-such-page ""
check_headers "404"
expect 200 "" GET /healthz ""
check_headers "/healthz"
expect 401 "" GET /api/recordings ""
check_headers "401 from the API"
[ "$(header content-security-policy)" = "default-src 'none'; frame-ancestors 'none'" ] ||
	fail "API CSP: $(header content-security-policy)"
echo "headers: CSP, X-Frame-Options, nosniff, Referrer-Policy on 9 answers; no HSTS"

# ---- audit: admin actions and archive access ----
ADMIN=$(token --role admin)
ARCHIVIST=$(token --role archivist)
expect 201 '"id"' POST /api/lessons "$ADMIN" -H 'Content-Type: application/json' \
	--data '{"title":"Fractions","starts_at":"2026-12-01T08:00:00Z","classrooms":["Room A"]}'
LESSON=$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$DIR/body")
[ -n "$LESSON" ] || LESSON=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$DIR/body" | head -1)
[ -n "$LESSON" ] || fail "no lesson id: $(head -c 300 "$DIR/body")"

ffmpeg -loglevel error -f lavfi -i testsrc=duration=1:size=160x120:rate=10 -c:v libx264 \
	-pix_fmt yuv420p "$DIR/clip.mp4" || fail "ffmpeg"
"$KETANG" recording add --config "$DIR/ketang.ini" --lesson "$LESSON" --file "$DIR/clip.mp4" \
	--title Fractions >"$DIR/add.json" || fail "recording add"
REC=$(sed -n 's/^  "id": \([0-9]*\),$/\1/p' "$DIR/add.json")
[ -n "$REC" ] || fail "no recording id: $(cat "$DIR/add.json")"

expect 200 '"recordings"' GET "/api/recordings?q=Fractions" "$ARCHIVIST"
expect 206 "" GET "/api/recordings/$REC/media" "$ARCHIVIST" -H 'Range: bytes=0-'
expect 206 "" GET "/api/recordings/$REC/media" "$ARCHIVIST" -H 'Range: bytes=100-199'
expect 200 "" GET "/api/recordings/$REC/media?download=1&token=$ARCHIVIST" ""
expect 403 "" DELETE "/api/recordings/$REC" "$ARCHIVIST"

# ---- file modes (the recording is still there) ----
FILE=$(find "$DIR/data/recordings" -type f -name '*.mp4' | head -1)
[ -n "$FILE" ] || fail "the imported recording is not under recordings/"
for f in "$DIR/data" "$(dirname "$FILE")" "$DIR/data/recordings"; do
	[ "$(mode "$f")" = 700 ] || fail "$f: mode $(mode "$f"), wanted 700"
done
for f in ketang.db recordings.db audit.db secret tls-key.pem; do
	[ "$(mode "$DIR/data/$f")" = 600 ] || fail "$f: mode $(mode "$DIR/data/$f"), wanted 600"
done
[ "$(mode "$FILE")" = 600 ] || fail "$FILE: mode $(mode "$FILE"), wanted 600"
for f in "$DIR"/data/*-wal; do
	[ "$(mode "$f")" = 600 ] || fail "$f: mode $(mode "$f"), wanted 600"
done
echo "modes: data dir, recordings dirs 700; catalogs, audit, secret, key, recording 600"

expect 204 "" DELETE "/api/recordings/$REC" "$ADMIN"
BEFORE=$(date -u +%s)
"$KETANG" audit --config "$DIR/ketang.ini" >"$DIR/audit.jsonl" || fail "ketang audit"
cat "$DIR/audit.jsonl"
row() { # ACTION PATTERN -> the row with ACTION must match the extended regex PATTERN
	grep "\"action\":\"$1\"" "$DIR/audit.jsonl" | grep -Eq "$2" ||
		fail "audit: no $1 row matching $2"
}
ADDR='"address":"127\.0\.0\.1"'
AT='"at":"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"'
row token.mint "$AT.*\"role\":\"cli\".*\"address\":\"local:[^\"]+\".*\"object\":\"role=admin"
row token.mint '"object":"role=archivist lesson= ttl=[0-9]+"'
row lesson.create "$AT.*\"role\":\"admin\",\"lesson\":\"\",$ADDR.*\"object\":\"lesson/$LESSON\",\"result\":\"ok\""
row recording.add "\"role\":\"cli\".*\"object\":\"recording/$REC\""
row recording.list "\"role\":\"archivist\".*$ADDR.*\"object\":\"recordings\\?q=Fractions\""
row recording.media "\"role\":\"archivist\".*\"object\":\"recording/$REC\",\"result\":\"ok\""
row recording.download "\"role\":\"archivist\".*\"object\":\"recording/$REC\""
row recording.delete "\"role\":\"admin\".*$ADDR.*\"object\":\"recording/$REC\",\"result\":\"ok\""
[ "$(grep -c '"action":"recording.media"' "$DIR/audit.jsonl")" = 1 ] ||
	fail "audit: a Range request in the middle was logged as another replay"
grep '"action":"recording.delete"' "$DIR/audit.jsonl" | grep -q archivist &&
	fail "audit: the refused delete (403) was logged as an action"
"$KETANG" audit --config "$DIR/ketang.ini" --since "$((BEFORE + 3600))" >"$DIR/later.jsonl" ||
	fail "ketang audit --since"
[ ! -s "$DIR/later.jsonl" ] || fail "--since in the future printed rows: $(cat "$DIR/later.jsonl")"
"$KETANG" audit --config "$DIR/ketang.ini" --since yesterday 2>/dev/null &&
	fail "--since yesterday was accepted"
"$KETANG" audit --config "$DIR/ketang.ini" | grep -q '"action":"audit.read"' ||
	fail "reading the audit log was not logged"

# The same log over HTTP, for admins only; reading it is a row too.
expect 403 "" GET /api/audit "$ARCHIVIST"
expect 401 "" GET /api/audit ""
expect 200 '"action":"recording.delete"' GET "/api/audit?limit=1000" "$ADMIN"
grep -q "\"object\":\"recording/$REC\"" "$DIR/body" || fail "/api/audit: $(cat "$DIR/body")"
expect 200 '"entries":[]' GET "/api/audit?since=$((BEFORE + 3600))" "$ADMIN"
expect 400 "since" GET "/api/audit?since=yesterday" "$ADMIN"
"$KETANG" audit --config "$DIR/ketang.ini" | grep '"action":"audit.read"' |
	grep -q "\"role\":\"admin\",\"lesson\":\"\",$ADDR" || fail "GET /api/audit was not logged"

# Append-only, and no token anywhere it could leak.
sqlite3 "$DIR/data/audit.db" "DELETE FROM audit" 2>/dev/null && fail "the audit log allowed DELETE"
sqlite3 "$DIR/data/audit.db" "UPDATE audit SET role = 'x'" 2>/dev/null &&
	fail "the audit log allowed UPDATE"
for t in "$ADMIN" "$ARCHIVIST"; do
	mac=${t##*.}
	for f in "$DIR/server.log" "$DIR"/data/*.db "$DIR"/data/*-wal "$DIR/audit.jsonl"; do
		! grep -qF "$mac" "$f" || fail "a token's MAC is in $f"
	done
done
echo "audit: $(wc -l <"$DIR/audit.jsonl") rows; append-only; no token in logs or catalogs"
stop_server

# ---- HSTS with a configured certificate ----
cp "$DIR/data/tls-cert.pem" "$DIR/cert.pem"
cp "$DIR/data/tls-key.pem" "$DIR/key.pem"
write_config "tls_cert = $DIR/cert.pem" "tls_key = $DIR/key.pem"
start_server
expect 200 "" GET / ""
[ "$(header strict-transport-security)" = "max-age=31536000" ] ||
	fail "no HSTS with a configured certificate: $(cat "$DIR/headers")"
expect 401 "" GET /api/lessons ""
[ -n "$(header strict-transport-security)" ] || fail "no HSTS on an API answer"
echo "hsts: sent with a configured certificate"
stop_server
echo "PASS"
