#!/usr/bin/env bash
# docs/properties.md is generated from the property tables; it must match what
# the built binary generates now.
. "$(dirname "$0")/lib.sh"

if ! "$CONNRT" describe --markdown > "$TMP/properties.md" 2> "$TMP/err"; then
    cat "$TMP/err" >&2
    echo "FAIL: connrt describe --markdown failed" >&2
    exit 1
fi
if ! diff -u "$top_srcdir/docs/properties.md" "$TMP/properties.md" >&2; then
    echo "docs/properties.md is out of date: run make docs-properties" >&2
    exit 1
fi
echo "ok: docs/properties.md is in sync with the property tables"
