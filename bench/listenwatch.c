/*
 * listenwatch.c - the end-of-run probe of `make bench-listen` (see
 * bench/README.md): tells when a consumer group has committed every message
 * of a topic, as seen from outside the listener.
 *
 *   listenwatch -b BOOTSTRAP -g GROUP -t TOPIC -p PARTS -n N [-i MICROSECONDS] [-l]
 *       polls the group's committed offsets of partitions 0..PARTS-1 (an
 *       OffsetFetch request, without joining the group) every MICROSECONDS
 *       (default 1000) until they add up to N (every partition written
 *       from offset 0, so the sum is N exactly when each committed offset
 *       is its high watermark). Prints "ready" once its first request was
 *       answered; with -l, "commit realtime=SECONDS partition=P offset=O"
 *       for every committed offset that moved; then "done realtime=SECONDS
 *       polls=COUNT cpu_s=SECONDS": CLOCK_REALTIME times of the answers
 *       (comparable with the millisecond times of connrt's JSON log lines
 *       and Kafka's CreateTime) and its own CPU time. Exits 0 when done, 1
 *       on errors or after 300 s.
 *
 * In C on librdkafka rather than in the Python driver: one poll costs
 * ~0.06 ms of CPU here against ~0.25 ms for python3-kafka's admin client,
 * and the listener being measured shares the machine's cores with it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define GIVE_UP_S 300.0

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "listenwatch: %s: %s\n", name, errstr);
        return -1;
    }
    return 0;
}

/* Sum of the committed offsets; -1 when the request failed. A partition
 * without a committed offset counts 0. With `last` (one per partition),
 * prints the offsets that moved since and updates it. */
static long long committed_sum(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                               long long *last)
{
    long long sum = 0;
    for (int i = 0; i < parts->cnt; i++) {
        parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
    }
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, parts, 10000);
    double at = clock_s(CLOCK_REALTIME);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "listenwatch: committed: %s\n", rd_kafka_err2str(err));
        return -1;
    }
    for (int i = 0; i < parts->cnt; i++) {
        long long offset = parts->elems[i].offset > 0 ? parts->elems[i].offset : 0;
        if (last != NULL && offset != last[i]) {
            printf("commit realtime=%.6f partition=%d offset=%lld\n", at, i, offset);
            last[i] = offset;
        }
        sum += offset;
    }
    return sum;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: listenwatch -b BOOTSTRAP -g GROUP -t TOPIC -p PARTS -n N [-i MICROSECONDS] "
            "[-l]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *bootstrap = NULL, *group = NULL, *topic = NULL;
    long long parts = 0, n = -1, interval_us = 1000;
    int opt, trace = 0;
    while ((opt = getopt(argc, argv, "b:g:t:p:n:i:l")) != -1) {
        switch (opt) {
        case 'b':
            bootstrap = optarg;
            break;
        case 'g':
            group = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'p':
            parts = atoll(optarg);
            break;
        case 'n':
            n = atoll(optarg);
            break;
        case 'i':
            interval_us = atoll(optarg);
            break;
        case 'l':
            trace = 1;
            break;
        default:
            return usage();
        }
    }
    if (bootstrap == NULL || group == NULL || topic == NULL || parts <= 0 || n < 0 ||
        interval_us < 0) {
        return usage();
    }
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* A consumer handle only to reach the group coordinator: it never
     * subscribes, so it never joins the group it watches. */
    if (conf_set(conf, "bootstrap.servers", bootstrap) != 0 ||
        conf_set(conf, "group.id", group) != 0 ||
        conf_set(conf, "enable.auto.commit", "false") != 0) {
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "listenwatch: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)parts);
    for (long long p = 0; p < parts; p++) {
        rd_kafka_topic_partition_list_add(list, topic, (int32_t)p);
    }
    long long *last = trace ? calloc((size_t)parts, sizeof(*last)) : NULL;
    int rc = 1;
    long long polls = 0, sum = trace && last == NULL ? -1 : committed_sum(rk, list, last);
    if (sum >= 0) {
        printf("ready\n");
        fflush(stdout);
    }
    double start = clock_s(CLOCK_MONOTONIC);
    while (sum >= 0) {
        polls++;
        if (sum == n) {
            printf("done realtime=%.6f polls=%lld cpu_s=%.3f\n", clock_s(CLOCK_REALTIME), polls,
                   cpu_s());
            rc = 0;
            break;
        }
        if (sum > n || clock_s(CLOCK_MONOTONIC) - start > GIVE_UP_S) {
            fprintf(stderr, "listenwatch: committed offsets add up to %lld, %lld expected\n", sum,
                    n);
            break;
        }
        struct timespec pause = {(time_t)(interval_us / 1000000),
                                 (long)(interval_us % 1000000) * 1000};
        while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
        }
        sum = committed_sum(rk, list, last);
    }
    free(last);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(rk);
    return rc;
}
