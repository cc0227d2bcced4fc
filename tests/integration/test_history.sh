#!/usr/bin/env bash
# Execution history (data/history.db), `connrt executions`, the JSON Lines
# log (logs/connrt.jsonl) and the container properties that govern them,
# with real `connrt run` processes: retention, SIGKILL mid-run, tracked
# properties from Kafka, and no secret in any log.
. "$(dirname "$0")/lib.sh"

# sql DB QUERY: rows as "a|b", through the sqlite3 shell when installed.
sql() {
    if command -v sqlite3 >/dev/null 2>&1; then
        sqlite3 -cmd '.timeout 5000' "$1" "$2"
    else
        "$PYTHON3" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5)
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))' "$1" "$2"
    fi
}
# wait_until SECONDS COMMAND...: poll an event with a deadline.
wait_until() {
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}
# new_container DIR [PROPERTY=VALUE...]: the copy process, with properties.
new_container() {
    local dir=$1; shift
    mkdir -p "$dir/deploy"
    cp "$TMP/copy.xml" "$dir/deploy/copy.xml"
    printf '%s\n' "$@" > "$dir/container.properties"
}
cat > "$TMP/copy.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <process id="copy">
    <start/>
    <set-properties>
      <property name="customer" json-pointer="/customer"/>
    </set-properties>
    <output/>
  </process>
</connrt>
XML
lines() { # lines FROM TO: JSON orders, one per line
    seq "$1" "$2" | sed 's/.*/{"customer":"c&"}/'
}

# ------------------------------------------------ one run, read back
C=$TMP/c1
new_container "$C" "execution.max.documents.in.flight=100"
{ lines 1 499; echo 'not json'; lines 501 1000; } > "$TMP/in.jsonl"
run_connrt st run --container "$C" --input "$TMP/in.jsonl" --output "$TMP/out.jsonl"
check "a run with one bad document exits 1" test "$st" -eq 1
check "the container's data/history.db was created" test -f "$C/data/history.db"
check "the execution is recorded with its outcome and counts" \
    test "$(sql "$C/data/history.db" "select process, status, documents, success,
        application_errors, failures, ended_at is not null from executions")" \
    = "copy|application_errors|1000|999|1|0|1"
# 100 documents in flight: one transaction per chunk of 100, each chunk one
# row of consecutive successes; the bad document (#500, last of its chunk)
# has its own row.
check "max documents in flight = 100: documents committed in 10 chunks (11 rows)" \
    test "$(sql "$C/data/history.db" "select count(*), sum(count) from documents")" = "11|1000"
run_connrt st executions "$C"
check "connrt executions DIR lists it" \
    grep -Eq '^ +1 +copy +[0-9T:.-]+Z +[0-9.]+ s +application_errors +1000 +999 +1 +0$' "$TMP/out"
run_connrt st executions --container "$C" --documents 1 --status application_errors --json
check "--documents --status application_errors: the bad line, with its origin and error" \
    test "$(jsonl "$TMP/out" '[(d["seq"], d["outcome"], d["origin"].endswith("/in.jsonl"), d["line"], "not JSON" in d["error"]) for d in docs]')" \
    = "[(500, 'application_error', True, 500, True)]"
run_connrt st executions "$C" --documents 1 --limit 0 --json
check "--documents --limit 0: every document, in order, with its line" \
    test "$(jsonl "$TMP/out" 'len(docs) == 1000 and [d["line"] for d in docs] == list(range(1, 1001))')" = True
run_connrt st executions "$C" --documents 1
check "--documents: 100 rows by default, and a note that more exist" \
    test "$(grep -c 'success' "$TMP/out")" -eq 100 -a "$st" -eq 0
check "the note names --limit" grep -q -- "--limit 0 for all" "$TMP/err"

# ------------------------------------------------ filters
run_connrt st run --container "$C" --input "$TMP/in.jsonl" --output /dev/null
lines 1 10 > "$TMP/ten.jsonl"
run_connrt st run --container "$C" --input "$TMP/ten.jsonl" --output /dev/null
run_connrt st executions "$C" --json
check "three executions, newest first" \
    test "$(jsonl "$TMP/out" '[d["id"] for d in docs]')" = "[3, 2, 1]"
run_connrt st executions "$C" --status success --json
check "--status success" test "$(jsonl "$TMP/out" '[d["id"] for d in docs]')" = "[3]"
run_connrt st executions "$C" --since 1h --limit 2 --json
check "--since 1h --limit 2" test "$(jsonl "$TMP/out" '[d["id"] for d in docs]')" = "[3, 2]"
run_connrt st executions "$C" --since 2999-01-01T00:00:00Z --json
check "--since a future time: nothing" test "$(jsonl "$TMP/out" 'len(docs)')" = 0
run_connrt st executions "$C" --process nope
check "--process with no match: exit 0, says so" grep -q "no executions match" "$TMP/err"
run_connrt st executions "$C" --since yesterday
check "--since that is not a time: exit 2" test "$st" -eq 2
run_connrt st executions "$C" --status done
check "--status that does not exist: exit 2 naming the choices" \
    grep -q "success, application_errors, failure or running" "$TMP/err"
