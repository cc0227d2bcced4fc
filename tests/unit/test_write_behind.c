/* test_write_behind.c - an output file's older pages leave the page cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/write_behind.h"

#define MIB ((size_t)1 << 20)

struct file {
    char path[64];
    int fd;
    char *chunk; /* 1 MiB of one byte value */
};

static int setup(void **state)
{
    struct file *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return -1;
    }
    /* In the build directory: /tmp may be tmpfs, whose pages never drop;
     * an unwritable one skips the tests. */
    snprintf(f->path, sizeof(f->path), "write_behind.%ld.tmp", (long)getpid());
    f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    f->chunk = malloc(MIB);
    if (f->chunk == NULL) {
        return -1;
    }
    memset(f->chunk, 'x', MIB);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct file *f = *state;
    if (f->fd >= 0) {
        close(f->fd);
        unlink(f->path);
    }
    free(f->chunk);
    free(f);
    return 0;
}

static size_t cached_mib(const struct file *f, size_t from, size_t to);

/* Skip where this cannot be seen: no writable build directory, or a file
 * system whose clean pages do not leave the cache (tmpfs, ramfs). */
static void skip_unless_pages_drop(const struct file *f)
{
    if (f->fd < 0) {
        skip();
    }
    assert_int_equal(write(f->fd, f->chunk, MIB), (ssize_t)MIB);
    assert_int_equal(fdatasync(f->fd), 0);
    (void)posix_fadvise(f->fd, 0, (off_t)MIB, POSIX_FADV_DONTNEED);
    size_t left = cached_mib(f, 0, MIB);
    assert_int_equal(ftruncate(f->fd, 0), 0);
    assert_int_equal(lseek(f->fd, 0, SEEK_SET), 0);
    if (left != 0) {
        skip();
    }
}

/* `mib` MiB written through the writer (NULL: plainly). */
static void write_mib(struct file *f, connrt_write_behind_t *wb, size_t mib)
{
    for (size_t i = 0; i < mib; i++) {
        assert_int_equal(write(f->fd, f->chunk, MIB), (ssize_t)MIB);
        connrt_write_behind_wrote(wb, MIB);
    }
}

/* MiB of [from, to) that are in the page cache. */
static size_t cached_mib(const struct file *f, size_t from, size_t to)
{
    size_t len = to - from;
    long page = sysconf(_SC_PAGESIZE);
    void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, f->fd, (off_t)from);
    assert_true(map != MAP_FAILED);
    unsigned char *vec = malloc(len / (size_t)page + 1);
    assert_non_null(vec);
    assert_int_equal(mincore(map, len, vec), 0);
    size_t pages = 0;
    for (size_t i = 0; i < len / (size_t)page; i++) {
        pages += vec[i] & 1;
    }
    free(vec);
    munmap(map, len);
    return pages * (size_t)page / MIB;
}

/* Once written back, what is older than the window is out of the cache;
 * the data is all there. */
static void write_behind__older_than_window__leaves_cache(void **state)
{
    struct file *f = *state;
    skip_unless_pages_drop(f);
    connrt_write_behind_t *wb = connrt_write_behind_start(f->fd, 4 * MIB);
    assert_non_null(wb);
    write_mib(f, wb, 32);
    assert_int_equal(fdatasync(f->fd), 0); /* every page clean: each can go */
    write_mib(f, wb, 1);
    connrt_write_behind_settle(wb);
    connrt_write_behind_stop(wb);
    /* Up to 29 MiB is older than the window; a large folio across its end
     * may stay. */
    assert_int_equal(cached_mib(f, 0, 27 * MIB), 0);
    assert_int_equal(lseek(f->fd, 0, SEEK_END), (off_t)(33 * MIB));
    char byte = 0;
    assert_int_equal(pread(f->fd, &byte, 1, 5 * MIB), 1);
    assert_int_equal(byte, 'x');
}

/* Appending: what the file held before this writer is not its to drop. */
static void write_behind__appending__leaves_earlier_part(void **state)
{
    struct file *f = *state;
    skip_unless_pages_drop(f);
    write_mib(f, NULL, 8);
    assert_int_equal(fdatasync(f->fd), 0);
    size_t before = cached_mib(f, 0, 8 * MIB);
    connrt_write_behind_t *wb = connrt_write_behind_start(f->fd, 2 * MIB);
    assert_non_null(wb);
    write_mib(f, wb, 16);
    assert_int_equal(fdatasync(f->fd), 0);
    write_mib(f, wb, 1);
    connrt_write_behind_settle(wb);
    connrt_write_behind_stop(wb);
    /* Not this writer's to drop (memory pressure could evict some, not all). */
    assert_true(before > 0);
    assert_true(cached_mib(f, 0, 8 * MIB) > 0);
    assert_int_equal(cached_mib(f, 10 * MIB, 20 * MIB), 0);
}

static void write_behind__window_zero__off(void **state)
{
    struct file *f = *state;
    if (f->fd < 0) {
        skip();
    }
    assert_null(connrt_write_behind_start(f->fd, 0));
    connrt_write_behind_wrote(NULL, MIB); /* a NULL writer is a no-op */
    connrt_write_behind_stop(NULL);
}

static void write_behind__pipe__off(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_null(connrt_write_behind_start(fds[1], 4 * MIB));
    close(fds[0]);
    close(fds[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(write_behind__older_than_window__leaves_cache, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(write_behind__appending__leaves_earlier_part, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(write_behind__window_zero__off, setup, teardown),
        cmocka_unit_test_setup_teardown(write_behind__pipe__off, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
