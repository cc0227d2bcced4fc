/*
 * document.c - documents in an execution arena.
 *
 * Property lists are small vectors in insertion order, grown in the arena
 * (the old array is abandoned to the arena): documents carry a handful of
 * properties, so a linear search beats any index, and no document costs a
 * malloc of its own.
 */
#include "document.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "known_names.h"

/* Consume sets two document properties (topic, key); a line read from a
 * file gets one or two from <set-properties>. */
#define PROPS_INITIAL_CAPACITY 2
/* Kafka sets five tracked properties on every document it touches (one
 * more per header). */
#define TRACKED_INITIAL_CAPACITY 5

/* One property. The storage element is the writers' view (document.h), so
 * that they read the lists in place. */
typedef struct connrt_property_view prop_t;

struct prop_list {
    prop_t *items;
    uint32_t count;
    uint32_t capacity;
};

struct connrt_document {
    connrt_arena_t *arena;
    const unsigned char *payload; /* NUL-terminated copy; len excludes the NUL */
    size_t len;
    struct prop_list props;
    struct prop_list tracked;
    const char *origin;  /* arena copy, or borrowed when origin_borrowed */
    size_t origin_line;  /* > 0: origin reads "origin:line" */
    const char *origin_text; /* arena: "origin:line", formatted on demand */
    size_t seq;
    /* The value copied last, shared by the next property of the same value
     * (Kafka sets the topic and the key as a tracked and a document
     * property): arena strings are immutable. */
    const char *last_value;
    uint32_t last_value_len;
    unsigned char origin_borrowed;
};

/* A copy of payload with a NUL after it, so text payloads can be read as C
 * strings by callers that know they hold text. */
static unsigned char *payload_copy(connrt_arena_t *arena, const void *payload, size_t len)
{
    unsigned char *copy = connrt_arena_alloc(arena, len + 1);
    if (copy == NULL) {
        return NULL;
    }
    if (len > 0) {
        memcpy(copy, payload, len);
    }
    copy[len] = '\0';
    return copy;
}

connrt_document_t *connrt_document_new(connrt_arena_t *arena, const void *payload, size_t len)
{
    /* The payload right after the document, in one allocation: a writer
     * reads both, and a chunk of documents is far larger than the caches. */
    if (len > SIZE_MAX - sizeof(connrt_document_t) - 1) {
        return NULL;
    }
    connrt_document_t *doc = connrt_arena_alloc(arena, sizeof(*doc) + len + 1);
    if (doc == NULL) {
        return NULL;
    }
    unsigned char *copy = (unsigned char *)(doc + 1);
    *doc = (connrt_document_t){.arena = arena, .payload = copy, .len = len};
    if (len > 0) {
        memcpy(copy, payload, len);
    }
    copy[len] = '\0';
    return doc;
}

static int list_copy(connrt_arena_t *arena, struct prop_list *dst, const struct prop_list *src,
                     int copy_strings)
{
    *dst = (struct prop_list){0};
    if (src->count == 0) {
        return 0;
    }
    dst->items = connrt_arena_alloc(arena, src->count * sizeof(*dst->items));
    if (dst->items == NULL) {
        return -1;
    }
    for (size_t i = 0; i < src->count; i++) {
        prop_t *p = &dst->items[i];
        *p = src->items[i];
        if (copy_strings) {
            /* Well-known names are static. */
            if (connrt_property_known(p) == CONNRT_KN_NONE) {
                p->name = connrt_arena_strndup(arena, p->name, connrt_property_name_len(p));
            }
            p->value = connrt_arena_strndup(arena, p->value, p->value_len);
            if (p->name == NULL || p->value == NULL) {
                return -1;
            }
        }
    }
    dst->count = src->count;
    dst->capacity = src->count;
    return 0;
}

