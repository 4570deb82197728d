#!/bin/sh
# The archive API end to end through the real binary (inside a private network namespace;
# with the dev preset the binary carries ASan/UBSan/LSan, checked at each shutdown):
#   - `ketang recording add` imports a real MP4 (made here with ffmpeg) with chapters
#   - GET /api/recordings: filters (lesson, teacher, subject, grade, kind, q, from, to), paging
#   - GET /api/recordings/{id} with chapters; authorization for every role
#   - GET/HEAD /api/recordings/{id}/media: 200, Range (first bytes, middle, suffix, 416),
#     ?token= for players, ?download=1
#   - DELETE by admin removes row and file; retention_days deletes old recordings at start
set -eu

KETANG=${1:?usage: recordings-api.sh KETANG_BIN SOURCE_DIR}
PORT=18445
. "$(dirname "$0")/server-lib.sh"

header() { # NAME -> its value in $DIR/headers
	tr -d '\r' <"$DIR/headers" | sed -n "s/^$1: //Ip" | tail -1
}

total() { # the "total" of a list response
	sed -n 's/.*"total":\([0-9]*\).*/\1/p' "$DIR/body"
}

list_total() { # QUERY -> total for GET /api/recordings?QUERY (archivist)
	expect 200 '"recordings"' GET "/api/recordings?$1" "$ARCHIVIST"
	total
}

add() { # LESSON FILE [args] -> prints the new id
	"$KETANG" recording add --config "$DIR/ketang.ini" --lesson "$@" >"$DIR/add.json" ||
		fail "recording add $*"
	sed -n 's/^  "id": \([0-9]*\),$/\1/p' "$DIR/add.json"
}

write_config "retention_days = 0"
mkdir -p "$DIR/data"
ffmpeg -loglevel error -f lavfi -i testsrc=duration=3:size=320x240:rate=15 \
	-f lavfi -i sine=duration=3 -c:v libx264 -pix_fmt yuv420p -c:a aac \
	-movflags +faststart "$DIR/lesson.mp4" || fail "ffmpeg"
SIZE=$(stat -c %s "$DIR/lesson.mp4")

# ---- import: outside the data dir (copied in), inside (catalogued in place) ----
NOW=$(date +%s)
ID1=$(add math1 --file "$DIR/lesson.mp4" --title "Fractions 分数" --teacher "Ms Li" \
	--subject Maths --grade 7 --classroom "Room A" --started-at $((NOW - 7200)) \
	--duration-ms 3000 --chapter 1500:"Room A on stage" --chapter 0:Start)
[ -n "$ID1" ] || fail "no id from recording add: $(cat "$DIR/add.json")"
grep -q '"sha256": "[0-9a-f]\{64\}"' "$DIR/add.json" || fail "no sha256: $(cat "$DIR/add.json")"
grep -q '"state": "complete"' "$DIR/add.json" || fail "not complete"
mkdir -p "$DIR/data/rec"
cp "$DIR/lesson.mp4" "$DIR/data/rec/cam.mp4"
ID2=$(add math1 --file "$DIR/data/rec/cam.mp4" --kind source --stream p1-camera \
	--title "Fractions 分数" --teacher "Ms Li" --subject Maths --grade 7 \
	--started-at $((NOW - 7200)))
ID3=$(add poem2 --file "$DIR/lesson.mp4" --title "Tang poems" --teacher "Mr Wang" \
	--subject Chinese --grade 8 --started-at $((NOW - 3600)))
grep -q '"file_name": "cam.mp4"' "$DIR/add.json" && fail "ID3 should be a copy"
[ -f "$DIR/data/rec/cam.mp4" ] || fail "in-place file moved"
"$KETANG" recording add --config "$DIR/ketang.ini" --lesson x --file "$DIR/none.mp4" \
	2>/dev/null && fail "a missing file was accepted"
"$KETANG" recording add --config "$DIR/ketang.ini" --lesson x --file "$DIR/lesson.mp4" \
	--kind movie 2>/dev/null && fail "a bad kind was accepted"

