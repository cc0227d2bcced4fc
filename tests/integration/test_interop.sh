#!/usr/bin/env bash
# Interop with independent clients: what connrt produces, kcat and
# python3-kafka (a separate pure-Python client, Java's murmur2 partitioner)
# read back intact and on the partition Java would pick; what kcat produces,
# connrt consumes.
. "$(dirname "$0")/lib.sh"
need kcat
"$PYTHON3" -c 'import kafka' 2>/dev/null || skip "python3-kafka not installed"

start_cluster --topic interop:4 --topic from-kcat:4 --topic from-python:4
cat > "$TMP/defs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <operation id="send" connection="kafka" type="produce">
    <property name="topic">interop</property>
    <property name="header.origin">connrt</property>
  </operation>
  <operation id="read" connection="kafka" type="consume">
    <property name="topic">from-kcat</property>
    <property name="consumer_group">g-interop</property>
    <property name="min_messages">50</property>
    <property name="max_wait_ms">15000</property>
  </operation>
  <operation id="read-python" connection="kafka" type="consume">
    <property name="topic">from-python</property>
    <property name="consumer_group">g-interop-python</property>
    <property name="min_messages">40</property>
    <property name="max_wait_ms">15000</property>
  </operation>
  <process id="consume-python">
    <start operation="read-python"/>
    <output/>
  </process>
  <process id="produce">
    <start/>
    <connector operation="send"/>
    <output/>
  </process>
  <process id="consume">
    <start operation="read"/>
    <output/>
  </process>
</connrt>
XML
"$PYTHON3" - "$TMP/in.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(100):
        f.write(json.dumps({"value": "payload-%d é" % i,
                            "properties": {"connector.kafka.key": "key-%d" % (i % 23),
                                           "connector.kafka.header.trace": "t-%d" % i}}) + "\n")
PY
run_connrt st run "$TMP/defs.xml" --process produce --input "$TMP/in.jsonl" --input-format jsonl \
    --output "$TMP/produced.jsonl"
check "connrt produced 100 documents" test "$st" -eq 0

# kcat reads key, value, headers and partition.
kcat -C -b "$BOOTSTRAP" -t interop -e -q -f '%k\t%s\t%p\t%h\n' > "$TMP/kcat.tsv"
check "kcat reads 100 messages" test "$(wc -l < "$TMP/kcat.tsv")" -eq 100
check "kcat sees every key, value and both headers intact" "$PYTHON3" - "$TMP/kcat.tsv" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")]
seen = {}
for key, value, part, headers in rows:
    i = int(value.split("-")[1].split()[0])
    assert key == "key-%d" % (i % 23), (key, value)
    assert value == "payload-%d é" % i, value
    hs = dict(h.split("=", 1) for h in headers.split(","))
    assert hs == {"origin": "connrt", "trace": "t-%d" % i}, hs
    seen[i] = True
assert len(seen) == 100
PY

# python3-kafka: same data, and each key on the partition Java's murmur2 picks.
check "python3-kafka reads every message on the Java murmur2 partition" "$PYTHON3" - "$BOOTSTRAP" <<'PY'
import sys
from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import DefaultPartitioner
c = KafkaConsumer(bootstrap_servers=sys.argv[1], enable_auto_commit=False,
                  consumer_timeout_ms=10000)
parts = [TopicPartition("interop", p) for p in range(4)]
c.assign(parts)
c.seek_to_beginning()
msgs = []
while len(msgs) < 100:
    batch = c.poll(timeout_ms=5000)
    if not batch:
        break
    for records in batch.values():
        msgs.extend(records)
assert len(msgs) == 100, len(msgs)
for m in msgs:
    expected = DefaultPartitioner()(m.key, [0, 1, 2, 3], [0, 1, 2, 3])
    assert m.partition == expected, (m.key, m.partition, expected)
    i = int(m.value.decode().split("-")[1].split()[0])
    assert m.key == ("key-%d" % (i % 23)).encode()
    assert dict(m.headers) == {"origin": b"connrt", "trace": ("t-%d" % i).encode()}
c.close()
PY

# kcat produces, connrt consumes.
for i in $(seq 1 50); do printf 'k%d:v%d\n' "$i" "$i"; done |
    kcat -P -b "$BOOTSTRAP" -t from-kcat -K: 
run_connrt st run "$TMP/defs.xml" --process consume --output "$TMP/consumed.jsonl"
check "connrt consumes what kcat produced (exit 0)" test "$st" -eq 0
check "connrt sees 50 kcat messages with keys and values" \
    test "$(jsonl "$TMP/consumed.jsonl" 'sorted((d["key"],d["value"]) for d in docs)==sorted(("k%d"%i,"v%d"%i) for i in range(1,51))')" = True

# python3-kafka produces keyed messages with headers (one without any);
# connrt consumes them with keys and
# headers intact, on the partition python3-kafka (Java's murmur2) chose.
"$PYTHON3" - "$BOOTSTRAP" "$TMP/python-sent.json" <<'PY'
import json, sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], acks="all")
sent = []
for i in range(40):
    headers = [("trace", ("t-%d" % i).encode()), ("source", b"python")]
    if i == 7:
        headers = []
    md = p.send("from-python", key=("pk-%d" % (i % 9)).encode(),
                value=("py-%d" % i).encode(), headers=headers).get(timeout=20)
    sent.append({"key": "pk-%d" % (i % 9), "value": "py-%d" % i, "partition": md.partition,
                 "offset": md.offset, "headers": {k: v.decode() for k, v in headers}})
p.close()
json.dump(sent, open(sys.argv[2], "w"))
PY
run_connrt st run "$TMP/defs.xml" --process consume-python --output "$TMP/from-python.jsonl"
check "connrt consumes what python3-kafka produced (exit 0)" test "$st" -eq 0
check "python3-kafka messages: 40, each with its key, value, partition and offset" \
    test "$(jsonl "$TMP/from-python.jsonl" 'sorted((d["key"],d["value"],d["partition"],d["offset"]) for d in docs)==sorted((s["key"],s["value"],s["partition"],s["offset"]) for s in json.load(open("'"$TMP/python-sent.json"'")))')" = True
check "python3-kafka messages: headers intact (none where none were sent), also tracked as kafka.header.NAME" \
    test "$(jsonl "$TMP/from-python.jsonl" 'all(d["headers"]==s["headers"] and not any(n.startswith("kafka.header.") for n in d["tracked"]) for s in json.load(open("'"$TMP/python-sent.json"'")) for d in docs if d["value"]==s["value"])')" = True
check "python3-kafka messages: the key is the document property connector.kafka.key" \
    test "$(jsonl "$TMP/from-python.jsonl" 'all(d["properties"].get("connector.kafka.key")==d["key"] for d in docs)')" = True
finish
