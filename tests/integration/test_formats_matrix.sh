#!/usr/bin/env bash
# The formats x operations matrix: every value format (bytes, string, json,
# avro, json_schema) through Produce, Consume and Listen on one topic each,
# with keys in avro, json_schema, json and string; what Produce wrote is
# what Consume and Listen decode, and each misfit is an application error
# naming the document or offset and what was wrong. Then the registry
# client: auto_register off and on, 503s retried with backoff, schemas
# fetched once per id, the registry failing during Consume and down during
# Listen (nothing lost, nothing committed past it), TLS with a CA (and a
# wrong one), basic auth (a wrong password is a 401 that never shows it).
# Consumes and listens run side by side, so the group joins overlap.
. "$(dirname "$0")/lib.sh"
need kcat
need openssl
"$PYTHON3" -c 'import kafka' 2>/dev/null || skip "python3-kafka not installed"
HERE=$(dirname "$0")
FORMATS="bytes string json avro json_schema"
# Key format that goes with each value format in the matrix.
declare -A KEYF=([bytes]=bytes [string]=string [json]=json [avro]=avro [json_schema]=json_schema)
# Messages on each format's topic: those Produce wrote and those added after.
declare -A LINES=([bytes]=4 [string]=4 [json]=3 [avro]=4 [json_schema]=3)

start_cluster --topic m-bytes:1 --topic m-string:1 --topic m-json:1 --topic m-avro:1 \
    --topic m-json_schema:1 --topic m-auto:1 --topic m-noschema:1 --topic m-retry:1 \
    --topic m-down:1 --topic m-ldown:1 --topic m-tls:1

# --- registries on 127.0.0.1: REG (basic auth), LREG (killed and restarted
# during Listen), TREG (HTTPS with a certificate of the test's own CA)
"$top_srcdir/tests/security/make-test-pki.sh" "$TMP/pki"
REG_PASSWORD=pw-Reg-7c1d
export REG_PASSWORD
start_registry() { # start_registry NAME [ARGS...]: NAME_PID, NAME_PORT
    local name=$1; shift
    "$PYTHON3" "$HERE/schema_registry.py" --timeout 300 "$@" > "$TMP/$name.ready" &
    printf -v "${name}_PID" '%d' $!
    cleanup_hooks+=("kill $! 2>/dev/null")
    wait_until 30 grep -qs '^READY' "$TMP/$name.ready" || { echo "$name did not start" >&2; exit 1; }
    printf -v "${name}_PORT" '%s' "$(sed -n 's/^READY //p' "$TMP/$name.ready")"
}
start_registry REG --user "reg:$REG_PASSWORD"
start_registry LREG --state "$TMP/lreg.state"
start_registry TREG --tls "$TMP/pki/server.pem" "$TMP/pki/server.key"
export REGISTRY="http://127.0.0.1:$REG_PORT" LREGISTRY="http://127.0.0.1:$LREG_PORT"
export TREGISTRY="https://127.0.0.1:$TREG_PORT" CA_FILE="$TMP/pki/ca.pem"
export OTHER_CA="$TMP/pki/other-ca.pem" CA_PEM="$(cat "$TMP/pki/ca.pem")"

