#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A handshake that does not freeze the device: the telemetry firmware's
# superloop feeds a watchdog (simulated in SysTick: the part resets when
# it is not fed for longer than its limit) and connects over mutual TLS
# with the handshake in slices. Run under QEMU's -icount shift=0, so the
# board's millisecond is a million instructions: the limit is in
# instructions, as a real part's watchdog at a known clock is.
#   test/firmware/watchdog.sh ELF BRIDGE LIMIT_MS SLICED
# SLICED 1: the device must connect and publish with the watchdog never
# firing, and a boot with the handshake in one call must be reset by it
# (the watchdog works); 0: the longest turn is only reported.
set -u
elf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
bridge=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
limit=$3 sliced=$4
name=watchdog
fw_qemu="-icount shift=0"
. test/firmware/lib.sh

pick_port || exit 1
start_broker || fail "mosquitto did not start"
pids="$pids $broker_pid"
fw_bridge
build=$(basename "$(dirname "$elf")")

# longest OUT: the superloop's longest turn, in millions of instructions.
longest() {
    sed -n 's/.*the longest turn \([0-9]*\) us busy.*/\1/p' "$dir/$1" | awk '{ printf "%.1f", $1 / 1000 }'
}

echo "127.0.0.1:$port 3 0 watchdog $limit" >"$dir/device.cfg"
if [ "$sliced" = 1 ]; then
    fw_boot sliced.out || fail "with the handshake in slices the device did not finish (status $?)"
    grep -q "connected over mutual TLS (TLSv1.2, full handshake)" "$dir/sliced.out" ||
        fail "no full handshake"
    grep -q "all acknowledged: success" "$dir/sliced.out" || fail "readings not acknowledged"
    echo "  $(grep 'superloop:' "$dir/sliced.out")"
    echo "firmware watchdog ($build): a full mutual-TLS handshake in slices, the watchdog ($limit M instructions) never fired; longest turn $(longest sliced.out) M instructions"
    rm -f "$dir/device.flash" "$dir/device.blobs"
    echo "127.0.0.1:$port 3 0 whole watchdog $limit" >"$dir/device.cfg"
    fw_boot whole.out && fail "with the handshake in one call the device finished: the watchdog never fired"
    grep -q "WATCHDOG RESET" "$dir/whole.out" ||
        fail "with the handshake in one call the device stopped, but not by the watchdog"
    echo "firmware watchdog ($build): the handshake in one call is reset by the same watchdog (it works)"
else
    echo "127.0.0.1:$port 3 0" >"$dir/device.cfg"
    fw_boot run.out || fail "the device did not finish (status $?)"
    echo "firmware watchdog ($build): longest turn of the superloop $(longest run.out) M instructions (the handshake's elliptic-curve work runs whole): a watchdog must allow that"
fi
