/*
 * test_alloc_failures.c - allocation-failure runs (curl's torture tests):
 * each scenario is run once with no failure (the reference), then again and
 * again, failing allocation 1, 2, 3, ... in turn, until a run completes
 * without reaching the armed allocation. Only the armed allocation fails;
 * the ones after it succeed again. Every run must end in one of two ways,
 * never in a crash:
 *
 *  - recovered: exactly the reference result and messages (a path that can
 *    do without the memory: libxml2 doing without a dictionary, a topic
 *    handle cache, an execution history that cannot open and says so);
 *  - a clean error: the operation says it failed (diagnostics, an error
 *    string, an execution's non-zero status and new report lines) with a
 *    message that says "memory", and whatever it did still is right: with
 *    status 0 or 1 every document is in the output, and every document that
 *    entered has one outcome. Definitions with problems must still report
 *    problems (a message that could not be recorded must not make them
 *    valid).
 *
 * After every run, every block allocated during it must have been freed
 * (alloc_hook_live), so leaks show without ASan too; in the sanitizer build
 * the same runs also check memory errors, and LSan checks at exit (of this
 * process and of each child) what the hook does not count.
 *
 * The hook (alloc_hook.c) wraps malloc, calloc, realloc, reallocarray,
 * strdup, strndup, asprintf, vasprintf and free for the runtime, properties
 * and Kafka connector objects linked into this program (ld --wrap, see
 * Makefile.am), libxml2 through xmlMemSetup, and jansson through the
 * runtime's own malloc (connrt_json_memory_setup, as main() does).
 * Allocations made inside librdkafka, SQLite, libc, OpenSSL, libcurl and
 * avro-c are not counted, nor those inside libxml2's XSD validator (it is
 * not safe then; alloc_hook.c says why).
 *
 * Scenarios (on a container directory made by the test):
 *  container       connrt_container_open (container.properties, logging)
 *                  and the validation of container.properties;
 *  definitions     the same plus connrt_deployment_load of deploy/ (three
 *                  XML files: a connection, operations with ${env:},
 *                  processes with set-properties of every source and
 *                  <on-error>) with validation; the model is compared;
 *  bad-definitions definitions with one problem of each stage;
 *  settings        connrt_settings_resolve of the Kafka connection, produce
 *                  and consume tables (container -> component -> default,
 *                  PREFIX rows, secrets, the max.poll.records rule);
 *  connection      opening the Kafka connection (its own embedded cluster,
 *                  topics, client configuration);
 *  produce         a whole `connrt run` of a produce process (container,
 *                  deployment, engine, producer, on-error, output, history)
 *                  over 3 documents, one to a topic that does not exist. The
 *                  test holds the embedded cluster meanwhile, so runs share
 *                  it (librdkafka 2.0.2 takes about a second to stop one);
 *  consume         a consume execution (2 messages, autocommit, output,
 *                  history) after an unarmed produce on a fresh container.
 *
 * connection and consume mostly wait (a cluster stopping, the embedded
 * cluster's ~3 s group join), so their points run in child processes,
 * ALLOC_JOBS (default 16) at a time, each in its own container directory.
 * All points of every scenario are run; none is sampled.
 *
 * Debugging: ALLOC_SCENARIO=NAME runs one scenario; ALLOC_FAIL_AT=N only
 * point N (in this process) and prints its result; ALLOC_FROM=N starts
 * there; ALLOC_KEEP_GOING=1 reports every wrong point, not only the first;
 * ALLOC_VERBOSE=1 names each point; ALLOC_BACKTRACE=1 prints where the
 * failing allocation is made, ALLOC_SHOW=N where allocation N is made;
 * KEEP_TMP=1 keeps the directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <connrt/connector.h>

#include "alloc_hook.h"
#include "connector-kafka/embedded_cluster.h"
#include "properties/java_properties.h"
#include "properties/settings.h"
#include "runtime/commands.h"
#include "runtime/container.h"
#include "runtime/definitions.h"
#include "runtime/deployment.h"
#include "runtime/diagnostics.h"
#include "runtime/engine.h"
#include "runtime/host.h"
#include "runtime/json_memory.h"
#include "runtime/plugin_loader.h"
#include "runtime/validate.h"

/* More than any scenario needs; a run that never completes fails here. */
#define MAX_POINTS 100000
#define TEXT_SIZE (64 * 1024)

/* In a child process (forked scenarios): a failed check must end the child,
 * never jump back into cmocka's runner there. */
static int in_child;

#define CHILD_WRONG 3

#define REQUIRE(cond)                                                                          \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            if (in_child) {                                                                    \
                fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
                _exit(CHILD_WRONG);                                                            \
            }                                                                                  \
            fail_msg("check failed: %s", #cond);                                               \
        }                                                                                      \
    } while (0)

static char dir[128];    /* the container */
static char input[256];  /* its documents */
static char output[256]; /* written by the executions */
static char bad_dir[sizeof(dir) + 8]; /* a container whose definitions have problems */

/* ------------------------------------------------------------- the fixture */

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

