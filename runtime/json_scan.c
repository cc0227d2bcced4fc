/*
 * json_scan.c - RFC 6901 pointer lookup by one validating pass over JSON
 * text (see json_scan.h).
 *
 * The pass is a recursive descent that checks the whole text as jansson's
 * decoder does (grammar, UTF-8, escapes and surrogates, integer range, real
 * overflow, trailing bytes) and notes where the pointer's value lies. Being
 * stricter than jansson is safe (jansson then decides); being laxer is not,
 * so every doubt answers "not sure".
 */
#include "json_scan.h"

#include <string.h>

#include "json_bytes.h"

#define SCAN_SURE 0
#define SCAN_UNSURE 1
/* jansson allows 2048 levels; deeper texts go to jansson. */
#define SCAN_MAX_DEPTH 256
#define SCAN_MAX_TOKENS 32
#define SCAN_MAX_POINTER 512
/* Integers of up to 18 digits fit jansson's json_int_t (long long). */
#define SCAN_MAX_INT_DIGITS 18
/* A real below 10^300 cannot overflow a double. */
#define SCAN_MAX_REAL_MAGNITUDE 300

struct token {
    const char *text; /* decoded: ~0 -> '~', ~1 -> '/' */
    size_t len;
    long long index; /* the token as an array index, or -1 */
};

struct scan {
    const unsigned char *p, *end;
    const struct token *tokens;
    size_t ntokens;
    const unsigned char *found; /* the value's text; NULL: not found yet */
    size_t found_len;
};

enum value_kind { KIND_OTHER, KIND_PLAIN_STRING, KIND_INTEGER, KIND_LITERAL };

/* ------------------------------------------------------------- the pointer */

/* RFC 6901 array index: "0" or digits without a leading zero. */
static long long token_index(const char *t, size_t len)
{
    long long v = 0;
    if (len == 0 || len > SCAN_MAX_INT_DIGITS || (len > 1 && t[0] == '0')) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (t[i] < '0' || t[i] > '9') {
            return -1;
        }
        v = v * 10 + (t[i] - '0');
    }
    return v;
}

/* Split and decode `pointer` into `tokens` (text in `buf`). Returns the
 * number of tokens, or -1 for anything jansson should judge. */
static int pointer_tokens(const char *pointer, char *buf, struct token *tokens)
{
    size_t plen = strlen(pointer);
    int n = 0;
    size_t o = 0;
    if (plen >= SCAN_MAX_POINTER || (plen > 0 && pointer[0] != '/')) {
        return -1;
    }
    for (size_t i = 0; i < plen;) {
        if (n == SCAN_MAX_TOKENS) {
            return -1;
        }
        i++; /* the '/' */
        tokens[n].text = buf + o;
        size_t start = o;
        while (i < plen && pointer[i] != '/') {
            if (pointer[i] == '~') {
                if (i + 1 >= plen || (pointer[i + 1] != '0' && pointer[i + 1] != '1')) {
                    return -1;
                }
                buf[o++] = pointer[i + 1] == '0' ? '~' : '/';
                i += 2;
            } else {
                buf[o++] = pointer[i++];
            }
        }
        tokens[n].len = o - start;
        tokens[n].index = token_index(tokens[n].text, tokens[n].len);
        n++;
    }
    return n;
}

/* ------------------------------------------------------------- the text */

static void skip_ws(struct scan *s)
{
    while (s->p < s->end &&
           (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')) {
        s->p++;
    }
}

/* One UTF-8 sequence at s->p (first byte >= 0x80), as jansson's
 * utf8_check_first/utf8_check_full accept it. */
static int scan_utf8(struct scan *s)
{
    unsigned char u = *s->p;
    size_t size;
    unsigned value;
    if (u >= 0xC2 && u <= 0xDF) {
        size = 2;
        value = u & 0x1Fu;
    } else if (u >= 0xE0 && u <= 0xEF) {
        size = 3;
        value = u & 0x0Fu;
    } else if (u >= 0xF0 && u <= 0xF4) {
        size = 4;
        value = u & 0x07u;
    } else {
        return -1;
    }
    if ((size_t)(s->end - s->p) < size) {
        return -1;
    }
    for (size_t i = 1; i < size; i++) {
        unsigned char c = s->p[i];
        if (c < 0x80 || c > 0xBF) {
            return -1;
        }
        value = (value << 6) + (c & 0x3Fu);
    }
    if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF) ||
        (size == 3 && value < 0x800) || (size == 4 && value < 0x10000)) {
        return -1;
    }
    s->p += size;
    return 0;
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (unsigned)(c - 'A' + 10);
        } else {
            return -1;
        }
    }
    *out = v;
    return 0;
}

