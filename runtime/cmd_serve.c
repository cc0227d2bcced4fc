/*
 * cmd_serve.c - `connrt serve CONTAINER_DIR`: container mode (DESIGN §7).
 *
 * Validates everything in deploy/ (and container.properties) first and
 * refuses to start while there is any problem, listing them all; then
 * starts every listen process and runs until SIGTERM or SIGINT, which
 * drain every listener at once (running executions finish, offsets
 * commit, groups are left) within shutdown.timeout.ms, exit 0.
 *
 * SIGHUP reloads: deploy/ and container.properties are read again; an
 * invalid set leaves the running one untouched and every problem is
 * logged; a valid one replaces it: listeners whose process, operations,
 * connections and container properties are unchanged keep running, the
 * others drain and start again, removed ones drain, new ones start.
 * Unchanged listeners keep the container they started with; an old
 * container is closed once its last listener has stopped.
 *
 * A process's <output/> goes to DIR/data/output/PROCESS.jsonl (appended).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../properties/java_properties.h"
#include "../properties/property.h"
#include "commands.h"
#include "container.h"
#include "deployment.h"
#include "listener.h"
#include "metrics_http.h"
#include "plugin_loader.h"
#include "slots.h"

#define SERVE_USAGE "usage: connrt serve CONTAINER_DIR\n"
#define SHUTDOWN_PROPERTY "shutdown.timeout.ms"
#define SHUTDOWN_DEFAULT_MS 60000
#define WORKERS_PROPERTY "execution.max.concurrent"
#define METRICS_PORT_PROPERTY "metrics.port"

/* One loaded deploy/ set and the container opened for it. */
struct generation {
    connrt_container_t *container;
    connrt_definitions_t *defs;
    size_t listeners; /* running on it */
};

struct served {
    const struct connrt_def_component *process; /* borrowed from gen->defs */
    struct generation *gen;
    connrt_listener_t *listener;
    char *fingerprint; /* owned: what a reload compares */
    char output[4096];
    struct connrt_listener_counts counts; /* once stopped */
    pthread_mutex_t *server_lock;         /* struct server's */
};

struct server {
    const char *dir;
    connrt_slots_t *slots;
    /* items, count, generations and `draining` change under the lock: the
     * HTTP thread reads them for /metrics and /health. */
    pthread_mutex_t lock;
    struct served *items;
    size_t count;
    struct generation *current;
    int draining;
    connrt_metrics_http_t *http;
    long long metrics_port; /* what http listens on; 0: off */
};

/* ------------------------------------------------------------ fingerprints */

struct text {
    char *data;
    size_t len, cap;
    int failed;
};

static void text_add(struct text *t, const char *s)
{
    size_t n = strlen(s ? s : "(null)") + 1; /* with a separator */
    if (t->failed) {
        return;
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->cap ? t->cap * 2 : 1024) + n;
        char *grown = realloc(t->data, cap);
        if (grown == NULL) {
            t->failed = 1;
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s ? s : "(null)", n - 1);
    t->data[t->len + n - 1] = '\x1f';
    t->len += n;
    t->data[t->len] = '\0';
}

static void add_component(struct text *t, const connrt_definitions_t *defs, const char *id)
{
    const struct connrt_def_component *c = id ? connrt_definitions_find(defs, id) : NULL;
    if (c == NULL) {
        text_add(t, "missing");
        return;
    }
    text_add(t, c->id);
    text_add(t, c->connector);
    text_add(t, c->connection);
    text_add(t, c->type);
    for (size_t i = 0; i < c->nproperties; i++) {
        text_add(t, c->properties[i].name);
        text_add(t, c->properties[i].value);
    }
    if (c->kind == CONNRT_COMPONENT_OPERATION) {
        add_component(t, defs, c->connection);
    }
}

