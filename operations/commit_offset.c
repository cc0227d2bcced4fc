/*
 * commit_offset.c - the Commit Offset operation. Declared with its full
 * property table so that definitions validate and `describe` shows it; it
 * is not implemented in this version, and says so when executed rather
 * than pretending to commit.
 */
#include <stdio.h>

#include "operations.h"

const struct connrt_property_def kafka_commit_offset_properties[] = {
    {"consumer_group", CONNRT_PROP_STRING, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0,
     "Consumer group whose offsets are committed: for each partition, the highest offset of "
     "the input documents + 1",
     NULL},
    {NULL, CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0, NULL, NULL},
};

int kafka_unimplemented_open(void *ctx, const struct connrt_host *host, void *connection,
                             const connrt_settings_t *settings, const char *component_id,
                             char *errstr, size_t errstr_size)
{
    struct kafka_unimplemented *op = ctx;

    (void)connection;
    (void)settings;
    (void)component_id;
    (void)errstr;
    (void)errstr_size;
    op->host = host;
    return 0;
}

/* Fails as a whole: every input is left without a result, which the
 * runtime records as a failure of that document. */
int kafka_commit_offset_execute(void *ctx, connrt_batch_t *batch, char *errstr,
                                size_t errstr_size)
{
    (void)ctx;
    (void)batch;
    snprintf(errstr, errstr_size,
             "operation 'commit_offset' is not implemented yet in this version of connrt");
    return -1;
}

void kafka_unimplemented_close(void *ctx)
{
    (void)ctx;
}
