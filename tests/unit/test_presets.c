/*
 * test_presets.c - Event Hubs connection strings, MSK listeners and broker
 * names, and the AWS credential sources, without any server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector-kafka/aws_credentials.h"
#include "connector-kafka/event_hubs.h"
#include "connector-kafka/msk.h"

#define KEY "S3cretKeyMaterial+/AbC="

/* ------------------------------------------------------------------------ */
/* Event Hubs                                                               */
/* ------------------------------------------------------------------------ */

static void event_hubs_parse__portal_string__host_of_endpoint(void **state)
{
    char host[256], errstr[512];

    (void)state;
    assert_int_equal(kafka_event_hubs_parse("Endpoint=sb://myns.servicebus.windows.net/;"
                                            "SharedAccessKeyName=RootManageSharedAccessKey;"
                                            "SharedAccessKey=" KEY ";EntityPath=orders",
                                            host, sizeof(host), errstr, sizeof(errstr)),
                     0);
    assert_string_equal(host, "myns.servicebus.windows.net");
}

/* Found by fuzzing: blanks before "Endpoint" made its value run past the string. */
static void event_hubs_parse__blanks_before_last_endpoint__host_within_string(void **state)
{
    char host[256], errstr[512];
    const char text[] = "SharedAccessKeyName=n;SharedAccessKey=" KEY
                        ";\v\vEndpoint=sb://myns.servicebus.windows.net/";
    char *cs = malloc(sizeof(text)); /* exact size, so ASan sees a read past it */

    (void)state;
    assert_non_null(cs);
    memcpy(cs, text, sizeof(text));
    assert_int_equal(kafka_event_hubs_parse(cs, host, sizeof(host), errstr, sizeof(errstr)), 0);
    assert_string_equal(host, "myns.servicebus.windows.net");
    free(cs);
}

static void event_hubs_parse__each_malformation__clear_error_without_key(void **state)
{
    static const struct {
        const char *cs, *expected;
    } cases[] = {
        {"", "is empty"},
        {"Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=n",
         "needs SharedAccessKeyName and SharedAccessKey"},
        {"SharedAccessKeyName=n;SharedAccessKey=" KEY, "has no Endpoint=sb://"},
        {"Endpoint=https://x.servicebus.windows.net/;SharedAccessKeyName=n;SharedAccessKey=" KEY,
         "Endpoint must be sb://"},
        {"Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=n;S3cretKeyMaterialAbc",
         "part 3 is not NAME=VALUE"},
        {"Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=n;SharedAcessKey=" KEY,
         "unknown part 'SharedAcessKey'"},
        {"Endpoint=sb://x/;S3cretKeyMaterial+/AbC=x;SharedAccessKeyName=n",
         "part 2 has an unknown name"},
        {"Endpoint=sb:///;SharedAccessKeyName=n;SharedAccessKey=" KEY, "no namespace host"},
        /* Blanks before a name once moved the value's end (found by fuzzing). */
        {"Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=n; SharedAccessKey=",
         "needs SharedAccessKeyName and SharedAccessKey"},
    };
    char host[256], errstr[512];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(kafka_event_hubs_parse(cases[i].cs, host, sizeof(host), errstr,
                                                sizeof(errstr)),
                         -1);
        if (strstr(errstr, cases[i].expected) == NULL) {
            fail_msg("case %zu: expected '%s' in '%s'", i, cases[i].expected, errstr);
        }
        assert_null(strstr(errstr, "S3cretKeyMaterial"));
    }
}

static void event_hubs_settings__recommended__include_limit_and_keepalive(void **state)
{
    int seen = 0;

    (void)state;
    for (const struct kafka_preset_setting *s = kafka_event_hubs_settings; s->name; s++) {
        assert_non_null(s->why);
        if (strcmp(s->name, "message.max.bytes") == 0) {
            assert_string_equal(s->value, "1000000");
            seen |= 1;
        } else if (strcmp(s->name, "socket.keepalive.enable") == 0) {
            assert_string_equal(s->value, "true");
            seen |= 2;
        } else if (strcmp(s->name, "metadata.max.age.ms") == 0) {
            assert_true(strtol(s->value, NULL, 10) < 240000);
            seen |= 4;
        }
    }
    assert_int_equal(seen, 7);
}

