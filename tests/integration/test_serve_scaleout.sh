#!/usr/bin/env bash
# Scale-out: two containers serve the same deploy/ (each its own data/)
# against one cluster. Kafka's consumer group spreads the partitions: each
# message is processed once while nothing fails; SIGKILL one container and
# the other takes its partitions over with nothing lost.
. "$(dirname "$0")/lib.sh"
need kcat
"$PYTHON3" -c 'import kafka' 2>/dev/null || skip "python3-kafka not installed"

start_cluster --topic orders:4
for c in one two; do
    mkdir -p "$TMP/$c/deploy"
    cat > "$TMP/$c/deploy/orders.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <operation id="listen-orders" connection="kafka" type="listen">
    <property name="topic">orders</property>
    <property name="consumer_group">g-orders</property>
    <property name="batch_size">100</property>
    <property name="batch_wait_ms">20</property>
  </operation>
  <process id="orders"><start operation="listen-orders"/><output/></process>
</connrt>
XML
done
out() { echo "$TMP/$1/data/output/orders.jsonl"; }
# complete NAME: NAME's output lines that were written whole. A SIGKILL
# between two writes of stdio's buffer leaves the last line cut short; its
# message was not committed, so the other container processes it again.
complete() { head -n "$(count_lines "$(out "$1")")" "$(out "$1")"; }
partitions_of() { jsonl "$1" 'sorted({d["partition"] for d in docs})'; }

start_bg one serve "$TMP/one"
check "container one serves all 4 partitions" wait_until 60 assigned one 4
start_bg two serve "$TMP/two"
check "container two joins: 2 partitions each" \
    wait_until 60 eval 'assigned two 2 && assigned one 2'
produce_json orders 1 20000
check "together they process all 20,000 orders" wait_until 90 caught_up g-orders orders
check "the containers processed disjoint partitions, 2 each" "$PYTHON3" -c \
    "a, b = $(partitions_of "$(out one)"), $(partitions_of "$(out two)"); assert len(a) == 2 and len(b) == 2 and not set(a) & set(b)"
check "each order processed exactly once" \
    test "$(cat "$(out one)" "$(out two)" | jsonl /dev/stdin 'str(len(docs)) + " " + str(len({json.loads(d["value"])["n"] for d in docs}))')" = "20000 20000"

# SIGKILL one while it is working on the next 20,000.
one_before=$(count_lines "$(out one)")
grows() { [ "$(count_lines "$(out one)")" -gt "$one_before" ]; }
produce_json orders 20001 40000
check "one is processing the next messages" wait_until 60 grows
stop_bg one KILL
check "after SIGKILL of one, two takes all 4 partitions" wait_until 60 assigned two 4
check "two processes the rest" wait_until 90 caught_up g-orders orders
stop_bg two TERM
check "two exits 0 on SIGTERM" test "$two_STATUS" -eq 0
check "all 40,000 orders processed at least once" \
    test "$({ complete one; complete two; } | jsonl /dev/stdin 'len({json.loads(d["value"])["n"] for d in docs})')" = 40000
check "each container kept its own history" \
    test -s "$TMP/one/data/history.db" -a -s "$TMP/two/data/history.db"

finish
