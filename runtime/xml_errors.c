/*
 * xml_errors.c - libxml2 errors in the user's terms. The XSD validator
 * names elements as '{urn:...}name' and says "This element is not
 * expected"; users need "unknown element <propertyy> in <connection>
 * (expected <property>)". The rewrite keys on the error code and the node
 * the error concerns; anything not recognised keeps libxml2's text with the
 * namespace noise removed.
 */
#include "xml_errors.h"

#include <stdio.h>
#include <string.h>
#include <libxml/tree.h>

#define NS_BRACED "{" CONNRT_DEFINITIONS_NS "}"

/* Attributes and children each element takes (schema/connrt.xsd), for
 * "allowed: ..." and "expected ..." hints. */
struct element_info {
    const char *name;
    const char *attributes;
    const char *children;
};

static const struct element_info elements[] = {
    {"connrt", NULL, "<connection>, <operation> or <process>"},
    {"connection", "id, connector", "<property>"},
    {"operation", "id, connection, type", "<property>"},
    {"process", "id", "<start>, <set-properties>, <connector>, <output> or <on-error>"},
    {"property", "name", NULL},
    {"start", "operation", NULL},
    {"set-properties", NULL, "<property>"},
    {"connector", "operation", NULL},
    {"output", NULL, NULL},
    {"on-error", NULL, "<set-properties>, <connector> or <output>"},
    {NULL, NULL, NULL},
};

static const char *const assignment_attributes = "name, value, json-pointer, from-property, "
                                                 "file-name";

static int in_our_namespace(const xmlNode *node)
{
    return node != NULL && node->ns != NULL && node->ns->href != NULL &&
           strcmp((const char *)node->ns->href, CONNRT_DEFINITIONS_NS) == 0;
}

static const struct element_info *element_info(const xmlNode *node)
{
    if (!in_our_namespace(node)) {
        return NULL;
    }
    for (const struct element_info *e = elements; e->name != NULL; e++) {
        if (strcmp(e->name, (const char *)node->name) == 0) {
            return e;
        }
    }
    return NULL;
}

static const char *node_name(const xmlNode *node)
{
    return (node != NULL && node->name != NULL) ? (const char *)node->name : "?";
}

static const xmlNode *parent_element(const xmlNode *node)
{
    const xmlNode *p = node ? node->parent : NULL;
    return (p != NULL && p->type == XML_ELEMENT_NODE) ? p : NULL;
}

/* A <property> directly in <set-properties> takes other attributes. */
static int is_assignment(const xmlNode *node)
{
    const xmlNode *parent = parent_element(node);
    return parent != NULL && strcmp(node_name(node), "property") == 0 &&
           strcmp(node_name(parent), "set-properties") == 0;
}

/* "<property> in <connection>": the element and, below the root, its parent. */
static void describe_element(const xmlNode *node, char *out, size_t size)
{
    const xmlNode *parent = parent_element(node);
    if (parent != NULL && parent_element(parent) != NULL) {
        snprintf(out, size, "<%s> in <%s>", node_name(node), node_name(parent));
    } else {
        snprintf(out, size, "<%s>", node_name(node));
    }
}

/* Copy of `text` with every "{urn:connrt:definitions:1}" removed. */
static void strip_namespace(const char *text, char *out, size_t size)
{
    size_t n = 0, skip = strlen(NS_BRACED);
    while (*text != '\0' && n + 1 < size) {
        if (strncmp(text, NS_BRACED, skip) == 0) {
            text += skip;
            continue;
        }
        out[n++] = *text++;
    }
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ' || out[n - 1] == '.')) {
        out[--n] = '\0';
    }
}

/* The name quoted after `marker` ("attribute '") in `msg`, or "". */
static void quoted_after(const char *msg, const char *marker, char *out, size_t size)
{
    const char *p = msg ? strstr(msg, marker) : NULL;
    const char *end = p ? strchr(p + strlen(marker), '\'') : NULL;
    out[0] = '\0';
    if (p != NULL && end != NULL) {
        p += strlen(marker);
        snprintf(out, size, "%.*s", (int)(end - p), p);
    }
}

