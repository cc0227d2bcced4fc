/*
 * test_validate.c - semantic checks of definitions and container.properties
 * against a fake connector registered with connrt_registry_add_static (no
 * .so, no Kafka): each check with its exact message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/definitions.h"
#include "runtime/diagnostics.h"
#include "runtime/plugin_loader.h"
#include "runtime/validate.h"
#include "properties/java_properties.h"

#define NS "urn:connrt:definitions:1"

/* ------------------------------------------------------------------------ */
/* A fake connector shaped like the Kafka one                               */
/* ------------------------------------------------------------------------ */

static const char *const protocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL", NULL};
static const char *const acks[] = {"all", "1", "0", NULL};

static const struct connrt_property_def connection_table[] = {
    {"bootstrap_servers", CONNRT_PROP_LIST, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0, "servers",
     NULL},
    {"security_protocol", CONNRT_PROP_ENUM, 0, "PLAINTEXT", protocols, 0, 0, "protocol", NULL},
    {"password", CONNRT_PROP_ENUM, CONNRT_PROP_F_SECRET, NULL, protocols, 0, 0,
     "a secret that happens to be an enum, to see it is never echoed", NULL},
    {"sasl.jaas.config", CONNRT_PROP_STRING, CONNRT_PROP_F_INVALID, NULL, NULL, 0, 0, "java",
     "Java's JAAS configuration; use sasl_mechanism, username and password"},
    {"librdkafka.", CONNRT_PROP_PREFIX, 0, NULL, NULL, 0, 0, "pass-through", NULL},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL},
};

static const struct connrt_property_def produce_table[] = {
    {"topic", CONNRT_PROP_STRING, 0, NULL, NULL, 0, 0, "topic", NULL},
    {"acks", CONNRT_PROP_ENUM, 0, "all", acks, 0, 0, "acks", NULL},
    {"linger_ms", CONNRT_PROP_DURATION_MS, 0, "5", NULL, 0, 60000, "linger", NULL},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL},
};

static const struct connrt_property_def consume_table[] = {
    {"topic", CONNRT_PROP_LIST, 0, NULL, NULL, 0, 0, "topics", NULL},
    {"consumer_group", CONNRT_PROP_STRING, CONNRT_PROP_F_REQUIRED, NULL, NULL, 0, 0, "group",
     NULL},
    {"min_messages", CONNRT_PROP_INT, 0, "1", NULL, 1, 1000000, "min", NULL},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL},
};

static const struct connrt_property_def container_table[] = {
    {"max.poll.records", CONNRT_PROP_INT, 0, "1", NULL, 1, 100000, "records per poll", NULL},
    {"max.request.size", CONNRT_PROP_SIZE, 0, "10485760", NULL, 1, 1LL << 31, "size", NULL},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL},
};

/* Callbacks the loader requires; validation never calls them. */
static int op_open(void *ctx, const struct connrt_host *host, void *connection,
                   const connrt_settings_t *settings, const char *component_id, char *errstr,
                   size_t errstr_size)
{
    (void)ctx, (void)host, (void)connection, (void)settings, (void)component_id, (void)errstr,
        (void)errstr_size;
    return -1;
}

static int op_execute(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    (void)ctx, (void)batch, (void)errstr, (void)errstr_size;
    return -1;
}

static int op_listen_start(void *ctx, connrt_listener_t *listener, char *errstr,
                           size_t errstr_size)
{
    (void)ctx, (void)listener, (void)errstr, (void)errstr_size;
    return -1;
}

static void op_listen_stop(void *ctx)
{
    (void)ctx;
}

static const struct connrt_operation operations[] = {
    {.type = "produce", .kind = CONNRT_OP_BATCH, .description = "produce",
     .properties = produce_table, .open = op_open, .execute = op_execute},
    {.type = "consume", .kind = CONNRT_OP_BATCH, .can_start = 1, .description = "consume",
     .properties = consume_table, .open = op_open, .execute = op_execute},
    {.type = "listen", .kind = CONNRT_OP_LISTEN, .can_start = 1, .description = "listen",
     .properties = consume_table, .open = op_open, .listen_start = op_listen_start,
     .listen_stop = op_listen_stop},
    {.type = NULL},
};

