/*
 * test_plugin_loader.c - the loader refuses every kind of bad connector with
 * a message naming the file and the reason, and follows the search path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/plugin_loader.h"

static char plugin_dir[PATH_MAX];

static const char *plugin(const char *name, char *buf, size_t size)
{
    assert_true(snprintf(buf, size, "%s/%s.so", plugin_dir, name) < (int)size);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    const char *dir = getenv("CONNRT_TEST_PLUGINS");
    snprintf(plugin_dir, sizeof(plugin_dir), "%s", dir ? dir : "tests/plugins/.libs");
    return 0;
}

static void expect_refusal(const char *file, const char *reason)
{
    char path[PATH_MAX], errstr[1024] = "";
    connrt_registry_t *reg = connrt_registry_new();
    plugin(file, path, sizeof(path));
    assert_int_equal(connrt_registry_load_file(reg, path, errstr, sizeof(errstr)), -1);
    assert_non_null(strstr(errstr, path));
    assert_non_null(strstr(errstr, reason));
    assert_int_equal(connrt_registry_count(reg), 0);
    connrt_registry_destroy(reg);
}

static void load_file__good_plugin__registered_by_name(void **state)
{
    (void)state;
    char path[PATH_MAX], errstr[1024] = "";
    connrt_registry_t *reg = connrt_registry_new();
    assert_int_equal(connrt_registry_load_file(reg, plugin("good", path, sizeof(path)), errstr,
                                               sizeof(errstr)),
                     0);
    const struct connrt_connector *c = connrt_registry_find(reg, "testconn");
    assert_non_null(c);
    assert_string_equal(c->connection_properties[0].name, "endpoint");
    assert_string_equal(connrt_registry_path(reg, 0), path);
    assert_null(connrt_registry_find(reg, "other"));
    connrt_registry_destroy(reg);
}

static void load_file__wrong_abi_major__refused_naming_both_versions(void **state)
{
    (void)state;
    char reason[128];
    snprintf(reason, sizeof(reason),
             "connector ABI version 2.%d is not compatible with this runtime's 1.%d",
             CONNRT_ABI_VERSION_MINOR, CONNRT_ABI_VERSION_MINOR);
    expect_refusal("bad_major", reason);
}

static void load_file__struct_size_too_small__refused(void **state)
{
    (void)state;
    expect_refusal("too_small", "connector descriptor is too small (struct_size 16");
}

static void load_file__no_entry_symbol__refused(void **state)
{
    (void)state;
    expect_refusal("no_entry", "does not export connrt_connector_entry()");
}

static void load_file__operation_without_execute__refused_naming_it(void **state)
{
    (void)state;
    expect_refusal("bad_operation", "operation 'send' lacks the callbacks of its kind");
}

static void load_file__not_a_shared_object__refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/connrt-loader-XXXXXX", path[PATH_MAX], errstr[1024] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/junk.so", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not an ELF file\n", f);
    fclose(f);
    connrt_registry_t *reg = connrt_registry_new();
    assert_int_equal(connrt_registry_load_file(reg, path, errstr, sizeof(errstr)), -1);
    assert_non_null(strstr(errstr, path));
    assert_non_null(strstr(errstr, "not a loadable connector"));
    connrt_registry_destroy(reg);
    unlink(path);
    rmdir(dir);
}

static void load_file__same_name_twice__second_refused_naming_first(void **state)
{
    (void)state;
    char good[PATH_MAX], twin[PATH_MAX], errstr[1024] = "";
    connrt_registry_t *reg = connrt_registry_new();
    assert_int_equal(connrt_registry_load_file(reg, plugin("good", good, sizeof(good)), errstr,
                                               sizeof(errstr)),
                     0);
    assert_int_equal(connrt_registry_load_file(reg, plugin("good_twin", twin, sizeof(twin)),
                                               errstr, sizeof(errstr)),
                     -1);
    assert_non_null(strstr(errstr, twin));
    char expected[PATH_MAX + 64];
    snprintf(expected, sizeof(expected), "a connector named 'testconn' is already loaded from %s",
             good);
    assert_non_null(strstr(errstr, expected));
    assert_int_equal(connrt_registry_count(reg), 1);
    connrt_registry_destroy(reg);
}

/* A directory holding symlinks to the built test plugins. */
static void make_plugin_dir(const char *dir, const char *const *names)
{
    char link[PATH_MAX], target[PATH_MAX];
    assert_int_equal(mkdir(dir, 0700), 0);
    for (size_t i = 0; names[i] != NULL; i++) {
        assert_true(snprintf(link, sizeof(link), "%s/%s.so", dir, names[i]) < (int)sizeof(link));
        assert_int_equal(symlink(plugin(names[i], target, sizeof(target)), link), 0);
    }
}

static void remove_plugin_dir(const char *dir, const char *const *names)
{
    char link[PATH_MAX];
    for (size_t i = 0; names[i] != NULL; i++) {
        if (snprintf(link, sizeof(link), "%s/%s.so", dir, names[i]) < (int)sizeof(link)) {
            unlink(link);
        }
    }
    rmdir(dir);
}

