/*
 * browse.c - explore a Kafka connection for `connrt browse`: metadata,
 * watermarks (ListOffsets), committed offsets (OffsetFetch) and the first
 * messages of a topic. The findings go to the runtime as report rows; the
 * runtime prints them.
 *
 * Nothing here changes the cluster. The peek reads with the simple
 * (partition) consumer of a client that has no group.id at all, so there is
 * no group to join and nowhere an offset could be committed; committed
 * offsets are read with a client per group that never subscribes.
 */
#include "browse.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "../operations/operations.h"
#include "clock.h"
#include "connection.h"
#include "security.h"

/* Longest wait for one answer of the cluster, and for the next peeked
 * message of a partition that should have more. */
#define BROWSE_TIMEOUT_MS 10000
#define BROWSE_POLL_MS 100
/* Groups the cluster lists whose offsets are fetched, at most. */
#define BROWSE_MAX_LISTED_GROUPS 50
#define NUM_SIZE 24

/* The opaque of every client made here (log target first: connection.h). */
struct browse_run {
    struct kafka_log_target log;
    struct kafka_connection *conn;
    const struct connrt_browse_request *req;
    const struct connrt_browse_report *report;
    rd_kafka_t *rk; /* no group.id: metadata, watermarks, peek */
};

/* One partition as the report shows it; -1: the cluster did not tell. */
struct partition_info {
    int32_t id;
    int32_t leader;
    int64_t low, high;
};

/* ------------------------------------------------------------------------ */
/* Report                                                                   */
/* ------------------------------------------------------------------------ */

