/* fuzz_registry.c - see fuzz_registry.h. */
#include "fuzz_registry.h"

#include <stdio.h>
#include <stdlib.h>

#include <connrt/connector.h>

/* From connector-kafka/connection_properties.c. */
extern const struct connrt_property_def kafka_connection_properties[];
extern const struct connrt_property_def kafka_container_properties[];

static const char *const acks[] = {"all", "1", "0", NULL};

/* Operation tables shaped like the real ones, one row of each type; the
 * real ones live in files that need librdkafka at link time. */
static const struct connrt_property_def produce_table[] = {
    {"topic", CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0, "topic", NULL},
    {"acks", CONNRT_PROP_ENUM, 0, "all", acks, 0, 0, "acks", NULL},
    {"linger_ms", CONNRT_PROP_DURATION_MS, 0, "5", NULL, 0, 60000, "linger", NULL},
    {"batch_size", CONNRT_PROP_SIZE, 0, "1MB", NULL, 1, 1LL << 31, "batch", NULL},
    {"idempotence", CONNRT_PROP_BOOL, 0, "true", NULL, 0, 0, "idempotence", NULL},
    {"header.", CONNRT_PROP_PREFIX, 0, NULL, NULL, 0, 0, "headers", NULL},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL},
};

static const struct connrt_property_def consume_table[] = {
    {"topic", CONNRT_PROP_LIST, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0, "topics", NULL},
    {"consumer_group", CONNRT_PROP_STRING, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0, "group",
     NULL},
    {"min_messages", CONNRT_PROP_INT, 0, "1", NULL, 1, 1000000, "min", NULL},
    {"max_wait_ms", CONNRT_PROP_DURATION_MS, 0, "1000", NULL, 0, 3600000, "wait", NULL},
    {"autocommit", CONNRT_PROP_BOOL, 0, "false", NULL, 0, 0, "autocommit", NULL},
    {"batch_size", CONNRT_PROP_INT, 0, "100", NULL, 1, 100000, "batch", NULL},
    {"batch_wait_ms", CONNRT_PROP_DURATION_MS, 0, "500", NULL, 0, 3600000, "wait", NULL},
    {"max_concurrent_executions", CONNRT_PROP_INT, 0, "1", NULL, 1, 64, "executions", NULL},
    {"group.id", CONNRT_PROP_STRING, CONNRT_PROP_F_INVALID, NULL, NULL, 0, 0, "java",
     "use consumer_group"},
    {"old_name", CONNRT_PROP_STRING, CONNRT_PROP_F_DEPRECATED, NULL, NULL, 0, 0, "old",
     "use topic"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL},
};

/* Callbacks the loader requires; validation never calls them. */
static int op_open(void *ctx, const struct connrt_host *host, void *connection,
                   const connrt_settings_t *settings, const char *component_id, char *errstr,
                   size_t errstr_size)
{
    return -1;
}

static int op_execute(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    return -1;
}

static int op_listen_start(void *ctx, connrt_listener_t *listener, char *errstr,
                           size_t errstr_size)
{
    return -1;
}

static void op_listen_stop(void *ctx)
{
}

/* Designated initializers: the descriptors grow at the end (ABI). */
static const struct connrt_operation operations[] = {
    {.type = "produce", .kind = CONNRT_OP_BATCH, .description = "produce",
     .properties = produce_table, .open = op_open, .execute = op_execute},
    {.type = "consume", .kind = CONNRT_OP_BATCH, .can_start = 1, .description = "consume",
     .properties = consume_table, .open = op_open, .execute = op_execute},
    {.type = "commit_offset", .kind = CONNRT_OP_BATCH, .description = "commit",
     .properties = consume_table, .open = op_open, .execute = op_execute},
    {.type = "listen", .kind = CONNRT_OP_LISTEN, .can_start = 1, .description = "listen",
     .properties = consume_table, .open = op_open, .listen_start = op_listen_start,
     .listen_stop = op_listen_stop},
    {.type = NULL},
};

static int conn_open(const struct connrt_host *host, const connrt_settings_t *settings,
                     const char *component_id, const char *container_dir, void **connection,
                     char *errstr, size_t errstr_size)
{
    *connection = NULL;
    return 0;
}

static void conn_close(void *connection)
{
}

static const struct connrt_connector kafka = {
    .abi_version = CONNRT_ABI_VERSION,
    .struct_size = sizeof(struct connrt_connector),
    .name = "kafka",
    .version = "fuzz",
    .description = "Kafka tables",
    .connection_properties = kafka_connection_properties,
    .container_properties = kafka_container_properties,
    .operations = operations,
    .connection_open = conn_open,
    .connection_close = conn_close,
};

const connrt_registry_t *fuzz_registry(void)
{
    static connrt_registry_t *reg;
    char err[512];

    if (reg == NULL) {
        reg = connrt_registry_new();
        if (reg == NULL ||
            connrt_registry_add_static(reg, &kafka, "kafka (fuzz)", err, sizeof(err)) != 0) {
            fprintf(stderr, "fuzz_registry: %s\n", reg == NULL ? "out of memory" : err);
            abort();
        }
    }
    return reg;
}