static void load_search_path__container_first_then_env__bad_ones_reported(void **state)
{
    (void)state;
    static const char *const in_container[] = {"good", "bad_major", NULL};
    static const char *const in_env[] = {"good_twin", "no_entry", NULL};
    char root[] = "/tmp/connrt-search-XXXXXX", connectors[PATH_MAX], envdir[PATH_MAX];
    assert_non_null(mkdtemp(root));
    snprintf(connectors, sizeof(connectors), "%s/connectors", root);
    snprintf(envdir, sizeof(envdir), "%s/env", root);
    make_plugin_dir(connectors, in_container);
    make_plugin_dir(envdir, in_env);
    setenv("CONNRT_CONNECTOR_PATH", envdir, 1);

    connrt_registry_t *reg = connrt_registry_new();
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    size_t problems = connrt_registry_load_search_path(reg, root, diag);

    /* testconn comes from the container; the env twin is shadowed, not an error. */
    assert_non_null(connrt_registry_find(reg, "testconn"));
    assert_non_null(strstr(connrt_registry_path(reg, 0), connectors));
    assert_int_equal(problems, 2);
    assert_int_equal(connrt_diag_count(diag), 2);
    assert_non_null(strstr(connrt_diag_message(diag, 0), "bad_major.so"));
    assert_non_null(strstr(connrt_diag_message(diag, 1), "no_entry.so"));

    connrt_diagnostics_destroy(diag);
    connrt_registry_destroy(reg);
    remove_plugin_dir(connectors, in_container);
    remove_plugin_dir(envdir, in_env);
    rmdir(root);
}

static void load_search_path__same_name_twice_in_one_directory__refused(void **state)
{
    (void)state;
    static const char *const names[] = {"good", "good_twin", NULL};
    char root[] = "/tmp/connrt-twins-XXXXXX", connectors[PATH_MAX];
    assert_non_null(mkdtemp(root));
    snprintf(connectors, sizeof(connectors), "%s/connectors", root);
    make_plugin_dir(connectors, names);
    unsetenv("CONNRT_CONNECTOR_PATH");

    connrt_registry_t *reg = connrt_registry_new();
    connrt_diagnostics_t *diag = connrt_diagnostics_new();
    connrt_registry_load_search_path(reg, root, diag);
    int found = 0;
    for (size_t i = 0; i < connrt_diag_count(diag); i++) {
        const char *m = connrt_diag_message(diag, i);
        found |= strstr(m, "good_twin.so: a connector named 'testconn' is already loaded from") !=
                 NULL;
    }
    assert_true(found);

    connrt_diagnostics_destroy(diag);
    connrt_registry_destroy(reg);
    remove_plugin_dir(connectors, names);
    rmdir(root);
}

/* ---------------------------------------------------------------- ABI 1.2: browse */

static int open_nothing(const struct connrt_host *host, const connrt_settings_t *settings,
                        const char *component_id, const char *container_dir, void **connection,
                        char *errstr, size_t errstr_size)
{
    (void)host, (void)settings, (void)component_id, (void)container_dir, (void)errstr,
        (void)errstr_size;
    *connection = NULL;
    return 0;
}

static void close_nothing(void *connection)
{
    (void)connection;
}

static int browse_nothing(void *connection, const struct connrt_browse_request *request,
                          const struct connrt_browse_report *report, char *errstr,
                          size_t errstr_size)
{
    (void)connection, (void)request, (void)report, (void)errstr, (void)errstr_size;
    return 0;
}

static int describe_nothing(void *connection, void (*report)(void *opaque, const char *line),
                            void *opaque, char *errstr, size_t errstr_size)
{
    (void)connection, (void)report, (void)opaque, (void)errstr, (void)errstr_size;
    return 0;
}

static int check_nothing(const struct connrt_host *host, const connrt_settings_t *settings,
                         char *errstr, size_t errstr_size)
{
    (void)host, (void)settings, (void)errstr, (void)errstr_size;
    return 0;
}

static const struct connrt_property_def no_properties[] = {
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL},
};
static const struct connrt_operation no_operations[] = {{.type = NULL}};

static struct connrt_connector descriptor(const char *name, unsigned minor)
{
    return (struct connrt_connector){
        .abi_version = (CONNRT_ABI_VERSION_MAJOR << 16) | minor,
        .struct_size = sizeof(struct connrt_connector),
        .name = name,
        .connection_properties = no_properties,
        .operations = no_operations,
        .connection_open = open_nothing,
        .connection_close = close_nothing,
        .connection_browse = browse_nothing,
        .connection_describe = describe_nothing,
        .connection_check = check_nothing,
    };
}

static void connector_browse__abi_1_1_connector__accepted_without_browse(void **state)
{
    (void)state;
    char errstr[256] = "";
    connrt_registry_t *reg = connrt_registry_new();
    /* A 1.1 descriptor has a reserved slot where 1.2 put connection_browse;
     * whatever it holds must never be called. */
    struct connrt_connector old = descriptor("old", 1);
    assert_int_equal(connrt_registry_add_static(reg, &old, "old.so", errstr, sizeof(errstr)), 0);
    assert_null(connrt_connector_browse(connrt_registry_find(reg, "old")));
    connrt_registry_destroy(reg);
}

