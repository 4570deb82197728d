#!/bin/sh
# Rebuilds the committed fuzz corpora (tests/fuzz/README.md, "Corpora and seeds"):
#   1. captures real Chromium traffic (chromium-seeds.mjs, in a private network namespace);
#   2. starts each target's corpus afresh with some of those real inputs (file-seeds.py
#      --keep 8: 8 datagrams of each kind, a few hundred in all), the hand-made seeds
#      (gen-seeds.py) and its committed crash inputs;
#   3. lets libFuzzer's -merge=1 add, from the old corpus, every captured input and any
#      directories given (e.g. what `make fuzz` grew), only what reaches a new edge (hit
#      counts are not features here: -use_counters=0 keeps the corpora a few hundred kB,
#      and a run finds the counts again in seconds);
#   4. replaces tests/fuzz/corpus/NAME.
#
#   tests/fuzz/tools/capture-seeds.sh [DIR...]        (as root; run from the repository)
#
# Needs build-fuzz/ (cmake --preset fuzz, every fuzz-NAME built), build/ketang (the lesson
# part of the capture) and tests/e2e/node_modules. KT_SEEDS=DIR reuses a capture.
set -eu

targets="rtp rtpext payload rtcp srtp dtls sdp signal token http lessons recordings seqstate"
work=$(mktemp -d /tmp/kt-seeds-XXXXXX)
cap=${KT_SEEDS:-$work/capture}
if [ -z "${KT_SEEDS:-}" ]; then
	KETANG_BIN=${KETANG_BIN:-$PWD/build/ketang} tests/netns-run.sh \
		node tests/fuzz/tools/chromium-seeds.mjs "$cap"
fi
python3 tests/fuzz/tools/file-seeds.py "$cap" "$work/all"
python3 tests/fuzz/tools/file-seeds.py --keep 8 "$cap" "$work/fresh"
python3 tests/fuzz/tools/gen-seeds.py "$work/fresh"
for t in $targets; do
	fresh=$work/fresh/$t
	mkdir -p "$fresh" "$work/all/$t" tests/fuzz/corpus/$t
	cp tests/fuzz/corpus/$t/crash-* "$fresh/" 2>/dev/null || true
	extra=
	for d in "$@"; do
		[ -d "$d/$t" ] && extra="$extra $d/$t"
	done
	nice -n 19 build-fuzz/tests/fuzz/fuzz-$t -merge=1 -use_counters=0 "$fresh" tests/fuzz/corpus/$t \
		"$work/all/$t" $extra 2>&1 | grep -E '^MERGE-OUTER: [0-9]+ new files' || true
	rm -rf tests/fuzz/corpus/$t
	cp -r "$fresh" tests/fuzz/corpus/$t
	echo "corpus/$t: $(ls tests/fuzz/corpus/$t | wc -l) files, $(cat tests/fuzz/corpus/$t/* | wc -c) bytes"
done
rm -rf "$work"
