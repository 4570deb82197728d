# Shared by the shell integration tests that run the real `ketang serve`. A test sets
# KETANG (the binary) and PORT, then sources this file, which makes DIR (a scratch directory,
# removed at exit with the server stopped) and B (https://127.0.0.1:$PORT). A test's server
# log is in $DIR/server.log; with the dev preset the binary carries ASan/UBSan/LSan and
# stop_server fails on any report.

DIR=$(mktemp -d)
B="https://127.0.0.1:$PORT"
PID=""
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT

fail() {
	echo "FAIL: $*" >&2
	[ -f "$DIR/server.log" ] && sed 's/^/  server: /' "$DIR/server.log" >&2
	exit 1
}

# write_config [LINE...]: $DIR/ketang.ini listening on 127.0.0.1:$PORT, data in $DIR/data,
# ICE on loopback; each LINE goes into [server].
write_config() {
	{
		printf '[server]\nlisten = 127.0.0.1:%s\ndata_dir = %s\n' "$PORT" "$DIR/data"
		for line in "$@"; do
			printf '%s\n' "$line"
		done
		printf '[media]\nice_addresses = 127.0.0.1\n'
	} >"$DIR/ketang.ini"
}

# start_server [LISTENERS]: waits (at most 20 s) until the server reported
# LISTENERS (default 1) "listening on" lines.
start_server() {
	want=${1:-1}
	: >"$DIR/server.log"
	"$KETANG" serve --config "$DIR/ketang.ini" 2>>"$DIR/server.log" &
	PID=$!
	i=0
	while [ "$(grep -c 'listening on' "$DIR/server.log")" -lt "$want" ]; do
		kill -0 "$PID" 2>/dev/null || fail "server exited during start"
		i=$((i + 1))
		[ $i -lt 200 ] || fail "server did not report $want listener(s)"
		sleep 0.1
	done
}

stop_server() {
	kill -TERM "$PID"
	rc=0
	wait "$PID" || rc=$?
	PID=""
	[ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
	if grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$DIR/server.log"; then
		fail "sanitizer report at shutdown"
	fi
}

# token ARGS...: a token from `ketang token` (e.g. --role admin, --lesson ID, --ttl S).
token() {
	"$KETANG" token --config "$DIR/ketang.ini" "$@"
}

# call METHOD PATH TOKEN [curl args...] -> prints the status; body in $DIR/body, headers in
# $DIR/headers. An empty TOKEN sends no Authorization header.
call() {
	m=$1
	p=$2
	t=$3
	shift 3
	if [ -n "$t" ]; then
		set -- -H "Authorization: Bearer $t" "$@"
	fi
	if [ "$m" = HEAD ]; then
		set -- -I "$@"
	else
		set -- -X "$m" "$@"
	fi
	curl -sk -o "$DIR/body" -D "$DIR/headers" -w '%{http_code}' "$@" "$B$p"
}

# expect STATUS TEXT METHOD PATH TOKEN [curl args...]: the status, and TEXT (unless empty)
# in the body.
expect() {
	want=$1
	text=$2
	shift 2
	got=$(call "$@")
	[ "$got" = "$want" ] || fail "$1 $2: status $got, wanted $want: $(head -c 600 "$DIR/body")"
	[ -z "$text" ] || grep -qF -- "$text" "$DIR/body" ||
		fail "$1 $2: body lacks '$text': $(head -c 600 "$DIR/body")"
}
