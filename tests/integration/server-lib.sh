# Shared by the shell integration tests that run the real `ketang serve`
# (sourced; they set KETANG, DIR and PID first). A test's server log is in
# $DIR/server.log; with the dev preset the binary carries ASan/UBSan/LSan and
# stop_server fails on any report.

fail() {
	echo "FAIL: $*" >&2
	[ -f "$DIR/server.log" ] && sed 's/^/  server: /' "$DIR/server.log" >&2
	exit 1
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