/* ------------------------------------------------------------------------ */
/* MSK                                                                      */
/* ------------------------------------------------------------------------ */

static void msk_listener__each_auth__port_and_protocol(void **state)
{
    (void)state;
    assert_int_equal(kafka_msk_listener("iam")->port, 9098);
    assert_string_equal(kafka_msk_listener("iam")->mechanism, "OAUTHBEARER");
    assert_int_equal(kafka_msk_listener("scram")->port, 9096);
    assert_string_equal(kafka_msk_listener("scram")->mechanism, "SCRAM-SHA-512");
    assert_int_equal(kafka_msk_listener("tls")->port, 9094);
    assert_string_equal(kafka_msk_listener("tls")->protocol, "SSL");
    assert_int_equal(kafka_msk_listener("plaintext")->port, 9092);
    assert_null(kafka_msk_listener("kerberos"));
}

static void msk_bootstrap__hosts_without_port__get_listener_port(void **state)
{
    char errstr[256], *b;

    (void)state;
    b = kafka_msk_bootstrap("b-1.demo.abc.c2.kafka.us-east-1.amazonaws.com,\n"
                            " b-2.demo.abc.c2.kafka.us-east-1.amazonaws.com:9198",
                            9098, errstr, sizeof(errstr));
    assert_non_null(b);
    assert_string_equal(b, "b-1.demo.abc.c2.kafka.us-east-1.amazonaws.com:9098,"
                           "b-2.demo.abc.c2.kafka.us-east-1.amazonaws.com:9198");
    free(b);
}

static void msk_region__from_broker_names__found_or_not(void **state)
{
    char region[64];

    (void)state;
    assert_int_equal(kafka_msk_region_from_bootstrap(
                         "b-1.demo.abc.c2.kafka.eu-west-3.amazonaws.com:9098", region,
                         sizeof(region)),
                     0);
    assert_string_equal(region, "eu-west-3");
    assert_int_equal(kafka_msk_region_from_bootstrap(
                         "boot-x.c1.kafka-serverless.ap-south-1.amazonaws.com", region,
                         sizeof(region)),
                     0);
    assert_string_equal(region, "ap-south-1");
    assert_int_equal(kafka_msk_region_from_bootstrap("localhost:9098", region, sizeof(region)),
                     -1);
}

/* ------------------------------------------------------------------------ */
/* AWS credentials                                                          */
/* ------------------------------------------------------------------------ */

static char home[256];

static int aws_setup(void **state)
{
    FILE *f;
    char path[512];

    (void)state;
    snprintf(home, sizeof(home), "/tmp/connrt-aws-XXXXXX");
    if (mkdtemp(home) == NULL) {
        return -1;
    }
    snprintf(path, sizeof(path), "%s/credentials", home);
    f = fopen(path, "w");
    fprintf(f, "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\n"
               "aws_secret_access_key = secretdefault\n\n[kafka]\n"
               "aws_access_key_id=AKIDKAFKA\naws_secret_access_key=secretkafka\n"
               "aws_session_token = tokenkafka\n[half]\naws_access_key_id=AKIDHALF\n");
    fclose(f);
    snprintf(path, sizeof(path), "%s/config", home);
    f = fopen(path, "w");
    fprintf(f, "[profile cfg]\naws_access_key_id=AKIDCONFIG\naws_secret_access_key=s\n");
    fclose(f);
    snprintf(path, sizeof(path), "%s/credentials", home);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    snprintf(path, sizeof(path), "%s/config", home);
    setenv("AWS_CONFIG_FILE", path, 1);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    return 0;
}

static int aws_teardown(void **state)
{
    char cmd[512];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
    return system(cmd) == 0 ? 0 : -1;
}

