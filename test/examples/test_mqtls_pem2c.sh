#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mqtls-pem2c round trip: for a PEM bundle, a DER certificate, a PEM key
# and a DER key, the generated array compiles, holds the input byte for
# byte (PEM plus its NUL), and parses to the same certificates (SHA-256 of
# each DER, against openssl's); the comment names each certificate with
# that fingerprint; bad input and bad usage fail with their status.
set -u
bin=$1 certs=$2 cc=$3 cflags=$4 libs=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 total=0
bad() { echo "FAIL mqtls-pem2c: $*"; fail=$((fail + 1)); }

# The SHA-256 fingerprints of each certificate in a PEM or DER file, as openssl sees them.
fingerprints() {
    if grep -q "BEGIN CERTIFICATE" "$1" 2>/dev/null; then
        awk -v dir="$tmp" '/BEGIN CERTIFICATE/ { n++ } n { print > (dir "/split." n ".pem") }' "$1"
        for p in "$tmp"/split.*.pem; do
            openssl x509 -in "$p" -noout -fingerprint -sha256 | sed 's/.*=//'
        done
        rm -f "$tmp"/split.*.pem
    elif [ "$2" = cert ]; then
        openssl x509 -inform DER -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'
    fi
}

roundtrip() { # roundtrip FILE NAME KIND(cert|key) PEM(1|0)
    file=$1 name=$2 kind=$3 pem=$4
    total=$((total + 1))
    if ! "$bin" -n "$name" -o "$tmp/$name" "$file" >"$tmp/out" 2>&1; then
        bad "$file: $(cat "$tmp/out")"; return
    fi
    # shellcheck disable=SC2086  # flags and libraries are lists
    if ! $cc $cflags -DARR="$name" -DARR_LEN="${name}_len" -include "$tmp/$name.h" \
        test/examples/pem2c_check.c "$tmp/$name.c" $libs -o "$tmp/check_$name" 2>"$tmp/cc"; then
        bad "$file: the generated source does not compile: $(cat "$tmp/cc")"; return
    fi
    "$tmp/check_$name" "$tmp/$name.bin" >"$tmp/$name.fp" || { bad "$file: checker failed"; return; }
    if [ "$pem" = 1 ]; then
        cp "$file" "$tmp/want" && printf '\0' >>"$tmp/want"
    else
        cp "$file" "$tmp/want"
    fi
    cmp -s "$tmp/want" "$tmp/$name.bin" || bad "$file: the array is not the input byte for byte"
    fingerprints "$file" "$kind" >"$tmp/want.fp"
    cmp -s "$tmp/want.fp" "$tmp/$name.fp" || bad "$file: parsed certificates differ from openssl's"
    if [ "$kind" = cert ]; then
        while read -r fp; do
            grep -qF "SHA-256 $fp" "$tmp/$name.c" || bad "$file: comment lacks $fp"
        done <"$tmp/want.fp"
        grep -q "not after 20" "$tmp/$name.c" || bad "$file: comment lacks not-after"
        [ -s "$tmp/want.fp" ] || bad "$file: openssl saw no certificate"
    else
        grep -q "a private key" "$tmp/$name.c" || bad "$file: key not said to be one"
    fi
}

roundtrip "$certs/bundle-both.pem" trust_bundle cert 1
roundtrip "$certs/device-001.der" device_cert cert 0
roundtrip "$certs/device-001.key" device_key key 1
roundtrip "$certs/device-001.key.der" device_key_der key 0

expect() { # expect STATUS TEXT ARGS...
    want=$1 text=$2
    shift 2
    total=$((total + 1))
    out=$("$bin" "$@" 2>&1)
    st=$?
    [ "$st" -eq "$want" ] && printf "%s" "$out" | grep -qF -e "$text" || bad "$*: status $st: $out"
}
printf 'not a certificate\n' >"$tmp/junk.txt"
expect 1 "neither certificates nor a private key" -o "$tmp/junk" "$tmp/junk.txt"
expect 1 "cannot read" "$tmp/missing.pem"
expect 1 "-n must be a C identifier" -n "9 lives" -o "$tmp/x" "$certs/root-a.crt"
expect 2 "usage" -x
expect 2 "usage"
echo "mqtls-pem2c: $((total - fail))/$total round trips and refusals as expected"
[ "$fail" -eq 0 ]
