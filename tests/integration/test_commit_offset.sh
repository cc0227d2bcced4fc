#!/usr/bin/env bash
# Commit Offset on the embedded cluster: offsets from JSON bodies and from
# Consume's tracked properties, per partition the highest + 1 with its
# metadata, one result per document, malformed documents as application
# errors, a cluster that is down as a failure. python3-kafka (an independent
# client) reads the committed offsets back and starts where they say.
. "$(dirname "$0")/lib.sh"
"$PYTHON3" -c 'import kafka' 2>/dev/null || skip "python3-kafka not installed"

start_cluster --topic orders:3 --topic events:2
cat > "$TMP/defs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <operation id="commit-json" connection="kafka" type="commit_offset">
    <property name="consumer_group">g-json</property>
  </operation>
  <operation id="commit-down" connection="kafka" type="commit_offset">
    <property name="consumer_group">g-down</property>
    <property name="commit_timeout_ms">3000</property>
  </operation>
  <operation id="read-events" connection="kafka" type="consume">
    <property name="topic">events</property>
    <property name="consumer_group">g-pipe</property>
    <property name="autocommit">false</property>
    <property name="min_messages">20</property>
    <property name="max_wait_ms">20000</property>
  </operation>
  <operation id="read-new-events" connection="kafka" type="consume">
    <property name="topic">events</property>
    <property name="consumer_group">g-pipe</property>
    <property name="autocommit">false</property>
    <property name="min_messages">5</property>
    <property name="max_wait_ms">20000</property>
  </operation>
  <operation id="commit-pipe" connection="kafka" type="commit_offset">
    <property name="consumer_group">g-pipe</property>
  </operation>
  <process id="json-to-commit">
    <start/>
    <connector operation="commit-json"/>
    <output/>
  </process>
  <process id="commit-while-down">
    <start/>
    <connector operation="commit-down"/>
    <output/>
  </process>
  <process id="consume-commit">
    <start operation="read-events"/>
    <connector operation="commit-pipe"/>
    <output/>
  </process>
  <process id="consume-again">
    <start operation="read-new-events"/>
    <output/>
  </process>
</connrt>
XML

# 10 messages in each partition of orders, 10 in each of events (python3-kafka).
produce() { # produce TOPIC PARTITIONS COUNT_PER_PARTITION PREFIX
    "$PYTHON3" - "$BOOTSTRAP" "$@" <<'PY'
import sys
from kafka import KafkaProducer
bootstrap, topic, parts, n, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
p = KafkaProducer(bootstrap_servers=bootstrap)
for part in range(parts):
    for i in range(n):
        p.send(topic, ("%s-%d-%d" % (prefix, part, i)).encode(), partition=part)
p.flush(30)
p.close()
PY
}
check "python3-kafka produced 30 messages to orders" produce orders 3 10 o
check "python3-kafka produced 20 messages to events" produce events 2 10 e

# --- JSON bodies: highest offset + 1 per partition with its metadata; bad documents fail alone
cat > "$TMP/json.lines" <<'EOF'
{"topic":"orders","partition":0,"offset":3,"metadata":"m-0-3"}
{"topic":"orders","partition":0,"offset":5,"metadata":"m-0-5"}
{"topic":"orders","partition":1,"offset":2}
this is not json SECRET-PAYLOAD-BYTES
{"topic":"orders","partition":1}
{"topic":"orders","partition":"1","offset":1}
{"topic":"orders","partition":2,"offset":-4}
{"topic":"orders","partition":9,"offset":1}
{"topic":"no-such-topic","partition":0,"offset":1}
{"topic":"orders","partition":1,"offset":1,"metadata":"lower"}
["SECRET-PAYLOAD-BYTES"]
EOF
run_connrt st run "$TMP/defs.xml" --process json-to-commit --input "$TMP/json.lines" \
    --output "$TMP/json.jsonl"
check "JSON bodies with bad documents: exit 1" test "$st" -eq 1
check "one result per input document" test "$(jsonl "$TMP/json.jsonl" 'len(docs)')" = 11
check "valid documents succeed, malformed ones are application errors" \
    test "$(jsonl "$TMP/json.jsonl" '[d["outcome"][0] for d in docs]')" = \
    "['s', 's', 's', 'a', 'a', 'a', 'a', 'a', 'a', 's', 'a']"
