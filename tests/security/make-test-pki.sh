#!/bin/sh
# Throwaway PKI for connrt's loopback TLS tests (openssl 3, Debian package
# openssl). Adapted from the project's reference helper.
#   make-test-pki.sh DIR
# Writes into DIR (created, mode 0700):
#   ca.pem ca.key                 self-signed CA (CN=connrt-test-ca)
#   server.pem server.key         CN=localhost, SAN DNS:localhost,IP:127.0.0.1
#   expired.pem expired.key       like server.pem, but expired yesterday
#   wronghost.pem wronghost.key   CN/SAN wrong.example (hostname mismatch)
#   client.pem client.key         CN=connrt-client (clientAuth)
#   client-enc.key                client.key encrypted, password "keypass"
#   other-ca.pem                  an unrelated CA (negative tests)
#   other-client.pem/.key         client certificate issued by other-ca
# EC P-256 keys: whole run ~0.2 s. Validity 2 days.
set -eu
d=${1:?usage: $0 DIR}
mkdir -p "$d"
chmod 700 "$d"
cd "$d"
umask 077

ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"

ca() { # NAME CN
    openssl req -x509 $ec -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

leaf() { # NAME CN CA DAYS EXT
    printf '%s\n' "basicConstraints=CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "$5" >"$1.ext"
    openssl req -new $ec -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
    # -days -1: notAfter before now, i.e. already expired.
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
        -days "$4" -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}

ca ca connrt-test-ca
ca other-ca connrt-other-ca
server_ext="extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
leaf server localhost ca 2 "$server_ext"
leaf expired localhost ca -1 "$server_ext"
leaf wronghost wrong.example ca 2 "extendedKeyUsage=serverAuth
subjectAltName=DNS:wrong.example"
leaf client connrt-client ca 2 "extendedKeyUsage=clientAuth"
leaf other-client connrt-other-client other-ca 2 "extendedKeyUsage=clientAuth"

openssl pkey -in client.key -aes256 -passout pass:keypass -out client-enc.key
rm -f ./*.csr ./*.ext ./*.srl
chmod 600 ./*
openssl verify -CAfile ca.pem server.pem client.pem wronghost.pem >/dev/null
