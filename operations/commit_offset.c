/*
 * commit_offset.c - the Commit Offset operation: each input document names
 * topic, partition and offset; for each partition the highest offset + 1 is
 * committed for the operation's consumer group, in one synchronous commit.
 *
 * Where a document's offset comes from: its tracked properties kafka.topic,
 * kafka.partition and kafka.offset when all three are set (what Consume
 * emits), else a JSON body {"topic","partition","offset","metadata"}.
 *
 * Outcomes: a document that names no valid offset, an unknown topic or a
 * partition the topic does not have is an application error, and the other
 * partitions are still committed. A partition the broker refuses (unknown,
 * metadata too large, not authorised) makes its documents application
 * errors. When the group or the cluster refuses the commit as a whole
 * (unreachable, no coordinator, the group has active members), the
 * operation fails: nothing of it was committed, so no document is a
 * success.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../connector-kafka/clock.h"
#include "../connector-kafka/security.h"
#include "commit_offset_doc.h"
#include "operations.h"

/* Poll slice while waiting for the commit's result. */
#define KAFKA_COMMIT_POLL_MS 100

const struct connrt_property_def kafka_commit_offset_properties[] = {
    {"consumer_group", CONNRT_PROP_STRING, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0,
     "Consumer group whose offsets are committed: for each partition, the highest offset of "
     "the input documents + 1",
     NULL},
    {"commit_timeout_ms", CONNRT_PROP_DURATION_MS, 0, "30000", NULL, 1, 3600000,
     "Longest wait for the cluster to confirm the commit; beyond it the operation fails", NULL},
    {NULL, CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0, NULL, NULL},
};

/* ------------------------------------------------------------------------ */
/* One execute's state                                                      */
/* ------------------------------------------------------------------------ */

/* One partition to commit. */
struct commit_part {
    const char *topic; /* borrowed from a commit_doc */
    int32_t partition;
    int64_t offset;        /* highest of its documents */
    const char *metadata;  /* of the (last) document with that offset; may be NULL */
    const char *refused;   /* checked before the commit: why not (static text) */
    int known_partitions;  /* of the topic, for `refused` */
    rd_kafka_resp_err_t err;
    int answered;
};

struct commit_run {
    struct kafka_commit_offset *op;
    connrt_batch_t *batch;
    struct kafka_commit_doc *docs;
    size_t ndocs;
    struct commit_part *parts;
    size_t nparts, parts_capacity;
    long long deadline; /* monotonic ms */
    int outside;        /* with a client of our own, not a Consume's member */
    char *errstr;
    size_t errstr_size;
};

/* ------------------------------------------------------------------------ */
/* Partitions                                                               */
/* ------------------------------------------------------------------------ */

static int part_of(struct commit_run *r, struct kafka_commit_doc *d)
{
    struct commit_part *p;

    for (size_t i = 0; i < r->nparts; i++) {
        p = &r->parts[i];
        if (p->partition == d->partition && strcmp(p->topic, d->topic) == 0) {
            d->part = i;
            if (d->offset >= p->offset) {
                p->offset = d->offset;
                p->metadata = d->metadata;
            }
            return 0;
        }
    }
    if (r->nparts == r->parts_capacity) {
        size_t capacity = r->parts_capacity ? 2 * r->parts_capacity : 8;
        struct commit_part *grown = realloc(r->parts, capacity * sizeof(*grown));
        if (grown == NULL) {
            return -1;
        }
        r->parts = grown;
        r->parts_capacity = capacity;
    }
    p = &r->parts[r->nparts];
    memset(p, 0, sizeof(*p));
    p->topic = d->topic;
    p->partition = d->partition;
    p->offset = d->offset;
    p->metadata = d->metadata;
    d->part = r->nparts++;
    return 0;
}

/* Read every input; a document naming no valid offset gets its
 * application error now. Returns 0, or -1 on no memory. */
