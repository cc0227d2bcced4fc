/*
 * test_engine.c - the process engine behind `connrt run`, driven with a fake
 * "echo" connector linked into the test and definitions from small XML
 * files. Checks what a user sees: output lines, stderr reports, counts and
 * exit statuses.
 *
 * The echo operation succeeds documents (tracking echo.seen=yes) except:
 * payload containing "bad"  -> application error "payload contains 'bad'";
 * payload containing "lost" -> no result at all (a broken connector);
 * payload containing "boom" -> the operation fails as a whole there.
 * The "source" operation (can_start) emits "s1", "s2" and an error record;
 * "many" emits many_count documents "doc N" ("boom" as document many_boom),
 * setting a tracked property on each right after emitting it, as Consume
 * does. "echo-split" is echo in two halves (ABI 1.5 execute_begin and
 * execute_end, as Produce): begin holds the batch ("boom" fails it there),
 * end gives the results.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/commands.h"
#include "runtime/container.h"
#include "runtime/definitions.h"
#include "runtime/diagnostics.h"
#include "runtime/engine.h"
#include "runtime/plugin_loader.h"

/* ------------------------------------------------------------ fake connector */

struct echo_ctx {
    const struct connrt_host *host;
};

static size_t echo_calls;
static size_t echo_max_batch;

static int echo_open(void *ctx, const struct connrt_host *host, void *connection,
                     const connrt_settings_t *settings, const char *component_id, char *errstr,
                     size_t errstr_size)
{
    (void)connection, (void)settings, (void)component_id, (void)errstr, (void)errstr_size;
    ((struct echo_ctx *)ctx)->host = host;
    return 0;
}

static void echo_close(void *ctx)
{
    (void)ctx;
}

static int echo_wants_tracked = -1; /* host->batch_wants_tracked of the last batch */

/* Echo's results for the inputs of `batch`; -1 at a "boom". */
static int echo_settle(const struct connrt_host *h, connrt_batch_t *batch, char *errstr,
                       size_t errstr_size)
{
    size_t n = h->batch_count(batch);
    for (size_t i = 0; i < n; i++) {
        connrt_document_t *doc = h->batch_input(batch, i);
        const char *payload = h->doc_payload(doc, NULL);
        if (strstr(payload, "boom") != NULL) {
            snprintf(errstr, errstr_size, "simulated outage");
            return -1;
        }
        if (strstr(payload, "lost") != NULL) {
            continue;
        }
        if (strstr(payload, "bad") != NULL) {
            h->batch_fail(batch, i, "payload contains 'bad'");
            continue;
        }
        h->doc_set_tracked(doc, "echo.seen", "yes");
        h->batch_succeed(batch, i);
    }
    return 0;
}

static void echo_count_call(const struct connrt_host *h, connrt_batch_t *batch)
{
    size_t n = h->batch_count(batch);
    echo_calls++;
    if (n > echo_max_batch) {
        echo_max_batch = n;
    }
    echo_wants_tracked = h->batch_wants_tracked(batch);
}

static int echo_execute(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    const struct connrt_host *h = ((struct echo_ctx *)ctx)->host;
    echo_count_call(h, batch);
    return echo_settle(h, batch, errstr, errstr_size);
}

/* Batches begun and not ended by echo-split. */
#define SPLIT_MAX 4
static connrt_batch_t *split_begun[SPLIT_MAX];
static size_t split_in_flight, split_max_in_flight;

static int split_begin(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    const struct connrt_host *h = ((struct echo_ctx *)ctx)->host;
    echo_count_call(h, batch);
    for (size_t i = 0; i < h->batch_count(batch); i++) {
        if (strstr(h->doc_payload(h->batch_input(batch, i), NULL), "boom") != NULL) {
            snprintf(errstr, errstr_size, "simulated outage at begin");
            return -1;
        }
    }
    assert_true(split_in_flight < SPLIT_MAX);
    split_begun[split_in_flight++] = batch;
    if (split_in_flight > split_max_in_flight) {
        split_max_in_flight = split_in_flight;
    }
    return 0;
}

static int split_end(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    const struct connrt_host *h = ((struct echo_ctx *)ctx)->host;
    size_t at = 0;
    while (at < split_in_flight && split_begun[at] != batch) {
        at++;
    }
    assert_true(at < split_in_flight); /* only a begun batch is ended, once */
    split_begun[at] = split_begun[--split_in_flight];
    return echo_settle(h, batch, errstr, errstr_size);
}

