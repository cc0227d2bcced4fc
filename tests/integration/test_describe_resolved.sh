#!/usr/bin/env bash
# `connrt describe --resolved FILES... --connection ID`: the librdkafka
# settings a connection will use, presets applied with their reasons,
# secrets shown as [redacted], no broker contacted (every broker here is a
# name that resolves nowhere). Event Hubs and MSK checked by eye, by test.
. "$(dirname "$0")/lib.sh"

KEY='Key-Canary-9f3b1c+/='
SECRET='Aws-Canary-7e21d0'
cat >"$TMP/c.xml" <<XML
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="eh" connector="kafka">
    <property name="bootstrap_servers">myns.servicebus.windows.net</property>
    <property name="preset">event_hubs</property>
    <property name="event_hubs_connection_string">Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=$KEY</property>
  </connection>
  <connection id="eh-nobs" connector="kafka">
    <property name="preset">event_hubs</property>
    <property name="event_hubs_connection_string">Endpoint=sb://otherns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=$KEY</property>
  </connection>
  <connection id="eh-aad-nobs" connector="kafka">
    <property name="preset">event_hubs</property>
    <property name="event_hubs_namespace">aadns</property>
    <property name="azure_tenant_id">contoso-tenant</property>
    <property name="oauth_client_id">app-1</property>
    <property name="oauth_client_secret">$SECRET</property>
  </connection>
  <connection id="eh-aad" connector="kafka">
    <property name="bootstrap_servers">myns.servicebus.windows.net</property>
    <property name="preset">event_hubs</property>
    <property name="event_hubs_namespace">myns</property>
    <property name="azure_tenant_id">contoso-tenant</property>
    <property name="oauth_client_id">app-1</property>
    <property name="oauth_client_secret">$SECRET</property>
  </connection>
  <connection id="msk" connector="kafka">
    <property name="bootstrap_servers">b-1.demo.abc.c2.kafka.eu-west-1.amazonaws.com,b-2.demo.abc.c2.kafka.eu-west-1.amazonaws.com</property>
    <property name="preset">msk</property>
    <property name="msk_auth">iam</property>
    <property name="aws_access_key_id">AKIDEXAMPLE</property>
    <property name="aws_secret_access_key">$SECRET</property>
  </connection>
  <connection id="msk-scram" connector="kafka">
    <property name="bootstrap_servers">b-1.demo.abc.c2.kafka.eu-west-1.amazonaws.com</property>
    <property name="preset">msk</property>
    <property name="msk_auth">scram</property>
    <property name="username">msk-user</property>
    <property name="password">$SECRET</property>
    <property name="librdkafka.reconnect.backoff.ms">250</property>
  </connection>
</connrt>
XML
# A bad connection in a file of its own: one bad connection makes the whole
# file invalid.
cat >"$TMP/bad.xml" <<XML
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="eh-bad" connector="kafka">
    <property name="bootstrap_servers">myns.servicebus.windows.net</property>
    <property name="preset">event_hubs</property>
    <property name="event_hubs_connection_string">SharedAccessKeyName=Root;SharedAccessKey=$KEY</property>
  </connection>
</connrt>
XML

# has LINE: stdout holds exactly this line (fixed string, whole line).
has() { grep -qxF -- "$1" "$TMP/out"; }
no_secret() { ! grep -qF -e "$KEY" -e "$SECRET" "$TMP/out" "$TMP/err"; }

# ---------------------------------------------------------------- Event Hubs
run_connrt status describe --resolved "$TMP/c.xml" --connection eh
[ "$status" -eq 0 ] || cat "$TMP/err" >&2
check "eh: exit 0" [ "$status" -eq 0 ]
check "eh: header names the connection" grep -q "^connection 'eh' (connector kafka)" "$TMP/out"
check "eh: namespace port 9093" has "  bootstrap.servers = myns.servicebus.windows.net:9093"
check "eh: SASL_SSL" grep -qx "  security.protocol = sasl_ssl (.*)" "$TMP/out"
check "eh: PLAIN" has "  sasl.mechanisms = PLAIN"
check "eh: user \$ConnectionString" has "  sasl.username = \$ConnectionString"
check "eh: password redacted" has "  sasl.password = [redacted]"
check "eh: host names checked" \
    grep -qx "  ssl.endpoint.identification.algorithm = https (.*)" "$TMP/out"
# Microsoft's recommended settings, each with its reason in parentheses.
for s in "message.max.bytes = 1000000 (Event Hubs closes the connection" \
         "socket.keepalive.enable = true (Azure closes inbound TCP connections idle" \
         "connections.max.idle.ms = 180000 (" "metadata.max.age.ms = 180000 (" \
         "request.timeout.ms = 60000 (" "session.timeout.ms = 30000 (" \
         "heartbeat.interval.ms = 3000 ("; do
    check "eh: recommended '${s%% (*}' with its reason" grep -qF "  $s" "$TMP/out"
