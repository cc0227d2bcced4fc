#!/usr/bin/env bash
# connrt's malloc is mimalloc (docs/decisions.md, "Throughput and memory"):
# every library of the process, the dlopen'ed Kafka connector and librdkafka
# included, allocates through it (configure's message when it is missing:
# test_configure_missing_lib.sh).
. "$(dirname "$0")/lib.sh"
grep -q "define HAVE_MIMALLOC 1" "$top_builddir/config.h" ||
    skip "built without mimalloc (--without-mimalloc or --enable-sanitizers)"
# The binary itself, not $CONNRT: that may be a wrapper script (make
# check-valgrind), whose shell LD_DEBUG would trace too.
bin=$top_builddir/connrt
check "--version names the allocator" sh -c "'$bin' --version | grep -q '(mimalloc [0-9]'"
# describe loads the connector; bind every symbol at load time to see them all.
LD_BIND_NOW=1 LD_DEBUG=bindings "$bin" describe >/dev/null 2>"$TMP/bindings"
binds_to_mimalloc() { # LIBRARY SYMBOL
    grep -E "binding file [^ ]*/$1[^ ]* .* to [^ ]*/libmimalloc\.so[^ ]* .*symbol \`$2'" \
        "$TMP/bindings" >/dev/null
}
for sym in malloc free; do
    check "librdkafka's $sym is mimalloc's" binds_to_mimalloc librdkafka.so "$sym"
    check "the Kafka connector's $sym is mimalloc's" binds_to_mimalloc kafka.so "$sym"
    check "jansson's $sym is mimalloc's" binds_to_mimalloc libjansson.so "$sym"
done
none_binds_to_glibc() { # SYMBOL
    ! grep -E "to [^ ]*/libc\.so[^ ]* .*symbol \`$1'" "$TMP/bindings" >/dev/null
}
check "no library's malloc is glibc's" none_binds_to_glibc malloc
finish