static int read_inputs(struct commit_run *r)
{
    const struct connrt_host *host = r->op->log.host;
    char why[512];

    for (size_t i = 0; i < r->ndocs; i++) {
        struct kafka_commit_doc *d = &r->docs[i];
        if (kafka_commit_offset_read_doc(host, host->batch_input(r->batch, i), d, why,
                                         sizeof(why)) != 0) {
            free(d->topic);
            free(d->metadata);
            d->topic = d->metadata = NULL;
            host->batch_fail(r->batch, i, why);
            continue;
        }
        if (part_of(r, d) != 0) {
            snprintf(r->errstr, r->errstr_size, "out of memory");
            return -1;
        }
    }
    return 0;
}

static long long left_ms(const struct commit_run *r)
{
    long long left = r->deadline - kafka_monotonic_ms();
    return left > 0 ? left : 0;
}

/* What the cluster says of one topic: unknown, or its partition count. */
static int check_topic(struct commit_run *r, rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    const char *refused = NULL;
    rd_kafka_resp_err_t err;
    int partitions = -1;

    if (rkt == NULL) {
        snprintf(r->errstr, r->errstr_size, "topic '%s': %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    err = rd_kafka_metadata(rk, 0, rkt, &md, (int)left_ms(r));
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(r->errstr, r->errstr_size,
                 "consumer group '%s': nothing committed: cannot read the metadata of topic "
                 "'%s' from '%s': %s",
                 r->op->group, topic, r->op->conn->bootstrap, rd_kafka_err2str(err));
        return -1;
    }
    if (md->topic_cnt == 1) {
        err = md->topics[0].err;
        if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
            refused = "does not exist";
        } else if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
            refused = "may not be read with these credentials (topic authorization failed)";
        } else if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            partitions = md->topics[0].partition_cnt;
        }
    }
    rd_kafka_metadata_destroy(md);
    for (size_t i = 0; i < r->nparts; i++) {
        struct commit_part *p = &r->parts[i];
        if (strcmp(p->topic, topic) != 0) {
            continue;
        }
        if (refused != NULL) {
            p->refused = refused;
        } else if (partitions >= 0 && p->partition >= partitions) {
            p->refused = "partition";
            p->known_partitions = partitions;
        }
    }
    return 0;
}

/* Unknown topics and partitions out of range, before committing. */
static int check_topics(struct commit_run *r, rd_kafka_t *rk)
{
    for (size_t i = 0; i < r->nparts; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            seen = strcmp(r->parts[j].topic, r->parts[i].topic) == 0;
        }
        if (!seen && check_topic(r, rk, r->parts[i].topic) != 0) {
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Committing                                                               */
/* ------------------------------------------------------------------------ */

/* Errors that concern one partition; any other error concerns the group or
 * the cluster, and fails the operation. */
static int partition_error(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE:
        return 1;
    default:
        return 0;
    }
}

static void take_answer(struct commit_run *r, rd_kafka_event_t *ev)
{
    const rd_kafka_topic_partition_list_t *got = rd_kafka_event_topic_partition_list(ev);
    rd_kafka_resp_err_t all = rd_kafka_event_error(ev);

    for (size_t i = 0; i < r->nparts; i++) {
        struct commit_part *p = &r->parts[i];
        const rd_kafka_topic_partition_t *tp = NULL;
        if (p->refused != NULL) {
            continue;
        }
        for (int j = 0; got != NULL && j < got->cnt && tp == NULL; j++) {
            if (got->elems[j].partition == p->partition &&
                strcmp(got->elems[j].topic, p->topic) == 0) {
                tp = &got->elems[j];
            }
        }
        p->err = tp != NULL ? tp->err : all;
        if (tp == NULL && all == RD_KAFKA_RESP_ERR_NO_ERROR) {
            p->err = RD_KAFKA_RESP_ERR__FAIL; /* not in the answer: not committed */
        }
        p->answered = 1;
    }
}

/* One synchronous commit of every partition not refused. Our own queue,
 * rather than rd_kafka_commit(), gives the per-partition errors and a
 * deadline. Returns 0 when the cluster answered, -1 otherwise. */
static int commit_parts(struct commit_run *r, rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)r->nparts);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_resp_err_t err;
    int answered = 0;

    for (size_t i = 0; i < r->nparts; i++) {
        const struct commit_part *p = &r->parts[i];
        if (p->refused == NULL) {
            rd_kafka_topic_partition_t *tp =
                rd_kafka_topic_partition_list_add(list, p->topic, p->partition);
            tp->offset = p->offset + 1; /* the next message to read */
            if (p->metadata != NULL) {
                tp->metadata = strdup(p->metadata); /* freed with the list */
                tp->metadata_size = tp->metadata != NULL ? strlen(p->metadata) : 0;
            }
        }
    }
    if (list->cnt == 0) {
        answered = 1;
    } else if ((err = rd_kafka_commit_queue(rk, list, q, NULL, NULL)) !=
               RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(r->errstr, r->errstr_size, "consumer group '%s': cannot commit: %s",
                 r->op->group, rd_kafka_err2str(err));
    } else {
        while (!answered && left_ms(r) > 0) {
            long long slice = left_ms(r) < KAFKA_COMMIT_POLL_MS ? left_ms(r) : KAFKA_COMMIT_POLL_MS;
            rd_kafka_event_t *ev = rd_kafka_queue_poll(q, (int)slice);
            if (ev != NULL && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
                take_answer(r, ev);
                answered = 1;
            }
            rd_kafka_event_destroy(ev);
        }
        if (!answered) {
            snprintf(r->errstr, r->errstr_size,
                     "consumer group '%s': the cluster at '%s' did not confirm the commit of "
                     "%d partition(s) within commit_timeout_ms (%lld ms); it may or may not "
                     "have been applied",
                     r->op->group, r->op->conn->bootstrap, list->cnt, r->op->timeout_ms);
        }
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_topic_partition_list_destroy(list);
    return answered ? 0 : -1;
}

