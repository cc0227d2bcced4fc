#!/usr/bin/env bash
# Secrets canary: every secret property of several connections holds a
# unique canary (password, a ${env:...} password, librdkafka pass-through
# password, oauth_client_secret, inline ssl_key and its ssl_key_password,
# Event Hubs connection string key, MSK secret key and session token). Then
# validate (good and bad files), describe, describe --resolved, run (a
# success on the embedded cluster; failures: refused logins, a broker
# without Produce), test-connection and executions; the canary must appear
# in none of their stdout/stderr, nor anywhere under the container except
# the one file meant to hold it: data/pem/<sha256>.pem of the inline key.
. "$(dirname "$0")/lib.sh"
need openssl
[ -x "$PYTHON3" ] || skip "python3 not installed"

CANARY=cnry7Q2xZ
sh "$top_srcdir/tests/security/make-test-pki.sh" "$TMP/pki"
C=$TMP/container
DEFS=$TMP/defs
mkdir -p "$C" "$DEFS" "$TMP/outs"
# Debug logging: whatever the connector or librdkafka would log, it logs.
printf 'log.level=debug\n' >"$C/container.properties"

# The servers read this FIFO, which only this script holds open for
# writing: when the script ends they see end of file and stop by themselves.
mkfifo "$TMP/hold"
exec {HOLD}<>"$TMP/hold"
# start_server VAR SCRIPT ARGS...: a tests/security server in the
# background; the port from its READY line in $VAR. Its own output (which
# may hold what clients sent) goes to $TMP/servers, outside the container.
start_server() {
    local var=$1 script=$2 line out; shift 2
    exec {out}< <(exec "$PYTHON3" "$top_srcdir/tests/security/$script" "$@" <"$TMP/hold" 2>&1)
    cleanup_hooks+=("kill $! 2>/dev/null")
    read -r -t 10 line <&"$out" || { echo "$script did not start" >&2; exit 1; }
    printf -v "$var" '%s' "${line#READY }"
}

EH_CS="Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=$CANARY-ehkey"
TLS=(--tls-cert "$TMP/pki/server.pem" --tls-key "$TMP/pki/server.key")
start_server PLAIN fake_kafka_broker.py --mechanisms PLAIN --user "alice:$CANARY-env" \
    --topic orders
start_server MTLS fake_kafka_broker.py "${TLS[@]}" --tls-ca "$TMP/pki/ca.pem" \
    --require-client-cert --topic orders
start_server TOKEN oauth_token_server.py --client-id app --client-secret "$CANARY-oauth"
start_server OAUTH fake_kafka_broker.py --mechanisms OAUTHBEARER --topic orders
# Refuses the connection string: the login failure path with the key in it.
start_server EH fake_kafka_broker.py "${TLS[@]}" --mechanisms PLAIN \
    --user '$ConnectionString:another-string'
start_server MSK fake_kafka_broker.py "${TLS[@]}" --mechanisms OAUTHBEARER \
    --msk-iam-key "AKIDCANARYTEST:$CANARY-awssecret" --msk-iam-region eu-west-1 --topic orders

export CONNRT_CANARY_PW="$CANARY-env"
CA=$(cat "$TMP/pki/ca.pem")
# Explanatory text before the PEM block is allowed (RFC 7468) and kept in the
# written file: the canary then marks the one file meant to hold key material.
KEY="$CANARY-pemkey
$(cat "$TMP/pki/client-enc.key")"

