#!/usr/bin/env bash
# A Consume operation logs in with its connection's security context: over
# OAUTHBEARER it gets its token from the local endpoint (/stats counts the
# request) and the login broker accepts it (EVENT auth ok); over GSSAPI it
# gets a ticket from a throwaway KDC (skipped without python3-gssapi). The
# login broker speaks Metadata only, so the consume then fails for lack of
# group coordination: the test accepts that failure, with its message.
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON3" ] || skip "python3 not installed"

mkfifo "$TMP/hold"
exec {HOLD}<>"$TMP/hold"
# start_server VAR LOG SCRIPT ARGS...: a tests/security server; its port in
# $VAR, its output in LOG (read with wait_until, no sleeps).
start_server() {
    local var=$1 log=$2 script=$3; shift 3
    "$PYTHON3" "$top_srcdir/tests/security/$script" "$@" <"$TMP/hold" >"$log" 2>&1 &
    cleanup_hooks+=("kill $! 2>/dev/null")
    wait_until 10 grep -q '^READY ' "$log" || { echo "$script did not start" >&2; cat "$log" >&2; exit 1; }
    printf -v "$var" '%s' "$(sed -n 's/^READY //p' "$log" | head -1)"
}

# consume_xml ID CONNECTION-PROPERTIES: a connection, a consume on it, process ID-read.
consume_xml() {
    cat <<XML
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="$1" connector="kafka">
$2
  </connection>
  <operation id="read" connection="$1" type="consume">
    <property name="topic">orders</property>
    <property name="consumer_group">g1</property>
    <property name="max_wait_ms">1000</property>
  </operation>
  <process id="$1-read"><start operation="read"/><output/></process>
</connrt>
XML
}

# ---------------------------------------------------------------- OAuth
start_server TOKEN "$TMP/token.log" oauth_token_server.py --client-id app --client-secret s3
start_server OAUTH "$TMP/oauth.log" fake_kafka_broker.py --mechanisms OAUTHBEARER --topic orders
consume_xml oauth "    <property name=\"bootstrap_servers\">localhost:$OAUTH</property>
    <property name=\"security_protocol\">SASL_PLAINTEXT</property>
    <property name=\"sasl_mechanism\">OAUTHBEARER</property>
    <property name=\"oauth_token_endpoint\">http://127.0.0.1:$TOKEN/token</property>
    <property name=\"oauth_client_id\">app</property>
    <property name=\"oauth_client_secret\">s3</property>
    <property name=\"oauth_scopes\">kafka</property>" >"$TMP/oauth.xml"
run_connrt status run "$TMP/oauth.xml" --process oauth-read
stats=$("$PYTHON3" -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
    "http://127.0.0.1:$TOKEN/stats")
check "oauth: the consumer asked the endpoint for a token ($stats)" \
    "$PYTHON3" -c 'import json, sys; s = json.loads(sys.argv[1]); sys.exit(0 if s["issued"] >= 1 else 1)' "$stats"
check "oauth: the broker accepted the consumer's token" \
    grep -q "^EVENT auth ok mechanism=OAUTHBEARER principal=app" "$TMP/oauth.log"
check "oauth: no failed login" sh -c "! grep -q '^EVENT auth fail' '$TMP/oauth.log'"
check "oauth: the consume fails (exit 3, status $status)" [ "$status" -eq 3 ]
check "oauth: for lack of a group assignment, said plainly" \
    grep -q "operation 'read' failed: consumer group 'g1' got no partition assignment" "$TMP/err"
check "oauth: no token error" sh -c "! grep -q 'OAuth:' '$TMP/err'"

# ---------------------------------------------------------------- Kerberos
if ! "$PYTHON3" -c 'import gssapi' 2>/dev/null || ! command -v krb5kdc >/dev/null 2>&1; then
    echo "Kerberos part skipped: python3-gssapi or krb5-kdc missing"
    finish
    exit 0
fi
KDC=$TMP/kdc
mkdir -p "$KDC"
port=$("$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sh "$top_srcdir/tests/security/krb5-test-kdc.sh" init "$KDC" "$port" >/dev/null
sh "$top_srcdir/tests/security/krb5-test-kdc.sh" run "$KDC" <"$TMP/hold" >"$TMP/kdc.log" 2>&1 &
cleanup_hooks+=("kill $! 2>/dev/null")
wait_until 10 grep -q "commencing operation" "$TMP/kdc.log" || { cat "$TMP/kdc.log" >&2; exit 1; }
C=$TMP/container
mkdir -p "$C/resources"
cp "$KDC/TEST.LOCAL.keytab" "$KDC/krb5.conf" "$C/resources/"
KRB5_CONFIG=$KDC/krb5.conf start_server KRB "$TMP/krb.log" fake_kafka_broker.py \
    --mechanisms GSSAPI --keytab "$KDC/kafka.keytab" --topic orders
consume_xml krb "    <property name=\"bootstrap_servers\">localhost:$KRB</property>
    <property name=\"security_protocol\">SASL_PLAINTEXT</property>
    <property name=\"sasl_mechanism\">GSSAPI</property>
    <property name=\"client_principal\">client@TEST.LOCAL</property>" >"$TMP/krb.xml"
# kinit out of reach: the ticket must come from the krb5 API.
PATH=/nonexistent:$(dirname "$CONNRT") run_connrt status run "$TMP/krb.xml" --process krb-read \
    --container "$C"
check "gssapi: the broker accepted the consumer's ticket" \
    grep -q "^EVENT auth ok mechanism=GSSAPI principal=client@TEST.LOCAL" "$TMP/krb.log"
check "gssapi: the consume fails (exit 3, status $status)" [ "$status" -eq 3 ]
check "gssapi: for lack of a group assignment" \
    grep -q "consumer group 'g1' got no partition assignment" "$TMP/err"
finish
