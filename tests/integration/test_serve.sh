#!/usr/bin/env bash
# connrt serve CONTAINER_DIR: refuses a broken deploy/ listing every
# problem; serves every listen process with the container's cap on
# concurrent executions; SIGHUP reloads (changed listeners restart,
# unchanged ones keep running, an invalid set is refused and logged);
# SIGTERM drains and exits 0; a drain longer than shutdown.timeout.ms exits 3.
. "$(dirname "$0")/lib.sh"
need kcat
need sqlite3
need curl
"$PYTHON3" -c 'import kafka' 2>/dev/null || skip "python3-kafka not installed"

start_cluster --topic a:4 --topic b:4 --topic b-copy:4 --topic slow:1 --topic sink:1 \
    --topic orders:4 --topic orders-validated:4 --topic orders-rejected:1 --topic orders-dead:1
listeners_xml() { # listeners_xml BATCH_SIZE_OF_A > FILE
    cat <<XML
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">\${env:BOOTSTRAP}</property>
  </connection>
  <operation id="listen-a" connection="kafka" type="listen">
    <property name="topic">a</property>
    <property name="consumer_group">g-a</property>
    <property name="batch_size">$1</property>
    <property name="batch_wait_ms">20</property>
    <property name="max_concurrent_executions">4</property>
  </operation>
  <operation id="listen-b" connection="kafka" type="listen">
    <property name="topic">b</property>
    <property name="consumer_group">g-b</property>
    <property name="batch_size">100</property>
    <property name="batch_wait_ms">20</property>
    <property name="max_concurrent_executions">4</property>
  </operation>
  <operation id="send-copy" connection="kafka" type="produce">
    <property name="topic">b-copy</property>
  </operation>
  <process id="pa"><start operation="listen-a"/><output/></process>
  <process id="pb">
    <start operation="listen-b"/>
    <set-properties><property name="connector.kafka.topic" value="b-copy"/></set-properties>
    <connector operation="send-copy"/>
    <output/>
  </process>
</connrt>
XML
}
distinct_docs() { cat "$@" | jsonl /dev/stdin 'str(len(docs)) + " " + str(len({(d["partition"], d["offset"]) for d in docs}))'; }

# --- a broken deploy/: nothing starts, every problem is listed
mkdir -p "$TMP/broken/deploy"
listeners_xml 100 | sed 's/batch_size">100/batch_sise">100/' > "$TMP/broken/deploy/a.xml"
echo '<connrt xmlns="urn:connrt:definitions:1"><process id="x"><start operation="nope"/></process>' \
    > "$TMP/broken/deploy/b.xml"
run_connrt st serve "$TMP/broken"
check "broken deploy/: serve exits 2" test "$st" -eq 2
check "broken deploy/: the misspelt property is named with file:line" \
    grep -q "a.xml:[0-9]*: operation 'listen-b': unknown property 'batch_sise'" "$TMP/err"
check "broken deploy/: the malformed file is named too" grep -q "b.xml:[0-9]*:" "$TMP/err"
check "broken deploy/: nothing was started" test ! -d "$TMP/broken/data/output"

# --- a deploy/ without listeners has nothing to serve
mkdir -p "$TMP/batch/deploy"
cp "$top_srcdir/samples/quickstart/deploy/orders.xml" "$TMP/batch/deploy/"
sed -i '/<process id="watch-orders">/,/<\/process>/d' "$TMP/batch/deploy/orders.xml"
KAFKA_BOOTSTRAP=$BOOTSTRAP run_connrt st serve "$TMP/batch"
check "no listen process: serve exits 2 saying there is nothing to serve" \
    eval 'test "$st" -eq 2 && grep -q "holds no listen process" "$TMP/err"'

# --- samples/container serves as shipped: orders relayed, a bad one rejected
cp -r "$top_srcdir/samples/container" "$TMP/sample"
sed -i "s/^metrics.port=.*/metrics.port=0/" "$TMP/sample/container.properties"
printf 'k1:{"customer":"c-1","n":1}\nk2:{"n":2}\nk3:{"customer":"c-3","n":3}\n' |
    kcat -P -b "$BOOTSTRAP" -t orders -K:
KAFKA_BOOTSTRAP=$BOOTSTRAP start_bg sample serve "$TMP/sample"
check "samples/container: served" wait_until 60 grep -q "serving 1 listener(s)" "$TMP/sample.err"
relayed_keys() { [ "$($KCHECK "$BOOTSTRAP" read orders-validated | jsonl /dev/stdin 'sorted(d["key"] for d in docs)')" = "['c-1', 'c-3']" ]; }
rejected_orders() { [ "$($KCHECK "$BOOTSTRAP" read orders-rejected | jsonl /dev/stdin '[json.loads(d["value"])["n"] for d in docs]')" = "[2]" ]; }
check "samples/container: the orders with a customer are relayed, keyed by customer" \
    wait_until 60 relayed_keys
