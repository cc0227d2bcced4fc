#!/usr/bin/env bash
# Listen when executions fail: a process whose first attempts fail (the
# broker rejects its produce requests) still processes every message, with
# offsets committed only after success; a poison message blocks its
# partition, uncommitted, while there is no dead-letter topic; with
# max_retries=3 and a dead-letter topic it lands there with its key, value
# and headers plus where it came from, and the rest flows on.
. "$(dirname "$0")/lib.sh"
need kcat
"$PYTHON3" -c 'import kafka' 2>/dev/null || skip "python3-kafka not installed"

start_cluster --topic in:4 --topic out:4 --topic poison:4 --topic dead:1 --topic stuck:1 \
    --topic handled:1
mkdir -p "$TMP/c/deploy"
cat > "$TMP/c/deploy/defs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <operation id="listen-in" connection="kafka" type="listen">
    <property name="topic">in</property>
    <property name="consumer_group">g-in</property>
    <property name="batch_size">500</property>
    <property name="batch_wait_ms">50</property>
    <property name="max_concurrent_executions">2</property>
    <property name="retry_backoff_ms">100</property>
  </operation>
  <operation id="send-out" connection="kafka" type="produce">
    <property name="topic">out</property>
    <property name="message_timeout_ms">5000</property>
  </operation>
  <operation id="listen-poison" connection="kafka" type="listen">
    <property name="topic">poison</property>
    <property name="consumer_group">g-poison</property>
    <property name="batch_size">100</property>
    <property name="batch_wait_ms">50</property>
    <property name="max_retries">3</property>
    <property name="retry_backoff_ms">20</property>
    <property name="dead_letter_topic">dead</property>
  </operation>
  <operation id="listen-stuck" connection="kafka" type="listen">
    <property name="topic">stuck</property>
    <property name="consumer_group">g-stuck</property>
    <property name="batch_size">1</property>
    <property name="batch_wait_ms">50</property>
    <property name="retry_backoff_ms">50</property>
  </operation>
  <operation id="listen-handled" connection="kafka" type="listen">
    <property name="topic">handled</property>
    <property name="consumer_group">g-handled</property>
    <property name="batch_size">10</property>
    <property name="batch_wait_ms">50</property>
  </operation>
  <process id="parse-handled">
    <start operation="listen-handled"/>
    <set-properties><property name="customer" json-pointer="/n"/></set-properties>
    <output/>
    <on-error><output/></on-error>
  </process>
  <process id="relay">
    <start operation="listen-in"/>
    <!-- Listen stamps connector.kafka.topic=in, which would override send-out's topic -->
    <set-properties><property name="connector.kafka.topic" value="out"/></set-properties>
    <connector operation="send-out"/>
  </process>
  <process id="parse">
    <start operation="listen-poison"/>
    <set-properties><property name="customer" json-pointer="/n"/></set-properties>
    <output/>
  </process>
  <process id="parse-stuck">
    <start operation="listen-stuck"/>
    <set-properties><property name="customer" json-pointer="/n"/></set-properties>
    <output/>
  </process>
</connrt>
XML


# --- the broker rejects the relay's first produce requests: those
# executions fail, are retried from their first offset, and succeed
produce_json in 1 20000
cluster_cmd "error Produce 4 MSG_SIZE_TOO_LARGE"
start_bg relay run --container "$TMP/c" --process relay
check "relay: the listener catches up with 'in' despite failing executions" \
    wait_until 120 caught_up g-in in
stop_bg relay TERM
check "relay: exits 0 on SIGTERM" test "$relay_STATUS" -eq 0
check "relay: the failed executions were retried from their first offset" \
    grep -q "failed (attempt 1); retrying from its first offset" "$TMP/relay.err"
check "relay: the summary counts failed and retried executions" \
    grep -Eq "executions \([1-9][0-9]* failed and retried\)" "$TMP/relay.err"
check "relay: every one of the 20,000 messages reached 'out'" test "$(distinct_n out)" = 20000

# --- a poison message without a dead-letter topic: its partition stops at
# it, nothing past it is committed, and the retries go on until SIGTERM
produce_json stuck 1 30
echo 'kp:not json' | kcat -P -b "$BOOTSTRAP" -t stuck -K:
produce_json stuck 31 60
start_bg stuck run --container "$TMP/c" --process parse-stuck --output "$TMP/stuck.jsonl"
check "stuck: the batch holding the poison message is retried again and again" \
    wait_until 60 grep -q "offsets 30-30 failed (attempt 4)" "$TMP/stuck.err"