static const char container_properties[] =
    "# Allocation-failure test container\n"
    "log.level = error\n"
    "execution.max.documents.in.flight = 2\n"
    "history.documents = all\n"
    "connector.kafka.max.poll.records = 2\n"
    "connector.kafka.max.request.size = 1MB\n";

static const char connections_xml[] =
    "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
    "  <connection id=\"kafka-1\" connector=\"kafka\">\n"
    "    <property name=\"bootstrap_servers\">embedded</property>\n"
    "    <property name=\"embedded_topics\">orders:1</property>\n"
    "    <property name=\"client_id\">${env:ALLOC_TEST_CLIENT}</property>\n"
    "    <property name=\"librdkafka.socket.keepalive.enable\">true</property>\n"
    "  </connection>\n"
    "</connrt>\n";

static const char operations_xml[] =
    "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
    "  <operation id=\"send-orders\" connection=\"kafka-1\" type=\"produce\">\n"
    "    <property name=\"topic\">${env:ALLOC_TEST_TOPIC}</property>\n"
    "    <property name=\"header.source\">alloc-test</property>\n"
    "    <property name=\"linger_ms\">1</property>\n"
    "  </operation>\n"
    "  <operation id=\"read-orders\" connection=\"kafka-1\" type=\"consume\">\n"
    "    <property name=\"topic\">orders</property>\n"
    "    <property name=\"consumer_group\">alloc-test</property>\n"
    "    <property name=\"min_messages\">2</property>\n"
    "    <property name=\"max_wait_ms\">20000</property>\n"
    "    <property name=\"autocommit\">true</property>\n"
    "  </operation>\n"
    "</connrt>\n";

static const char processes_xml[] =
    "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
    "  <process id=\"orders-to-kafka\">\n"
    "    <start/>\n"
    "    <set-properties>\n"
    "      <property name=\"connector.kafka.key\" json-pointer=\"/customer\"/>\n"
    "      <property name=\"order.lines\" json-pointer=\"/lines\"/>\n"
    "      <property name=\"connector.kafka.header.channel\" value=\"web\"/>\n"
    "      <property name=\"copy\" from-property=\"p\"/>\n"
    "    </set-properties>\n"
    "    <connector operation=\"send-orders\"/>\n"
    "    <output/>\n"
    "    <on-error>\n"
    "      <set-properties>\n"
    "        <property name=\"why\" from-property=\"connrt.error\"/>\n"
    "      </set-properties>\n"
    "      <output/>\n"
    "    </on-error>\n"
    "  </process>\n"
    "  <process id=\"orders-from-kafka\">\n"
    "    <start operation=\"read-orders\"/>\n"
    "    <set-properties>\n"
    "      <property name=\"seen.offset\" from-property=\"kafka.offset\"/>\n"
    "    </set-properties>\n"
    "    <output/>\n"
    "  </process>\n"
    "  <process id=\"files\">\n"
    "    <start/>\n"
    "    <set-properties>\n"
    "      <property name=\"name\" file-name=\"\"/>\n"
    "    </set-properties>\n"
    "    <output/>\n"
    "  </process>\n"
    "</connrt>\n";

/* One problem of each stage: the schema, ${env:}, the property tables,
 * references between components. */
static const char bad_xml[] =
    "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
    "  <connection id=\"k\" connector=\"kafka\">\n"
    "    <property name=\"bootstrap_servers\">embedded</property>\n"
    "    <property name=\"bootstrap.servers\">x:9092</property>\n"
    "  </connection>\n"
    "  <operation id=\"send\" connection=\"k\" type=\"produce\">\n"
    "    <property name=\"topic\">${env:ALLOC_TEST_UNSET}</property>\n"
    "  </operation>\n"
    "  <process id=\"p\">\n"
    "    <start/>\n"
    "    <connector operation=\"nope\"/>\n"
    "    <output bogus=\"1\"/>\n"
    "  </process>\n"
    "</connrt>\n";

/* The second document goes to a topic that does not exist: an application
 * error, taken by <on-error>. */
static const char input_jsonl[] =
    "{\"value\":{\"customer\":\"c-1\",\"lines\":[{\"sku\":\"a\",\"qty\":1}]},"
    "\"properties\":{\"p\":\"one\"}}\n"
    "{\"value\":{\"customer\":\"c-2\",\"lines\":[]},"
    "\"properties\":{\"p\":\"two\",\"connector.kafka.topic\":\"no-such-topic\"}}\n"
    "{\"value\":{\"customer\":\"c-3\",\"lines\":[{\"sku\":\"b\",\"qty\":3}]},"
    "\"properties\":{\"p\":\"three\"}}\n";