errors() { jsonl "$TMP/json.jsonl" '[d.get("error") for d in docs]'; }
check "not JSON: says so with the position" \
    test "$(jsonl "$TMP/json.jsonl" '"not JSON (line 1, column" in docs[3]["error"]')" = True
check "missing field: names it" \
    test "$(jsonl "$TMP/json.jsonl" '"no field '"'offset'"'" in docs[4]["error"]')" = True
check "wrong type: names field and type" \
    test "$(jsonl "$TMP/json.jsonl" '"'"'partition'"' must be an integer, not a string" in docs[5]["error"]')" = True
check "negative offset: says negative" \
    test "$(jsonl "$TMP/json.jsonl" '"-4 is negative" in docs[6]["error"]')" = True
check "partition out of range: names partition and count" \
    test "$(jsonl "$TMP/json.jsonl" '"partition 9 of topic '"'orders'"' does not exist (it has 3" in docs[7]["error"]')" = True
check "unknown topic: names it" \
    test "$(jsonl "$TMP/json.jsonl" '"topic '"'no-such-topic'"' does not exist" in docs[8]["error"]')" = True
check "not an object: says what it is" \
    test "$(jsonl "$TMP/json.jsonl" '"an array, not a JSON object" in docs[10]["error"]')" = True
check "no payload bytes echoed in errors or on stderr" \
    sh -c "! grep -q SECRET-PAYLOAD '$TMP/err' && test \"\$(grep -c SECRET-PAYLOAD '$TMP/json.jsonl')\" -eq 2"
check "errors reported on stderr with the document number" grep -q "document 8" "$TMP/err"
check "successes carry the committed position as tracked properties" \
    test "$(jsonl "$TMP/json.jsonl" '(docs[1]["topic"], docs[1]["partition"], docs[1]["offset"], docs[1]["tracked"])')" = "('orders', 0, 5, {})"

check "python3-kafka reads the committed offsets and metadata of g-json" "$PYTHON3" - "$BOOTSTRAP" <<'PY'
import sys
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
parts = [TopicPartition("orders", p) for p in range(3)]
got = a.list_consumer_group_offsets("g-json", partitions=parts)
a.close()
seen = {tp.partition: (om.offset, om.metadata) for tp, om in got.items()}
assert seen[0] == (6, "m-0-5"), seen
assert seen[1] == (3, ""), seen
assert seen[2][0] == -1, seen  # nothing committed for partition 2
c = KafkaConsumer(bootstrap_servers=sys.argv[1], group_id="g-json", enable_auto_commit=False)
assert c.committed(TopicPartition("orders", 0)) == 6
assert c.committed(TopicPartition("orders", 1)) == 3
c.close()
PY

check "a python3-kafka consumer in g-json starts where connrt committed" "$PYTHON3" - "$BOOTSTRAP" <<'PY'
import sys, time
from kafka import KafkaConsumer
c = KafkaConsumer("orders", bootstrap_servers=sys.argv[1], group_id="g-json",
                  enable_auto_commit=False, auto_offset_reset="earliest",
                  session_timeout_ms=6000, heartbeat_interval_ms=1000)
first = {}
deadline = time.monotonic() + 60
while len(first) < 3 and time.monotonic() < deadline:
    for tp, records in c.poll(timeout_ms=1000).items():
        first.setdefault(tp.partition, min(r.offset for r in records))
c.close()
# committed 6 and 3; partition 2 has no commit: earliest
assert first == {0: 6, 1: 3, 2: 0}, first
PY

# --- consume (autocommit=false) -> commit_offset in one process; the next consume starts after
run_connrt st run "$TMP/defs.xml" --process consume-commit --output "$TMP/pipe.jsonl"
check "consume -> commit_offset: exit 0" test "$st" -eq 0
check "consume -> commit_offset: 20 documents, all committed" \
    test "$(jsonl "$TMP/pipe.jsonl" 'len(docs)==20 and all(d["outcome"]=="success" for d in docs)')" = True
check "python3-kafka sees g-pipe committed at the end of both partitions" "$PYTHON3" - "$BOOTSTRAP" <<'PY'
import sys
from kafka import KafkaConsumer, TopicPartition
c = KafkaConsumer(bootstrap_servers=sys.argv[1], group_id="g-pipe", enable_auto_commit=False)
got = [c.committed(TopicPartition("events", p)) for p in range(2)]
c.close()
assert got == [10, 10], got
PY
check "5 more messages to events" produce events 1 5 new
run_connrt st run "$TMP/defs.xml" --process consume-again --output "$TMP/again.jsonl"
check "second consume of g-pipe: exit 0" test "$st" -eq 0
check "second consume of g-pipe gets only the 5 new messages" \
    test "$(jsonl "$TMP/again.jsonl" 'sorted(d["value"] for d in docs)')" = \
    "$(printf "['new-0-0', 'new-0-1', 'new-0-2', 'new-0-3', 'new-0-4']")"

# --- the cluster is down: the operation fails (exit 3), naming the group, within the timeout
echo '{"topic":"orders","partition":0,"offset":1}' > "$TMP/down.lines"
cluster_cmd "broker down all"
start=$(date +%s)
run_connrt st run "$TMP/defs.xml" --process commit-while-down --input "$TMP/down.lines" \
    --output "$TMP/down.jsonl"
elapsed=$(( $(date +%s) - start ))
cluster_cmd "broker up all"
check "cluster down: exit 3" test "$st" -eq 3
check "cluster down: the error names the group and says nothing was committed" \
    grep -q "consumer group 'g-down': nothing committed" "$TMP/err"
check "cluster down: gives up within commit_timeout_ms (3 s) plus start-up ($elapsed s)" \
    test "$elapsed" -le 15
finish