static int source_execute(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    (void)errstr, (void)errstr_size;
    const struct connrt_host *h = ((struct echo_ctx *)ctx)->host;
    connrt_document_t *d = h->batch_emit(batch, "s1", 2, NULL);
    h->doc_set_tracked(d, "kafka.offset", "10");
    h->batch_emit(batch, "s2", 2, NULL);
    h->batch_emit(batch, "\xff\xfe", 2, "malformed record");
    return 0;
}

static size_t many_count;
static size_t many_boom;
static int many_flush;        /* call batch_flush at the end, as Consume does */
static int many_flush_result; /* what it said */

static int many_execute(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    (void)errstr, (void)errstr_size;
    const struct connrt_host *h = ((struct echo_ctx *)ctx)->host;
    for (size_t i = 1; i <= many_count; i++) {
        char payload[32], seq[32];
        snprintf(payload, sizeof(payload), i == many_boom ? "boom %zu" : "doc %zu", i);
        snprintf(seq, sizeof(seq), "%zu", i);
        connrt_document_t *d = h->batch_emit(batch, payload, strlen(payload), NULL);
        if (d == NULL || h->doc_set_tracked(d, "kafka.offset", seq) != 0) {
            return -1;
        }
    }
    if (many_flush) {
        many_flush_result = h->batch_flush(batch);
    }
    return 0;
}

static const struct connrt_property_def no_properties[] = {
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL},
};

static const struct connrt_operation echo_operations[] = {
    {.type = "echo",
     .kind = CONNRT_OP_BATCH,
     .description = "Echo documents.",
     .properties = no_properties,
     .context_size = sizeof(struct echo_ctx),
     .open = echo_open,
     .execute = echo_execute,
     .close = echo_close},
    {.type = "echo-split",
     .kind = CONNRT_OP_BATCH,
     .description = "Echo documents, in two halves.",
     .properties = no_properties,
     .context_size = sizeof(struct echo_ctx),
     .open = echo_open,
     .execute = echo_execute,
     .close = echo_close,
     .execute_begin = split_begin,
     .execute_end = split_end},
    {.type = "source",
     .kind = CONNRT_OP_BATCH,
     .can_start = 1,
     .description = "Emit three documents.",
     .properties = no_properties,
     .context_size = sizeof(struct echo_ctx),
     .open = echo_open,
     .execute = source_execute,
     .close = echo_close},
    {.type = "many",
     .kind = CONNRT_OP_BATCH,
     .can_start = 1,
     .description = "Emit many documents.",
     .properties = no_properties,
     .context_size = sizeof(struct echo_ctx),
     .open = echo_open,
     .execute = many_execute,
     .close = echo_close},
    {.type = NULL},
};

static int echo_connection_open(const struct connrt_host *host, const connrt_settings_t *settings,
                                const char *component_id, const char *container_dir,
                                void **connection, char *errstr, size_t errstr_size)
{
    (void)host, (void)settings, (void)component_id, (void)container_dir, (void)errstr,
        (void)errstr_size;
    *connection = NULL;
    return 0;
}

static void echo_connection_close(void *connection)
{
    (void)connection;
}

static const struct connrt_connector echo_connector = {
    .abi_version = CONNRT_ABI_VERSION,
    .struct_size = sizeof(struct connrt_connector),
    .name = "echo",
    .version = "1.0",
    .description = "Test connector.",
    .connection_properties = no_properties,
    .operations = echo_operations,
    .connection_open = echo_connection_open,
    .connection_close = echo_connection_close,
};

/* ------------------------------------------------------------------ fixture */

static const char components_xml[] =
    "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
    "  <connection id=\"echo-conn\" connector=\"echo\"/>\n"
    "  <operation id=\"echo-op\" connection=\"echo-conn\" type=\"echo\"/>\n"
    "  <operation id=\"split-op\" connection=\"echo-conn\" type=\"echo-split\"/>\n"
    "  <operation id=\"src\" connection=\"echo-conn\" type=\"source\"/>\n"
    "  <operation id=\"many\" connection=\"echo-conn\" type=\"many\"/>\n"
    "</connrt>\n";

struct fixture {
    char dir[64];
    char input[128];
    char output[128];
    connrt_diagnostics_t *diag;
    connrt_container_t *container;
    connrt_definitions_t *defs;
    FILE *report;
    char *report_text;
    json_t **lines;
    size_t nlines;
    struct connrt_engine_counts counts;
};

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    fclose(fp);
}

