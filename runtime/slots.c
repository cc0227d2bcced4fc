/*
 * slots.c - a counting semaphore with a changeable limit and a high-water
 * mark (POSIX semaphores have neither).
 */
#include "slots.h"

#include <pthread.h>
#include <stdlib.h>

struct connrt_slots {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    size_t limit, taken, max_taken;
};

connrt_slots_t *connrt_slots_new(size_t limit)
{
    connrt_slots_t *s = calloc(1, sizeof(*s));
    if (s != NULL) {
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->freed, NULL);
        s->limit = limit > 0 ? limit : 1;
    }
    return s;
}

void connrt_slots_destroy(connrt_slots_t *s)
{
    if (s != NULL) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->freed);
        free(s);
    }
}

void connrt_slots_acquire(connrt_slots_t *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->taken >= s->limit) {
        pthread_cond_wait(&s->freed, &s->lock);
    }
    s->taken++;
    if (s->taken > s->max_taken) {
        s->max_taken = s->taken;
    }
    pthread_mutex_unlock(&s->lock);
}

void connrt_slots_release(connrt_slots_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->taken--;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

void connrt_slots_set_limit(connrt_slots_t *s, size_t limit)
{
    pthread_mutex_lock(&s->lock);
    s->limit = limit > 0 ? limit : 1;
    pthread_cond_broadcast(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

size_t connrt_slots_max_taken(connrt_slots_t *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->max_taken;
    pthread_mutex_unlock(&s->lock);
    return n;
}