/* libxml2's "Expected is ( a, b )" list as "<a>, <b>" (or "" when absent). */
static void expected_list(const char *msg, char *out, size_t size)
{
    char plain[1024], *p, *end;
    size_t n = 0;
    out[0] = '\0';
    strip_namespace(msg ? msg : "", plain, sizeof(plain));
    p = strstr(plain, "Expected is");
    p = p ? strchr(p, '(') : NULL;
    end = p ? strchr(p, ')') : NULL;
    if (p == NULL || end == NULL) {
        return;
    }
    *end = '\0';
    for (char *item = p + 1; item < end && n + 1 < size;) {
        char *comma = strchr(item, ',');
        char *stop = comma ? comma : end;
        while (*item == ' ') {
            item++;
        }
        char *last = stop;
        while (last > item && last[-1] == ' ') {
            last--;
        }
        if (last > item) {
            int w = snprintf(out + n, size - n, "%s<%.*s>", n ? ", " : "", (int)(last - item),
                             item);
            n += (w > 0) ? (size_t)w : 0;
        }
        item = comma ? comma + 1 : end;
    }
    if (n >= size) {
        out[size - 1] = '\0';
    }
    /* "<a>, <b>, <c>" reads as "<a>, <b> or <c>". */
    char *last_comma = strrchr(out, ',');
    if (last_comma != NULL && last_comma[1] == ' ' && strlen(out) + 3 < size) {
        memmove(last_comma + 3, last_comma + 1, strlen(last_comma + 1) + 1);
        memcpy(last_comma, " or", 3);
    }
}

/* Line of the first child of `node` of `type` (non-blank text, or an
 * element), else the node's own line. */
static int child_line(const xmlNode *node, xmlElementType type, int fallback)
{
    for (const xmlNode *c = node ? node->children : NULL; c != NULL; c = c->next) {
        if (c->type != type) {
            continue;
        }
        if (type == XML_TEXT_NODE && xmlIsBlankNode((xmlNode *)c)) {
            continue;
        }
        long line = xmlGetLineNo((xmlNode *)c);
        return line > 0 ? (int)line : fallback;
    }
    return fallback;
}

static int has_preceding_on_error(const xmlNode *node)
{
    for (const xmlNode *s = node->prev; s != NULL; s = s->prev) {
        if (s->type == XML_ELEMENT_NODE && strcmp(node_name(s), "on-error") == 0) {
            return 1;
        }
    }
    return 0;
}

static void unexpected_element(const xmlNode *node, const char *msg, char *out, size_t size)
{
    char expected[512], where[256];
    const xmlNode *parent = parent_element(node);
    const char *parent_name = parent ? node_name(parent) : "";
    expected_list(msg, expected, sizeof(expected));
    describe_element(node, where, sizeof(where));
    if (element_info(node) == NULL) {
        const struct element_info *pinfo = element_info(parent);
        if (expected[0] == '\0' && pinfo != NULL && pinfo->children != NULL) {
            snprintf(expected, sizeof(expected), "%s", pinfo->children);
        }
        if (node->ns != NULL && node->ns->href != NULL && !in_our_namespace(node)) {
            snprintf(out, size, "unknown element %s (namespace '%s')", where,
                     (const char *)node->ns->href);
        } else {
            snprintf(out, size, "unknown element %s", where);
        }
    } else if (strcmp(parent_name, "process") == 0 && has_preceding_on_error(node)) {
        snprintf(out, size, "<%s> is not allowed after <on-error> (<on-error> must be the last "
                 "child of <process>)", node_name(node));
        return;
    } else if (strcmp(node_name(node), "start") == 0 && strcmp(parent_name, "process") == 0) {
        snprintf(out, size, "a second <start> in <process> (only the first step is <start>)");
        return;
    } else if (strcmp(node_name(node), "start") == 0 && strcmp(parent_name, "on-error") == 0) {
        snprintf(out, size, "<start> is not allowed in <on-error> (the branch starts with the "
                 "failed documents)");
        return;
    } else if (strcmp(parent_name, "process") == 0 && strcmp(expected, "<start>") == 0) {
        snprintf(out, size, "<process> must begin with <start> (found <%s>)", node_name(node));
        return;
    } else {
        snprintf(out, size, "element %s is not allowed here", where);
    }
    if (expected[0] != '\0') {
        size_t n = strlen(out);
        snprintf(out + n, size - n, " (expected %s)", expected);
    }
}

static void missing_child(const xmlNode *node, const char *msg, char *out, size_t size)
{
    char expected[512];
    expected_list(msg, expected, sizeof(expected));
    if (strcmp(node_name(node), "process") == 0 && strcmp(expected, "<start>") == 0) {
        snprintf(out, size, "<process> must begin with <start>");
    } else if (expected[0] != '\0') {
        snprintf(out, size, "<%s> is missing a child element (expected %s)", node_name(node),
                 expected);
    } else {
        snprintf(out, size, "<%s> is missing a child element", node_name(node));
    }
}

