#!/bin/sh
# Checks that every netem.sh profile delivers what it claims: two fresh
# namespaces joined by a veth pair, the profile applied, then kt-linkprobe
# measures round trip, jitter, loss and rate in each direction, and each
# figure is held against the profile. Also checks `netem.sh rate` (the dip).
#
#   tests/netem/test-profiles.sh BIN_DIR [PROFILE...]
#
# Needs root (ip netns). The namespaces are private to this run and removed
# on exit; no packet leaves them.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: test-profiles.sh BIN_DIR [PROFILE...]}
shift
export KT_NETEM_BIN="$bin"
export KT_NETEM_STATE
KT_NETEM_STATE=$(mktemp -d /tmp/kt-netem-state.XXXXXX)
netem=$here/netem.sh
a=ktnp$$a b=ktnp$$b
fail=0

cleanup() {
	"$netem" destroy "$a" "$b"
	rm -rf "$KT_NETEM_STATE"
}
trap cleanup EXIT INT TERM

"$netem" veth "$a" kt-np-a 10.81.0.1/24 "$b" kt-np-b 10.81.0.2/24
ip netns exec "$a" "$bin/kt-linkprobe" echo --port 7001 &
ip netns exec "$b" "$bin/kt-linkprobe" echo --port 7001 &

# field NAME LINE: the value of NAME=... in a kt-linkprobe result line.
field() { printf '%s\n' "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }

# check WHAT VALUE LOW HIGH: VALUE within [LOW, HIGH] (floating point).
check() {
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v >= lo && v <= hi) }'; then
		printf '  ok   %-28s %8s  in [%s, %s]\n' "$1" "$2" "$3" "$4"
	else
		printf '  FAIL %-28s %8s  not in [%s, %s]\n' "$1" "$2" "$3" "$4"
		fail=1
	fi
}

# The round-trip loss of pings, for a loss of P % in each direction, and a
# band of four standard deviations (binomial, N pings) around it.
loss_band() { # P N -> "LOW HIGH"
	awk -v p="$1" -v n="$2" 'BEGIN {
		q = 1 - (1 - p / 100) ^ 2; sd = sqrt(q * (1 - q) / n);
		lo = q - 4 * sd - 0.005; if (lo < 0) lo = 0;
		printf "%.3f %.3f", lo, q + 4 * sd + 0.01 }'
}

probe() { # FROM_NS TO_ADDR PINGS KBIT
	ip netns exec "$1" "$bin/kt-linkprobe" probe --to "$2:7001" --pings "$3" \
		--rate-kbit "$4" --seconds 2
}

check_profile() {
	eval "$("$netem" show "$1" | tr ' ' '\n' | sed 's/^/p_/')"
	"$netem" apply "$1" "$a" kt-np-a "$b" kt-np-b
	pings=200
	down=$(probe "$a" 10.81.0.2 $pings "$p_down_kbit")
	up=$(probe "$b" 10.81.0.1 50 "$p_up_kbit")
	echo "$1: down: $down"
	echo "$1: up:   $up"
	# Round trip: the profile's, plus up to 5 ms of serialisation and scheduling.
	check "$1 rtt median (ms)" "$(field rtt_med_ms "$down")" \
		"$(awk -v r="$p_rtt_ms" 'BEGIN { print r * 0.95 }')" "$(awk -v r="$p_rtt_ms" 'BEGIN { print r * 1.05 + 5 }')"
	if [ "$p_jitter_ms" -gt 0 ]; then
		check "$1 jitter (ms)" "$(field jitter_ms "$down")" "$(awk -v j="$p_jitter_ms" 'BEGIN { print j / 5 }')" "$p_jitter_ms"
	else
		check "$1 jitter (ms)" "$(field jitter_ms "$down")" 0 10
	fi
	# shellcheck disable=SC2046 # two words on purpose
	check "$1 round-trip loss" "$(field loss "$down")" $(loss_band "$p_loss_pct" $pings)
	check "$1 down rate (kbit/s)" "$(field rate_kbit "$down")" \
		"$(awk -v r="$p_down_kbit" 'BEGIN { print r * 0.92 }')" "$(awk -v r="$p_down_kbit" 'BEGIN { print r * 1.06 }')"
	check "$1 up rate (kbit/s)" "$(field rate_kbit "$up")" \
		"$(awk -v r="$p_up_kbit" 'BEGIN { print r * 0.92 }')" "$(awk -v r="$p_up_kbit" 'BEGIN { print r * 1.06 }')"
}

profiles=${*:-$("$netem" profiles | grep -v '^clean$')}
for p in $profiles; do
	check_profile "$p"
done

# The dip: the bench lowers the downlink to 250 kbit/s and back with `rate`.
"$netem" apply dip "$a" kt-np-a "$b" kt-np-b
"$netem" rate "$a" kt-np-a 250
dip=$(probe "$a" 10.81.0.2 20 250)
echo "dip at 250 kbit/s: $dip"
check "dip lowered rate (kbit/s)" "$(field rate_kbit "$dip")" 230 265
"$netem" rate "$a" kt-np-a 2000
dip=$(probe "$a" 10.81.0.2 20 2000)
check "dip restored rate (kbit/s)" "$(field rate_kbit "$dip")" 1840 2120

# Clearing leaves a clean link: no loss, no added delay.
"$netem" clear "$a" kt-np-a
"$netem" clear "$b" kt-np-b
clean=$(probe "$a" 10.81.0.2 50 0)
echo "cleared: $clean"
check "cleared rtt median (ms)" "$(field rtt_med_ms "$clean")" 0 2
check "cleared loss" "$(field loss "$clean")" 0 0

[ "$fail" -eq 0 ] && echo "netem profiles: all figures within their bounds"
exit "$fail"
