/*
 * cmd_executions.c - `connrt executions [DIR | --container DIR] [filters]
 * [--documents ID] [--limit N] [--json]`: a container's execution history
 * (DESIGN §7, §9), as a table or as JSON Lines (one object per line).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "history.h"

#define USAGE                                                                                  \
    "usage: connrt executions [DIR | --container DIR] [--process ID]\n"                        \
    "           [--status success|application_errors|failure|running]\n"                      \
    "           [--since TIME|DURATION] [--tracked NAME=VALUE] [--documents EXECUTION_ID]\n"   \
    "           [--limit N] [--json]\n"                                                        \
    "  TIME: 2024-11-24, 2024-11-24T10:00:00Z, 2024-11-24T10:00:00+01:00 (no zone: UTC)\n"    \
    "  DURATION: 30s, 15m, 2h, 7d or 1w (that long ago)\n"                                     \
    "  --limit: rows at most (default 100; 0: all)\n"
#define DEFAULT_LIMIT 100
#define TIME_SIZE 40

struct exec_args {
    const char *container;
    const char *process;
    const char *status;
    const char *since;
    const char *tracked;
    const char *documents;
    const char *limit;
    int json;
};

struct output {
    int json;
    size_t rows;
};

/* ------------------------------------------------------------ arguments */

static int take_value(int argc, char **argv, int *i, const char *name, const char **out)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0 || (argv[*i][n] != '\0' && argv[*i][n] != '=')) {
        return 0;
    }
    if (argv[*i][n] == '=') {
        *out = argv[*i] + n + 1;
        return 1;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "connrt executions: %s needs a value\n" USAGE, name);
        return -1;
    }
    *out = argv[++*i];
    return 1;
}

static int parse_args(int argc, char **argv, struct exec_args *a)
{
    const struct {
        const char *name;
        const char **slot;
    } options[] = {
        {"--container", &a->container}, {"--process", &a->process}, {"--status", &a->status},
        {"--since", &a->since},         {"--tracked", &a->tracked}, {"--documents", &a->documents},
        {"--limit", &a->limit},
    };
    for (int i = 1; i < argc; i++) {
        int matched = 0;
        for (size_t k = 0; k < sizeof(options) / sizeof(options[0]) && matched == 0; k++) {
            matched = take_value(argc, argv, &i, options[k].name, options[k].slot);
        }
        if (matched < 0) {
            return -1;
        }
        if (matched > 0) {
            continue;
        }
        if (strcmp(argv[i], "--json") == 0) {
            a->json = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "connrt executions: unknown option '%s'\n" USAGE, argv[i]);
            return -1;
        } else if (a->container == NULL) {
            a->container = argv[i];
        } else {
            fprintf(stderr, "connrt executions: one container only ('%s' and '%s')\n" USAGE,
                    a->container, argv[i]);
            return -1;
        }
    }
    return 0;
}

static int parse_count(const char *text, long long min, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min) {
        return -1;
    }
    *out = v;
    return 0;
}

/* "30s", "15m", "2h", "7d", "1w": that long before now. */
static int parse_duration(const char *text, time_t now, time_t *out)
{
    static const struct {
        char unit;
        long long seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (errno != 0 || end == text || n < 0 || end[0] == '\0' || end[1] != '\0') {
        return -1;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (*end == units[i].unit && n <= (long long)now / units[i].seconds) {
            *out = now - (time_t)(n * units[i].seconds);
            return 0;
        }
    }
    return -1;
}

/* "Z", "+HH:MM", "-HHMM", "+HH" or nothing (UTC) at `s`, as seconds east. */
static int parse_zone(const char *s, long *offset)
{
    *offset = 0;
    if (*s == '\0' || (s[0] == 'Z' && s[1] == '\0')) {
        return 0;
    }
    int hh, mm = 0, used = 0;
    if ((s[0] != '+' && s[0] != '-') ||
        (sscanf(s + 1, "%2d:%2d%n", &hh, &mm, &used) != 2 &&
         sscanf(s + 1, "%2d%2d%n", &hh, &mm, &used) != 2 &&
         sscanf(s + 1, "%2d%n", &hh, &used) != 1) ||
        s[1 + used] != '\0' || hh > 14 || mm > 59) {
        return -1;
    }
    *offset = (s[0] == '-' ? -1 : 1) * (long)(hh * 3600 + mm * 60);
    return 0;
}

/* An ISO 8601 date or date-time (see USAGE). */
static int parse_iso(const char *text, time_t *out)
{
    static const char *const formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                                          "%Y-%m-%dT%H:%M", "%Y-%m-%d"};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        struct tm tm = {0};
        const char *rest = strptime(text, formats[i], &tm);
        if (rest == NULL) {
            continue;
        }
        if (*rest == '.') {
            rest += 1 + strspn(rest + 1, "0123456789");
        }
        long offset;
        if ((*rest == '\0' || *rest == 'Z' || *rest == '+' || *rest == '-') &&
            parse_zone(rest, &offset) == 0) {
            *out = timegm(&tm) - offset;
            return 0;
        }
    }
    return -1;
}

