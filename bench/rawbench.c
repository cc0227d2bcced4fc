/*
 * rawbench.c - the "raw librdkafka" side of `make bench`: the tightest
 * producer and consumer loops one can write on librdkafka, to which connrt
 * is compared in the same run on the same cluster. Also writes the payload
 * files that connrt and kcat read, so that all three send the same bytes.
 *
 *   rawbench payload -n N -s SIZE [-d DELIM]
 *       N JSON lines of exactly SIZE bytes (plus \n) on stdout:
 *       {"customer":"c-0042","pad":"xxx..."}; with -d, each line is
 *       "KEY<DELIM>JSON" (for kcat -K).
 *   rawbench produce -b BOOTSTRAP -t TOPIC -n N -s SIZE [-k] [-p PARTS] [-X k=v]...
 *       linger.ms=5, acks=all, enable.idempotence=true; the same values as
 *       `payload`, keyed with -k (the customer, as set-properties does);
 *       -p writes message i to partition i * PARTS / N (consume data sets:
 *       full batches, the same share on every partition).
 *   rawbench consume -b BOOTSTRAP -t TOPIC -n N [-g GROUP] [-X k=v]...
 *       reads N messages: with -g through a consumer group (as connrt's
 *       consume operation does), else by assigning every partition.
 *
 * Prints one line "mode=... n=... secs=... first_s=... errors=..." where
 * first_s is the time from start to the first delivery report / message.
 * Exit status 0 when N messages were delivered / read, 1 otherwise, 2 on
 * usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define MAX_OVERRIDES 64
#define KEYS 1000
#define IDLE_LIMIT_S 30.0

struct options {
    const char *mode;
    const char *bootstrap;
    const char *topic;
    const char *group;
    long long n;
    long long size;
    long long parts;
    int keyed;
    char delim;
    char *overrides[MAX_OVERRIDES];
    int noverrides;
};

struct counters {
    long long delivered;
    long long failed;
    double first;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_count(const char *text, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 0) {
        return -1;
    }
    *out = v;
    return 0;
}

/* ------------------------------------------------------------- payloads */

/* The value of message i: a JSON object of exactly `size` bytes (at least
 * the fixed part). Returns its length. `buf` holds size + 64 bytes. */
static size_t make_value(char *buf, long long size, long long i, char *key, size_t key_size)
{
    snprintf(key, key_size, "c-%04lld", i % KEYS);
    int head = snprintf(buf, (size_t)size + 64, "{\"customer\":\"%s\",\"pad\":\"", key);
    long long pad = size - head - 2;
    if (pad < 0) {
        pad = 0;
    }
    memset(buf + head, 'x', (size_t)pad);
    memcpy(buf + head + pad, "\"}", 2);
    return (size_t)(head + pad + 2);
}

static int write_payload(const struct options *o)
{
    char *buf = malloc((size_t)o->size + 64);
    char key[32];
    if (buf == NULL) {
        fprintf(stderr, "rawbench: out of memory\n");
        return 1;
    }
    for (long long i = 0; i < o->n; i++) {
        size_t len = make_value(buf, o->size, i, key, sizeof(key));
        if (o->delim != '\0') {
            fputs(key, stdout);
            putchar(o->delim);
        }
        fwrite(buf, 1, len, stdout);
        putchar('\n');
    }
    free(buf);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ------------------------------------------------------------- clients */

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "rawbench: %s=%s: %s\n", name, value, errstr);
        return -1;
    }
    return 0;
}

/* Applies -X k=v after the defaults, so that they win. */
static int conf_overrides(rd_kafka_conf_t *conf, const struct options *o)
{
    for (int i = 0; i < o->noverrides; i++) {
        char *eq = strchr(o->overrides[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "rawbench: -X %s: expected name=value\n", o->overrides[i]);
            return -1;
        }
        *eq = '\0';
        int rc = conf_set(conf, o->overrides[i], eq + 1);
        *eq = '=';
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

static void delivery_report(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct counters *c = opaque;
    (void)rk;
    if (c->first == 0.0) {
        c->first = now_s();
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (c->failed++ < 5) {
            fprintf(stderr, "rawbench: delivery failed: %s\n", rd_kafka_err2str(m->err));
        }
    } else {
        c->delivered++;
    }
}

static rd_kafka_t *client_new(const struct options *o, rd_kafka_type_t type,
                              struct counters *c)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = conf_set(conf, "bootstrap.servers", o->bootstrap);
    if (type == RD_KAFKA_PRODUCER) {
        rc |= conf_set(conf, "linger.ms", "5");
        rc |= conf_set(conf, "acks", "all");
        rc |= conf_set(conf, "enable.idempotence", "true");
        rc |= conf_set(conf, "partitioner", "murmur2_random");
        rd_kafka_conf_set_dr_msg_cb(conf, delivery_report);
        rd_kafka_conf_set_opaque(conf, c);
    } else {
        rc |= conf_set(conf, "group.id", o->group ? o->group : "rawbench");
        rc |= conf_set(conf, "auto.offset.reset", "earliest");
        rc |= conf_set(conf, "enable.auto.commit", "false");
    }
    if (rc != 0 || conf_overrides(conf, o) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "rawbench: %s\n", errstr);
    }
    return rk;
}