cat > "$TMP/reg.py" <<'PY'
# reg.py URL METHOD PATH [BODY]: one registry call (auth and CA from the
# environment), prints the JSON answer.
import base64, json, os, ssl, sys, urllib.request
url, method, path = sys.argv[1:4]
headers = {"Content-Type": "application/json"}
if url.startswith("http://127.0.0.1:%s" % os.environ["REG_PORT"]):
    headers["Authorization"] = "Basic " + base64.b64encode(
        ("reg:" + os.environ["REG_PASSWORD"]).encode()).decode()
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
ctx = ssl.create_default_context(cafile=os.environ["CA_FILE"])
req = urllib.request.Request(url + path, body, headers, method=method)
print(json.dumps(json.load(urllib.request.urlopen(req, context=ctx))))
PY
export REG_PORT
reg() { "$PYTHON3" "$TMP/reg.py" "$@"; }
register() { # register URL SUBJECT SCHEMA [TYPE] -> the id
    reg "$1" POST "/subjects/$2/versions" \
        "$("$PYTHON3" -c 'import json,sys; b={"schema": sys.argv[1]}
if sys.argv[2] != "AVRO": b["schemaType"] = sys.argv[2]
print(json.dumps(b))' "$3" "${4:-AVRO}")" | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
requests_of() { # requests_of "GET /path": how many the registry REG saw
    reg "$REGISTRY" GET /stats | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["paths"].get(sys.argv[1], 0))' "$1"
}
ORDER='{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"customer","type":"string"},{"name":"amount","type":"double"}]}'
OKEY='{"type":"record","name":"OrderKey","fields":[{"name":"cust","type":"string"}]}'
JS='{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"integer","minimum":1}},"required":["sku","qty"]}'
JSKEY='{"type":"object","properties":{"region":{"type":"string"}},"required":["region"]}'
small() { echo "{\"type\":\"record\",\"name\":\"$1\",\"fields\":[{\"name\":\"n\",\"type\":\"int\"}]}"; }
ID_ORDER=$(register "$REGISTRY" m-avro-value "$ORDER")
ID_OKEY=$(register "$REGISTRY" m-avro-key "$OKEY")
ID_JS=$(register "$REGISTRY" m-json_schema-value "$JS" JSON)
ID_JSKEY=$(register "$REGISTRY" m-json_schema-key "$JSKEY" JSON)
IA=$(register "$REGISTRY" r-a "$(small A)"); IB=$(register "$REGISTRY" r-b "$(small B)")
IC=$(register "$REGISTRY" r-c "$(small C)"); ID=$(register "$REGISTRY" r-d "$(small D)")
IL=$(register "$LREGISTRY" m-ldown-value "$(small L)")
register "$TREGISTRY" m-tls-value "$ORDER" > /dev/null