# produce ID CONNECTION, process ID-send: one message to topic orders.
produce() {
    cat <<XML
  <operation id="$1" connection="$2" type="produce">
    <property name="topic">orders</property>
    <property name="message_timeout_ms">3000</property>
  </operation>
  <process id="$1-send"><start/><connector operation="$1"/><output/></process>
XML
}
{
    cat <<XML
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="local" connector="kafka">
    <property name="bootstrap_servers">embedded</property>
    <property name="embedded_topics">orders:1</property>
  </connection>
  <connection id="plain-bad" connector="kafka">
    <property name="bootstrap_servers">localhost:$PLAIN</property>
    <property name="security_protocol">SASL_PLAINTEXT</property>
    <property name="sasl_mechanism">PLAIN</property>
    <property name="username">alice</property>
    <property name="password">$CANARY-password</property>
    <property name="librdkafka.debug">security,conf</property>
  </connection>
  <connection id="plain-env" connector="kafka">
    <property name="bootstrap_servers">localhost:$PLAIN</property>
    <property name="security_protocol">SASL_PLAINTEXT</property>
    <property name="sasl_mechanism">PLAIN</property>
    <property name="username">alice</property>
    <property name="password">\${env:CONNRT_CANARY_PW}</property>
  </connection>
  <connection id="mtls" connector="kafka">
    <property name="bootstrap_servers">localhost:$MTLS</property>
    <property name="security_protocol">SSL</property>
    <property name="ssl_ca">$CA</property>
    <property name="ssl_certificate">$(cat "$TMP/pki/client.pem")</property>
    <property name="ssl_key">$KEY</property>
    <property name="ssl_key_password">keypass</property>
  </connection>
  <connection id="mtls-badpass" connector="kafka">
    <property name="bootstrap_servers">localhost:$MTLS</property>
    <property name="security_protocol">SSL</property>
    <property name="ssl_ca">$CA</property>
    <property name="ssl_certificate">$(cat "$TMP/pki/client.pem")</property>
    <property name="ssl_key">$TMP/pki/client-enc.key</property>
    <property name="ssl_key_password">$CANARY-keypass</property>
  </connection>
  <connection id="mtls-badpem" connector="kafka">
    <property name="bootstrap_servers">localhost:$MTLS</property>
    <property name="security_protocol">SSL</property>
    <property name="ssl_certificate">$(cat "$TMP/pki/client.pem")</property>
    <property name="ssl_key">-----BEGIN PRIVATE KEY-----
$CANARY-notbase64
-----END PRIVATE KEY-----</property>
  </connection>
  <connection id="oauth" connector="kafka">
    <property name="bootstrap_servers">localhost:$OAUTH</property>
    <property name="security_protocol">SASL_PLAINTEXT</property>
    <property name="sasl_mechanism">OAUTHBEARER</property>
    <property name="oauth_token_endpoint">http://127.0.0.1:$TOKEN/token</property>
    <property name="oauth_client_id">app</property>
    <property name="oauth_client_secret">$CANARY-oauth</property>
    <property name="oauth_scopes">kafka</property>
  </connection>
  <connection id="eh" connector="kafka">
    <property name="bootstrap_servers">localhost:$EH</property>
    <property name="preset">event_hubs</property>
    <property name="event_hubs_connection_string">$EH_CS</property>
    <property name="ssl_ca">$CA</property>
  </connection>
  <connection id="msk" connector="kafka">
    <property name="bootstrap_servers">localhost:$MSK</property>
    <property name="preset">msk</property>
    <property name="msk_auth">iam</property>
    <property name="aws_region">eu-west-1</property>
    <property name="aws_access_key_id">AKIDCANARYTEST</property>
    <property name="aws_secret_access_key">$CANARY-awssecret</property>
    <property name="aws_session_token">$CANARY-awstoken</property>
    <property name="ssl_ca">$CA</property>
  </connection>
XML
    produce local-p local
    produce plain-p plain-bad
    produce oauth-p oauth
    produce eh-p eh
    produce msk-p msk
    echo '</connrt>'
} >"$DEFS/secrets.xml"
CONNECTIONS=(local plain-bad plain-env mtls mtls-badpass mtls-badpem oauth eh msk)

# A connection string with no endpoint: refused by validate (a file of its
# own, since one bad connection makes the whole file invalid).
cat >"$DEFS/eh-bad.xml" <<XML
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="eh-bad" connector="kafka">
    <property name="bootstrap_servers">localhost:$EH</property>
    <property name="preset">event_hubs</property>
    <property name="event_hubs_connection_string">SharedAccessKeyName=Root;SharedAccessKey=$CANARY-ehbad</property>
  </connection>
</connrt>
XML

# A bad file: a misspelt secret property, a wrong value next to secrets, an
# unset variable in a secret, and an XML error on a line holding a secret.
cat >"$DEFS/bad.xml" <<XML
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="bad1" connector="kafka">
    <property name="bootstrap_servers">localhost:1</property>
    <property name="pasword">$CANARY-typo</property>
    <property name="security_protocol">SASL_WHATEVER</property>
    <property name="oauth_client_secret">\${env:CONNRT_CANARY_UNSET}</property>
    <property name="librdkafka.ssl.keystore.password">$CANARY-passthrough</property>
    <property name="librdkafka.sasl.password">$CANARY-passthrough2</property>
  </connection>
</connrt>
XML
printf '<connrt xmlns="urn:connrt:definitions:1">\n  <connection id="x" connector="kafka">\n    <property name="password">%s-xml<</property>\n' \
    "$CANARY" >"$DEFS/broken.xml"

n=0
# step STATUS_WANTED ARGS...: run connrt, keep stdout/stderr in $TMP/outs;
# STATUS_WANTED is a number, or "fail" for any non-zero status.
step() {
    local want=$1 status; shift
    n=$((n + 1))
    set +e
    "$CONNRT" "$@" >"$TMP/outs/$n.out" 2>"$TMP/outs/$n.err"
    status=$?
    set -e
    printf '%s\n' "$*" >"$TMP/outs/$n.cmd"
    if [ "$want" = fail ]; then
        check "connrt $1 ${3:-} ${4:-}... fails (status $status)" [ "$status" -ne 0 ]
    else
        check "connrt $1 ${3:-} ${4:-}... exits $want (status $status)" [ "$status" -eq "$want" ]
    fi
    [ "$want" = fail ] || [ "$status" -eq "$want" ] || sed 's/^/    /' "$TMP/outs/$n.err" >&2
}

