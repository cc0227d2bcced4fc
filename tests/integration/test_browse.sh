#!/usr/bin/env bash
# connrt browse on the embedded cluster: topics, partitions and watermarks
# after a known number of messages per partition; committed offsets and lag
# of named groups; the note when the cluster cannot list groups; a peek that
# leaves every group where it was; unknown topics; no secret printed.
. "$(dirname "$0")/lib.sh"
need kcat

start_cluster --topic orders:3 --topic empty:2
CANARY=browse-canary-$$
cat > "$TMP/defs.xml" <<XML
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">\${env:BOOTSTRAP}</property>
  </connection>
  <connection id="secure" connector="kafka">
    <property name="bootstrap_servers">\${env:BOOTSTRAP}</property>
    <property name="security_protocol">SASL_PLAINTEXT</property>
    <property name="sasl_mechanism">PLAIN</property>
    <property name="username">alice</property>
    <property name="password">$CANARY</property>
  </connection>
  <operation id="read-all" connection="kafka" type="consume">
    <property name="topic">orders</property>
    <property name="consumer_group">g-all</property>
    <property name="min_messages">9</property>
    <property name="max_wait_ms">15000</property>
    <property name="autocommit">true</property>
  </operation>
  <operation id="read-fresh" connection="kafka" type="consume">
    <property name="topic">orders</property>
    <property name="consumer_group">g-fresh</property>
    <property name="min_messages">12</property>
    <property name="max_wait_ms">15000</property>
  </operation>
  <process id="consume-all">
    <start operation="read-all"/>
    <output/>
  </process>
  <process id="consume-fresh">
    <start operation="read-fresh"/>
    <output/>
  </process>
</connrt>
XML
DEFS=("$TMP/defs.xml" --connection kafka)

# produce PARTITION FIRST LAST: messages "pP-mI" for I in FIRST..LAST.
produce() {
    seq "$2" "$3" | sed "s/^/p$1-m/" | kcat -P -b "$BOOTSTRAP" -t orders -p "$1"
}
produce 0 1 2
produce 1 1 3
produce 2 1 4

# --- every topic: partitions, leaders, watermarks (2, 3 and 4 messages)
run_connrt st browse "${DEFS[@]}"
check "browse: exit 0" test "$st" -eq 0
cp "$TMP/out" "$TMP/all.txt"
check "topics table: orders has 3 partitions and 9 messages" grep -Eq '^  orders +3 +9$' "$TMP/all.txt"
check "topics table: empty has 2 partitions and 0 messages" grep -Eq '^  empty +2 +0$' "$TMP/all.txt"
for row in "0 1 0 2 2" "1 1 0 3 3" "2 1 0 4 4"; do
    check "partitions table: orders partition, leader, low, high, messages = $row" \
        grep -Eq "^  orders +$(echo "$row" | sed 's/ / +/g')\$" "$TMP/all.txt"
done
check "partitions table: a header, then columns aligned (every line as long as the header)" \
    test "$(sed -n '/^partitions:/,/^$/p' "$TMP/all.txt" | grep '^  ' | awk '{print length}' | sort -u | wc -l)" = 1
check "partitions table header names the columns" \
    grep -Eq '^  TOPIC +PARTITION +LEADER +LOW +HIGH +MESSAGES$' "$TMP/all.txt"

run_connrt st browse "${DEFS[@]}" --json
cp "$TMP/out" "$TMP/all.jsonl"
check "browse --json: exit 0" test "$st" -eq 0
check "--json: one topics row per topic, numbers as numbers" \
    test "$(jsonl "$TMP/all.jsonl" '[d for d in docs if d["row"]=="topics"]==[{"row":"topics","topic":"empty","partitions":2,"messages":0},{"row":"topics","topic":"orders","partitions":3,"messages":9}]')" = True
