#!/bin/sh
# Link emulation for Ketang's weak-link tests and QoE bench: puts a named
# link profile (rate, delay, jitter, loss) on a veth pair between two network
# namespaces. This kernel has no sch_netem (PLATFORM.md), so each direction
# is shaped with what it has, in this order on the sender's side:
#   delay  iptables `NFQUEUE --queue-bypass` in OUTPUT, to kt-delay (user space;
#          delay ± jitter, FIFO). nft's own `queue` expression is missing from
#          this kernel (nft_queue); iptables' NFQUEUE target (through nft_compat)
#          is there.
#   loss   nft `numgen random` drop in postrouting
#   rate   tbf root qdisc (queue of up to QUEUE_MS at the profile's rate)
#
#   netem.sh profiles                        list the profiles
#   netem.sh show PROFILE                    print a profile's figures
#   netem.sh veth NS_A IF_A ADDR_A NS_B IF_B ADDR_B
#                                            make the namespaces (if missing) and
#                                            a veth pair between them (ADDR: a.b.c.d/len)
#   netem.sh apply PROFILE NS_A IF_A NS_B IF_B
#                                            A is the network side (server), B the
#                                            participant: A's egress is B's downlink
#   netem.sh rate NS IF KBIT                 change one direction's rate now (dip)
#   netem.sh clear NS IF                     remove one direction's shaping
#   netem.sh destroy NS...                   kill what runs in the namespaces, delete them
#
# Every command needs root (CAP_NET_ADMIN); namespaces are `ip netns` ones.
# kt-delay is taken from $KT_NETEM_BIN (default: build/tests/netem under the
# repository). State (kt-delay pids) lives in $KT_NETEM_STATE (/run/ketang-netem).
# Only the namespaces named here are touched; no traffic ever leaves them.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${KT_NETEM_BIN:-$root/build/tests/netem}
state=${KT_NETEM_STATE:-/run/ketang-netem}
QUEUE_MS=${KT_NETEM_QUEUE_MS:-300}

# name        down_kbit up_kbit rtt_ms jitter_ms loss_pct  (loss in each direction)
PROFILES='
school-shared 2000 2000  30  0  1
rural-4g       800  400  80 20  3
weak           300  300 150  0  5
lossy-20      1000 1000  50  0 20
satellite     1000 1000 600  0  1
dip           2000 2000  40  0  0
clean        20000 20000  2  0  0
'
# dip: the bench lowers it to 250 kbit/s for 20 s with `netem.sh rate`.

die() { echo "netem.sh: $*" >&2; exit 2; }

profile_line() {
	line=$(printf '%s\n' "$PROFILES" | awk -v p="$1" '$1 == p')
	[ -n "$line" ] || die "unknown profile '$1' (netem.sh profiles lists them)"
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $line
	down=$2 up=$3 rtt=$4 jitter=$5 loss=$6
}

in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }

# nft table names cannot take every interface name character.
table_of() { echo "kt_netem_$(echo "$1" | tr -c 'A-Za-z0-9_\n' '_')"; }

set_rate() { # NS IF KBIT
	kbit=$3
	burst=$((kbit * 1000 / 8 / 50)) # 20 ms at the rate, at least two full frames
	[ "$burst" -ge 3100 ] || burst=3100
	in_ns "$1" tc qdisc replace dev "$2" root tbf rate "${kbit}kbit" burst "$burst" latency "${QUEUE_MS}ms"
}

