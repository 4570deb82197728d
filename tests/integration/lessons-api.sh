#!/bin/sh
# The lessons API end to end through the real binary (inside a private network namespace;
# with the dev preset the binary carries ASan/UBSan/LSan, checked at each shutdown):
#   - POST /api/lessons: join links, validation errors naming the field, auth, 413
#   - GET /api/lessons (state filter, paging), GET /api/lessons/{id} per role and lesson
#   - `ketang lesson create` while the server runs writes the same catalog
#   - lessons survive a restart; [server] public_url is the base of join links
#   - DELETE /api/lessons/{id} and `ketang lesson delete` (admin; audited)
set -eu

KETANG=${1:?usage: lessons-api.sh KETANG_BIN SOURCE_DIR}
SRC=${2:?usage: lessons-api.sh KETANG_BIN SOURCE_DIR}
PORT=18444
. "$(dirname "$0")/server-lib.sh"

post() { # STATUS TEXT TOKEN JSON
	expect "$1" "$2" POST /api/lessons "$3" -H 'Content-Type: application/json' --data-binary "$4"
}

field() { # NAME -> the last "NAME":"value" in $DIR/body
	sed -n 's/.*"'"$1"'":"\([^"]*\)".*/\1/p' "$DIR/body"
}

write_config "public_url = "
start_server
ADMIN=$(token --role admin)
ARCHIVIST=$(token --role archivist)
OTHER_TEACHER=$(token --role teacher --lesson other-lesson)
SHORT_ADMIN=$(token --role admin --ttl 1)
GOOD='{"title":"Fractions 分数","subject":"maths","grade":"3","teacher":"Ms Li",
"starts_at":"2026-11-24T08:00+08:00","classrooms":["Room A","双峰二小 三(2)班"]}'

# 1. Create: 201, Location, links with tokens in the fragment.
post 201 '"state":"scheduled"' "$ADMIN" "$GOOD"
ID=$(field id)
[ -n "$ID" ] || fail "no id in $(cat "$DIR/body")"
grep -qi "^location: /api/lessons/$ID" "$DIR/headers" || fail "no Location"
grep -qF "\"teacher_url\":\"$B/teacher#lesson=$ID&token=v1.$ID.teacher." "$DIR/body" ||
	fail "teacher_url: $(cat "$DIR/body")"
grep -qF "\"url\":\"$B/classroom#lesson=$ID&token=v1.$ID.classroom." "$DIR/body" ||
	fail "classroom url: $(cat "$DIR/body")"
grep -qF '&room=Room%20A"' "$DIR/body" || fail "room name not in the link"
grep -qF '"starts_at":"2026-11-24T00:00:00Z"' "$DIR/body" || fail "starts_at not UTC"
grep -qF '"record":true' "$DIR/body" || fail "not recorded by default"
grep -qF '"broadcast_public":false' "$DIR/body" || fail "broadcast public by default"
grep -qF "\"broadcast_url\":\"$B/watch#lesson=$ID&token=v1.$ID.observer." "$DIR/body" ||
	fail "broadcast_url"
grep -qF '&mode=hls"' "$DIR/body" || fail "broadcast_url without mode=hls"
grep -qF "\"program_url\":\"$B/watch#lesson=$ID&token=v1.$ID.observer." "$DIR/body" ||
	fail "program_url"
grep -qF '&mode=program"' "$DIR/body" || fail "program_url without mode=program"
grep -qF "\"observer_url\":\"$B/watch#lesson=$ID&token=v1.$ID.observer." "$DIR/body" ||
	fail "observer_url"
TEACHER=$(field teacher_url | sed 's/.*token=//')
CLASSROOM=$(sed -n 's/.*classroom#lesson=[^&]*&token=\([^&]*\)&.*/\1/p' "$DIR/body")
[ -n "$CLASSROOM" ] || fail "no classroom token"
post 201 '"record":false' "$ADMIN" '{"title":"No rooms","starts_at":1795000000,"record":false}'
ID2=$(field id)
grep -qF '"classrooms":[]' "$DIR/body" || fail "no classrooms: $(cat "$DIR/body")"

# 2. Auth on create.
post 401 '"unauthorized"' "" "$GOOD"
post 401 '"bad-token"' "v1..admin.9999999999.AAAA" "$GOOD"
post 403 '"wrong-role"' "$TEACHER" "$GOOD"
post 403 '"wrong-role"' "$ARCHIVIST" "$GOOD"
sleep 2
post 401 '"token-expired"' "$SHORT_ADMIN" "$GOOD"

