#!/bin/sh
# memcheck.sh PROGRAM [ARG...]: runs PROGRAM under valgrind memcheck (make
# check-valgrind). Each process, forked children included, writes its own
# log PROGRAM.PID.log into $VALGRIND_LOG_DIR; scan-logs.sh reads them after
# the run. A memory error or a definite leak makes the process exit 99, the
# code that make check calls a hard error (like a sanitizer report).
# VALGRIND_FLAGS adds options (--track-origins=yes, --gen-suppressions=all).
set -uf # no globbing: $vg holds a pattern (*mimalloc*)
# The program gets the PATH it was started with; this script finds its own
# tools in the PATH of make check-valgrind (a test may hide tools from connrt).
guest_path=$PATH
PATH=${VALGRIND_TOOLS_PATH:-$PATH}
here=$(cd "$(dirname "$0")" && pwd)
dir=${VALGRIND_LOG_DIR:?run through make check-valgrind}
valgrind=$(command -v "${VALGRIND:-valgrind}") || { echo "memcheck.sh: no ${VALGRIND:-valgrind}" >&2; exit 99; }
# connrt links mimalloc (configure --without-mimalloc does not): memcheck
# replaces its malloc as it does glibc's (--soname-synonyms), but not
# reallocarray: connrt calls connrt_realloc_array (runtime/vector.h).
# Children between fork and exec (test servers, the history test's dead
# pid) share the parent's heap: their report would repeat the parent's.
vg="$valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite --errors-for-leak-kinds=definite --track-fds=no
    --child-silent-after-fork=yes --num-callers=40 --soname-synonyms=somalloc=*mimalloc*
    --suppressions=$here/../valgrind.supp --log-file=$dir/$(basename "$1").%p.log
    ${VALGRIND_FLAGS:-}"
# A libtool wrapper script (a shared-library build) is not the program:
# libtool runs valgrind on the real binary with the right library path.
if [ "$(head -c 2 "$1")" = "#!" ]; then
    exec "${top_builddir:?}/libtool" --mode=execute /usr/bin/env PATH="$guest_path" $vg "$@"
fi
exec /usr/bin/env PATH="$guest_path" $vg "$@"