check "--json: partitions rows give leader, low and high watermarks" \
    test "$(jsonl "$TMP/all.jsonl" '{(d["topic"],d["partition"]):(d["leader"],d["low"],d["high"]) for d in docs if d["row"]=="partitions"}=={("empty",0):(1,0,0),("empty",1):(1,0,0),("orders",0):(1,0,2),("orders",1):(1,0,3),("orders",2):(1,0,4)}')" = True
if "$PYTHON3" -c 'import kafka' 2>/dev/null; then
    check "kafka-python sees the same high watermarks" test "$("$PYTHON3" - <<PY
from kafka import KafkaConsumer, TopicPartition
c = KafkaConsumer(bootstrap_servers="$BOOTSTRAP")
tps = [TopicPartition("orders", p) for p in range(3)]
print(sorted((tp.partition, o) for tp, o in c.end_offsets(tps).items()))
c.close()
PY
)" = "$(jsonl "$TMP/all.jsonl" 'sorted((d["partition"],d["high"]) for d in docs if d["row"]=="partitions" and d["topic"]=="orders")')"
fi

# --- an unknown topic is named, exit 2, and browsing did not create it
run_connrt st browse "${DEFS[@]}" --topic no-such-topic
check "unknown topic: exit 2" test "$st" -eq 2
check "unknown topic: the error names it" grep -q "no topic 'no-such-topic' on the cluster" "$TMP/err"
run_connrt st browse "${DEFS[@]}" --json
check "unknown topic: not created by browse" \
    test "$(jsonl "$TMP/out" 'any(d.get("topic")=="no-such-topic" for d in docs)')" = False

# --- groups: g-all consumed (and committed) everything; g-none never ran
run_connrt st run "$TMP/defs.xml" --process consume-all --output "$TMP/consumed.jsonl"
check "g-all consumes the 9 messages" test "$(jsonl "$TMP/consumed.jsonl" 'len(docs)')" = 9
run_connrt st browse "${DEFS[@]}" --topic orders --group g-all --group g-none --json
cp "$TMP/out" "$TMP/groups.jsonl"
check "browse --topic --group: exit 0" test "$st" -eq 0
check "--topic: only that topic's partitions" \
    test "$(jsonl "$TMP/groups.jsonl" '[(d["partition"],d["high"]) for d in docs if d["row"]=="partitions" and d["topic"]=="orders"]==[(0,2),(1,3),(2,4)] and not any(d["row"]=="topics" or d.get("topic")=="empty" for d in docs)')" = True
check "g-all: committed at the high watermark, lag 0 on every partition" \
    test "$(jsonl "$TMP/groups.jsonl" '[(d["partition"],d["committed"],d["lag"]) for d in docs if d["row"]=="group_offsets" and d["group"]=="g-all"]==[(0,2,0),(1,3,0),(2,4,0)]')" = True
check "g-none: no committed offset, lag unknown (null)" \
    test "$(jsonl "$TMP/groups.jsonl" '[(d["partition"],d["committed"],d["lag"]) for d in docs if d["row"]=="group_offsets" and d["group"]=="g-none"]==[(0,None,None),(1,None,None),(2,None,None)]')" = True
check "listing groups fails on the mock: said in a note, not an error" \
    test "$(jsonl "$TMP/groups.jsonl" 'any(d["row"]=="note" and d["table"]=="group_offsets" and "cannot list consumer groups" in d["note"] for d in docs)')" = True

produce 1 4 6
run_connrt st browse "${DEFS[@]}" --topic orders --group g-all
cp "$TMP/out" "$TMP/lag.txt"
check "3 new messages on partition 1: g-all lags 3 there (text table)" \
    grep -Eq '^  g-all +orders +1 +3 +3$' "$TMP/lag.txt"
check "text: partition 1's high watermark is 6" grep -Eq '^  orders +1 +1 +0 +6 +6$' "$TMP/lag.txt"
check "text: the note says the cluster cannot list groups" \
    grep -q "note: the cluster cannot list consumer groups .*--group G" "$TMP/lag.txt"