connrt_document_t *connrt_document_clone(connrt_arena_t *arena, const connrt_document_t *doc)
{
    /* Strings are immutable, so within one arena they are shared; across
     * arenas they are copied so that the clone does not outlive them. */
    int same = (arena == doc->arena);
    connrt_document_t *copy = connrt_arena_alloc(arena, sizeof(*copy));
    if (copy == NULL) {
        return NULL;
    }
    *copy = *doc;
    copy->arena = arena;
    if (!same) {
        copy->last_value = NULL;
        copy->payload = payload_copy(arena, doc->payload, doc->len);
        copy->origin_text = NULL;
        if (!doc->origin_borrowed) {
            copy->origin = connrt_arena_strdup(arena, doc->origin);
        }
        if (copy->payload == NULL || (doc->origin != NULL && copy->origin == NULL)) {
            return NULL;
        }
    }
    if (list_copy(arena, &copy->props, &doc->props, !same) != 0 ||
        list_copy(arena, &copy->tracked, &doc->tracked, !same) != 0) {
        return NULL;
    }
    return copy;
}

const void *connrt_document_payload(const connrt_document_t *doc, size_t *len)
{
    if (len != NULL) {
        *len = doc->len;
    }
    return doc->payload;
}

int connrt_document_set_payload(connrt_document_t *doc, const void *payload, size_t len)
{
    unsigned char *copy = payload_copy(doc->arena, payload, len);
    if (copy == NULL) {
        return -1;
    }
    doc->payload = copy;
    doc->len = len;
    return 0;
}

static prop_t *list_find(const struct prop_list *list, const char *name, size_t len,
                         enum connrt_known_name known)
{
    for (size_t i = 0; i < list->count; i++) {
        const prop_t *p = &list->items[i];
        /* A well-known name is found by its id alone; the info of any other
         * is its length alone. */
        if (known != CONNRT_KN_NONE ? connrt_property_known(p) == known
                                    : p->name_info == len && memcmp(p->name, name, len) == 0) {
            return &list->items[i];
        }
    }
    return NULL;
}

static int list_grow(connrt_arena_t *arena, struct prop_list *list, uint32_t initial)
{
    if (list->capacity > UINT32_MAX / 2) {
        return -1;
    }
    uint32_t capacity = list->capacity ? list->capacity * 2 : initial;
    prop_t *items = connrt_arena_alloc(arena, capacity * sizeof(*items));
    if (items == NULL) {
        return -1;
    }
    if (list->count > 0) {
        memcpy(items, list->items, list->count * sizeof(*items));
    }
    list->items = items;
    list->capacity = capacity;
    return 0;
}

/* memcmp(a, b, n) == 0, without a library call for the short values
 * properties mostly hold. */
static int same_bytes(const char *a, const char *b, size_t n)
{
    if (n > 16) {
        return memcmp(a, b, n) == 0;
    }
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++) {
        diff |= (unsigned char)(a[i] ^ b[i]);
    }
    return diff == 0;
}

/* The arena copy of a value, or the document's last copied value when it
 * is the same text. */
static const char *value_copy(connrt_document_t *doc, const char *value, size_t len)
{
    if (doc->last_value != NULL && doc->last_value_len == len &&
        same_bytes(doc->last_value, value, len)) {
        return doc->last_value;
    }
    char *copy = connrt_arena_strndup(doc->arena, value, len);
    if (copy != NULL) {
        doc->last_value = copy;
        doc->last_value_len = (uint32_t)len;
    }
    return copy;
}

/* Set `name` in `list` (one of doc's). Names are limited to
 * CONNRT_PROPERTY_NAME_MAX bytes and values to 4 GiB - 1 (-1 beyond). */
static int list_set_n(connrt_document_t *doc, struct prop_list *list, uint32_t initial,
                      const char *name, size_t name_len, const char *value, size_t value_len)
{
    if (name == NULL || value == NULL) {
        return -1;
    }
    if (name_len > CONNRT_PROPERTY_NAME_MAX || value_len > UINT32_MAX) {
        return -1;
    }
    enum connrt_known_name known = connrt_known_name(name, name_len);
    const char *stored_value = value_copy(doc, value, value_len);
    if (stored_value == NULL) {
        return -1;
    }
    prop_t *p = list_find(list, name, name_len, known);
    if (p != NULL) {
        p->value = stored_value;
        p->value_len = (uint32_t)value_len;
        return 0;
    }
    if (list->count == list->capacity && list_grow(doc->arena, list, initial) != 0) {
        return -1;
    }
    /* Names set on nearly every document are their static strings rather
     * than a copy per document. */
    const char *stored_name = known != CONNRT_KN_NONE
                                  ? connrt_known_names[known].name
                                  : connrt_arena_strndup(doc->arena, name, name_len);
    if (stored_name == NULL) {
        return -1;
    }
    list->items[list->count] = (prop_t){stored_name, stored_value, (uint32_t)value_len,
                                        (uint32_t)name_len | (uint32_t)known << 24};
    list->count++;
    return 0;
}

