#!/usr/bin/env bash
# Consume operation properties seen from outside: several topics, offsets
# with and without autocommit, auto_offset_reset earliest and latest, and
# min_messages larger than what exists. Messages are written with kcat so
# that only Consume is under test.
. "$(dirname "$0")/lib.sh"
need kcat

start_cluster --topic m1:2 --topic m2:2 --topic seq:1 --topic late:1 --topic few:1
# consume_op ID TOPIC GROUP MIN WAIT [NAME VALUE]...: an operation and a
# process ID reading with it (operation read-ID).
consume_op() {
    local id=$1 topic=$2 group=$3 min=$4 wait=$5; shift 5
    echo "  <operation id=\"read-$id\" connection=\"kafka\" type=\"consume\">"
    echo "    <property name=\"topic\">$topic</property>"
    echo "    <property name=\"consumer_group\">$group</property>"
    echo "    <property name=\"min_messages\">$min</property>"
    echo "    <property name=\"max_wait_ms\">$wait</property>"
    while [ $# -gt 0 ]; do echo "    <property name=\"$1\">$2</property>"; shift 2; done
    echo "  </operation>"
    echo "  <process id=\"$id\"><start operation=\"read-$id\"/><output/></process>"
}
{
    echo '<connrt xmlns="urn:connrt:definitions:1">'
    echo '  <connection id="kafka" connector="kafka">'
    echo '    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>'
    echo '  </connection>'
    consume_op multi "m1, m2" g-multi 10 15000
    consume_op seq seq g-seq 3 15000 autocommit true
    consume_op latest late g-latest 1 30000 auto_offset_reset latest
    consume_op earliest late g-earliest 3 15000 auto_offset_reset earliest
    consume_op few few g-few 50 2500
    echo '</connrt>'
} > "$TMP/defs.xml"
produce() { # produce TOPIC VALUE...: one message per value, keyed by the value
    local topic=$1; shift
    printf '%s\n' "$@" | sed 's/.*/&:&/' | kcat -P -b "$BOOTSTRAP" -t "$topic" -K:
}
# positions FILE: "topic/partition/offset" of each document, sorted.
positions() { jsonl "$1" 'sorted("%s/%s/%s" % (d["topic"], d["partition"], d["offset"]) for d in docs)'; }

# --- several topics; without autocommit nothing is committed, so a second
# run of the group gets the same messages again.
produce m1 a1 a2 a3 a4 a5 a6
produce m2 b1 b2 b3 b4
run_connrt st run "$TMP/defs.xml" --process multi --output "$TMP/multi.jsonl"
check "topic 'm1, m2': exit 0" test "$st" -eq 0
check "topic 'm1, m2': the 10 messages of both topics, each with its topic and key" \
    test "$(jsonl "$TMP/multi.jsonl" 'sorted((d["topic"], d["value"], d["key"]) for d in docs)==sorted([("m1","a%d"%i,"a%d"%i) for i in range(1,7)]+[("m2","b%d"%i,"b%d"%i) for i in range(1,5)])')" = True
run_connrt st run "$TMP/defs.xml" --process multi --output "$TMP/multi-again.jsonl"
check "without autocommit: the second run gets the same 10 messages (same topic/partition/offset)" \
    test "$st $(positions "$TMP/multi-again.jsonl")" = "0 $(positions "$TMP/multi.jsonl")"

# --- autocommit commits exactly the emitted documents: min_messages=3 with
# max.poll.records=1 takes 3 of 6, and the next run starts after them.
produce seq s0 s1 s2 s3 s4 s5
run_connrt st run "$TMP/defs.xml" --process seq --output "$TMP/seq1.jsonl"
run_connrt st2 run "$TMP/defs.xml" --process seq --output "$TMP/seq2.jsonl"
check "autocommit: first run gets offsets 0-2" \
    test "$st $(jsonl "$TMP/seq1.jsonl" '[(d["offset"], d["value"]) for d in docs]')" = "0 [(0, 's0'), (1, 's1'), (2, 's2')]"
check "autocommit: second run starts after the committed offsets: 3-5" \
    test "$st2 $(jsonl "$TMP/seq2.jsonl" '[(d["offset"], d["value"]) for d in docs]')" = "0 [(3, 's3'), (4, 's4'), (5, 's5')]"

# --- min_messages (50) larger than what exists (3): what exists comes back
# once max_wait_ms (2500) has passed.
produce few f1 f2 f3
t0=$(date +%s%N)
run_connrt st run "$TMP/defs.xml" --process few --output "$TMP/few.jsonl"
elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "min_messages=50 with 3 messages: exit 0 with the 3" \
    test "$st $(jsonl "$TMP/few.jsonl" 'sorted(d["value"] for d in docs)')" = "0 ['f1', 'f2', 'f3']"
check "min_messages=50 with 3 messages: returned after max_wait_ms=2500 (${elapsed_ms} ms)" \
    test "$elapsed_ms" -ge 2500 -a "$elapsed_ms" -lt 20000

# --- auto_offset_reset: a new group with latest sees only what is produced
# after it joined; with earliest it starts at the first message.
produce late old-1 old-2 old-3
"$CONNRT" run "$TMP/defs.xml" --process latest --output "$TMP/latest.jsonl" 2>"$TMP/latest.err" &
latest_pid=$!
# Until the consumer (which returns on its first message) is done, write one
# new message at a time: whatever it sees must be new, never old-*.
n=0
deadline=$((SECONDS + 40))
while kill -0 "$latest_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
    n=$((n + 1))
    produce late "new-$n"
    read -r -t 0.5 <> <(:) || true # pace the writer; the loop ends on the exit
done
wait "$latest_pid" && st=0 || st=$?
check "latest: exit 0 within 40 s" test "$st" -eq 0
check "latest: only messages produced after the group joined (new-*, offset >= 3)" \
    test "$(jsonl "$TMP/latest.jsonl" 'len(docs)>=1 and all(d["value"].startswith("new-") and d["offset"]>=3 for d in docs)')" = True
run_connrt st run "$TMP/defs.xml" --process earliest --output "$TMP/earliest.jsonl"
check "earliest: a new group starts at the first message (old-1..3 at offsets 0-2)" \
    test "$st $(jsonl "$TMP/earliest.jsonl" '[(d["offset"], d["value"]) for d in docs][:3]')" = "0 [(0, 'old-1'), (1, 'old-2'), (2, 'old-3')]"
finish
