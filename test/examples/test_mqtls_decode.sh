#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mqtls-decode explains packets and says why bytes are malformed; its exit
# status tells the three outcomes apart.
set -u
bin=$1
fail=0
expect() { # expect STATUS "TEXT" HEX...
    want_status=$1 want_text=$2
    shift 2
    out=$("$bin" "$@" 2>&1)
    status=$?
    if [ "$status" -ne "$want_status" ] || ! printf '%s\n' "$out" | grep -qF "$want_text"; then
        echo "FAIL mqtls-decode $*: status $status, output:"
        printf '%s\n' "$out" | sed 's/^/    /'
        fail=$((fail + 1))
    fi
}
expect 0 'topic: "a/b" (3 bytes)' 30 07 00 03 61 2f 62 68 69
expect 0 'PINGRESP, 2 bytes' 30 07 00 03 61 2f 62 68 69 d0 00
expect 0 'requested QoS 2' 82 0f 00 0a 00 03 61 2f 23 01 00 04 2b 2f 62 63 02
expect 1 'DUP flag set on a QoS 0 PUBLISH (MQTLS_ERR_BAD_DUP)' 38 03 00 01 61
expect 1 'malformed at byte 2: reserved fixed-header flag bits are wrong' d0 00 63 02 00 01
expect 1 'incomplete at byte 0: 3 bytes of a packet of 11' 32 09 00
expect 2 'usage' zz
total=7
echo "mqtls-decode: $((total - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