static int list_set(connrt_document_t *doc, struct prop_list *list, uint32_t initial,
                    const char *name, const char *value, size_t value_len)
{
    return list_set_n(doc, list, initial, name, name != NULL ? strlen(name) : 0, value,
                      value_len);
}

static const char *list_get(const struct prop_list *list, const char *name)
{
    if (name == NULL) {
        return NULL;
    }
    size_t len = strlen(name);
    const prop_t *p = list_find(list, name, len, connrt_known_name(name, len));
    return p != NULL ? p->value : NULL;
}

static void list_at(const struct prop_list *list, size_t i, const char **name, const char **value)
{
    const char *n = NULL;
    const char *v = NULL;
    if (i < list->count) {
        n = list->items[i].name;
        v = list->items[i].value;
    }
    if (name != NULL) {
        *name = n;
    }
    if (value != NULL) {
        *value = v;
    }
}

const struct connrt_property_view *connrt_document_properties(const connrt_document_t *doc,
                                                              size_t *count)
{
    *count = doc->props.count;
    return doc->props.items;
}

const struct connrt_property_view *connrt_document_tracked_all(const connrt_document_t *doc,
                                                               size_t *count)
{
    *count = doc->tracked.count;
    return doc->tracked.items;
}

const char *connrt_document_get_property(const connrt_document_t *doc, const char *name)
{
    return list_get(&doc->props, name);
}

int connrt_document_set_property(connrt_document_t *doc, const char *name, const char *value)
{
    return connrt_document_set_property_n(doc, name, value, value ? strlen(value) : 0);
}

int connrt_document_set_property_n(connrt_document_t *doc, const char *name, const char *value,
                                   size_t len)
{
    return list_set(doc, &doc->props, PROPS_INITIAL_CAPACITY, name, value, len);
}

size_t connrt_document_property_count(const connrt_document_t *doc)
{
    return doc->props.count;
}

void connrt_document_property_at(const connrt_document_t *doc, size_t i, const char **name,
                                 const char **value)
{
    list_at(&doc->props, i, name, value);
}

const char *connrt_document_get_tracked(const connrt_document_t *doc, const char *name)
{
    return list_get(&doc->tracked, name);
}

int connrt_document_set_tracked(connrt_document_t *doc, const char *name, const char *value)
{
    return list_set(doc, &doc->tracked, TRACKED_INITIAL_CAPACITY, name, value,
                    value ? strlen(value) : 0);
}

/* Fields on a document without properties yet, none named twice: each
 * list is sized once and the values share one copy, with no search. Returns
 * 1 when it did them, 0 when the general path must, -1 on no memory. */
#define BULK_MAX_FIELDS 16
static int set_fields_bulk(connrt_document_t *doc, const struct connrt_doc_field *f, size_t n)
{
    enum connrt_known_name known[BULK_MAX_FIELDS];
    size_t bytes = 0;
    uint32_t ntracked = 0;
    if (n > BULK_MAX_FIELDS || doc->props.count > 0 || doc->tracked.count > 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (f[i].name == NULL) {
            return 0; /* refused by the general path */
        }
        known[i] = connrt_known_name(f[i].name, f[i].name_len);
        /* Only well-known names, each once: no name to copy or compare. */
        if (known[i] == CONNRT_KN_NONE || f[i].value == NULL || f[i].value_len > UINT32_MAX) {
            return 0;
        }
        for (size_t j = 0; j < i; j++) {
            if (known[j] == known[i]) {
                return 0;
            }
        }
        bytes += f[i].value_len + 1;
        ntracked += f[i].tracked ? 1 : 0;
    }
    uint32_t nprops = (uint32_t)n - ntracked;
    uint32_t tcap = ntracked > TRACKED_INITIAL_CAPACITY ? ntracked : TRACKED_INITIAL_CAPACITY;
    uint32_t pcap = nprops > PROPS_INITIAL_CAPACITY ? nprops : PROPS_INITIAL_CAPACITY;
    prop_t *items = connrt_arena_alloc(doc->arena, (tcap + pcap) * sizeof(*items));
    char *text = connrt_arena_alloc(doc->arena, bytes);
    if (items == NULL || text == NULL) {
        return -1;
    }
    doc->tracked = (struct prop_list){items, 0, tcap};
    doc->props = (struct prop_list){items + tcap, 0, pcap};
    const char *last = NULL;
    for (size_t i = 0; i < n; i++) {
        struct prop_list *list = f[i].tracked ? &doc->tracked : &doc->props;
        const char *value = text;
        /* The same text as the field before (a topic, a key set twice). */
        if (last != NULL && f[i].value_len == f[i - 1].value_len &&
            (f[i].value == f[i - 1].value || same_bytes(f[i].value, f[i - 1].value,
                                                        f[i].value_len))) {
            value = last;
        } else {
            memcpy(text, f[i].value, f[i].value_len);
            text[f[i].value_len] = '\0';
            text += f[i].value_len + 1;
        }
        list->items[list->count++] =
            (prop_t){connrt_known_names[known[i]].name, value, (uint32_t)f[i].value_len,
                     (uint32_t)f[i].name_len | (uint32_t)known[i] << 24};
        last = value;
    }
    doc->last_value = last;
    doc->last_value_len = n > 0 ? (uint32_t)f[n - 1].value_len : 0;
    return 1;
}