start_server
ADMIN=$(token --role admin)
ARCHIVIST=$(token --role archivist)
TEACHER=$(token --role teacher --lesson math1)
CLASSROOM=$(token --role classroom --lesson math1)
OBSERVER=$(token --role observer --lesson math1)

# ---- authorization for every role ----
expect 401 unauthorized GET /api/recordings ""
expect 401 bad-token GET /api/recordings "v1.x.admin.9999999999.forged"
for t in "$TEACHER" "$CLASSROOM" "$OBSERVER"; do
	expect 403 wrong-role GET /api/recordings "$t"
	expect 403 wrong-role GET "/api/recordings/$ID1" "$t"
	expect 403 wrong-role GET "/api/recordings/$ID1/media?token=$t" ""
	expect 403 wrong-role DELETE "/api/recordings/$ID1" "$t"
done
expect 403 wrong-role DELETE "/api/recordings/$ID1" "$ARCHIVIST"
expect 401 unauthorized GET "/api/recordings/$ID1/media" ""
expect 401 bad-token GET "/api/recordings/$ID1/media?token=nonsense" ""
# ?token= is for the media URL only
expect 401 unauthorized GET "/api/recordings?token=$ARCHIVIST" ""
expect 200 '"recordings"' GET /api/recordings "$ADMIN"
[ "$(total)" = 3 ] || fail "admin sees $(total) recordings"

# ---- filters and paging ----
[ "$(list_total "")" = 3 ] || fail "list total"
[ "$(list_total lesson=math1)" = 2 ] || fail "lesson filter"
[ "$(list_total teacher=Mr%20Wang)" = 1 ] || fail "teacher filter"
[ "$(list_total subject=Maths)" = 2 ] || fail "subject filter"
[ "$(list_total grade=8)" = 1 ] || fail "grade filter"
[ "$(list_total kind=source)" = 1 ] || fail "kind filter"
[ "$(list_total q=fraction)" = 2 ] || fail "text search"
[ "$(list_total q=%E5%88%86%E6%95%B0)" = 2 ] || fail "text search (Chinese)"
[ "$(list_total q=wang)" = 1 ] || fail "text search (teacher)"
[ "$(list_total "from=$((NOW - 5000))")" = 1 ] || fail "from filter"
[ "$(list_total "to=$((NOW - 5000))")" = 2 ] || fail "to filter"
FROM=$(date -u -d "@$((NOW - 7300))" +%Y-%m-%dT%H:%M:%SZ)
[ "$(list_total "from=$FROM&to=$NOW")" = 3 ] || fail "ISO 8601 range"
expect 400 from: GET "/api/recordings?from=yesterday" "$ARCHIVIST"
expect 400 kind: GET "/api/recordings?kind=movie" "$ARCHIVIST"
expect 400 limit: GET "/api/recordings?limit=0" "$ARCHIVIST"
expect 200 '"limit":1,"offset":1' GET "/api/recordings?limit=1&offset=1" "$ARCHIVIST"
[ "$(total)" = 3 ] || fail "paging total"
[ "$(grep -o '"id":' "$DIR/body" | wc -l)" = 1 ] || fail "page size"
grep -q "\"lesson\":\"math1\"" "$DIR/body" || fail "second newest is a math1 recording"

# ---- one recording ----
expect 200 '"chapters":[{"at_ms":0,"title":"Start"},{"at_ms":1500,"title":"Room A on stage"}]' \
	GET "/api/recordings/$ID1" "$ARCHIVIST"
grep -q '"duration_ms":3000' "$DIR/body" || fail "duration"
grep -q "\"size_bytes\":$SIZE" "$DIR/body" || fail "size"
grep -q "\"media_url\":\"/api/recordings/$ID1/media\"" "$DIR/body" || fail "media_url"
expect 404 not-found GET /api/recordings/99999 "$ARCHIVIST"
expect 404 not-found GET /api/recordings/abc "$ARCHIVIST"
expect 404 not-found GET "/api/recordings/$ID1/other" "$ARCHIVIST"

