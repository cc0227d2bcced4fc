#!/usr/bin/env bash
# Key and value formats on the embedded cluster with a local schema registry:
# string and json checks on Produce and Consume (a bad document is an
# application error naming what and the offset; the others go on); avro and
# json_schema in the registry's wire format on Produce, Consume and Listen;
# schema evolution (a v1 message read after v2 is registered); interop with
# python3-avro both ways; an unknown magic byte; a registry that is down.
. "$(dirname "$0")/lib.sh"
need kcat
"$PYTHON3" -c 'import kafka, avro.io' 2>/dev/null || skip "python3-kafka or python3-avro not installed"
HERE=$(dirname "$0")

start_cluster --topic plain:1 --topic utf:1 --topic orders:1 --topic js:1 --topic heard:1

# --- the registry: started here, on 127.0.0.1, stopped by the test
"$PYTHON3" "$HERE/schema_registry.py" --user reg:s3cret-reg --timeout "$(scaled 300)" > "$TMP/registry.out" &
REG_PID=$!
cleanup_hooks+=("kill $REG_PID 2>/dev/null; wait $REG_PID 2>/dev/null")
wait_until 30 grep -qs '^READY' "$TMP/registry.out" || { echo "registry did not start" >&2; exit 1; }
port=$(sed -n 's/^READY //p' "$TMP/registry.out")
export REGISTRY="http://127.0.0.1:$port"
register() { # register SUBJECT SCHEMA_JSON [TYPE] -> prints the id
    "$PYTHON3" - "$REGISTRY" "$1" "$2" "${3:-AVRO}" <<'PY'
import base64, json, sys, urllib.request
url, subject, schema, kind = sys.argv[1:]
body = {"schema": schema}
if kind != "AVRO":
    body["schemaType"] = kind
req = urllib.request.Request(url + "/subjects/%s/versions" % subject, json.dumps(body).encode(),
    {"Content-Type": "application/json",
     "Authorization": "Basic " + base64.b64encode(b"reg:s3cret-reg").decode()})
print(json.load(urllib.request.urlopen(req))["id"])
PY
}
V1='{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"customer","type":"string"},{"name":"amount","type":"double"}]}'
V2='{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"customer","type":"string"},{"name":"amount","type":"double"},{"name":"note","type":["null","string"],"default":null},{"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]},"default":"NEW"}]}'
ID1=$(register orders-value "$V1")
JS='{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"integer","minimum":1}},"required":["sku","qty"]}'
JSID=$(register js-value "$JS" JSON)

export REG_PASSWORD=s3cret-reg
mkdir -p "$TMP/c/deploy"
cat > "$TMP/defs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="kafka" connector="kafka">
    <property name="bootstrap_servers">${env:BOOTSTRAP}</property>
    <property name="schema_registry_url">${env:REGISTRY}</property>
    <property name="schema_registry_user">reg</property>
    <property name="schema_registry_password">${env:REG_PASSWORD}</property>
  </connection>
  <operation id="send-json" connection="kafka" type="produce">
    <property name="topic">plain</property>
    <property name="value_format">json</property>
    <property name="key_format">string</property>
  </operation>
  <operation id="read-string" connection="kafka" type="consume">
    <property name="topic">utf</property>
    <property name="consumer_group">g-utf</property>
    <property name="value_format">string</property>
    <property name="min_messages">3</property>
    <property name="autocommit">true</property>
  </operation>
  <operation id="send-avro" connection="kafka" type="produce">
    <property name="topic">orders</property>
    <property name="value_format">avro</property>
  </operation>
  <operation id="read-avro" connection="kafka" type="consume">
    <property name="topic">orders</property>
    <property name="consumer_group">g-avro</property>
    <property name="value_format">avro</property>
    <property name="min_messages">7</property>
    <property name="max_wait_ms">15000</property>
    <property name="autocommit">true</property>
  </operation>
  <operation id="send-js" connection="kafka" type="produce">
    <property name="topic">js</property>
    <property name="value_format">json_schema</property>
  </operation>
  <operation id="listen-js" connection="kafka" type="listen">
    <property name="topic">js</property>
    <property name="consumer_group">g-js</property>
    <property name="value_format">json_schema</property>
    <property name="batch_wait_ms">50</property>
  </operation>
  <process id="p-produce-json"><start/><connector operation="send-json"/><output/></process>
  <process id="p-consume-string"><start operation="read-string"/><output/></process>
  <process id="p-produce-avro"><start/><connector operation="send-avro"/><output/></process>
  <process id="p-consume-avro"><start operation="read-avro"/><output/></process>
  <process id="p-produce-js"><start/><connector operation="send-js"/><output/></process>
  <process id="p-listen-js"><start operation="listen-js"/><output/></process>
