/*
 * document.h - documents: payload bytes, document properties and tracked
 * properties, all in an execution arena (freed with the execution).
 */
#ifndef CONNRT_DOCUMENT_H
#define CONNRT_DOCUMENT_H

#include <connrt/connector.h>
#include <stdint.h>
#include "arena.h"
#include "known_names.h"

/* New document with a copy of `payload` in `arena`; NULL on no memory.
 * Owned by the arena. */
connrt_document_t *connrt_document_new(connrt_arena_t *arena, const void *payload, size_t len);
/* Copy of `doc` (payload shared, property lists copied) in `arena`. */
connrt_document_t *connrt_document_clone(connrt_arena_t *arena, const connrt_document_t *doc);

/* Borrowed (arena). The bytes are followed by a NUL that `len` excludes. */
const void *connrt_document_payload(const connrt_document_t *doc, size_t *len);
int connrt_document_set_payload(connrt_document_t *doc, const void *payload, size_t len);

/* Document properties; strings copied into the document's arena (a value
 * equal to the one set just before on the same document shares its copy).
 * A name longer than CONNRT_PROPERTY_NAME_MAX (16 MiB), or a NULL, returns
 * -1. */
const char *connrt_document_get_property(const connrt_document_t *doc, const char *name);
int connrt_document_set_property(connrt_document_t *doc, const char *name, const char *value);
/* The same with the value's first `len` bytes (borrowed; need not end in a
 * NUL, must hold none). */
int connrt_document_set_property_n(connrt_document_t *doc, const char *name, const char *value,
                                   size_t len);
size_t connrt_document_property_count(const connrt_document_t *doc);
void connrt_document_property_at(const connrt_document_t *doc, size_t i, const char **name,
                                 const char **value);

/* A property or tracked property with the lengths of its strings, for
 * writers; the strings are borrowed like those above. */
struct connrt_property_view {
    const char *name;
    const char *value;
    uint32_t value_len;
    /* The name's length (low 24 bits) and its enum connrt_known_name (high
     * 8 bits, CONNRT_KN_NONE unless well known): read them with the two
     * functions below. One word, stored whole (bit-fields were read back
     * from the fresh slot before each store). */
    uint32_t name_info;
};
/* The longest property name (its length shares a word with the id). */
#define CONNRT_PROPERTY_NAME_MAX ((1u << 24) - 1)

static inline size_t connrt_property_name_len(const struct connrt_property_view *v)
{
    return v->name_info & CONNRT_PROPERTY_NAME_MAX;
}

static inline enum connrt_known_name connrt_property_known(const struct connrt_property_view *v)
{
    return (enum connrt_known_name)(v->name_info >> 24);
}
/* All properties (tracked properties), in the order they were first set:
 * *count of them, borrowed until the next set on the document. */
const struct connrt_property_view *connrt_document_properties(const connrt_document_t *doc,
                                                              size_t *count);
const struct connrt_property_view *connrt_document_tracked_all(const connrt_document_t *doc,
                                                               size_t *count);

/* Tracked properties; same ownership. */
const char *connrt_document_get_tracked(const connrt_document_t *doc, const char *name);
int connrt_document_set_tracked(connrt_document_t *doc, const char *name, const char *value);
/* host->doc_set_fields: n properties in order, lengths given, copied. */
int connrt_document_set_fields(connrt_document_t *doc, const struct connrt_doc_field *fields,
                               size_t n);
size_t connrt_document_tracked_count(const connrt_document_t *doc);
void connrt_document_tracked_at(const connrt_document_t *doc, size_t i, const char **name,
                                const char **value);

/* Where the document came from, for messages: "orders.jsonl:3" (borrowed,
 * arena). Set by input readers; NULL when unknown. */
const char *connrt_document_origin(const connrt_document_t *doc);
void connrt_document_set_origin(connrt_document_t *doc, const char *origin);
/* The same without a copy per document: `origin` is borrowed and must
 * outlive the document; with `line` > 0 the origin reads "ORIGIN:LINE",
 * formatted only when asked for (most documents never are). */
void connrt_document_set_origin_ref(connrt_document_t *doc, const char *origin, size_t line);
int connrt_document_has_origin(const connrt_document_t *doc);
/* The origin unformatted: its source (borrowed, as connrt_document_origin)
 * and in *line its line (0: none). For execution history. */
const char *connrt_document_origin_source(const connrt_document_t *doc, size_t *line);

/* Sequence number within the execution (1-based), set by the engine. */
size_t connrt_document_seq(const connrt_document_t *doc);
void connrt_document_set_seq(connrt_document_t *doc, size_t seq);

/* The arena the document lives in (borrowed). */
connrt_arena_t *connrt_document_arena(const connrt_document_t *doc);

#endif