run_connrt st executions "$C" --documents 99
check "--documents of an unknown execution: exit 3, says which" \
    test "$st" -eq 3 -a "$(grep -c 'no execution 99' "$TMP/err")" -eq 1
run_connrt st executions
check "no container named: exit 2" test "$st" -eq 2

# ------------------------------------------------ no container, no history
mkdir -p "$TMP/nocontainer"
(cd "$TMP/nocontainer" && "$CONNRT" run "$TMP/copy.xml" --input "$TMP/ten.jsonl" \
    --output /dev/null 2>/dev/null)
check "without --container nothing is written (no data/, no logs/)" \
    test -z "$(ls -A "$TMP/nocontainer")"
mkdir -p "$TMP/empty"
run_connrt st executions "$TMP/empty"
check "a container without history: exit 0, 'no executions recorded yet'" \
    test "$st" -eq 0 -a "$(grep -c 'no executions recorded yet' "$TMP/err")" -eq 1

# ------------------------------------------------ retention
sql "$C/data/history.db" "insert into executions(id, process, started_at, ended_at, status, pid)
    values (50, 'old', '2000-01-01T00:00:00.000Z', '2000-01-01T00:00:01.000Z', 'success', 1);
    insert into documents values (50, 1, 1, 'success', 'x', 1, null);"
run_connrt st run --container "$C" --input "$TMP/ten.jsonl" --output /dev/null
check "retention (30 days by default): an execution of 2000 is gone at the next run" \
    test "$(sql "$C/data/history.db" "select count(*) from executions where id = 50;
        select count(*) from documents where execution_id = 50")" = "0
0"
C0=$TMP/keep
new_container "$C0" "history.retention.days=0"
run_connrt st run --container "$C0" --input "$TMP/ten.jsonl" --output /dev/null
sql "$C0/data/history.db" "insert into executions(process, started_at, status, pid)
    values ('old', '2000-01-01T00:00:00.000Z', 'success', 1)"
run_connrt st run --container "$C0" --input "$TMP/ten.jsonl" --output /dev/null
check "history.retention.days=0 keeps it" \
    test "$(sql "$C0/data/history.db" "select count(*) from executions where process='old'")" = 1

# ------------------------------------------------ history.documents, history.payloads
C2=$TMP/c2
new_container "$C2" "history.documents=errors" "history.payloads=true"
run_connrt st run --container "$C2" --input "$TMP/in.jsonl" --output /dev/null
check "history.documents=errors: only the bad document has a row" \
    test "$(sql "$C2/data/history.db" "select seq from documents")" = 500
check "history.payloads=true: its payload is kept" \
    test "$(sql "$C2/data/history.db" "select payload from payloads")" = "not json"
check "payloads are off by default" \
    test "$(sql "$C/data/history.db" "select count(*) from payloads")" = 0

# ------------------------------------------------ logs
LOG=$C/logs/connrt.jsonl
check "logs/connrt.jsonl exists" test -s "$LOG"
check "every log line is JSON with time, level and message" \
    test "$(jsonl "$LOG" 'all({"time","level","message"} <= d.keys() for d in docs)')" = True
check "an execution's lines carry its process and execution ids" \
    test "$(jsonl "$LOG" '[(d["process"], d["execution"], d["level"]) for d in docs if "execution 1 " in d["message"]]')" \
    = "[('copy', 1, 'info'), ('copy', 1, 'warning')]"
C3=$TMP/c3
new_container "$C3" "log.level=warning"
run_connrt st run --container "$C3" --input "$TMP/in.jsonl" --output /dev/null
check "log.level=warning: no info line (start), the warning (end with errors) is there" \
    test "$(jsonl "$C3/logs/connrt.jsonl" '[d["level"] for d in docs]')" = "['warning']"
# A file where data/ should be: history cannot open; the run goes on, and
# log.format=json writes the warning to stderr as JSON.
C4=$TMP/c4
new_container "$C4" "log.format=json"
touch "$C4/data"
run_connrt st run --container "$C4" --input "$TMP/ten.jsonl" --output /dev/null
check "history that cannot open does not stop the run (exit 0)" test "$st" -eq 0
check "log.format=json: the warning on stderr is a JSON line" \
    test "$(grep '^{' "$TMP/err" | "$PYTHON3" -c 'import json,sys; d=[json.loads(l) for l in sys.stdin]; print([(x["level"], x["message"].startswith("history:")) for x in d])')" \
    = "[('warning', True)]"

# ------------------------------------------------ SIGKILL between chunks
# The input is a pipe fed by this script: connrt commits two chunks of
# 1,000, then waits for the third; it is killed there.
K=$TMP/kill
new_container "$K" "execution.max.documents.in.flight=1000"
mkfifo "$TMP/feed"
"$CONNRT" run --container "$K" --input - --output "$TMP/kill.jsonl" <"$TMP/feed" \
    2>"$TMP/kill.err" &
