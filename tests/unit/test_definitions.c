/*
 * test_definitions.c - XML definitions into the plain model: fields and
 * lines, ${env:NAME}, well-formedness and schema problems (all of them, with
 * readable messages), and no crash on garbage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/definitions.h"
#include "runtime/diagnostics.h"
#include "runtime/envsubst.h"

#define NS "urn:connrt:definitions:1"

static char tmpdir[] = "/tmp/test_definitions.XXXXXX";
static char path[4096];

/* Writes `len` bytes to a file in the test directory; returns its path
 * (static buffer, valid until the next call). */
static const char *write_bytes(const char *name, const void *data, size_t len)
{
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_bytes(name, text, strlen(text));
}

struct loaded {
    connrt_definitions_t *defs;
    connrt_diagnostics_t *diag;
    size_t problems;
};

static struct loaded load(const char *name, const char *text)
{
    struct loaded l;
    l.defs = connrt_definitions_new();
    l.diag = connrt_diagnostics_new();
    assert_non_null(l.defs);
    assert_non_null(l.diag);
    l.problems = connrt_definitions_load_file(l.defs, write_text(name, text), l.diag);
    return l;
}

static void unload(struct loaded *l)
{
    connrt_definitions_destroy(l->defs);
    connrt_diagnostics_destroy(l->diag);
}

/* Fails listing every message when `expected` (after "DIR/") is not one. */
static void assert_has_message(const connrt_diagnostics_t *diag, const char *expected)
{
    char full[4096];
    snprintf(full, sizeof(full), "%s/%s", tmpdir, expected);
    for (size_t i = 0; i < connrt_diag_count(diag); i++) {
        if (strcmp(connrt_diag_message(diag, i), full) == 0) {
            return;
        }
    }
    print_error("expected message: %s\ngot:\n", full);
    for (size_t i = 0; i < connrt_diag_count(diag); i++) {
        print_error("  %s\n", connrt_diag_message(diag, i));
    }
    fail();
}

static void assert_no_problems(const struct loaded *l)
{
    for (size_t i = 0; i < connrt_diag_count(l->diag); i++) {
        print_error("unexpected: %s\n", connrt_diag_message(l->diag, i));
    }
    assert_int_equal(connrt_diag_count(l->diag), 0);
    assert_int_equal(l->problems, 0);
}

static const char design_example[] =
    "<connrt xmlns=\"" NS "\">\n"                                              /* 1 */
    "  <connection id=\"local-kafka\" connector=\"kafka\">\n"                   /* 2 */
    "    <property name=\"bootstrap_servers\">embedded</property>\n"            /* 3 */
    "    <property name=\"password\">${env:TEST_DEFS_PASSWORD}</property>\n"   /* 4 */
    "  </connection>\n"                                                        /* 5 */
    "  <operation id=\"send-orders\" connection=\"local-kafka\" type=\"produce\">\n" /* 6 */
    "    <property name=\"topic\">orders</property>\n"                         /* 7 */
    "  </operation>\n"                                                         /* 8 */
    "  <process id=\"orders-to-kafka\">\n"                                     /* 9 */
    "    <start/>          <!-- documents from --input -->\n"                  /* 10 */
    "    <set-properties>\n"                                                   /* 11 */
    "      <property name=\"connector.kafka.key\" json-pointer=\"/customer\"/>\n" /* 12 */
    "      <property name=\"connector.kafka.topic\" value=\"orders\"/>\n"     /* 13 */
    "      <property name=\"from\" from-property=\"connector.kafka.key\"/>\n" /* 14 */
    "      <property name=\"name\" file-name=\"\"/>\n"                         /* 15 */
    "    </set-properties>\n"                                                  /* 16 */
    "    <connector operation=\"send-orders\"/>\n"                             /* 17 */
    "    <output/>         <!-- documents to --output -->\n"                   /* 18 */
    "  </process>\n"                                                           /* 19 */
    "  <process id=\"read-orders\">\n"                                         /* 20 */
    "    <start operation=\"consume-orders\"/>\n"                              /* 21 */
    "    <output/>\n"                                                          /* 22 */
    "    <on-error>\n"                                                         /* 23 */
    "      <set-properties><property name=\"x\" value=\"1\"/></set-properties>\n" /* 24 */
    "      <output/>\n"                                                        /* 25 */
    "    </on-error>\n"                                                        /* 26 */
    "  </process>\n"                                                           /* 27 */
    "</connrt>\n";

