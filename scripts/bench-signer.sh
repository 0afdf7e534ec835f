#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make bench's key-signer figures (test/bench/bench_signer.c): full TLS 1.2
# handshakes with the key as bytes, through the software signer, and in a
# SoftHSM token through PKCS#11; a table in docs/performance.md (section
# key-signers). Usage: scripts/bench-signer.sh ROUNDS BENCH_SIGNER
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=$1 bench=$2
table=build/bench/key-signers.txt
mkdir -p build/bench
out=$("$bench" "$rounds") || { echo "$out"; echo "bench-signer: $bench failed" >&2; exit 1; }
echo "$out" | grep -v '^row|'
{
    echo "make bench, $(date -u +%Y-%m-%d), $rounds full handshakes each (no resumption): mutual TLS 1.2,"
    echo "ECDSA P-256, to Mosquitto on 127.0.0.1, $(echo "$out" | sed -n 's/^bench_signer: .*, //p');"
    echo "connect = TCP connect + TLS handshake, one signature by our key in it."
    echo
    printf '%-32s %9s %9s\n' "our key" "p50 ms" "p99 ms"
    echo "$out" | awk -F'|' '/^row\|/ { printf "%-32s %9s %9s\n", $2, $3, $4 }'
} >"$table"
cat "$table"
sh scripts/doc-section.sh docs/performance.md key-signers "$table"
echo "bench-signer: written to docs/performance.md"