static void add_steps(struct text *t, const connrt_definitions_t *defs,
                      const struct connrt_def_step *steps, size_t n)
{
    char kind[16];
    for (size_t i = 0; i < n; i++) {
        snprintf(kind, sizeof(kind), "step%d", (int)steps[i].kind);
        text_add(t, kind);
        add_component(t, defs, steps[i].operation);
        for (size_t k = 0; k < steps[i].nassignments; k++) {
            snprintf(kind, sizeof(kind), "src%d", (int)steps[i].assignments[k].source);
            text_add(t, steps[i].assignments[k].name);
            text_add(t, kind);
            text_add(t, steps[i].assignments[k].argument);
        }
    }
}

/* Container properties a reload applies to the running set itself: a
 * change in them restarts no listener. (execution.max.concurrent is not
 * one: a listener sizes its pool of workers when it starts.) */
static int applied_in_place(const char *key)
{
    static const char *const keys[] = {METRICS_PORT_PROPERTY, "log.level", "log.format", NULL};
    for (size_t i = 0; keys[i] != NULL; i++) {
        if (strcmp(key, keys[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Everything a running listener depends on, as one string (owned), or NULL
 * on no memory: the process, every operation and connection it uses (after
 * ${env:} substitution), and the container properties. */
static char *fingerprint(const struct generation *gen, const struct connrt_def_component *p)
{
    struct text t = {0};
    const connrt_jprops_t *props = connrt_container_properties(gen->container);
    text_add(&t, p->id);
    add_steps(&t, gen->defs, p->steps, p->nsteps);
    text_add(&t, p->has_on_error ? "on-error" : "no-on-error");
    add_steps(&t, gen->defs, p->error_steps, p->nerror_steps);
    for (size_t i = 0; props != NULL && i < connrt_jprops_count(props); i++) {
        const char *key, *value;
        int line;
        connrt_jprops_at(props, i, &key, &value, &line);
        if (applied_in_place(key)) {
            continue;
        }
        text_add(&t, key);
        text_add(&t, value);
    }
    if (t.failed) {
        free(t.data);
        return NULL;
    }
    return t.data;
}

/* -------------------------------------------------------------- generations */

static long long container_int(connrt_container_t *c, const char *name,
                               connrt_property_type_t type, long long fallback)
{
    const connrt_jprops_t *props = connrt_container_properties(c);
    const char *text = props ? connrt_jprops_get(props, name) : NULL;
    long long value;
    if (text != NULL && connrt_property_parse_int(type, text, &value) == 0 &&
        value > 0) {
        return value;
    }
    return fallback;
}

/* Load and check deploy/ and container.properties. Returns a generation
 * (owned) or NULL after printing every problem to stderr with `what`. */
static struct generation *generation_load(const char *dir, const char *what)
{
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    struct generation *gen = diag ? calloc(1, sizeof(*gen)) : NULL;
    if (gen == NULL) {
        fprintf(stderr, "connrt serve: out of memory\n");
        connrt_diagnostics_destroy(diag);
        return NULL;
    }
    /* Not in force yet: a refused set must not change the running logging. */
    gen->container = connrt_container_open_unapplied(dir, diag);
    gen->defs = gen->container ? connrt_deployment_load(NULL, 0, gen->container, diag) : NULL;
    if (gen->defs == NULL || connrt_diag_count(diag) > 0) {
        fprintf(stderr, "connrt serve: %s: %zu problem(s) in %s:\n", what,
                connrt_diag_count(diag), dir);
        connrt_diag_print(diag, stderr);
        connrt_container_destroy(gen->container);
        connrt_definitions_destroy(gen->defs);
        free(gen);
        gen = NULL;
    }
    connrt_diagnostics_destroy(diag);
    return gen;
}

static void generation_release(struct server *s, struct generation *gen)
{
    if (gen == NULL || gen->listeners > 0 || gen == s->current) {
        return;
    }
    /* The container borrows components from defs: it goes first. */
    connrt_container_destroy(gen->container);
    connrt_definitions_destroy(gen->defs);
    free(gen);
}

/* ---------------------------------------------------------------- listeners */

static int has_output(const struct connrt_def_component *p)
{
    for (size_t i = 0; i < p->nsteps; i++) {
        if (p->steps[i].kind == CONNRT_STEP_OUTPUT) {
            return 1;
        }
    }
    for (size_t i = 0; i < p->nerror_steps; i++) {
        if (p->error_steps[i].kind == CONNRT_STEP_OUTPUT) {
            return 1;
        }
    }
    return 0;
}

static int output_path(const char *dir, const char *process_id, char *path, size_t size)
{
    char data[4096];
    if (strchr(process_id, '/') != NULL || strcmp(process_id, "..") == 0) {
        fprintf(stderr, "connrt serve: process '%s': an id with '/' cannot name its output "
                "file in data/output/\n", process_id);
        return -1;
    }
    snprintf(data, sizeof(data), "%s/data", dir);
    mkdir(data, 0750);
    snprintf(data, sizeof(data), "%s/data/output", dir);
    if (mkdir(data, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "connrt serve: %s: %s\n", data, strerror(errno));
        return -1;
    }
    int n = snprintf(path, size, "%s/%s.jsonl", data, process_id);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "connrt serve: output path for process '%s' is too long\n", process_id);
        return -1;
    }
    return 0;
}

static int served_start(struct server *s, struct served *it)
{
    char errstr[2048];
    struct connrt_engine_options opts = {0};
    opts.slots = s->slots;
    opts.append_output = 1;
    if (has_output(it->process)) {
        if (output_path(s->dir, it->process->id, it->output, sizeof(it->output)) != 0) {
            return -1;
        }
        opts.output = it->output;
    }
    it->listener = connrt_listener_start(it->gen->container, it->gen->defs, it->process, &opts,
                                         errstr, sizeof(errstr));
    if (it->listener == NULL) {
        fprintf(stderr, "connrt serve: process '%s': %s\n", it->process->id, errstr);
        return -1;
    }
    it->gen->listeners++;
    fprintf(stderr, "connrt serve: listener %s started%s%s\n", it->process->id,
            opts.output ? ", output to " : "", opts.output ? opts.output : "");
    return 0;
}

static void *served_stop_thread(void *arg)
{
    struct served *it = arg;
    char errstr[1024];
    if (connrt_listener_stop(it->listener, &it->counts, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "connrt serve: process '%s': output: %s\n", it->process->id, errstr);
    }
    pthread_mutex_lock(it->server_lock);
    connrt_listener_destroy(it->listener);
    it->listener = NULL;
    pthread_mutex_unlock(it->server_lock);
    return NULL;
}

static void print_counts(const struct served *it)
{
    const struct connrt_listener_counts *c = &it->counts;
    fprintf(stderr,
            "connrt serve: listener %s stopped: %zu executions (%zu failed and retried), %zu "
            "documents: %zu success, %zu application errors, %zu failures\n",
            it->process->id, c->executions, c->failed_executions, c->documents, c->success,
            c->application_errors, c->failures);
}

/* Drain the listeners marked in `stop` at once (each waits for its own
 * executions), then release what they held. */
static void stop_marked(struct server *s, const unsigned char *stop)
{
    pthread_t *threads = calloc(s->count ? s->count : 1, sizeof(*threads));
    unsigned char *threaded = calloc(s->count ? s->count : 1, 1);
    for (size_t i = 0; i < s->count; i++) {
        if (!stop[i] || s->items[i].listener == NULL) {
            continue;
        }
        if (threads != NULL && threaded != NULL &&
            pthread_create(&threads[i], NULL, served_stop_thread, &s->items[i]) == 0) {
            threaded[i] = 1;
        } else {
            served_stop_thread(&s->items[i]);
        }
    }
    for (size_t i = 0; i < s->count; i++) {
        if (threaded != NULL && threaded[i]) {
            pthread_join(threads[i], NULL);
        }
    }
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->count; i++) {
        if (stop[i]) {
            print_counts(&s->items[i]);
            s->items[i].gen->listeners--;
            generation_release(s, s->items[i].gen);
        }
    }
    pthread_mutex_unlock(&s->lock);
    free(threads);
    free(threaded);
}

/* Keep only the items not marked. */
static void forget_marked(struct server *s, const unsigned char *stop)
{
    pthread_mutex_lock(&s->lock);
    size_t keep = 0;
    for (size_t i = 0; i < s->count; i++) {
        if (stop[i]) {
            free(s->items[i].fingerprint);
        } else {
            s->items[keep++] = s->items[i];
        }
    }
    s->count = keep;
    pthread_mutex_unlock(&s->lock);
}

static const struct served *find_served(const struct server *s, const char *process_id)
{
    for (size_t i = 0; i < s->count; i++) {
        if (strcmp(s->items[i].process->id, process_id) == 0) {
            return &s->items[i];
        }
    }
    return NULL;
}

/* Start every listen process of `gen` that is not running already.
 * Returns the number that failed to start. */
static size_t start_new(struct server *s, struct generation *gen)
{
    size_t failed = 0;
    for (size_t i = 0; i < connrt_definitions_count(gen->defs); i++) {
        const struct connrt_def_component *p = connrt_definitions_at(gen->defs, i);
        if (p->kind != CONNRT_COMPONENT_PROCESS || find_served(s, p->id) != NULL) {
            continue;
        }
        if (!connrt_listener_starts(gen->container, gen->defs, p)) {
            fprintf(stderr, "connrt serve: process '%s' does not start with a listen operation: "
                    "not served (run it with `connrt run`)\n", p->id);
            continue;
        }
        pthread_mutex_lock(&s->lock);
        struct served *grown = realloc(s->items, (s->count + 1) * sizeof(*grown));
        if (grown != NULL) {
            s->items = grown;
        }
        pthread_mutex_unlock(&s->lock);
        if (grown == NULL) {
            failed++;
            continue;
        }
        struct served *it = &s->items[s->count];
        memset(it, 0, sizeof(*it));
        it->server_lock = &s->lock;
        it->process = p;
        it->gen = gen;
        it->fingerprint = fingerprint(gen, p);
        if (it->fingerprint == NULL || served_start(s, it) != 0) {
            free(it->fingerprint);
            failed++;
            continue;
        }
        pthread_mutex_lock(&s->lock);
        s->count++;
        pthread_mutex_unlock(&s->lock);
    }
    return failed;
}

/* ------------------------------------------------------------------ metrics */

static int health_page(void *opaque, connrt_page_t *page)
{
    struct server *s = opaque;
    pthread_mutex_lock(&s->lock);
    size_t running = 0;
    for (size_t i = 0; i < s->count; i++) {
        running += s->items[i].listener != NULL ? 1 : 0;
    }
    int draining = s->draining;
    pthread_mutex_unlock(&s->lock);
    /* No listener running (all failed to start at a reload) is not healthy. */
    int healthy = !draining && running > 0;
    connrt_page_printf(page, "{\"status\":\"%s\",\"listeners\":%zu}\n",
                       draining ? "draining" : healthy ? "serving" : "idle", running);
    return healthy ? 200 : 503;
}

/* A label value in the text format: \, " and newline escaped. Returns out. */
static const char *label_value(const char *v, char *out, size_t size)
{
    size_t n = 0;
    for (; *v != '\0' && n + 3 < size; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n') {
            out[n++] = '\\';
            out[n++] = *v == '\n' ? 'n' : *v;
        } else {
            out[n++] = *v;
        }
    }
    out[n] = '\0';
    return out;
}

/* Operation samples, kept to be printed grouped by metric name: the text
 * format wants each family's samples together. */
struct sample_line {
    char *name, *line;
    size_t seq;
};

struct sample_set {
    struct sample_line *items;
    size_t count, cap;
    const char *process, *operation; /* escaped, for the current operation */
};

static void plugin_sample(void *opaque, const char *name, const char *labels, double value)
{
    struct sample_set *set = opaque;
    char line[1024];
    snprintf(line, sizeof(line), "%s{process=\"%s\",operation=\"%s\"%s%s} %.17g\n", name,
             set->process, set->operation, labels[0] ? "," : "", labels, value);
    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        struct sample_line *grown = realloc(set->items, cap * sizeof(*grown));
        if (grown == NULL) {
            return;
        }
        set->items = grown;
        set->cap = cap;
    }
    struct sample_line *it = &set->items[set->count];
    it->name = strdup(name);
    it->line = strdup(line);
    it->seq = set->count;
    if (it->name == NULL || it->line == NULL) {
        free(it->name);
        free(it->line);
        return;
    }
    set->count++;
}