static void note(const struct browse_run *b, const char *table, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note(const struct browse_run *b, const char *table, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    b->report->note(b->report->opaque, table, text);
}

static int put_row(const struct browse_run *b, const char *table,
                   const struct connrt_browse_cell *cells, size_t ncells, char *errstr,
                   size_t errstr_size)
{
    if (b->report->row(b->report->opaque, table, cells, ncells) != 0) {
        snprintf(errstr, errstr_size, "out of memory reporting %s", table);
        return -1;
    }
    return 0;
}

/* A number cell; `value` < 0 is unknown (NULL). `buf` holds the text. */
static struct connrt_browse_cell number(const char *name, long long value, char *buf)
{
    if (value < 0) {
        return (struct connrt_browse_cell){name, NULL, CONNRT_BROWSE_F_NUMBER};
    }
    snprintf(buf, NUM_SIZE, "%lld", value);
    return (struct connrt_browse_cell){name, buf, CONNRT_BROWSE_F_NUMBER};
}

static long long messages_of(const struct partition_info *p)
{
    return p->low >= 0 && p->high >= p->low ? (long long)(p->high - p->low) : -1;
}

/* ------------------------------------------------------------------------ */
/* Clients                                                                  */
/* ------------------------------------------------------------------------ */

/* A consumer handle of the connection; with `group`, one that can fetch
 * that group's committed offsets (it never subscribes, so never joins). */
static rd_kafka_t *client_new(struct browse_run *b, const char *group, char *errstr,
                              size_t errstr_size)
{
    rd_kafka_conf_t *conf = kafka_connection_client_conf(b->conn, b, errstr, errstr_size);
    rd_kafka_t *rk;
    char why[512];

    if (conf == NULL) {
        return NULL;
    }
    /* Belt and braces: with no group.id nothing can be committed anyway. */
    if (kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "enable.partition.eof", "true", errstr, errstr_size) != 0 ||
        kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, errstr_size) != 0 ||
        /* An empty fetch would otherwise idle 500 ms at the end of each partition. */
        kafka_conf_default(b->conn, conf, "fetch.wait.max.ms", "10", errstr, errstr_size) != 0 ||
        (group != NULL && kafka_conf_set(conf, "group.id", group, errstr, errstr_size) != 0)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "cannot create a Kafka client: %s", why);
        return NULL;
    }
    if (kafka_security_client_started(b->conn->security, rk, errstr, errstr_size) != 0) {
        kafka_security_forget_client(rk);
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

static void client_destroy(rd_kafka_t *rk)
{
    if (rk != NULL) {
        kafka_security_forget_client(rk);
        rd_kafka_destroy(rk);
    }
}

/* ------------------------------------------------------------------------ */
/* Topics and partitions                                                    */
/* ------------------------------------------------------------------------ */

static int compare_topics(const void *a, const void *b)
{
    const rd_kafka_metadata_topic_t *x = *(const rd_kafka_metadata_topic_t *const *)a;
    const rd_kafka_metadata_topic_t *y = *(const rd_kafka_metadata_topic_t *const *)b;
    return strcmp(x->topic, y->topic);
}

static int compare_partitions(const void *a, const void *b)
{
    const struct partition_info *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Leader and watermarks of every partition of `t`, sorted by id; a
 * partition whose watermarks the cluster does not give gets a note. Returns
 * a malloc'd array of t->partition_cnt, or NULL (no memory). */
static struct partition_info *partitions_of(const struct browse_run *b,
                                            const rd_kafka_metadata_topic_t *t)
{
    struct partition_info *parts = calloc((size_t)t->partition_cnt + 1, sizeof(*parts));

    if (parts == NULL) {
        return NULL;
    }
    for (int i = 0; i < t->partition_cnt; i++) {
        struct partition_info *p = &parts[i];
        rd_kafka_resp_err_t err;
        p->id = t->partitions[i].id;
        p->leader = t->partitions[i].leader;
        err = rd_kafka_query_watermark_offsets(b->rk, t->topic, p->id, &p->low, &p->high,
                                               BROWSE_TIMEOUT_MS);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            p->low = p->high = -1;
            note(b, KAFKA_BROWSE_PARTITIONS, "topic '%s' partition %d: watermarks unknown (%s)",
                 t->topic, (int)p->id, rd_kafka_err2str(err));
        }
    }
    qsort(parts, (size_t)t->partition_cnt, sizeof(*parts), compare_partitions);
    return parts;
}

static int report_partitions(const struct browse_run *b, const char *topic,
                             const struct partition_info *parts, int n, char *errstr,
                             size_t errstr_size)
{
    for (int i = 0; i < n; i++) {
        char id[NUM_SIZE], leader[NUM_SIZE], low[NUM_SIZE], high[NUM_SIZE], count[NUM_SIZE];
        const struct connrt_browse_cell cells[] = {
            {"topic", topic, 0},
            number("partition", parts[i].id, id),
            number("leader", parts[i].leader, leader),
            number("low", parts[i].low, low),
            number("high", parts[i].high, high),
            number("messages", messages_of(&parts[i]), count),
        };
        if (put_row(b, KAFKA_BROWSE_PARTITIONS, cells, sizeof(cells) / sizeof(cells[0]), errstr,
                    errstr_size) != 0) {
            return -1;
        }
    }
    return 0;
}

/* A topics row and the partitions rows of `t`. */
static int report_topic(const struct browse_run *b, const rd_kafka_metadata_topic_t *t,
                        char *errstr, size_t errstr_size)
{
    struct partition_info *parts;
    long long total = 0;
    char nparts[NUM_SIZE], count[NUM_SIZE];
    int rc;

    if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        note(b, KAFKA_BROWSE_TOPICS, "topic '%s': %s", t->topic, rd_kafka_err2str(t->err));
        return 0;
    }
    parts = partitions_of(b, t);
    if (parts == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (int i = 0; i < t->partition_cnt && total >= 0; i++) {
        long long m = messages_of(&parts[i]);
        total = m < 0 ? -1 : total + m;
    }
    const struct connrt_browse_cell cells[] = {
        {"topic", t->topic, 0},
        number("partitions", t->partition_cnt, nparts),
        number("messages", total, count),
    };
    rc = put_row(b, KAFKA_BROWSE_TOPICS, cells, sizeof(cells) / sizeof(cells[0]), errstr,
                 errstr_size);
    if (rc == 0) {
        rc = report_partitions(b, t->topic, parts, t->partition_cnt, errstr, errstr_size);
    }
    free(parts);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Consumer groups                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Committed offsets and lag of `group` on each partition of `topic`. With
 * `only_if_committed` (a listed group) nothing is reported unless the group
 * has committed on the topic. A group whose offsets the cluster does not
 * give gets a note, not an error. Returns 0 or -1 with errstr.
 */
static int report_group(struct browse_run *b, const char *group, const char *topic,
                        const struct partition_info *parts, int n, int only_if_committed,
                        char *errstr, size_t errstr_size)
{
    rd_kafka_t *rk = client_new(b, group, errstr, errstr_size);
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_resp_err_t err;
    int committed = 0, rc = 0;

    if (rk == NULL) {
        return -1;
    }
    list = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++) {
        rd_kafka_topic_partition_list_add(list, topic, parts[i].id);
    }
    err = rd_kafka_committed(rk, list, BROWSE_TIMEOUT_MS);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        note(b, KAFKA_BROWSE_GROUP_OFFSETS, "group '%s': committed offsets unknown (%s)", group,
             rd_kafka_err2str(err));
        n = 0;
    }
    for (int i = 0; i < n; i++) {
        committed += list->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                     list->elems[i].offset >= 0;
    }
    for (int i = 0; i < n && rc == 0 && (committed > 0 || !only_if_committed); i++) {
        const rd_kafka_topic_partition_t *tp = &list->elems[i];
        long long offset = tp->err == RD_KAFKA_RESP_ERR_NO_ERROR && tp->offset >= 0
                               ? (long long)tp->offset
                               : -1;
        long long lag = -1;
        char id[NUM_SIZE], off[NUM_SIZE], behind[NUM_SIZE];
        if (offset >= 0 && parts[i].high >= 0) {
            lag = parts[i].high > offset ? parts[i].high - offset : 0;
        }
        if (tp->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            note(b, KAFKA_BROWSE_GROUP_OFFSETS, "group '%s' partition %d: %s", group,
                 (int)tp->partition, rd_kafka_err2str(tp->err));
        }
        const struct connrt_browse_cell cells[] = {
            {"group", group, 0},
            {"topic", topic, 0},
            number("partition", tp->partition, id),
            number("committed", offset, off),
            number("lag", lag, behind),
        };
        rc = put_row(b, KAFKA_BROWSE_GROUP_OFFSETS, cells, sizeof(cells) / sizeof(cells[0]),
                     errstr, errstr_size);
    }
    rd_kafka_topic_partition_list_destroy(list);
    client_destroy(rk);
    return rc;
}

