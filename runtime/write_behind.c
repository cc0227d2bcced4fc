/*
 * write_behind.c - writeback and cache dropping of an output file, off the
 * writer's thread (see write_behind.h). sync_file_range(WRITE) waits when
 * the device queue is full; in the writer's thread that made a fast
 * consumer wait for the disk.
 */
#include "write_behind.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* linux/ioprio.h: IOPRIO_WHO_PROCESS with who 0 is the calling thread;
 * class best-effort, level 4 (the default). */
#define IOPRIO_WHO_CALLER 1
#define IOPRIO_BEST_EFFORT_NORMAL ((2 << 13) | 4)

struct connrt_write_behind {
    int fd;
    size_t window;
    size_t step;  /* a round every `step` bytes */
    off_t origin; /* where this writer's first byte went */
    off_t kicked; /* thread only: writeback was started below this */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t more;       /* to the thread: written grew, or stop or settle */
    pthread_cond_t done;       /* from the thread: handled grew */
    _Atomic long long written; /* end of what the writer wrote (no lock: see wrote) */
    off_t handled;             /* under lock: end of the last round */
    int settling;              /* under lock: a round even for less than a step */
    int stopping;              /* under lock */
};

static int stop_asked(connrt_write_behind_t *wb)
{
    pthread_mutex_lock(&wb->lock);
    int stopping = wb->stopping;
    pthread_mutex_unlock(&wb->lock);
    return stopping;
}

/* Start writeback of what is older than half the window, a step at a time
 * (sync_file_range waits while the device queue is full, and a close must
 * not wait for a backlog), and drop the clean pages older than the window.
 * Dropping starts at the origin each time: a page that was still being
 * written back at its first turn goes at a later one. */
static void write_behind_round(connrt_write_behind_t *wb, off_t end)
{
    off_t target = end - (off_t)(wb->window / 2);
    while (wb->kicked < target && !stop_asked(wb)) {
        off_t len = target - wb->kicked < (off_t)wb->step ? target - wb->kicked : (off_t)wb->step;
        (void)sync_file_range(wb->fd, wb->kicked, len, SYNC_FILE_RANGE_WRITE);
        wb->kicked += len;
    }
    off_t keep_from = wb->kicked - (off_t)(wb->window / 2);
    if (keep_from > wb->origin) {
        (void)posix_fadvise(wb->fd, wb->origin, keep_from - wb->origin, POSIX_FADV_DONTNEED);
    }
}

/* Nothing happens to a file smaller than the window (most outputs). */
static int round_due(const connrt_write_behind_t *wb)
{
    off_t written = (off_t)atomic_load(&wb->written);
    off_t pending = written - wb->handled;
    return written - wb->origin > (off_t)wb->window &&
           (pending >= (off_t)wb->step || (wb->settling && pending > 0));
}

static void *write_behind_main(void *arg)
{
    connrt_write_behind_t *wb = arg;
    /* Writeback costs CPU now that the kernel would spend later anyway; it
     * runs when a core is idle, so that it never slows the pipeline (the
     * cached part only grows while it waits). */
    struct sched_param idle = {0};
    (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
    /* Its writes keep the normal I/O class (schedulers that follow the CPU
     * policy would make them idle-class: only when no other I/O waits). */
    (void)syscall(SYS_ioprio_set, IOPRIO_WHO_CALLER, 0, IOPRIO_BEST_EFFORT_NORMAL);
    pthread_mutex_lock(&wb->lock);
    for (;;) {
        while (!wb->stopping && !round_due(wb)) {
            pthread_cond_wait(&wb->more, &wb->lock);
        }
        if (wb->stopping) {
            break;
        }
        off_t end = (off_t)atomic_load(&wb->written);
        pthread_mutex_unlock(&wb->lock);
        write_behind_round(wb, end);
        pthread_mutex_lock(&wb->lock);
        wb->handled = end;
        pthread_cond_broadcast(&wb->done);
    }
    pthread_mutex_unlock(&wb->lock);
    return NULL;
}

connrt_write_behind_t *connrt_write_behind_start(int fd, size_t window)
{
    struct stat st;
    if (window == 0 || window > (size_t)1 << 40 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return NULL;
    }
    /* The next write goes at the end with O_APPEND, else at the position. */
    int flags = fcntl(fd, F_GETFL);
    off_t at = flags >= 0 && (flags & O_APPEND) ? st.st_size : lseek(fd, 0, SEEK_CUR);
    if (at < 0) {
        return NULL;
    }
    connrt_write_behind_t *wb = calloc(1, sizeof(*wb));
    if (wb == NULL) {
        return NULL;
    }
    wb->fd = fd;
    wb->window = window;
    wb->step = window / 4 > 0 ? window / 4 : 1;
    wb->origin = wb->kicked = wb->handled = at;
    atomic_init(&wb->written, (long long)at);
    pthread_mutex_init(&wb->lock, NULL);
    pthread_cond_init(&wb->more, NULL);
    pthread_cond_init(&wb->done, NULL);
    if (pthread_create(&wb->thread, NULL, write_behind_main, wb) != 0) {
        pthread_cond_destroy(&wb->done);
        pthread_cond_destroy(&wb->more);
        pthread_mutex_destroy(&wb->lock);
        free(wb);
        return NULL;
    }
    return wb;
}

void connrt_write_behind_wrote(connrt_write_behind_t *wb, size_t len)
{
    if (wb == NULL) {
        return;
    }
    /* The lock only when a step boundary is crossed: the thread runs at
     * SCHED_IDLE, and a writer waiting for a lock it holds would wait for
     * an idle core. A round is at most a step late for it. */
    long long before = atomic_fetch_add(&wb->written, (long long)len);
    long long step = (long long)wb->step, origin = (long long)wb->origin;
    if ((before - origin) / step != (before + (long long)len - origin) / step) {
        pthread_mutex_lock(&wb->lock);
        pthread_cond_signal(&wb->more);
        pthread_mutex_unlock(&wb->lock);
    }
}

void connrt_write_behind_settle(connrt_write_behind_t *wb)
{
    if (wb == NULL) {
        return;
    }
    pthread_mutex_lock(&wb->lock);
    wb->settling = 1;
    pthread_cond_signal(&wb->more);
    while (round_due(wb)) {
        pthread_cond_wait(&wb->done, &wb->lock);
    }
    wb->settling = 0;
    pthread_mutex_unlock(&wb->lock);
}

void connrt_write_behind_stop(connrt_write_behind_t *wb)
{
    if (wb == NULL) {
        return;
    }
    pthread_mutex_lock(&wb->lock);
    wb->stopping = 1;
    pthread_cond_signal(&wb->more);
    pthread_mutex_unlock(&wb->lock);
    pthread_join(wb->thread, NULL);
    pthread_cond_destroy(&wb->done);
    pthread_cond_destroy(&wb->more);
    pthread_mutex_destroy(&wb->lock);
    free(wb);
}
