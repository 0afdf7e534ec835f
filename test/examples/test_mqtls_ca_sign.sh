#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mqtls-ca-sign signs good bundles, refuses bad ones with the reason, and
# its exit status tells success, failure and usage apart. (Devices
# verifying its output: test/integration/test_rollover.c.)
set -u
bin=$1
certs=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 total=0
expect() { # expect STATUS "TEXT" ARGS...
    want_status=$1 want_text=$2
    shift 2
    total=$((total + 1))
    out=$("$bin" "$@" 2>&1)
    status=$?
    if [ "$status" -ne "$want_status" ] || ! printf '%s\n' "$out" | grep -qF "$want_text"; then
        echo "FAIL mqtls-ca-sign $*: status $status, output:"
        printf '%s\n' "$out" | sed 's/^/    /'
        fail=$((fail + 1))
    fi
}
expect 0 "update version 7, 2 CA certificates" -k "$certs/update-signer.key" -V 7 -o "$tmp/u.bin" \
    "$certs/root-a.crt" "$certs/root-b.crt"
# 8 tag + 4 version + 8 expiry + 4 length + bundle + 2 + signature (70..72)
size=$(wc -c <"$tmp/u.bin")
want=$(($(cat "$certs/root-a.crt" "$certs/root-b.crt" | wc -c) + 26))
total=$((total + 1))
if [ "$size" -lt $((want + 68)) ] || [ "$size" -gt $((want + 72)) ]; then
    echo "FAIL update size $size, expected $want plus a signature"; fail=$((fail + 1))
fi
total=$((total + 1))
if [ "$(head -c 8 "$tmp/u.bin")" != "MQCAUPD1" ]; then echo "FAIL update tag"; fail=$((fail + 1)); fi
expect 1 "certificate 2 of the bundle: a certificate in the CA bundle is not a CA certificate" \
    -k "$certs/update-signer.key" -V 8 -o "$tmp/bad.bin" "$certs/root-a.crt" "$certs/server-a.crt"
expect 1 "cannot sign with $certs/server-rsa.key" -k "$certs/server-rsa.key" -V 8 -o "$tmp/bad.bin" \
    "$certs/root-a.crt"
expect 1 "cannot read /nonexistent" -k "$certs/update-signer.key" -V 8 -o "$tmp/bad.bin" /nonexistent
expect 2 "usage" -k "$certs/update-signer.key" -o "$tmp/bad.bin" "$certs/root-a.crt"
expect 2 "usage" -k "$certs/update-signer.key" -V 0 -o "$tmp/bad.bin" "$certs/root-a.crt"
echo "mqtls-ca-sign: $((total - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
