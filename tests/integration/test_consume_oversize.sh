#!/usr/bin/env bash
# Consume of a message larger than the container's
# connector.kafka.max.request.size (1000 here, a 5000-byte message among
# small ones): with autocommit it is an application-error document with its
# topic/partition/offset tracked and reading goes on past it; without,
# reading stops there: the documents before it come back, then the error.
. "$(dirname "$0")/lib.sh"
need kcat

start_cluster --topic big-ac:1 --topic big-stop:1
mkdir -p "$TMP/c/deploy"
echo 'connector.kafka.max.request.size = 1000' > "$TMP/c/container.properties"
cat > "$TMP/c/deploy/defs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <operation id="read-ac" connection="kafka" type="consume">
    <property name="topic">big-ac</property>
    <property name="consumer_group">g-ac</property>
    <property name="min_messages">5</property>
    <property name="max_wait_ms">5000</property>
    <property name="autocommit">true</property>
  </operation>
  <operation id="read-stop" connection="kafka" type="consume">
    <property name="topic">big-stop</property>
    <property name="consumer_group">g-stop</property>
    <property name="min_messages">5</property>
    <property name="max_wait_ms">3000</property>
  </operation>
  <process id="consume-ac"><start operation="read-ac"/><output/></process>
  <process id="consume-stop"><start operation="read-stop"/><output/></process>
</connrt>
XML
# write TOPIC: small-1 small-2, a 5000-byte message at offset 2, small-3 small-4.
write() {
    { echo small-1; echo small-2; printf 'B%04999d\n' 0; echo small-3; echo small-4; } |
        kcat -P -b "$BOOTSTRAP" -t "$1"
}
# outline FILE: "outcome value-or-size offset" per document, in order.
outline() {
    jsonl "$1" '" ".join("%s:%s@%s" % (d["outcome"], d["value"] if d["outcome"]=="success" else "-", d["offset"]) for d in docs)'
}
run() { run_connrt st run --container "$TMP/c" --process "$1" --output "$TMP/$2.jsonl"; }

# --- with autocommit: error document for the big one, the rest go on.
write big-ac
run consume-ac ac1
check "autocommit: exit 1 (one application error)" test "$st" -eq 1
check "autocommit: small-1 small-2, the big one as an application error, small-3 small-4" \
    test "$(outline "$TMP/ac1.jsonl")" = "success:small-1@0 success:small-2@1 application_error:-@2 success:small-3@3 success:small-4@4"
check "autocommit: the error names the size, the limit and where the message is" \
    test "$(jsonl "$TMP/ac1.jsonl" 'docs[2]["error"]')" = "message at topic 'big-ac' partition 0 offset 2: 5000 bytes exceed connector.kafka.max.request.size (1000)"
check "autocommit: the error document tracks kafka.topic/partition/offset" \
    test "$(jsonl "$TMP/ac1.jsonl" '[docs[2][k] for k in ("topic","partition","offset")]')" = "['big-ac', 0, 2]"
check "autocommit: the error is reported on stderr" grep -q "5000 bytes exceed" "$TMP/err"
echo small-5 | kcat -P -b "$BOOTSTRAP" -t big-ac
run consume-ac ac2
check "autocommit: offsets up to the big message and past it were committed: next run gets only small-5" \
    test "$st $(outline "$TMP/ac2.jsonl")" = "0 success:small-5@5"

# --- without autocommit: stop at the big one.
write big-stop
run consume-stop stop1
check "no autocommit: exit 1 (one application error)" test "$st" -eq 1
check "no autocommit: small-1 small-2, then the big one as an application error, nothing after it" \
    test "$(outline "$TMP/stop1.jsonl")" = "success:small-1@0 success:small-2@1 application_error:-@2"
check "no autocommit: the error says why reading stopped there" \
    test "$(jsonl "$TMP/stop1.jsonl" 'docs[2]["error"]')" = "message at topic 'big-stop' partition 0 offset 2: 5000 bytes exceed connector.kafka.max.request.size (1000); consume stopped there (without autocommit it is not skipped)"
run consume-stop stop2
check "no autocommit: nothing committed, the next run meets the same three again" \
    test "$(outline "$TMP/stop2.jsonl")" = "$(outline "$TMP/stop1.jsonl")"
finish
