/*
 * browse.h - `connrt browse` for Kafka: topics, partitions, leaders and
 * watermarks; committed offsets and lag of consumer groups; a peek at the
 * first messages. Read only: it never joins a group, commits an offset,
 * creates a topic or writes a message.
 */
#ifndef CONNRT_KAFKA_BROWSE_H
#define CONNRT_KAFKA_BROWSE_H

#include <connrt/connector.h>

/* Report tables (struct connrt_browse_report) and their columns:
 *   topics:        topic, partitions, messages
 *   partitions:    topic, partition, leader, low, high, messages
 *   group_offsets: group, topic, partition, committed, lag
 * "messages" is high - low: what the partition holds, an upper bound when
 * compaction or transaction markers leave gaps. */
#define KAFKA_BROWSE_TOPICS "topics"
#define KAFKA_BROWSE_PARTITIONS "partitions"
#define KAFKA_BROWSE_GROUP_OFFSETS "group_offsets"
#define KAFKA_BROWSE_PEEK "peek"

/*
 * connrt_connector.connection_browse. `connection` is a struct
 * kafka_connection (borrowed); `request` and `report` are borrowed for the
 * call. Without request->topic: every topic with its partitions. With it:
 * that topic's partitions, the committed offsets and lag of request->groups
 * and of the groups the cluster lists (when it can: otherwise a note says
 * so), and with request->peek > 0 the first messages, spread over the
 * partitions, emitted into request->peek_batch. Returns 0,
 * CONNRT_BROWSE_NOT_FOUND when the topic does not exist, or -1 with errstr.
 */
int kafka_connection_browse(void *connection, const struct connrt_browse_request *request,
                            const struct connrt_browse_report *report, char *errstr,
                            size_t errstr_size);

#endif