static void load_xml(struct fixture *f, const char *name, const char *xml)
{
    char path[192];
    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    write_text(path, xml);
    connrt_definitions_load_file(f->defs, path, f->diag);
    for (size_t i = 0; i < connrt_diag_count(f->diag); i++) {
        print_error("%s\n", connrt_diag_message(f->diag, i));
    }
    assert_int_equal(connrt_diag_count(f->diag), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_engine_XXXXXX");
    if (f == NULL || mkdtemp(f->dir) == NULL) {
        return -1;
    }
    snprintf(f->input, sizeof(f->input), "%s/input.txt", f->dir);
    snprintf(f->output, sizeof(f->output), "%s/output.jsonl", f->dir);
    f->diag = connrt_diagnostics_new();
    /* Only the echo connector: whatever the search path holds (a half-built
     * plugin in `make check`'s CONNRT_CONNECTOR_PATH) is not under test. */
    unsetenv("CONNRT_CONNECTOR_PATH");
    connrt_diagnostics_t *loader_diag = connrt_diagnostics_new();
    f->container = connrt_container_open(NULL, loader_diag);
    connrt_diagnostics_destroy(loader_diag);
    f->defs = connrt_definitions_new();
    f->report = tmpfile();
    char errstr[256];
    if (f->container == NULL || f->report == NULL ||
        connrt_registry_add_static(connrt_container_registry(f->container), &echo_connector,
                                   "test_engine", errstr, sizeof(errstr)) != 0) {
        return -1;
    }
    echo_calls = 0;
    echo_max_batch = 0;
    echo_wants_tracked = -1;
    split_in_flight = 0;
    split_max_in_flight = 0;
    many_count = 0;
    many_boom = 0;
    *state = f;
    load_xml(f, "components.xml", components_xml);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    for (size_t i = 0; i < f->nlines; i++) {
        json_decref(f->lines[i]);
    }
    free(f->lines);
    free(f->report_text);
    fclose(f->report);
    connrt_definitions_destroy(f->defs);
    connrt_container_destroy(f->container);
    connrt_diagnostics_destroy(f->diag);
    free(f);
    return rc == 0 ? 0 : -1;
}

static char *read_stream(FILE *fp)
{
    long size = ftell(fp);
    char *text = calloc(1, (size_t)size + 1);
    rewind(fp);
    assert_int_equal(fread(text, 1, (size_t)size, fp), (size_t)size);
    return text;
}

/* Parse the output file into f->lines (one JSON object per line). */
static void read_output(struct fixture *f)
{
    FILE *fp = fopen(f->output, "rb");
    if (fp == NULL) {
        return;
    }
    fseek(fp, 0, SEEK_END);
    char *text = read_stream(fp);
    fclose(fp);
    for (char *line = text; *line != '\0';) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        json_error_t err;
        json_t *obj = json_loadb(line, (size_t)(nl - line), 0, &err);
        if (obj == NULL) {
            fail_msg("output line is not JSON: %s", err.text);
        }
        f->lines = realloc(f->lines, (f->nlines + 1) * sizeof(*f->lines));
        f->lines[f->nlines++] = obj;
        line = nl + 1;
    }
    free(text);
}

/* Run process `id` over f->input (written from `input` when not NULL). */
static int run(struct fixture *f, const char *id, const char *input, const char *input_path,
               connrt_input_format_t format, size_t chunk)
{
    if (input != NULL) {
        write_text(f->input, input);
    }
    const struct connrt_def_component *process = connrt_definitions_find(f->defs, id);
    assert_non_null(process);
    struct connrt_engine_options opts = {
        .input = input_path ? input_path : f->input,
        .input_format = format,
        .output = f->output,
        .chunk_documents = chunk,
        .report = f->report,
    };
    int status = connrt_engine_run(f->container, f->defs, process, &opts, &f->counts);
    f->report_text = read_stream(f->report);
    read_output(f);
    /* Every document ends with exactly one outcome. */
    assert_int_equal(f->counts.documents,
                     f->counts.success + f->counts.application_errors + f->counts.failures);
    return status;
}

static const char *field(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    return v ? json_string_value(v) : NULL;
}

static const char *sub_field(json_t *obj, const char *object, const char *name)
{
    return field(json_object_get(obj, object), name);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL) {
        fail_msg("expected to find\n  %s\nin\n%s", needle, haystack);
    }
}

/* -------------------------------------------------------------------- tests */

static const char orders_xml[] =
    "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
    "  <process id=\"orders\">\n"
    "    <start/>\n"
    "    <set-properties>\n"
    "      <property name=\"connector.kafka.topic\" value=\"orders\"/>\n"
    "      <property name=\"connector.kafka.key\" json-pointer=\"/customer\"/>\n"
    "      <property name=\"order.lines\" json-pointer=\"/lines\"/>\n"
    "      <property name=\"first.sku\" json-pointer=\"/lines/0/sku\"/>\n"
    "      <property name=\"odd~/key\" json-pointer=\"/a~1b/c~0d\"/>\n"
    "    </set-properties>\n"
    "    <connector operation=\"echo-op\"/>\n"
    "    <output/>\n"
    "  </process>\n"
    "</connrt>\n";

