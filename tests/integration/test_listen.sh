#!/usr/bin/env bash
# Listen on the embedded cluster, 20,000 messages over 4 partitions: every
# message reaches the process, offsets are committed after success and
# exactly up to what the process took, SIGTERM drains and exits 0, executions
# overlap up to max_concurrent_executions (and the container's cap), order
# holds per partition; python3-kafka's keys and headers arrive intact.
. "$(dirname "$0")/lib.sh"
need kcat
"$PYTHON3" -c 'import kafka' 2>/dev/null || skip "python3-kafka not installed"

start_cluster --topic orders:4 --topic capped:4 --topic py:4
mkdir -p "$TMP/c/deploy" "$TMP/capped/deploy"
cat > "$TMP/defs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <operation id="listen-orders" connection="kafka" type="listen">
    <property name="topic">orders</property>
    <property name="consumer_group">g-orders</property>
    <property name="batch_size">200</property>
    <property name="batch_wait_ms">50</property>
    <property name="max_concurrent_executions">4</property>
  </operation>
  <operation id="listen-capped" connection="kafka" type="listen">
    <property name="topic">capped</property>
    <property name="consumer_group">g-capped</property>
    <property name="batch_size">100</property>
    <property name="batch_wait_ms">50</property>
    <property name="max_concurrent_executions">4</property>
  </operation>
  <operation id="listen-py" connection="kafka" type="listen">
    <property name="topic">py</property>
    <property name="consumer_group">g-py</property>
    <property name="batch_size">50</property>
    <property name="batch_wait_ms">50</property>
  </operation>
  <process id="orders"><start operation="listen-orders"/><output/></process>
  <process id="capped"><start operation="listen-capped"/><output/></process>
  <process id="py"><start operation="listen-py"/><output/></process>
</connrt>
XML
cp "$TMP/defs.xml" "$TMP/c/deploy/"
cp "$TMP/defs.xml" "$TMP/capped/deploy/"
echo "execution.max.concurrent=2" > "$TMP/capped/container.properties"


# --- a first listener takes the first 10,000 orders; SIGTERM arrives while
# the next 10,000 are being produced
produce_json orders 1 10000
start_bg first run --container "$TMP/c" --process orders --output "$TMP/first.jsonl"
check "the first listener outputs the 10,000 orders there are" \
    wait_until 90 has_lines "$TMP/first.jsonl" 10000
produce_json orders 10001 20000 &
producer=$!
stop_bg first TERM
wait "$producer"
check "SIGTERM: the listener exits 0" test "$first_STATUS" -eq 0
check "SIGTERM: it says it drained, and left the group" \
    grep -q "SIGTERM received, draining" "$TMP/first.err"
check "SIGTERM: the summary counts every execution's documents" \
    grep -Eq "listener orders: [0-9]+ executions \(0 failed and retried\), $(count_lines "$TMP/first.jsonl") documents" "$TMP/first.err"
$KCHECK "$BOOTSTRAP" committed g-orders orders > "$TMP/committed-first.json"
check "SIGTERM: exactly what the process took is committed (per partition, last offset + 1)" \
    "$PYTHON3" - "$TMP/first.jsonl" "$TMP/committed-first.json" <<'PY'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
committed = json.load(open(sys.argv[2]))
last = {}
for d in docs:
    last[d["partition"]] = max(last.get(d["partition"], -1), d["offset"])
for p in range(4):
    want = last[p] + 1 if p in last else None
    assert committed[str(p)] == want, (p, committed[str(p)], want)
PY

# --- a second listener in the same group starts where the first committed
start_bg second run --container "$TMP/c" --process orders --output "$TMP/second.jsonl"
check "the second listener catches up with the topic" wait_until 90 caught_up g-orders orders
stop_bg second TERM
check "the second listener exits 0 on SIGTERM" test "$second_STATUS" -eq 0
check "together they processed all 20,000 orders, each exactly once (clean stops)" \
    test "$(cat "$TMP/first.jsonl" "$TMP/second.jsonl" | jsonl /dev/stdin \
        'str(len(docs)) + " " + str(len({(d["partition"], d["offset"]) for d in docs})) + " " + str(len({json.loads(d["value"])["n"] for d in docs}))')" = "20000 20000 20000"
check "every document is a success with topic, partition, offset, key and timestamp tracked" \
    test "$(cat "$TMP/first.jsonl" "$TMP/second.jsonl" | jsonl /dev/stdin \
        'all(d["outcome"]=="success" and d["topic"]=="orders" and d["key"]=="k%d" % (json.loads(d["value"])["n"] % 211) and isinstance(d["offset"], int) and d["timestamp"] is not None for d in docs)')" = True
check "offsets increase within each partition in each listener's output" \
    "$PYTHON3" - "$TMP/first.jsonl" "$TMP/second.jsonl" <<'PY'
import json, sys
for path in sys.argv[1:]:
    last = {}
    for line in open(path):
        d = json.loads(line)
        assert d["offset"] > last.get(d["partition"], -1), (path, d["partition"], d["offset"])
        last[d["partition"]] = d["offset"]
PY
most=$(sed -n 's/.*at most \([0-9]*\) at once.*/\1/p' "$TMP/first.err" "$TMP/second.err" | sort -n | tail -1)
check "max_concurrent_executions=4: executions overlapped (at most $most at once)" \
    test "$most" -ge 2 -a "$most" -le 4

# --- the container's cap (execution.max.concurrent=2) wins over 4
produce_json capped 1 20000
start_bg capped run --container "$TMP/capped" --process capped --output "$TMP/capped.jsonl"
check "the capped listener catches up" wait_until 90 caught_up g-capped capped
stop_bg capped TERM
capped_most=$(sed -n 's/.*at most \([0-9]*\) at once.*/\1/p' "$TMP/capped.err")
check "execution.max.concurrent=2 caps a listener asking for 4 (at most $capped_most at once)" \
    test "$capped_most" = 2
check "the capped listener processed all 20,000" \
    test "$(jsonl "$TMP/capped.jsonl" 'len({(d["partition"], d["offset"]) for d in docs})')" = 20000

# --- interop: a python3-kafka producer's keys and headers reach the process
$KCHECK "$BOOTSTRAP" produce py 300 py
$KCHECK "$BOOTSTRAP" read py > "$TMP/py-read.jsonl"
start_bg py run --container "$TMP/c" --process py --output "$TMP/py.jsonl"
check "the listener takes python3-kafka's 300 messages" wait_until 90 caught_up g-py py
stop_bg py TERM
check "keys, values and headers from python3-kafka arrive intact (by partition and offset)" \
    "$PYTHON3" - "$TMP/py-read.jsonl" "$TMP/py.jsonl" <<'PY'
import json, sys
sent = {(m["partition"], m["offset"]): m for m in map(json.loads, open(sys.argv[1]))}
got = [json.loads(l) for l in open(sys.argv[2])]
assert len(sent) == 300 and len(got) == 300, (len(sent), len(got))
for d in got:
    m = sent[(d["partition"], d["offset"])]
    assert d["key"] == m["key"] and d["value"] == m["value"], d
    assert d["headers"] == m["headers"], (d["headers"], m["headers"])
    assert d["properties"]["connector.kafka.key"] == m["key"]
    assert d["headers"]["trace"] == m["headers"]["trace"]
PY

finish
