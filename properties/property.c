/*
 * property.c - checking values against a connector property table.
 *
 * The table row is the single source of truth: type, bounds, allowed values
 * and flags decide what is accepted and what the message says. Messages never
 * echo the value of a SECRET row.
 */
#include "property.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest value quoted back in a message; longer ones are cut with "...". */
#define QUOTE_MAX 64
/* Edit distance up to which a row name is offered as "did you mean". */
#define SUGGEST_MAX_DISTANCE 3

const struct connrt_property_def *connrt_property_find(const struct connrt_property_def *table,
                                                       const char *name)
{
    const struct connrt_property_def *best = NULL;
    size_t best_len = 0;

    if (table == NULL || name == NULL) {
        return NULL;
    }
    for (const struct connrt_property_def *d = table; d->name != NULL; d++) {
        if (d->type != CONNRT_PROP_PREFIX && strcmp(d->name, name) == 0) {
            return d;
        }
    }
    /* The longest matching prefix wins, so "header.x." beats "header.". */
    for (const struct connrt_property_def *d = table; d->name != NULL; d++) {
        size_t len = strlen(d->name);
        if (d->type == CONNRT_PROP_PREFIX && strncmp(d->name, name, len) == 0 &&
            len > best_len) {
            best = d;
            best_len = len;
        }
    }
    return best;
}

const char *connrt_property_type_name(connrt_property_type_t type)
{
    switch (type) {
    case CONNRT_PROP_STRING:
        return "string";
    case CONNRT_PROP_INT:
        return "integer";
    case CONNRT_PROP_BOOL:
        return "boolean";
    case CONNRT_PROP_SIZE:
        return "size";
    case CONNRT_PROP_DURATION_MS:
        return "duration";
    case CONNRT_PROP_ENUM:
        return "enum";
    case CONNRT_PROP_LIST:
        return "list";
    case CONNRT_PROP_PEM:
        return "pem";
    case CONNRT_PROP_PREFIX:
        return "prefix";
    }
    return "unknown";
}

/* ------------------------------------------------------------------------ */
/* Parsing numbers                                                          */
/* ------------------------------------------------------------------------ */

/* [begin, end) of `s` without surrounding whitespace: values from
 * container.properties keep trailing blanks, as in Java. */
static void trim(const char *s, const char **begin, const char **end)
{
    const char *b = s;
    const char *e = s + strlen(s);

    while (b < e && isspace((unsigned char)*b)) {
        b++;
    }
    while (e > b && isspace((unsigned char)e[-1])) {
        e--;
    }
    *begin = b;
    *end = e;
}

/* Decimal digits with an optional sign at the start of [p, end); stops at
 * the first non-digit and returns its position in *stop. -1 on no digits or
 * overflow. */
static int parse_decimal(const char *p, const char *end, int allow_sign, long long *out,
                         const char **stop)
{
    int negative = 0;
    unsigned long long acc = 0;
    const char *digits;

    if (p < end && (*p == '+' || *p == '-')) {
        if (!allow_sign) {
            return -1;
        }
        negative = (*p == '-');
        p++;
    }
    digits = p;
    while (p < end && *p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (acc > ((unsigned long long)LLONG_MAX + 1 - d) / 10) {
            return -1;
        }
        acc = acc * 10 + d;
        p++;
    }
    if (p == digits) {
        return -1;
    }
    if (!negative && acc > (unsigned long long)LLONG_MAX) {
        return -1;
    }
    *out = negative ? (long long)(0 - acc) : (long long)acc;
    *stop = p;
    return 0;
}

struct unit {
    const char *suffix;
    long long factor;
};

static const struct unit size_units[] = {
    {"", 1}, {"B", 1}, {"KB", 1024LL}, {"MB", 1024LL * 1024}, {"GB", 1024LL * 1024 * 1024},
    {NULL, 0}};

static const struct unit duration_units[] = {
    {"", 1}, {"ms", 1}, {"s", 1000LL}, {"m", 60LL * 1000}, {"h", 60LL * 60 * 1000}, {NULL, 0}};

/* A non-negative number followed (after optional blanks) by one of `units`. */
static int parse_with_unit(const char *value, const struct unit *units, long long *out)
{
    const char *b, *e, *p;
    long long n;

    trim(value, &b, &e);
    if (parse_decimal(b, e, 0, &n, &p) != 0) {
        return -1;
    }
    while (p < e && (*p == ' ' || *p == '\t')) {
        p++;
    }
    for (const struct unit *u = units; u->suffix != NULL; u++) {
        size_t len = strlen(u->suffix);
        if ((size_t)(e - p) == len && strncasecmp(p, u->suffix, len) == 0) {
            if (n > LLONG_MAX / u->factor) {
                return -1;
            }
            *out = n * u->factor;
            return 0;
        }
    }
    return -1;
}

static const char *const bool_true[] = {"true", "yes", "on", "1", NULL};
static const char *const bool_false[] = {"false", "no", "off", "0", NULL};

