#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Generates the mqtls test PKI into OUT (default ../build/certs), fresh each
# run, so nothing that can expire is ever committed. See certs/README.md for
# what each file is for. Needs only openssl.
set -eu
out=${1:-../build/certs}
tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
cd "$tmp"
trap 'rm -rf "$tmp"' EXIT

SAN_LOCAL="DNS:localhost,IP:127.0.0.1,IP:::1"
# The configs read the subjectAltName from $SAN; issue() sets it per leaf.
SAN=$SAN_LOCAL
export SAN
PASS=mqtls-test # passphrase of the encrypted client keys

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" 2>/dev/null; }
rsa1024_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$1.key" 2>/dev/null; }

# One directory and config per issuing CA, so `openssl ca` can set exact
# validity dates and keep an index for revocation.
ca_config() { # NAME
    mkdir -p "db/$1"
    : >"db/$1/index.txt"
    echo 1000 >"db/$1/serial"
    echo 1000 >"db/$1/crlnumber"
    cat >"db/$1/ca.cnf" <<EOF
[ ca ]
default_ca = this_ca
[ this_ca ]
dir = db/$1
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
certificate = $1.crt
private_key = $1.key
default_md = sha256
default_days = 825
default_crl_days = 30
policy = policy_any
unique_subject = no
email_in_dn = no
[ policy_any ]
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
[ v3_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_server ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = \$ENV::SAN
[ v3_client ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
}

# A self-signed root: NAME KEYTYPE "CN"
root() {
    "$2_key" "$1"
    ca_config "$1"
    openssl req -x509 -new -key "$1.key" -subj "/CN=$3" -days 3650 \
        -config "db/$1/ca.cnf" -extensions v3_root -out "$1.crt"
}

# A certificate: ISSUER NAME KEYTYPE "CN" EXTENSIONS [openssl ca options]
# (subjectAltName: $LEAF_SAN if set, else localhost and loopback)
issue() {
    issuer=$1 name=$2 kt=$3 cn=$4 ext=$5
    shift 5
    SAN=${LEAF_SAN:-$SAN_LOCAL}
    [ -f "$name.key" ] || "${kt}_key" "$name"
    openssl req -new -key "$name.key" -subj "/CN=$cn" -config "db/$issuer/ca.cnf" \
        -out "$name.csr"
    openssl ca -batch -notext -config "db/$issuer/ca.cnf" \
        -extensions "$ext" -in "$name.csr" -out "$name.crt" "$@" 2>/dev/null
    rm -f "$name.csr"
}

# Roots: the current one, the next one (for rollover), an unrelated one, a
# fake with the current root's exact subject and another key, an RSA one.
root root-a ec "mqtls Test Root A"
root root-b ec "mqtls Test Root B"
root other-ca ec "mqtls Unrelated CA"
root fake-root-a ec "mqtls Test Root A"
root root-rsa rsa "mqtls Test Root RSA"

# The next root cross-signed by the current one.
ec_key root-b-cross
cp root-b.key root-b-cross.key
issue root-a root-b-cross ec "mqtls Test Root B" v3_ca -days 3650

# An intermediate under the current root.
issue root-a intermediate-a ec "mqtls Test Intermediate A" v3_ca -days 1825
ca_config intermediate-a

# Servers (SAN localhost, 127.0.0.1, ::1 unless said otherwise).
issue intermediate-a server-a ec broker v3_server
cat server-a.crt intermediate-a.crt >server-a-chain.pem
issue root-b server-b ec broker v3_server
LEAF_SAN="DNS:broker.example"
issue root-a server-wrong-host ec broker.example v3_server
LEAF_SAN=
issue root-a server-expired ec broker v3_server -startdate 20200101000000Z -enddate 20210131000000Z
issue root-a server-not-yet-valid ec broker v3_server -startdate 20990101000000Z -enddate 21000101000000Z
issue fake-root-a server-fake ec broker v3_server
issue root-rsa server-rsa rsa broker v3_server
issue root-rsa server-weak rsa1024 broker v3_server

# Clients: device ids under the current root, and the bad ones.
issue root-a device-001 ec device-001 v3_client
issue root-a device-002 ec device-002 v3_client
# Onboarding: the claim certificate every device ships with (allowed only
# on provisioning topics), and the provisioning service's own identity.
issue root-a claim ec claim v3_client
issue root-a provisioner ec provisioner v3_client
issue other-ca device-untrusted ec device-untrusted v3_client
issue root-a device-expired ec device-expired v3_client -startdate 20200101000000Z -enddate 20210131000000Z
issue root-a device-revoked ec device-revoked v3_client
openssl ca -batch -config db/root-a/ca.cnf -revoke device-revoked.crt 2>/dev/null
openssl ca -batch -config db/root-a/ca.cnf -gencrl -out root-a.crl 2>/dev/null
issue root-rsa device-rsa rsa device-rsa v3_client

# Encrypted copies of a client key: PKCS#8 (PBES2 with 3DES: mbedTLS 2.28
# reads PBES2 only with DES ciphers) and the
# traditional PEM encryption, both with passphrase $PASS.
openssl pkcs8 -topk8 -v2 des3 -v2prf hmacWithSHA256 -in device-001.key -passout "pass:$PASS" \
    -out device-001.p8.enc.key
openssl ec -in device-001.key -aes256 -passout "pass:$PASS" -out device-001.pem.enc.key 2>/dev/null

# DER forms, for the DER loading paths.
for f in root-a root-b device-001; do
    openssl x509 -in "$f.crt" -outform DER -out "$f.der"
done
openssl pkey -in device-001.key -outform DER -out device-001.key.der

# Trust bundles.
cp root-a.crt bundle-current.pem
cp root-b.crt bundle-next.pem
cat root-a.crt root-b.crt >bundle-both.pem
cat other-ca.crt root-a.crt >bundle-other-then-current.pem
cat root-a.crt root-b.crt root-rsa.crt >bundle-all.pem

# CA-update signing keys (ECDSA P-256): the one devices trust, and an
# impostor. Devices hold only the public half.
for f in update-signer other-signer; do
    ec_key "$f"
    openssl pkey -in "$f.key" -pubout -out "$f.pub" 2>/dev/null
done

rm -rf db
chmod 600 ./*.key
cd - >/dev/null
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "certs: test PKI written to $out"
