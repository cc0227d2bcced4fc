#!/usr/bin/env bash
# The bad-input catalogue: every case directory in tests/data/ (format in
# tests/data/README.md) is run with $CONNRT; its exit status and its stderr
# (and stdout, when the case says) must be exactly as recorded, and connrt
# must not crash. Every failing case is listed, not only the first.
#
# Cases with a `cluster` file share ONE embedded cluster (started at the
# first such case); each gets its own topic, its `cluster-commands` are sent
# before the run and the cluster is restored after it. Cases with a
# `login-broker` file share one SASL login broker (tests/security/).
# CASES='cred-* broker-*' runs only the cases matching those patterns.
. "$(dirname "$0")/lib.sh"

data="$top_srcdir/tests/data"
ncases=0
failed=()
LOGIN_BROKER=

# The SASL login broker: tests/security/fake_kafka_broker.py on 127.0.0.1,
# PLAIN and SCRAM-SHA-256 for alice:wonderland, one topic 'orders'. It stops
# when this script ends (end of file on the FIFO only this script holds).
start_login_broker() {
    [ -x "$PYTHON3" ] || return 1
    local line out
    mkfifo "$TMP/.hold"
    exec {LOGIN_HOLD}<>"$TMP/.hold"
    exec {out}< <(exec "$PYTHON3" "$top_srcdir/tests/security/fake_kafka_broker.py" \
        --mechanisms PLAIN,SCRAM-SHA-256 --user alice:wonderland --topic orders \
        --lifetime 300 <"$TMP/.hold" 2>&1)
    cleanup_hooks+=("kill $! 2>/dev/null")
    read -r -t 10 line <&"$out" || return 1
    LOGIN_BROKER="localhost:${line#READY }"
}