# 3. Validation: every error names its field.
post 400 '"bad-json"' "$ADMIN" '{"title":'
post 400 '"bad-json"' "$ADMIN" '["title"]'
post 400 '"bad-json"' "$ADMIN" ''
post 400 '"bad-json"' "$ADMIN" '{"title":"a","title":"b","starts_at":1}'
post 400 'title: missing' "$ADMIN" '{"starts_at":1}'
post 400 'title: must be a string' "$ADMIN" '{"title":5,"starts_at":1}'
post 400 'title: must not be empty' "$ADMIN" '{"title":"","starts_at":1}'
LONG=$(printf '%0201d' 0)
post 400 'title: longer than 200' "$ADMIN" "{\"title\":\"$LONG\",\"starts_at\":1}"
post 400 'teacher: longer than 64' "$ADMIN" "{\"title\":\"t\",\"teacher\":\"$LONG\",\"starts_at\":1}"
post 400 'subject: contains a control' "$ADMIN" '{"title":"t","subject":"a\nb","starts_at":1}'
post 400 'starts_at: missing' "$ADMIN" '{"title":"t"}'
post 400 'starts_at: not an ISO 8601' "$ADMIN" '{"title":"t","starts_at":"tomorrow"}'
post 400 'starts_at: needs a UTC offset' "$ADMIN" '{"title":"t","starts_at":"2026-11-24T08:00"}'
post 400 'starts_at: Unix time out of range' "$ADMIN" '{"title":"t","starts_at":-5}'
post 400 'starts_at: must be' "$ADMIN" '{"title":"t","starts_at":true}'
post 400 'classrooms: must be an array' "$ADMIN" '{"title":"t","starts_at":1,"classrooms":"A"}'
post 400 'classrooms[1]: must be a string' "$ADMIN" '{"title":"t","starts_at":1,"classrooms":["A",2]}'
post 400 'classrooms[1]: the same name' "$ADMIN" '{"title":"t","starts_at":1,"classrooms":["A","A"]}'
post 400 'classrooms[0]: must not be empty' "$ADMIN" '{"title":"t","starts_at":1,"classrooms":[""]}'
MANY=$(seq 1 51 | sed 's/.*/"r&"/' | paste -sd, -)
post 400 'classrooms: more than 50' "$ADMIN" "{\"title\":\"t\",\"starts_at\":1,\"classrooms\":[$MANY]}"
post 400 'record: must be true or false' "$ADMIN" '{"title":"t","starts_at":1,"record":"no"}'
post 400 'record: must be true or false' "$ADMIN" '{"title":"t","starts_at":1,"record":0}'
post 400 'broadcast_public: must be true or false' "$ADMIN" '{"title":"t","starts_at":1,"broadcast_public":"yes"}'
post 400 'unknown field \"classroom\"' "$ADMIN" '{"title":"t","starts_at":1,"classroom":["A"]}'
head -c 70000 /dev/zero | tr '\0' ' ' >"$DIR/big.json"
post 413 'payload_too_large' "$ADMIN" "@$DIR/big.json"
expect 400 '"bad-host"' POST /api/lessons "$ADMIN" -H 'Host: a"b' --data-binary "$GOOD"

# 4. List: admin only, state filter, paging.
expect 200 "\"total\":2" GET /api/lessons "$ADMIN"
expect 200 '"lessons":[]' GET '/api/lessons?state=live' "$ADMIN"
expect 200 "\"id\":\"$ID2\"" GET '/api/lessons?limit=1&offset=1' "$ADMIN"
grep -qF "\"id\":\"$ID\"" "$DIR/body" && fail "paging returned the first lesson too"
expect 400 'state: must be' GET '/api/lessons?state=bogus' "$ADMIN"
expect 400 'limit: must be' GET '/api/lessons?limit=0' "$ADMIN"
expect 400 'offset: must be' GET '/api/lessons?offset=x' "$ADMIN"
expect 403 '"wrong-role"' GET /api/lessons "$TEACHER"
expect 401 '"unauthorized"' GET /api/lessons ""

# 5. One lesson: admin (with links), the lesson's own endpoints (without), nobody else.
expect 200 '"attendance":[]' GET "/api/lessons/$ID" "$ADMIN"
grep -qF '"teacher_url"' "$DIR/body" || fail "admin view without links"
expect 200 "\"id\":\"$ID\"" GET "/api/lessons/$ID" "$TEACHER"
grep -qF '"teacher_url"' "$DIR/body" && fail "a teacher token got fresh links"
expect 200 '"title":"Fractions' GET "/api/lessons/$ID" "$CLASSROOM"
expect 403 '"wrong-lesson"' GET "/api/lessons/$ID" "$OTHER_TEACHER"
expect 403 '"wrong-lesson"' GET "/api/lessons/$ID2" "$TEACHER"
expect 403 '"wrong-role"' GET "/api/lessons/$ID" "$ARCHIVIST"
expect 401 '"unauthorized"' GET "/api/lessons/$ID" ""
expect 404 '"not-found"' GET /api/lessons/nosuchlesson "$ADMIN"
expect 404 '"not-found"' GET '/api/lessons/bad%21id' "$ADMIN"
expect 404 '"not-found"' GET "/api/lessons/$ID/extra" "$ADMIN"
expect 405 'method' DELETE /api/lessons "$ADMIN"
expect 405 'method' POST "/api/lessons/$ID" "$ADMIN" --data-binary '{}'

# 6. The CLI writes the same catalog while the server runs.
"$KETANG" lesson create --config "$DIR/ketang.ini" --title "From the CLI" \
	--starts-at 2026-11-25T08:00Z --classroom "Room C" --url "https://school.example" --no-record \
	--source "teacher=rtsp://cam:pw@10.9.0.5/s1?ch=1" --source "classroom/Room C=rtmp://10.9.0.6/live/c" \
	>"$DIR/cli.json" 2>"$DIR/cli.err" || fail "lesson create: $(cat "$DIR/cli.err")"