# --- definitions: per format a produce, a consume and a listen operation
mkdir -p "$TMP/c/deploy"
D="$TMP/defs.xml"
conn() { # conn ID URL [PROPERTY VALUE]...
    local id=$1 url=$2; shift 2
    echo "  <connection id=\"$id\" connector=\"kafka\">"
    echo "    <property name=\"bootstrap_servers\">\${env:BOOTSTRAP}</property>"
    echo "    <property name=\"schema_registry_url\">$url</property>"
    while [ $# -gt 0 ]; do echo "    <property name=\"$1\">$2</property>"; shift 2; done
    echo "  </connection>"
}
op() { # op ID TYPE CONNECTION TOPIC [PROPERTY VALUE]...
    local id=$1 type=$2 c=$3 topic=$4; shift 4
    echo "  <operation id=\"$id\" connection=\"$c\" type=\"$type\">"
    echo "    <property name=\"topic\">$topic</property>"
    while [ $# -gt 0 ]; do echo "    <property name=\"$1\">$2</property>"; shift 2; done
    echo "  </operation>"
}
consume_props() { echo consumer_group "g-c-$1" min_messages "$2" max_wait_ms 30000 autocommit true; }
{
    echo '<connrt xmlns="urn:connrt:definitions:1">'
    conn kafka '${env:REGISTRY}' schema_registry_user reg schema_registry_password '${env:REG_PASSWORD}'
    conn lkafka '${env:LREGISTRY}'
    conn tls-file '${env:TREGISTRY}' schema_registry_ca '${env:CA_FILE}'
    conn tls-inline '${env:TREGISTRY}' schema_registry_ca '${env:CA_PEM}'
    conn tls-wrong '${env:TREGISTRY}' schema_registry_ca '${env:OTHER_CA}'
    conn badauth '${env:REGISTRY}' schema_registry_user reg schema_registry_password wrong-Pass-93af
    for f in $FORMATS; do
        fmt=(value_format "$f" key_format "${KEYF[$f]}")
        op "send-$f" produce kafka "m-$f" "${fmt[@]}"
        op "read-$f" consume kafka "m-$f" "${fmt[@]}" $(consume_props "$f" "${LINES[$f]}")
        op "listen-$f" listen kafka "m-$f" "${fmt[@]}" consumer_group "g-l-$f" batch_wait_ms 50
    done
    op send-auto produce kafka m-auto value_format avro auto_register true \
        value_schema "$(small Auto)"
    op send-noschema produce kafka m-noschema value_format avro
    for c in tls-file tls-inline tls-wrong badauth; do
        op "send-$c" produce "$c" m-tls value_format avro subject m-tls-value
    done
    op read-retry consume kafka m-retry value_format avro $(consume_props retry 4)
    op read-down consume kafka m-down value_format avro $(consume_props down 4)
    op read-down-again consume kafka m-down value_format avro $(consume_props down 2)
    op listen-ldown listen lkafka m-ldown value_format avro consumer_group g-l-ldown \
        batch_wait_ms 50 retry_backoff_ms 200
    for p in $FORMATS auto noschema tls-file tls-inline tls-wrong badauth; do
        echo "  <process id=\"p-send-$p\"><start/><connector operation=\"send-$p\"/><output/></process>"
    done
    for p in $FORMATS retry down down-again; do
        echo "  <process id=\"p-read-$p\"><start operation=\"read-$p\"/><output/></process>"
    done
    for p in $FORMATS ldown; do
        echo "  <process id=\"p-listen-$p\"><start operation=\"listen-$p\"/><output/>"
        echo "    <on-error><output/></on-error></process>"
    done
    echo '</connrt>'
} > "$D"
run_connrt st validate "$D"
check "the definitions are valid" test "$st" -eq 0 || { cat "$TMP/err" >&2; exit 1; }

# --- Produce: one jsonl input per format (value_encoding base64 for bytes)
b64() { printf "$1" | base64 -w0; }
cat > "$TMP/in-bytes.jsonl" <<EOF
{"value": "$(b64 '\x00\xff\x01\n')", "value_encoding": "base64"}
{"value": "plain"}
EOF
cat > "$TMP/in-string.jsonl" <<EOF
{"value": "café"}
{"value": "$(b64 'bad\xff\xfeutf')", "value_encoding": "base64"}
{"value": "fine"}
EOF
cat > "$TMP/in-json.jsonl" <<'EOF'
{"value": {"k": "a", "n": 1}, "properties": {"connector.kafka.key": {"k": 1}}}
{"value": "{\"k\": \"b\",", "properties": {"connector.kafka.key": {"k": 2}}}
{"value": [2], "properties": {"connector.kafka.key": "not json"}}
{"value": [3]}
EOF
cat > "$TMP/in-avro.jsonl" <<'EOF'
{"value": {"id": 1, "customer": "ann", "amount": 9.5}, "properties": {"connector.kafka.key": {"cust": "ann"}}}
{"value": {"id": 2, "customer": "bob", "amount": "lots"}, "properties": {"connector.kafka.key": {"cust": "bob"}}}
{"value": {"id": 3, "customer": "cy", "amount": 1}, "properties": {"connector.kafka.key": {"cust": 3}}}
{"value": {"id": 4, "customer": "dee", "amount": 12}}
EOF
cat > "$TMP/in-json_schema.jsonl" <<'EOF'
{"value": {"sku": "A1", "qty": 2}, "properties": {"connector.kafka.key": {"region": "eu"}}}
{"value": {"sku": "B2", "qty": 0}, "properties": {"connector.kafka.key": {"region": "us"}}}
{"value": {"sku": "C3", "qty": 1}, "properties": {"connector.kafka.key": {"zone": 1}}}
EOF
declare -A PRODUCED=([bytes]="success success" [string]="success application_error success"
    [json]="success application_error application_error success"
    [avro]="success application_error application_error success"
    [json_schema]="success application_error application_error")
for f in $FORMATS; do
    run_connrt st run "$D" --container "$TMP/c" --process "p-send-$f" --input "$TMP/in-$f.jsonl" \
        --input-format jsonl
    cp "$TMP/out" "$TMP/send-$f.out"; cp "$TMP/err" "$TMP/send-$f.err"
    check "produce $f: outcomes $(echo ${PRODUCED[$f]})" \
        test "$(jsonl "$TMP/send-$f.out" '" ".join(d["outcome"] for d in docs)')" = "${PRODUCED[$f]}"
done
check "produce bytes: exit 0, nothing refused" grep -q '2 documents: 2 success, 0 application errors' "$TMP/send-bytes.err"
check "produce string: invalid UTF-8 is an application error naming the document, byte and position" \
    grep -qF "connrt: document 2 ($TMP/in-string.jsonl:2): application error at step 'send-string': value is not valid UTF-8: byte 0xff at position 3" "$TMP/send-string.err"
check "produce string: 2 success, 1 application error" grep -q '3 documents: 2 success, 1 application error, 0 failures' "$TMP/send-string.err"
check "produce json: a value that does not parse and a key that is not JSON are named" \
    test "$(jsonl "$TMP/send-json.out" '[d.get("error", "").split(":")[0] for d in docs]')" = "['', 'value is not JSON', 'key is not JSON', '']"
check "produce avro: a misfit value and a misfit key each name the field" \
    test "$(jsonl "$TMP/send-avro.out" '[d.get("error") for d in docs]')" = \
    "[None, \"value does not match schema id $ID_ORDER of subject m-avro-value: field '/amount': expected double, got a string\", \"key does not match schema id $ID_OKEY of subject m-avro-key: field '/cust': expected string, got an integer\", None]"
check "produce avro: results track the key's and the value's schema id and subject" \
    test "$(jsonl "$TMP/send-avro.out" '[[d["tracked"].get("kafka.%s.%s" % (s, w)) for s in ("key", "value") for w in ("schema_id", "subject")] for d in docs if d["outcome"] == "success"]')" = \
    "[['$ID_OKEY', 'm-avro-key', '$ID_ORDER', 'm-avro-value'], [None, None, '$ID_ORDER', 'm-avro-value']]"
check "produce json_schema: the value's and the key's field and rule are named" \
    test "$(jsonl "$TMP/send-json_schema.out" '[d.get("error") for d in docs]')" = \
    "[None, \"value does not match schema id $ID_JS of subject m-json_schema-value: field '/qty': below the minimum 1\", \"key does not match schema id $ID_JSKEY of subject m-json_schema-key: field '/region' is required but missing\"]"

# --- What the produce cells wrote, read by python3-kafka, plus one message
# per topic that does not fit (and, for the registry tests, wire-format
# messages with chosen schema ids).
"$PYTHON3" - "$BOOTSTRAP" "$ID_JS" "$IA" "$IB" "$IC" "$ID" "$IL" "$ID_OKEY" > "$TMP/written.json" <<'PY'
import base64, json, struct, sys
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
boot, js, ia, ib, ic, i_d, il, okey = sys.argv[1], *map(int, sys.argv[2:])
wire = lambda sid, payload: struct.pack(">bI", 0, sid) + payload
small = lambda sid, n: wire(sid, bytes([2 * n]))  # Avro int n (zig-zag), n < 64
c = KafkaConsumer(bootstrap_servers=boot, enable_auto_commit=False, consumer_timeout_ms=3000)
written = {}
for f in ["bytes", "string", "json", "avro", "json_schema"]:
    tp = TopicPartition("m-" + f, 0)
    c.assign([tp]); c.seek_to_beginning(tp)
    end = c.end_offsets([tp])[tp]
    written[f] = [[base64.b64encode(m.key or b"").decode() if m.key is not None else None,
                   base64.b64encode(m.value).decode()] for _, m in zip(range(end), c)]
p = KafkaProducer(bootstrap_servers=boot)
extra = {"m-bytes": [b"\xfe\x00", b""], "m-string": [b"bad\xff\xfeutf", b"tail"],
         "m-json": [b"not json"], "m-avro": [b'{"id":5}', ],
         "m-json_schema": [wire(js, b'{"sku":"D4","qty":0}'), wire(js, b'{"sku":"E5","qty":5}')],
         "m-retry": [small(ia, 1), small(ia, 2), small(ib, 3), small(ia, 4)],
         "m-down": [small(i_d, 1), small(i_d, 2), small(ic, 3), small(i_d, 4)],
         "m-ldown": [small(il, 7)]}
for topic, values in extra.items():
    for v in values:
        p.send(topic, v, partition=0)
# A good Avro key ({"cust": "cy"}) on a value that is not Avro.
p.send("m-avro", b'{"id":6}', key=wire(okey, b"\x04cy"), partition=0)
p.flush()
print(json.dumps(written))
PY
w() { jsonl "$TMP/written.json" "$1"; }
check "bytes: Produce wrote the documents' bytes untouched" \
    test "$(w 'docs[0]["bytes"]')" = "[[None, '$(b64 '\x00\xff\x01\n')'], [None, '$(b64 plain)']]"
check "string, json: Produce wrote only the documents that fit, untouched" \
    test "$(w '[__import__("base64").b64decode(v).decode() for f in ("string", "json") for k, v in docs[0][f]]')" = \
    "['café', 'fine', '{\"k\":\"a\",\"n\":1}', '[3]']"
check "avro, json_schema: Produce wrote magic byte 0 and the schema ids" \
    test "$(w '[__import__("base64").b64decode(v)[:5].hex() for f in ("avro", "json_schema") for k, v in docs[0][f]]')" = \
    "['$(printf '00%08x' "$ID_ORDER")', '$(printf '00%08x' "$ID_ORDER")', '$(printf '00%08x' "$ID_JS")']"

# --- Consume and Listen of every format, side by side; LREG is down when
# the ldown listener starts; REG fails schema ids IA (two 503s, then
# answers) and IC (503 until cleared).
reg "$REGISTRY" POST /test/fault "{\"path\": \"/schemas/ids/$IA\", \"status\": 503, \"count\": 2}" > /dev/null
reg "$REGISTRY" POST /test/fault "{\"path\": \"/schemas/ids/$IC\", \"status\": 503, \"count\": -1}" > /dev/null
kill "$LREG_PID"; wait "$LREG_PID" 2>/dev/null || true
for p in $FORMATS retry down; do start_bg "read_$p" run "$D" --container "$TMP/c" --process "p-read-$p"; done
for p in $FORMATS ldown; do
    start_bg "listen_$p" run "$D" --container "$TMP/c" --process "p-listen-$p" --output "$TMP/listen-$p.jsonl"
done
for p in $FORMATS retry down; do
    pid_var="read_${p}_PID"; set +e; wait "${!pid_var}"; printf -v "read_${p}_st" '%d' $?; set -e
done
for f in $FORMATS; do
    check "listen $f: every message reached the process" wait_until 60 has_lines "$TMP/listen-$f.jsonl" "${LINES[$f]}"
done

# The cells: outcome, error or value of each message, the same for Consume and Listen.
expect() { # expect FORMAT -> the python list each cell must print
    case $1 in
    bytes) echo "[('success', '$(b64 '\x00\xff\x01\n')'), ('success', '$(b64 plain)'), ('success', '$(b64 '\xfe\x00')'), ('success', '')]" ;;
    string) echo "[('success', 'café'), ('success', 'fine'), ('application_error', \"message at topic 'm-string' partition 0 offset 2: value is not valid UTF-8: byte 0xff at position 3\"), ('success', 'tail')]" ;;
    json) echo "[('success', {'k': 'a', 'n': 1}), ('success', [3]), ('application_error', \"message at topic 'm-json' partition 0 offset 2: value is not JSON: invalid token near 'not' at line 1 column 3 (position 3)\")]" ;;
    avro) echo "[('success', {'id': 1, 'customer': 'ann', 'amount': 9.5}), ('success', {'id': 4, 'customer': 'dee', 'amount': 12.0}), ('application_error', \"message at topic 'm-avro' partition 0 offset 2: value is not in the schema registry's wire format: unknown magic byte 0x7b ('{') (expected 0x00 and a 4-byte schema id; a producer without a registry serializer wrote it? value_format=json or bytes reads it as is)\"), ('application_error', \"message at topic 'm-avro' partition 0 offset 3: value is not in the schema registry's wire format: unknown magic byte 0x7b ('{') (expected 0x00 and a 4-byte schema id; a producer without a registry serializer wrote it? value_format=json or bytes reads it as is)\")]" ;;
    json_schema) echo "[('success', {'sku': 'A1', 'qty': 2}), ('application_error', \"message at topic 'm-json_schema' partition 0 offset 1: value (schema id $ID_JS): field '/qty': below the minimum 1\"), ('success', {'sku': 'E5', 'qty': 5})]" ;;
    esac
}
cell() { # cell FORMAT FILE -> (outcome, error or value) per document, in offset order
    local value="json.loads(d['value'])"
    case $1 in
    bytes) value="d['value'] if d.get('value_encoding') == 'base64' else __import__('base64').b64encode(d['value'].encode()).decode()" ;;
    string) value="d['value']" ;;
    esac
    jsonl "$2" "[(d['outcome'], d['error'] if d['outcome'] != 'success' else $value)
        for d in sorted(docs, key=lambda d: d['offset'])]"
}
for f in $FORMATS; do
    pid_var="read_${f}_st"
    cp "$TMP/read_$f.out" "$TMP/consume-$f.jsonl"
    check "consume $f: $(expect "$f" | cut -c1-60)..." test "$(cell "$f" "$TMP/consume-$f.jsonl")" = "$(expect "$f")"
    check "listen $f: the same documents" test "$(cell "$f" "$TMP/listen-$f.jsonl")" = "$(expect "$f")"
    want_st=$([ "$f" = bytes ] && echo 0 || echo 1)
    check "consume $f: exit $want_st" test "${!pid_var}" -eq "$want_st"