/* A \u escape at s->p (after the backslash, on the 'u'); a high surrogate
 * must be followed by a low one. \u0000 is fine in values (JSON_ALLOW_NUL),
 * not in keys. */
static int scan_unicode_escape(struct scan *s, int is_key)
{
    unsigned cp, low;
    if (s->end - s->p < 5 || hex4(s->p + 1, &cp) != 0) {
        return -1;
    }
    s->p += 5;
    if (cp == 0 && is_key) {
        return -1;
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return -1;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
            hex4(s->p + 2, &low) != 0 || low < 0xDC00 || low > 0xDFFF) {
            return -1;
        }
        s->p += 6;
    }
    return 0;
}

/* A string at s->p (on the opening quote). Gives its raw content and
 * whether it holds escapes. */
static int scan_string(struct scan *s, int is_key, const unsigned char **content, size_t *len,
                       int *escaped)
{
    const unsigned char *start = ++s->p;
    *escaped = 0;
    for (;;) {
        /* Plain ASCII is nearly all of it. */
        s->p = connrt_json_plain_end(s->p, s->end);
        if (s->p >= s->end) {
            return -1;
        }
        unsigned char c = *s->p;
        if (c == '"') {
            *content = start;
            *len = (size_t)(s->p - start);
            s->p++;
            return 0;
        }
        if (c < 0x20) {
            return -1; /* control character */
        }
        if (c >= 0x80) {
            if (scan_utf8(s) != 0) {
                return -1;
            }
            continue;
        }
        /* A backslash. */
        *escaped = 1;
        if (s->end - s->p < 2) {
            return -1;
        }
        s->p++;
        switch (*s->p) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            s->p++;
            break;
        case 'u':
            if (scan_unicode_escape(s, is_key) != 0) {
                return -1;
            }
            break;
        default:
            return -1;
        }
    }
}

static size_t scan_digits(struct scan *s)
{
    const unsigned char *start = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        s->p++;
    }
    return (size_t)(s->p - start);
}

/* A number, as jansson's lexer reads it; integers must fit a long long and
 * reals must not overflow a double (else jansson fails the text). */
static int scan_number(struct scan *s, enum value_kind *kind)
{
    const unsigned char *start = s->p;
    int negative = 0;
    if (*s->p == '-') {
        negative = 1;
        s->p++;
    }
    if (s->p >= s->end || *s->p < '0' || *s->p > '9') {
        return -1;
    }
    size_t int_digits;
    if (*s->p == '0') {
        s->p++;
        int_digits = 1;
        if (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
            return -1; /* leading zero */
        }
    } else {
        int_digits = scan_digits(s);
    }
    int real = 0;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (scan_digits(s) == 0) {
            return -1;
        }
        real = 1;
    }
    long long exponent = 0;
    int exp_negative = 0;
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-')) {
            exp_negative = (*s->p == '-');
            s->p++;
        }
        const unsigned char *digits = s->p;
        if (scan_digits(s) == 0) {
            return -1;
        }
        for (const unsigned char *d = digits; d < s->p && exponent < 100000; d++) {
            exponent = exponent * 10 + (*d - '0');
        }
        real = 1;
    }
    if (!real) {
        if (int_digits > SCAN_MAX_INT_DIGITS) {
            return -1;
        }
        /* jansson reads -0 as the integer 0: its text is "0", not "-0". */
        *kind = (negative && s->p - start == 2) ? KIND_OTHER : KIND_INTEGER;
        return 0;
    }
    if (!exp_negative && (long long)int_digits + exponent > SCAN_MAX_REAL_MAGNITUDE) {
        return -1;
    }
    *kind = KIND_OTHER;
    return 0;
}

static int scan_literal(struct scan *s, const char *word, size_t len)
{
    if ((size_t)(s->end - s->p) < len || memcmp(s->p, word, len) != 0) {
        return -1;
    }
    s->p += len;
    return 0;
}

static int scan_value(struct scan *s, size_t depth, int on_path);

/* After a member or element: 1 at the closing `close` (consumed), 0 after
 * a comma (consumed, white space skipped), -1 on anything else. */
static int scan_separator(struct scan *s, unsigned char close)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 1;
    }
    if (s->p >= s->end || *s->p != ',') {
        return -1;
    }
    s->p++;
    skip_ws(s);
    return 0;
}