check "stuck: the committed offset stops at the poison message (30)" \
    test "$($KCHECK "$BOOTSTRAP" committed g-stuck stuck)" = '{"0": 30}'
stop_bg stuck TERM
check "stuck: exits 0 on SIGTERM" test "$stuck_STATUS" -eq 0
check "stuck: still committed at 30 after the drain" \
    test "$($KCHECK "$BOOTSTRAP" committed g-stuck stuck)" = '{"0": 30}'
check "stuck: nothing past the poison message was processed (order holds in the partition)" \
    test "$(jsonl "$TMP/stuck.jsonl" 'max(d["offset"] for d in docs)')" = 30
check "stuck: the poison message is reported as an application error each attempt" \
    test "$(jsonl "$TMP/stuck.jsonl" 'all("is not JSON" in d["error"] for d in docs if d["offset"]==30) and sum(d["offset"]==30 for d in docs) >= 4')" = True

# --- the same poison where the process has <on-error>: the error is
# handled, so the batch succeeds and is committed, with no retry
produce_json handled 1 30
echo 'kp:not json' | kcat -P -b "$BOOTSTRAP" -t handled -K:
produce_json handled 31 60
start_bg handled run --container "$TMP/c" --process parse-handled --output "$TMP/handled.jsonl"
check "on-error: the listener commits past the poison message" \
    wait_until 60 caught_up g-handled handled
stop_bg handled TERM
check "on-error: exits 0, no execution failed" \
    eval 'test "$handled_STATUS" -eq 0 && grep -q "(0 failed and retried)" "$TMP/handled.err"'
check "on-error: the poison message went through <on-error> once, the 60 others succeeded" \
    test "$(jsonl "$TMP/handled.jsonl" 'str(sum(d["outcome"]=="application_error" for d in docs)) + " " + str(sum(d["outcome"]=="success" for d in docs))')" = "1 60"

# --- the same poison with max_retries=3 and a dead-letter topic
produce_json poison 1 10000
echo 'k7:not json' | kcat -P -b "$BOOTSTRAP" -t poison -K: -H origin=test -H trace=t-poison
produce_json poison 10001 19999
start_bg parse run --container "$TMP/c" --process parse --output "$TMP/parse.jsonl"
check "poison: the listener catches up" wait_until 120 caught_up g-poison poison
stop_bg parse TERM
check "poison: exits 0 on SIGTERM" test "$parse_STATUS" -eq 0
$KCHECK "$BOOTSTRAP" read poison | jsonl /dev/stdin \
    'json.dumps([d for d in docs if d["value"]=="not json"][0])' > "$TMP/poison.json"
$KCHECK "$BOOTSTRAP" read dead > "$TMP/dead.jsonl"
check "poison: exactly one message is on the dead-letter topic" \
    test "$(count_lines "$TMP/dead.jsonl")" -eq 1
check "poison: it has the original key, value and headers, and says why and from where" \
    "$PYTHON3" - "$TMP/poison.json" "$TMP/dead.jsonl" <<'PY'
import json, sys
src = json.load(open(sys.argv[1]))
dead = json.loads(open(sys.argv[2]).readline())
h = dead["headers"]
assert dead["key"] == "k7" and dead["value"] == "not json", dead
assert h["origin"] == "test" and h["trace"] == "t-poison", h
assert h["connrt.dlt.topic"] == "poison", h
assert h["connrt.dlt.partition"] == str(src["partition"]), (h, src)
assert h["connrt.dlt.offset"] == str(src["offset"]), (h, src)
assert h["connrt.dlt.group"] == "g-poison" and h["connrt.dlt.attempts"] == "4", h
assert "failed on this message 4 times" in h["connrt.dlt.reason"], h
PY
check "poison: all 19,999 other messages were processed successfully" \
    test "$(jsonl "$TMP/parse.jsonl" 'len({json.loads(d["value"])["n"] for d in docs if d["outcome"]=="success"})')" = 19999
check "poison: the log says it went to the dead-letter topic" \
    grep -q "sent to dead-letter topic 'dead' after 4 failed attempts" "$TMP/parse.err"

finish