done
check "bytes: a binary value is written base64, as the output format says" \
    test "$(jsonl "$TMP/consume-bytes.jsonl" '[d.get("value_encoding") for d in docs]')" = "['base64', None, 'base64', None]"
check "json: a JSON key is kept as is (kafka.key)" \
    test "$(jsonl "$TMP/consume-json.jsonl" '[d["key"] for d in docs]')" = "['{\"k\":1}', None, None]"
keys() { jsonl "$1" "[tuple([d['key']] + [d['tracked'].get(n) for n in ('kafka.key.schema_id', 'kafka.key.subject', 'kafka.value.schema_id', 'kafka.value.subject')]) for d in docs if d['outcome'] == 'success']"; }
for cell_file in consume listen; do
    check "$cell_file avro: the key decodes to its JSON, with key and value schema ids and subjects" \
        test "$(keys "$TMP/$cell_file-avro.jsonl")" = \
        "[('{\"cust\":\"ann\"}', '$ID_OKEY', 'm-avro-key', '$ID_ORDER', 'm-avro-value'), (None, None, None, '$ID_ORDER', 'm-avro-value')]"
    check "$cell_file json_schema: the key is its JSON without the wire header, with its schema id" \
        test "$(keys "$TMP/$cell_file-json_schema.jsonl")" = \
        "[('{\"region\":\"eu\"}', '$ID_JSKEY', 'm-json_schema-key', '$ID_JS', 'm-json_schema-value'), (None, None, None, '$ID_JS', 'm-json_schema-value')]"
