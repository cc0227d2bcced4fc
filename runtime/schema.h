/* schema.h - the XSD for definitions, compiled in from schema/connrt.xsd
 * (generated runtime/schema_text.c) so the binary never looks for it. */
#ifndef CONNRT_SCHEMA_H
#define CONNRT_SCHEMA_H
#include <stddef.h>
extern const char connrt_schema_xsd[];
extern const size_t connrt_schema_xsd_size;
#endif