static void load_file__design_example__model_has_fields_and_lines(void **state)
{
    (void)state;
    setenv("TEST_DEFS_PASSWORD", "s3cret", 1);
    struct loaded l = load("design.xml", design_example);
    assert_no_problems(&l);
    assert_int_equal(connrt_definitions_count(l.defs), 4);

    const struct connrt_def_component *conn = connrt_definitions_at(l.defs, 0);
    assert_int_equal(conn->kind, CONNRT_COMPONENT_CONNECTION);
    assert_string_equal(conn->id, "local-kafka");
    assert_string_equal(conn->connector, "kafka");
    assert_int_equal(conn->line, 2);
    assert_string_equal(conn->file, path);
    assert_int_equal(conn->nproperties, 2);
    assert_string_equal(conn->properties[0].name, "bootstrap_servers");
    assert_string_equal(conn->properties[0].value, "embedded");
    assert_int_equal(conn->properties[0].line, 3);
    assert_string_equal(conn->properties[1].value, "s3cret");
    assert_int_equal(conn->properties[1].line, 4);

    const struct connrt_def_component *op = connrt_definitions_find(l.defs, "send-orders");
    assert_non_null(op);
    assert_int_equal(op->kind, CONNRT_COMPONENT_OPERATION);
    assert_string_equal(op->connection, "local-kafka");
    assert_string_equal(op->type, "produce");
    assert_int_equal(op->line, 6);
    assert_string_equal(op->properties[0].value, "orders");

    const struct connrt_def_component *p = connrt_definitions_find(l.defs, "orders-to-kafka");
    assert_int_equal(p->kind, CONNRT_COMPONENT_PROCESS);
    assert_int_equal(p->nsteps, 4);
    assert_int_equal(p->has_on_error, 0);
    assert_int_equal(p->steps[0].kind, CONNRT_STEP_START);
    assert_null(p->steps[0].operation);
    assert_int_equal(p->steps[0].line, 10);
    assert_int_equal(p->steps[1].kind, CONNRT_STEP_SET_PROPERTIES);
    assert_int_equal(p->steps[1].nassignments, 4);
    const struct connrt_def_assignment *a = p->steps[1].assignments;
    assert_string_equal(a[0].name, "connector.kafka.key");
    assert_int_equal(a[0].source, CONNRT_SOURCE_JSON_POINTER);
    assert_string_equal(a[0].argument, "/customer");
    assert_int_equal(a[0].line, 12);
    assert_int_equal(a[1].source, CONNRT_SOURCE_VALUE);
    assert_string_equal(a[1].argument, "orders");
    assert_int_equal(a[2].source, CONNRT_SOURCE_FROM_PROPERTY);
    assert_string_equal(a[2].argument, "connector.kafka.key");
    assert_int_equal(a[3].source, CONNRT_SOURCE_FILE_NAME);
    assert_int_equal(p->steps[2].kind, CONNRT_STEP_CONNECTOR);
    assert_string_equal(p->steps[2].operation, "send-orders");
    assert_int_equal(p->steps[2].line, 17);
    assert_int_equal(p->steps[3].kind, CONNRT_STEP_OUTPUT);

    const struct connrt_def_component *r = connrt_definitions_find(l.defs, "read-orders");
    assert_string_equal(r->steps[0].operation, "consume-orders");
    assert_int_equal(r->nsteps, 2);
    assert_int_equal(r->has_on_error, 1);
    assert_int_equal(r->nerror_steps, 2);
    assert_int_equal(r->error_steps[0].kind, CONNRT_STEP_SET_PROPERTIES);
    assert_int_equal(r->error_steps[0].line, 24);
    assert_int_equal(r->error_steps[1].kind, CONNRT_STEP_OUTPUT);

    assert_int_equal(connrt_definitions_file_count(l.defs), 1);
    assert_string_equal(connrt_definitions_file_at(l.defs, 0), path);
    unload(&l);
}

