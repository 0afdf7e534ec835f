#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The handshake's cost on the emulated Cortex-M4, in instructions (part of
# make bench): the telemetry firmware (ports/qemu-mps2) runs under QEMU's
# -icount shift=0, where one microsecond of the board's clock is 1,000
# instructions, and reports the time its connect spent not halted (the
# modem's waits halt the core: WFI), so the count is the work done, not
# the waiting. Boot 1 does a full mutual-TLS 1.2 handshake, boot 2 resumes
# the session kept in flash. Milliseconds at 64 and 168 MHz assume one
# instruction per cycle, a lower bound (a Cortex-M4 averages a little
# more). Against a loopback Mosquitto of its own; into docs/memory.md.
#   scripts/fw-icount.sh ELF BRIDGE
set -euo pipefail
elf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
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
echo "127.0.0.1:$port 1 0" >"$dir/device.cfg"
for boot in 1 2; do
    (cd "$dir" && timeout 300 qemu-system-arm -M mps2-an386 -icount shift=0 -display none \
        -monitor none -semihosting-config enable=on,target=native \
        -chardev socket,id=modem,host=127.0.0.1,port="$bport" -serial chardev:modem \
        -kernel "$elf" >"$dir/boot$boot.out" 2>&1) ||
        { cat "$dir/boot$boot.out" >&2; echo "fw-icount: boot $boot failed" >&2; exit 1; }
done
{
    echo "make bench, $(date -u +%Y-%m-%d): $(qemu-system-arm --version | head -n 1), mps2-an386, -icount shift=0;"
    echo "telemetry firmware, mbedTLS 2.28 device configuration, -Os, mutual TLS 1.2"
    echo "(ECDHE-ECDSA P-256, AES-128-GCM) against Mosquitto on loopback:"
    for boot in 1 2; do
        sed -n 's/.*(TLSv1.2, \([a-z]*\) handshake.*busy \([0-9]*\) us.*/\1 \2/p' "$dir/boot$boot.out" |
            awk '{ i = $2 * 1000
                   printf "  %-7s handshake %12d instructions   %6.0f ms at 64 MHz, %5.0f ms at 168 MHz\n",
                          $1, i, i / 64000, i / 168000 }'
    done
} | tee "$dir/report.txt"
grep -q "full" "$dir/report.txt" && grep -q "resumed" "$dir/report.txt" ||
    { echo "fw-icount: missing a figure" >&2; exit 1; }
sh scripts/doc-section.sh docs/memory.md fw-icount "$dir/report.txt"
