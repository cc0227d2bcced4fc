#!/bin/bash
# test_embedded_cluster.sh - `connrt embedded-cluster` as a user drives it from a
# shell: bootstrap servers on the first line, kcat produces and reads back,
# fault commands answer "ok" and take effect, end of stdin does not stop it,
# SIGTERM does (exit 0), bad usage exits 2.
. "${top_srcdir:?}/tests/integration/lib.sh"
need kcat

# Usage errors: exit 2 with a message.
run_connrt status embedded-cluster --brokers 0
check "--brokers 0 exits 2" test "$status" -eq 2
check "--brokers 0 says why" grep -q -- "--brokers" "$TMP/err"
run_connrt status embedded-cluster --topic t:x
check "--topic t:x exits 2" test "$status" -eq 2

start_cluster --topic t1:4 --brokers 2
check "first line is the bootstrap list" \
    bash -c '[[ "$1" =~ ^127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+$ ]]' _ "$BOOTSTRAP"

# Produce keyed messages with kcat, read them back.
printf 'k%d:value-%d\n' 1 1 2 2 3 3 4 4 5 5 > "$TMP/in"
kcat -P -b "$BOOTSTRAP" -t t1 -K: -l "$TMP/in"
kcat -C -b "$BOOTSTRAP" -t t1 -e -q -f '%k:%s\n' | sort > "$TMP/back"
check "kcat reads back what kcat produced" diff -u "$TMP/in" "$TMP/back"
kcat -L -b "$BOOTSTRAP" -t t1 > "$TMP/meta"
check "t1 has 4 partitions" grep -q 't1" with 4 partitions' "$TMP/meta"

# Fault commands.
check "broker down 2" cluster_cmd "broker down 2"
check "broker up all" cluster_cmd "broker up all"
check "rtt all 5" cluster_cmd "rtt all 5"
check "rtt 1 0" cluster_cmd "rtt 1 0"
check "topic t2 3" cluster_cmd "topic t2 3"
kcat -L -b "$BOOTSTRAP" -t t2 > "$TMP/meta2"
check "topic command created t2 with 3 partitions" grep -q 't2" with 3 partitions' "$TMP/meta2"

echo "bogus command" >&"$CLUSTER_IN"
read -r -t 10 reply <&"$CLUSTER_OUT"
check "unknown command answers error" bash -c '[[ "$1" == error:* ]]' _ "$reply"
echo "broker down 7" >&"$CLUSTER_IN"
read -r -t 10 reply <&"$CLUSTER_OUT"
check "unknown broker answers error" bash -c '[[ "$1" == error:* ]]' _ "$reply"

# An injected error reaches a client that does not retry.
check "error Produce 1 NOT_ENOUGH_REPLICAS" cluster_cmd "error Produce 1 NOT_ENOUGH_REPLICAS"
set +e
echo "lost" | kcat -P -b "$BOOTSTRAP" -t t2 -p 0 -X message.send.max.retries=0 \
    -X enable.idempotence=false 2> "$TMP/kcat-err"
kcat_status=$?
set -e
check "produce fails with the injected error" test "$kcat_status" -ne 0
check "the error is NOT_ENOUGH_REPLICAS" grep -q "Not enough in-sync replicas" "$TMP/kcat-err"

# error clear drops pushed errors that no request took.
check "error Produce 2 NOT_ENOUGH_REPLICAS" cluster_cmd "error Produce 2 NOT_ENOUGH_REPLICAS"
check "error clear Produce" cluster_cmd "error clear Produce"
check "error clear all" cluster_cmd "error clear all"
check "produce after error clear succeeds" bash -c 'echo kept | kcat -P -b "$1" -t t2 -p 0 \
    -X message.send.max.retries=0 -X enable.idempotence=false' _ "$BOOTSTRAP"

# topic-error puts an error on the topic's Metadata entry; NO_ERROR clears it.
check "topic-error t2 TOPIC_AUTHORIZATION_FAILED" \
    cluster_cmd "topic-error t2 TOPIC_AUTHORIZATION_FAILED"
kcat -L -b "$BOOTSTRAP" -t t2 > "$TMP/meta3" 2>&1 || true
check "Metadata for t2 carries the error" grep -q "Broker: Topic authorization failed" "$TMP/meta3"
check "topic-error t2 NO_ERROR" cluster_cmd "topic-error t2 NO_ERROR"
kcat -L -b "$BOOTSTRAP" -t t2 > "$TMP/meta4" 2>&1 || true
check "Metadata for t2 is clean again" grep -q 't2" with 3 partitions' "$TMP/meta4"

# End of stdin does not stop the cluster.
exec {CLUSTER_IN}>&-
check "cluster still answers after end of stdin" \
    bash -c 'kcat -L -b "$1" -t t1 -m 10 >/dev/null' _ "$BOOTSTRAP"

# SIGTERM stops it cleanly.
kill -TERM "$CLUSTER_PROC"
set +e
wait "$CLUSTER_PROC"
term_status=$?
set -e
check "SIGTERM exits 0" test "$term_status" -eq 0

finish
