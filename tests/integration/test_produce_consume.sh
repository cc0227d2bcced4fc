#!/usr/bin/env bash
# Processes on the embedded cluster: produce keyed documents, consume them
# back with tracked properties, and the per-document application errors.
. "$(dirname "$0")/lib.sh"

start_cluster --topic orders:4 --topic small:1 --topic piped:4
mkdir -p "$TMP/c/deploy"
cat > "$TMP/c/deploy/defs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <operation id="send" connection="kafka" type="produce">
    <property name="topic">orders</property>
    <property name="header.origin">it-test</property>
    <property name="message_timeout_ms">5000</property>
  </operation>
  <operation id="read" connection="kafka" type="consume">
    <property name="topic">orders</property>
    <property name="consumer_group">g-read</property>
    <property name="min_messages">200</property>
    <property name="max_wait_ms">15000</property>
    <property name="autocommit">true</property>
  </operation>
  <operation id="read-small" connection="kafka" type="consume">
    <property name="topic">small</property>
    <property name="consumer_group">g-small</property>
    <property name="min_messages">5</property>
    <property name="max_wait_ms">15000</property>
  </operation>
  <process id="produce">
    <start/>
    <set-properties>
      <property name="connector.kafka.key" json-pointer="/customer"/>
    </set-properties>
    <connector operation="send"/>
    <output/>
  </process>
  <process id="consume">
    <start operation="read"/>
    <output/>
  </process>
  <operation id="read-fail" connection="kafka" type="consume">
    <property name="topic">orders</property>
    <property name="consumer_group">g-fail</property>
    <property name="min_messages">200</property>
    <property name="max_wait_ms">15000</property>
    <property name="autocommit">true</property>
  </operation>
  <process id="consume-fail">
    <start operation="read-fail"/>
    <output/>
  </process>
  <process id="consume-small">
    <start operation="read-small"/>
    <output/>
  </process>
</connrt>
XML
for i in $(seq 1 200); do
    printf '{"order":%d,"customer":"c-%02d"}\n' "$i" $((i % 17))
done > "$TMP/orders.jsonl"

# --- produce: every document succeeds with its partition and offset tracked
run_connrt st run --container "$TMP/c" --process produce --input "$TMP/orders.jsonl" \
    --output "$TMP/produced.jsonl"
check "produce exits 0" test "$st" -eq 0
check "produce writes one result per document" \
    test "$(jsonl "$TMP/produced.jsonl" 'len(docs)')" = 200
check "every produce result is a success with topic, partition 0-3 and offset" \
    test "$(jsonl "$TMP/produced.jsonl" 'all(d["outcome"]=="success" and d["topic"]=="orders" and 0<=d["partition"]<4 and d["offset"]>=0 for d in docs)')" = True
check "the key comes from the json-pointer /customer" \
    test "$(jsonl "$TMP/produced.jsonl" 'all(d["key"]==json.loads(d["value"])["customer"] for d in docs)')" = True
check "one key always lands on one partition" \
    test "$(jsonl "$TMP/produced.jsonl" 'all(len({e["partition"] for e in docs if e["key"]==d["key"]})==1 for d in docs)')" = True
check "summary on stderr counts 200 successes" grep -q "200 documents: 200 success" "$TMP/err"

# --- consume: the same 200 documents come back with tracked properties and headers
run_connrt st run --container "$TMP/c" --process consume --output "$TMP/consumed.jsonl"
check "consume exits 0" test "$st" -eq 0
check "consume returns the 200 produced documents" \
    test "$(jsonl "$TMP/consumed.jsonl" 'sorted(d["value"] for d in docs)==sorted(l.strip() for l in open("'"$TMP/orders.jsonl"'"))')" = True
check "consumed documents carry kafka.* tracked properties" \
    test "$(jsonl "$TMP/consumed.jsonl" 'all(all(d[k] is not None for k in ("topic","partition","offset","key","timestamp")) and d["tracked"] == {} for d in docs)')" = True
