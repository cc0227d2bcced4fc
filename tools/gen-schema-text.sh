#!/bin/sh
# Turn schema/connrt.xsd into a C array so the binary carries its own schema.
set -e
printf '/* generated from %s by tools/gen-schema-text.sh */\n#include <stddef.h>\n' "$(basename "$1")"
printf 'const char connrt_schema_xsd[] = {\n'
od -An -v -tu1 "$1" | sed -e 's/  */ /g' -e 's/^ //' -e 's/ $//' -e 's/ /, /g' -e 's/$/,/' -e '/^,$/d'
printf '0};\nconst size_t connrt_schema_xsd_size = sizeof(connrt_schema_xsd) - 1;\n'