static void run__all_succeed__one_output_line_each_and_exit_0(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "orders.xml", orders_xml);
    const char *line = "{\"customer\":\"c%d\",\"lines\":[{\"sku\":\"x%d\",\"qty\":2}],"
                       "\"a/b\":{\"c~d\":%d}}\n";
    char input[1024] = "";
    for (int i = 1; i <= 3; i++) {
        size_t used = strlen(input);
        snprintf(input + used, sizeof(input) - used, line, i, i, i);
    }
    assert_int_equal(run(f, "orders", input, NULL, CONNRT_INPUT_LINES, 0), CONNRT_EXIT_OK);
    assert_int_equal(f->nlines, 3);
    json_t *o = f->lines[1];
    assert_string_equal(field(o, "outcome"), "success");
    assert_string_equal(sub_field(o, "properties", "connector.kafka.topic"), "orders");
    assert_string_equal(sub_field(o, "properties", "connector.kafka.key"), "c2");
    assert_string_equal(sub_field(o, "properties", "order.lines"), "[{\"sku\":\"x2\",\"qty\":2}]");
    assert_string_equal(sub_field(o, "properties", "first.sku"), "x2");
    assert_string_equal(sub_field(o, "properties", "odd~/key"), "2");
    assert_string_equal(sub_field(o, "tracked", "echo.seen"), "yes");
    assert_contains(field(o, "value"), "\"customer\":\"c2\"");
    assert_int_equal(f->counts.success, 3);
    assert_contains(f->report_text,
                    "connrt: process orders: 3 documents: 3 success, 0 application errors, "
                    "0 failures (");
}

static const char simple_xml[] = "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
                                 "  <process id=\"simple\">\n"
                                 "    <start/>\n"
                                 "    <connector operation=\"echo-op\"/>\n"
                                 "    <output/>\n"
                                 "  </process>\n"
                                 "</connrt>\n";

static void run__bad_document_without_on_error__in_output_in_order_and_exit_1(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "simple.xml", simple_xml);
    assert_int_equal(run(f, "simple", "one\nbad two\nthree\n", NULL, CONNRT_INPUT_LINES, 0),
                     CONNRT_EXIT_APPLICATION_ERRORS);
    assert_int_equal(f->nlines, 3);
    assert_string_equal(field(f->lines[0], "value"), "one");
    assert_string_equal(field(f->lines[1], "value"), "bad two");
    assert_string_equal(field(f->lines[1], "outcome"), "application_error");
    assert_string_equal(field(f->lines[1], "error"), "payload contains 'bad'");
    assert_string_equal(sub_field(f->lines[1], "properties", "connrt.error"),
                        "payload contains 'bad'");
    assert_string_equal(field(f->lines[2], "value"), "three");
    char expected[512];
    snprintf(expected, sizeof(expected),
             "connrt: document 2 (%s:2): application error at step 'echo-op': "
             "payload contains 'bad'\n",
             f->input);
    assert_contains(f->report_text, expected);
    assert_contains(f->report_text, "3 documents: 2 success, 1 application error, 0 failures");
}

static const char on_error_xml[] =
    "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
    "  <process id=\"guarded\">\n"
    "    <start/>\n"
    "    <connector operation=\"echo-op\"/>\n"
    "    <output/>\n"
    "    <on-error>\n"
    "      <set-properties>\n"
    "        <property name=\"why\" from-property=\"connrt.error\"/>\n"
    "      </set-properties>\n"
    "      <output/>\n"
    "    </on-error>\n"
    "  </process>\n"
    "</connrt>\n";

static void run__on_error__errors_routed_with_reason_property(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "guarded.xml", on_error_xml);
    assert_int_equal(run(f, "guarded", "bad 1\ngood 2\nbad 3\n", NULL, CONNRT_INPUT_LINES, 0),
                     CONNRT_EXIT_APPLICATION_ERRORS);
    assert_int_equal(f->nlines, 3);
    /* The main output writes the success first; the branch writes errors. */
    assert_string_equal(field(f->lines[0], "value"), "good 2");
    assert_string_equal(field(f->lines[0], "outcome"), "success");
    for (size_t i = 1; i < 3; i++) {
        assert_string_equal(field(f->lines[i], "outcome"), "application_error");
        assert_string_equal(sub_field(f->lines[i], "properties", "why"),
                            "payload contains 'bad'");
    }
    assert_string_equal(field(f->lines[1], "value"), "bad 1");
    assert_int_equal(f->counts.application_errors, 2);
    assert_int_equal(f->counts.success, 1);
}