done
check "a misfit value's good key is given decoded, to say which record failed" \
    test "$(jsonl "$TMP/consume-avro.jsonl" '[(d["key"], d["tracked"].get("kafka.key.schema_id")) for d in docs if d["outcome"] != "success"]')" = \
    "[(None, None), ('{\"cust\":\"cy\"}', '$ID_OKEY')]"
check "a decoded key is also the document property connector.kafka.key" \
    test "$(jsonl "$TMP/consume-avro.jsonl" '[d["properties"].get("connector.kafka.key") for d in docs][:1]')" = "['{\"cust\":\"ann\"}']"

# --- Listen: the registry down; the batch is retried and nothing committed
check "listen, registry down: the error names the registry, the schema id and the attempts" \
    wait_until 30 grep -q "schema registry $LREGISTRY: schema id $IL: cannot reach it: .* (after 3 attempts)" "$TMP/listen_ldown.err"
check "listen, registry down: the batch is retried, each attempt one line with the reason" \
    wait_until 30 test "$(grep -c "cannot build a batch of m-ldown/0: .*schema registry $LREGISTRY: .*; retrying in [0-9]* ms" "$TMP/listen_ldown.err")" -ge 2
check "listen, registry down: no document went through, nothing committed" \
    eval 'test "$(count_lines "$TMP/listen-ldown.jsonl")" -eq 0 && test "$($KCHECK "$BOOTSTRAP" committed g-l-ldown m-ldown)" = "{\"0\": null}"'
