#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Instructions per codec round trip (encode + decode of a QoS 1 PUBLISH with
# a 30-byte topic and a 64-byte payload), counted by callgrind. The same
# binary runs twice with different round counts; differences divided by the
# difference in rounds cancel start-up and first-pass costs. Two figures:
#   codec    inclusive cost of mqtls_codec_encode_publish and
#            mqtls_codec_decode_from_server (everything they call, memcpy
#            and the UTF-8 checks included)
#   loop     the whole benchmark loop, harness included
set -eu
bin=$1
small=20000
large=120000
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

run() {
    valgrind --tool=callgrind --callgrind-out-file="$dir/out.$1" "$bin" "$1" >/dev/null 2>&1
}
total() { awk '/^totals:/ { print $2 }' "$dir/out.$1"; }
# Inclusive instructions of the two codec entry points.
codec() {
    callgrind_annotate --inclusive=yes "$dir/out.$1" 2>/dev/null |
        awk '/mqtls_codec_encode_publish|mqtls_codec_decode_from_server/ { gsub(",", "", $1); s += $1 } END { print s }'
}
run $small
run $large
per() { awk -v a="$1" -v b="$2" -v s=$small -v l=$large 'BEGIN { printf "%.1f", (b - a) / (l - s) }'; }
loop=$(per "$(total $small)" "$(total $large)")
cod=$(per "$(codec $small)" "$(codec $large)")
echo "codec round trip: QoS 1 PUBLISH, topic sensors/device-001/temperature, 64-byte payload"
echo "  $(uname -m), $(${CC:-cc} --version | head -n1), -O2, MQTLS_CONFIG_STRING_SCAN default"
echo "  callgrind, codec (encode + decode, inclusive): $cod instructions   (target: at most 250)"
echo "  callgrind, whole loop (harness included):      $loop instructions"
"$bin" 2000000 | sed 's/^/  wall clock: /'