static int produce(const struct options *o)
{
    struct counters c = {0};
    char *buf = malloc((size_t)o->size + 64);
    rd_kafka_t *rk = buf ? client_new(o, RD_KAFKA_PRODUCER, &c) : NULL;
    if (rk == NULL) {
        free(buf);
        return 1;
    }
    double t0 = now_s();
    char key[32];
    for (long long i = 0; i < o->n; i++) {
        size_t len = make_value(buf, o->size, i, key, sizeof(key));
        int32_t partition = o->parts > 0 ? (int32_t)(i * o->parts / o->n) : RD_KAFKA_PARTITION_UA;
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o->topic),
                                        RD_KAFKA_V_PARTITION(partition),
                                        RD_KAFKA_V_KEY(key, o->keyed ? strlen(key) : 0),
                                        RD_KAFKA_V_VALUE(buf, len),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 1);
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "rawbench: produce: %s\n", rd_kafka_err2str(err));
            break;
        }
        if ((i & 1023) == 0) {
            rd_kafka_poll(rk, 0);
        }
    }
    rd_kafka_flush(rk, 120 * 1000);
    double t1 = now_s();
    printf("mode=produce n=%lld size=%lld secs=%.3f first_s=%.3f errors=%lld\n", c.delivered,
           o->size, t1 - t0, c.first > 0 ? c.first - t0 : -1.0, o->n - c.delivered);
    rd_kafka_destroy(rk);
    free(buf);
    return c.delivered == o->n ? 0 : 1;
}

/* Every partition of the topic from the beginning, without a group. */
static int assign_all(rd_kafka_t *rk, const char *topic)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "rawbench: metadata of %s: %s\n", topic,
                rd_kafka_err2str(err ? err : md->topics[0].err));
        if (md != NULL) {
            rd_kafka_metadata_destroy(md);
        }
        return -1;
    }
    int n = md->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++) {
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_metadata_destroy(md);
    err = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return err == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

static int subscribe(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return err == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

static int consume(const struct options *o)
{
    double t0 = now_s();
    rd_kafka_t *rk = client_new(o, RD_KAFKA_CONSUMER, NULL);
    if (rk == NULL) {
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    int rc = o->group ? subscribe(rk, o->topic) : assign_all(rk, o->topic);
    long long got = 0;
    double first = 0, last = now_s();
    while (rc == 0 && got < o->n) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL) {
            if (now_s() - last > IDLE_LIMIT_S) {
                fprintf(stderr, "rawbench: no message for %.0f s\n", IDLE_LIMIT_S);
                break;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            last = now_s();
            if (got++ == 0) {
                first = last;
            }
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            fprintf(stderr, "rawbench: consume: %s\n", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    double t1 = now_s();
    printf("mode=consume n=%lld secs=%.3f first_s=%.3f errors=%lld\n", got, t1 - t0,
           first > 0 ? first - t0 : -1.0, o->n - got);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got == o->n ? 0 : 1;
}

/* ------------------------------------------------------------- main */

static int usage(void)
{
    fprintf(stderr,
            "usage: rawbench payload -n N -s SIZE [-d DELIM]\n"
            "       rawbench produce -b BOOTSTRAP -t TOPIC -n N -s SIZE [-k] [-p PARTS] "
            "[-X name=value]...\n"
            "       rawbench consume -b BOOTSTRAP -t TOPIC -n N [-g GROUP] "
            "[-X name=value]...\n");
    return 2;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    int opt;
    o->mode = argv[1];
    optind = 2;
    while ((opt = getopt(argc, argv, "b:t:n:s:p:g:d:kX:")) != -1) {
        switch (opt) {
        case 'b':
            o->bootstrap = optarg;
            break;
        case 't':
            o->topic = optarg;
            break;
        case 'g':
            o->group = optarg;
            break;
        case 'd':
            o->delim = optarg[0];
            break;
        case 'k':
            o->keyed = 1;
            break;
        case 'n':
        case 's':
        case 'p':
            if (parse_count(optarg, opt == 'n' ? &o->n : opt == 's' ? &o->size : &o->parts)) {
                fprintf(stderr, "rawbench: -%c %s: not a count\n", opt, optarg);
                return -1;
            }
            break;
        case 'X':
            if (o->noverrides == MAX_OVERRIDES) {
                return -1;
            }
            o->overrides[o->noverrides++] = optarg;
            break;
        default:
            return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct options o = {.n = 1000000, .size = 100};
    if (argc < 2 || parse_options(argc, argv, &o) != 0) {
        return usage();
    }
    if (strcmp(o.mode, "payload") == 0) {
        return write_payload(&o);
    }
    if (o.bootstrap == NULL || o.topic == NULL) {
        return usage();
    }
    if (strcmp(o.mode, "produce") == 0) {
        return produce(&o);
    }
    if (strcmp(o.mode, "consume") == 0) {
        return consume(&o);
    }
    return usage();
}