static void unknown_attribute(const xmlNode *node, const char *msg, char *out, size_t size)
{
    char attr[128], where[256];
    const struct element_info *info = element_info(node);
    const char *allowed = info ? info->attributes : NULL;
    if (is_assignment(node)) {
        allowed = assignment_attributes;
    }
    quoted_after(msg, "attribute '", attr, sizeof(attr));
    describe_element(node, where, sizeof(where));
    if (allowed != NULL) {
        snprintf(out, size, "unknown attribute '%s' on %s (allowed: %s)", attr, where, allowed);
    } else {
        snprintf(out, size, "unknown attribute '%s' on %s (it takes none)", attr, where);
    }
}

static void wrong_root(const xmlNode *node, char *out, size_t size)
{
    if (strcmp(node_name(node), "connrt") == 0 && node->ns == NULL) {
        snprintf(out, size, "root element <connrt> has no namespace (write <connrt xmlns=\"%s\">)",
                 CONNRT_DEFINITIONS_NS);
    } else if (strcmp(node_name(node), "connrt") == 0) {
        snprintf(out, size,
                 "root element <connrt> is in namespace '%s' (write <connrt xmlns=\"%s\">)",
                 (const char *)node->ns->href, CONNRT_DEFINITIONS_NS);
    } else {
        snprintf(out, size, "root element must be <connrt xmlns=\"%s\">, not <%s>",
                 CONNRT_DEFINITIONS_NS, node_name(node));
    }
}

static void text_not_allowed(const xmlNode *node, char *out, size_t size)
{
    char where[256];
    describe_element(node, where, sizeof(where));
    if (is_assignment(node)) {
        snprintf(out, size, "text is not allowed inside %s (give value=\"...\")", where);
    } else if (strcmp(node_name(node), "connection") == 0 ||
               strcmp(node_name(node), "operation") == 0) {
        snprintf(out, size, "text is not allowed inside %s (values go in <property> elements)",
                 where);
    } else {
        snprintf(out, size, "text is not allowed inside %s", where);
    }
}

void connrt_xml_parse_error_message(const xmlError *err, char *out, size_t size, int *line)
{
    char plain[1024];
    strip_namespace(err->message ? err->message : "unknown error", plain, sizeof(plain));
    *line = err->line;
    snprintf(out, size, "not well-formed XML: %s", plain);
}

void connrt_xml_schema_error_message(const xmlError *err, char *out, size_t size, int *line)
{
    const xmlNode *node = (const xmlNode *)err->node;
    const char *msg = err->message ? err->message : "";
    char attr[128], plain[1024];
    long node_line = node ? xmlGetLineNo((xmlNode *)node) : 0;

    *line = node_line > 0 ? (int)node_line : err->line;
    if (node == NULL || node->type != XML_ELEMENT_NODE) {
        strip_namespace(msg, plain, sizeof(plain));
        snprintf(out, size, "%s", plain);
        return;
    }
    switch ((int)err->code) {
    case XML_SCHEMAV_CVC_ELT_1:
        wrong_root(node, out, size);
        return;
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_1:
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_2:
        unknown_attribute(node, msg, out, size);
        return;
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_4:
        quoted_after(msg, "attribute '", attr, sizeof(attr));
        snprintf(out, size, "<%s> is missing required attribute '%s'", node_name(node), attr);
        return;
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_1:
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_3:
        *line = child_line(node, XML_TEXT_NODE, *line);
        text_not_allowed(node, out, size);
        return;
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_2:
        *line = child_line(node, XML_ELEMENT_NODE, *line);
        snprintf(out, size, "elements are not allowed inside <%s> (its value is text)",
                 node_name(node));
        return;
    case XML_SCHEMAV_ELEMENT_CONTENT:
        if (strstr(msg, "Missing child element") != NULL) {
            missing_child(node, msg, out, size);
        } else {
            unexpected_element(node, msg, out, size);
        }
        return;
    default:
        break;
    }
    if (strstr(msg, "[facet 'minLength']") != NULL && strstr(msg, "attribute '") != NULL) {
        quoted_after(msg, "attribute '", attr, sizeof(attr));
        snprintf(out, size, "attribute '%s' of <%s> must not be empty", attr, node_name(node));
        return;
    }
    strip_namespace(msg, plain, sizeof(plain));
    const char *colon = strncmp(plain, "Element '", 9) == 0 ? strstr(plain, "': ") : NULL;
    if (colon != NULL) {
        snprintf(out, size, "<%s>: %s", node_name(node), colon + 3);
    } else {
        snprintf(out, size, "%s", plain);
    }
}
