/*
 * test_sigv4.c - the SigV4 signer against AWS's published examples, and
 * the MSK IAM token byte for byte against botocore.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <openssl/evp.h>

#include "connector-kafka/msk.h"
#include "connector-kafka/sigv4.h"

/* AWS General Reference, "Examples of how to derive a signing key for
 * Signature Version 4". */
static void signing_key__aws_example__matches_published_key(void **state)
{
    unsigned char key[32];
    char hex[65];

    (void)state;
    kafka_sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1",
                            "iam", key);
    for (int i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    }
    assert_string_equal(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

/* AWS General Reference, "Create a canonical request / string to sign /
 * calculate the signature": GET iam ListUsers at 20150830T123600Z. */
static void signature__iam_list_users_example__matches_published_signature(void **state)
{
    const char *creq = "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
                       "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
                       "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                       "content-type;host;x-amz-date\n"
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    char hash[KAFKA_SIGV4_HEX_SIZE], sts[512], sig[KAFKA_SIGV4_HEX_SIZE];

    (void)state;
    kafka_sigv4_sha256_hex(creq, strlen(creq), hash);
    assert_string_equal(hash, "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    assert_int_equal(kafka_sigv4_string_to_sign("20150830T123600Z",
                                                "20150830/us-east-1/iam/aws4_request", creq,
                                                sts, sizeof(sts)),
                     0);
    kafka_sigv4_signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1",
                          "iam", sts, sig);
    assert_string_equal(sig, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

/* Amazon S3 API Reference, "Authenticating Requests: Using Query Parameters
 * (AWS Signature Version 4)": the presigned GET of test.txt. */
static void presign_url__s3_example__matches_published_url(void **state)
{
    struct kafka_sigv4_presign req = {
        .method = "GET", .host = "examplebucket.s3.amazonaws.com", .path = "/test.txt",
        .query = NULL, .service = "s3", .region = "us-east-1", .amz_date = "20130524T000000Z",
        .expires = 86400, .payload_hash = "UNSIGNED-PAYLOAD",
        .access_key_id = "AKIAIOSFODNN7EXAMPLE",
        .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        .session_token = NULL,
    };
    char errstr[256];
    char *url;

    (void)state;
    url = kafka_sigv4_presign_url(&req, errstr, sizeof(errstr));
    assert_non_null(url);
    assert_string_equal(
        url, "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
             "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
             "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
             "&X-Amz-SignedHeaders=host&X-Amz-Signature="
             "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    free(url);
}

static void uri_encode__reserved_characters__percent_encoded_upper_case(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(kafka_sigv4_uri_encode("a-b_c.d~e f/g+h=i:j", out, sizeof(out)), 0);
    assert_string_equal(out, "a-b_c.d~e%20f%2Fg%2Bh%3Di%3Aj");
    assert_int_equal(kafka_sigv4_uri_encode("abc", out, 3), -1);
}

static void presign_url__bad_timestamp__error(void **state)
{
    struct kafka_sigv4_presign req = {
        .method = "GET", .host = "h", .path = "/", .service = "s", .region = "r",
        .amz_date = "2013-05-24", .expires = 1, .payload_hash = "x",
        .access_key_id = "A", .secret_access_key = "S",
    };
    char errstr[256];

    (void)state;
    assert_null(kafka_sigv4_presign_url(&req, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "time stamp"));
}

/* ------------------------------------------------------------------------ */
/* MSK token against botocore                                               */
/* ------------------------------------------------------------------------ */

/* Run the botocore reference; 0 and its token line in `token`, 77 when
 * botocore is missing, else -1. */
static int botocore_token(const char *region, const char *akid, const char *secret,
                          const char *session, const char *amzdate, char *token, size_t size)
{
    const char *srcdir = getenv("top_srcdir");
    const char *python = getenv("PYTHON3");
    char cmd[2048], url[4096];
    FILE *p;
    int status;

    snprintf(cmd, sizeof(cmd), "'%s' '%s/tests/security/botocore_msk_token.py' '%s' '%s' '%s' "
             "'%s' '%s' connrt/test",
             python != NULL ? python : "/usr/bin/python3", srcdir != NULL ? srcdir : ".",
             region, akid, secret, session != NULL ? session : "-", amzdate);
    p = popen(cmd, "r");
    if (p == NULL) {
        return -1;
    }
    if (fgets(url, sizeof(url), p) == NULL || fgets(token, (int)size, p) == NULL) {
        token[0] = '\0';
    }
    status = pclose(p);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        return 77;
    }
    token[strcspn(token, "\n")] = '\0';
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = s};
    return timegm(&tm);
}