int connrt_document_set_fields(connrt_document_t *doc, const struct connrt_doc_field *fields,
                               size_t n)
{
    int bulk = set_fields_bulk(doc, fields, n);
    if (bulk != 0) {
        return bulk > 0 ? 0 : -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct connrt_doc_field *f = &fields[i];
        int rc = f->tracked ? list_set_n(doc, &doc->tracked, TRACKED_INITIAL_CAPACITY, f->name,
                                         f->name_len, f->value, f->value_len)
                            : list_set_n(doc, &doc->props, PROPS_INITIAL_CAPACITY, f->name,
                                         f->name_len, f->value, f->value_len);
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

size_t connrt_document_tracked_count(const connrt_document_t *doc)
{
    return doc->tracked.count;
}

void connrt_document_tracked_at(const connrt_document_t *doc, size_t i, const char **name,
                                const char **value)
{
    list_at(&doc->tracked, i, name, value);
}

const char *connrt_document_origin(const connrt_document_t *doc)
{
    if (doc->origin_line == 0 || doc->origin == NULL) {
        return doc->origin;
    }
    if (doc->origin_text == NULL) {
        /* Formatted once, into the document's own arena (a cache, hence the
         * cast); on no memory the bare origin still says where. */
        int n = snprintf(NULL, 0, "%s:%zu", doc->origin, doc->origin_line);
        char *text = n > 0 ? connrt_arena_alloc(doc->arena, (size_t)n + 1) : NULL;
        if (text == NULL) {
            return doc->origin;
        }
        snprintf(text, (size_t)n + 1, "%s:%zu", doc->origin, doc->origin_line);
        ((connrt_document_t *)doc)->origin_text = text;
    }
    return doc->origin_text;
}

void connrt_document_set_origin(connrt_document_t *doc, const char *origin)
{
    /* On no memory the origin stays unknown: it only decorates messages. */
    doc->origin = connrt_arena_strdup(doc->arena, origin);
    doc->origin_line = 0;
    doc->origin_text = NULL;
    doc->origin_borrowed = 0;
}

void connrt_document_set_origin_ref(connrt_document_t *doc, const char *origin, size_t line)
{
    doc->origin = origin;
    doc->origin_line = line;
    doc->origin_text = NULL;
    doc->origin_borrowed = 1;
}

int connrt_document_has_origin(const connrt_document_t *doc)
{
    return doc->origin != NULL;
}

const char *connrt_document_origin_source(const connrt_document_t *doc, size_t *line)
{
    *line = doc->origin != NULL ? doc->origin_line : 0;
    return doc->origin;
}

size_t connrt_document_seq(const connrt_document_t *doc)
{
    return doc->seq;
}

void connrt_document_set_seq(connrt_document_t *doc, size_t seq)
{
    doc->seq = seq;
}

connrt_arena_t *connrt_document_arena(const connrt_document_t *doc)
{
    return doc->arena;
}
