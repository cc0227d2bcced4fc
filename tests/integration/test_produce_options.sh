#!/usr/bin/env bash
# Produce operation properties seen from outside: each compression codec
# round-trips and is the codec of the stored batches (read by python3-kafka
# from the batch headers), linger_ms holds a batch back, acks 0/1/all all
# deliver (acks other than all without idempotence=false is refused, naming
# both), and static header.NAME with per-document overrides.
. "$(dirname "$0")/lib.sh"
need kcat
"$PYTHON3" -c 'import kafka' 2>/dev/null || skip "python3-kafka not installed"
batches() { "$PYTHON3" "$top_srcdir/tests/integration/record_batches.py" "$BOOTSTRAP" "$1"; }

codecs="none gzip snappy lz4 zstd"
topics=()
for z in $codecs; do topics+=(--topic "c-$z:1"); done
start_cluster "${topics[@]}" --topic linger:1 --topic acks:1 --topic hdr:1
# linger_ms of produce-linger: longer than a whole run takes, even under valgrind.
export LINGER_MS=$((1500 * TIMEOUT_SCALE))

{
    echo '<connrt xmlns="urn:connrt:definitions:1">'
    echo '  <connection id="kafka" connector="kafka">'
    echo '    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>'
    echo '  </connection>'
    for z in $codecs; do
        cat <<XML
  <operation id="send-$z" connection="kafka" type="produce">
    <property name="topic">c-$z</property>
    <property name="compression">$z</property>
    <property name="linger_ms">100</property>
  </operation>
  <process id="produce-$z"><start/><connector operation="send-$z"/><output/></process>
XML
    done
    cat <<'XML'
  <operation id="read-codecs" connection="kafka" type="consume">
    <property name="topic">c-none, c-gzip, c-snappy, c-lz4, c-zstd</property>
    <property name="consumer_group">g-codecs</property>
    <property name="min_messages">100</property>
    <property name="max_wait_ms">15000</property>
  </operation>
  <process id="consume-codecs"><start operation="read-codecs"/><output/></process>
  <operation id="send-linger" connection="kafka" type="produce">
    <property name="topic">linger</property>
    <property name="linger_ms">${env:LINGER_MS}</property>
  </operation>
  <process id="produce-linger"><start/><connector operation="send-linger"/><output/></process>
  <operation id="send-acks-all" connection="kafka" type="produce">
    <property name="topic">acks</property>
    <property name="acks">all</property>
  </operation>
  <operation id="send-acks-1" connection="kafka" type="produce">
    <property name="topic">acks</property>
    <property name="acks">1</property>
    <property name="idempotence">false</property>
  </operation>
  <operation id="send-acks-0" connection="kafka" type="produce">
    <property name="topic">acks</property>
    <property name="acks">0</property>
    <property name="idempotence">false</property>
  </operation>
  <operation id="send-acks-0-idempotent" connection="kafka" type="produce">
    <property name="topic">acks</property>
    <property name="acks">0</property>
  </operation>
  <process id="produce-acks-all"><start/><connector operation="send-acks-all"/><output/></process>
  <process id="produce-acks-1"><start/><connector operation="send-acks-1"/><output/></process>
  <process id="produce-acks-0"><start/><connector operation="send-acks-0"/><output/></process>
  <process id="produce-acks-0-idempotent"><start/><connector operation="send-acks-0-idempotent"/><output/></process>
  <operation id="send-hdr" connection="kafka" type="produce">
    <property name="topic">hdr</property>
    <property name="header.origin">static</property>
    <property name="header.team">core</property>
  </operation>
  <process id="produce-hdr"><start/><connector operation="send-hdr"/><output/></process>
</connrt>
XML
} > "$TMP/defs.xml"

# --- compression: every codec round-trips and is the stored batches' codec.
# Values repeat so that compressing pays: librdkafka sends a batch
# uncompressed when compression would not make it smaller.
for z in $codecs; do
    for i in $(seq 1 20); do printf 'codec-%s-%02d-%0300d\n' "$z" "$i" 0; done > "$TMP/in-$z.txt"
    run_connrt st run "$TMP/defs.xml" --process "produce-$z" --input "$TMP/in-$z.txt" \
        --output "$TMP/out-$z.jsonl"
    check "compression=$z: 20 documents produced (exit 0)" \
        test "$st-$(jsonl "$TMP/out-$z.jsonl" 'sum(d["outcome"]=="success" for d in docs)')" = 0-20
    batches "c-$z" > "$TMP/batches-$z.txt"
    check "compression=$z: the stored record batches say $z and hold the 20 messages" \
        test "$(awk -v z="$z" '$1!=z{bad=1} {n+=$2} END{print bad?"bad":n}' "$TMP/batches-$z.txt")" = 20