done
check "eh: the key is not shown" no_secret

run_connrt status describe --resolved "$TMP/c.xml" --connection eh-aad
[ "$status" -eq 0 ] || cat "$TMP/err" >&2
check "eh-aad: exit 0" [ "$status" -eq 0 ]
check "eh-aad: OAUTHBEARER" has "  sasl.mechanisms = OAUTHBEARER"
check "eh-aad: namespace scope" grep -qF "https://myns.servicebus.windows.net/.default" "$TMP/out"
check "eh-aad: tenant token endpoint" \
    grep -qF "https://login.microsoftonline.com/contoso-tenant/oauth2/v2.0/token" "$TMP/out"
check "eh-aad: client secret not shown" no_secret

# Event Hubs without bootstrap_servers: the namespace names the brokers.
run_connrt status describe --resolved "$TMP/c.xml" --connection eh-nobs
check "eh, no bootstrap_servers: exit 0" [ "$status" -eq 0 ]
check "eh, no bootstrap_servers: the connection string's namespace, port 9093" \
    has "  bootstrap.servers = otherns.servicebus.windows.net:9093"
run_connrt status describe --resolved "$TMP/c.xml" --connection eh-aad-nobs
check "eh-aad, no bootstrap_servers: event_hubs_namespace, port 9093" \
    has "  bootstrap.servers = aadns.servicebus.windows.net:9093"
check "eh, no bootstrap_servers: no secret shown" no_secret
cat >"$TMP/nobs.xml" <<'XML'
<connrt xmlns="urn:connrt:definitions:1">
  <connection id="no-bs" connector="kafka">
    <property name="client_id">x</property>
  </connection>
</connrt>
XML
run_connrt status describe --resolved "$TMP/nobs.xml" --connection no-bs
check "no preset, no bootstrap_servers: exit 2" [ "$status" -eq 2 ]
check "no preset, no bootstrap_servers: says it is required, at its line" \
    grep -q "nobs.xml:2: connection 'no-bs': missing required property 'bootstrap_servers'" \
    "$TMP/err"

# ---------------------------------------------------------------- MSK
run_connrt status describe --resolved "$TMP/c.xml" --connection msk
[ "$status" -eq 0 ] || cat "$TMP/err" >&2
check "msk iam: exit 0" [ "$status" -eq 0 ]
check "msk iam: port 9098 on every broker" has "  bootstrap.servers = b-1.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9098"
check "msk iam: SASL_SSL" grep -qx "  security.protocol = sasl_ssl (.*)" "$TMP/out"
check "msk iam: OAUTHBEARER" has "  sasl.mechanisms = OAUTHBEARER"
check "msk iam: region from the broker names, with the token's reason" \
    grep -qx "  (connrt) msk iam region = eu-west-1 (SigV4-presigned .*)" "$TMP/out"
check "msk iam: secret key not shown" no_secret

run_connrt status describe --resolved "$TMP/c.xml" --connection msk-scram
[ "$status" -eq 0 ] || cat "$TMP/err" >&2
check "msk scram: exit 0" [ "$status" -eq 0 ]
check "msk scram: port 9096" \
    has "  bootstrap.servers = b-1.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9096"
check "msk scram: SCRAM-SHA-512" has "  sasl.mechanisms = SCRAM-SHA-512"
check "msk scram: password redacted" has "  sasl.password = [redacted]"
check "msk scram: librdkafka pass-through shown" has "  reconnect.backoff.ms = 250"
check "msk scram: password not shown" no_secret

# ---------------------------------------------------------------- errors
run_connrt status describe --resolved "$TMP/bad.xml" --connection eh-bad
check "malformed connection string: refused as a bad definition, exit 2" [ "$status" -eq 2 ]
check "malformed connection string: names the file and line" \
    grep -q "bad.xml:2: connection 'eh-bad': event_hubs_connection_string" "$TMP/err"
check "malformed connection string: names the missing part" grep -q "Endpoint" "$TMP/err"
check "malformed connection string: key not echoed" no_secret
run_connrt status describe --resolved "$TMP/c.xml"
check "no --connection: exit 2" [ "$status" -eq 2 ]
check "no --connection: says so" grep -q "needs --connection ID" "$TMP/err"
run_connrt status describe --resolved "$TMP/c.xml" --connection nope
check "unknown connection: exit 2" [ "$status" -eq 2 ]
check "unknown connection: lists the known ones" \
    grep -q "no connection 'nope' (connections: eh, eh-nobs, eh-aad-nobs, eh-aad" "$TMP/err"
finish