# --- peek: messages from the beginning, spread over the partitions
run_connrt st browse "${DEFS[@]}" --topic orders --peek 5
cp "$TMP/out" "$TMP/peek5.jsonl"
check "peek 5: exit 0" test "$st" -eq 0
check "peek 5: stdout holds exactly 5 JSON lines" test "$(jsonl "$TMP/peek5.jsonl" 'len(docs)')" = 5
check "peek 5: spread over the partitions from the beginning (2+2+1)" \
    test "$(jsonl "$TMP/peek5.jsonl" '[(d["partition"],d["offset"],d["value"]) for d in docs]==[(0,0,"p0-m1"),(0,1,"p0-m2"),(1,0,"p1-m1"),(1,1,"p1-m2"),(2,0,"p2-m1")]')" = True
check "peek 5: objects have the fields connrt run writes" \
    test "$(jsonl "$TMP/peek5.jsonl" 'all(list(d)==list(json.loads(open("'"$TMP/consumed.jsonl"'").readline())) for d in docs)')" = True
check "peek 5: the report goes to stderr, with the summary" \
    grep -q "peeked 5 message(s) of topic 'orders'; no offsets committed" "$TMP/err"
run_connrt st browse "${DEFS[@]}" --topic orders --peek 100
check "peek more than there is: all 12 messages, each partition in offset order" \
    test "$(jsonl "$TMP/out" '[(d["partition"],d["offset"]) for d in docs]==[(p,o) for p,n in ((0,2),(1,6),(2,4)) for o in range(n)]')" = True
check "peek agrees with kcat on partition 1" test \
    "$(jsonl "$TMP/out" '"\n".join(d["value"] for d in docs if d["partition"]==1)')" = \
    "$(kcat -C -b "$BOOTSTRAP" -t orders -p 1 -o beginning -e -q)"

# --- the peek moved no group: g-all still lags 3, and gets exactly the 3 new ones
run_connrt st browse "${DEFS[@]}" --topic orders --group g-all --json
check "after peeking, g-all's committed offsets are unchanged" \
    test "$(jsonl "$TMP/out" '[(d["partition"],d["committed"],d["lag"]) for d in docs if d["row"]=="group_offsets"]==[(0,2,0),(1,3,3),(2,4,0)]')" = True
run_connrt st run "$TMP/defs.xml" --process consume-all --output "$TMP/rest.jsonl"
check "after peeking, g-all consumes exactly the 3 new messages" \
    test "$(jsonl "$TMP/rest.jsonl" 'sorted(d["value"] for d in docs)')" = "['p1-m4', 'p1-m5', 'p1-m6']"
run_connrt st run "$TMP/defs.xml" --process consume-fresh --output "$TMP/fresh.jsonl"
check "after peeking, a new group consumes all 12 messages" \
    test "$(jsonl "$TMP/fresh.jsonl" 'len(docs)')" = 12

# --- usage errors (exit 2)
run_connrt st browse "${DEFS[@]}" --peek 3
check "--peek without --topic: exit 2" test "$st" -eq 2
run_connrt st browse "${DEFS[@]}" --topic orders --peek 0
check "--peek 0: exit 2 naming the value" bash -c "[ $st -eq 2 ] && grep -q \"not '0'\" '$TMP/err'"
run_connrt st browse "$TMP/defs.xml" --connection nope
check "unknown connection: exit 2 listing the connections" \
    bash -c "[ $st -eq 2 ] && grep -q \"no connection 'nope' (connections: kafka, secure)\" '$TMP/err'"

# --- a connection that cannot log in: exit 3, and its password is never printed
run_connrt st browse "$TMP/defs.xml" --connection secure --topic orders
check "cannot log in: exit 3" test "$st" -eq 3
check "cannot log in: says browse failed for the connection" \
    grep -q "connection 'secure': browse failed" "$TMP/err"
check "no secret in any output" bash -c "! grep -q '$CANARY' '$TMP/out' '$TMP/err' '$TMP/all.txt' '$TMP/all.jsonl'"
finish