static const char pointer_xml[] =
    "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
    "  <process id=\"pointer\">\n"
    "    <start/>\n"
    "    <set-properties>\n"
    "      <property name=\"connector.kafka.key\" json-pointer=\"/customer\"/>\n"
    "    </set-properties>\n"
    "    <output/>\n"
    "  </process>\n"
    "</connrt>\n";

static void run__json_pointer_missing__application_error_names_pointer(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "pointer.xml", pointer_xml);
    assert_int_equal(run(f, "pointer", "{\"customer\":\"c1\"}\n{\"id\":2}\nnot json\n", NULL,
                         CONNRT_INPUT_LINES, 0),
                     CONNRT_EXIT_APPLICATION_ERRORS);
    assert_int_equal(f->nlines, 3);
    assert_string_equal(field(f->lines[0], "outcome"), "success");
    assert_string_equal(field(f->lines[1], "error"),
                        "json-pointer '/customer': no member 'customer' under the top level");
    assert_contains(field(f->lines[2], "error"), "json-pointer '/customer': the payload is not "
                                                 "JSON (line 1, column ");
    char expected[512];
    snprintf(expected, sizeof(expected),
             "connrt: document 2 (%s:2): application error at step 'set-properties': "
             "json-pointer '/customer': no member 'customer'",
             f->input);
    assert_contains(f->report_text, expected);
}

static void run__json_pointer_on_bytes_not_utf8__error_names_the_byte(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "pointer.xml", pointer_xml);
    assert_int_equal(run(f, "pointer", "{\"customer\":\"a\xff\"}\n", NULL, CONNRT_INPUT_LINES, 0),
                     CONNRT_EXIT_APPLICATION_ERRORS);
    assert_int_equal(f->nlines, 1);
    assert_string_equal(field(f->lines[0], "error"),
                        "json-pointer '/customer': the payload is not JSON: byte 15 is not valid "
                        "UTF-8");
}

static void run__operation_fails_as_whole__rest_are_failures_and_exit_3(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "simple.xml", simple_xml);
    assert_int_equal(run(f, "simple", "a\nboom\nc\nd\ne\n", NULL, CONNRT_INPUT_LINES, 2),
                     CONNRT_EXIT_FAILURE);
    assert_int_equal(f->counts.documents, 5);
    assert_int_equal(f->counts.success, 1);
    assert_int_equal(f->counts.failures, 4);
    assert_int_equal(f->nlines, 1);
    assert_string_equal(field(f->lines[0], "value"), "a");
    assert_contains(f->report_text, "connrt: operation 'echo-op' failed: simulated outage "
                                    "(1 of 2 documents without a result)");
    assert_contains(f->report_text, "3 more input documents were not processed");
    assert_int_equal(echo_calls, 1);
}

static void run__operation_leaves_input_without_result__failure(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "simple.xml", simple_xml);
    assert_int_equal(run(f, "simple", "a\nlost\nc\n", NULL, CONNRT_INPUT_LINES, 0),
                     CONNRT_EXIT_FAILURE);
    assert_int_equal(f->counts.success, 2);
    assert_int_equal(f->counts.failures, 1);
    assert_contains(f->report_text, "operation 'echo-op' failed: it returned without a result "
                                    "for 1 of 3 documents");
}

static void run__many_chunks__outcomes_exact_and_order_kept(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "simple.xml", simple_xml);
    size_t n = 2503, chunk = 100;
    char *input = malloc(n * 16);
    size_t used = 0;
    for (size_t i = 1; i <= n; i++) {
        used += (size_t)snprintf(input + used, n * 16 - used, "%s%zu\n",
                                 i % 7 == 0 ? "bad " : "doc ", i);
    }
    int status = run(f, "simple", input, NULL, CONNRT_INPUT_LINES, chunk);
    free(input);
    assert_int_equal(status, CONNRT_EXIT_APPLICATION_ERRORS);
    assert_int_equal(f->counts.documents, n);
    assert_int_equal(f->counts.application_errors, n / 7);
    assert_int_equal(f->counts.success, n - n / 7);
    assert_int_equal(f->counts.failures, 0);
    assert_true(echo_max_batch <= chunk);
    assert_int_equal(echo_calls, (n + chunk - 1) / chunk);
    assert_int_equal(f->nlines, n);
    char expected[32];
    for (size_t i = 1; i <= n; i++) {
        snprintf(expected, sizeof(expected), "%s%zu", i % 7 == 0 ? "bad " : "doc ", i);
        assert_string_equal(field(f->lines[i - 1], "value"), expected);
    }
    char report_line[256];
    snprintf(report_line, sizeof(report_line), "connrt: document 2499 (%s:2499): application "
             "error at step 'echo-op'", f->input);
    assert_contains(f->report_text, report_line);
}

