#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A SoftHSM token of a test's own, in DIR (nothing shared with another
# test or the machine): DIR/softhsm2.conf, token "mqtls" (user PIN 1234,
# SO PIN 5678) holding an ECDSA P-256 key pair made inside it, "device"
# (id 01: sensitive, never extractable), and DIR/device.crt, a client
# certificate for that key (CN=device-hsm) from the test PKI's Root A,
# made from the public half only.
# Usage: test/integration/pkcs11_token.sh DIR CERTS
set -eu
dir=$1 certs=$2
module=/usr/lib/softhsm/libsofthsm2.so
mkdir -p "$dir/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$dir" \
    >"$dir/softhsm2.conf"
export SOFTHSM2_CONF="$dir/softhsm2.conf"
softhsm2-util --init-token --free --label mqtls --pin 1234 --so-pin 5678 >/dev/null
pkcs11-tool --module "$module" --token-label mqtls --login --pin 1234 --keypairgen \
    --key-type EC:prime256v1 --label device --id 01 >/dev/null 2>&1
pkcs11-tool --module "$module" --token-label mqtls --read-object --type pubkey --label device \
    -o "$dir/device.pub.der" >/dev/null 2>&1
openssl pkey -pubin -inform DER -in "$dir/device.pub.der" -out "$dir/device.pub.pem"
printf 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' \
    >"$dir/client.ext"
openssl x509 -new -subj "/CN=device-hsm" -force_pubkey "$dir/device.pub.pem" \
    -CA "$certs/root-a.crt" -CAkey "$certs/root-a.key" -days 30 -extfile "$dir/client.ext" \
    -out "$dir/device.crt" 2>/dev/null
