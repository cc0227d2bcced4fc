/*
 * write_behind.h - keeps a file that is being written from filling the page
 * cache: a thread of its own starts writeback of what was written and drops
 * from the cache the pages older than the last `window` bytes once they are
 * on disk. A long JSON Lines output is written once and read later by
 * another program; without this, every byte of it stays in memory until the
 * kernel reclaims it, evicting what other processes cache.
 *
 * Best effort: a page still being written back when its turn comes stays
 * cached; errors of the advice calls are ignored (they change no data, and
 * the writer sees write errors itself).
 */
#ifndef CONNRT_WRITE_BEHIND_H
#define CONNRT_WRITE_BEHIND_H

#include <stddef.h>
#include <sys/types.h>

typedef struct connrt_write_behind connrt_write_behind_t;

/* Start for `fd` (borrowed; must outlive the writer), whose next write goes
 * at its end (O_APPEND) or at its position. Returns a writer owned by the
 * caller (free with connrt_write_behind_stop), or NULL when there is nothing to
 * do: `window` is 0 or above 1 TiB, fd is not a regular file, or no thread
 * could be started (the file is then written as before, only cached). */
connrt_write_behind_t *connrt_write_behind_start(int fd, size_t window);

/* `len` more bytes were written (in order, after the previous ones). Cheap:
 * never waits for the disk. NULL no-op. */
void connrt_write_behind_wrote(connrt_write_behind_t *wb, size_t len);

/* Wait until the thread has had its round for every byte reported so far
 * (for tests: the pages older than the window that were clean are then
 * out of the cache). NULL no-op. */
void connrt_write_behind_settle(connrt_write_behind_t *wb);

/* Stop the thread and free `wb`; what is left stays cached. NULL no-op. */
void connrt_write_behind_stop(connrt_write_behind_t *wb);

#endif