static const char source_xml[] = "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
                                 "  <process id=\"from-source\">\n"
                                 "    <start operation=\"src\"/>\n"
                                 "    <output/>\n"
                                 "  </process>\n"
                                 "</connrt>\n";

static void run__start_operation__emitted_documents_flow_and_errors_reported(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "source.xml", source_xml);
    const struct connrt_def_component *process = connrt_definitions_find(f->defs, "from-source");
    assert_false(connrt_engine_reads_input(process));
    assert_int_equal(run(f, "from-source", NULL, NULL, CONNRT_INPUT_LINES, 0),
                     CONNRT_EXIT_APPLICATION_ERRORS);
    assert_int_equal(f->nlines, 3);
    assert_string_equal(field(f->lines[0], "value"), "s1");
    assert_int_equal(json_integer_value(json_object_get(f->lines[0], "offset")), 10);
    assert_string_equal(field(f->lines[2], "value_encoding"), "base64");
    assert_string_equal(field(f->lines[2], "error"), "malformed record");
    assert_contains(f->report_text,
                    "connrt: document 3 (src): application error at step 'src': malformed record");
}

static const char many_xml[] = "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
                               "  <process id=\"from-many\">\n"
                               "    <start operation=\"many\"/>\n"
                               "    <connector operation=\"echo-op\"/>\n"
                               "    <output/>\n"
                               "  </process>\n"
                               "</connrt>\n";

static void run__start_operation_emits_many__streamed_in_chunks_in_order(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "many.xml", many_xml);
    many_count = 2503;
    assert_int_equal(run(f, "from-many", NULL, NULL, CONNRT_INPUT_LINES, 100), CONNRT_EXIT_OK);
    assert_int_equal(f->counts.documents, many_count);
    assert_int_equal(f->counts.success, many_count);
    /* Passed on while the operation still emits: never more than a chunk. */
    assert_true(echo_max_batch <= 100);
    assert_int_equal(echo_calls, 26);
    assert_int_equal(f->nlines, many_count);
    char expected[32];
    for (size_t i = 1; i <= many_count; i++) {
        snprintf(expected, sizeof(expected), "doc %zu", i);
        assert_string_equal(field(f->lines[i - 1], "value"), expected);
        assert_int_equal(json_integer_value(json_object_get(f->lines[i - 1], "offset")), i);
    }
}

static void run__streamed_chunk_fails__rest_of_emitted_are_failures(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "many.xml", many_xml);
    many_count = 2503;
    many_boom = 150;
    assert_int_equal(run(f, "from-many", NULL, NULL, CONNRT_INPUT_LINES, 100),
                     CONNRT_EXIT_FAILURE);
    assert_int_equal(f->counts.documents, many_count);
    assert_int_equal(f->counts.success, 149);
    assert_int_equal(f->counts.failures, many_count - 149);
    assert_int_equal(f->nlines, 149);
    assert_int_equal(echo_calls, 2);
    assert_contains(f->report_text, "connrt: operation 'echo-op' failed: simulated outage "
                                    "(51 of 100 documents without a result)");
    assert_contains(f->report_text, "connrt: 2303 more documents of 'many' were not processed "
                                    "because of the failure above");
}

/* Chunks go through the process in the background while the operation
 * emits more; batch_flush (before a commit) must still wait for all of them
 * and say whether the process took them. */
static int run_many_flushed(struct fixture *f, size_t count, size_t boom)
{
    load_xml(f, "many.xml", many_xml);
    many_count = count;
    many_boom = boom;
    many_flush = 1;
    many_flush_result = 99;
    int status = run(f, "from-many", NULL, NULL, CONNRT_INPUT_LINES, 100);
    many_flush = 0;
    return status;
}

static void run__batch_flush__waits_for_background_chunks(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(run_many_flushed(f, 2503, 0), CONNRT_EXIT_OK);
    assert_int_equal(many_flush_result, 0);
    assert_int_equal(f->counts.success, 2503);
    assert_int_equal(f->nlines, 2503);
}