# ---- media and Range ----
M="/api/recordings/$ID1/media"
expect 200 "" GET "$M" "$ARCHIVIST"
cmp -s "$DIR/body" "$DIR/lesson.mp4" || fail "full body differs"
[ "$(header content-type)" = video/mp4 ] || fail "content-type $(header content-type)"
[ "$(header content-length)" = "$SIZE" ] || fail "content-length"
[ "$(header accept-ranges)" = bytes ] || fail "accept-ranges"
[ -z "$(header content-disposition)" ] || fail "disposition without download=1"

range() { # SPEC START LEN: 206, Content-Range, the right bytes
	expect 206 "" GET "$M?token=$ARCHIVIST" "" -H "Range: bytes=$1"
	end=$(($2 + $3 - 1))
	[ "$(header content-range)" = "bytes $2-$end/$SIZE" ] ||
		fail "Range $1: content-range $(header content-range)"
	[ "$(header content-length)" = "$3" ] || fail "Range $1: length $(header content-length)"
	dd if="$DIR/lesson.mp4" of="$DIR/want" bs=1 skip="$2" count="$3" 2>/dev/null
	cmp -s "$DIR/body" "$DIR/want" || fail "Range $1: wrong bytes"
}
range 0-99 0 100
range 1000-1999 1000 1000
range -500 $((SIZE - 500)) 500
range "$((SIZE - 10))-" $((SIZE - 10)) 10
range "0-$((SIZE * 2))" 0 "$SIZE"
expect 416 range_not_satisfiable GET "$M" "$ARCHIVIST" -H "Range: bytes=$SIZE-"
[ "$(header content-range)" = "bytes */$SIZE" ] || fail "416 content-range"
expect 416 range_not_satisfiable GET "$M" "$ARCHIVIST" -H "Range: bytes=-0"
# several ranges or a bad one: ignored, the whole file (RFC 9110 §14.2)
expect 200 "" GET "$M" "$ARCHIVIST" -H "Range: bytes=0-1,5-6"
[ "$(header content-length)" = "$SIZE" ] || fail "multi-range length"
expect 200 "" GET "$M" "$ARCHIVIST" -H "Range: bytes=9-3"
expect 200 "" GET "$M" "$ARCHIVIST" -H "Range: pages=1-2"
# HEAD
[ "$(call HEAD "$M" "$ARCHIVIST")" = 200 ] || fail "HEAD"
[ "$(header content-length)" = "$SIZE" ] || fail "HEAD length"
# download
expect 200 "" GET "$M?download=1&token=$ARCHIVIST" ""
header content-disposition | grep -q '^attachment; filename=".*Fractions.*program\.mp4"; filename\*=UTF-8'"''"'.*%E5%88%86' ||
	fail "content-disposition: $(header content-disposition)"
[ "$(header referrer-policy)" = no-referrer ] || fail "referrer-policy"
expect 405 method_not_allowed DELETE "$M" "$ADMIN"
grep -q "token=" "$DIR/server.log" && fail "a token reached the log"

# ---- delete ----
F2="$DIR/data/rec/cam.mp4"
expect 204 "" DELETE "/api/recordings/$ID2" "$ADMIN"
[ -f "$F2" ] && fail "file still there after DELETE"
expect 404 not-found GET "/api/recordings/$ID2" "$ARCHIVIST"
expect 404 not-found DELETE "/api/recordings/$ID2" "$ADMIN"
stop_server

# ---- retention: an old recording goes at start, with its file ----
OLD=$(add old1 --file "$DIR/lesson.mp4" --title "Old lesson" \
	--started-at $((NOW - 10 * 86400)) --ended-at $((NOW - 10 * 86400 + 3)))
OLDFILE=$(sed -n 's/^  "file_name": "\(.*\)",$/\1/p' "$DIR/add.json")
[ -f "$DIR/data/recordings/import/$OLDFILE" ] || fail "imported file not found"
write_config "retention_days = 1"
start_server
grep -q "retention: deleted recording $OLD " "$DIR/server.log" || fail "retention not logged"
[ -f "$DIR/data/recordings/import/$OLDFILE" ] && fail "expired file still there"
ADMIN=$(token --role admin)
expect 404 not-found GET "/api/recordings/$OLD" "$ADMIN"
expect 200 '"total":2' GET /api/recordings "$ADMIN"
stop_server
echo "recordings-api: ok"