static int requested(const struct connrt_browse_request *req, const char *group, size_t upto)
{
    for (size_t i = 0; i < upto && i < req->ngroups; i++) {
        if (strcmp(req->groups[i], group) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The groups the cluster lists (ListGroups), those with offsets on `topic`. */
static int report_listed_groups(struct browse_run *b, const char *topic,
                                const struct partition_info *parts, int n, char *errstr,
                                size_t errstr_size)
{
    const struct rd_kafka_group_list *list = NULL;
    rd_kafka_resp_err_t err = rd_kafka_list_groups(b->rk, NULL, &list, BROWSE_TIMEOUT_MS);
    int asked = 0, rc = 0;

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        note(b, KAFKA_BROWSE_GROUP_OFFSETS,
             "the cluster cannot list consumer groups (%s): name them with --group G",
             rd_kafka_err2str(err));
        return 0;
    }
    for (int i = 0; i < list->group_cnt && rc == 0; i++) {
        const struct rd_kafka_group_info *g = &list->groups[i];
        /* Other protocol types (connect, ...) commit no consumer offsets. */
        if ((g->protocol_type[0] != '\0' && strcmp(g->protocol_type, "consumer") != 0) ||
            requested(b->req, g->group, b->req->ngroups)) {
            continue;
        }
        if (asked++ == BROWSE_MAX_LISTED_GROUPS) {
            note(b, KAFKA_BROWSE_GROUP_OFFSETS,
                 "the cluster lists %d groups; only the first %d were looked at (name others "
                 "with --group G)",
                 list->group_cnt, BROWSE_MAX_LISTED_GROUPS);
            break;
        }
        rc = report_group(b, g->group, topic, parts, n, 1, errstr, errstr_size);
    }
    rd_kafka_group_list_destroy(list);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Peek                                                                     */
/* ------------------------------------------------------------------------ */

/* How many of `total` messages to take from each partition: as evenly as
 * the partitions' contents allow, the remainder to the lowest ids. */
static void spread(const struct partition_info *parts, int n, long long total, long long *quota)
{
    int open;

    do {
        open = 0;
        for (int i = 0; i < n; i++) {
            open += quota[i] < messages_of(&parts[i]);
        }
        long long share = open > 0 && total / open > 0 ? total / open : 1;
        for (int i = 0; i < n && total > 0; i++) {
            long long room = messages_of(&parts[i]) - quota[i];
            long long take = room < share ? room : share;
            if (take > 0) {
                quota[i] += take;
                total -= take;
            }
        }
    } while (total > 0 && open > 0);
}

/* One message as a document of the peek batch, shaped like a consume's. */
static int emit(const struct browse_run *b, const rd_kafka_message_t *m, char *errstr,
                size_t errstr_size)
{
    const struct connrt_host *host = b->log.host;
    connrt_document_t *doc =
        host->batch_emit(b->req->peek_batch, m->payload ? m->payload : "", m->len, NULL);

    if (doc == NULL || kafka_message_track(host, doc, m, 1, -1) != 0) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    return 0;
}

/* Read up to `quota` messages of partition `p` from its low watermark. */
static int peek_partition(const struct browse_run *b, rd_kafka_topic_t *rkt,
                          const struct partition_info *p, long long quota, char *errstr,
                          size_t errstr_size)
{
    long long got = 0, deadline = kafka_monotonic_ms() + BROWSE_TIMEOUT_MS;
    int rc = 0;

    if (rd_kafka_consume_start(rkt, p->id, p->low) != 0) {
        snprintf(errstr, errstr_size, "cannot read topic '%s' partition %d: %s",
                 rd_kafka_topic_name(rkt), (int)p->id, rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    while (got < quota && rc == 0) {
        rd_kafka_message_t *m = rd_kafka_consume(rkt, p->id, BROWSE_POLL_MS);
        if (m == NULL) {
            if (kafka_monotonic_ms() > deadline) {
                note(b, KAFKA_BROWSE_PEEK,
                     "partition %d: %lld of %lld messages arrived within %d ms", (int)p->id, got,
                     quota, BROWSE_TIMEOUT_MS);
                break;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break; /* fewer messages than high - low: compaction or markers */
        }
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            note(b, KAFKA_BROWSE_PEEK, "partition %d: %s", (int)p->id,
                 rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            break;
        }
        rc = emit(b, m, errstr, errstr_size);
        got++;
        deadline = kafka_monotonic_ms() + BROWSE_TIMEOUT_MS;
        /* Messages written after the watermarks were read are not asked for. */
        if (m->offset >= p->high - 1) {
            quota = got;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consume_stop(rkt, p->id);
    return rc;
}

static int peek(const struct browse_run *b, const char *topic, const struct partition_info *parts,
                int n, char *errstr, size_t errstr_size)
{
    const struct connrt_host *host = b->log.host;
    long long *quota = calloc((size_t)n + 1, sizeof(*quota));
    rd_kafka_topic_t *rkt;
    int rc = 0;

    if (quota == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    spread(parts, n, b->req->peek, quota);
    rkt = rd_kafka_topic_new(b->rk, topic, NULL);
    if (rkt == NULL) {
        free(quota);
        snprintf(errstr, errstr_size, "topic '%s': %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        if (quota[i] == 0) {
            continue;
        }
        rc = peek_partition(b, rkt, &parts[i], quota[i], errstr, errstr_size);
        /* Hand each partition's messages on; stop when the output failed. */
        if (rc == 0 && host->batch_flush != NULL && host->batch_flush(b->req->peek_batch) != 0) {
            snprintf(errstr, errstr_size, "the peeked messages could not be written");
            rc = -1;
        }
    }
    rd_kafka_topic_destroy(rkt);
    free(quota);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Browse                                                                   */
/* ------------------------------------------------------------------------ */

static int browse_topic(struct browse_run *b, const rd_kafka_metadata_topic_t *t, char *errstr,
                        size_t errstr_size)
{
    const struct connrt_browse_request *req = b->req;
    struct partition_info *parts;
    int rc;

    if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_size, "topic '%s': %s", t->topic, rd_kafka_err2str(t->err));
        return -1;
    }
    parts = partitions_of(b, t);
    if (parts == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    rc = report_partitions(b, t->topic, parts, t->partition_cnt, errstr, errstr_size);
    for (size_t i = 0; i < req->ngroups && rc == 0; i++) {
        if (!requested(req, req->groups[i], i)) { /* a group named twice: once */
            rc = report_group(b, req->groups[i], t->topic, parts, t->partition_cnt, 0, errstr,
                              errstr_size);
        }
    }
    if (rc == 0) {
        rc = report_listed_groups(b, t->topic, parts, t->partition_cnt, errstr, errstr_size);
    }
    if (rc == 0 && req->peek > 0 && req->peek_batch != NULL) {
        rc = peek(b, t->topic, parts, t->partition_cnt, errstr, errstr_size);
    }
    free(parts);
    return rc;
}

/* The topics of `md`, sorted by name (borrowed from md); NULL on no memory. */
static const rd_kafka_metadata_topic_t **sorted_topics(const rd_kafka_metadata_t *md)
{
    const rd_kafka_metadata_topic_t **topics = calloc((size_t)md->topic_cnt + 1, sizeof(*topics));

    if (topics != NULL) {
        for (int i = 0; i < md->topic_cnt; i++) {
            topics[i] = &md->topics[i];
        }
        qsort(topics, (size_t)md->topic_cnt, sizeof(*topics), compare_topics);
    }
    return topics;
}

static int browse_metadata(struct browse_run *b, const rd_kafka_metadata_t *md, char *errstr,
                           size_t errstr_size)
{
    const rd_kafka_metadata_topic_t **topics = sorted_topics(md);
    int rc = 0;

    if (topics == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (b->req->topic != NULL) {
        rc = CONNRT_BROWSE_NOT_FOUND;
        for (int i = 0; i < md->topic_cnt; i++) {
            if (strcmp(topics[i]->topic, b->req->topic) == 0) {
                rc = browse_topic(b, topics[i], errstr, errstr_size);
                break;
            }
        }
        if (rc == CONNRT_BROWSE_NOT_FOUND) {
            snprintf(errstr, errstr_size,
                     "no topic '%s' on the cluster (%d topics there; browse without --topic "
                     "lists them)",
                     b->req->topic, md->topic_cnt);
        }
    } else {
        for (int i = 0; i < md->topic_cnt && rc == 0; i++) {
            rc = report_topic(b, topics[i], errstr, errstr_size);
        }
        if (rc == 0 && md->topic_cnt == 0) {
            note(b, KAFKA_BROWSE_TOPICS, "the cluster has no topics");
        }
    }
    free(topics);
    return rc;
}

int kafka_connection_browse(void *connection, const struct connrt_browse_request *request,
                            const struct connrt_browse_report *report, char *errstr,
                            size_t errstr_size)
{
    struct kafka_connection *conn = connection;
    struct browse_run b = {
        .log = {conn->log.host, conn->component_id},
        .conn = conn,
        .req = request,
        .report = report,
    };
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t err;
    int rc;

    b.rk = client_new(&b, NULL, errstr, errstr_size);
    if (b.rk == NULL) {
        kafka_security_unbind(&b);
        return -1;
    }
    /* All topics: asking for one by name would let a cluster that creates
     * topics on demand (the mock does) create it. */
    err = rd_kafka_metadata(b.rk, 1, NULL, &md, BROWSE_TIMEOUT_MS);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_size,
                 "cannot read the cluster's topics from %s: %s (connrt test-connection "
                 "--connection %s tells which step fails)",
                 conn->bootstrap, rd_kafka_err2str(err), conn->component_id);
        rc = -1;
    } else {
        rc = browse_metadata(&b, md, errstr, errstr_size);
        rd_kafka_metadata_destroy(md);
    }
    client_destroy(b.rk);
    kafka_security_unbind(&b);
    return rc;
}
