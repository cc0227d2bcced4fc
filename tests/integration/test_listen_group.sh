#!/usr/bin/env bash
# Two listener processes in one consumer group split the 4 partitions and
# together process all 20,000 messages; SIGKILL one and the other takes its
# partitions over: nothing is lost.
. "$(dirname "$0")/lib.sh"
need kcat
"$PYTHON3" -c 'import kafka' 2>/dev/null || skip "python3-kafka not installed"

start_cluster --topic shared:4
for member in a b; do
    mkdir -p "$TMP/$member/deploy"
    cat > "$TMP/$member/deploy/defs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <operation id="listen-shared" connection="kafka" type="listen">
    <property name="topic">shared</property>
    <property name="consumer_group">g-shared</property>
    <property name="batch_size">100</property>
    <property name="batch_wait_ms">20</property>
  </operation>
  <process id="member"><start operation="listen-shared"/><output/></process>
</connrt>
XML
done

partitions_of() { jsonl "$1" 'sorted({d["partition"] for d in docs})'; }

start_bg a run --container "$TMP/a" --process member --output "$TMP/a.jsonl"
check "a joins the group and gets all 4 partitions" wait_until 60 assigned a 4
start_bg b run --container "$TMP/b" --process member --output "$TMP/b.jsonl"
check "once b joins, the group splits: b has 2 partitions" wait_until 60 assigned b 2
check "and a has the other 2" wait_until 60 assigned a 2

produce_json shared 1 20000
check "together they process all 20,000 messages" wait_until 90 caught_up g-shared shared
a_parts=$(partitions_of "$TMP/a.jsonl")
b_parts=$(partitions_of "$TMP/b.jsonl")
check "a and b processed disjoint partitions ($a_parts and $b_parts), 2 each" \
    "$PYTHON3" -c "a, b = $a_parts, $b_parts; assert len(a) == 2 and len(b) == 2 and not set(a) & set(b)"
check "each message was processed exactly once while nothing failed" \
    test "$(cat "$TMP/a.jsonl" "$TMP/b.jsonl" | jsonl /dev/stdin \
        'str(len(docs)) + " " + str(len({json.loads(d["value"])["n"] for d in docs}))')" = "20000 20000"

# --- SIGKILL a: b takes its partitions over, and nothing is lost
stop_bg a KILL
produce_json shared 20001 40000
check "after a is killed, b takes all 4 partitions" wait_until 60 assigned b 4
check "b processes the next 20,000 messages, a's partitions included" \
    wait_until 90 caught_up g-shared shared
stop_bg b TERM
check "b exits 0 on SIGTERM" test "$b_STATUS" -eq 0
check "all 40,000 messages were processed at least once" \
    test "$(cat "$TMP/a.jsonl" "$TMP/b.jsonl" | jsonl /dev/stdin \
        'len({json.loads(d["value"])["n"] for d in docs})')" = 40000
check "b's output now covers all 4 partitions" test "$(partitions_of "$TMP/b.jsonl")" = "[0, 1, 2, 3]"

finish
