# tests/integration/lib.sh - shared helpers for integration tests (sourced).
# make check sets CONNRT, top_srcdir, top_builddir, CONNRT_CONNECTOR_PATH, PYTHON3.
set -euo pipefail
: "${CONNRT:?run through make check (CONNRT unset)}"
PYTHON3=${PYTHON3:-/usr/bin/python3}
TMP=$(mktemp -d /tmp/connrt-it.XXXXXX)
failures=0
cleanup_hooks=()
# Every deadline below is multiplied by CONNRT_TEST_TIMEOUT_SCALE (a whole
# number, default 1): make check-valgrind sets it, since connrt runs many
# times slower under memcheck. scaled N prints N seconds so stretched.
TIMEOUT_SCALE=${CONNRT_TEST_TIMEOUT_SCALE:-1}
scaled() { echo $(($1 * TIMEOUT_SCALE)); }
on_exit() {
    for hook in "${cleanup_hooks[@]}"; do eval "$hook" || true; done
    if [ "$failures" -eq 0 ] || [ -z "${KEEP_TMP:-}" ]; then rm -rf "$TMP"; else echo "kept $TMP" >&2; fi
}
trap on_exit EXIT

skip() { echo "SKIP: $*"; exit 77; }
need() { command -v "$1" >/dev/null 2>&1 || skip "$1 not installed"; }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() { [ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }; }

# start_cluster [ARGS...]: runs `connrt embedded-cluster` as a coprocess,
# sets BOOTSTRAP from its first line and CLUSTER_IN to send fault commands.
start_cluster() {
    coproc CLUSTER { exec "$CONNRT" embedded-cluster "$@"; }
    CLUSTER_IN=${CLUSTER[1]}
    CLUSTER_OUT=${CLUSTER[0]}
    # bash unsets CLUSTER_PID once the coprocess ends: keep its own copy.
    CLUSTER_PROC=$CLUSTER_PID
    cleanup_hooks+=("kill $CLUSTER_PID 2>/dev/null; wait $CLUSTER_PID 2>/dev/null")
    read -r -t "$(scaled 30)" BOOTSTRAP <&"$CLUSTER_OUT" || { echo "embedded cluster did not start" >&2; exit 1; }
    export BOOTSTRAP
}

# cluster_cmd LINE: send a fault command and expect "ok".
cluster_cmd() {
    local reply
    echo "$1" >&"$CLUSTER_IN"
    read -r -t "$(scaled 10)" reply <&"$CLUSTER_OUT"
    [ "$reply" = "ok" ] || { echo "cluster command '$1' answered '$reply'" >&2; return 1; }
}

# run_connrt STATUS_VAR ARGS...: runs connrt, keeps stdout/stderr in $TMP/out, $TMP/err.
run_connrt() {
    local __var=$1; shift
    set +e
    "$CONNRT" "$@" >"$TMP/out" 2>"$TMP/err"
    printf -v "$__var" '%d' $?
    set -e
}

# jq-like checks on JSON Lines with python3 (no extra dependency).
jsonl() { # jsonl FILE PYTHON_EXPR_OVER_docs -> prints result
    "$PYTHON3" -c 'import json,sys; docs=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print(eval(sys.argv[2]))' "$1" "$2"
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds;
# returns 1 once SECONDS (scaled) have passed without success (a deadline,
# not a sleep).
wait_until() {
    local deadline=$((SECONDS + $(scaled "$1"))); shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# start_bg NAME ARGS...: runs connrt in the background; stdout and stderr in
# $TMP/NAME.out and $TMP/NAME.err, its pid in NAME_PID. Killed at exit.
start_bg() {
    local name=$1; shift
    "$CONNRT" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    printf -v "${name}_PID" '%d' $!
    cleanup_hooks+=("kill -9 $! 2>/dev/null")
}

# stop_bg NAME SIGNAL: sends SIGNAL to NAME and waits for it; its exit
# status goes in NAME_STATUS.
stop_bg() {
    local pid_var="${1}_PID" st
    kill -"$2" "${!pid_var}"
    set +e; wait "${!pid_var}"; st=$?; set -e
    printf -v "${1}_STATUS" '%d' "$st"
}

# count_lines FILE: lines in FILE (0 when it does not exist yet).
count_lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
# has_lines FILE N: FILE has at least N lines.
has_lines() { [ "$(count_lines "$1")" -ge "$2" ]; }

# Kafka checks with python3-kafka, a client independent of librdkafka.
KCHECK="$PYTHON3 $(dirname "${BASH_SOURCE[0]}")/kafka_check.py"
# produce_json TOPIC FROM TO: messages {"n":I} for I in FROM..TO, keyed kI%211 (kcat).
produce_json() {
    seq "$2" "$3" | awk '{printf "k%d:{\"n\":%d}\n", $1 % 211, $1}' | kcat -P -b "$BOOTSTRAP" -t "$1" -K:
}
# caught_up GROUP TOPIC: the group has committed every partition's high watermark.
caught_up() { $KCHECK "$BOOTSTRAP" caught-up "$1" "$2"; }
# distinct_n TOPIC: how many distinct "n" the JSON values on TOPIC hold.
distinct_n() {
    $KCHECK "$BOOTSTRAP" read "$1" | jsonl /dev/stdin 'len({json.loads(d["value"])["n"] for d in docs})'
}
# assigned NAME N: the last assignment that background run NAME logged was N partitions.
assigned() {
    [ "$(sed -n 's/.*assigned \([0-9]*\) partition(s).*/\1/p' "$TMP/$1.err" | tail -1)" = "$2" ]
}