# Stops the kt-delay in a pid file and waits for it to let its queue go, so
# that a new one can bind the same queue number.
stop_pid() {
	pid=$(cat "$1")
	rm -f "$1"
	kill "$pid" 2>/dev/null || return 0
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

clear_dir() { # NS IF
	pidf=$state/$1.$2.pid
	[ ! -f "$pidf" ] || stop_pid "$pidf"
	in_ns "$1" nft delete table inet "$(table_of "$2")" 2>/dev/null || true
	for t in iptables ip6tables; do
		while in_ns "$1" $t -D OUTPUT -o "$2" -j NFQUEUE --queue-num "$(queue_of "$1" "$2")" \
			--queue-bypass 2>/dev/null; do :; done
	done
	in_ns "$1" tc qdisc del dev "$2" root 2>/dev/null || true
}

# The queue number only has to be unique in the namespace: the ifindex is.
queue_of() { in_ns "$1" cat "/sys/class/net/$2/ifindex"; }

shape_dir() { # NS IF KBIT ONE_WAY_MS JITTER_MS LOSS_PCT
	ns=$1 ifc=$2 kbit=$3 delay=$4 jit=$5 lossp=$6
	clear_dir "$ns" "$ifc"
	q=$(queue_of "$ns" "$ifc")
	if [ "$delay" -gt 0 ]; then
		mkdir -p "$state"
		# Not through in_ns: `ip netns exec` then execs kt-delay, so $! is its pid.
		ip netns exec "$ns" "$bin/kt-delay" --queue "$q" --delay-ms "$delay" --jitter-ms "$jit" \
			--seed "$q" </dev/null >>"$state/$ns.$ifc.log" 2>&1 &
		echo $! >"$state/$ns.$ifc.pid"
		for t in iptables ip6tables; do
			in_ns "$ns" $t -A OUTPUT -o "$ifc" -j NFQUEUE --queue-num "$q" --queue-bypass
		done
	fi
	if [ "$lossp" -gt 0 ]; then
		in_ns "$ns" nft -f - <<NFT
table inet $(table_of "$ifc") {
	chain out {
		type filter hook postrouting priority 0; policy accept;
		oifname "$ifc" numgen random mod 1000 < $((lossp * 10)) drop
	}
}
NFT
	fi
	set_rate "$ns" "$ifc" "$kbit"
}

cmd=${1:-}
[ -n "$cmd" ] || die "usage: see the top of $0"
shift
case $cmd in
profiles)
	printf '%s\n' "$PROFILES" | awk 'NF { print $1 }'
	;;
show)
	profile_line "${1:-}"
	echo "down_kbit=$down up_kbit=$up rtt_ms=$rtt jitter_ms=$jitter loss_pct=$loss"
	;;
veth)
	[ $# -eq 6 ] || die "veth NS_A IF_A ADDR_A NS_B IF_B ADDR_B"
	for ns in "$1" "$4"; do
		if ! ip netns list | awk '{ print $1 }' | grep -qx "$ns"; then
			ip netns add "$ns"
			# IPv4 only: an IPv6 link-local address finishes its duplicate
			# detection about a second after the link comes up, and Chromium
			# takes that address change for a network change and fails the
			# loads in flight (net::ERR_NETWORK_CHANGED: netem/hostile's
			# teacher page never loaded, once in CI).
			in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
				net.ipv6.conf.default.disable_ipv6=1
			in_ns "$ns" ip link set lo up
		fi
	done
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
	in_ns "$1" ip addr add "$3" dev "$2"
	in_ns "$4" ip addr add "$6" dev "$5"
	in_ns "$1" ip link set "$2" up
	in_ns "$4" ip link set "$5" up
	;;
apply)
	[ $# -eq 5 ] || die "apply PROFILE NS_A IF_A NS_B IF_B"
	profile_line "$1"
	[ -x "$bin/kt-delay" ] || die "$bin/kt-delay is missing (build it, or set KT_NETEM_BIN)"
	# Half the round trip each way; the jitter spreads each one-way delay by
	# ± jitter/2, so the round trip varies by about ± jitter.
	shape_dir "$2" "$3" "$down" $((rtt / 2)) $((jitter / 2)) "$loss"
	shape_dir "$4" "$5" "$up" $((rtt / 2)) $((jitter / 2)) "$loss"
	;;
rate)
	[ $# -eq 3 ] || die "rate NS IF KBIT"
	set_rate "$1" "$2" "$3"
	;;
clear)
	[ $# -eq 2 ] || die "clear NS IF"
	clear_dir "$1" "$2"
	;;
destroy)
	for ns in "$@"; do
		for f in "$state/$ns".*.pid; do
			[ -f "$f" ] || continue
			stop_pid "$f"
		done
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill $pids 2>/dev/null || true
		ip netns delete "$ns" 2>/dev/null || true
	done
	;;
*)
	die "unknown command '$cmd'"
	;;
esac