pid=$!
exec 3>"$TMP/feed"
lines 1 2500 >&3
committed() { [ "$(sql "$K/data/history.db" "select documents from executions" 2>/dev/null)" = 2000 ]; }
check "two chunks are committed while the run waits for input" wait_until 60 committed
kill -9 "$pid"
set +e; { wait "$pid"; } 2>/dev/null; st=$?; set -e
exec 3>&-
check "connrt was killed by SIGKILL" test "$st" -eq 137
check "the history opens cleanly: integrity_check ok" \
    test "$(sql "$K/data/history.db" "pragma integrity_check")" = ok
check "the committed execution and its 2,000 documents are there" \
    test "$(sql "$K/data/history.db" "select status, documents, (select sum(count)
        from documents where execution_id = 1) from executions where id = 1")" = "running|2000|2000"
run_connrt st executions "$K" --json
check "connrt executions shows it running, with 2,000 documents" \
    test "$(jsonl "$TMP/out" '[(d["status"], d["documents"]) for d in docs]')" = "[('running', 2000)]"
run_connrt st run --container "$K" --input "$TMP/ten.jsonl" --output /dev/null
check "the next run closes it as an interrupted failure" \
    test "$(sql "$K/data/history.db" "select status, error like 'interrupted:%' from executions
        where id = 1")" = "failure|1"

# ------------------------------------------------ SIGKILL while writing
# A large input with payloads (many rows per chunk), killed as soon as a
# first chunk is committed: whatever is committed is whole.
W=$TMP/write
new_container "$W" "execution.max.documents.in.flight=1000" "history.payloads=true"
lines 1 1000000 > "$TMP/big.jsonl"
"$CONNRT" run --container "$W" --input "$TMP/big.jsonl" --output /dev/null 2>/dev/null &
pid=$!
started() { [ "$(sql "$W/data/history.db" "select documents >= 1000 from executions" 2>/dev/null)" = 1 ]; }
check "a first chunk of the large input is committed" wait_until 60 started
kill -9 "$pid"
set +e; { wait "$pid"; } 2>/dev/null; st=$?; set -e
check "killed mid-way (SIGKILL, not finished)" test "$st" -eq 137
check "integrity_check ok after SIGKILL while writing" \
    test "$(sql "$W/data/history.db" "pragma integrity_check")" = ok
check "counts, document rows and payloads agree (committed together)" \
    test "$(sql "$W/data/history.db" "select documents = (select sum(count) from documents)
        and documents = (select count(*) from payloads) and documents % 1000 = 0
        and documents < 1000000 from executions")" = 1

# ------------------------------------------------ Kafka: tracked properties, no secrets
start_cluster --topic orders:2
KC=$TMP/kafka
mkdir -p "$KC/deploy"
printf 'log.level=debug\n' > "$KC/container.properties"
cat > "$KC/deploy/kafka.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
  </connection>
  <connection id="kafka-sasl" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
    <property name="security_protocol">SASL_PLAINTEXT</property>
    <property name="sasl_mechanism">PLAIN</property>
    <property name="username">alice</property>
    <property name="password">${env:HISTORY_TEST_SECRET}</property>
  </connection>
  <operation id="send" connection="kafka" type="produce">
    <property name="topic">orders</property>
  </operation>
  <operation id="send-sasl" connection="kafka-sasl" type="produce">
    <property name="topic">orders</property>
    <property name="message_timeout_ms">3000</property>
  </operation>
  <process id="produce">
    <start/>
    <connector operation="send"/>
  </process>
  <process id="produce-sasl">
    <start/>
    <connector operation="send-sasl"/>
  </process>
</connrt>
XML
export HISTORY_TEST_SECRET='Pa55-wOrd-that-must-not-leak'
run_connrt st run --container "$KC" --process produce --input "$TMP/ten.jsonl"
check "produce 10 documents to the embedded cluster" test "$st" -eq 0
run_connrt st executions "$KC" --tracked kafka.topic=orders --json
check "--tracked kafka.topic=orders finds the execution" \
    test "$(jsonl "$TMP/out" '[(d["id"], d["process"]) for d in docs]')" = "[(1, 'produce')]"
offset=$(sql "$KC/data/history.db" "select value from tracked where name = 'kafka.offset'
    and seq = 4")
run_connrt st executions "$KC" --documents 1 --tracked "kafka.offset=$offset" --json
check "--documents 1 --tracked kafka.offset=N: the documents with that offset, tracked listed" \
    test "$(jsonl "$TMP/out" 'all(d["tracked"]["kafka.offset"] == "'"$offset"'" and d["tracked"]["kafka.topic"] == "orders" for d in docs) and 4 in [d["seq"] for d in docs]')" = True
run_connrt st executions "$KC" --tracked kafka.topic=nothing --json
check "--tracked with no match: nothing" test "$(jsonl "$TMP/out" 'len(docs)')" = 0
run_connrt st run --container "$KC" --process produce-sasl --input "$TMP/ten.jsonl"
cp "$TMP/err" "$TMP/sasl.err"
check "a produce that cannot log in does not succeed" test "$st" -ne 0
check "the secret is in no log line, no stderr, no history" \
    test -z "$(grep -rl "$HISTORY_TEST_SECRET" "$KC/logs" "$KC/data" "$TMP/sasl.err" || true)"
finish