static void run__batch_flush_after_full_chunk__still_waits(void **state)
{
    struct fixture *f = *state;
    /* Nothing emitted after the last full chunk: the flush still waits. */
    assert_int_equal(run_many_flushed(f, 2500, 0), CONNRT_EXIT_OK);
    assert_int_equal(many_flush_result, 0);
    assert_int_equal(f->nlines, 2500);
}

static void run__background_chunk_fails__batch_flush_says_stopped(void **state)
{
    struct fixture *f = *state;
    /* Chunk 24 fails in the background while 25 is emitted: no
     * acknowledgement, and 25 is not processed. */
    assert_int_equal(run_many_flushed(f, 2500, 2350), CONNRT_EXIT_FAILURE);
    assert_int_equal(many_flush_result, -1);
    assert_int_equal(f->counts.success, 2349);
    assert_int_equal(f->counts.failures, 151);
}

static void run__jsonl_malformed_line__application_error_at_start(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "simple.xml", simple_xml);
    assert_int_equal(run(f, "simple",
                         "{\"value\":\"one\",\"properties\":{\"p\":\"1\"}}\n{oops\n"
                         "{\"value\":{\"n\":3}}\n",
                         NULL, CONNRT_INPUT_JSONL, 0),
                     CONNRT_EXIT_APPLICATION_ERRORS);
    assert_int_equal(f->nlines, 3);
    assert_string_equal(sub_field(f->lines[0], "properties", "p"), "1");
    assert_string_equal(field(f->lines[2], "value"), "{\"n\":3}");
    assert_string_equal(field(f->lines[1], "outcome"), "application_error");
    char expected[512];
    snprintf(expected, sizeof(expected), "application error at step 'start': %s:2: ", f->input);
    assert_contains(f->report_text, expected);
}

static const char files_xml[] =
    "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
    "  <process id=\"files\">\n"
    "    <start/>\n"
    "    <set-properties>\n"
    "      <property name=\"name.copy\" file-name=\"\"/>\n"
    "      <property name=\"again\" from-property=\"name.copy\"/>\n"
    "    </set-properties>\n"
    "    <output/>\n"
    "  </process>\n"
    "</connrt>\n";

static void run__input_dir__file_name_and_from_property(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "files.xml", files_xml);
    char dir[160], path[200];
    snprintf(dir, sizeof(dir), "%s/in", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/b.json", dir);
    write_text(path, "B");
    snprintf(path, sizeof(path), "%s/a.json", dir);
    write_text(path, "A");
    assert_int_equal(run(f, "files", NULL, dir, CONNRT_INPUT_LINES, 0), CONNRT_EXIT_OK);
    assert_int_equal(f->nlines, 2);
    assert_string_equal(field(f->lines[0], "value"), "A");
    assert_string_equal(sub_field(f->lines[0], "properties", "name.copy"), "a.json");
    assert_string_equal(sub_field(f->lines[1], "properties", "again"), "b.json");
}

static void run__file_name_without_dir__application_error(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "files.xml", files_xml);
    assert_int_equal(run(f, "files", "x\n", NULL, CONNRT_INPUT_LINES, 0),
                     CONNRT_EXIT_APPLICATION_ERRORS);
    assert_contains(field(f->lines[0], "error"), "file-name: the document has no file name");
}

static void run__missing_input_file__exit_2_names_path(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "simple.xml", simple_xml);
    assert_int_equal(run(f, "simple", NULL, "/nonexistent/in.txt", CONNRT_INPUT_LINES, 0),
                     CONNRT_EXIT_USAGE);
    assert_contains(f->report_text, "/nonexistent/in.txt: No such file or directory");
    assert_int_equal(echo_calls, 0);
}

static void run__empty_input__zero_documents_exit_0(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "simple.xml", simple_xml);
    assert_int_equal(run(f, "simple", "", NULL, CONNRT_INPUT_LINES, 0), CONNRT_EXIT_OK);
    assert_int_equal(f->counts.documents, 0);
    assert_int_equal(f->nlines, 0);
    assert_contains(f->report_text, "0 documents: 0 success");
}


static const char split_xml[] = "<connrt xmlns=\"urn:connrt:definitions:1\">\n"
                                "  <process id=\"split\">\n"
                                "    <start/>\n"
                                "    <connector operation=\"split-op\"/>\n"
                                "    <on-error>\n"
                                "      <output/>\n"
                                "    </on-error>\n"
                                "  </process>\n"
                                "</connrt>\n";