check "consumed documents carry the static header" \
    test "$(jsonl "$TMP/consumed.jsonl" 'all(d["headers"].get("origin")=="it-test" for d in docs)')" = True
check "consumed documents expose the key as a document property" \
    test "$(jsonl "$TMP/consumed.jsonl" 'all(d["properties"]["connector.kafka.key"]==d["key"] for d in docs)')" = True

# --- autocommit: a second run of the same group starts after the committed offsets
run_connrt st run --container "$TMP/c" --process consume --output "$TMP/again.jsonl" </dev/null
check "second consume of the group finds nothing new" \
    test "$(jsonl "$TMP/again.jsonl" 'len(docs)')" = 0

# --- at-least-once: when the rest of the process fails, autocommit commits nothing
run_connrt st run --container "$TMP/c" --process consume-fail --output /dev/full
check "consume into a failing output: exit 3" test "$st" -eq 3
check "consume into a failing output: offsets not committed, said on stderr" \
    grep -q "offsets not committed because the process failed" "$TMP/err"
run_connrt st run --container "$TMP/c" --process consume-fail --output "$TMP/retry.jsonl"
check "the next run of that group gets all 200 documents again" \
    test "$(jsonl "$TMP/retry.jsonl" 'len(docs)')" = 200

# --- per-document application errors: unknown topic and oversize; the others go on
printf '%s\n' '{"value":"{\"customer\":\"a\"}"}' \
    '{"value":"{\"customer\":\"b\"}","properties":{"connector.kafka.topic":"no-such-topic"}}' \
    '{"value":"{\"customer\":\"c\"}"}' > "$TMP/mixed.jsonl"
run_connrt st run --container "$TMP/c" --process produce --input "$TMP/mixed.jsonl" \
    --input-format jsonl --output "$TMP/mixed-out.jsonl"
check "unknown topic: exit status 1" test "$st" -eq 1
check "unknown topic: only that document is an application error naming the topic" \
    test "$(jsonl "$TMP/mixed-out.jsonl" '[d["outcome"] for d in docs]==["success","application_error","success"] and "no-such-topic" in docs[1]["error"]')" = True
check "unknown topic: reported on stderr with the document" grep -q "document 2" "$TMP/err"

echo 'connector.kafka.max.request.size = 100' > "$TMP/c/container.properties"
{ echo '{"customer":"small"}'; printf '{"customer":"big","pad":"%0400d"}\n' 0; } > "$TMP/big.jsonl"
run_connrt st run --container "$TMP/c" --process produce --input "$TMP/big.jsonl" \
    --output "$TMP/big-out.jsonl"
check "oversize: exit status 1" test "$st" -eq 1
check "oversize: the large document is an application error naming the limit" \
    test "$(jsonl "$TMP/big-out.jsonl" '[d["outcome"] for d in docs]==["success","application_error"] and "max.request.size" in docs[1]["error"]')" = True

# --- container max.poll.records=3 with min_messages=5 returns 6
for i in $(seq 1 12); do echo "{\"customer\":\"k$i\"}"; done > "$TMP/twelve.jsonl"
sed -i 's/^connector.kafka.max.request.size.*$//' "$TMP/c/container.properties"
run_connrt st run --container "$TMP/c" --process produce --input "$TMP/twelve.jsonl" \
    --output /dev/null
cat > "$TMP/small.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <operation id="send-small" connection="kafka" type="produce">
    <property name="topic">small</property>
  </operation>
  <process id="produce-small">
    <start/>
    <connector operation="send-small"/>
  </process>
</connrt>
XML
run_connrt st run "$TMP/c/deploy/defs.xml" "$TMP/small.xml" --container "$TMP/c" \
    --process produce-small --input "$TMP/twelve.jsonl"