grep -qF '"url": "https://school.example/classroom#lesson=' "$DIR/cli.json" ||
	fail "CLI output: $(cat "$DIR/cli.json")"
grep -qF '"record": false' "$DIR/cli.json" || fail "CLI --no-record: $(cat "$DIR/cli.json")"
# Sources: role/name split at the first '=', the password never printed.
grep -qF '"url": "rtsp://10.9.0.5/s1?ch=1"' "$DIR/cli.json" || fail "CLI --source: $(cat "$DIR/cli.json")"
grep -qF '"role": "classroom",' "$DIR/cli.json" || fail "CLI --source role: $(cat "$DIR/cli.json")"
if grep -q 'cam:pw' "$DIR/cli.json"; then fail "CLI printed a source password"; fi
if "$KETANG" lesson create --config "$DIR/ketang.ini" --title x --starts-at 1 \
	--source "teacher" 2>"$DIR/cli.err"; then
	fail "CLI accepted a source without a URL"
fi
grep -q 'sources\[0\].url: missing' "$DIR/cli.err" || fail "CLI source error: $(cat "$DIR/cli.err")"
ID3=$(sed -n 's/^  "id": "\([^"]*\)".*/\1/p' "$DIR/cli.json")
expect 200 '"title":"From the CLI"' GET "/api/lessons/$ID3" "$ADMIN"
if "$KETANG" lesson create --config "$DIR/ketang.ini" --starts-at 1 2>"$DIR/cli.err"; then
	fail "CLI accepted a lesson without a title"
fi
grep -q 'title: missing' "$DIR/cli.err" || fail "CLI error: $(cat "$DIR/cli.err")"
"$KETANG" lesson list --config "$DIR/ketang.ini" | grep -q '"total": 3' || fail "lesson list"
stop_server

# 7. Restart with public_url: everything is still there, links use the configured base.
write_config "public_url = https://class.example.cn/ketang/"
start_server
expect 200 '"total":3' GET /api/lessons "$ADMIN"
expect 200 '"teacher_url":"https://class.example.cn/ketang/teacher#lesson=' \
	GET "/api/lessons/$ID" "$ADMIN"
grep -qF '"classrooms":["Room A","双峰二小 三(2)班"]' "$DIR/body" || fail "rooms after restart"
expect 200 '"title":"Fractions' GET "/api/lessons/$ID" "$TEACHER"
expect 200 '"record":false' GET "/api/lessons/$ID2" "$ADMIN"
post 201 '"url":"https://class.example.cn/ketang/classroom#' "$ADMIN" "$GOOD"

# 8. Delete (admin): the lesson with its classrooms and attendance; audited. Bad requests
#    change nothing.
expect 401 '"unauthorized"' DELETE "/api/lessons/$ID2" ""
expect 403 '"wrong-role"' DELETE "/api/lessons/$ID" "$TEACHER"
expect 403 '"wrong-role"' DELETE "/api/lessons/$ID2" "$ARCHIVIST"
expect 404 '"not-found"' DELETE /api/lessons/nosuchlesson "$ADMIN"
expect 404 '"not-found"' DELETE '/api/lessons/bad%21id' "$ADMIN"
expect 200 '"total":4' GET /api/lessons "$ADMIN"
expect 204 '' DELETE "/api/lessons/$ID2" "$ADMIN"
expect 404 '"not-found"' GET "/api/lessons/$ID2" "$ADMIN"
expect 404 '"not-found"' DELETE "/api/lessons/$ID2" "$ADMIN"
expect 200 '"total":3' GET /api/lessons "$ADMIN"
expect 200 '"title":"Fractions' GET "/api/lessons/$ID" "$ADMIN"
expect 200 "\"action\":\"lesson.delete\",\"object\":\"lesson/$ID2\"" GET /api/audit "$ADMIN"
# The CLI: --lesson required, an unknown id refused (exit 2), then the lesson goes.
if "$KETANG" lesson delete --config "$DIR/ketang.ini" 2>"$DIR/cli.err"; then
	fail "CLI deleted without --lesson"
fi
grep -q -- '--lesson ID is required' "$DIR/cli.err" || fail "CLI delete usage: $(cat "$DIR/cli.err")"
set +e
"$KETANG" lesson delete --config "$DIR/ketang.ini" --lesson nosuchlesson 2>"$DIR/cli.err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "CLI delete of an unknown lesson: exit $rc"
"$KETANG" lesson delete --config "$DIR/ketang.ini" --lesson "$ID3" >"$DIR/cli.out" 2>"$DIR/cli.err" ||
	fail "lesson delete: $(cat "$DIR/cli.err")"
grep -qF "deleted lesson $ID3" "$DIR/cli.out" || fail "CLI delete output: $(cat "$DIR/cli.out")"
expect 404 '"not-found"' GET "/api/lessons/$ID3" "$ADMIN"
stop_server
echo "lessons-api: ok"