static int parse_since(const char *text, char *buf, size_t size)
{
    struct timespec t = {0, 0};
    time_t now = time(NULL);
    if (parse_duration(text, now, &t.tv_sec) != 0 && parse_iso(text, &t.tv_sec) != 0) {
        fprintf(stderr, "connrt executions: --since '%s' is neither a time nor a duration\n"
                USAGE, text);
        return -1;
    }
    connrt_history_time_text(&t, buf, size);
    return 0;
}

static int check_status(const char *status, int documents)
{
    static const char *const known[] = {"success", "application_errors", "failure", "running"};
    size_t n = documents ? 3 : 4;
    for (size_t i = 0; status != NULL && i < n; i++) {
        if (strcmp(status, known[i]) == 0) {
            return 0;
        }
    }
    if (status != NULL && documents && strcmp(status, "application_error") == 0) {
        return 0;
    }
    if (status != NULL) {
        fprintf(stderr, "connrt executions: --status must be success, application_errors, "
                "failure%s, not '%s'\n", documents ? "" : " or running", status);
        return -1;
    }
    return 0;
}

/* The filter from the arguments; `since` and `tracked` hold its strings. */
static int make_filter(const struct exec_args *a, struct connrt_history_filter *f,
                       long long *execution, char *since, size_t since_size, char **tracked)
{
    long long limit = DEFAULT_LIMIT;
    *execution = 0;
    if (a->documents != NULL && parse_count(a->documents, 1, execution) != 0) {
        fprintf(stderr, "connrt executions: --documents needs an execution id, not '%s'\n",
                a->documents);
        return -1;
    }
    if (a->documents != NULL && (a->process != NULL || a->since != NULL)) {
        fprintf(stderr, "connrt executions: --process and --since choose executions; with "
                "--documents use --status and --tracked\n");
        return -1;
    }
    if (a->limit != NULL && parse_count(a->limit, 0, &limit) != 0) {
        fprintf(stderr, "connrt executions: --limit needs a number >= 0, not '%s'\n", a->limit);
        return -1;
    }
    if (check_status(a->status, a->documents != NULL) != 0 ||
        (a->since != NULL && parse_since(a->since, since, since_size) != 0)) {
        return -1;
    }
    *f = (struct connrt_history_filter){a->process, a->status, a->since ? since : NULL, NULL,
                                        NULL, limit};
    if (a->tracked != NULL) {
        const char *eq = strchr(a->tracked, '=');
        if (eq == NULL || eq == a->tracked) {
            fprintf(stderr, "connrt executions: --tracked needs NAME=VALUE, not '%s'\n",
                    a->tracked);
            return -1;
        }
        *tracked = strndup(a->tracked, (size_t)(eq - a->tracked));
        if (*tracked == NULL) {
            fprintf(stderr, "connrt executions: out of memory\n");
            return -1;
        }
        f->tracked_name = *tracked;
        f->tracked_value = eq + 1;
    }
    return 0;
}

/* -------------------------------------------------------------- printing */

static int parse_stored_time(const char *text, double *out)
{
    struct tm tm = {0};
    const char *rest = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (rest == NULL) {
        return -1;
    }
    *out = (double)timegm(&tm) + (rest[0] == '.' ? strtod(rest, NULL) : 0.0);
    return 0;
}

