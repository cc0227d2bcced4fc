#!/bin/sh
# test_fuzz_smoke.sh - every fuzz corpus replayed once (part of `make check`).
#
# With --enable-fuzzing the libFuzzer binaries run their corpus with
# -runs=0 (each input once, no mutation); otherwise the replay drivers,
# built by the normal compiler (gcc + ASan/UBSan under --enable-sanitizers),
# feed each corpus file to the same LLVMFuzzerTestOneInput. A crash, a
# sanitizer report or a leak fails the test and names the target.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"

targets="definitions properties input_lines input_jsonl json_pointer commit_offset event_hubs pem"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0
for t in $targets; do
    corpus=$top_srcdir/tests/fuzz/corpus/$t
    fuzzer=$top_builddir/tests/fuzz/fuzz_$t
    replay=$top_builddir/tests/fuzz/replay_$t
    # TEST_WRAPPER (make check-valgrind: memcheck) runs the replay driver:
    # the libFuzzer binaries carry ASan, which cannot run under valgrind.
    if [ -x "$fuzzer" ] && [ -z "${TEST_WRAPPER:-}" ]; then
        how="libFuzzer -runs=0"
        "$fuzzer" -runs=0 "$corpus" >"$log" 2>&1
    else
        how="replay driver"
        ${TEST_WRAPPER:-} "$replay" "$corpus" >"$log" 2>&1
    fi
    rc=$?
    n=$(find "$corpus" -type f | wc -l)
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: $t ($how, $n inputs): exit $rc"
        tail -40 "$log"
        failed=1
    else
        echo "ok: $t ($how, $n inputs)"
    fi
done
exit $failed