done
run_connrt st run "$TMP/defs.xml" --process consume-codecs --output "$TMP/codecs.jsonl"
check "compression: consume of the 5 topics exits 0" test "$st" -eq 0
for z in $codecs; do
    check "compression=$z: Consume gives back the 20 values intact" \
        test "$(jsonl "$TMP/codecs.jsonl" 'sorted(d["value"] for d in docs if d["topic"]=="c-'"$z"'")==[l.strip() for l in open("'"$TMP/in-$z.txt"'")]')" = True
done

# --- linger_ms: it groups the documents of an execution into record
# batches while they are queued, and never delays the end of an execution
# (execute flushes once every document is queued; see docs/decisions.md).
echo lone > "$TMP/lone.txt"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(ms)
run_connrt st run "$TMP/defs.xml" --process produce-linger --input "$TMP/lone.txt" --output /dev/null
t1=$(ms)
check "linger_ms=$LINGER_MS: a lone document is delivered (exit 0) without idling $LINGER_MS ms ($((t1 - t0)) ms)" \
    test "$st" -eq 0 -a $((t1 - t0)) -lt "$LINGER_MS"
for i in $(seq 1 30); do echo "batched-$i"; done > "$TMP/thirty.txt"
run_connrt st run "$TMP/defs.xml" --process produce-linger --input "$TMP/thirty.txt" --output /dev/null
check "linger_ms=$LINGER_MS: 30 documents go as one record batch" \
    test "$(batches linger | tail -n 1)" = "none 30"

# --- acks: all, 1 and 0 deliver every document; with acks=0 the broker
# answers nothing, so the offset is unknown.
for a in all 1 0; do
    for i in $(seq 1 10); do echo "acks-$a-$i"; done > "$TMP/acks-$a.txt"
    run_connrt st run "$TMP/defs.xml" --process "produce-acks-$a" --input "$TMP/acks-$a.txt" \
        --output "$TMP/acks-$a.jsonl"
    check "acks=$a: 10 successes (exit 0)" \
        test "$st-$(jsonl "$TMP/acks-$a.jsonl" 'sum(d["outcome"]=="success" for d in docs)')" = 0-10
done
check "acks=all and acks=1: each result has its offset" \
    test "$(jsonl "$TMP/acks-all.jsonl" 'all(d["offset"]>=0 for d in docs)')-$(jsonl "$TMP/acks-1.jsonl" 'all(d["offset"]>=0 for d in docs)')" = True-True
check "acks=0: the results have no offset (the broker does not answer)" \
    test "$(jsonl "$TMP/acks-0.jsonl" 'all(d["offset"] is None and d["partition"]==0 for d in docs)')" = True
kcat -C -b "$BOOTSTRAP" -t acks -e -q -f '%s\n' | sort > "$TMP/acks-stored.txt"
check "acks: the topic holds the 30 documents once each" \
    test "$(sort "$TMP"/acks-{all,1,0}.txt | cmp - "$TMP/acks-stored.txt" && echo same)" = same
run_connrt st run "$TMP/defs.xml" --process produce-acks-0-idempotent --input "$TMP/acks-0.txt" \
    --output "$TMP/acks-0-idem.jsonl"
check "acks=0 with idempotence (default true): refused at open, the operation cannot run (exit 3)" \
    test "$st" -eq 3
check "acks=0 with idempotence: the message names both properties and the operation" \
    grep -q "operation 'send-acks-0-idempotent': acks=0 needs idempotence=false" "$TMP/err"
check "acks=0 with idempotence: nothing was sent" \
    test "$(kcat -C -b "$BOOTSTRAP" -t acks -e -q | wc -l)" -eq 30

# --- headers: static header.NAME on every message; a document's
# connector.kafka.header.NAME replaces the static one of that name or adds one.
printf '%s\n' '{"value":"plain"}' \
    '{"value":"override","properties":{"connector.kafka.header.origin":"doc"}}' \
    '{"value":"extra","properties":{"connector.kafka.header.trace":"t-3"}}' > "$TMP/hdr.jsonl"
run_connrt st run "$TMP/defs.xml" --process produce-hdr --input "$TMP/hdr.jsonl" \
    --input-format jsonl --output /dev/null
check "headers: 3 documents produced (exit 0)" test "$st" -eq 0
kcat -C -b "$BOOTSTRAP" -t hdr -e -q -J > "$TMP/hdr-stored.jsonl"
check "headers: static on every message, replaced (not doubled) by the document's, extra added" \
    test "$(jsonl "$TMP/hdr-stored.jsonl" '{d["payload"]: sorted(zip(d["headers"][0::2], d["headers"][1::2])) for d in docs}=={"plain":[("origin","static"),("team","core")],"override":[("origin","doc"),("team","core")],"extra":[("origin","static"),("team","core"),("trace","t-3")]}')" = True
finish
