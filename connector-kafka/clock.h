/* clock.h - milliseconds from the monotonic clock (deadlines) and the wall
 * clock (timestamps, token and ticket expiry), one definition for the plugin. */
#ifndef KAFKA_CLOCK_H
#define KAFKA_CLOCK_H

#include <time.h>

static inline long long kafka_clock_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* For deadlines: never jumps. */
static inline long long kafka_monotonic_ms(void)
{
    return kafka_clock_ms(CLOCK_MONOTONIC);
}

/* Milliseconds since the epoch, for timestamps and expiry times. */
static inline long long kafka_wall_ms(void)
{
    return kafka_clock_ms(CLOCK_REALTIME);
}

#endif