static void load_file__two_files__components_of_both_kept_in_order(void **state)
{
    (void)state;
    connrt_definitions_t *defs = connrt_definitions_new();
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    connrt_definitions_load_file(
        defs, write_text("a.xml", "<connrt xmlns=\"" NS "\"><process id=\"a\"><start/>"
                                  "</process></connrt>"), diag);
    connrt_definitions_load_file(
        defs, write_text("b.xml", "<connrt xmlns=\"" NS "\"><process id=\"b\"><start/>"
                                  "</process></connrt>"), diag);
    assert_int_equal(connrt_diag_count(diag), 0);
    assert_int_equal(connrt_definitions_count(defs), 2);
    assert_string_equal(connrt_definitions_at(defs, 0)->id, "a");
    assert_string_equal(connrt_definitions_at(defs, 1)->id, "b");
    assert_non_null(strstr(connrt_definitions_at(defs, 1)->file, "/b.xml"));
    assert_null(connrt_definitions_find(defs, "c"));
    assert_null(connrt_definitions_at(defs, 2));
    connrt_definitions_destroy(defs);
    connrt_diagnostics_destroy(diag);
}

static void load_file__property_text_on_own_lines__trimmed(void **state)
{
    (void)state;
    struct loaded l = load("trim.xml", "<connrt xmlns=\"" NS "\">\n"
                                       "<connection id=\"c\" connector=\"k\">\n"
                                       "  <property name=\"servers\">\n"
                                       "    host1:9092\n    host2:9092\n"
                                       "  </property>\n"
                                       "  <property name=\"cdata\"><![CDATA[a<b]]></property>\n"
                                       "</connection></connrt>\n");
    assert_no_problems(&l);
    const struct connrt_def_component *c = connrt_definitions_at(l.defs, 0);
    assert_string_equal(c->properties[0].value, "host1:9092\n    host2:9092");
    assert_string_equal(c->properties[1].value, "a<b");
    unload(&l);
}

static void load_file__env_in_values_and_attributes__substituted(void **state)
{
    (void)state;
    setenv("TEST_DEFS_HOST", "broker", 1);
    setenv("TEST_DEFS_EMPTY", "", 1);
    struct loaded l = load("env.xml",
                           "<connrt xmlns=\"" NS "\">\n"
                           "<connection id=\"${env:TEST_DEFS_HOST}-conn\" connector=\"k\">\n"
                           "  <property name=\"s\">${env:TEST_DEFS_HOST}:1,${env:TEST_DEFS_HOST}"
                           ":2${env:TEST_DEFS_EMPTY}</property>\n"
                           "  <property name=\"literal\">$HOME ${HOME} $${x} ${envy}</property>\n"
                           "</connection></connrt>\n");
    assert_no_problems(&l);
    const struct connrt_def_component *c = connrt_definitions_at(l.defs, 0);
    assert_string_equal(c->id, "broker-conn");
    assert_string_equal(c->properties[0].value, "broker:1,broker:2");
    assert_string_equal(c->properties[1].value, "$HOME ${HOME} $${x} ${envy}");
    unload(&l);
}

static void load_file__env_not_set__reported_at_its_line(void **state)
{
    (void)state;
    unsetenv("TEST_DEFS_UNSET_A");
    unsetenv("TEST_DEFS_UNSET_B");
    struct loaded l = load("noenv.xml",
                           "<connrt xmlns=\"" NS "\">\n"
                           "<connection id=\"c\" connector=\"k\">\n"
                           "  <property name=\"password\">${env:TEST_DEFS_UNSET_A}</property>\n"
                           "</connection>\n"
                           "<operation id=\"o\" connection=\"${env:TEST_DEFS_UNSET_B}\" "
                           "type=\"t\"/>\n"
                           "</connrt>\n");
    assert_int_equal(l.problems, 2);
    assert_has_message(l.diag, "noenv.xml:3: environment variable TEST_DEFS_UNSET_A is not set");
    assert_has_message(l.diag, "noenv.xml:5: environment variable TEST_DEFS_UNSET_B is not set");
    /* Kept, with what could not be determined left NULL. */
    assert_int_equal(connrt_definitions_count(l.defs), 2);
    const struct connrt_def_component *c = connrt_definitions_at(l.defs, 0);
    assert_string_equal(c->properties[0].name, "password");
    assert_null(c->properties[0].value);
    assert_null(connrt_definitions_at(l.defs, 1)->connection);
    unload(&l);
}

