# Thin wrapper over CMake presets; see README.md.
#   make        build build/ketang
#   make run    install missing Debian packages, build, start on embedded defaults
#   make test   install missing packages, build, run every test (+ the sanitizer build)
JOBS ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all build deps web-deps test-deps run test test-default test-dev dev release bench clean format fuzz

all: build

build:
	cmake --preset default >/dev/null
	cmake --build --preset default -j $(JOBS)

deps: web-deps
	./scripts/install-deps.sh

# hls.js (npm, web/package-lock.json) for /watch's broadcast mode in browsers without native
# HLS. Optional: without npm or the registry, browsers with native HLS still play it.
web-deps:
	@if command -v npm >/dev/null 2>&1; then \
		cd web && npm ci --no-audit --no-fund --loglevel=error || \
		echo "web-deps: hls.js not installed; /watch plays HLS only where the browser can"; \
	else echo "web-deps: no npm; /watch plays HLS only where the browser can"; fi

test-deps:
	./scripts/install-deps.sh --test
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	cd web && npm ci --no-audit --no-fund --loglevel=error

# libFuzzer (clang, ASan + UBSan): each target of tests/fuzz for FUZZ_SECONDS, starting
# from its committed corpus (copied into build-fuzz/corpus-NAME, which grows); a crash
# input is written to build-fuzz/ and stops that target. Prints libFuzzer's exec counts.
# The targets and how to add a crash input: tests/fuzz/README.md.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= rtp rtpext payload rtcp srtp dtls sdp signal token http lessons recordings seqstate
fuzz:
	./scripts/install-deps.sh --test
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS) --target $(addprefix fuzz-,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus-$$t && cp -n tests/fuzz/corpus/$$t/* build-fuzz/corpus-$$t/; \
		echo "== fuzz-$$t, $(FUZZ_SECONDS) s"; \
		(cd build-fuzz && ./tests/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
			-print_final_stats=1 corpus-$$t 2>&1 | grep -E '^stat::number_of_executed_units|ERROR|SUMMARY|Test unit written') || exit 1; \
	done

run: deps build
	./build/ketang serve

# The release build is compiled too, so -O3-only warnings (-Werror) never
# reach `make bench` first.
test: test-deps build test-default test-dev release

test-default: build
	cd build && ctest --output-on-failure -j 2 $(CTEST_ARGS)

# ASan + UBSan build running the unit and integration tests (STYLE.md, CI).
test-dev:
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)
	cd build-dev && ctest --output-on-failure -j 2 -L 'unit|integration|fuzz' $(CTEST_ARGS)

release:
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

bench: release
	./bench/run.sh build-release

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-dev build-release