static int by_name(const void *a, const void *b)
{
    const struct sample_line *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* What the open operations of one served process report themselves;
 * never opens an operation (that is the executions' business). */
static void operation_samples(const struct served *it, struct sample_set *set)
{
    char process[512], operation[512];
    const struct connrt_def_component *p = it->process;
    for (size_t k = 0; k < 2; k++) {
        const struct connrt_def_step *steps = k == 0 ? p->steps : p->error_steps;
        size_t n = k == 0 ? p->nsteps : p->nerror_steps;
        for (size_t i = 0; i < n; i++) {
            const struct connrt_open_operation *op =
                steps[i].operation ? connrt_container_find_operation(it->gen->container,
                                                                     steps[i].operation)
                                   : NULL;
            connrt_metrics_fn fn = op ? connrt_operation_metrics(op->connector, op->op) : NULL;
            if (fn != NULL) {
                set->process = label_value(p->id, process, sizeof(process));
                set->operation = label_value(steps[i].operation, operation, sizeof(operation));
                fn(op->ctx, plugin_sample, set);
            }
        }
    }
}

static void print_samples(struct sample_set *set, connrt_page_t *page)
{
    qsort(set->items, set->count, sizeof(*set->items), by_name);
    for (size_t i = 0; i < set->count; i++) {
        connrt_page_printf(page, "%s", set->items[i].line);
        free(set->items[i].name);
        free(set->items[i].line);
    }
    free(set->items);
}

/* One family of the runtime's own counters, every process in turn. */
static void listener_family(struct server *s, connrt_page_t *page, int family)
{
    static const char *const outcomes[] = {"success", "application_error", "failure"};
    char process[512];
    for (size_t i = 0; i < s->count; i++) {
        const struct served *it = &s->items[i];
        struct connrt_listener_counts c;
        size_t running;
        if (it->listener == NULL) {
            continue;
        }
        connrt_listener_counts_now(it->listener, &c, &running);
        const char *id = label_value(it->process->id, process, sizeof(process));
        const size_t by_outcome[] = {c.success, c.application_errors, c.failures};
        if (family == 0) {
            for (size_t k = 0; k < 3; k++) {
                connrt_page_printf(page,
                                   "connrt_documents_total{process=\"%s\",outcome=\"%s\"} %zu\n",
                                   id, outcomes[k], by_outcome[k]);
            }
        } else if (family == 1) {
            connrt_page_printf(page,
                               "connrt_executions_total{process=\"%s\",outcome=\"succeeded\"} %zu\n"
                               "connrt_executions_total{process=\"%s\",outcome=\"failed\"} %zu\n",
                               id, c.executions - c.failed_executions, id, c.failed_executions);
        } else {
            connrt_page_printf(page, "connrt_executions_running{process=\"%s\"} %zu\n", id,
                               running);
        }
    }
}

static void metrics_page(void *opaque, connrt_page_t *page)
{
    static const char *const headers[] = {
        "# HELP connrt_documents_total Documents of served executions by outcome.\n"
        "# TYPE connrt_documents_total counter\n",
        "# HELP connrt_executions_total Executions by outcome (failed ones are retried).\n"
        "# TYPE connrt_executions_total counter\n",
        "# HELP connrt_executions_running Executions running now.\n"
        "# TYPE connrt_executions_running gauge\n",
    };
    struct server *s = opaque;
    struct sample_set set = {0};
    pthread_mutex_lock(&s->lock);
    for (int family = 0; family < 3; family++) {
        connrt_page_printf(page, "%s", headers[family]);
        listener_family(s, page, family);
    }
    for (size_t i = 0; i < s->count; i++) {
        if (s->items[i].listener != NULL) {
            operation_samples(&s->items[i], &set);
        }
    }
    pthread_mutex_unlock(&s->lock);
    print_samples(&set, page);
}

/* /health and /metrics on the container's metrics.port: started with the
 * server, and at a reload moved (or turned on or off) when the port
 * changed; an unchanged one keeps serving throughout. */
static void metrics_apply(struct server *s)
{
    char errstr[256];
    long long port = container_int(s->current->container, METRICS_PORT_PROPERTY, CONNRT_PROP_INT, 0);
    struct connrt_metrics_pages pages = {health_page, metrics_page, s};
    if (port == s->metrics_port && (port <= 0 || s->http != NULL)) {
        return;
    }
    if (s->http != NULL) {
        connrt_metrics_http_stop(s->http);
        s->http = NULL;
        if (port <= 0) {
            fprintf(stderr, "connrt serve: /health and /metrics turned off\n");
        }
    }
    s->metrics_port = 0;
    if (port <= 0) {
        return;
    }
    s->http = connrt_metrics_http_start((unsigned)port, &pages, errstr, sizeof(errstr));
    if (s->http == NULL) {
        fprintf(stderr, "connrt serve: metrics: %s\n", errstr);
        return;
    }
    s->metrics_port = port;
    fprintf(stderr, "connrt serve: /health and /metrics on http://127.0.0.1:%lld\n", port);
}

/* ----------------------------------------------------------------- shutdown */

struct watchdog {
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    int done;
    long long timeout_ms;
};

/* A drain (shutdown or reload) stuck on a hung execution still ends: what
 * it did not commit is read again by the next member. */
static void *watchdog_main(void *arg)
{
    struct watchdog *w = arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(w->timeout_ms / 1000);
    until.tv_nsec += (long)(w->timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->lock);
    while (!w->done) {
        if (pthread_cond_timedwait(&w->done_cond, &w->lock, &until) == ETIMEDOUT) {
            fprintf(stderr, "connrt serve: a drain did not finish within %s=%lld ms: exiting "
                    "(uncommitted messages are read again)\n", SHUTDOWN_PROPERTY, w->timeout_ms);
            _exit(CONNRT_EXIT_FAILURE);
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static int watchdog_start(struct watchdog *w, pthread_t *thread, connrt_container_t *c)
{
    memset(w, 0, sizeof(*w));
    w->timeout_ms = container_int(c, SHUTDOWN_PROPERTY, CONNRT_PROP_DURATION_MS,
                                  SHUTDOWN_DEFAULT_MS);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->done_cond, NULL);
    return pthread_create(thread, NULL, watchdog_main, w) == 0;
}

static void watchdog_stop(struct watchdog *w, pthread_t thread, int watching)
{
    if (watching) {
        pthread_mutex_lock(&w->lock);
        w->done = 1;
        pthread_cond_signal(&w->done_cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(thread, NULL);
    }
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->done_cond);
}

/* Drain the marked listeners within shutdown.timeout.ms. */
static void drain_marked(struct server *s, const unsigned char *stop)
{
    struct watchdog w;
    pthread_t thread;
    int watching = watchdog_start(&w, &thread, s->current->container);
    stop_marked(s, stop);
    forget_marked(s, stop);
    watchdog_stop(&w, thread, watching);
}

/* ------------------------------------------------------------------- reload */

static void reload(struct server *s)
{
    fprintf(stderr, "connrt serve: SIGHUP: reloading %s\n", s->dir);
    struct generation *gen = generation_load(s->dir, "reload refused, still running the old set");
    if (gen == NULL) {
        return;
    }
    unsigned char *stop = calloc(s->count ? s->count : 1, 1);
    if (stop == NULL) {
        fprintf(stderr, "connrt serve: reload: out of memory\n");
        connrt_container_destroy(gen->container);
        connrt_definitions_destroy(gen->defs);
        free(gen);
        return;
    }
    size_t kept = 0;
    for (size_t i = 0; i < s->count; i++) {
        const struct connrt_def_component *p = connrt_definitions_find(gen->defs,
                                                                      s->items[i].process->id);
        char *fp = p && p->kind == CONNRT_COMPONENT_PROCESS ? fingerprint(gen, p) : NULL;
        stop[i] = fp == NULL || strcmp(fp, s->items[i].fingerprint) != 0;
        kept += stop[i] ? 0 : 1;
        free(fp);
    }
    pthread_mutex_lock(&s->lock);
    struct generation *old = s->current;
    s->current = gen;
    /* Held through the drain: when its last listener stops, the drain
     * would free it, and the release below would free it again. */
    old->listeners++;
    pthread_mutex_unlock(&s->lock);
    connrt_container_log_setup(gen->container);
    metrics_apply(s);
    connrt_slots_set_limit(s->slots, (size_t)container_int(gen->container, WORKERS_PROPERTY, CONNRT_PROP_INT,
                                                           CONNRT_LISTENER_DEFAULT_WORKERS));
    drain_marked(s, stop);
    pthread_mutex_lock(&s->lock);
    old->listeners--;
    generation_release(s, old);
    pthread_mutex_unlock(&s->lock);
    size_t before = s->count;
    size_t failed = start_new(s, gen);
    fprintf(stderr, "connrt serve: reloaded: %zu listener(s) unchanged, %zu started, %zu failed "
            "to start\n", kept, s->count - before, failed);
    free(stop);
}

static void shutdown_all(struct server *s)
{
    pthread_mutex_lock(&s->lock);
    s->draining = 1; /* /health answers 503 from now on */
    pthread_mutex_unlock(&s->lock);
    unsigned char *stop = calloc(s->count ? s->count : 1, 1);
    if (stop != NULL) {
        memset(stop, 1, s->count);
        drain_marked(s, stop);
    }
    free(stop);
}

/* ---------------------------------------------------------------------- run */

int connrt_cmd_serve(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            printf(SERVE_USAGE);
            return CONNRT_EXIT_OK;
        }
        fprintf(stderr, "connrt serve: one container directory expected\n" SERVE_USAGE);
        return CONNRT_EXIT_USAGE;
    }
    sigset_t signals;
    int sig = 0;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    /* Before any thread starts, so that only sigwait below receives them. */
    pthread_sigmask(SIG_BLOCK, &signals, NULL);

    struct server s = {.dir = argv[1]};
    s.current = generation_load(s.dir, "not started");
    if (s.current == NULL) {
        return CONNRT_EXIT_USAGE;
    }
    connrt_container_log_setup(s.current->container);
    pthread_mutex_init(&s.lock, NULL);
    metrics_apply(&s);
    s.slots = connrt_slots_new((size_t)container_int(s.current->container, WORKERS_PROPERTY, CONNRT_PROP_INT,
                                                     CONNRT_LISTENER_DEFAULT_WORKERS));
    size_t failed = s.slots ? start_new(&s, s.current) : 1;
    int status = CONNRT_EXIT_OK;
    if (failed > 0 || s.count == 0) {
        fprintf(stderr, "connrt serve: %s\n",
                failed > 0 ? "not every listener could start: stopping"
                           : "deploy/ holds no listen process: nothing to serve");
        status = failed > 0 ? CONNRT_EXIT_FAILURE : CONNRT_EXIT_USAGE;
    } else {
        fprintf(stderr, "connrt serve: serving %zu listener(s) from %s (pid %ld); SIGTERM or "
                "SIGINT drains and stops, SIGHUP reloads\n", s.count, s.dir, (long)getpid());
        while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
            reload(&s);
        }
        fprintf(stderr, "connrt serve: %s received, draining\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    shutdown_all(&s);
    if (s.slots != NULL && status == CONNRT_EXIT_OK) {
        fprintf(stderr, "connrt serve: stopped; at most %zu executions ran at once\n",
                connrt_slots_max_taken(s.slots));
    }
    connrt_metrics_http_stop(s.http);
    pthread_mutex_lock(&s.lock);
    struct generation *last = s.current;
    s.current = NULL;
    generation_release(&s, last);
    pthread_mutex_unlock(&s.lock);
    pthread_mutex_destroy(&s.lock);
    connrt_slots_destroy(s.slots);
    free(s.items);
    return status;
}
