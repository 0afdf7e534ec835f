#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make bench's TLS figures, once per mbedTLS build: each bench_tls given
# runs against its own loopback Mosquitto (test/bench/bench_tls.c) and
# prints its figures; the rows they end with ("row|...") become one table
# in docs/performance.md (section tls-versions).
#   scripts/bench-tls.sh ROUNDS BENCH_TLS...
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=$1
shift
table=build/bench/tls-versions.txt
mkdir -p build/bench
{
    echo "make bench, $(date -u +%Y-%m-%d), $rounds rounds each; mutual TLS (ECDSA P-256) to Mosquitto on"
    echo "127.0.0.1; connect = TCP connect + TLS handshake; heap by allocator interposition, one"
    echo "session (the 4 KB read-ahead included), at rest = connected; the last column with a"
    echo "2048-byte maximum fragment length negotiated (TLS 1.2 only)."
    echo
    printf '%-30s %-8s %9s %9s %9s %9s %10s %9s %9s\n' "mbedTLS" "TLS" "full p50" "full p99" \
        "res. p50" "res. p99" "heap peak" "at rest" "MFL 2048"
    printf '%-30s %-8s %9s %9s %9s %9s %10s %9s %9s\n' "" "" "ms" "ms" "ms" "ms" "bytes" "bytes" "bytes"
} >"$table"
for b in "$@"; do
    out=$("$b" "$rounds") || { echo "$out"; echo "bench-tls: $b failed" >&2; exit 1; }
    echo "$out" | grep -v '^row|'
    echo "$out" | awk -F'|' '/^row\|/ {
        printf "%-30s %-8s %9s %9s %9s %9s %10s %9s %9s\n", $2, $3, $4, $5, $6, $7, $8, $9, ($10 == "" ? "-" : $10) }' >>"$table"
done
cat "$table"
sh scripts/doc-section.sh docs/performance.md tls-versions "$table"
echo "bench-tls: written to docs/performance.md"
