/*
 * consumer.c - what Consume and Listen share about a group member: the
 * timings the mock cluster needs, fetch sizes that fit max.request.size,
 * and the topic list of their `topic` property.
 */
#include <stdio.h>
#include <string.h>

#include "operations.h"

#define KAFKA_FETCH_MARGIN 65536

/*
 * The mock cluster's group coordinator holds a first join for 3 s and any
 * later one for session.timeout.ms - 1 s (a group whose last member left
 * included), and drops a member whose join outlasts session.timeout.ms.
 * Measured on librdkafka 2.0.2: 2000 ms fails every time, 2500 and 3000 ms
 * never failed (24 runs, 4 in parallel). 3000 ms (heartbeats every 1000 ms)
 * is the smallest with a margin; a later join then takes about 2 s instead
 * of 44 s with the 45 s default. An empty Fetch waits fetch.wait.max.ms:
 * 10 ms instead of 500 keeps a consume from idling while messages are there.
 * Real brokers refuse session timeouts under 6 s, hence mock only.
 */
int kafka_consumer_mock_tuning(struct kafka_connection *conn, rd_kafka_conf_t *conf,
                               char *errstr, size_t errstr_size)
{
    if (!kafka_connection_is_mock(conn)) {
        return 0;
    }
    return kafka_conf_default(conn, conf, "session.timeout.ms", "3000", errstr, errstr_size) !=
                       0 ||
                   kafka_conf_default(conn, conf, "heartbeat.interval.ms", "1000", errstr,
                                      errstr_size) != 0 ||
                   kafka_conf_default(conn, conf, "fetch.wait.max.ms", "10", errstr,
                                      errstr_size) != 0
               ? -1
               : 0;
}

/* A message of max.request.size must fit in one Fetch response. */
int kafka_consumer_fetch_sizes(rd_kafka_conf_t *conf, long long max_request_size, char *errstr,
                               size_t errstr_size)
{
    long long need = max_request_size + KAFKA_FETCH_MARGIN;

    if (need <= 50000000) { /* below librdkafka's defaults */
        return 0;
    }
    return kafka_conf_set_int(conf, "fetch.max.bytes", need, errstr, errstr_size) != 0 ||
                   kafka_conf_set_int(conf, "receive.message.max.bytes", need + 1024, errstr,
                                      errstr_size) != 0
               ? -1
               : 0;
}

rd_kafka_topic_partition_list_t *kafka_topics_parse(const char *value, char *errstr,
                                                    size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(4);
    const char *p = value ? value : "";

    while (*p != '\0') {
        char name[512];
        size_t span;
        p += strspn(p, ", \t\r\n");
        span = strcspn(p, ", \t\r\n");
        if (span == 0) {
            break;
        }
        if (span >= sizeof(name)) {
            snprintf(errstr, errstr_size, "property 'topic': a topic name is too long");
            rd_kafka_topic_partition_list_destroy(list);
            return NULL;
        }
        memcpy(name, p, span);
        name[span] = '\0';
        rd_kafka_topic_partition_list_add(list, name, RD_KAFKA_PARTITION_UA);
        p += span;
    }
    if (list->cnt == 0) {
        snprintf(errstr, errstr_size, "property 'topic': no topic given");
        rd_kafka_topic_partition_list_destroy(list);
        return NULL;
    }
    return list;
}
