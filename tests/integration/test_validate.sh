#!/usr/bin/env bash
# `connrt validate`: valid definitions pass with a summary on stdout; the
# shipped samples validate; problems in several files are all listed as
# file:line: message on stderr with exit 2; garbage never crashes it.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/connections.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="local-kafka" connector="kafka">
    <property name="bootstrap_servers">embedded</property>
    <property name="password">${env:CONNRT_TEST_KAFKA_PASSWORD}</property>
  </connection>
  <operation id="send-orders" connection="local-kafka" type="produce">
    <property name="topic">orders</property>
  </operation>
  <operation id="consume-orders" connection="local-kafka" type="consume">
    <property name="topic">orders</property>
    <property name="consumer_group">orders</property>
  </operation>
</connrt>
EOF
cat >"$TMP/processes.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<connrt xmlns="urn:connrt:definitions:1">
  <process id="orders-to-kafka">
    <start/>                                   <!-- documents from --input -->
    <set-properties>
      <property name="connector.kafka.key" json-pointer="/customer"/>
      <property name="connector.kafka.topic" value="orders"/>
    </set-properties>
    <connector operation="send-orders"/>
    <output/>                                  <!-- documents to --output -->
  </process>
  <process id="read-orders">
    <start operation="consume-orders"/>        <!-- a consume or listen operation -->
    <output/>
  </process>
</connrt>
EOF

export CONNRT_TEST_KAFKA_PASSWORD='pa$$word-not-to-be-seen'

run_connrt status validate "$TMP/connections.xml" "$TMP/processes.xml"
check "valid definitions across two files: exit 0" test "$status" = 0
check "valid definitions: summary on stdout" \
    test "$(cat "$TMP/out")" = "2 files, 5 components: valid"
check "valid definitions: nothing on stderr" test ! -s "$TMP/err"

# The same files as a container's deploy/ directory.
mkdir -p "$TMP/container/deploy"
cp "$TMP/connections.xml" "$TMP/processes.xml" "$TMP/container/deploy/"
printf 'connector.kafka.max.poll.records=10\n' >"$TMP/container/container.properties"
run_connrt status validate --container "$TMP/container"
check "container deploy/: exit 0" test "$status" = 0
check "container deploy/: both files loaded" \
    test "$(cat "$TMP/out")" = "2 files, 5 components: valid"

# The samples shipped with the project validate (they take their broker
# and schema registry from the environment).
export KAFKA_BOOTSTRAP=localhost:9092 SCHEMA_REGISTRY_URL=http://127.0.0.1:8081
for sample in "$top_srcdir"/samples/*/; do
    [ -d "$sample/deploy" ] || continue
    run_connrt status validate --container "$sample"
    check "sample $(basename "$sample") validates" test "$status" = 0
    cat "$TMP/err"
done

# Every problem in every file, sorted by file and line, and no secret.
cd "$TMP"
cat >bad1.xml <<'EOF'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="local-kafka" connector="kafka">
    <property name="bootstrap_server">embedded</property>
  </connection>
  <operation id="send-orders" connection="local-kafka" type="produce">
    <property name="compression">brotli</property>
  </operation>
</connrt>
EOF
cat >bad2.xml <<'EOF'
<connrt xmlns="urn:connrt:definitions:1">
  <process id="p">
    <start operation="send-orders"/>
    <connector operation="send-order"/>
  </process>
</connrt>
EOF
printf '<connrt xmlns="urn:connrt:definitions:1">\n<process id="q">\n</connrt>\n' >bad3.xml
run_connrt status validate bad1.xml bad2.xml bad3.xml
check "problems: exit 2" test "$status" = 2
check "problems: nothing on stdout" test ! -s "$TMP/out"
expected=$(cat <<'EOF'
bad3.xml:3: not well-formed XML: Opening and ending tag mismatch: process line 2 and connrt
bad3.xml:4: not well-formed XML: Premature end of data in tag connrt line 1
bad1.xml:3: connection 'local-kafka': unknown property 'bootstrap_server' for a kafka connection (did you mean 'bootstrap_servers'?)
bad1.xml:6: operation 'send-orders': property 'compression': expected one of none, gzip, snappy, lz4, zstd, got 'brotli'
bad2.xml:3: process 'p': operation 'send-orders' (kafka produce) cannot start a process (kafka operations that can: consume, listen)
bad2.xml:4: process 'p': <connector>: unknown operation 'send-order' (did you mean 'send-orders'?)
EOF
)
check "problems: every one listed, in file and line order" test "$(cat "$TMP/err")" = "$expected"
[ "$(cat "$TMP/err")" = "$expected" ] || diff <(echo "$expected") "$TMP/err" || true

# A secret from the environment never shows, even next to other problems.
run_connrt status validate connections.xml bad2.xml
check "secret value not in any output" \
    sh -c "! grep -F 'not-to-be-seen' '$TMP/out' '$TMP/err'"

# Usage.
run_connrt status validate
check "no files: exit 2" test "$status" = 2
run_connrt status validate --help
check "--help: exit 0 with usage" \
    sh -c "[ $status = 0 ] && grep -q 'usage: connrt validate' '$TMP/out'"
run_connrt status validate --frobnicate x.xml
check "unknown option: exit 2" test "$status" = 2

# Garbage: random bytes, truncated and corrupted definitions. Exit 2, every
# stderr line is "file:line: message" or "file: message", never a crash.
mkdir -p garbage
for i in $(seq 1 40); do
    head -c $((RANDOM % 3000 + 1)) /dev/urandom >"garbage/random$i.xml"
    head -c $((RANDOM % $(wc -c <processes.xml))) processes.xml >"garbage/cut$i.xml"
done
cp /bin/true garbage/elf.xml
run_connrt status validate garbage/*.xml
check "garbage: exit 2, no crash" test "$status" = 2
check "garbage: every stderr line names a file" \
    sh -c "! grep -v -E '^garbage/[a-z0-9]+\\.xml(:[0-9]+)?: ' '$TMP/err'"
check "garbage: no sanitizer report" \
    sh -c "! grep -q -e AddressSanitizer -e 'runtime error:' '$TMP/err'"
for f in /dev/null /etc /dev/zero; do
    run_connrt status validate "$f"
    check "validate $f: exit 2 with a message" sh -c "[ $status = 2 ] && grep -q '^$f' '$TMP/err'"
done

finish