static int word_in(const char *b, const char *e, const char *const *words)
{
    for (size_t i = 0; words[i] != NULL; i++) {
        size_t len = strlen(words[i]);
        if ((size_t)(e - b) == len && strncasecmp(b, words[i], len) == 0) {
            return 1;
        }
    }
    return 0;
}

static int parse_bool(const char *value, long long *out)
{
    const char *b, *e;

    trim(value, &b, &e);
    if (word_in(b, e, bool_true)) {
        *out = 1;
        return 0;
    }
    if (word_in(b, e, bool_false)) {
        *out = 0;
        return 0;
    }
    return -1;
}

int connrt_property_parse_int(connrt_property_type_t type, const char *value, long long *out)
{
    const char *b, *e, *stop;
    long long n;

    if (value == NULL || out == NULL) {
        return -1;
    }
    switch (type) {
    case CONNRT_PROP_INT:
        trim(value, &b, &e);
        if (parse_decimal(b, e, 1, &n, &stop) != 0 || stop != e) {
            return -1;
        }
        *out = n;
        return 0;
    case CONNRT_PROP_SIZE:
        return parse_with_unit(value, size_units, out);
    case CONNRT_PROP_DURATION_MS:
        return parse_with_unit(value, duration_units, out);
    case CONNRT_PROP_BOOL:
        return parse_bool(value, out);
    default:
        return -1;
    }
}

/* ------------------------------------------------------------------------ */
/* Checking values                                                          */
/* ------------------------------------------------------------------------ */

/* ", got 'VALUE'" (cut to QUOTE_MAX), or nothing for a secret. */
static void got_clause(const struct connrt_property_def *def, const char *value, char *buf,
                       size_t size)
{
    size_t len = strlen(value);

    if (def->flags & CONNRT_PROP_F_SECRET) {
        snprintf(buf, size, " (value not shown: secret)");
    } else if (len > QUOTE_MAX) {
        snprintf(buf, size, ", got '%.*s...'", QUOTE_MAX, value);
    } else {
        snprintf(buf, size, ", got '%s'", value);
    }
}

/* " between MIN and MAX" when the row has bounds, else "". */
static void bounds_clause(const struct connrt_property_def *def, char *buf, size_t size)
{
    if (def->min < def->max) {
        snprintf(buf, size, " between %lld and %lld", def->min, def->max);
    } else {
        buf[0] = '\0';
    }
}

static int fail_expected(const struct connrt_property_def *def, const char *name,
                         const char *value, const char *what, char *errstr, size_t errstr_size)
{
    char got[QUOTE_MAX + 32];
    char bounds[64];

    got_clause(def, value, got, sizeof(got));
    bounds_clause(def, bounds, sizeof(bounds));
    snprintf(errstr, errstr_size, "property '%s': expected %s%s%s", name, what, bounds, got);
    return -1;
}

static int check_number(const struct connrt_property_def *def, const char *name,
                        const char *value, char *errstr, size_t errstr_size)
{
    const char *what = "an integer";
    long long n;

    if (def->type == CONNRT_PROP_SIZE) {
        what = "a size in bytes (suffix KB, MB or GB allowed)";
    } else if (def->type == CONNRT_PROP_DURATION_MS) {
        what = "a duration in milliseconds (suffix ms, s, m or h allowed)";
    }
    if (connrt_property_parse_int(def->type, value, &n) != 0 ||
        (def->min < def->max && (n < def->min || n > def->max))) {
        return fail_expected(def, name, value, what, errstr, errstr_size);
    }
    return 0;
}

static int check_bool(const struct connrt_property_def *def, const char *name, const char *value,
                      char *errstr, size_t errstr_size)
{
    long long n;

    if (parse_bool(value, &n) != 0) {
        return fail_expected(def, name, value, "true or false (also yes/no, on/off, 1/0)",
                             errstr, errstr_size);
    }
    return 0;
}

/* "a, b, c" of a NULL-terminated list, cut when it does not fit. */
static void join_allowed(const char *const *allowed, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; allowed != NULL && allowed[i] != NULL && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i > 0 ? ", " : "", allowed[i]);
        if (n < 0) {
            return;
        }
        used += (size_t)n;
    }
}

static int check_enum(const struct connrt_property_def *def, const char *name, const char *value,
                      char *errstr, size_t errstr_size)
{
    char list[512];
    char got[QUOTE_MAX + 32];

    for (size_t i = 0; def->allowed != NULL && def->allowed[i] != NULL; i++) {
        if (strcmp(def->allowed[i], value) == 0) {
            return 0;
        }
    }
    join_allowed(def->allowed, list, sizeof(list));
    got_clause(def, value, got, sizeof(got));
    snprintf(errstr, errstr_size, "property '%s': expected one of %s%s", name, list, got);
    return -1;
}

/* Every comma or newline separated item must hold something besides blanks.
 * Blanks around the whole value (an XML element's indentation) do not count. */
