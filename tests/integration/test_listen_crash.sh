#!/usr/bin/env bash
# Listen through crashes and outages, 20,000 messages over 4 partitions each:
# a listener SIGKILLed mid-stream and restarted processes every message at
# least once; brokers down for 10 s mid-stream: the listener reconnects,
# retries what failed, and finishes with nothing lost.
. "$(dirname "$0")/lib.sh"
need kcat
"$PYTHON3" -c 'import kafka' 2>/dev/null || skip "python3-kafka not installed"

start_cluster --topic crash:4 --topic crash-out:4 --topic outage:4 --topic outage-out:4
mkdir -p "$TMP/c/deploy"
cat > "$TMP/c/deploy/defs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <operation id="listen-crash" connection="kafka" type="listen">
    <property name="topic">crash</property>
    <property name="consumer_group">g-crash</property>
    <property name="batch_size">100</property>
    <property name="batch_wait_ms">20</property>
  </operation>
  <operation id="listen-outage" connection="kafka" type="listen">
    <property name="topic">outage</property>
    <property name="consumer_group">g-outage</property>
    <property name="batch_size">100</property>
    <property name="batch_wait_ms">20</property>
    <property name="max_concurrent_executions">2</property>
    <property name="retry_backoff_ms">200</property>
  </operation>
  <operation id="send" connection="kafka" type="produce">
    <property name="message_timeout_ms">3000</property>
  </operation>
  <process id="crash">
    <start operation="listen-crash"/>
    <set-properties><property name="connector.kafka.topic" value="crash-out"/></set-properties>
    <connector operation="send"/>
    <output/>
  </process>
  <process id="outage">
    <start operation="listen-outage"/>
    <set-properties><property name="connector.kafka.topic" value="outage-out"/></set-properties>
    <connector operation="send"/>
  </process>
</connrt>
XML

sum_ends() { $KCHECK "$BOOTSTRAP" ends "$1" | jsonl /dev/stdin 'sum(docs[0].values())'; }
has_produced() { [ "$(sum_ends "$1")" -ge "$2" ]; }

# --- SIGKILL mid-stream, then a restart. Each execution relays its batch
# through a produce step; a 20 ms round trip keeps the stream going long
# enough to be killed in the middle of it.
produce_json crash 1 20000
cluster_cmd "rtt all 20"
start_bg killed run --container "$TMP/c" --process crash --output "$TMP/killed.jsonl"
check "crash: the listener is relaying" wait_until 90 has_lines "$TMP/killed.jsonl" 2000
stop_bg killed KILL
killed_lines=$(count_lines "$TMP/killed.jsonl")
check "crash: SIGKILL ended it mid-stream ($killed_lines of 20000 relayed)" \
    test "$killed_lines" -lt 20000
cluster_cmd "rtt all 0"
start_bg restarted run --container "$TMP/c" --process crash --output "$TMP/restarted.jsonl"
check "crash: the restarted listener catches up" wait_until 120 caught_up g-crash crash
stop_bg restarted TERM
check "crash: the restarted listener exits 0 on SIGTERM" test "$restarted_STATUS" -eq 0
check "crash: every one of the 20,000 messages was relayed at least once" \
    test "$(distinct_n crash-out)" = 20000
check "crash: the restart began at the committed offsets, not from the start" \
    test "$(count_lines "$TMP/restarted.jsonl")" -lt 20000
check "crash: the history of both runs is intact (sqlite integrity_check)" \
    test "$(sqlite3 "$TMP/c/data/history.db" 'PRAGMA integrity_check')" = ok

# --- brokers down for 10 s while the listener relays
produce_json outage 1 20000
cluster_cmd "rtt all 10"
start_bg outage run --container "$TMP/c" --process outage
check "outage: the listener is relaying" wait_until 90 has_produced outage-out 3000
cluster_cmd "broker down all"
down_at=$SECONDS
# The fault's length is part of the scenario, not a synchronisation.
sleep 10
cluster_cmd "broker up all"
cluster_cmd "rtt all 0"
check "outage: brokers were down for at least 10 s" test $((SECONDS - down_at)) -ge 10
check "outage: the listener reconnects and catches up" wait_until 180 caught_up g-outage outage
stop_bg outage TERM
check "outage: exits 0 on SIGTERM" test "$outage_STATUS" -eq 0
check "outage: every one of the 20,000 messages was relayed" test "$(distinct_n outage-out)" = 20000
check "outage: executions that failed during the outage were retried" \
    grep -Eq "executions \([1-9][0-9]* failed and retried\)" "$TMP/outage.err"

finish
