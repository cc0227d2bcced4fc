#!/usr/bin/env bash
# `connrt test-connection` over TLS and SASL against the local login broker
# (tests/security/fake_kafka_broker.py): a good login lists brokers and
# topics; each failure names its stage (resolve, TCP connect, TLS, SASL
# mechanism, credentials, authorization); inline PEM lands in the
# container's data/pem/ with mode 0600; no secret is printed.
. "$(dirname "$0")/lib.sh"
need openssl
[ -x "$PYTHON3" ] || skip "python3 not installed"

CANARY='Canary-Cli-Secret-42'
sh "$top_srcdir/tests/security/make-test-pki.sh" "$TMP/pki"
C=$TMP/container
mkdir -p "$C/deploy"
: >"$C/container.properties"

# The brokers read this FIFO, which only this script holds open for writing:
# when the script ends, they see end of file and stop by themselves.
mkfifo "$TMP/hold"
exec {HOLD}<>"$TMP/hold"

# start_broker VAR ARGS...: a login broker in the background; its port in $VAR.
start_broker() {
    local var=$1 line out; shift
    exec {out}< <(exec "$PYTHON3" "$top_srcdir/tests/security/fake_kafka_broker.py" "$@" \
        <"$TMP/hold" 2>&1)
    cleanup_hooks+=("kill $! 2>/dev/null")
    read -r -t 10 line <&"$out" || { echo "broker did not start" >&2; exit 1; }
    printf -v "$var" '%s' "${line#READY }"
}

TLS=(--tls-cert "$TMP/pki/server.pem" --tls-key "$TMP/pki/server.key")
start_broker GOOD "${TLS[@]}" --mechanisms PLAIN --user "alice:wonderland" --topic orders
start_broker EXPIRED --tls-cert "$TMP/pki/expired.pem" --tls-key "$TMP/pki/expired.key" \
    --mechanisms PLAIN --user "alice:wonderland"
start_broker DENY --mechanisms PLAIN --user "alice:wonderland" --topic orders \
    --deny-topic payroll

# connection ID SERVERS PROTOCOL MECHANISM PASSWORD: one connection element.
connection() {
    cat <<EOF
  <connection id="$1" connector="kafka">
    <property name="bootstrap_servers">$2</property>
    <property name="security_protocol">$3</property>
    <property name="sasl_mechanism">$4</property>
    <property name="username">alice</property>
    <property name="password">$5</property>
EOF
    if [ "$3" = SASL_SSL ]; then
        printf '    <property name="ssl_ca">%s</property>\n' "$(cat "$TMP/pki/ca.pem")"
    fi
    echo '  </connection>'
}
{
    echo '<connrt xmlns="urn:connrt:definitions:1">'
    connection ok "localhost:$GOOD" SASL_SSL PLAIN wonderland
    connection resolve "no-such-host.invalid:9092" SASL_SSL PLAIN wonderland
    connection tcp "127.0.0.1:1" SASL_SSL PLAIN wonderland
    connection tls "localhost:$EXPIRED" SASL_SSL PLAIN wonderland
    connection mechanism "localhost:$GOOD" SASL_SSL SCRAM-SHA-512 wonderland
    connection credentials "localhost:$GOOD" SASL_SSL PLAIN "$CANARY"
    connection authorization "localhost:$DENY" SASL_PLAINTEXT PLAIN wonderland
    echo '</connrt>'
} >"$TMP/connections.xml"

run_connrt status test-connection "$TMP/connections.xml" --connection ok --container "$C"
if grep -q "not supported yet" "$TMP/err"; then
    skip "connection.c does not call kafka_security_configure yet"
fi
check "good login: exit 0" [ "$status" -eq 0 ]
check "good login: OK line" grep -q "connection 'ok': OK" "$TMP/out"
check "good login: SASL line" grep -q "SASL: PLAIN login ok" "$TMP/out"
check "good login: topic listed" grep -q "topic orders: 1 partition(s)" "$TMP/out"
pem=$(ls "$C"/data/pem/*.pem 2>/dev/null | head -1)
check "inline CA written to data/pem" [ -n "$pem" ]
check "PEM file mode 600" [ "$(stat -c %a "$pem")" = 600 ]
check "PEM directory mode 700" [ "$(stat -c %a "$C/data/pem")" = 700 ]
check "PEM file named by the SHA-256 of its content" [ "$(basename "$pem" .pem)" = \
    "$(sha256sum <"$pem" | cut -d' ' -f1)" ]
check "PEM file holds the CA" grep -q "$(sed -n 2p "$TMP/pki/ca.pem")" "$pem"

# expect_stage ID TEXT: test-connection fails (exit 3) and stderr names the stage.
expect_stage() {
    run_connrt status test-connection "$TMP/connections.xml" --connection "$1" --container "$C"
    check "$1: exit 3" [ "$status" -eq 3 ]
    check "$1: '$2'" grep -q "$2" "$TMP/err"
    check "$1: no secret in output" bash -c "! grep -q '$CANARY' '$TMP/out' '$TMP/err'"
}
expect_stage resolve "resolve failed: cannot resolve broker host 'no-such-host.invalid'"
expect_stage tcp "TCP connect failed: nothing accepts connections at 127.0.0.1:1"
expect_stage tls "TLS failed: the broker's certificate .* expired on"
expect_stage mechanism "SASL mechanism failed: the broker does not offer SCRAM-SHA-512"
expect_stage credentials "credentials failed: the broker refused the PLAIN login"
expect_stage authorization \
    "authorization failed: logged in, but not allowed to describe topic 'payroll'"
check "no secret in container files" bash -c "! grep -rq '$CANARY' '$C'"
finish
