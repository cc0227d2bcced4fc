#!/usr/bin/env bash
# Produce under broker faults injected through `connrt embedded-cluster`'s
# stdin: retriable errors are retried without duplicates, a broker-side
# size rejection fails only its document, and an outage longer than
# message_timeout_ms turns every undelivered document into an application
# error (nothing dropped), after which the next run succeeds; a fatal error
# of the idempotent producer fails the documents in flight and a new
# producer sends the rest.
. "$(dirname "$0")/lib.sh"
need kcat

start_cluster --topic retry:1 --topic sized:1 --topic outage:2 --topic fatal:1
cat > "$TMP/defs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <!-- One message per Produce request, so that an injected error hits
       exactly one document. -->
  <connection id="kafka-single" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
    <property name="librdkafka.batch.num.messages">1</property>
  </connection>
  <operation id="send-retry" connection="kafka" type="produce">
    <property name="topic">retry</property>
    <property name="message_timeout_ms">20000</property>
  </operation>
  <operation id="send-sized" connection="kafka-single" type="produce">
    <property name="topic">sized</property>
    <property name="message_timeout_ms">20000</property>
  </operation>
  <operation id="send-outage" connection="kafka" type="produce">
    <property name="topic">outage</property>
    <property name="message_timeout_ms">3000</property>
  </operation>
  <process id="retry"><start/><connector operation="send-retry"/><output/></process>
  <process id="sized"><start/><connector operation="send-sized"/><output/></process>
  <process id="outage"><start/><connector operation="send-outage"/><output/></process>
</connrt>
XML
# topic_values TOPIC: every value stored in TOPIC, one per line.
topic_values() { kcat -C -b "$BOOTSTRAP" -t "$1" -e -q -f '%s\n'; }

# --- 3 x NOT_ENOUGH_REPLICAS: retried by the idempotent producer, each
# document stored exactly once.
seq 1 50 | sed 's/^/retry-/' > "$TMP/retry.txt"
cluster_cmd "error Produce 3 NOT_ENOUGH_REPLICAS"
run_connrt st run "$TMP/defs.xml" --process retry --input "$TMP/retry.txt" --output "$TMP/retry.jsonl"
check "NOT_ENOUGH_REPLICAS x3: exit 0" test "$st" -eq 0
check "NOT_ENOUGH_REPLICAS x3: 50 successes" \
    test "$(jsonl "$TMP/retry.jsonl" 'sum(d["outcome"]=="success" for d in docs)')" = 50
topic_values retry > "$TMP/retry-stored.txt"
check "NOT_ENOUGH_REPLICAS x3: topic holds 50 messages, 50 distinct, exactly the input" \
    test "$(wc -l < "$TMP/retry-stored.txt") $(sort -u "$TMP/retry-stored.txt" | wc -l) $(sort "$TMP/retry-stored.txt" | cmp - <(sort "$TMP/retry.txt") && echo same)" = "50 50 same"
check "NOT_ENOUGH_REPLICAS x3: offsets 0..49 each used once" \
    test "$(jsonl "$TMP/retry.jsonl" 'sorted(d["offset"] for d in docs)==list(range(50))')" = True

# --- MSG_SIZE_TOO_LARGE from the broker: that document only.
seq 1 5 | sed 's/^/sized-/' > "$TMP/sized.txt"
cluster_cmd "error Produce 1 MSG_SIZE_TOO_LARGE"
run_connrt st run "$TMP/defs.xml" --process sized --input "$TMP/sized.txt" --output "$TMP/sized.jsonl"
check "MSG_SIZE_TOO_LARGE: exit 1" test "$st" -eq 1
check "MSG_SIZE_TOO_LARGE: one application error saying too large, 4 successes" \
    test "$(jsonl "$TMP/sized.jsonl" '(sum(d["outcome"]=="success" for d in docs), [d["error"] for d in docs if d["outcome"]!="success"])')" = "(4, [\"too large for topic 'sized': Broker: Message size too large\"])"
check "MSG_SIZE_TOO_LARGE: the rejected document is not in the topic, the others are" \
    test "$(topic_values sized | tr '\n' ' ')" = "sized-2 sized-3 sized-4 sized-5 "

