/*
 * listen.c - the Listen operation. Declared with its full property table so
 * that definitions validate and `describe` shows it; it is not implemented in
 * this version, and starting it fails with that message rather than
 * listening to nothing.
 */
#include <stdio.h>

#include "operations.h"

static const char *const assignment_strategies[] = {"range", "roundrobin", "cooperative-sticky",
                                                    NULL};

const struct connrt_property_def kafka_listen_properties[] = {
    {"topic", CONNRT_PROP_LIST, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0,
     "Topic(s) to listen to, comma or newline separated", NULL},
    {"consumer_group", CONNRT_PROP_STRING, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0,
     "Consumer group: containers of the same group share the partitions", NULL},
    {"batch_size", CONNRT_PROP_INT, 0, "100", NULL, 1, 1000000,
     "Most documents handed to one process execution", NULL},
    {"batch_wait_ms", CONNRT_PROP_DURATION_MS, 0, "1000", NULL, 0, 3600000,
     "Longest wait to fill a batch before handing over what there is", NULL},
    {"max_concurrent_executions", CONNRT_PROP_INT, 0, "1", NULL, 1, 1024,
     "Executions running at once (never two of the same partition)", NULL},
    {"max_retries", CONNRT_PROP_INT, 0, "-1", NULL, -1, 1000000,
     "Retries of a failed batch before it goes to dead_letter_topic; -1 retries forever",
     NULL},
    {"dead_letter_topic", CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0,
     "Where a batch goes after max_retries failures (none: keep retrying)", NULL},
    {"auto_offset_reset", CONNRT_PROP_ENUM, 0, "earliest", kafka_offset_resets, 0, 0,
     "Where to start in a partition the group has no committed offset for", NULL},
    {"assignment_strategy", CONNRT_PROP_ENUM, 0, "range", assignment_strategies, 0, 0,
     "How the group spreads partitions over its members", NULL},
    {NULL, CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0, NULL, NULL},
};

/* A listen operation only starts processes; should a runtime call it as a
 * batch step, it fails the same way. */
int kafka_listen_execute(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    (void)batch;
    return kafka_listen_start(ctx, NULL, errstr, errstr_size);
}

int kafka_listen_start(void *ctx, connrt_listener_t *listener, char *errstr,
                       size_t errstr_size)
{
    (void)ctx;
    (void)listener;
    snprintf(errstr, errstr_size,
             "operation 'listen' is not implemented yet in this version of connrt");
    return -1;
}

void kafka_listen_stop(void *ctx)
{
    (void)ctx;
}