/* Lines "doc 1".."doc n"; every 7th is "bad N"; `boom` (0: none) is "boom N". */
static char *numbered_lines(size_t n, size_t boom)
{
    char *input = malloc(n * 16 + 1);
    size_t used = 0;
    input[0] = '\0';
    for (size_t i = 1; i <= n; i++) {
        used += (size_t)snprintf(input + used, n * 16 + 1 - used, "%s%zu\n",
                                 i == boom ? "boom " : i % 7 == 0 ? "bad " : "doc ", i);
    }
    return input;
}

static void run__split_last_step__next_chunk_begun_before_the_last_ends(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "split.xml", split_xml);
    size_t n = 1001, chunk = 100;
    char *input = numbered_lines(n, 0);
    int status = run(f, "split", input, NULL, CONNRT_INPUT_LINES, chunk);
    free(input);
    assert_int_equal(status, CONNRT_EXIT_APPLICATION_ERRORS);
    /* Two chunks in flight at once, each half the in-flight limit. */
    assert_int_equal(split_max_in_flight, 2);
    assert_int_equal(split_in_flight, 0);
    assert_int_equal(echo_max_batch, chunk / 2);
    assert_int_equal(echo_calls, (n + chunk / 2 - 1) / (chunk / 2));
    assert_int_equal(f->counts.documents, n);
    assert_int_equal(f->counts.application_errors, n / 7);
    assert_int_equal(f->counts.success, n - n / 7);
    assert_int_equal(f->counts.failures, 0);
    /* <on-error> saw each error once, in input order. */
    assert_int_equal(f->nlines, n / 7);
    char expected[32];
    for (size_t i = 0; i < f->nlines; i++) {
        snprintf(expected, sizeof(expected), "bad %zu", (i + 1) * 7);
        assert_string_equal(field(f->lines[i], "value"), expected);
    }
    /* The last step, and no history: nothing reads its tracked properties. */
    assert_int_equal(echo_wants_tracked, 0);
}

static void run__split_begin_fails__that_chunk_and_the_rest_are_failures(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "split.xml", split_xml);
    size_t n = 100, chunk = 20, boom = 35; /* in the fourth chunk of 10 */
    char *input = numbered_lines(n, boom);
    int status = run(f, "split", input, NULL, CONNRT_INPUT_LINES, chunk);
    free(input);
    assert_int_equal(status, CONNRT_EXIT_FAILURE);
    assert_int_equal(split_in_flight, 0);
    assert_contains(f->report_text, "operation 'split-op' failed: simulated outage at begin "
                                    "(10 of 10 documents without a result)");
    assert_int_equal(f->counts.documents, n);
    /* Chunks 1-3 end normally; nothing is read after the failed begin: the
     * fourth chunk and the rest of the input are failures. */
    assert_int_equal(f->counts.success + f->counts.application_errors, 30);
    assert_int_equal(f->counts.failures, n - 30);
}

static void run__tracked_wanted__only_when_a_later_step_reads_them(void **state)
{
    struct fixture *f = *state;
    load_xml(f, "simple.xml", simple_xml);
    assert_int_equal(run(f, "simple", "one\n", NULL, CONNRT_INPUT_LINES, 0), CONNRT_EXIT_OK);
    assert_int_equal(echo_wants_tracked, 1); /* <output/> follows */
    assert_string_equal(sub_field(f->lines[0], "tracked", "echo.seen"), "yes");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(run__all_succeed__one_output_line_each_and_exit_0),
        T(run__bad_document_without_on_error__in_output_in_order_and_exit_1),
        T(run__on_error__errors_routed_with_reason_property),
        T(run__json_pointer_missing__application_error_names_pointer),
        T(run__json_pointer_on_bytes_not_utf8__error_names_the_byte),
        T(run__operation_fails_as_whole__rest_are_failures_and_exit_3),
        T(run__operation_leaves_input_without_result__failure),
        T(run__many_chunks__outcomes_exact_and_order_kept),
        T(run__start_operation__emitted_documents_flow_and_errors_reported),
        T(run__start_operation_emits_many__streamed_in_chunks_in_order),
        T(run__streamed_chunk_fails__rest_of_emitted_are_failures),
        T(run__batch_flush__waits_for_background_chunks),
        T(run__batch_flush_after_full_chunk__still_waits),
        T(run__background_chunk_fails__batch_flush_says_stopped),
        T(run__jsonl_malformed_line__application_error_at_start),
        T(run__input_dir__file_name_and_from_property),
        T(run__file_name_without_dir__application_error),
        T(run__missing_input_file__exit_2_names_path),
        T(run__empty_input__zero_documents_exit_0),
        T(run__split_last_step__next_chunk_begun_before_the_last_ends),
        T(run__split_begin_fails__that_chunk_and_the_rest_are_failures),
        T(run__tracked_wanted__only_when_a_later_step_reads_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