static int fake_open(const struct connrt_host *host, const connrt_settings_t *settings,
                     const char *component_id, const char *container_dir, void **connection,
                     char *errstr, size_t errstr_size)
{
    (void)host, (void)settings, (void)component_id, (void)container_dir;
    (void)errstr, (void)errstr_size;
    *connection = NULL;
    return 0;
}

static void fake_close(void *connection)
{
    (void)connection;
}

static const struct connrt_connector fake = {
    .abi_version = CONNRT_ABI_VERSION,
    .struct_size = sizeof(struct connrt_connector),
    .name = "fake",
    .version = "1.0",
    .description = "a fake connector",
    .connection_properties = connection_table,
    .container_properties = container_table,
    .operations = operations,
    .connection_open = fake_open,
    .connection_close = fake_close,
};

static const struct connrt_property_def empty_table[] = {
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL},
};

static const struct connrt_operation other_operations[] = {
    {.type = "poll", .kind = CONNRT_OP_BATCH, .description = "poll", .properties = empty_table,
     .open = op_open, .execute = op_execute},
    {.type = NULL},
};

static const struct connrt_connector other = {
    .abi_version = CONNRT_ABI_VERSION,
    .struct_size = sizeof(struct connrt_connector),
    .name = "other",
    .version = "1.0",
    .description = "another",
    .connection_properties = empty_table,
    .operations = other_operations,
    .connection_open = fake_open,
    .connection_close = fake_close,
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static char tmpdir[] = "/tmp/test_validate.XXXXXX";
static connrt_registry_t *registry;

struct result {
    connrt_definitions_t *defs;
    connrt_diagnostics_t *diag;
    size_t load_problems;
    size_t problems;
};

/* Loads `xml` as DIR/NAME and validates it against the fake registry. */
static struct result check_xml(const char *name, const char *xml)
{
    char file[4096];
    struct result r;
    snprintf(file, sizeof(file), "%s/%s", tmpdir, name);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(xml, f);
    fclose(f);
    r.defs = connrt_definitions_new();
    r.diag = connrt_diagnostics_new();
    r.load_problems = connrt_definitions_load_file(r.defs, file, r.diag);
    r.problems = connrt_validate_definitions(r.defs, registry, r.diag);
    return r;
}

static void release(struct result *r)
{
    connrt_definitions_destroy(r->defs);
    connrt_diagnostics_destroy(r->diag);
}

static void dump(const connrt_diagnostics_t *diag)
{
    for (size_t i = 0; i < connrt_diag_count(diag); i++) {
        print_error("  %s\n", connrt_diag_message(diag, i));
    }
}

/* `expected`, as given or after "DIR/", must be one of the messages. */
static void assert_has_message(const connrt_diagnostics_t *diag, const char *expected)
{
    char full[4096];
    snprintf(full, sizeof(full), "%s/%s", tmpdir, expected);
    for (size_t i = 0; i < connrt_diag_count(diag); i++) {
        if (strcmp(connrt_diag_message(diag, i), full) == 0 ||
            strcmp(connrt_diag_message(diag, i), expected) == 0) {
            return;
        }
    }
    print_error("expected message: %s\ngot:\n", full);
    dump(diag);
    fail();
}

static void assert_only(const struct result *r, size_t n)
{
    if (connrt_diag_count(r->diag) != n || r->load_problems + r->problems != n) {
        print_error("expected %zu problems, got:\n", n);
        dump(r->diag);
        fail();
    }
}

#define CONNECTION "<connection id=\"k\" connector=\"fake\">" \
                   "<property name=\"bootstrap_servers\">h:1</property></connection>\n"

/* ------------------------------------------------------------------------ */
/* Definitions                                                              */
/* ------------------------------------------------------------------------ */

static void validate__valid_definitions__no_problem(void **state)
{
    (void)state;
    struct result r = check_xml(
        "ok.xml", "<connrt xmlns=\"" NS "\">\n" CONNECTION
                  "<operation id=\"send\" connection=\"k\" type=\"produce\">\n"
                  "  <property name=\"acks\">1</property>\n"
                  "  <property name=\"linger_ms\">2s</property>\n"
                  "</operation>\n"
                  "<operation id=\"read\" connection=\"k\" type=\"consume\">\n"
                  "  <property name=\"consumer_group\">g</property>\n"
                  "</operation>\n"
                  "<process id=\"p\"><start/><connector operation=\"send\"/><output/>\n"
                  "  <on-error><connector operation=\"send\"/></on-error></process>\n"
                  "<process id=\"q\"><start operation=\"read\"/>"
                  "<set-properties><property name=\"a\" json-pointer=\"/x~1y/0\"/>"
                  "<property name=\"b\" json-pointer=\"\"/></set-properties></process>\n"
                  "</connrt>\n");
    assert_only(&r, 0);
    release(&r);
}

static void validate__unknown_connector__lists_known_ones(void **state)
{
    (void)state;
    struct result r = check_xml("conn.xml", "<connrt xmlns=\"" NS "\">\n"
                                            "<connection id=\"c\" connector=\"kafak\"/>\n"
                                            "</connrt>\n");
    assert_has_message(r.diag, "conn.xml:2: connection 'c': unknown connector 'kafak' (known: "
                               "fake, other)");
    assert_only(&r, 1);
    release(&r);
}

static void validate__no_connectors_loaded__says_where_to_look(void **state)
{
    (void)state;
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    struct result r = check_xml("none.xml", "<connrt xmlns=\"" NS "\">\n"
                                            "<connection id=\"c\" connector=\"fake\"/>\n"
                                            "</connrt>\n");
    assert_int_equal(connrt_validate_definitions(r.defs, NULL, diag), 1);
    assert_has_message(diag, "none.xml:2: connection 'c': unknown connector 'fake' (no "
                             "connectors are loaded: check CONNRT_CONNECTOR_PATH and the "
                             "container's connectors/ directory)");
    release(&r);
    connrt_diagnostics_destroy(diag);
}

static void validate__duplicate_id__names_first_definition(void **state)
{
    (void)state;
    struct result r = check_xml("dup.xml", "<connrt xmlns=\"" NS "\">\n" CONNECTION
                                           "<process id=\"k\"><start/></process>\n"
                                           "</connrt>\n");
    char expected[4200];
    snprintf(expected, sizeof(expected), "dup.xml:3: duplicate id 'k' (first defined at "
             "%s/dup.xml:2)", tmpdir);
    assert_has_message(r.diag, expected);
    assert_only(&r, 1);
    release(&r);
}

static void validate__operation_unknown_connection__did_you_mean(void **state)
{
    (void)state;
    struct result r = check_xml("ref.xml", "<connrt xmlns=\"" NS "\">\n"
                                           "<connection id=\"local-kafka\" connector=\"fake\">"
                                           "<property name=\"bootstrap_servers\">h:1</property>"
                                           "</connection>\n"
                                           "<operation id=\"o\" connection=\"local-kafak\" "
                                           "type=\"produce\"/>\n"
                                           "<operation id=\"o2\" connection=\"elsewhere\" "
                                           "type=\"produce\"/>\n"
                                           "</connrt>\n");
    assert_has_message(r.diag, "ref.xml:3: operation 'o': unknown connection 'local-kafak' "
                               "(did you mean 'local-kafka'?)");
    assert_has_message(r.diag, "ref.xml:4: operation 'o2': unknown connection 'elsewhere'");
    assert_only(&r, 2);
    release(&r);
}

static void validate__reference_to_wrong_kind__says_what_it_is(void **state)
{
    (void)state;
    struct result r = check_xml("kind.xml", "<connrt xmlns=\"" NS "\">\n" CONNECTION
                                            "<process id=\"p\"><start/></process>\n"
                                            "<operation id=\"o\" connection=\"p\" type=\"x\"/>\n"
                                            "<process id=\"q\"><start/>"
                                            "<connector operation=\"k\"/></process>\n"
                                            "</connrt>\n");
    char expected[4200];
    snprintf(expected, sizeof(expected), "kind.xml:4: operation 'o': 'p' is a process (%s/"
             "kind.xml:3), not a connection", tmpdir);
    assert_has_message(r.diag, expected);
    snprintf(expected, sizeof(expected), "kind.xml:5: process 'q': <connector>: 'k' is a "
             "connection (%s/kind.xml:2), not an operation", tmpdir);
    assert_has_message(r.diag, expected);
    assert_only(&r, 2);
    release(&r);
}

static void validate__step_unknown_operation__reported_with_step(void **state)
{
    (void)state;
    struct result r = check_xml("step.xml", "<connrt xmlns=\"" NS "\">\n" CONNECTION
                                            "<operation id=\"send\" connection=\"k\" "
                                            "type=\"produce\"/>\n"
                                            "<process id=\"p\"><start operation=\"nope\"/>\n"
                                            "<connector operation=\"sned\"/>\n"
                                            "<on-error><connector operation=\"elsewhere\"/>"
                                            "</on-error></process>\n"
                                            "</connrt>\n");
    assert_has_message(r.diag, "step.xml:4: process 'p': <start>: unknown operation 'nope'");
    assert_has_message(r.diag, "step.xml:5: process 'p': <connector>: unknown operation 'sned' "
                               "(did you mean 'send'?)");
    assert_has_message(r.diag, "step.xml:6: process 'p': <connector>: unknown operation "
                               "'elsewhere'");
    assert_only(&r, 3);
    release(&r);
}

static void validate__start_with_produce__cannot_start(void **state)
{
    (void)state;
    struct result r = check_xml("start.xml", "<connrt xmlns=\"" NS "\">\n" CONNECTION
                                             "<operation id=\"send\" connection=\"k\" "
                                             "type=\"produce\"/>\n"
                                             "<operation id=\"l\" connection=\"k\" "
                                             "type=\"listen\"><property name=\"consumer_group\">"
                                             "g</property></operation>\n"
                                             "<process id=\"p\"><start operation=\"send\"/>\n"
                                             "<connector operation=\"l\"/></process>\n"
                                             "</connrt>\n");
    assert_has_message(r.diag, "start.xml:5: process 'p': operation 'send' (fake produce) "
                               "cannot start a process (fake operations that can: consume, "
                               "listen)");
    assert_has_message(r.diag, "start.xml:6: process 'p': operation 'l' (fake listen) listens: "
                               "it can only be used in <start>");
    assert_only(&r, 2);
    release(&r);
}

static void validate__unknown_property__did_you_mean(void **state)
{
    (void)state;
    struct result r = check_xml("prop.xml", "<connrt xmlns=\"" NS "\">\n"
                                            "<connection id=\"k\" connector=\"fake\">\n"
                                            "<property name=\"bootstrap_server\">h</property>\n"
                                            "<property name=\"bootstrap_servers\">h</property>\n"
                                            "<property name=\"zzzzzzzzzzzz\">h</property>\n"
                                            "<property name=\"librdkafka.socket.timeout.ms\">"
                                            "100</property>\n"
                                            "</connection>\n"
                                            "<operation id=\"o\" connection=\"k\" type=\"produce\">"
                                            "<property name=\"topik\">t</property></operation>\n"
                                            "</connrt>\n");
    assert_has_message(r.diag, "prop.xml:3: connection 'k': unknown property 'bootstrap_server' "
                               "for a fake connection (did you mean 'bootstrap_servers'?)");
    assert_has_message(r.diag, "prop.xml:5: connection 'k': unknown property 'zzzzzzzzzzzz' for "
                               "a fake connection (see `connrt describe fake`)");
    assert_has_message(r.diag, "prop.xml:8: operation 'o': unknown property 'topik' for fake "
                               "produce (did you mean 'topic'?)");
    assert_only(&r, 3);
    release(&r);
}

static void validate__misspelled_required__reported_once(void **state)
{
    (void)state;
    struct result r = check_xml("typo.xml", "<connrt xmlns=\"" NS "\">\n"
                                            "<connection id=\"k\" connector=\"fake\">\n"
                                            "<property name=\"bootstrap_server\">h</property>\n"
                                            "</connection></connrt>\n");
    assert_has_message(r.diag, "typo.xml:3: connection 'k': unknown property 'bootstrap_server' "
                               "for a fake connection (did you mean 'bootstrap_servers'?)");
    assert_only(&r, 1);
    release(&r);
}

static void validate__problems_in_two_files__sorted_by_file_then_line(void **state)
{
    (void)state;
    char first[4096], second[4096];
    snprintf(first, sizeof(first), "%s/first.xml", tmpdir);
    snprintf(second, sizeof(second), "%s/second.xml", tmpdir);
    FILE *f = fopen(first, "w");
    assert_non_null(f);
    fputs("<connrt xmlns=\"" NS "\">\n"
          "<process id=\"p\"><start/>\n"
          "<connector operation=\"a\"/>\n"
          "<connector operation=\"b\"/></process>\n"
          "<connection id=\"dup\" connector=\"nope\"/>\n"
          "</connrt>\n", f);
    fclose(f);
    f = fopen(second, "w");
    assert_non_null(f);
    fputs("<connrt xmlns=\"" NS "\">\n"
          "<connection id=\"k\" connector=\"fake\"/>\n"
          "<process id=\"dup\"><start/></process>\n"
          "</connrt>\n", f);
    fclose(f);
    connrt_definitions_t *defs = connrt_definitions_new();
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    connrt_definitions_load_file(defs, first, diag);
    connrt_definitions_load_file(defs, second, diag);
    assert_int_equal(connrt_validate_definitions(defs, registry, diag), 5);
    const char *expected[] = {"first.xml:3:", "first.xml:4:", "first.xml:5:", "second.xml:2:",
                              "second.xml:3: duplicate id 'dup'"};
    for (size_t i = 0; i < 5; i++) {
        char want[4200];
        snprintf(want, sizeof(want), "%s/%s", tmpdir, expected[i]);
        if (strncmp(connrt_diag_message(diag, i), want, strlen(want)) != 0) {
            print_error("message %zu should start with %s\n", i, want);
            dump(diag);
            fail();
        }
    }
    connrt_definitions_destroy(defs);
    connrt_diagnostics_destroy(diag);
}

static void validate__invalid_flagged_property__prints_hint(void **state)
{
    (void)state;
    struct result r = check_xml("jaas.xml", "<connrt xmlns=\"" NS "\">\n"
                                            "<connection id=\"k\" connector=\"fake\">\n"
                                            "<property name=\"bootstrap_servers\">h</property>\n"
                                            "<property name=\"sasl.jaas.config\">x</property>\n"
                                            "</connection></connrt>\n");
    assert_has_message(r.diag, "jaas.xml:4: connection 'k': property 'sasl.jaas.config' is not "
                               "supported: Java's JAAS configuration; use sasl_mechanism, "
                               "username and password");
    assert_only(&r, 1);
    release(&r);
}

static void validate__wrong_type_or_range__check_message(void **state)
{
    (void)state;
    struct result r = check_xml("type.xml", "<connrt xmlns=\"" NS "\">\n"
                                            "<connection id=\"k\" connector=\"fake\">\n"
                                            "<property name=\"bootstrap_servers\">h</property>\n"
                                            "<property name=\"security_protocol\">TLS</property>\n"
                                            "</connection>\n"
                                            "<operation id=\"o\" connection=\"k\" type=\"produce\">"
                                            "\n<property name=\"linger_ms\">2h</property>\n"
                                            "<property name=\"acks\">-1</property>\n"
                                            "</operation></connrt>\n");
    assert_has_message(r.diag, "type.xml:4: connection 'k': property 'security_protocol': "
                               "expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL, got "
                               "'TLS'");
    assert_has_message(r.diag, "type.xml:7: operation 'o': property 'linger_ms': expected a "
                               "duration in milliseconds (suffix ms, s, m or h allowed) between 0 "
                               "and 60000, got '2h'");
    assert_has_message(r.diag, "type.xml:8: operation 'o': property 'acks': expected one of all, "
                               "1, 0, got '-1'");
    assert_only(&r, 3);
    release(&r);
}

static void validate__bad_secret_value__never_echoed(void **state)
{
    (void)state;
    struct result r = check_xml("secret.xml", "<connrt xmlns=\"" NS "\">\n"
                                              "<connection id=\"k\" connector=\"fake\">\n"
                                              "<property name=\"bootstrap_servers\">h</property>\n"
                                              "<property name=\"password\">hunter2</property>\n"
                                              "</connection></connrt>\n");
    assert_only(&r, 1);
    assert_non_null(strstr(connrt_diag_message(r.diag, 0), "secret.xml:4: connection 'k': "
                                                           "property 'password'"));
    assert_null(strstr(connrt_diag_message(r.diag, 0), "hunter2"));
    release(&r);
}

static void validate__missing_required__at_component_line(void **state)
{
    (void)state;
    struct result r = check_xml("req.xml", "<connrt xmlns=\"" NS "\">\n"
                                           "<connection id=\"k\" connector=\"fake\"/>\n"
                                           "<operation id=\"o\" connection=\"k\" "
                                           "type=\"consume\"/>\n"
                                           "</connrt>\n");
    assert_has_message(r.diag, "req.xml:2: connection 'k': missing required property "
                               "'bootstrap_servers'");
    assert_has_message(r.diag, "req.xml:3: operation 'o': missing required property "
                               "'consumer_group'");
    assert_only(&r, 2);
    release(&r);
}

static void validate__unset_env_in_required__reported_once(void **state)
{
    (void)state;
    unsetenv("TEST_VALIDATE_UNSET");
    struct result r = check_xml("env.xml", "<connrt xmlns=\"" NS "\">\n"
                                           "<connection id=\"k\" connector=\"fake\">\n"
                                           "<property name=\"bootstrap_servers\">"
                                           "${env:TEST_VALIDATE_UNSET}</property>\n"
                                           "</connection></connrt>\n");
    assert_has_message(r.diag, "env.xml:3: environment variable TEST_VALIDATE_UNSET is not set");
    assert_only(&r, 1);
    release(&r);
}

static void validate__operation_type_missing__lists_types(void **state)
{
    (void)state;
    struct result r = check_xml("optype.xml", "<connrt xmlns=\"" NS "\">\n" CONNECTION
                                              "<operation id=\"o\" connection=\"k\" "
                                              "type=\"prodce\"/>\n"
                                              "</connrt>\n");
    assert_has_message(r.diag, "optype.xml:3: operation 'o': connector 'fake' has no operation "
                               "type 'prodce' (it has: produce, consume, listen)");
    assert_only(&r, 1);
    release(&r);
}

static void validate__property_twice__names_first_line(void **state)
{
    (void)state;
    struct result r = check_xml("twice.xml", "<connrt xmlns=\"" NS "\">\n"
                                             "<connection id=\"k\" connector=\"fake\">\n"
                                             "<property name=\"bootstrap_servers\">h</property>\n"
                                             "<property name=\"bootstrap_servers\">i</property>\n"
                                             "</connection></connrt>\n");
    assert_has_message(r.diag, "twice.xml:4: connection 'k': property 'bootstrap_servers' is "
                               "set twice (first at line 3)");
    assert_only(&r, 1);
    release(&r);
}

static void validate__bad_json_pointer__explains_syntax(void **state)
{
    (void)state;
    struct result r = check_xml("ptr.xml", "<connrt xmlns=\"" NS "\">\n"
                                           "<process id=\"p\"><start/><set-properties>\n"
                                           "<property name=\"k\" json-pointer=\"customer\"/>\n"
                                           "<property name=\"j\" json-pointer=\"/a~2\"/>\n"
                                           "</set-properties></process></connrt>\n");
    assert_has_message(r.diag, "ptr.xml:3: process 'p': json-pointer 'customer' of property 'k' "
                               "is not a JSON pointer (write '' for the whole document or "
                               "'/field/0/name', escaping '~' as '~0' and '/' as '~1')");
    assert_only(&r, 2);
    release(&r);
}

static void validate__unknown_connector__no_cascade_into_operations(void **state)
{
    (void)state;
    /* One mistake, one message: the operation on the unknown connector is
     * not also reported for its type and properties. */
    struct result r = check_xml("cascade.xml", "<connrt xmlns=\"" NS "\">\n"
                                               "<connection id=\"k\" connector=\"nope\"/>\n"
                                               "<operation id=\"o\" connection=\"k\" type=\"x\">"
                                               "<property name=\"y\">1</property></operation>\n"
                                               "<process id=\"p\"><start operation=\"o\"/>"
                                               "</process>\n"
                                               "</connrt>\n");
    assert_only(&r, 1);
    release(&r);
}

/* ------------------------------------------------------------------------ */
/* container.properties                                                     */
/* ------------------------------------------------------------------------ */

static size_t check_container(const char *text, connrt_diagnostics_t *diag)
{
    char err[512];
    connrt_jprops_t *props =
        connrt_jprops_parse(text, strlen(text), "container.properties", err, sizeof(err));
    assert_non_null(props);
    size_t n = connrt_validate_container_properties(props, registry, diag);
    connrt_jprops_destroy(props);
    return n;
}

static void validate_container__valid__no_problem(void **state)
{
    (void)state;
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    assert_int_equal(check_container("# limits\n"
                                     "connector.fake.max.poll.records = 5\n"
                                     "connector.fake.max.request.size = 2MB\n"
                                     "log.level = debug\n", diag), 0);
    dump(diag);
    assert_int_equal(connrt_diag_count(diag), 0);
    connrt_diagnostics_destroy(diag);
}

static void validate_container__problems__each_with_line(void **state)
{
    (void)state;
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    size_t n = check_container("connector.fake.max.poll.record=5\n"
                               "connector.fake.max.poll.records=0\n"
                               "connector.fak.max.poll.records=5\n"
                               "log.levle=info\n"
                               "max.poll.records=3\n"
                               "completely.unrelated.thing=1\n"
                               "log.level=loud\n", diag);
    assert_has_message(diag, "container.properties:1: unknown container property "
                             "'connector.fake.max.poll.record' (did you mean "
                             "'connector.fake.max.poll.records'?)");
    assert_has_message(diag, "container.properties:2: container property "
                             "'connector.fake.max.poll.records': expected an integer between 1 "
                             "and 100000, got '0'");
    assert_has_message(diag, "container.properties:3: unknown connector 'fak' in container "
                             "property 'connector.fak.max.poll.records' (known: fake, other)");
    assert_has_message(diag, "container.properties:4: unknown container property 'log.levle' "
                             "(did you mean 'log.level'?)");
    assert_has_message(diag, "container.properties:5: unknown container property "
                             "'max.poll.records' (did you mean "
                             "'connector.fake.max.poll.records'?)");
    assert_has_message(diag, "container.properties:6: unknown container property "
                             "'completely.unrelated.thing' (see `connrt describe`)");
    assert_has_message(diag, "container.properties:7: container property 'log.level': expected "
                             "one of error, warning, info, debug, got 'loud'");
    assert_int_equal(n, 7);
    assert_int_equal(connrt_diag_count(diag), 7);
    connrt_diagnostics_destroy(diag);
}

static int setup(void **state)
{
    char err[512];
    (void)state;
    if (mkdtemp(tmpdir) == NULL) {
        return -1;
    }
    registry = connrt_registry_new();
    if (registry == NULL ||
        connrt_registry_add_static(registry, &fake, "fake (test)", err, sizeof(err)) != 0 ||
        connrt_registry_add_static(registry, &other, "other (test)", err, sizeof(err)) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    char cmd[4200];
    (void)state;
    connrt_registry_destroy(registry);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validate__valid_definitions__no_problem),
        cmocka_unit_test(validate__unknown_connector__lists_known_ones),
        cmocka_unit_test(validate__no_connectors_loaded__says_where_to_look),
        cmocka_unit_test(validate__duplicate_id__names_first_definition),
        cmocka_unit_test(validate__operation_unknown_connection__did_you_mean),
        cmocka_unit_test(validate__reference_to_wrong_kind__says_what_it_is),
        cmocka_unit_test(validate__step_unknown_operation__reported_with_step),
        cmocka_unit_test(validate__start_with_produce__cannot_start),
        cmocka_unit_test(validate__unknown_property__did_you_mean),
        cmocka_unit_test(validate__misspelled_required__reported_once),
        cmocka_unit_test(validate__problems_in_two_files__sorted_by_file_then_line),
        cmocka_unit_test(validate__invalid_flagged_property__prints_hint),
        cmocka_unit_test(validate__wrong_type_or_range__check_message),
        cmocka_unit_test(validate__bad_secret_value__never_echoed),
        cmocka_unit_test(validate__missing_required__at_component_line),
        cmocka_unit_test(validate__unset_env_in_required__reported_once),
        cmocka_unit_test(validate__operation_type_missing__lists_types),
        cmocka_unit_test(validate__property_twice__names_first_line),
        cmocka_unit_test(validate__bad_json_pointer__explains_syntax),
        cmocka_unit_test(validate__unknown_connector__no_cascade_into_operations),
        cmocka_unit_test(validate_container__valid__no_problem),
        cmocka_unit_test(validate_container__problems__each_with_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