static void duration_text(const char *started, const char *ended, char *buf, size_t size)
{
    double a, b;
    if (ended == NULL || parse_stored_time(started, &a) != 0 ||
        parse_stored_time(ended, &b) != 0) {
        snprintf(buf, size, "-");
    } else {
        snprintf(buf, size, "%.2f s", b - a);
    }
}

static int print_execution(void *opaque, const struct connrt_history_execution_row *r)
{
    struct output *out = opaque;
    if (out->json) {
        json_t *o = json_pack("{s:I,s:s,s:s,s:s?,s:s,s:I,s:I,s:I,s:I,s:s?,s:I}", "id",
                              (json_int_t)r->id, "process", r->process, "started_at",
                              r->started_at, "ended_at", r->ended_at, "status", r->status,
                              "documents", (json_int_t)r->documents, "success",
                              (json_int_t)r->success, "application_errors",
                              (json_int_t)r->application_errors, "failures",
                              (json_int_t)r->failures, "error", r->error, "pid",
                              (json_int_t)r->pid);
        if (o != NULL) {
            json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(o);
        }
        fputc('\n', stdout);
        out->rows++;
        return 0;
    }
    char duration[32];
    if (out->rows++ == 0) {
        printf("%6s  %-24s  %-24s  %10s  %-18s  %10s  %10s  %10s  %10s\n", "ID", "PROCESS",
               "STARTED", "DURATION", "STATUS", "DOCUMENTS", "SUCCESS", "APP_ERRORS",
               "FAILURES");
    }
    duration_text(r->started_at, r->ended_at, duration, sizeof(duration));
    printf("%6lld  %-24s  %-24s  %10s  %-18s  %10lld  %10lld  %10lld  %10lld\n", r->id,
           r->process, r->started_at, duration, r->status, r->documents, r->success,
           r->application_errors, r->failures);
    if (r->error != NULL) {
        printf("%6s  error: %s\n", "", r->error);
    }
    return 0;
}

/* Standard base64 of n bytes; caller frees. */
static char *base64(const unsigned char *s, size_t n)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *buf = malloc(4 * ((n + 2) / 3) + 1), *p = buf;
    for (size_t i = 0; buf != NULL && i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? s[i + 2] : 0);
        *p++ = digits[(v >> 18) & 63];
        *p++ = digits[(v >> 12) & 63];
        *p++ = i + 1 < n ? digits[(v >> 6) & 63] : '=';
        *p++ = i + 2 < n ? digits[v & 63] : '=';
    }
    if (buf != NULL) {
        *p = '\0';
    }
    return buf;
}

static json_t *document_json(const struct connrt_history_document_row *r)
{
    json_t *tracked = json_object();
    for (size_t i = 0; tracked != NULL && i < r->ntracked; i++) {
        json_object_set_new(tracked, r->tracked_names[i], json_string(r->tracked_values[i]));
    }
    json_t *o = json_pack("{s:I,s:I,s:s,s:s?,s:o?,s:s?,s:o*}", "execution",
                          (json_int_t)r->execution_id, "seq", (json_int_t)r->seq, "outcome",
                          r->outcome, "origin", r->origin, "line",
                          r->line > 0 ? json_integer(r->line) : json_null(), "error", r->error,
                          "tracked", tracked);
    if (o == NULL || r->payload == NULL) {
        return o;
    }
    json_t *text = json_stringn(r->payload, r->payload_len);
    if (text != NULL) {
        json_object_set_new(o, "payload", text);
        return o;
    }
    char *encoded = base64(r->payload, r->payload_len);
    json_object_set_new(o, "payload", encoded ? json_string(encoded) : json_null());
    json_object_set_new(o, "payload_encoding", json_string("base64"));
    free(encoded);
    return o;
}

static void print_payload_text(const struct connrt_history_document_row *r)
{
    json_t *text = json_stringn(r->payload, r->payload_len);
    if (text != NULL && memchr(r->payload, '\n', r->payload_len) == NULL) {
        printf("%8s  payload: %s\n", "", json_string_value(text));
    } else {
        printf("%8s  payload: %zu bytes%s (see --json)\n", "", r->payload_len,
               text ? "" : ", not UTF-8");
    }
    json_decref(text);
}

