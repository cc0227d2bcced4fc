/*
 * fuzz_registry.h - a registry holding a "kafka" connector with the real
 * connection and container property tables and operation tables of every
 * property type, linked in (no plugin to dlopen), so that validation runs
 * in the fuzzers as it does for the shipped connector.
 */
#ifndef CONNRT_FUZZ_REGISTRY_H
#define CONNRT_FUZZ_REGISTRY_H

#include "runtime/plugin_loader.h"

/* Built on first call and kept for the process (the fuzzer's lifetime);
 * borrowed. Aborts when the descriptor is refused (a bug of the harness). */
const connrt_registry_t *fuzz_registry(void);

#endif