start_registry LREG --port "$LREG_PORT" --state "$TMP/lreg.state"
check "listen, registry back: the message is decoded" wait_until 30 has_lines "$TMP/listen-ldown.jsonl" 1
check "listen, registry back: the group commits past it" wait_until 30 caught_up g-l-ldown m-ldown
check "listen, registry back: the document is the message, decoded once" \
    test "$(jsonl "$TMP/listen-ldown.jsonl" '[(d["outcome"], d["value"], d["tracked"]["kafka.value.schema_id"]) for d in docs]')" = "[('success', '{\"n\":7}', '$IL')]"
for p in $FORMATS ldown; do
    stop_bg "listen_$p" TERM
    st_var="listen_${p}_STATUS"
    check "listen $p: exits 0 on SIGTERM" test "${!st_var}" -eq 0
done
for f in $FORMATS; do
    check "listen $f: the group committed every message (misfits went to <on-error>)" caught_up "g-l-$f" "m-$f"
done

# --- Consume: 503s retried, ids fetched once; the registry failing mid-run
check "consume retry: the two 503s were retried, all 4 messages decoded" \
    test "$(jsonl "$TMP/read_retry.out" '[(d["outcome"], d["value"]) for d in docs]')" = \
    "[('success', '{\"n\":1}'), ('success', '{\"n\":2}'), ('success', '{\"n\":3}'), ('success', '{\"n\":4}')]"