/* Past the opening bracket: 1 if `close` follows at once (consumed). */
static int scan_open(struct scan *s, unsigned char close)
{
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 1;
    }
    return 0;
}


/* An object; on the path, the member named by the token at `depth` is the
 * next step. A duplicate or escaped key there goes to jansson (which keeps
 * the last duplicate and decodes escapes). */
static int scan_object(struct scan *s, size_t depth, int on_path)
{
    int looking = on_path && depth < s->ntokens;
    int matched = 0;
    int rc = scan_open(s, '}');
    while (rc == 0) {
        const unsigned char *key;
        size_t key_len;
        int escaped;
        if (s->p >= s->end || *s->p != '"' || scan_string(s, 1, &key, &key_len, &escaped) != 0) {
            return -1;
        }
        int member_on_path = 0;
        if (looking) {
            if (escaped) {
                return -1;
            }
            const struct token *t = &s->tokens[depth];
            if (key_len == t->len && memcmp(key, t->text, key_len) == 0) {
                if (matched) {
                    return -1;
                }
                matched = 1;
                member_on_path = 1;
            }
        }
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') {
            return -1;
        }
        s->p++;
        skip_ws(s);
        if (scan_value(s, depth + 1, member_on_path) != 0) {
            return -1;
        }
        rc = scan_separator(s, '}');
    }
    return rc < 0 ? -1 : 0;
}

static int scan_array(struct scan *s, size_t depth, int on_path)
{
    int looking = on_path && depth < s->ntokens;
    long long want = looking ? s->tokens[depth].index : -1;
    if (looking && want < 0) {
        return -1; /* not an index: jansson names the error */
    }
    int rc = scan_open(s, ']');
    for (long long i = 0; rc == 0; i++) {
        if (scan_value(s, depth + 1, looking && i == want) != 0) {
            return -1;
        }
        rc = scan_separator(s, ']');
    }
    return rc < 0 ? -1 : 0;
}

/* A value at s->p (no leading white space). `on_path`: the tokens before
 * `depth` led here; at the last one this is the value wanted. */
static int scan_value(struct scan *s, size_t depth, int on_path)
{
    const unsigned char *start = s->p;
    enum value_kind kind = KIND_OTHER;
    const unsigned char *content = NULL;
    size_t content_len = 0;
    int escaped;
    int rc;
    if (depth > SCAN_MAX_DEPTH || s->p >= s->end) {
        return -1;
    }
    switch (*s->p) {
    case '{':
        return scan_object(s, depth, on_path);
    case '[':
        return scan_array(s, depth, on_path);
    case '"':
        rc = scan_string(s, 0, &content, &content_len, &escaped);
        kind = escaped ? KIND_OTHER : KIND_PLAIN_STRING;
        break;
    case 't':
        rc = scan_literal(s, "true", 4);
        kind = KIND_LITERAL;
        break;
    case 'f':
        rc = scan_literal(s, "false", 5);
        kind = KIND_LITERAL;
        break;
    case 'n':
        rc = scan_literal(s, "null", 4);
        kind = KIND_LITERAL;
        break;
    default:
        rc = scan_number(s, &kind);
        break;
    }
    if (rc != 0) {
        return -1;
    }
    if (on_path) {
        if (depth < s->ntokens || kind == KIND_OTHER) {
            return -1; /* a scalar in the way, or text jansson would rewrite */
        }
        if (kind == KIND_PLAIN_STRING) {
            s->found = content;
            s->found_len = content_len;
        } else {
            s->found = start;
            s->found_len = (size_t)(s->p - start);
        }
    }
    return 0;
}

int connrt_json_scan_pointer(const char *json, size_t len, const char *pointer,
                             const char **value, size_t *value_len)
{
    char buf[SCAN_MAX_POINTER];
    struct token tokens[SCAN_MAX_TOKENS];
    int ntokens = pointer != NULL ? pointer_tokens(pointer, buf, tokens) : -1;
    if (ntokens < 0 || json == NULL) {
        return SCAN_UNSURE;
    }
    struct scan s = {(const unsigned char *)json, (const unsigned char *)json + len, tokens,
                     (size_t)ntokens, NULL, 0};
    skip_ws(&s);
    if (scan_value(&s, 0, 1) != 0) {
        return SCAN_UNSURE;
    }
    skip_ws(&s);
    if (s.p != s.end || s.found == NULL) {
        return SCAN_UNSURE;
    }
    *value = (const char *)s.found;
    *value_len = s.found_len;
    return SCAN_SURE;
}
