#!/usr/bin/env bash
# ./configure names the Debian package of a library it cannot find.
. "$(dirname "$0")/lib.sh"
# A second build directory needs an unconfigured source tree (out-of-tree builds).
[ ! -f "$top_srcdir/config.status" ] || skip "source tree configured in place"
# configure_status [ENV=VALUE...] -- [CONFIGURE ARGS...]: configure in a fresh
# build directory; its output goes to $TMP/configure.out, its status to $st.
configure_status() {
    local vars=()
    while [ "$1" != -- ]; do vars+=("$1"); shift; done
    shift
    rm -rf "$TMP/build" && mkdir -p "$TMP/build"
    set +e
    (cd "$TMP/build" && env "${vars[@]}" "$top_srcdir/configure" -q "$@") >"$TMP/configure.out" 2>&1
    st=$?
    set -e
}
configure_status PKG_CONFIG_LIBDIR="$TMP/empty" PKG_CONFIG_PATH= --
check "configure fails without librdkafka" test "$st" -ne 0
check "the message names the Debian package" \
    grep -q "rdkafka >= 2.0 not found: install the Debian package librdkafka-dev" "$TMP/configure.out"
# mimalloc has no .pc file: configure looks for its header (the cache
# variable plays a machine without it).
configure_status -- ac_cv_header_mimalloc_h=no
check "configure fails without mimalloc.h" test "$st" -ne 0
check "the message names the Debian package and the option" grep -q \
    "install the Debian package libmimalloc-dev (apt-get install libmimalloc-dev), or configure --without-mimalloc" \
    "$TMP/configure.out"
finish
