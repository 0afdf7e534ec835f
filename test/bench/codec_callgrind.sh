#!/bin/sh
# Instructions per codec round trip (encode + decode of a QoS 1 PUBLISH with
# a 30-byte topic and a 64-byte payload), counted by callgrind: the same
# binary, two round counts, and the difference divided by the difference in
# rounds, so process start-up and the loop's first pass cancel out.
set -eu
bin=$1
small=20000
large=120000
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

count() {
    valgrind --tool=callgrind --callgrind-out-file="$dir/out.$1" "$bin" "$1" >/dev/null 2>&1
    awk '/^totals:/ { print $2 }' "$dir/out.$1"
}
a=$(count $small)
b=$(count $large)
per=$(awk -v a="$a" -v b="$b" -v s=$small -v l=$large 'BEGIN { printf "%.1f", (b - a) / (l - s) }')
echo "codec round trip (QoS 1 PUBLISH, topic sensors/device-001/temperature, 64-byte payload)"
echo "  callgrind: $per instructions per encode + decode on $(uname -m), $(${CC:-cc} --version | head -n1), -O2"
echo "  target: at most 250"
"$bin" 2000000 | sed 's/^/  wall clock: /'