check "12 documents produced to topic small" test "$st" -eq 0
echo 'connector.kafka.max.poll.records=3' > "$TMP/c/container.properties"
run_connrt st run --container "$TMP/c" --process consume-small --output "$TMP/six.jsonl"
check "max.poll.records=3, min_messages=5: exactly 6 documents" \
    test "$(jsonl "$TMP/six.jsonl" 'len(docs)')" = 6

# --- Produce as the last step: the next chunk is sent while the previous
# one's delivery reports come in (two chunks of 10 in flight). Every
# document still ends once, in order, with its tracked properties in the
# history (history.documents=all); with history.documents=errors only the
# errors are kept.
mkdir -p "$TMP/p/deploy"
cat > "$TMP/p/deploy/defs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <operation id="send-piped" connection="kafka" type="produce">
    <property name="topic">piped</property>
  </operation>
  <process id="produce-piped">
    <start/>
    <set-properties>
      <property name="connector.kafka.key" json-pointer="/customer"/>
    </set-properties>
    <connector operation="send-piped"/>
  </process>
</connrt>
XML
printf '%s\n' 'execution.max.documents.in.flight = 20' 'connector.kafka.max.request.size = 200' \
    > "$TMP/p/container.properties"
for i in $(seq 1 203); do
    case $i in
    50 | 101 | 202) printf '{"n":%d,"customer":"c%d","pad":"%0300d"}\n' "$i" $((i % 5)) 0 ;;
    *) printf '{"n":%d,"customer":"c%d"}\n' "$i" $((i % 5)) ;;
    esac
done > "$TMP/piped.jsonl"
run_connrt st run --container "$TMP/p" --input "$TMP/piped.jsonl"
check "chunks in flight: exit 1 (3 oversize documents)" test "$st" -eq 1
check "chunks in flight: 200 successes, 3 application errors, no failure" \
    grep -q "203 documents: 200 success, 3 application errors, 0 failures" "$TMP/err"
for n in 50 101 202; do
    check "chunks in flight: document $n is named with its line" \
        grep -q "document $n (.*piped.jsonl:$n): application error at step 'send-piped'" "$TMP/err"
done
$KCHECK "$BOOTSTRAP" read piped > "$TMP/piped-read.jsonl"
check "python3-kafka reads each of the 200 documents once, in order per key" \
    test "$(jsonl "$TMP/piped-read.jsonl" 'sorted(json.loads(d["value"])["n"] for d in docs) == [n for n in range(1, 204) if n not in (50, 101, 202)] and all([json.loads(d["value"])["n"] for d in sorted((e for e in docs if e["key"] == k), key=lambda e: e["offset"])] == sorted(json.loads(d["value"])["n"] for d in docs if d["key"] == k) for k in {d["key"] for d in docs})')" = True
history_rows() { # DIR SQL
    "$PYTHON3" -c 'import sqlite3, sys
print("|".join(str(v) for v in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()))' \
        "$1/data/history.db" "$2"
}
check "history.documents=all: each success has kafka.partition and kafka.offset" \
    test "$(history_rows "$TMP/p" "select count(distinct seq), count(*) from tracked
        where name in ('kafka.partition', 'kafka.offset')")" = "200|400"
printf '%s\n' 'history.documents = errors' >> "$TMP/p/container.properties"
run_connrt st run --container "$TMP/p" --input "$TMP/piped.jsonl"
check "history.documents=errors: the same outcomes" \
    grep -q "203 documents: 200 success, 3 application errors, 0 failures" "$TMP/err"
check "history.documents=errors: only the 3 errors have rows, without tracked properties" \
    test "$(history_rows "$TMP/p" "select (select sum(count) from documents where execution_id = 2),
        (select count(*) from tracked where execution_id = 2)")" = "3|0"

# --- usage: several processes and no --process
run_connrt st run --container "$TMP/c" --input "$TMP/orders.jsonl"
check "several processes without --process: exit 2" test "$st" -eq 2
check "the message lists the process ids" grep -q "consume-small" "$TMP/err"
finish