static int group_setup(void **state)
{
    char path[256];
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_alloc_XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(path, sizeof(path), "%s/deploy", dir);
    if (mkdir(path, 0700) != 0) {
        return -1;
    }
    /* An empty connector path: only the Kafka connector linked in here. */
    snprintf(path, sizeof(path), "%s/connectors", dir);
    if (mkdir(path, 0700) != 0 || setenv("CONNRT_CONNECTOR_PATH", path, 1) != 0) {
        return -1;
    }
    setenv("ALLOC_TEST_CLIENT", "alloc-client", 1);
    setenv("ALLOC_TEST_TOPIC", "orders", 1);
    unsetenv("ALLOC_TEST_UNSET");
    write_file("container.properties", container_properties);
    write_file("deploy/a-connections.xml", connections_xml);
    write_file("deploy/b-operations.xml", operations_xml);
    write_file("deploy/c-processes.xml", processes_xml);
    write_file("input.jsonl", input_jsonl);
    snprintf(bad_dir, sizeof(bad_dir), "%s/bad", dir);
    snprintf(path, sizeof(path), "%s/deploy", bad_dir);
    if (mkdir(bad_dir, 0700) != 0 || mkdir(path, 0700) != 0) {
        return -1;
    }
    write_file("bad/deploy/problems.xml", bad_xml);
    snprintf(input, sizeof(input), "%s/input.jsonl", dir);
    snprintf(output, sizeof(output), "%s/output.jsonl", dir);
    /* As main() does: jansson allocates through malloc(), so the hook
     * counts its allocations. */
    connrt_json_memory_setup();
    alloc_hook_install();
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[sizeof(dir) + 16];
    (void)state;
    if (getenv("KEEP_TMP") != NULL) {
        fprintf(stderr, "kept %s\n", dir);
        return 0;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ result text */

/* A run's result, built in static storage: the test itself must not
 * allocate while allocations are armed. */
struct result {
    int error;              /* the operation said it failed */
    char text[TEXT_SIZE];   /* what it produced (compared with the reference) */
    char why[TEXT_SIZE];    /* its messages when it failed */
    char report[TEXT_SIZE]; /* an execution's report, without timings */
};

static void append(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append(char *buf, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, TEXT_SIZE - used, fmt, ap);
    va_end(ap);
}

static const char *str(const char *s)
{
    return s != NULL ? s : "(null)";
}

static void diag_text(const connrt_diagnostics_t *diag, char *buf)
{
    for (size_t i = 0; i < connrt_diag_count(diag); i++) {
        append(buf, "%s\n", str(connrt_diag_message(diag, i)));
    }
}

static void props_text(const connrt_jprops_t *props, char *buf)
{
    append(buf, "container properties %s:\n", str(connrt_jprops_filename(props)));
    for (size_t i = 0; i < connrt_jprops_count(props); i++) {
        const char *key, *value;
        int line;
        connrt_jprops_at(props, i, &key, &value, &line);
        append(buf, "  %d: %s = %s\n", line, str(key), str(value));
    }
}

static void steps_text(const struct connrt_def_step *steps, size_t n, char *buf)
{
    for (size_t i = 0; i < n; i++) {
        const struct connrt_def_step *s = &steps[i];
        append(buf, "  step %d %s %s:%d\n", (int)s->kind, str(s->operation), str(s->file),
               s->line);
        for (size_t k = 0; k < s->nassignments; k++) {
            const struct connrt_def_assignment *a = &s->assignments[k];
            append(buf, "    %s <- %d '%s' %s:%d\n", str(a->name), (int)a->source,
                   str(a->argument), str(a->file), a->line);
        }
    }
}

static void defs_text(const connrt_definitions_t *defs, char *buf)
{
    for (size_t i = 0; i < connrt_definitions_file_count(defs); i++) {
        append(buf, "file %s\n", str(connrt_definitions_file_at(defs, i)));
    }
    for (size_t i = 0; i < connrt_definitions_count(defs); i++) {
        const struct connrt_def_component *c = connrt_definitions_at(defs, i);
        append(buf, "component %d %s connector=%s connection=%s type=%s %s:%d on-error=%d\n",
               (int)c->kind, str(c->id), str(c->connector), str(c->connection), str(c->type),
               str(c->file), c->line, c->has_on_error);
        for (size_t k = 0; k < c->nproperties; k++) {
            const struct connrt_def_property *p = &c->properties[k];
            append(buf, "  %s = '%s' %s:%d\n", str(p->name), str(p->value), str(p->file),
                   p->line);
        }
        steps_text(c->steps, c->nsteps, buf);
        append(buf, " on-error:\n");
        steps_text(c->error_steps, c->nerror_steps, buf);
    }
}

static void settings_text(const connrt_settings_t *s, char *buf)
{
    for (size_t i = 0; i < connrt_settings_size(s); i++) {
        const char *name, *value;
        connrt_settings_entry(s, i, &name, &value);
        append(buf, "  %s = %s%s\n", str(name), str(value),
               connrt_settings_is_secret(s, name) ? " (secret)" : "");
    }
}

/* --------------------------------------------------------------- scenarios */

/* The container in `cdir`; NULL after putting why into r->why. */
static connrt_container_t *open_container(const char *cdir, connrt_diagnostics_t *diag,
                                          struct result *r)
{
    char errstr[512] = "";
    connrt_container_t *c = connrt_container_open(cdir, diag);
    if (c == NULL) {
        r->error = 1;
        append(r->why, "connrt_container_open: NULL (out of memory)\n");
        return NULL;
    }
    if (connrt_registry_add_static(connrt_container_registry(c), connrt_connector_entry(),
                                   "kafka (linked in)", errstr, sizeof(errstr)) != 0) {
        r->error = 1;
        append(r->why, "add_static: %s\n", errstr);
        connrt_container_destroy(c);
        return NULL;
    }
    return c;
}

static void run_container(struct result *r)
{
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    if (diag == NULL) {
        r->error = 1;
        append(r->why, "connrt_diagnostics_new: NULL (out of memory)\n");
        return;
    }
    connrt_container_t *c = open_container(dir, diag, r);
    if (c != NULL) {
        connrt_validate_container_properties(connrt_container_properties(c),
                                             connrt_container_registry(c), diag);
        props_text(connrt_container_properties(c), r->text);
    }
    if (connrt_diag_count(diag) > 0) {
        r->error = 1;
        diag_text(diag, r->why);
    }
    connrt_container_destroy(c);
    connrt_diagnostics_destroy(diag);
}

/* Container and deployment of `cdir` into r: the model, or the problems. */
static void load_definitions(const char *cdir, struct result *r)
{
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    if (diag == NULL) {
        r->error = 1;
        append(r->why, "connrt_diagnostics_new: NULL (out of memory)\n");
        return;
    }
    connrt_container_t *c = open_container(cdir, diag, r);
    connrt_definitions_t *defs = c ? connrt_deployment_load(NULL, 0, c, diag) : NULL;
    if (c != NULL && defs == NULL) {
        r->error = 1;
        append(r->why, "connrt_deployment_load: NULL (out of memory)\n");
    }
    if (defs != NULL) {
        props_text(connrt_container_properties(c), r->text);
        defs_text(defs, r->text);
    }
    if (connrt_diag_count(diag) > 0) {
        r->error = 1;
        diag_text(diag, r->why);
    }
    connrt_container_destroy(c);
    connrt_definitions_destroy(defs);
    connrt_diagnostics_destroy(diag);
}

static void run_definitions(struct result *r)
{
    load_definitions(dir, r);
}

static void run_bad_definitions(struct result *r)
{
    load_definitions(bad_dir, r);
}

static const char settings_container[] = "connector.kafka.max.poll.records = 4\n"
                                         "connector.kafka.max.request.size = 2MB\n"
                                         "log.level = info\n";

static void resolve_one(const char *what, const struct connrt_property_def *table,
                        const struct connrt_setting_value *values, size_t n,
                        const connrt_jprops_t *container, struct result *r)
{
    char errstr[512] = "";
    const struct connrt_connector *kafka = connrt_connector_entry();
    connrt_settings_t *s = connrt_settings_resolve(table, values, n, kafka->container_properties,
                                                   container, "connector.kafka.", errstr,
                                                   sizeof(errstr));
    if (s == NULL) {
        r->error = 1;
        append(r->why, "%s: %s\n", what, errstr);
        return;
    }
    append(r->text, "%s:\n", what);
    settings_text(s, r->text);
    connrt_settings_destroy(s);
}

static void run_settings(struct result *r)
{
    static const struct connrt_setting_value connection[] = {
        {"bootstrap_servers", "127.0.0.1:9092"}, {"client_id", "c"},
        {"security_protocol", "SASL_PLAINTEXT"}, {"sasl_mechanism", "PLAIN"},
        {"username", "user"},                    {"password", "pw-secret"},
        {"librdkafka.socket.keepalive.enable", "true"},
        {"librdkafka.reconnect.backoff.ms", "50"},
    };
    static const struct connrt_setting_value produce[] = {
        {"topic", "orders"}, {"compression", "lz4"}, {"header.a", "1"}, {"header.b", "2"},
    };
    static const struct connrt_setting_value consume[] = {
        {"topic", "orders,audit"}, {"consumer_group", "g"}, {"min_messages", "5"},
    };
    const struct connrt_connector *kafka = connrt_connector_entry();
    char errstr[512] = "";
    connrt_jprops_t *container =
        connrt_jprops_parse(settings_container, strlen(settings_container),
                            "container.properties", errstr, sizeof(errstr));
    if (container == NULL) {
        r->error = 1;
        append(r->why, "connrt_jprops_parse: %s\n", errstr);
        return;
    }
    resolve_one("connection", kafka->connection_properties, connection,
                sizeof(connection) / sizeof(connection[0]), NULL, r);
    for (const struct connrt_operation *o = kafka->operations; o->type != NULL; o++) {
        if (strcmp(o->type, "produce") == 0) {
            resolve_one("produce", o->properties, produce, sizeof(produce) / sizeof(produce[0]),
                        container, r);
        } else if (strcmp(o->type, "consume") == 0) {
            resolve_one("consume", o->properties, consume, sizeof(consume) / sizeof(consume[0]),
                        container, r);
        }
    }
    connrt_jprops_destroy(container);
}

/* An execution: its status, and what it wrote to the report. */
struct execution {
    int status;
    struct connrt_engine_counts counts;
    char report[TEXT_SIZE];
};

static void read_report(FILE *report, char *buf)
{
    size_t n = (size_t)ftell(report);
    rewind(report);
    if (n >= TEXT_SIZE) {
        n = TEXT_SIZE - 1;
    }
    buf[fread(buf, 1, n, report)] = '\0';
}

/* Run `process` of a deployment in `c`. */
static void execute(connrt_container_t *c, const connrt_definitions_t *defs,
                    const char *process, const char *in, struct execution *x)
{
    FILE *report = tmpfile();
    REQUIRE(report != NULL);
    struct connrt_engine_options opts = {
        .input = in, .input_format = CONNRT_INPUT_JSONL, .output = output, .report = report};
    x->status = connrt_engine_run(c, defs, connrt_definitions_find(defs, process), &opts,
                                  &x->counts);
    read_report(report, x->report);
    fclose(report);
}

/* Container and deployment of an execution; NULL after putting why into r. */
static connrt_definitions_t *deploy(connrt_container_t **c, struct result *r)
{
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    connrt_definitions_t *defs = NULL;
    *c = diag ? open_container(dir, diag, r) : NULL;
    if (diag == NULL) {
        r->error = 1;
        append(r->why, "connrt_diagnostics_new: NULL (out of memory)\n");
    } else if (*c != NULL) {
        defs = connrt_deployment_load(NULL, 0, *c, diag);
        if (defs == NULL || connrt_diag_count(diag) > 0) {
            r->error = 1;
            append(r->why, "deployment:%s\n", defs ? "" : " NULL (out of memory)");
            diag_text(diag, r->why);
            connrt_container_destroy(*c);
            *c = NULL;
            connrt_definitions_destroy(defs);
            defs = NULL;
        }
    }
    connrt_diagnostics_destroy(diag);
    return defs;
}

static struct execution run_x;

static void run_produce(struct result *r)
{
    connrt_container_t *c;
    connrt_definitions_t *defs = deploy(&c, r);
    if (defs == NULL) {
        return;
    }
    execute(c, defs, "orders-to-kafka", input, &run_x);
    connrt_container_destroy(c);
    connrt_definitions_destroy(defs);
}

/* A container and deployment made unarmed by a scenario's prepare; its run
 * destroys them. */
static connrt_container_t *prepared_container;
static connrt_definitions_t *prepared_defs;

static void deploy_prepare(void)
{
    struct result *r = calloc(1, sizeof(*r));
    REQUIRE(r != NULL);
    prepared_defs = deploy(&prepared_container, r);
    if (prepared_defs == NULL) {
        fprintf(stderr, "deployment failed with no failure injected: %s", r->why);
    }
    free(r);
    REQUIRE(prepared_defs != NULL);
}

static void prepared_destroy(void)
{
    connrt_container_destroy(prepared_container);
    connrt_definitions_destroy(prepared_defs);
    prepared_container = NULL;
    prepared_defs = NULL;
}

/* Opening the Kafka connection: its own embedded cluster, topics, client
 * configuration. */
static void run_connection(struct result *r)
{
    char errstr[1024] = "";
    const struct connrt_connector *connector;
    void *handle;
    if (connrt_container_connection(prepared_container, prepared_defs, "kafka-1", &connector,
                                    &handle, errstr, sizeof(errstr)) != 0) {
        r->error = 1;
        append(r->why, "%s\n", errstr);
    } else {
        append(r->text, "connection kafka-1 of connector %s opened\n", connector->name);
    }
    prepared_destroy();
}

/* The messages to consume, produced unarmed. */
static void consume_prepare(void)
{
    deploy_prepare();
    execute(prepared_container, prepared_defs, "orders-to-kafka", input, &run_x);
    REQUIRE(run_x.status == CONNRT_EXIT_APPLICATION_ERRORS);
    REQUIRE(run_x.counts.success == 2);
}

static void run_consume(struct result *r)
{
    (void)r;
    execute(prepared_container, prepared_defs, "orders-from-kafka", NULL, &run_x);
    prepared_destroy();
}

/* ------------------------------------------------------- execution checks */

/* Offsets grow from run to run on a cluster that outlives the runs. */
static int scrub_offsets;

/* The output as text: one line per document, without what changes from run
 * to run (timestamps). Unarmed. */
static void output_text(char *buf)
{
    char line[8192];
    FILE *fp = fopen(output, "rb");
    if (fp == NULL) {
        append(buf, "no output file: %s\n", strerror(errno));
        return;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        if (o == NULL) {
            append(buf, "not JSON: %s", line);
            continue;
        }
        json_object_del(o, "timestamp");
        json_object_del(json_object_get(o, "tracked"), "kafka.timestamp");
        if (scrub_offsets) {
            json_object_del(o, "offset");
            json_object_del(json_object_get(o, "tracked"), "kafka.offset");
        }
        char *text = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
        append(buf, "%s\n", text ? text : "(json_dumps failed)");
        free(text);
        json_decref(o);
    }
    fclose(fp);
    remove(output);
}

/* The report without its timing. */
static void report_text(const char *report, char *buf)
{
    for (const char *p = report; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *paren = memchr(p, '(', len);
        /* "... 0 failures (0.01 s)" */
        if (strncmp(p, "connrt: process ", 16) == 0 && paren != NULL) {
            len = (size_t)(paren - p);
        }
        append(buf, "%.*s\n", (int)len, p);
        p += len;
        p = strchr(p, '\n');
        p = p ? p + 1 : report + strlen(report);
    }
}

/* Turn run_x into a result: text is status, output and report. */
static void execution_result(struct result *r)
{
    if (r->error) {
        return; /* did not get as far as running */
    }
    append(r->text, "status %d\n", run_x.status);
    output_text(r->text);
    report_text(run_x.report, r->report);
    append(r->text, "%s", r->report);
}

/* Each line of `text` that `reference` does not hold, into `out`. */
static void new_lines(const char *text, const char *reference, char *out)
{
    for (const char *p = text; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        char line[4096];
        snprintf(line, sizeof(line), "%.*s", (int)len, p);
        if (strstr(reference, line) == NULL) {
            append(out, "%s", line);
        }
        p += len;
    }
}

/* ----------------------------------------------------------------- driver */

struct scenario {
    const char *name;
    void (*prepare)(void); /* unarmed, before each run (may be NULL) */
    void (*run)(struct result *r);
    int execution;    /* r is filled from run_x afterwards */
    size_t documents; /* an execution's documents in the output */
    int expect_error; /* the reference run reports problems too */
    /* Hold the embedded cluster for the whole scenario: each connection
     * then shares it rather than starting its own (librdkafka 2.0.2 takes
     * a second to stop one, most times). */
    int hold_cluster;
    /* Run the points in child processes, ALLOC_JOBS at a time: for runs
     * that mostly wait (a group join, a cluster stopping). */
    int forked;
};

struct tally {
    unsigned long points;
    unsigned long recovered;
    unsigned long errors;
};

static struct result reference;
static struct result attempt;

/* Allocations counted during the last run. */
static unsigned long run_count;

static void run_scenario(const struct scenario *s, unsigned long fail_at, struct result *r)
{
    memset(r, 0, sizeof(*r));
    memset(&run_x, 0, sizeof(run_x));
    if (s->prepare != NULL) {
        s->prepare();
    }
    alloc_hook_arm(fail_at);
    s->run(r);
    alloc_hook_disarm();
    run_count = alloc_hook_count();
    /* libxml2 keeps the last error (its message, file name) until the
     * next one: its state, not a leak. */
    xmlResetLastError();
}

/* The blocks a run left allocated, as a message (empty: none). */
static int check_leaks(char *msg, size_t size)
{
    unsigned long serials[8];
    size_t live = alloc_hook_live(serials, 8);
    if (live == 0) {
        return 0;
    }
    int used = snprintf(msg, size, "%zu blocks not freed, allocated by allocations", live);
    for (size_t i = 0; i < live && i < 8 && used > 0 && (size_t)used < size; i++) {
        used += snprintf(msg + used, size - (size_t)used, " #%lu", serials[i]);
    }
    return 1;
}

static int same_as_reference(const struct result *r)
{
    return r->error == reference.error && strcmp(r->text, reference.text) == 0 &&
           strcmp(r->why, reference.why) == 0;
}

/* Judge one run against the reference. Returns NULL if it is right, else
 * why not (static). Counts it in *t. */
static const char *judge(const struct scenario *s, const struct result *r, struct tally *t)
{
    static char why[256];
    if (same_as_reference(r)) {
        if (getenv("ALLOC_VERBOSE") != NULL) {
            fprintf(stderr, "%s: recovered\n", s->name);
        }
        t->recovered++;
        return NULL;
    }
    if (!r->error) {
        fprintf(stderr, "--- reference result\n%s--- reference messages\n%s", reference.text,
                reference.why);
        return reference.error ? "the problems the reference reports were lost: none reported"
                               : "no error reported, yet the result differs from the reference";
    }
    if (strstr(r->why, "memory") == NULL) {
        return "the error does not say it is out of memory";
    }
    /* What an execution still did must be right: with status 0 or 1 (not
     * 3, "could not run") every document has its line. */
    if (s->execution && r->text[0] != '\0' &&
        (run_x.status == CONNRT_EXIT_OK || run_x.status == CONNRT_EXIT_APPLICATION_ERRORS)) {
        size_t docs = 0;
        for (const char *p = r->text; (p = strstr(p, "\"outcome\"")) != NULL; p++) {
            docs++;
        }
        if (docs != s->documents) {
            snprintf(why, sizeof(why), "status %d but %zu documents in the output", run_x.status,
                     docs);
            return why;
        }
    }
    if (s->execution && run_x.counts.documents != run_x.counts.success +
                                                     run_x.counts.application_errors +
                                                     run_x.counts.failures) {
        snprintf(why, sizeof(why), "%zu documents but %zu outcomes", run_x.counts.documents,
                 run_x.counts.success + run_x.counts.application_errors + run_x.counts.failures);
        return why;
    }
    t->errors++;
    return NULL;
}

static void print_run(const char *name, unsigned long n, const struct result *r)
{
    fprintf(stderr, "%s: allocation %lu failed: %s\n--- result\n%s--- messages\n%s", name, n,
            r->error ? "error" : "no error", r->text, r->why);
}

/* One point, in this process. Returns NULL or why it is wrong. */
static const char *one_point(const struct scenario *s, unsigned long n, struct tally *t,
                             int *reached)
{
    static char why[1024];
    if (getenv("ALLOC_VERBOSE") != NULL) {
        fprintf(stderr, "%s: failing allocation %lu\n", s->name, n);
    }
    run_scenario(s, n, &attempt);
    *reached = alloc_hook_failed();
    if (check_leaks(why, sizeof(why))) {
        return why;
    }
    if (s->execution) {
        execution_result(&attempt);
        /* An execution says it failed by its status and by what its report
         * holds that the reference's does not. */
        if (!attempt.error && strcmp(attempt.text, reference.text) != 0) {
            new_lines(attempt.report, reference.report, attempt.why);
            attempt.error = run_x.status != CONNRT_EXIT_OK && attempt.why[0] != '\0';
        }
    }
    if (!*reached) {
        return same_as_reference(&attempt)
                   ? NULL
                   : "with no failure injected the result differs from the reference";
    }
    return judge(s, &attempt, t);
}

static void make_reference(const struct scenario *s)
{
    char why[1024];
    /* A first run fills what a process keeps once made (the compiled XSD):
     * that is not a leak of the runs after it. */
    run_scenario(s, 0, &reference);
    if (s->execution) {
        execution_result(&reference);
    }
    run_scenario(s, 0, &reference);
    if (check_leaks(why, sizeof(why))) {
        fail_msg("%s: reference run: %s", s->name, why);
    }
    if (s->execution) {
        execution_result(&reference);
    }
    if (reference.error && !s->execution && !s->expect_error) {
        fail_msg("%s: reference run failed:\n%s", s->name, reference.why);
    }
    if (!reference.error && s->expect_error) {
        fail_msg("%s: reference run reports no problem:\n%s", s->name, reference.text);
    }
}

/* Exit statuses of a child that ran one point. */
enum { CHILD_ERROR_OK = 0, CHILD_RECOVERED = 1, CHILD_NOT_REACHED = 2 };

/* A child's own container directory (its history, logs and output),
 * sharing the definitions and container.properties. */
static void child_container(const struct scenario *s, unsigned long n)
{
    static const char *const shared[] = {"container.properties", "deploy", "connectors"};
    char child[sizeof(dir)], path[512], target[512];
    REQUIRE((size_t)snprintf(child, sizeof(child), "%s/%s-%lu", dir, s->name, n) <
            sizeof(child));
    REQUIRE(mkdir(child, 0700) == 0);
    for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
        snprintf(target, sizeof(target), "%s/%s", dir, shared[i]);
        snprintf(path, sizeof(path), "%s/%s", child, shared[i]);
        REQUIRE(symlink(target, path) == 0);
    }
    memcpy(dir, child, sizeof(dir));
    snprintf(output, sizeof(output), "%s/output.jsonl", dir);
}

static int child_point(const struct scenario *s, unsigned long n)
{
    struct tally t = {0};
    int reached;
    in_child = 1;
    child_container(s, n);
    const char *why = one_point(s, n, &t, &reached);
    if (why != NULL) {
        fprintf(stderr, "%s: allocation %lu: %s\n", s->name, n, why);
        print_run(s->name, n, &attempt);
        return CHILD_WRONG;
    }
    return !reached ? CHILD_NOT_REACHED : t.recovered ? CHILD_RECOVERED : CHILD_ERROR_OK;
}

/* Points n.. in parallel child processes, `jobs` at a time, until one is
 * not reached. Each child runs its own container (and embedded cluster). */
static void torture_forked(const struct scenario *s, struct tally *t, int jobs)
{
    int done = 0, wrong = 0;
    for (unsigned long base = 1; !done && base < MAX_POINTS; base += (unsigned long)jobs) {
        pid_t pids[256];
        fflush(NULL);
        for (int j = 0; j < jobs; j++) {
            pids[j] = fork();
            assert_true(pids[j] >= 0);
            if (pids[j] == 0) {
                exit(child_point(s, base + (unsigned long)j));
            }
        }
        for (int j = 0; j < jobs; j++) {
            int st;
            assert_int_equal(waitpid(pids[j], &st, 0), pids[j]);
            unsigned long n = base + (unsigned long)j;
            if (WIFSIGNALED(st)) {
                fprintf(stderr, "%s: allocation %lu: killed by signal %d\n", s->name, n,
                        WTERMSIG(st));
                wrong++;
            } else if (WEXITSTATUS(st) == CHILD_NOT_REACHED) {
                if (!done) {
                    t->points = n - 1;
                }
                done = 1;
            } else if (WEXITSTATUS(st) == CHILD_RECOVERED) {
                t->recovered++;
            } else if (WEXITSTATUS(st) == CHILD_ERROR_OK) {
                t->errors++;
            } else {
                fprintf(stderr, "%s: allocation %lu: wrong (exit %d)\n", s->name, n,
                        WEXITSTATUS(st));
                wrong++;
            }
        }
    }
    /* Points past the first one not reached were not reached either (a
     * thread's timing can move a few): they are not counted. */
    if (wrong > 0) {
        fail_msg("%s: %d runs went wrong (see above)", s->name, wrong);
    }
}

static void torture_points(const struct scenario *s);

static void torture(const struct scenario *s)
{
    const char *only = getenv("ALLOC_SCENARIO");
    if (only != NULL && strcmp(only, s->name) != 0) {
        skip();
    }
    if (s->hold_cluster) {
        char errstr[512];
        kafka_embedded_cluster_t *cluster;
        if (kafka_embedded_shared_acquire(NULL, NULL, &cluster, errstr, sizeof(errstr)) != 0) {
            fail_msg("embedded cluster: %s", errstr);
        }
        scrub_offsets = 1;
    }
    torture_points(s);
    if (s->hold_cluster) {
        kafka_embedded_shared_release();
        scrub_offsets = 0;
    }
}

static void torture_points(const struct scenario *s)
{
    const char *at = getenv("ALLOC_FAIL_AT");
    const char *jobs_env = getenv("ALLOC_JOBS");
    /* ALLOC_KEEP_GOING=1 reports every wrong run, not only the first. */
    unsigned long max_wrong = getenv("ALLOC_KEEP_GOING") ? MAX_POINTS : 1;
    struct tally t = {0};
    int reached = 1;
    make_reference(s);
    unsigned long reference_points = run_count;
    if (at != NULL) {
        unsigned long n = strtoul(at, NULL, 10);
        fprintf(stderr, "%s: reference run: %lu allocations\n", s->name, reference_points);
        const char *why = one_point(s, n, &t, &reached);
        print_run(s->name, n, &attempt);
        if (why != NULL) {
            fail_msg("%s: allocation %lu: %s", s->name, n, why);
        }
        return;
    }
    if (s->forked) {
        long jobs = jobs_env ? strtol(jobs_env, NULL, 10) : 16;
        torture_forked(s, &t, jobs < 1 ? 1 : jobs > 256 ? 256 : (int)jobs);
    } else {
        unsigned long n, wrong = 0;
        /* ALLOC_FROM=N starts at point N (debugging). */
        unsigned long from = getenv("ALLOC_FROM") ? strtoul(getenv("ALLOC_FROM"), NULL, 10) : 1;
        for (n = from; reached && n < MAX_POINTS; n++) {
            const char *why = one_point(s, n, &t, &reached);
            if (why != NULL) {
                print_run(s->name, n, &attempt);
                fprintf(stderr, "%s: allocation %lu: %s\n", s->name, n, why);
                if (++wrong >= max_wrong) {
                    break;
                }
            }
        }
        t.points = n - 2;
        if (wrong > 0) {
            fail_msg("%s: %lu runs went wrong (see above)", s->name, wrong);
        }
    }
    fprintf(stderr, "%s: %lu allocation points (reference run: %lu): %lu clean errors, "
            "%lu recovered with the reference result\n",
            s->name, t.points, reference_points, t.errors, t.recovered);
    assert_true(t.points > 0);
}

/* ------------------------------------------------------------------ tests */

static void container__each_allocation_fails__clean_error_or_same_result(void **state)
{
    static const struct scenario s = {.name = "container", .run = run_container};
    (void)state;
    torture(&s);
}

static void definitions__each_allocation_fails__clean_error_or_same_model(void **state)
{
    static const struct scenario s = {.name = "definitions", .run = run_definitions};
    (void)state;
    torture(&s);
}

static void bad_definitions__each_allocation_fails__problems_still_reported(void **state)
{
    static const struct scenario s = {
        .name = "bad-definitions", .run = run_bad_definitions, .expect_error = 1};
    (void)state;
    torture(&s);
}

static void settings__each_allocation_fails__clean_error_or_same_settings(void **state)
{
    static const struct scenario s = {.name = "settings", .run = run_settings};
    (void)state;
    torture(&s);
}

static void connection__each_allocation_fails__clean_error_or_opened(void **state)
{
    static const struct scenario s = {
        .name = "connection", .prepare = deploy_prepare, .run = run_connection, .forked = 1};
    (void)state;
    torture(&s);
}

static void produce__each_allocation_fails__clean_error_nothing_lost(void **state)
{
    static const struct scenario s = {.name = "produce",
                                      .run = run_produce,
                                      .execution = 1,
                                      .documents = 3,
                                      .hold_cluster = 1};
    (void)state;
    torture(&s);
}

static void consume__each_allocation_fails__clean_error_nothing_lost(void **state)
{
    static const struct scenario s = {.name = "consume",
                                      .prepare = consume_prepare,
                                      .run = run_consume,
                                      .execution = 1,
                                      .documents = 2,
                                      .forked = 1};
    (void)state;
    torture(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(container__each_allocation_fails__clean_error_or_same_result),
        cmocka_unit_test(definitions__each_allocation_fails__clean_error_or_same_model),
        cmocka_unit_test(bad_definitions__each_allocation_fails__problems_still_reported),
        cmocka_unit_test(settings__each_allocation_fails__clean_error_or_same_settings),
        cmocka_unit_test(connection__each_allocation_fails__clean_error_or_opened),
        cmocka_unit_test(produce__each_allocation_fails__clean_error_nothing_lost),
        cmocka_unit_test(consume__each_allocation_fails__clean_error_nothing_lost),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