check "consume retry: schema id $IA asked 3 times (2 x 503 + 1), then cached" test "$(requests_of "GET /schemas/ids/$IA")" -eq 3
check "consume retry: schema id $IB asked once for 1 message, its subjects once" \
    eval 'test "$(requests_of "GET /schemas/ids/$IB")" -eq 1 && test "$(requests_of "GET /schemas/ids/$IB/versions")" -eq 1'
check "consume retry: the Order schema was fetched once by each of consume and listen (4 messages)" \
    test "$(requests_of "GET /schemas/ids/$ID_ORDER")" -eq 2
check "produce: each subject's latest schema asked once for the whole batch (4 documents)" \
    eval 'test "$(requests_of "GET /subjects/m-avro-value/versions/latest")" -eq 1 && test "$(requests_of "GET /subjects/m-avro-key/versions/latest")" -eq 1'
check "consume, registry failing: the documents before the message are emitted" \
    test "$(jsonl "$TMP/read_down.out" '[(d["outcome"], str(d["offset"]), d["value"]) for d in docs]')" = \
    "[('success', '0', '{\"n\":1}'), ('success', '1', '{\"n\":2}')]"
check "consume, registry failing: the operation fails (exit 3)" test "$read_down_st" -eq 3
check "consume, registry failing: the error names the offset, the registry, the id and what follows" \
    grep -qF "operation 'read-down' failed: message at topic 'm-down' partition 0 offset 2: schema registry $REGISTRY: schema id $IC: server error: HTTP 503: injected fault (after 3 attempts); stopped before it (it will be read again)" "$TMP/read_down.err"