static int check_list(const struct connrt_property_def *def, const char *name, const char *value,
                      char *errstr, size_t errstr_size)
{
    const char *p, *e;

    trim(value, &p, &e);
    for (;;) {
        const char *sep = p;
        int blank = 1;
        while (sep < e && *sep != ',' && *sep != '\n') {
            if (!isspace((unsigned char)*sep)) {
                blank = 0;
            }
            sep++;
        }
        if (blank) {
            return fail_expected(def, name, value,
                                 "a comma or newline separated list without empty items",
                                 errstr, errstr_size);
        }
        if (sep == e) {
            return 0;
        }
        p = sep + 1;
    }
}

static int check_pem(const struct connrt_property_def *def, const char *name, const char *value,
                     char *errstr, size_t errstr_size)
{
    const char *what = "a file path or inline PEM text (-----BEGIN ...-----)";
    const char *b, *e;

    trim(value, &b, &e);
    if (strstr(value, "-----BEGIN") != NULL) {
        if (strstr(value, "-----END") == NULL) {
            return fail_expected(def, name, value,
                                 "inline PEM text with an -----END line after -----BEGIN",
                                 errstr, errstr_size);
        }
        return 0;
    }
    if (b == e || memchr(b, '\n', (size_t)(e - b)) != NULL) {
        return fail_expected(def, name, value, what, errstr, errstr_size);
    }
    return 0;
}

int connrt_property_check_named(const struct connrt_property_def *def, const char *name,
                                const char *value, char *errstr, size_t errstr_size)
{
    if (def == NULL) {
        snprintf(errstr, errstr_size, "property '%s': unknown property", name ? name : "");
        return -1;
    }
    if (name == NULL) {
        name = def->name;
    }
    if (def->flags & CONNRT_PROP_F_INVALID) {
        snprintf(errstr, errstr_size, "property '%s' is not supported%s%s", name,
                 def->hint ? ": " : "", def->hint ? def->hint : "");
        return -1;
    }
    if (value == NULL) {
        snprintf(errstr, errstr_size, "property '%s': no value", name);
        return -1;
    }
    if ((def->flags & CONNRT_PROP_F_REQUIRED) && value[0] == '\0') {
        snprintf(errstr, errstr_size, "property '%s': a value is required", name);
        return -1;
    }
    switch (def->type) {
    case CONNRT_PROP_INT:
    case CONNRT_PROP_SIZE:
    case CONNRT_PROP_DURATION_MS:
        return check_number(def, name, value, errstr, errstr_size);
    case CONNRT_PROP_BOOL:
        return check_bool(def, name, value, errstr, errstr_size);
    case CONNRT_PROP_ENUM:
        return check_enum(def, name, value, errstr, errstr_size);
    case CONNRT_PROP_LIST:
        return check_list(def, name, value, errstr, errstr_size);
    case CONNRT_PROP_PEM:
        return check_pem(def, name, value, errstr, errstr_size);
    case CONNRT_PROP_STRING:
    case CONNRT_PROP_PREFIX:
        return 0;
    }
    snprintf(errstr, errstr_size, "property '%s': unknown type %d in the property table", name,
             (int)def->type);
    return -1;
}

int connrt_property_check(const struct connrt_property_def *def, const char *value, char *errstr,
                          size_t errstr_size)
{
    return connrt_property_check_named(def, def ? def->name : NULL, value, errstr, errstr_size);
}

/* ------------------------------------------------------------------------ */
/* Did you mean                                                             */
/* ------------------------------------------------------------------------ */

/* Case-insensitive Levenshtein distance, or a value > limit when it exceeds
 * `limit` (names are short; longer ones are not worth comparing). */
static size_t edit_distance(const char *a, const char *b, size_t limit)
{
    enum { MAXLEN = 128 };
    size_t la = strlen(a), lb = strlen(b);
    size_t row[MAXLEN + 1];

    if (la > MAXLEN || lb > MAXLEN) {
        return limit + 1;
    }
    if ((la > lb ? la - lb : lb - la) > limit) {
        return limit + 1;
    }
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1])
                              ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* One is a prefix of the other, and the shorter has at least 3 characters,
 * so "bootstrap" finds "bootstrap_servers". */
static int prefix_match(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t n = la < lb ? la : lb;

    return n >= 3 && strncasecmp(a, b, n) == 0;
}

const char *connrt_property_suggest(const struct connrt_property_def *table, const char *name)
{
    const char *best = NULL;
    size_t best_distance = SUGGEST_MAX_DISTANCE + 1;
    const char *prefix = NULL;
    size_t len;

    if (table == NULL || name == NULL) {
        return NULL;
    }
    len = strlen(name);
    for (const struct connrt_property_def *d = table; d->name != NULL; d++) {
        size_t dist;
        if (d->flags & CONNRT_PROP_F_INVALID) {
            continue; /* never steer a user towards a known-wrong name */
        }
        dist = edit_distance(name, d->name, SUGGEST_MAX_DISTANCE);
        /* A distance as long as the name itself means nothing was shared. */
        if (dist < best_distance && dist < len) {
            best = d->name;
            best_distance = dist;
        }
        if (prefix == NULL && prefix_match(name, d->name)) {
            prefix = d->name;
        }
    }
    return best != NULL ? best : prefix;
}
