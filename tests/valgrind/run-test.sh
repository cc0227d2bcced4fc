#!/bin/sh
# run-test.sh bin TEST | run-test.sh sh SHELL TEST: make check-valgrind's
# log compiler (LOG_COMPILER, SH_LOG_COMPILER). A C test
# binary (bin) runs under memcheck itself; a shell test (sh) runs with CONNRT
# and TEST_WRAPPER pointing at memcheck, and every deadline of lib.sh
# stretched by CONNRT_TEST_TIMEOUT_SCALE. Logs: tests/valgrind-logs/DIR/TEST/.
set -u
kind=$1
shift
if [ "$kind" = sh ]; then
    shell=$1
    shift
fi
test=$1
here=$(cd "$(dirname "$0")" && pwd)
# DIR/TEST (unit/test_history, integration/test_history): names are unique
# only with their directory.
name=$(basename "$(dirname "$test")")/$(basename "$test" .sh)
VALGRIND_LOG_DIR=${top_builddir:?run through make check}/tests/valgrind-logs/$name
rm -rf "$VALGRIND_LOG_DIR"
mkdir -p "$VALGRIND_LOG_DIR" || exit 99
VALGRIND_TOOLS_PATH=$PATH
export VALGRIND_LOG_DIR VALGRIND_TOOLS_PATH
case $name in
integration/test_configure_missing_lib)
    echo "SKIP: under valgrind: it runs ./configure, no connrt code"
    exit 77 ;;
integration/test_checksrc)
    echo "SKIP: under valgrind: a scan of the sources, no connrt code"
    exit 77 ;;
esac
# A suppression that only the one test needing it may use (its file says why).
case $name in
connector/test_security_oauth)
    VALGRIND_FLAGS="${VALGRIND_FLAGS:-} --suppressions=$here/../valgrind-sasl-extensions.supp"
    export VALGRIND_FLAGS ;;
esac
case $kind in
bin)
    exec sh "$here/memcheck.sh" "$test" ;;
sh)
    CONNRT=$here/connrt
    TEST_WRAPPER="sh $here/memcheck.sh"
    CONNRT_TEST_TIMEOUT_SCALE=${CONNRT_TEST_TIMEOUT_SCALE:-10}
    export CONNRT TEST_WRAPPER CONNRT_TEST_TIMEOUT_SCALE
    exec "$shell" "$test" ;;
esac
echo "run-test.sh: unknown kind '$kind'" >&2
exit 99