</connrt>
XML
D="$TMP/defs.xml"

# --- 1. json and string
printf '%s\n' '{"k":"a","n":1}' '{"k":"b","n":2' '{"k":"c","n":3}' > "$TMP/json.in"
run_connrt st run "$D" --container "$TMP/c" --process p-produce-json --input "$TMP/json.in"
cp "$TMP/out" "$TMP/json.out"
check "json: the one document that does not parse is an application error (exit 1)" test "$st" -eq 1
check "json: it says what is wrong and where" \
    test "$(jsonl "$TMP/json.out" '[d["outcome"] for d in docs]')" = "['success', 'application_error', 'success']"
check "json: the error names 'not JSON' and the position" \
    grep -q 'value is not JSON: .* at line 1 column' "$TMP/json.out"
check "json: the two good documents reach the topic untouched" \
    test "$($KCHECK "$BOOTSTRAP" read plain | jsonl /dev/stdin '[d["value"] for d in docs]')" = "['{\"k\":\"a\",\"n\":1}', '{\"k\":\"c\",\"n\":3}']"

printf 'caf\xc3\xa9\nbad\xff\xfeutf\nfine\n' | kcat -P -b "$BOOTSTRAP" -t utf
run_connrt st run "$D" --container "$TMP/c" --process p-consume-string
cp "$TMP/out" "$TMP/string.out"
check "string: invalid UTF-8 is an application error naming the offset and the byte" \
    test "$(jsonl "$TMP/string.out" '[d["error"] for d in docs if d["outcome"] != "success"]')" = \
    "[\"message at topic 'utf' partition 0 offset 1: value is not valid UTF-8: byte 0xff at position 3\"]"
check "string: the other messages are documents, in order" \
    test "$(jsonl "$TMP/string.out" '[d["value"] for d in docs if d["outcome"] == "success"]')" = "['café', 'fine']"

# --- 2. avro: produce with the subject's latest schema (v1)
printf '%s\n' '{"id":1,"customer":"ann","amount":9.5}' '{"id":2,"customer":"bob","amount":"lots"}' \
    '{"id":3,"amount":1.0}' '{"id":4,"customer":"cy","amount":12}' > "$TMP/avro.in"
run_connrt st run "$D" --container "$TMP/c" --process p-produce-avro --input "$TMP/avro.in"
cp "$TMP/out" "$TMP/avro.out"
check "avro produce: documents that do not match are application errors naming the field" \
    test "$(jsonl "$TMP/avro.out" '[d.get("error") for d in docs]')" = \
    "[None, \"value does not match schema id $ID1 of subject orders-value: field '/amount': expected double, got a string\", \"value does not match schema id $ID1 of subject orders-value: field '/customer' is missing (the schema requires string and gives no default)\", None]"
check "avro produce: results carry kafka.value.schema_id and subject" \
    test "$(jsonl "$TMP/avro.out" '[(d["tracked"].get("kafka.value.schema_id"), d["tracked"].get("kafka.value.subject")) for d in docs if d["outcome"] == "success"]')" = \
    "[('$ID1', 'orders-value'), ('$ID1', 'orders-value')]"

