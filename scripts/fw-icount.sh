#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The handshake's cost on the emulated Cortex-M4, in instructions (part of
# make bench): each build of the telemetry firmware (ports/qemu-mps2: the
# device matrix) runs under QEMU's -icount shift=0, where one microsecond
# of the board's clock is 1,000 instructions, and reports the time its
# connect spent not halted (the modem's waits halt the core: WFI), so the
# count is the work done, not the waiting; and the longest turn of its
# superloop, the work a watchdog must allow between two feeds. Boot 1 does
# a full mutual-TLS handshake, boot 2 resumes the session kept in flash.
# Milliseconds at 64 and 168 MHz assume one instruction per cycle, a
# lower bound (a Cortex-M4 averages a little more). Against a loopback
# Mosquitto of its own; into docs/memory.md.
#   scripts/fw-icount.sh FW_DIR BRIDGE
set -euo pipefail
fw=$(cd "$1" && pwd)
bridge=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
dir=$(mktemp -d)
broker_pid="" bridge_pid=""
trap 'stop_broker; [ -n "$bridge_pid" ] && kill "$bridge_pid" 2>/dev/null; rm -rf "$dir"' EXIT
. scripts/broker.sh
certs=$PWD/build/certs
pick_port
start_broker
"$bridge" "$dir/bridge.port" &
bridge_pid=$!
for _ in $(seq 1 50); do [ -s "$dir/bridge.port" ] && break; sleep 0.1; done
bport=$(cat "$dir/bridge.port")

# run BUILD CFG: boots 1 and 2 of BUILD's firmware with device.cfg CFG,
# on fresh flash; their output in $dir/BUILD.1.out, .2.out.
run() {
    rm -f "$dir/device.flash" "$dir/device.blobs"
    echo "127.0.0.1:$port 1 0 $2" >"$dir/device.cfg"
    for boot in 1 2; do
        (cd "$dir" && timeout 300 qemu-system-arm -M mps2-an386 -icount shift=0 -display none \
            -monitor none -semihosting-config enable=on,target=native \
            -chardev socket,id=modem,host=127.0.0.1,port="$bport" -serial chardev:modem \
            -kernel "$fw/$1/telemetry.elf" >"$dir/$1.$boot.out" 2>&1) ||
            { cat "$dir/$1.$boot.out" >&2; echo "fw-icount: $1 boot $boot failed" >&2; exit 1; }
    done
}

# report BUILD: its figures, from the two boots.
report() {
    local boot
    for boot in 1 2; do
        sed -n 's/.*(\(TLSv1.[23]\), \([a-z]*\) handshake.*busy \([0-9]*\) us.*/\1 \2 \3/p' "$dir/$1.$boot.out" |
            awk '{ i = $3 * 1000
                   printf "  %s %-7s handshake %11d instructions  %6.0f ms at 64 MHz, %5.0f ms at 168 MHz\n",
                          $1, $2, i, i / 64000, i / 168000 }'
    done
    cat "$dir/$1".[12].out | sed -n 's/.*the longest turn \([0-9]*\) us busy, handshake \(.*\);.*/\1 \2/p' |
        sort -n | tail -n 1 | awk '{ i = $1 * 1000; $1 = ""
            printf "  longest superloop turn %9d instructions  %6.0f ms at 64 MHz, %5.0f ms at 168 MHz (handshake%s)\n",
                   i, i / 64000, i / 168000, $0 }'
}

{
    echo "make bench, $(date -u +%Y-%m-%d): $(qemu-system-arm --version | head -n 1), mps2-an386, -icount shift=0;"
    echo "the telemetry firmware, -Os, mutual TLS (ECDHE-ECDSA P-256, AES-128-GCM) against Mosquitto on loopback."
    run 2.28 ""
    echo "mbedTLS 2.28 device configuration, TLS 1.2:"
    report 2.28
    run 3.6 ""
    echo "mbedTLS 3.6 device configuration, TLS 1.2, restartable ECC (paused every 200 operations):"
    report 3.6
    run 3.6 whole
    echo "the same build, the handshake in one call:"
    report 3.6
    run 3.6-tls13 ""
    echo "mbedTLS 3.6 device configuration with TLS 1.3 (PSA crypto):"
    report 3.6-tls13
} | tee "$dir/report.txt"
[ "$(grep -c ' full ' "$dir/report.txt")" = 4 ] && [ "$(grep -c ' resumed ' "$dir/report.txt")" = 4 ] &&
    [ "$(grep -c 'longest superloop' "$dir/report.txt")" = 4 ] ||
    { echo "fw-icount: missing a figure" >&2; exit 1; }
sh scripts/doc-section.sh docs/memory.md fw-icount "$dir/report.txt"