static void check_against_botocore(const char *region, const char *akid, const char *secret,
                                   const char *session, time_t when, const char *amzdate)
{
    struct kafka_aws_credentials cred = {(char *)akid, (char *)secret, (char *)session, ""};
    char expected[8192], errstr[256];
    char *token;
    int rc = botocore_token(region, akid, secret, session, amzdate, expected, sizeof(expected));

    if (rc == 77) {
        skip();
    }
    assert_int_equal(rc, 0);
    token = kafka_msk_iam_token(region, &cred, when, "connrt/test", errstr, sizeof(errstr));
    assert_non_null(token);
    assert_string_equal(token, expected);
    free(token);
}

static void msk_iam_token__no_session_token__same_bytes_as_botocore(void **state)
{
    (void)state;
    check_against_botocore("us-east-1", "AKIAIOSFODNN7EXAMPLE",
                           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL,
                           utc(2024, 1, 2, 3, 4, 5), "20240102T030405Z");
}

static void msk_iam_token__session_token_with_reserved_chars__same_bytes_as_botocore(void **s)
{
    (void)s;
    check_against_botocore("eu-west-3", "ASIAEXAMPLE123",
                           "abc+def/ghi=jkl", "IQoJb3JpZ2luX2VjE/a+b==c%d",
                           utc(2023, 12, 31, 23, 59, 59), "20231231T235959Z");
}

static void msk_iam_token__decoded__is_presigned_connect_url(void **state)
{
    struct kafka_aws_credentials cred = {"AKID", "SECRET", NULL, ""};
    char errstr[256];
    char *token = kafka_msk_iam_token("ap-south-1", &cred, utc(2024, 5, 6, 7, 8, 9), "connrt/x",
                                      errstr, sizeof(errstr));

    char b64[4096], url[4096];
    size_t n;
    int len;

    (void)state;
    assert_non_null(token);
    assert_null(strpbrk(token, "=+/"));
    n = strlen(token);
    snprintf(b64, sizeof(b64), "%s%s", token, n % 4 == 2 ? "==" : n % 4 == 3 ? "=" : "");
    for (char *p = b64; *p != '\0'; p++) {
        *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
    }
    len = EVP_DecodeBlock((unsigned char *)url, (const unsigned char *)b64, (int)strlen(b64));
    assert_true(len > 0);
    url[len] = '\0';
    assert_non_null(strstr(url, "https://kafka.ap-south-1.amazonaws.com/?Action=kafka-cluster"
                                "%3AConnect&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
                                "AKID%2F20240506%2Fap-south-1%2Fkafka-cluster%2Faws4_request&"
                                "X-Amz-Date=20240506T070809Z&X-Amz-Expires=900&"));
    assert_non_null(strstr(url, "&User-Agent=connrt/x"));
    free(token);
}

static void msk_iam_token__bad_region__error_names_region(void **state)
{
    struct kafka_aws_credentials cred = {"AKID", "SECRET", NULL, ""};
    char errstr[256];

    (void)state;
    assert_null(kafka_msk_iam_token("US East", &cred, 0, "x", errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "'US East'"));
    assert_null(strstr(errstr, "SECRET"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signing_key__aws_example__matches_published_key),
        cmocka_unit_test(signature__iam_list_users_example__matches_published_signature),
        cmocka_unit_test(presign_url__s3_example__matches_published_url),
        cmocka_unit_test(uri_encode__reserved_characters__percent_encoded_upper_case),
        cmocka_unit_test(presign_url__bad_timestamp__error),
        cmocka_unit_test(msk_iam_token__no_session_token__same_bytes_as_botocore),
        cmocka_unit_test(msk_iam_token__session_token_with_reserved_chars__same_bytes_as_botocore),
        cmocka_unit_test(msk_iam_token__decoded__is_presigned_connect_url),
        cmocka_unit_test(msk_iam_token__bad_region__error_names_region),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
