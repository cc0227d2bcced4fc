/*
 * commit_offset_doc.h - reading the position one Commit Offset input
 * document names (internal to the Kafka plugin; exposed for the fuzzer).
 */
#ifndef CONNRT_KAFKA_COMMIT_OFFSET_DOC_H
#define CONNRT_KAFKA_COMMIT_OFFSET_DOC_H

#include <stddef.h>
#include <stdint.h>
#include <connrt/connector.h>

/* What one input document names. */
struct kafka_commit_doc {
    char *topic;    /* owned; NULL: the document already has its result */
    char *metadata; /* owned; NULL: none */
    int32_t partition;
    int64_t offset;
    size_t part; /* index into commit_run.parts (set by commit_offset.c) */
};

/*
 * Fill `d` from `doc`: its tracked properties kafka.topic, kafka.partition
 * and kafka.offset when all three are set, else its payload as JSON
 * {"topic","partition","offset","metadata"} (then also recorded as tracked
 * properties). Returns 0, or -1 with why the document names no offset
 * (never quoting payload bytes). d->topic and d->metadata are owned by the
 * caller (free()) either way: on -1 they may be set.
 */
int kafka_commit_offset_read_doc(const struct connrt_host *host, connrt_document_t *doc,
                                 struct kafka_commit_doc *d, char *why, size_t why_size);

#endif