static int print_document(void *opaque, const struct connrt_history_document_row *r)
{
    struct output *out = opaque;
    out->rows++;
    if (out->json) {
        json_t *o = document_json(r);
        if (o != NULL) {
            json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(o);
        }
        fputc('\n', stdout);
        return 0;
    }
    char origin[1024];
    if (out->rows == 1) {
        printf("%8s  %-17s  %-24s  %s\n", "SEQ", "OUTCOME", "ORIGIN", "ERROR / TRACKED");
    }
    if (r->line > 0) {
        snprintf(origin, sizeof(origin), "%s:%lld", r->origin ? r->origin : "?", r->line);
    } else {
        snprintf(origin, sizeof(origin), "%s", r->origin ? r->origin : "-");
    }
    int width = r->error != NULL || r->ntracked > 0 ? 24 : 0;
    printf("%8lld  %-17s  %-*s", r->seq, r->outcome, width, origin);
    if (r->error != NULL) {
        printf("  %s", r->error);
    }
    for (size_t i = 0; i < r->ntracked; i++) {
        printf("  %s=%s", r->tracked_names[i], r->tracked_values[i]);
    }
    fputc('\n', stdout);
    if (r->payload != NULL) {
        print_payload_text(r);
    }
    return 0;
}

/* ------------------------------------------------------------------ main */

static int list(connrt_history_t *h, const struct exec_args *a,
                const struct connrt_history_filter *f, long long execution)
{
    char errstr[1024];
    struct output out = {a->json, 0};
    int more = 0;
    int rc = execution > 0 ? connrt_history_list_documents(h, execution, f, print_document, &out,
                                                           &more, errstr, sizeof(errstr))
                           : connrt_history_list_executions(h, f, print_execution, &out, &more,
                                                            errstr, sizeof(errstr));
    fflush(stdout);
    if (rc != 0) {
        fprintf(stderr, "connrt executions: %s\n", errstr);
        return CONNRT_EXIT_FAILURE;
    }
    if (more) {
        fprintf(stderr, "connrt executions: more %s match; showing the first %lld (--limit N, "
                "or --limit 0 for all)\n", execution > 0 ? "documents" : "executions", f->limit);
    } else if (out.rows == 0 && !a->json) {
        fprintf(stderr, "connrt executions: no %s match\n",
                execution > 0 ? "documents" : "executions");
    }
    return CONNRT_EXIT_OK;
}

int connrt_cmd_executions(int argc, char **argv)
{
    struct exec_args a = {0};
    struct connrt_history_filter f;
    char since[TIME_SIZE], path[4096], errstr[1024];
    char *tracked = NULL;
    long long execution;
    struct stat st;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf(USAGE);
        return CONNRT_EXIT_OK;
    }
    if (parse_args(argc, argv, &a) != 0 ||
        make_filter(&a, &f, &execution, since, sizeof(since), &tracked) != 0) {
        free(tracked);
        return CONNRT_EXIT_USAGE;
    }
    if (a.container == NULL || stat(a.container, &st) != 0 || !S_ISDIR(st.st_mode)) {
        if (a.container == NULL) {
            fprintf(stderr, "connrt executions: name the container: connrt executions DIR\n"
                    USAGE);
        } else {
            fprintf(stderr, "connrt executions: %s: not a container directory\n", a.container);
        }
        free(tracked);
        return CONNRT_EXIT_USAGE;
    }
    snprintf(path, sizeof(path), "%s/data/history.db", a.container);
    if (stat(path, &st) != 0) {
        fprintf(stderr, "connrt executions: no executions recorded yet in %s (%s holds them "
                "once an execution ran)\n", a.container, path);
        free(tracked);
        return execution > 0 ? CONNRT_EXIT_FAILURE : CONNRT_EXIT_OK;
    }
    connrt_history_t *h = connrt_history_open_existing(path, errstr, sizeof(errstr));
    int status = CONNRT_EXIT_FAILURE;
    if (h == NULL) {
        fprintf(stderr, "connrt executions: %s\n", errstr);
    } else {
        status = list(h, &a, &f, execution);
    }
    connrt_history_close(h);
    free(tracked);
    return status;
}
