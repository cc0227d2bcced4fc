/*
 * plugin.c - the Kafka connector's descriptor and its one exported symbol.
 */
#include "config.h"

#include <connrt/connector.h>

#include "../operations/operations.h"
#include "browse.h"
#include "connection.h"

static const struct connrt_operation kafka_operations[] = {
    {
        .type = "produce",
        .kind = CONNRT_OP_BATCH,
        .can_start = 0,
        .description = "Send each document as a Kafka message; one result per document from "
                       "its delivery report",
        .properties = kafka_produce_properties,
        .context_size = sizeof(struct kafka_produce),
        .open = kafka_produce_open,
        .execute = kafka_produce_execute,
        .close = kafka_produce_close,
        .metrics = kafka_produce_metrics,
        .execute_begin = kafka_produce_execute_begin,
        .execute_end = kafka_produce_execute_end,
    },
    {
        .type = "consume",
        .kind = CONNRT_OP_BATCH,
        .can_start = 1,
        .description = "Start a process with the messages of a consumer group, one document "
                       "per message",
        .properties = kafka_consume_properties,
        .context_size = sizeof(struct kafka_consume),
        .open = kafka_consume_open,
        .execute = kafka_consume_execute,
        .close = kafka_consume_close,
    },
    {
        .type = "commit_offset",
        .kind = CONNRT_OP_BATCH,
        .can_start = 0,
        .description = "Commit the offsets the input documents name (tracked properties or a "
                       "JSON body) for a consumer group: per partition the highest + 1, "
                       "synchronously",
        .properties = kafka_commit_offset_properties,
        .context_size = sizeof(struct kafka_commit_offset),
        .open = kafka_commit_offset_open,
        .execute = kafka_commit_offset_execute,
        .close = kafka_commit_offset_close,
    },
    {
        .type = "listen",
        .kind = CONNRT_OP_LISTEN,
        .can_start = 1,
        .description = "Run a process for each batch of a long-running consumer group member, "
                       "committing after success",
        .properties = kafka_listen_properties,
        .context_size = sizeof(struct kafka_listen),
        .open = kafka_listen_open,
        .execute = kafka_listen_execute,
        .listen_start = kafka_listen_start,
        .listen_stop = kafka_listen_stop,
        .close = kafka_listen_close,
        .metrics = kafka_listen_metrics,
    },
    {.type = NULL},
};

static const struct connrt_connector kafka_connector = {
    .abi_version = CONNRT_ABI_VERSION,
    .struct_size = sizeof(struct connrt_connector),
    .name = "kafka",
    .version = PACKAGE_VERSION,
    .description = "Apache Kafka (librdkafka): produce, consume, commit offsets, listen",
    .connection_properties = kafka_connection_properties,
    .container_properties = kafka_container_properties,
    .operations = kafka_operations,
    .connection_open = kafka_connection_open,
    .connection_test = kafka_connection_test,
    .connection_close = kafka_connection_close,
    .connection_browse = kafka_connection_browse,
    .connection_describe = kafka_connection_describe,
    .connection_check = kafka_connection_check,
};

const struct connrt_connector *connrt_connector_entry(void)
{
    return &kafka_connector;
}