check "consume, registry failing: the 2 emitted are committed, not the one it stopped at" \
    test "$($KCHECK "$BOOTSTRAP" committed g-c-down m-down)" = '{"0": 2}'
reg "$REGISTRY" POST /test/clear > /dev/null
run_connrt st run "$D" --container "$TMP/c" --process p-read-down-again
check "consume, registry back: the next run reads from that message on, nothing lost or doubled" \
    test "$st:$(jsonl "$TMP/out" '[(str(d["offset"]), d["value"]) for d in docs]')" = \
    "0:[('2', '{\"n\":3}'), ('3', '{\"n\":4}')]"

# --- auto_register: off by default, on registers value_schema
run_connrt st run "$D" --container "$TMP/c" --process p-send-noschema --input - <<< '{"n":1}'
check "auto_register off: a subject without schema is an application error saying how to fix it" \
    test "$(jsonl "$TMP/out" '[d["error"] for d in docs]')" = \
    "[\"subject 'm-noschema-value' has no schema (schema registry $REGISTRY: latest schema of subject 'm-noschema-value': HTTP 404: Subject 'm-noschema-value' not found.): register one under 'm-noschema-value', or set auto_register=true and value_schema on the operation\"]"
check "auto_register off: nothing was registered" \
    test "$(reg "$REGISTRY" GET /subjects | grep -c m-noschema)" -eq 0
run_connrt st run "$D" --container "$TMP/c" --process p-send-auto --input - <<< $'{"n":1}\n{"n":2}'
auto_id=$(reg "$REGISTRY" GET /subjects/m-auto-value/versions/latest | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "auto_register on: value_schema is registered under m-auto-value and its id used" \
    test "$st:$(jsonl "$TMP/out" '[d["tracked"]["kafka.value.schema_id"] for d in docs]')" = "0:['$auto_id', '$auto_id']"
check "auto_register on: registered once for the two documents" test "$(requests_of "POST /subjects/m-auto-value/versions")" -eq 1

# --- TLS and basic auth (Produce asks for the subject's latest schema)
order='{"id":1,"customer":"ann","amount":1.5}'
for c in tls-file tls-inline; do
    run_connrt st run "$D" --container "$TMP/c" --process "p-send-$c" --input - <<< "$order"
    check "TLS registry, CA as ${c#tls-}: the document is written" test "$st" -eq 0
done
run_connrt st run "$D" --container "$TMP/c" --process p-send-tls-wrong --input - <<< "$order"
check "TLS registry, wrong CA: refused, saying the certificate is not trusted and what to check" \
    test "$(jsonl "$TMP/out" '[d["error"] for d in docs]')" = \
    "[\"schema registry $TREGISTRY: latest schema of subject 'm-tls-value': SSL certificate problem: unable to get local issuer certificate (check schema_registry_url and schema_registry_ca)\"]"
run_connrt st run "$D" --container "$TMP/c" --process p-send-badauth --input - <<< "$order"
check "wrong registry password: a 401 naming the properties to check" \
    test "$(jsonl "$TMP/out" '[d["error"] for d in docs]')" = \
    "[\"schema registry $REGISTRY: latest schema of subject 'm-tls-value': HTTP 401: Unauthorized (check schema_registry_user and schema_registry_password)\"]"
check "neither registry password is in any output, log or the history" \
    bash -c "! grep -raq -e '$REG_PASSWORD' -e wrong-Pass-93af '$TMP'/*.out '$TMP'/*.err '$TMP'/*.jsonl '$TMP/c/logs' '$TMP/c/data'"
finish
