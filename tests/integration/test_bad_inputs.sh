#!/usr/bin/env bash
# The bad-input catalogue: every case directory in tests/data/ (format in
# tests/data/README.md) is run with $CONNRT; its exit status and its stderr
# (and stdout, when the case says) must be exactly as recorded, and connrt
# must not crash. Every failing case is listed, not only the first.
. "$(dirname "$0")/lib.sh"

data="$top_srcdir/tests/data"
ncases=0
failed=()

# lines_match EXPECTED_FILE ACTUAL_FILE EXACT: with EXACT=1 the files hold
# the same lines; otherwise the expected lines appear, in order, among the
# actual ones.
lines_match() {
    local expected=$1 actual=$2 exact=$3
    if [ "$exact" = 1 ]; then
        diff -q "$expected" "$actual" >/dev/null
        return
    fi
    local -a want got
    mapfile -t want <"$expected"
    mapfile -t got <"$actual"
    local i=0 line
    for line in "${got[@]}"; do
        if [ "$i" -lt "${#want[@]}" ] && [ "$line" = "${want[$i]}" ]; then
            i=$((i + 1))
        fi
    done
    [ "$i" -eq "${#want[@]}" ]
}

# show LABEL EXPECTED_FILE ACTUAL_FILE: both sides of a mismatch.
show() {
    echo "  $1 expected:"
    sed 's/^/    | /' "$2"
    echo "  $1 got:"
    sed 's/^/    | /' "$3"
}

run_case() {
    local dir=$1 name
    name=$(basename "$dir")
    local work="$TMP/$name"
    local problems=()
    cp -R "$dir" "$work"

    local -a args
    read -r -a args <"$work/cmd"
    local -a envs=()
    if [ -f "$work/env" ]; then
        mapfile -t envs < <(grep -v '^[[:space:]]*\(#\|$\)' "$work/env")
    fi
    local input=/dev/null
    [ -f "$work/stdin" ] && input="$work/stdin"
    local exact=1
    [ -f "$work/allow-other-stderr" ] && exact=0

    local status
    set +e
    (cd "$work" && env "${envs[@]}" timeout 60 "$CONNRT" "${args[@]}" \
        <"$input" >"$work/.stdout" 2>"$work/.stderr")
    status=$?
    set -e

    local want_status
    want_status=$(tr -d '[:space:]' <"$work/expected-exit")
    if [ "$status" -eq 124 ]; then
        problems+=("timed out after 60 s")
    elif [ "$status" -ge 128 ]; then
        problems+=("crashed (exit $status, signal $((status - 128)))")
    elif [ "$status" != "$want_status" ]; then
        problems+=("exit status $status, expected $want_status")
    fi
    if grep -q -e 'AddressSanitizer' -e 'LeakSanitizer' -e 'runtime error:' "$work/.stderr"; then
        problems+=("sanitizer report in stderr")
    fi
    if [ -f "$work/expected-stderr" ] &&
        ! lines_match "$work/expected-stderr" "$work/.stderr" "$exact"; then
        problems+=("stderr differs")
    fi
    if [ -f "$work/expected-stdout" ] &&
        ! lines_match "$work/expected-stdout" "$work/.stdout" 0; then
        problems+=("stdout differs")
    fi

    if [ "${#problems[@]}" -eq 0 ]; then
        echo "ok: $name"
        return
    fi
    failed+=("$name")
    echo "FAIL: $name (connrt ${args[*]}): ${problems[*]}"
    [ -f "$work/expected-stderr" ] && show stderr "$work/expected-stderr" "$work/.stderr"
    [ -f "$work/expected-stdout" ] && show stdout "$work/expected-stdout" "$work/.stdout"
    return 0
}

for dir in "$data"/*/; do
    [ -f "$dir/cmd" ] || continue
    if [ ! -f "$dir/expected-exit" ]; then
        echo "FAIL: $(basename "$dir"): no expected-exit file"
        failed+=("$(basename "$dir")")
        continue
    fi
    ncases=$((ncases + 1))
    run_case "${dir%/}"
done

[ "$ncases" -gt 0 ] || { echo "no cases found in $data" >&2; exit 1; }
if [ "${#failed[@]}" -gt 0 ]; then
    echo "${#failed[@]} of $ncases cases failed: ${failed[*]}" >&2
    exit 1
fi
echo "all $ncases bad-input cases pass"