static void connector_browse__abi_1_2_connector__returns_its_callback(void **state)
{
    (void)state;
    struct connrt_connector current = descriptor("new", 2);
    assert_ptr_equal(connrt_connector_browse(&current), browse_nothing);
    current.connection_browse = NULL;
    assert_null(connrt_connector_browse(&current));
}

/* ---------------------------------------------------------------- ABI 1.3: describe */

static void connector_describe__abi_1_2_connector__accepted_without_describe(void **state)
{
    (void)state;
    char errstr[256] = "";
    connrt_registry_t *reg = connrt_registry_new();
    /* A 1.2 descriptor has a reserved slot where 1.3 put connection_describe. */
    struct connrt_connector old = descriptor("old12", 2);
    assert_int_equal(connrt_registry_add_static(reg, &old, "old12.so", errstr, sizeof(errstr)),
                     0);
    assert_non_null(connrt_connector_browse(connrt_registry_find(reg, "old12")));
    assert_null(connrt_connector_describe(connrt_registry_find(reg, "old12")));
    connrt_registry_destroy(reg);
}

static void connector_describe__abi_1_3_connector__returns_its_callback(void **state)
{
    (void)state;
    struct connrt_connector current = descriptor("new13", 3);
    assert_ptr_equal(connrt_connector_describe(&current), describe_nothing);
    /* A descriptor that claims 1.3 but is too small to hold the member. */
    current.struct_size = offsetof(struct connrt_connector, connection_describe);
    assert_null(connrt_connector_describe(&current));
}

/* ---------------------------------------------------------------- ABI 1.4: check */

static void connector_check__abi_1_3_connector__accepted_without_check(void **state)
{
    (void)state;
    /* A 1.3 descriptor has a reserved slot where 1.4 put connection_check. */
    struct connrt_connector old = descriptor("old13", 3);
    assert_non_null(connrt_connector_describe(&old));
    assert_null(connrt_connector_check(&old));
}

static void connector_check__abi_1_4_connector__returns_its_callback(void **state)
{
    (void)state;
    struct connrt_connector current = descriptor("new14", 4);
    assert_ptr_equal(connrt_connector_check(&current), check_nothing);
    current.struct_size = offsetof(struct connrt_connector, connection_check);
    assert_null(connrt_connector_check(&current));
}

/* ---------------------------------------------------------------- ABI 1.5: split execute */

static int execute_half(void *ctx, connrt_batch_t *batch, char *errstr, size_t errstr_size)
{
    (void)ctx, (void)batch, (void)errstr, (void)errstr_size;
    return 0;
}

static void operation_split__abi_1_4_connector__never_split(void **state)
{
    (void)state;
    /* A 1.4 operation has reserved slots where 1.5 put the two halves:
     * whatever they hold must never be called. */
    struct connrt_connector old = descriptor("old14", 4);
    struct connrt_operation op = {.type = "x", .execute_begin = execute_half,
                                  .execute_end = execute_half};
    assert_int_equal(connrt_operation_split(&old, &op), 0);
}

static void operation_split__abi_1_5__both_halves_needed(void **state)
{
    (void)state;
    struct connrt_connector current = descriptor("new15", 5);
    struct connrt_operation op = {.type = "x", .execute_begin = execute_half,
                                  .execute_end = execute_half};
    assert_int_equal(connrt_operation_split(&current, &op), 1);
    op.execute_end = NULL;
    assert_int_equal(connrt_operation_split(&current, &op), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_file__good_plugin__registered_by_name),
        cmocka_unit_test(load_file__wrong_abi_major__refused_naming_both_versions),
        cmocka_unit_test(load_file__struct_size_too_small__refused),
        cmocka_unit_test(load_file__no_entry_symbol__refused),
        cmocka_unit_test(load_file__operation_without_execute__refused_naming_it),
        cmocka_unit_test(load_file__not_a_shared_object__refused),
        cmocka_unit_test(load_file__same_name_twice__second_refused_naming_first),
        cmocka_unit_test(load_search_path__container_first_then_env__bad_ones_reported),
        cmocka_unit_test(load_search_path__same_name_twice_in_one_directory__refused),
        cmocka_unit_test(connector_browse__abi_1_1_connector__accepted_without_browse),
        cmocka_unit_test(connector_browse__abi_1_2_connector__returns_its_callback),
        cmocka_unit_test(connector_describe__abi_1_2_connector__accepted_without_describe),
        cmocka_unit_test(connector_describe__abi_1_3_connector__returns_its_callback),
        cmocka_unit_test(connector_check__abi_1_3_connector__accepted_without_check),
        cmocka_unit_test(connector_check__abi_1_4_connector__returns_its_callback),
        cmocka_unit_test(operation_split__abi_1_4_connector__never_split),
        cmocka_unit_test(operation_split__abi_1_5__both_halves_needed),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