/* With the live group member of a Consume, or a client of our own. */
static int commit_with(rd_kafka_t *rk, void *opaque)
{
    struct commit_run *r = opaque;

    r->op->log.host->log(CONNRT_LOG_DEBUG, r->op->component_id,
                         "committing %zu partition(s) for group '%s' %s", r->nparts,
                         r->op->group,
                         r->outside ? "from outside the group"
                                    : "through the group member of a running consume");
    return check_topics(r, rk) != 0 || commit_parts(r, rk) != 0 ? -1 : 0;
}

/* The operation's own consumer handle, which never joins the group: the
 * commit is made from outside the group (generation -1). */
static int commit_from_outside(struct commit_run *r)
{
    r->outside = 1;
    return commit_with(r->op->rk, r);
}

/* Why a group refused a commit, in the words a user needs. */
static const char *group_hint(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
        return " (Kafka takes offsets from outside a group only while it has no active "
               "member; connrt's embedded cluster only for a group no member ever joined)";
    default:
        return "";
    }
}

/* Every document gets its result from its partition's; -1 when the group
 * or the cluster refused the commit (those documents keep no result). */
static int give_results(struct commit_run *r)
{
    const struct connrt_host *host = r->op->log.host;
    rd_kafka_resp_err_t failed = RD_KAFKA_RESP_ERR_NO_ERROR;
    char why[512];

    for (size_t i = 0; i < r->ndocs; i++) {
        const struct kafka_commit_doc *d = &r->docs[i];
        const struct commit_part *p = d->topic != NULL ? &r->parts[d->part] : NULL;
        if (p == NULL) {
            continue; /* has its application error */
        }
        if (p->refused != NULL && p->known_partitions > 0) {
            snprintf(why, sizeof(why),
                     "partition %" PRId32 " of topic '%s' does not exist (it has %d: 0 to %d)",
                     p->partition, p->topic, p->known_partitions, p->known_partitions - 1);
            host->batch_fail(r->batch, i, why);
        } else if (p->refused != NULL) {
            snprintf(why, sizeof(why), "topic '%s' %s", p->topic, p->refused);
            host->batch_fail(r->batch, i, why);
        } else if (p->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            host->batch_succeed(r->batch, i);
        } else if (partition_error(p->err)) {
            snprintf(why, sizeof(why),
                     "consumer group '%s': the commit of topic '%s' partition %" PRId32
                     " offset %" PRId64 " was refused: %s",
                     r->op->group, p->topic, p->partition, p->offset + 1,
                     rd_kafka_err2str(p->err));
            host->batch_fail(r->batch, i, why);
        } else {
            failed = p->err;
        }
    }
    if (failed != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(r->errstr, r->errstr_size, "consumer group '%s': the commit was refused: %s%s",
                 r->op->group, rd_kafka_err2str(failed), group_hint(failed));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Open, execute, close                                                     */
/* ------------------------------------------------------------------------ */

/* One handle for the operation's life: a new one per execute would wait
 * about 1 s for librdkafka to reach the group coordinator before its first
 * commit (measured), every time. */
static int commit_client_new(struct kafka_commit_offset *op, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = kafka_connection_client_conf(op->conn, op, errstr, errstr_size);
    char why[512];

    if (conf == NULL) {
        return -1;
    }
    /* It only commits what the documents name: it never subscribes, so it
     * neither joins the group nor reads, and stores no offsets itself. */
    if (kafka_conf_set(conf, "group.id", op->group, errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, errstr_size) != 0 ||
        kafka_consumer_mock_tuning(op->conn, conf, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    op->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (op->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "cannot create the Kafka consumer: %s", why);
        return -1;
    }
    return kafka_security_client_started(op->conn->security, op->rk, errstr, errstr_size);
}

int kafka_commit_offset_open(void *ctx, const struct connrt_host *host, void *connection,
                             const connrt_settings_t *settings, const char *component_id,
                             char *errstr, size_t errstr_size)
{
    struct kafka_commit_offset *op = ctx;

    op->component_id = strdup(component_id ? component_id : "commit_offset");
    if (op->component_id == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    op->log.host = host;
    op->log.component_id = op->component_id;
    op->conn = connection;
    op->settings = settings;
    op->group = host->settings_get(settings, "consumer_group");
    if (op->group == NULL || *op->group == '\0') {
        snprintf(errstr, errstr_size, "property 'consumer_group' is required");
        kafka_commit_offset_close(op);
        return -1;
    }
    op->timeout_ms = 30000;
    if ((host->settings_get(settings, "commit_timeout_ms") != NULL &&
         kafka_setting_int(host, settings, "commit_timeout_ms", &op->timeout_ms, errstr,
                           errstr_size) != 0) ||
        commit_client_new(op, errstr, errstr_size) != 0) {
        kafka_commit_offset_close(op);
        return -1;
    }
    return 0;
}

int kafka_commit_offset_execute(void *ctx, connrt_batch_t *batch, char *errstr,
                                size_t errstr_size)
{
    struct kafka_commit_offset *op = ctx;
    struct commit_run r;
    int rc;

    memset(&r, 0, sizeof(r));
    r.op = op;
    r.batch = batch;
    r.errstr = errstr;
    r.errstr_size = errstr_size;
    r.ndocs = op->log.host->batch_count(batch);
    if (r.ndocs == 0) {
        return 0;
    }
    r.docs = calloc(r.ndocs, sizeof(*r.docs));
    if (r.docs == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    rc = read_inputs(&r);
    if (rc == 0 && r.nparts > 0) {
        r.deadline = kafka_monotonic_ms() + op->timeout_ms;
        rc = kafka_group_member_with(op->conn, op->group, commit_with, &r);
        if (rc > 0) {
            rc = commit_from_outside(&r);
        }
    }
    if (rc == 0) {
        rc = give_results(&r);
    }
    for (size_t i = 0; i < r.ndocs; i++) {
        free(r.docs[i].topic);
        free(r.docs[i].metadata);
    }
    free(r.docs);
    free(r.parts);
    return rc;
}

void kafka_commit_offset_close(void *ctx)
{
    struct kafka_commit_offset *op = ctx;

    if (op->rk != NULL) {
        kafka_security_forget_client(op->rk);
        rd_kafka_destroy(op->rk);
        op->rk = NULL;
    }
    /* Bound by kafka_connection_client_conf (a no-op if never bound). */
    kafka_security_unbind(op);
    free(op->component_id);
    op->component_id = NULL;
}
