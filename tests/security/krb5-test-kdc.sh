#!/bin/sh
# Throwaway MIT Kerberos KDC on 127.0.0.1 for connrt's tests. Adapted from
# the project's reference helper. Nothing outside DIR is read or written.
#
#   krb5-test-kdc.sh init DIR PORT   create config, database and keytabs
#   krb5-test-kdc.sh run DIR         exec krb5kdc in the foreground, logging
#                                    to stderr ("commencing operation" = ready)
#
# The test that runs the KDC starts it as its child (with a parent-death
# signal), so it stops by itself when the test ends.
#
# Needs (Debian): krb5-kdc (krb5kdc, kdb5_util), krb5-admin-server
# (kadmin.local). Exits 77 (skip) when they are missing.
#
# Realm TEST.LOCAL. Principals and keytabs:
#   kafka/localhost   service          kafka.keytab
#   client, client2   clients          TEST.LOCAL.keytab (both + shortlife),
#                                      client.keytab, client2.keytab
#   shortlife         tickets live 4 s TEST.LOCAL.keytab
#   pwuser            password "pw-secret" (no keytab)
#   other.keytab      holds client2 only (a keytab without "client")
set -eu

cmd=${1:?usage: $0 init DIR PORT | run DIR}
dir=${2:?usage: $0 init DIR PORT | run DIR}
realm=TEST.LOCAL

for tool in krb5kdc kdb5_util kadmin.local; do
    if ! command -v $tool >/dev/null 2>&1 && [ ! -x /usr/sbin/$tool ]; then
        echo "krb5-test-kdc.sh: $tool not installed (apt-get install krb5-kdc krb5-admin-server)" >&2
        exit 77
    fi
done
PATH=$PATH:/usr/sbin
dir=$(cd "$dir" && pwd)
export KRB5_CONFIG="$dir/krb5.conf"
export KRB5_KDC_PROFILE="$dir/kdc.conf"

if [ "$cmd" = run ]; then
    exec krb5kdc -n -r "$realm"
fi
[ "$cmd" = init ] || { echo "unknown command $cmd" >&2; exit 2; }
port=${3:?usage: $0 init DIR PORT}

cat >"$dir/krb5.conf" <<CONF
[libdefaults]
    default_realm = $realm
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    ticket_lifetime = 1h
    renew_lifetime = 1d
    forwardable = true
    kdc_timeout = 2000
    max_retries = 1
    # No default_ccache_name / default_client_keytab_name: the code under
    # test must bring its own cache and keytab.

[realms]
    $realm = {
        kdc = 127.0.0.1:$port
        admin_server = 127.0.0.1:1
    }
    NOKDC.LOCAL = {
        kdc = 127.0.0.1:1
    }

[domain_realm]
    localhost = $realm
    .localhost = $realm
CONF

cat >"$dir/kdc.conf" <<CONF
[kdcdefaults]
    kdc_listen = 127.0.0.1:$port
    kdc_tcp_listen = 127.0.0.1:$port

[realms]
    $realm = {
        database_name = $dir/principal
        key_stash_file = $dir/stash
        acl_file = $dir/kadm5.acl
        max_life = 1h
        max_renewable_life = 1d
        master_key_type = aes256-cts-hmac-sha1-96
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }

[logging]
    kdc = STDERR
    default = FILE:$dir/krb5lib.log
CONF
: >"$dir/kadm5.acl"

kdb5_util -r "$realm" -P "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
    create -s >"$dir/kdb5_util.out" 2>&1

# -norandkey keeps the keys (and kvno) addprinc made, so keytabs agree.
kadmin.local -r "$realm" >"$dir/kadmin.out" 2>&1 <<ADMIN
addprinc -randkey kafka/localhost@$realm
addprinc -randkey client@$realm
addprinc -randkey client2@$realm
addprinc -randkey -maxlife "4 seconds" shortlife@$realm
addprinc -pw pw-secret pwuser@$realm
ktadd -norandkey -k $dir/$realm.keytab client@$realm client2@$realm shortlife@$realm
ktadd -norandkey -k $dir/kafka.keytab kafka/localhost@$realm
ktadd -norandkey -k $dir/client.keytab client@$realm
ktadd -norandkey -k $dir/client2.keytab client2@$realm
ktadd -norandkey -k $dir/other.keytab client2@$realm
ADMIN
chmod 600 "$dir"/*.keytab
