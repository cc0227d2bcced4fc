/*
 * formats_internal.h - what formats.c shares with avro_json.c and
 * json_schema.c. Not part of any operation's interface.
 */
#ifndef CONNRT_KAFKA_FORMATS_INTERNAL_H
#define CONNRT_KAFKA_FORMATS_INTERNAL_H

#include <stddef.h>

#include <avro.h>
#include <jansson.h>

/*
 * Avro binary `data` (len bytes) written with `schema` (borrowed) as a new
 * JSON value owned by the caller: records are objects, unions their
 * branch's value (null or the value itself), enums their symbol, bytes and
 * fixed strings of code points 0-255 (the Avro JSON convention). NULL with
 * errstr on bytes that do not decode, or that leave bytes over (the bytes
 * are checked against the schema before avro-c reads them).
 */
json_t *kafka_avro_to_json(avro_schema_t schema, avro_value_iface_t *iface, const void *data,
                           size_t len, char *errstr, size_t errstr_size);

/*
 * `doc` (borrowed) encoded in Avro binary with the schema of `iface`, after
 * `header` bytes (copied first). A field missing from the document takes
 * its default from `defaults` (kafka_avro_defaults of the same schema;
 * borrowed, may be NULL), else null when the field is nullable. Returns a
 * malloc'd buffer owned by the caller with its length in *len, or NULL with
 * errstr naming the field (JSON pointer) that does not fit.
 */
void *kafka_json_to_avro(avro_value_iface_t *iface, const json_t *defaults, const json_t *doc,
                         const void *header, size_t header_len, size_t *len, char *errstr,
                         size_t errstr_size);

/*
 * The field defaults of the Avro schema text `schema_text` (borrowed): a
 * new object owned by the caller, {"RECORD_FULL_NAME": {"FIELD": default}}
 * (also under the record's short name when no other record has it), for
 * kafka_json_to_avro (avro-c does not expose defaults). NULL on no memory;
 * an empty object when the text has no defaults.
 */
json_t *kafka_avro_defaults(const char *schema_text);

/*
 * Check `doc` against the JSON Schema `schema` (both borrowed). Keywords:
 * type, properties, required, additionalProperties, items, enum, const,
 * minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers),
 * minLength, maxLength (in characters), allOf, anyOf, oneOf, and "$ref"
 * into the same schema ("#/definitions/x"); others, and references to other
 * documents, are not checked. Returns 0, or -1 with errstr naming the
 * field and the rule.
 */
int kafka_json_schema_check(const json_t *schema, const json_t *doc, char *errstr,
                            size_t errstr_size);

#endif