check "samples/container: the order without one is rejected, not stuck" wait_until 60 rejected_orders
stop_bg sample TERM
check "samples/container: drains and exits 0" test "$sample_STATUS" -eq 0

# --- two listeners asking for 4 executions each; the container allows 2
mkdir -p "$TMP/c/deploy"
listeners_xml 100 > "$TMP/c/deploy/listeners.xml"
metrics_port=$("$PYTHON3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'execution.max.concurrent=2\nmetrics.port=%s\n' "$metrics_port" > "$TMP/c/container.properties"
produce_json a 1 10000
produce_json b 1 10000
start_bg serve serve "$TMP/c"
check "serve starts both listeners" wait_until 60 grep -q "serving 2 listener(s)" "$TMP/serve.err"
check "both listeners process their 10,000 messages" \
    wait_until 90 eval 'caught_up g-a a && caught_up g-b b'
check "each listener's output is in data/output/PROCESS.jsonl" \
    test "$(distinct_docs "$TMP/c/data/output/pa.jsonl")" = "10000 10000" -a \
         "$(distinct_docs "$TMP/c/data/output/pb.jsonl")" = "10000 10000"

# --- /health and /metrics on 127.0.0.1 (metrics.port)
metrics() { curl -sf "http://127.0.0.1:$metrics_port/metrics"; }
check "/health: 200, serving 2 listeners" \
    test "$(curl -s -w '%{http_code}' "http://127.0.0.1:$metrics_port/health" | tr -d '\n')" = '{"status":"serving","listeners":2}200'
metrics > "$TMP/metrics.txt"
check "/metrics: documents by outcome per process" \
    grep -qx 'connrt_documents_total{process="pa",outcome="success"} 10000' "$TMP/metrics.txt"
check "/metrics: executions by outcome" \
    grep -Eq '^connrt_executions_total\{process="pb",outcome="succeeded"\} [1-9][0-9]*$' "$TMP/metrics.txt"
check "/metrics: consumer lag per partition, 0 once caught up" \
    test "$(grep -c '^connrt_consumer_lag{process="pa",operation="listen-a",topic="a",partition="[0-3]"} 0$' "$TMP/metrics.txt")" = 4
check "/metrics: produce latency of pb's produce step (10,000 delivered)" \
    grep -Eq '^connrt_produce_latency_seconds_count\{process="pb",operation="send-copy"\} 10000$' "$TMP/metrics.txt"
check "/metrics: produce latency sum is a positive number of seconds" \
    grep -Eq '^connrt_produce_latency_seconds_sum\{process="pb",operation="send-copy"\} [0-9.e+-]+$' "$TMP/metrics.txt"
check "the endpoint listens on 127.0.0.1 only (127.0.0.2 is refused)" \
    eval '! curl -s -o /dev/null "http://127.0.0.2:$metrics_port/health"'
check "other paths are 404" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics_port/nope")" = 404

# --- SIGHUP with pa changed: pa drains and restarts, pb keeps running;
# metrics.port changed too: the endpoint moves
listeners_xml 50 > "$TMP/c/deploy/listeners.xml"
old_port=$metrics_port
metrics_port=$("$PYTHON3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s/^metrics.port=.*/metrics.port=$metrics_port/" "$TMP/c/container.properties"
kill -HUP "$serve_PID"
check "reload: one listener unchanged, one restarted" \
    wait_until 60 grep -q "reloaded: 1 listener(s) unchanged, 1 started, 0 failed" "$TMP/serve.err"
check "reload: /health moved to the new metrics.port" \
    test "$(curl -s -w '%{http_code}' "http://127.0.0.1:$metrics_port/health" | tail -c 3)" = 200
check "reload: nothing answers on the old port" \
    eval '! curl -s -o /dev/null "http://127.0.0.1:$old_port/health"'
check "reload: only pa was stopped" \
    test "$(grep -c 'listener pa stopped' "$TMP/serve.err")-$(grep -c 'listener pb stopped' "$TMP/serve.err")" = "1-0"
produce_json a 10001 15000
produce_json b 10001 15000
check "after the reload both listeners take the new messages" \
    wait_until 90 eval 'caught_up g-a a && caught_up g-b b'
check "pa restarted where it had committed: every message once" \
    test "$(distinct_docs "$TMP/c/data/output/pa.jsonl")" = "15000 15000"

# --- SIGHUP with a container property both listeners use: both restart
echo "connector.kafka.max.poll.records=500" >> "$TMP/c/container.properties"
kill -HUP "$serve_PID"
check "reload: a container property change restarts both listeners" \
    wait_until 60 grep -q "reloaded: 0 listener(s) unchanged, 2 started, 0 failed" "$TMP/serve.err"
produce_json a 15001 15500
produce_json b 15001 15500
check "after restarting both, both take new messages" \
    wait_until 90 eval 'caught_up g-a a && caught_up g-b b'

# --- SIGHUP with an invalid set: refused, every problem logged, still serving
echo '<connrt xmlns="urn:connrt:definitions:1"><bogus/></connrt>' > "$TMP/c/deploy/zz-bad.xml"
cp "$TMP/c/container.properties" "$TMP/c/container.properties.good"
echo "log.level=error" >> "$TMP/c/container.properties"
kill -HUP "$serve_PID"
check "invalid reload: refused, naming the file and line" \
    wait_until 60 grep -q "zz-bad.xml:1:" "$TMP/serve.err"
check "invalid reload: the running set is kept" grep -q "reload refused, still running the old set" "$TMP/serve.err"
produce_json b 15501 16000
check "invalid reload: listeners still process new messages" wait_until 60 caught_up g-b b
rm "$TMP/c/deploy/zz-bad.xml"
mv "$TMP/c/container.properties.good" "$TMP/c/container.properties"
revoked_before=$(grep -c '"revoked\|revoked [0-9]' "$TMP/c/logs/connrt.jsonl" || true)

# --- SIGTERM drains: exit 0, everything committed, the cap held
stop_bg serve TERM
check "SIGTERM: serve exits 0" test "$serve_STATUS" -eq 0
check "the refused reload left the logging as it was: the drain's info lines reach logs/connrt.jsonl" \
    test "$(grep -c '"revoked\|revoked [0-9]' "$TMP/c/logs/connrt.jsonl")" -gt "$revoked_before"
check "SIGTERM: both listeners stopped with their counts (pb also at the reload that restarted both)" \
    eval 'grep -q "listener pa stopped" "$TMP/serve.err" && test "$(grep -c "listener pb stopped" "$TMP/serve.err")" -eq 2'
check "SIGTERM: everything processed is committed" eval 'caught_up g-a a && caught_up g-b b'
check "the container's cap held: at most 2 executions at once, both listeners together" \
    grep -q "at most 2 executions ran at once" "$TMP/serve.err"
check "every execution is in the container's history" \
    test "$(sqlite3 "$TMP/c/data/history.db" "SELECT COUNT(*) FROM executions WHERE status='running'")" = 0

# --- a drain that cannot finish within shutdown.timeout.ms exits 3
mkdir -p "$TMP/hung/deploy"
cat > "$TMP/hung/deploy/relay.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <operation id="listen-slow" connection="kafka" type="listen">
    <property name="topic">slow</property>
    <property name="consumer_group">g-slow</property>
  </operation>
  <operation id="send" connection="kafka" type="produce">
    <property name="topic">sink</property>
    <property name="message_timeout_ms">60000</property>
  </operation>
  <process id="relay">
    <start operation="listen-slow"/>
    <set-properties><property name="connector.kafka.topic" value="sink"/></set-properties>
    <connector operation="send"/>
  </process>
</connrt>
XML
echo "shutdown.timeout.ms=1000" > "$TMP/hung/container.properties"
produce_json slow 1 5
# Every produce request now fails with a retriable error: the relay's
# produce step keeps retrying, and its execution runs for a minute.
cluster_cmd "error Produce 1000 NOT_ENOUGH_REPLICAS"
start_bg hung serve "$TMP/hung"
running_execution() {
    [ "$(sqlite3 "$TMP/hung/data/history.db" "SELECT COUNT(*) FROM executions WHERE status='running'" 2>/dev/null)" = 1 ]
}
check "hung: an execution is running" wait_until 60 running_execution
stop_started=$SECONDS
stop_bg hung TERM
check "hung: serve exits 3 when the drain outlasts shutdown.timeout.ms" test "$hung_STATUS" -eq 3
check "hung: it says so" grep -q "a drain did not finish within shutdown.timeout.ms=1000 ms" "$TMP/hung.err"
check "hung: it did not wait for the execution's minute" test $((SECONDS - stop_started)) -lt 30
check "hung: nothing was committed for the unfinished batch" \
    test "$($KCHECK "$BOOTSTRAP" committed g-slow slow)" = '{"0": null}'

finish
