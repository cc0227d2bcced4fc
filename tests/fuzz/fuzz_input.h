/*
 * fuzz_input.h - the body of fuzz_input_lines.c and fuzz_input_jsonl.c:
 * the input is a whole --input file, read through connrt_input_* as
 * `connrt run` does. The file is a memfd (no disk), named by /proc/self/fd.
 */
#ifndef CONNRT_FUZZ_INPUT_H
#define CONNRT_FUZZ_INPUT_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "runtime/arena.h"
#include "runtime/document.h"
#include "runtime/input.h"

static void fuzz_input(const uint8_t *data, size_t size, connrt_input_format_t format)
{
    char path[64], errstr[512];
    int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    if (fd < 0) {
        perror("memfd_create");
        abort();
    }
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0) {
            perror("write");
            abort();
        }
        off += (size_t)n;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    connrt_input_t *in = connrt_input_open(path, format, errstr, sizeof(errstr));
    connrt_arena_t *arena = connrt_arena_new();
    if (in != NULL && arena != NULL) {
        connrt_document_t *doc;
        const char *error;
        size_t n = 0;
        while (connrt_input_next(in, arena, &doc, &error, errstr, sizeof(errstr)) == 1) {
            size_t len;
            (void)connrt_document_payload(doc, &len);
            for (size_t i = 0; i < connrt_document_property_count(doc); i++) {
                const char *name, *value;
                connrt_document_property_at(doc, i, &name, &value);
            }
            /* As the engine does between batches: arena generations change. */
            if (++n % 64 == 0) {
                connrt_arena_reset(arena);
            }
        }
    }
    connrt_arena_destroy(arena);
    connrt_input_close(in);
    close(fd);
}

#endif
