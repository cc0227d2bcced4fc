/*
 * xml_errors.h - libxml2's parser and XSD errors rewritten as short,
 * one-line messages in the user's terms ("unknown element <propertyy> in
 * <connection> (expected <property>)") instead of the validator's
 * ("Element '{urn:connrt:definitions:1}propertyy': This element is not
 * expected...").
 */
#ifndef CONNRT_XML_ERRORS_H
#define CONNRT_XML_ERRORS_H

#include <stddef.h>
#include <libxml/xmlerror.h>

/* Namespace of definitions (schema/connrt.xsd). */
#define CONNRT_DEFINITIONS_NS "urn:connrt:definitions:1"

/* A well-formedness error: "not well-formed XML: <libxml2's message>".
 * Writes into `out` (always NUL-terminated); *line gets the error's line. */
void connrt_xml_parse_error_message(const xmlError *err, char *out, size_t size, int *line);

/* An XSD validation error rewritten for people. Writes into `out`; *line
 * gets the line of the element (or the text) it concerns. */
void connrt_xml_schema_error_message(const xmlError *err, char *out, size_t size, int *line);

#endif
