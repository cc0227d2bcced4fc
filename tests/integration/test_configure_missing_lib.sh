#!/usr/bin/env bash
# ./configure names the Debian package of a library it cannot find.
. "$(dirname "$0")/lib.sh"
# A second build directory needs an unconfigured source tree (out-of-tree builds).
[ ! -f "$top_srcdir/config.status" ] || skip "source tree configured in place"
mkdir -p "$TMP/build"
set +e
(cd "$TMP/build" && PKG_CONFIG_LIBDIR="$TMP/empty" PKG_CONFIG_PATH= "$top_srcdir/configure" -q) \
    > "$TMP/configure.out" 2>&1
st=$?
set -e
check "configure fails without librdkafka" test "$st" -ne 0
check "the message names the Debian package" \
    grep -q "rdkafka >= 2.0 not found: install the Debian package librdkafka-dev" "$TMP/configure.out"
finish
