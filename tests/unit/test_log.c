/*
 * test_log.c - the log sink (runtime/log.c): what an operator finds in
 * logs/connrt.jsonl and on stderr.
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

#include "runtime/log.h"

struct fixture {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/connrt-log.XXXXXX");
    if (f == NULL || mkdtemp(f->dir) == NULL) {
        return -1;
    }
    /* logs/ does not exist yet: the first line creates it. */
    snprintf(f->path, sizeof(f->path), "%s/logs/connrt.jsonl", f->dir);
    connrt_log_set_file(f->path);
    connrt_log_set_level(CONNRT_LOG_INFO);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    connrt_log_set_file(NULL);
    connrt_log_set_context(NULL, 0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", f->dir);
    }
    free(f);
    return 0;
}

/* Line `n` (0-based) of the log file, parsed; NULL when there is none. */
static json_t *log_line(const struct fixture *f, int n)
{
    char line[4096];
    FILE *fp = fopen(f->path, "r");
    json_t *j = NULL;
    for (int i = 0; fp != NULL && fgets(line, sizeof(line), fp) != NULL; i++) {
        if (i == n) {
            json_error_t err;
            j = json_loads(line, 0, &err);
            assert_non_null(j);
            break;
        }
    }
    if (fp != NULL) {
        fclose(fp);
    }
    return j;
}

static void write__with_context__json_line_with_all_fields(void **state)
{
    struct fixture *f = *state;
    connrt_log_set_context("orders", 17);
    connrt_log_write(CONNRT_LOG_WARNING, "send-orders", "broker 1 is down");
    json_t *j = log_line(f, 0);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "warning");
    assert_string_equal(json_string_value(json_object_get(j, "component")), "send-orders");
    assert_string_equal(json_string_value(json_object_get(j, "process")), "orders");
    assert_int_equal(json_integer_value(json_object_get(j, "execution")), 17);
    assert_string_equal(json_string_value(json_object_get(j, "message")), "broker 1 is down");
    const char *time = json_string_value(json_object_get(j, "time"));
    assert_non_null(time);
    assert_int_equal(strlen(time), 24); /* 2024-11-24T10:00:00.123Z */
    assert_int_equal(time[23], 'Z');
    json_decref(j);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
}

static void write__no_context__no_process_or_execution(void **state)
{
    struct fixture *f = *state;
    connrt_log_set_context(NULL, 0);
    connrt_log_write(CONNRT_LOG_INFO, NULL, "hello");
    json_t *j = log_line(f, 0);
    assert_non_null(j);
    assert_null(json_object_get(j, "process"));
    assert_null(json_object_get(j, "execution"));
    assert_null(json_object_get(j, "component"));
    json_decref(j);
}

static void write__invalid_utf8__still_a_valid_line(void **state)
{
    struct fixture *f = *state;
    connrt_log_write(CONNRT_LOG_ERROR, "x", "bad \xff\xfe bytes");
    json_t *j = log_line(f, 0);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "message")), "bad ?? bytes");
    json_decref(j);
}

static void to_file__below_level__not_written(void **state)
{
    struct fixture *f = *state;
    connrt_log_set_level(CONNRT_LOG_WARNING);
    connrt_log_to_file(CONNRT_LOG_INFO, NULL, "started %d", 1);
    connrt_log_to_file(CONNRT_LOG_ERROR, NULL, "failed %d", 2);
    json_t *j = log_line(f, 0);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "message")), "failed 2");
    json_decref(j);
    assert_null(log_line(f, 1));
}

static void set_file__unwritable__lines_still_go_to_stderr(void **state)
{
    struct fixture *f = *state;
    char path[160];
    /* Two missing levels: only one is created, so the open fails. */
    snprintf(path, sizeof(path), "%s/a/b/connrt.jsonl", f->dir);
    connrt_log_set_file(path);
    char captured[160], text[2048] = "";
    snprintf(captured, sizeof(captured), "%s/stderr", f->dir);
    fflush(stderr);
    int saved = dup(2);
    FILE *cap = fopen(captured, "w+");
    assert_non_null(cap);
    dup2(fileno(cap), 2);
    connrt_log_write(CONNRT_LOG_INFO, NULL, "first");
    connrt_log_write(CONNRT_LOG_INFO, NULL, "second");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(cap);
    size_t n = fread(text, 1, sizeof(text) - 1, cap);
    text[n] = '\0';
    fclose(cap);
    assert_int_equal(access(path, F_OK), -1);
    assert_non_null(strstr(text, "connrt[INFO] first\n"));
    assert_non_null(strstr(text, "connrt[INFO] second\n"));
    const char *warning = strstr(text, "cannot write the log file");
    assert_non_null(warning);
    assert_null(strstr(warning + 1, "cannot write the log file")); /* once */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(write__with_context__json_line_with_all_fields, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(write__no_context__no_process_or_execution, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(write__invalid_utf8__still_a_valid_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(to_file__below_level__not_written, setup, teardown),
        cmocka_unit_test_setup_teardown(set_file__unwritable__lines_still_go_to_stderr, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
