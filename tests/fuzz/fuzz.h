/* A fuzz target's entry point (libFuzzer's name): the same function runs under
 * libFuzzer (the `fuzz` preset) and under replay.c (ctest, every build).
 *
 * The targets, one fuzz-NAME.c each, corpus in corpus/NAME (README.md says what each
 * reads and checks): rtp, rtpext, payload, rtcp, srtp, dtls, sdp, signal, token, http,
 * lessons, recordings, seqstate. A new one is also added to KT_FUZZ_TARGETS (CMakeLists.txt), the
 * Makefile's FUZZ_TARGETS, capture-seeds.sh's list and README.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