# python3-avro reads what connrt wrote, with the schema fetched from the registry
check "interop: python3-avro decodes connrt's Avro field by field (schema from the registry)" \
    "$PYTHON3" - "$BOOTSTRAP" "$REGISTRY" <<'PY'
import base64, io, json, struct, sys, urllib.request
import avro.io, avro.schema
from kafka import KafkaConsumer, TopicPartition
boot, reg = sys.argv[1:]
c = KafkaConsumer(bootstrap_servers=boot, enable_auto_commit=False, consumer_timeout_ms=5000)
tp = TopicPartition("orders", 0); c.assign([tp]); c.seek_to_beginning(tp)
got = []
for m in c:
    magic, sid = struct.unpack(">bI", m.value[:5])
    req = urllib.request.Request("%s/schemas/ids/%d" % (reg, sid),
        headers={"Authorization": "Basic " + base64.b64encode(b"reg:s3cret-reg").decode()})
    schema = avro.schema.parse(json.load(urllib.request.urlopen(req))["schema"])
    got.append((magic, avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(m.value[5:])))))
    if len(got) == 2: break
want = [{"id": 1, "customer": "ann", "amount": 9.5}, {"id": 4, "customer": "cy", "amount": 12.0}]
assert [g[0] for g in got] == [0, 0], got
assert [g[1] for g in got] == want, got
PY

# schema evolution: v2 registered; python3-avro writes one v1 and one v2 message
ID2=$(register orders-value "$V2")
check "the registry gives v2 a new id" test "$ID2" != "$ID1"
"$PYTHON3" - "$BOOTSTRAP" "$ID1" "$V1" "$ID2" "$V2" <<'PY'
import io, json, struct, sys
import avro.io, avro.schema
from kafka import KafkaProducer
boot, id1, v1, id2, v2 = sys.argv[1:]
def enc(sid, text, rec):
    b = io.BytesIO(); b.write(struct.pack(">bI", 0, int(sid)))
    avro.io.DatumWriter(avro.schema.parse(text)).write(rec, avro.io.BinaryEncoder(b))
    return b.getvalue()
p = KafkaProducer(bootstrap_servers=boot)
p.send("orders", enc(id1, v1, {"id": 10, "customer": "dee", "amount": 0.25}))
p.send("orders", enc(id2, v2, {"id": 11, "customer": "eve", "amount": 3.0, "note": "rush", "status": "PAID"}))
p.send("orders", b'{"id":12}')
p.flush()
PY
run_connrt st run "$D" --container "$TMP/c" --process p-consume-avro
cp "$TMP/out" "$TMP/consume-avro.out"
check "avro consume: connrt's, python3-avro's v1 and v2 messages decode into the same JSON" \
    test "$(jsonl "$TMP/consume-avro.out" '[json.loads(d["value"]) for d in docs if d["outcome"] == "success"]')" = \
    "[{'id': 1, 'customer': 'ann', 'amount': 9.5}, {'id': 4, 'customer': 'cy', 'amount': 12.0}, {'id': 10, 'customer': 'dee', 'amount': 0.25}, {'id': 11, 'customer': 'eve', 'amount': 3.0, 'note': 'rush', 'status': 'PAID'}]"
check "avro consume: each document tracks its writer's schema id and the subject" \
    test "$(jsonl "$TMP/consume-avro.out" '[d["tracked"].get("kafka.value.schema_id") for d in docs if d["outcome"] == "success"]')" = \
    "['$ID1', '$ID1', '$ID1', '$ID2']"
check "avro consume: tracked subject" \
    test "$(jsonl "$TMP/consume-avro.out" '{d["tracked"].get("kafka.value.subject") for d in docs if d["outcome"] == "success"}')" = "{'orders-value'}"
check "avro consume: a plain JSON message is an application error naming offset and first byte" \
    grep -q "\"error\":\"message at topic 'orders' partition 0 offset 4: value is not in the schema registry's wire format: unknown magic byte 0x7b ('{')" "$TMP/consume-avro.out"
