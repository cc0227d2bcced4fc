/*
 * alloc_hook.h - a test-only allocation hook that fails the Nth allocation
 * (curl's torture tests), with no change to production code.
 *
 * The test program is linked with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=reallocarray,
 *   --wrap=free,--wrap=strdup,--wrap=strndup,--wrap=asprintf,--wrap=vasprintf
 * so every call the runtime, property and connector objects linked into it
 * make to those functions goes to the __wrap_ functions of alloc_hook.c,
 * which count the call, fail it when it is the armed one, and else call the
 * real function (ASan's, in a sanitizer build). alloc_hook_install()
 * routes libxml2 (xmlMemSetup) through the same counter, and jansson
 * allocates through the runtime's malloc() once connrt_json_memory_setup()
 * ran (as in main()), so their allocations fail too. Allocations made
 * inside other libraries (librdkafka, libc's own, SQLite, OpenSSL, libcurl)
 * are not counted: they are not wrapped. Nor are those made inside
 * libxml2's XSD validator (see alloc_hook.c).
 *
 * Every block handed out by a wrapped call is kept in a table with its
 * serial number until it is freed, so a test can ask which blocks of a run
 * are still live after the run (a leak, without ASan). Thread-safe.
 */
#ifndef CONNRT_TEST_ALLOC_HOOK_H
#define CONNRT_TEST_ALLOC_HOOK_H

#include <stddef.h>

/* Route libxml2 and jansson through the hook. Call once, first. */
void alloc_hook_install(void);

/* Start a run: from now, counted allocations are numbered 1, 2, ...; the
 * one numbered `fail_at` fails (0: none fails). Only that one: the next
 * succeed again, as in curl's torture tests. */
void alloc_hook_arm(unsigned long fail_at);
/* End the run: nothing fails any more (counting goes on). */
void alloc_hook_disarm(void);
/* Allocations counted since the last arm. */
unsigned long alloc_hook_count(void);
/* Whether the armed allocation was reached (and failed) since the last arm. */
int alloc_hook_failed(void);

/* Blocks allocated since the last arm and not freed. At most `max` of
 * their serial numbers go to `serials` (may be NULL). */
size_t alloc_hook_live(unsigned long *serials, size_t max);

#endif
