/* A fuzz target's entry point (libFuzzer's name): the same function runs under
 * libFuzzer (the `fuzz` preset) and under replay.c (ctest, every build). */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