# placeholders FILE: FILE with @BOOTSTRAP@, @TOPIC@ and @LOGIN_BROKER@
# replaced by this run's values (literal replacement, no patterns).
placeholders() {
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line//@BOOTSTRAP@/${BOOTSTRAP:-}}
        line=${line//@TOPIC@/$case_topic}
        line=${line//@LOGIN_BROKER@/$LOGIN_BROKER}
        printf '%s\n' "$line"
    done <"$1"
}

# lines_match EXPECTED_FILE ACTUAL_FILE MODE: with MODE=exact the files hold
# the same lines; with MODE=logs the same lines once log lines (connrt[LEVEL]
# ...) that EXPECTED does not list are left out; with MODE=any the expected
# lines appear, in order, among the actual ones.
lines_match() {
    local expected=$1 actual=$2 mode=$3
    if [ "$mode" = exact ]; then
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
        elif [ "$mode" = logs ] && [[ "$line" != connrt\[*\]\ * ]]; then
            return 1
        fi
    done
    [ "$i" -eq "${#want[@]}" ]
}

# record WORK CASE_DIR MODE: RECORD=1 saves what the run printed on stderr
# as the case's expected-stderr (log lines left out in MODE=logs, this run's
# addresses turned back into placeholders), for the author to read and check
# with git diff before committing it.
record() {
    local work=$1 dir=$2 mode=$3 line
    while IFS= read -r line || [ -n "$line" ]; do
        if [ "$mode" = logs ] && [[ "$line" == connrt\[*\]\ * ]]; then
            continue
        fi
        [ -z "${BOOTSTRAP:-}" ] || line=${line//$BOOTSTRAP/@BOOTSTRAP@}
        [ -z "$LOGIN_BROKER" ] || line=${line//$LOGIN_BROKER/@LOGIN_BROKER@}
        printf '%s\n' "$line"
    done <"$work/.stderr-cmp" >"$dir/expected-stderr"
    placeholders "$dir/expected-stderr" >"$work/expected-stderr"
}

# show LABEL EXPECTED_FILE ACTUAL_FILE: both sides of a mismatch.
show() {
    echo "  $1 expected:"
    sed 's/^/    | /' "$2"
    echo "  $1 got:"
    sed 's/^/    | /' "$3"
}

# cluster_setup WORK: the case's topic and fault commands (the embedded
# cluster is started at the first case that needs it); a failure is added
# to the caller's problems.
cluster_setup() {
    local work=$1 cmd
    if [ -z "${BOOTSTRAP:-}" ]; then
        start_cluster
    fi
    if ! cluster_cmd "topic $case_topic 1"; then
        problems+=("cannot create topic $case_topic")
        return
    fi
    [ -f "$work/cluster-commands" ] || return 0
    while IFS= read -r cmd; do
        case $cmd in '' | '#'*) continue ;; esac
        if ! cluster_cmd "$cmd"; then
            problems+=("cluster command '$cmd' failed")
            return
        fi
    done < <(placeholders "$work/cluster-commands")
}

# cluster_restore: every broker up, no injected request error left, no rtt.
cluster_restore() {
    cluster_cmd "broker up all" && cluster_cmd "error clear all" && cluster_cmd "rtt all 0"
}

run_case() {
    local dir=$1 name
    name=$(basename "$dir")
    local work="$TMP/$name"
    local problems=()
    cp -R "$dir" "$work"
    case_topic=$name

    local -a envs=() unset_env=(-u BOOTSTRAP -u TOPIC -u LOGIN_BROKER)
    local uses_cluster=0
    if [ -f "$work/cluster" ]; then
        uses_cluster=1
        cluster_setup "$work"
        envs+=("BOOTSTRAP=$BOOTSTRAP" "TOPIC=$case_topic")
    fi
    if [ -f "$work/login-broker" ]; then
        if [ -z "$LOGIN_BROKER" ] && ! start_login_broker; then
            problems+=("the login broker did not start")
        fi
        envs+=("LOGIN_BROKER=$LOGIN_BROKER")
    fi
    for f in cmd expected-stderr expected-stdout; do
        if [ -f "$work/$f" ]; then
            placeholders "$work/$f" >"$work/.$f" && mv "$work/.$f" "$work/$f"
        fi
    done

    local -a args
    read -r -a args <"$work/cmd"
    if [ -f "$work/env" ]; then
        mapfile -t -O "${#envs[@]}" envs < <(grep -v '^[[:space:]]*\(#\|$\)' "$work/env")
    fi
    local input=/dev/null
    [ -f "$work/stdin" ] && input="$work/stdin"
    local mode=exact
    [ -f "$work/allow-log-lines" ] && mode=logs
    [ -f "$work/allow-other-stderr" ] && mode=any

    local status=0
    : >"$work/.stdout"
    : >"$work/.stderr"
    if [ "${#problems[@]}" -eq 0 ]; then
        set +e
        (cd "$work" && env "${unset_env[@]}" "${envs[@]}" timeout 60 "$CONNRT" "${args[@]}" \
            <"$input" >"$work/.stdout" 2>"$work/.stderr")
        status=$?
        set -e
    fi
    if [ "$uses_cluster" = 1 ] && ! cluster_restore; then
        problems+=("the cluster could not be restored after the case")
    fi

    local want_status
    want_status=$(tr -d '[:space:]' <"$work/expected-exit")
    if [ "${#problems[@]}" -gt 0 ]; then
        : # not run
    elif [ "$status" -eq 124 ]; then
        problems+=("timed out after 60 s")
    elif [ "$status" -ge 128 ]; then
        problems+=("crashed (exit $status, signal $((status - 128)))")
    elif [ "$status" != "$want_status" ]; then
        problems+=("exit status $status, expected $want_status")
    fi
    if grep -q -e 'AddressSanitizer' -e 'LeakSanitizer' -e 'runtime error:' "$work/.stderr"; then
        problems+=("sanitizer report in stderr")
    fi
    # The one number that changes from run to run: the duration at the end
    # of a run's summary line, compared as @SECONDS@.
    sed -E \
        's/^(connrt: (process|listener) .*\()[0-9]+\.[0-9]{2} s\)$/\1@SECONDS@ s)/' \
        "$work/.stderr" >"$work/.stderr-cmp"
    if [ -n "${RECORD:-}" ] && [ "${#problems[@]}" -eq 0 ]; then
        record "$work" "$dir" "$mode"
    fi
    if [ -f "$work/expected-stderr" ] &&
        ! lines_match "$work/expected-stderr" "$work/.stderr-cmp" "$mode"; then
        problems+=("stderr differs")
    fi
    if [ -f "$work/expected-stdout" ] &&
        ! lines_match "$work/expected-stdout" "$work/.stdout" any; then
        problems+=("stdout differs")
    fi
    if [ -f "$work/forbidden" ]; then
        local secret
        while IFS= read -r secret; do
            [ -n "$secret" ] || continue
            if grep -q -F -e "$secret" "$work/.stdout" "$work/.stderr"; then
                problems+=("output shows the forbidden text '$secret'")
            fi
        done <"$work/forbidden"
    fi

    if [ "${#problems[@]}" -eq 0 ]; then
        echo "ok: $name"
        return
    fi
    failed+=("$name")
    echo "FAIL: $name (connrt ${args[*]}): ${problems[*]}"
    [ -f "$work/expected-stderr" ] && show stderr "$work/expected-stderr" "$work/.stderr-cmp"
    [ -f "$work/expected-stdout" ] && show stdout "$work/expected-stdout" "$work/.stdout"
    return 0
}

# selected NAME: the case is in $CASES (all cases when it is unset).
selected() {
    [ -n "${CASES:-}" ] || return 0
    local pattern
    for pattern in $CASES; do
        # shellcheck disable=SC2053 # a glob on purpose
        [[ $1 == $pattern ]] && return 0
    done
    return 1
}

for dir in "$data"/*/; do
    [ -f "$dir/cmd" ] || continue
    selected "$(basename "$dir")" || continue
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
