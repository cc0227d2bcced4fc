/*
 * fuzz.h - what every fuzz target shares: the libFuzzer entry point (also
 * called by replay_main.c, so the corpora run under gcc without libFuzzer)
 * and a helper for parsers that take C strings.
 */
#ifndef CONNRT_FUZZ_H
#define CONNRT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Feed one input to the parser under test. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of data[0, size) in its own allocation, so ASan
 * sees a read past the end; NULL on no memory. Free with free(). */
char *fuzz_strndup(const uint8_t *data, size_t size);

#endif