check "consume with formats exits 1 (one application error) and says so" test "$st" -eq 1

# produce now writes with v2 (the subject's latest); a document without
# v2's fields gets their defaults (note null, status "NEW")
printf '%s\n' '{"id":20,"customer":"fay","amount":1.5,"note":"n","status":"PAID"}' \
    '{"id":21,"customer":"gil","amount":2}' > "$TMP/v2.in"
run_connrt st run "$D" --container "$TMP/c" --process p-produce-avro --input "$TMP/v2.in"
check "avro produce after v2: written with the latest id" \
    test "$(jsonl "$TMP/out" '[d["tracked"].get("kafka.value.schema_id") for d in docs]')" = "['$ID2', '$ID2']"
check "avro produce after v2: python3-avro reads v2's defaults where the document had no value" \
    "$PYTHON3" - "$BOOTSTRAP" "$V2" <<'PY'
import io, sys
import avro.io, avro.schema
from kafka import KafkaConsumer, TopicPartition
boot, v2 = sys.argv[1:]
c = KafkaConsumer(bootstrap_servers=boot, enable_auto_commit=False, consumer_timeout_ms=5000)
tp = TopicPartition("orders", 0); c.assign([tp])
end = c.end_offsets([tp])[tp]; c.seek(tp, end - 2)
reader = avro.io.DatumReader(avro.schema.parse(v2))
got = [reader.read(avro.io.BinaryDecoder(io.BytesIO(m.value[5:]))) for _, m in zip(range(2), c)]
assert got == [{"id": 20, "customer": "fay", "amount": 1.5, "note": "n", "status": "PAID"},
               {"id": 21, "customer": "gil", "amount": 2.0, "note": None, "status": "NEW"}], got
PY

# --- 3. json_schema: produce checks the schema; listen decodes
printf '%s\n' '{"sku":"A1","qty":2}' '{"sku":"B2","qty":0}' '{"qty":1}' > "$TMP/js.in"
run_connrt st run "$D" --container "$TMP/c" --process p-produce-js --input "$TMP/js.in"
cp "$TMP/out" "$TMP/js.out"
check "json_schema produce: the field and the rule are named" \
    test "$(jsonl "$TMP/js.out" '[d.get("error") for d in docs]')" = \
    "[None, \"value does not match schema id $JSID of subject js-value: field '/qty': below the minimum 1\", \"value does not match schema id $JSID of subject js-value: field '/sku' is required but missing\"]"
start_bg heard run "$D" --container "$TMP/c" --process p-listen-js --output "$TMP/heard.jsonl"
check "json_schema listen: the message is decoded (header stripped)" wait_until 60 has_lines "$TMP/heard.jsonl" 1
stop_bg heard TERM
check "json_schema listen: the document is the JSON payload with its schema id" \
    test "$(jsonl "$TMP/heard.jsonl" '[(d["value"], d["tracked"]["kafka.value.schema_id"], d["tracked"]["kafka.value.subject"]) for d in docs]')" = \
    "[('{\"sku\":\"A1\",\"qty\":2}', '$JSID', 'js-value')]"

# --- 4. the registry's password never shows; a registry that is down
check "no output or log holds the registry password" \
    bash -c "! grep -rq s3cret-reg '$TMP'/*.out '$TMP'/*.err '$TMP/c/logs' 2>/dev/null"
kill "$REG_PID"; wait "$REG_PID" 2>/dev/null || true
echo '{"id":30,"customer":"gus","amount":2}' > "$TMP/down.in"
sed 's/<property name="topic">orders<\/property>/<property name="topic">orders2<\/property>/' "$D" > "$TMP/down.xml"
run_connrt st run "$TMP/down.xml" --process p-produce-avro --input "$TMP/down.in"
check "registry down: produce makes the document an application error naming the registry" \
    grep -q "\"error\":\"schema registry $REGISTRY: latest schema of subject 'orders2-value': cannot reach it: .*(after 3 attempts)\"" "$TMP/out"
finish