# --- every broker down for longer than message_timeout_ms (3000): the run
# itself is the wait; each document ends as an application error saying why.
seq 1 20 | sed 's/^/outage-/' > "$TMP/outage.txt"
cluster_cmd "broker down all"
start=$(date +%s%N)
run_connrt st run "$TMP/defs.xml" --process outage --input "$TMP/outage.txt" --output "$TMP/outage.jsonl"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "outage: exit 1 (application errors)" test "$st" -eq 1
check "outage: 20 results, every one an application error saying it timed out after 3000 ms" \
    test "$(jsonl "$TMP/outage.jsonl" 'len(docs)==20 and all(d["outcome"]=="application_error" and "timed out" in d["error"] and "3000 ms" in d["error"] for d in docs)')" = True
check "outage: the results are the 20 input documents, none lost" \
    test "$(jsonl "$TMP/outage.jsonl" 'sorted(d["value"] for d in docs)==sorted(l.strip() for l in open("'"$TMP/outage.txt"'"))')" = True
check "outage: the summary adds up (0 success + 20 application errors)" \
    grep -q "20 documents: 0 success, 20 application errors, 0 failures" "$TMP/err"
# Bound: 3000 ms timeout + one 3 s "is it the mock?" question to the
# unreachable cluster + librdkafka's 1 s timeout scan + start-up.
check "outage: the run lasted message_timeout_ms, not forever (${elapsed_ms} ms, 3000..12000)" \
    test "$elapsed_ms" -ge 3000 -a "$elapsed_ms" -lt 12000

# --- brokers back: the same documents now go through.
cluster_cmd "broker up all"
run_connrt st run "$TMP/defs.xml" --process outage --input "$TMP/outage.txt" --output "$TMP/back.jsonl"
check "brokers back: exit 0" test "$st" -eq 0
check "brokers back: 20 successes" \
    test "$(jsonl "$TMP/back.jsonl" 'sum(d["outcome"]=="success" for d in docs)')" = 20
check "brokers back: the topic holds each document once" \
    test "$(topic_values outage | sort | tr '\n' ' ')" = "$(sort "$TMP/outage.txt" | tr '\n' ' ')"
# --- a fatal error (the broker says the idempotent producer's sequence is
# out of order) while two chunks are in flight: their documents fail with
# the reason, a new producer sends the rest, nothing is lost or doubled
mkdir -p "$TMP/fc/deploy"
printf '%s\n' 'execution.max.documents.in.flight = 4' 'history.documents = errors' \
    > "$TMP/fc/container.properties"
cat > "$TMP/fc/deploy/fatal.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <operation id="send-fatal" connection="kafka" type="produce">
    <property name="topic">fatal</property>
    <property name="message_timeout_ms">5000</property>
  </operation>
  <process id="fatal"><start/><connector operation="send-fatal"/></process>
</connrt>
XML
seq 1 20 | sed 's/.*/fatal-&/' > "$TMP/fatal.txt"
cluster_cmd "error Produce 1 OUT_OF_ORDER_SEQUENCE_NUMBER"
run_connrt st run --container "$TMP/fc" --input "$TMP/fatal.txt"
check "fatal error: exit 1 (application errors only)" test "$st" -eq 1
check "fatal error: a new producer was started, saying why" \
    grep -q "producer had a fatal error (.*sequence desynchronization.*); starting a new one" "$TMP/err"
check "fatal error: every document has an outcome, none a failure, the later ones sent" \
    grep -Eq "20 documents: (1[0-9]|20) success, [0-9]+ application errors, 0 failures" "$TMP/err"
failed_docs() { sed -n 's/^connrt: document [0-9]* (.*fatal.txt:\([0-9]*\)): application error.*/fatal-\1/p' "$TMP/err" | sort; }
check "fatal error: the topic holds exactly the documents that succeeded, each once" \
    test "$( (topic_values fatal; failed_docs) | sort | tr '\n' ' ')" = "$(sort "$TMP/fatal.txt" | tr '\n' ' ')"
finish