step 0 validate "$DEFS/secrets.xml"
step 2 validate "$DEFS/bad.xml"
check "bad file: the typo is reported" grep -q "unknown property 'pasword'" "$TMP/outs/$n.err"
step 2 validate "$DEFS/broken.xml"
step 2 validate "$DEFS/secrets.xml" "$DEFS/bad.xml" "$DEFS/broken.xml"
step 0 describe kafka
step 0 describe --container "$C"
for id in "${CONNECTIONS[@]}"; do
    case $id in
        mtls-badpass | mtls-badpem) want=3 ;;
        *) want=0 ;;
    esac
    step $want describe --resolved "$DEFS/secrets.xml" --connection "$id" --container "$C"
    if [ "$id" = mtls-badpass ]; then
        check "wrong key password: said" \
            grep -q "ssl_key_password does not decrypt the private key" "$TMP/outs/$n.err"
    fi
done

echo '{"id":1}' >"$TMP/in.txt"
step 0 run "$DEFS/secrets.xml" --process local-p-send --container "$C" --input "$TMP/in.txt"
for p in plain-p oauth-p eh-p msk-p; do
    step fail run "$DEFS/secrets.xml" --process "$p-send" --container "$C" --input "$TMP/in.txt"
done

step 0 test-connection "$DEFS/secrets.xml" --connection plain-env --container "$C"
step 3 test-connection "$DEFS/secrets.xml" --connection plain-bad --container "$C"
step 0 test-connection "$DEFS/secrets.xml" --connection mtls --container "$C"
step 3 test-connection "$DEFS/secrets.xml" --connection mtls-badpass --container "$C"
step 3 test-connection "$DEFS/secrets.xml" --connection mtls-badpem --container "$C"
check "malformed inline key: said" grep -q "property 'ssl_key': malformed PEM" "$TMP/outs/$n.err"
step 2 validate "$DEFS/eh-bad.xml"
check "eh-bad: the connection string is refused" \
    grep -q "eh-bad.xml:2: connection .eh-bad.: event_hubs_connection_string has no Endpoint" "$TMP/outs/$n.err"
step 2 describe --resolved "$DEFS/eh-bad.xml" --connection eh-bad --container "$C"
step 2 test-connection "$DEFS/eh-bad.xml" --connection eh-bad --container "$C"
step 0 test-connection "$DEFS/secrets.xml" --connection oauth --container "$C"
step 3 test-connection "$DEFS/secrets.xml" --connection eh --container "$C"
check "eh: refused at the credentials stage" grep -q "credentials failed" "$TMP/outs/$n.err"
step 0 test-connection "$DEFS/secrets.xml" --connection msk --container "$C"
step 0 executions --container "$C"
check "history lists the five runs" [ "$(grep -c -- '-send' "$TMP/outs/$n.out")" -ge 5 ]
step 0 executions --container "$C" --json

# ---------------------------------------------------------------- where it is
# Controls: the searches below do find the canary where it is meant to be.
for v in password oauth keypass ehkey ehbad awssecret awstoken pemkey notbase64 typo; do
    check "control: $CANARY-$v is in the definitions" grep -qF -- "$CANARY-$v" "$DEFS"/*.xml
done
check "control: \${env:...} value set" [ "$CONNRT_CANARY_PW" = "$CANARY-env" ]
leaks=$(grep -lF "$CANARY" "$TMP"/outs/*.out "$TMP"/outs/*.err || true)
check "canary in no command output" [ -z "$leaks" ]
for f in $leaks; do
    echo "  leak in $(cat "${f%.*}.cmd") ($f):" >&2
    grep -F "$CANARY" "$f" | head -3 | sed 's/^/    /' >&2
done
check "the container has logs" [ -s "$C/logs/connrt.jsonl" ]
check "the container has history" [ -s "$C/data/history.db" ]
# -a: data/history.db (and its -wal) are searched as text, byte for byte.
found=$(cd "$C" && grep -rlaF "$CANARY" . | sort || true)
pem=$(cd "$C" && grep -rlaF "$CANARY-pemkey" data/pem 2>/dev/null || true)
check "the inline key is in data/pem (mode 600)" \
    sh -c "[ -n '$pem' ] && [ \"\$(stat -c %a '$C/$pem')\" = 600 ]"
check "canary under the container only in ./$pem" [ "$found" = "./$pem" ]
[ "$found" = "./$pem" ] || printf '  canary found in: %s\n' $found >&2
check "the key file holds only the inline key" \
    sh -c "! grep -qF -e '$CANARY-keypass' -e '$CANARY-oauth' -e '$CANARY-password' '$C/$pem'"
finish