static void envsubst__malformed_references__each_reported(void **state)
{
    (void)state;
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    size_t problems = 0;
    unsetenv("TEST_DEFS_UNSET_C");
    char *out = connrt_envsubst("a${env:9x}b${env:TEST_DEFS_UNSET_C}c${env:", "f.xml", 7, diag,
                                &problems);
    assert_null(out);
    assert_int_equal(problems, 3);
    assert_string_equal(connrt_diag_message(diag, 0),
                        "f.xml:7: invalid environment variable name in ${env:...} (use letters, "
                        "digits and '_', not starting with a digit)");
    assert_string_equal(connrt_diag_message(diag, 1),
                        "f.xml:7: environment variable TEST_DEFS_UNSET_C is not set");
    assert_string_equal(connrt_diag_message(diag, 2),
                        "f.xml:7: unterminated ${env:...} reference (missing '}')");
    connrt_diagnostics_destroy(diag);
}

static void load_file__missing_file__cannot_read(void **state)
{
    (void)state;
    connrt_definitions_t *defs = connrt_definitions_new();
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    assert_int_equal(connrt_definitions_load_file(defs, "/nonexistent/defs.xml", diag), 1);
    assert_string_equal(connrt_diag_message(diag, 0),
                        "/nonexistent/defs.xml: cannot read: No such file or directory");
    assert_int_equal(connrt_definitions_file_count(defs), 1);
    assert_int_equal(connrt_definitions_load_file(defs, tmpdir, diag), 1);
    assert_non_null(strstr(connrt_diag_message(diag, 1), ": cannot read: Is a directory"));
    connrt_definitions_destroy(defs);
    connrt_diagnostics_destroy(diag);
}

static void load_file__not_well_formed__libxml_message_and_line(void **state)
{
    (void)state;
    struct loaded l = load("broken.xml", "<connrt xmlns=\"" NS "\">\n"
                                         "  <connection id=\"c\" connector=\"k\">\n"
                                         "</connrt>\n");
    assert_true(l.problems >= 1);
    assert_has_message(l.diag, "broken.xml:3: not well-formed XML: Opening and ending tag "
                               "mismatch: connection line 2 and connrt");
    assert_int_equal(connrt_definitions_count(l.defs), 0);
    unload(&l);

    l = load("empty.xml", "");
    assert_has_message(l.diag, "empty.xml:1: not well-formed XML: Document is empty");
    unload(&l);

    l = load("attr.xml", "<connrt xmlns=\"" NS "\">\n<connection id=\"a\" id=\"b\"/>\n"
                         "</connrt>\n");
    assert_has_message(l.diag, "attr.xml:2: not well-formed XML: Attribute id redefined");
    unload(&l);
}

static void load_file__undecodable_bytes__reported_not_printed(void **state)
{
    (void)state;
    static const char text[] = "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n"
                               "<connrt xmlns=\"" NS "\">\x81\x7f\xff\xfd</connrt>\n";
    char errfile[4200];
    snprintf(errfile, sizeof(errfile), "%s/stderr.txt", tmpdir);
    fflush(stderr);
    int saved = dup(2);
    FILE *capture = fopen(errfile, "w");
    assert_non_null(capture);
    dup2(fileno(capture), 2);

    connrt_definitions_t *defs = connrt_definitions_new();
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    size_t n = connrt_definitions_load_file(defs, write_text("sjis.xml", text), diag);

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(capture);
    struct stat st;
    assert_int_equal(stat(errfile, &st), 0);
    assert_int_equal(st.st_size, 0); /* libxml2 printed nothing itself */
    assert_true(n >= 1);
    assert_has_message(diag, "sjis.xml: not well-formed XML: input conversion failed due to "
                             "input error, bytes 0x81 0x7F 0xFF 0xFD");
    connrt_definitions_destroy(defs);
    connrt_diagnostics_destroy(diag);
}

static void load_file__hyphens_in_comment__accepted(void **state)
{
    (void)state;
    /* As written in the design notes: "--" inside a comment. */
    struct loaded l = load("hyphen.xml",
                           "<connrt xmlns=\"" NS "\">\n"
                           "<process id=\"p\"><start/> <!-- from --input --></process>\n"
                           "</connrt>\n");
    assert_no_problems(&l);
    assert_int_equal(connrt_definitions_count(l.defs), 1);
    unload(&l);

    /* ...but not when something else is wrong too. */
    l = load("hyphen2.xml", "<connrt xmlns=\"" NS "\">\n<!-- a -- b -->\n<process id=\"p\">\n"
                            "</connrt>\n");
    assert_has_message(l.diag, "hyphen2.xml:4: not well-formed XML: Opening and ending tag "
                               "mismatch: process line 3 and connrt");
    assert_int_equal(connrt_definitions_count(l.defs), 0);
    unload(&l);
}

