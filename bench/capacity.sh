#!/bin/sh
# How many lessons with a classroom wall and a recording (program composite + HLS) one
# machine carries: runs LESSONS copies of bench-wall (4 classrooms -> 960x540 15 fps wall)
# and of bench-record (e: the 720p program, recorded and broadcast as HLS) at once, and
# prints whether each kept up (a wall and a program that encoded at least 95 % of their
# frames) and how busy the machine was (/proc/stat, over the whole run: the media
# generation each bench does first is included).
#
# The frame counts are a floor, not the verdict: a live compositor outputs its frames on
# the clock whatever its inputs do, so an overloaded machine still "keeps up" there (5
# lessons did on 2 cores). The capacity figure in bench/README.md rests on the CPU: each
# bench's own median, and the machine's busy share here.
#
# Usage: bench/capacity.sh [BUILD_DIR=build-release] [LESSONS=2] [SECONDS=30]
# The media replayed into each is generated first (not measured); see bench/README.md.
set -eu
build=${1:-build-release}
lessons=${2:-2}
secs=${3:-30}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
before=$(head -1 /proc/stat)

i=1
while [ "$i" -le "$lessons" ]; do
	"$build/bench/bench-wall" "$secs" >"$out/wall-$i" 2>&1 &
	"$build/bench/bench-record" "$secs" 25 d >"$out/record-$i" 2>&1 &
	i=$((i + 1))
done
wait
after=$(head -1 /proc/stat)

ok=yes
i=1
while [ "$i" -le "$lessons" ]; do
	wall=$(sed -n 's/^frames \([0-9]*\),.*/\1/p' "$out/wall-$i")
	prog=$(sed -n 's/.* \([0-9]*\) frames of \([0-9]*\),.*/\1 \2/p' "$out/record-$i")
	wall_want=$((secs * 15))
	prog_got=${prog% *}
	prog_want=${prog#* }
	echo "lesson $i: wall ${wall:-?} of $wall_want frames, program ${prog_got:-?} of ${prog_want:-?} frames"
	if [ -z "$wall" ] || [ -z "$prog_got" ] || [ $((wall * 100)) -lt $((wall_want * 95)) ] ||
		[ $((prog_got * 100)) -lt $((prog_want * 95)) ]; then
		ok=no
	fi
	i=$((i + 1))
done
busy=$(echo "$before
$after" | awk '{idle[NR] = $5 + $6; total[NR] = $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}
	END { printf "%.0f", 100 * (1 - (idle[2] - idle[1]) / (total[2] - total[1])) }')
echo "capacity: $lessons lessons with wall + recording + HLS: kept up: $ok;" \
	"machine busy $busy % of its $(nproc) cores"
