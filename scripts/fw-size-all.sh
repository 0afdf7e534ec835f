#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The device matrix's flash and RAM (scripts/fw-size.sh for each build of
# the telemetry firmware in FW_DIR): the 2.28 TLS 1.2 image held to its
# targets, the 3.6 builds reported. RAM is complete where a run measured
# the heap and stack (make firmware-check writes FW_DIR/<build>/measured.txt).
#   scripts/fw-size-all.sh FW_DIR
set -u
fw=$1 status=0
echo "== mbedTLS 2.28, TLS 1.2 (the targets: at most 96 KB of flash, 32 KB of RAM)"
sh scripts/fw-size.sh "$fw/2.28/telemetry.elf" "$fw/2.28/telemetry.map" "$fw/2.28/measured.txt" || status=1
echo "== mbedTLS 3.6, TLS 1.2, restartable ECC (the handshake in slices)"
sh scripts/fw-size.sh "$fw/3.6/telemetry.elf" "$fw/3.6/telemetry.map" "$fw/3.6/measured.txt" "mbedTLS 3.6" report || status=1
echo "== mbedTLS 3.6, TLS 1.3 and 1.2 (PSA crypto)"
sh scripts/fw-size.sh "$fw/3.6-tls13/telemetry.elf" "$fw/3.6-tls13/telemetry.map" "$fw/3.6-tls13/measured.txt" "mbedTLS 3.6" report || status=1
exit $status