static void load_file__doctype__refused(void **state)
{
    (void)state;
    struct loaded l = load("dtd.xml", "<?xml version=\"1.0\"?>\n"
                                      "<!DOCTYPE connrt [<!ENTITY e \"x\">]>\n"
                                      "<connrt xmlns=\"" NS "\"/>\n");
    assert_int_equal(l.problems, 1);
    assert_has_message(l.diag, "dtd.xml:2: DOCTYPE declarations are not allowed in definitions");
    unload(&l);
}

static void load_file__several_schema_problems__all_reported_readably(void **state)
{
    (void)state;
    struct loaded l = load("schema.xml",
                           "<connrt xmlns=\"" NS "\">\n"                                  /* 1 */
                           "  <connection id=\"a\" connector=\"kafka\" colour=\"red\">\n" /* 2 */
                           "    <propertyy name=\"x\">y</propertyy>\n"                    /* 3 */
                           "  </connection>\n"                                            /* 4 */
                           "  <operation id=\"\" connection=\"a\"/>\n"                    /* 5 */
                           "  <process id=\"p\">\n"                                       /* 6 */
                           "    <output/>\n"                                              /* 7 */
                           "  </process>\n"                                               /* 8 */
                           "  <process id=\"q\"><start/><on-error/><output/></process>\n" /* 9 */
                           "  <process id=\"r\"><start/><output>text</output></process>\n" /* 10 */
                           "  <process id=\"s\"><start/><set-properties>\n"               /* 11 */
                           "    <property name=\"k\" value=\"v\" json-pointer=\"/v\"/>\n" /* 12 */
                           "    <property name=\"k\"/>\n"                                 /* 13 */
                           "  </set-properties><on-error><start/></on-error></process>\n" /* 14 */
                           "  <bogus/>\n"                                                 /* 15 */
                           "</connrt>\n");
    assert_has_message(l.diag, "schema.xml:2: unknown attribute 'colour' on <connection> "
                               "(allowed: id, connector)");
    assert_has_message(l.diag, "schema.xml:3: unknown element <propertyy> in <connection> "
                               "(expected <property>)");
    assert_has_message(l.diag, "schema.xml:5: attribute 'id' of <operation> must not be empty");
    assert_has_message(l.diag, "schema.xml:5: <operation> is missing required attribute 'type'");
    assert_has_message(l.diag, "schema.xml:7: <process> must begin with <start> (found <output>)");
    assert_has_message(l.diag, "schema.xml:9: <output> is not allowed after <on-error> "
                               "(<on-error> must be the last child of <process>)");
    assert_has_message(l.diag, "schema.xml:10: text is not allowed inside <output> in <process>");
    assert_has_message(l.diag, "schema.xml:12: <property> in <set-properties> has both 'value' "
                               "and 'json-pointer' (give exactly one of value, json-pointer, "
                               "from-property, file-name)");
    assert_has_message(l.diag, "schema.xml:13: <property> in <set-properties> needs one of "
                               "value, json-pointer, from-property, file-name");
    assert_has_message(l.diag, "schema.xml:14: <start> is not allowed in <on-error> (the branch "
                               "starts with the failed documents)");
    assert_has_message(l.diag, "schema.xml:15: unknown element <bogus> (expected <connection>, "
                               "<operation> or <process>)");
    assert_int_equal(l.problems, connrt_diag_count(l.diag));
    assert_int_equal(l.problems, 11);
    /* What parsed is kept. */
    assert_int_equal(connrt_definitions_count(l.defs), 6);
    unload(&l);
}

static void load_file__wrong_root__says_how_to_write_it(void **state)
{
    (void)state;
    struct loaded l = load("nons.xml", "<connrt>\n<process id=\"p\"><start/></process>\n"
                                       "</connrt>\n");
    assert_int_equal(l.problems, 1);
    assert_has_message(l.diag, "nons.xml:1: root element <connrt> has no namespace (write "
                               "<connrt xmlns=\"urn:connrt:definitions:1\">)");
    assert_int_equal(connrt_definitions_count(l.defs), 0);
    unload(&l);

    l = load("other.xml", "<definitions xmlns=\"" NS "\"/>\n");
    assert_has_message(l.diag, "other.xml:1: root element must be <connrt "
                               "xmlns=\"urn:connrt:definitions:1\">, not <definitions>");
    unload(&l);
}