static void load(const struct kafka_aws_explicit *ex, const char *akid, const char *source)
{
    struct kafka_aws_credentials c;
    char errstr[512];

    if (kafka_aws_credentials_load(ex, &c, errstr, sizeof(errstr)) != 0) {
        fail_msg("%s", errstr);
    }
    assert_string_equal(c.access_key_id, akid);
    assert_non_null(strstr(c.source, source));
    kafka_aws_credentials_clear(&c);
}

static void aws_credentials__sources__in_sdk_order(void **state)
{
    struct kafka_aws_explicit none = {NULL, NULL, NULL, NULL};
    struct kafka_aws_explicit props = {"AKIDPROPS", "secretprops", NULL, NULL};
    struct kafka_aws_explicit profile = {NULL, NULL, NULL, "kafka"};
    struct kafka_aws_explicit cfg = {NULL, NULL, NULL, "cfg"};

    (void)state;
    load(&none, "AKIDDEFAULT", "shared credentials file");
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
    load(&none, "AKIDENV", "environment variables");
    load(&props, "AKIDPROPS", "connection properties");
    /* An explicit profile wins over the environment (as in botocore). */
    load(&profile, "AKIDKAFKA", "(profile kafka)");
    load(&cfg, "AKIDCONFIG", "config file");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    setenv("AWS_PROFILE", "kafka", 1);
    load(&none, "AKIDKAFKA", "(profile kafka)");
    unsetenv("AWS_PROFILE");
}

static void aws_credentials__session_token__kept(void **state)
{
    struct kafka_aws_explicit profile = {NULL, NULL, NULL, "kafka"};
    struct kafka_aws_credentials c;
    char errstr[512];

    (void)state;
    assert_int_equal(kafka_aws_credentials_load(&profile, &c, errstr, sizeof(errstr)), 0);
    assert_string_equal(c.session_token, "tokenkafka");
    kafka_aws_credentials_clear(&c);
}

static void aws_credentials__half_given_or_missing__clear_errors(void **state)
{
    struct kafka_aws_explicit half_props = {"AKIDONLY", NULL, NULL, NULL};
    struct kafka_aws_explicit half_profile = {NULL, NULL, NULL, "half"};
    struct kafka_aws_explicit missing = {NULL, NULL, NULL, "nosuch"};
    struct kafka_aws_credentials c;
    char errstr[1024];

    (void)state;
    assert_int_equal(kafka_aws_credentials_load(&half_props, &c, errstr, sizeof(errstr)), -1);
    assert_non_null(strstr(errstr, "aws_access_key_id is set but aws_secret_access_key is "
                                   "not"));
    assert_int_equal(kafka_aws_credentials_load(&half_profile, &c, errstr, sizeof(errstr)), -1);
    assert_non_null(strstr(errstr, "in profile 'half'"));
    assert_int_equal(kafka_aws_credentials_load(&missing, &c, errstr, sizeof(errstr)), -1);
    assert_non_null(strstr(errstr, "no AWS credentials found: tried profile 'nosuch'"));
    assert_null(strstr(errstr, "secretkafka"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(event_hubs_parse__portal_string__host_of_endpoint),
        cmocka_unit_test(event_hubs_parse__blanks_before_last_endpoint__host_within_string),
        cmocka_unit_test(event_hubs_parse__each_malformation__clear_error_without_key),
        cmocka_unit_test(event_hubs_settings__recommended__include_limit_and_keepalive),
        cmocka_unit_test(msk_listener__each_auth__port_and_protocol),
        cmocka_unit_test(msk_bootstrap__hosts_without_port__get_listener_port),
        cmocka_unit_test(msk_region__from_broker_names__found_or_not),
        cmocka_unit_test_setup_teardown(aws_credentials__sources__in_sdk_order, aws_setup,
                                        aws_teardown),
        cmocka_unit_test_setup_teardown(aws_credentials__session_token__kept, aws_setup,
                                        aws_teardown),
        cmocka_unit_test_setup_teardown(aws_credentials__half_given_or_missing__clear_errors,
                                        aws_setup, aws_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