static void load_file__prefixed_namespace__accepted(void **state)
{
    (void)state;
    struct loaded l = load("prefix.xml",
                           "<c:connrt xmlns:c=\"" NS "\" xmlns:d=\"urn:designer\">\n"
                           "<c:process id=\"p\" d:x=\"10\"><c:start/><c:output/></c:process>\n"
                           "</c:connrt>\n");
    assert_no_problems(&l);
    assert_int_equal(connrt_definitions_at(l.defs, 0)->nsteps, 2);
    unload(&l);
}

/* A small deterministic generator, so a failure can be reproduced. */
static uint32_t next_random(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void load_file__garbage__reports_and_never_crashes(void **state)
{
    (void)state;
    uint32_t seed = 0x1234567u;
    unsigned char buf[3000];
    size_t design_len = strlen(design_example);
    for (int round = 0; round < 300; round++) {
        size_t len;
        if (round % 3 == 0) {
            len = next_random(&seed) % sizeof(buf);
            for (size_t i = 0; i < len; i++) {
                buf[i] = (unsigned char)next_random(&seed);
            }
        } else if (round % 3 == 1) {
            len = next_random(&seed) % design_len;
            memcpy(buf, design_example, len);
        } else {
            len = design_len;
            memcpy(buf, design_example, len);
            for (int k = 0; k < 4; k++) {
                buf[next_random(&seed) % len] = (unsigned char)next_random(&seed);
            }
        }
        connrt_definitions_t *defs = connrt_definitions_new();
        connrt_diagnostics_t *diag = connrt_diagnostics_new();
        size_t n = connrt_definitions_load_file(defs, write_bytes("garbage.xml", buf, len), diag);
        assert_int_equal(n, connrt_diag_count(diag));
        for (size_t i = 0; i < n; i++) {
            const char *m = connrt_diag_message(diag, i);
            assert_non_null(strstr(m, "garbage.xml:"));
            assert_null(strchr(m, '\n'));
        }
        connrt_definitions_destroy(defs);
        connrt_diagnostics_destroy(diag);
    }
}

static void diag_add__locations_and_newlines__one_line_each(void **state)
{
    (void)state;
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    connrt_diag_add(diag, "f.xml", 3, "bad %s", "thing");
    connrt_diag_add(diag, "f.xml", 0, "cannot read");
    connrt_diag_add(diag, NULL, 0, "two\nlines\t here ");
    assert_int_equal(connrt_diag_count(diag), 3);
    assert_string_equal(connrt_diag_message(diag, 0), "f.xml:3: bad thing");
    assert_string_equal(connrt_diag_message(diag, 1), "f.xml: cannot read");
    assert_string_equal(connrt_diag_message(diag, 2), "two lines here");
    assert_null(connrt_diag_message(diag, 3));
    connrt_diagnostics_destroy(diag);
    connrt_diagnostics_destroy(NULL);
    connrt_definitions_destroy(NULL);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[4200];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_file__design_example__model_has_fields_and_lines),
        cmocka_unit_test(load_file__two_files__components_of_both_kept_in_order),
        cmocka_unit_test(load_file__property_text_on_own_lines__trimmed),
        cmocka_unit_test(load_file__env_in_values_and_attributes__substituted),
        cmocka_unit_test(load_file__env_not_set__reported_at_its_line),
        cmocka_unit_test(envsubst__malformed_references__each_reported),
        cmocka_unit_test(load_file__missing_file__cannot_read),
        cmocka_unit_test(load_file__not_well_formed__libxml_message_and_line),
        cmocka_unit_test(load_file__undecodable_bytes__reported_not_printed),
        cmocka_unit_test(load_file__hyphens_in_comment__accepted),
        cmocka_unit_test(load_file__doctype__refused),
        cmocka_unit_test(load_file__several_schema_problems__all_reported_readably),
        cmocka_unit_test(load_file__wrong_root__says_how_to_write_it),
        cmocka_unit_test(load_file__prefixed_namespace__accepted),
        cmocka_unit_test(load_file__garbage__reports_and_never_crashes),
        cmocka_unit_test(diag_add__locations_and_newlines__one_line_each),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
