#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The mqtls client on the emulated Cortex-M4, through the AT modem: QEMU's
# UART0 is joined to our modem bridge, which dials a Mosquitto of our own
# on loopback. The firmware publishes 13 numbered readings at QoS 1 from
# its flash store and exits once all are acknowledged; a subscriber must
# see every number. 13: the last PUBACK (packet id 13) ends in a CR, the
# first byte of the modem's "\r\nNO CARRIER", with the broker then
# waiting on the device; the modem once held that byte back, and the
# device waited for an acknowledgement it had been sent. Everything on
# 127.0.0.1, stopped by pid, bounded.
set -u
elf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
bridge=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
count=13
name=modem
. test/firmware/lib.sh

pick_port || exit 1
cat >"$dir/mosquitto.conf" <<CONF
persistence false
user $(id -un)
log_dest file $dir/mosquitto.log
log_type all
listener $port 127.0.0.1
allow_anonymous true
CONF
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$dir/mosquitto.conf" >"$dir/mosquitto.out" 2>&1 &
pids="$pids $!"
for _ in $(seq 1 50); do listening "$port" && break; sleep 0.1; done
listening "$port" || fail "mosquitto did not start"

fw_bridge

mosquitto_sub -h 127.0.0.1 -p "$port" -t mps2/telemetry -q 1 -C "$count" -W 90 >"$dir/got" 2>&1 &
sub=$!
pids="$pids $sub"
for _ in $(seq 1 50); do grep -q " mps2/telemetry" "$dir/mosquitto.log" 2>/dev/null && break; sleep 0.1; done
grep -q " mps2/telemetry" "$dir/mosquitto.log" || fail "the subscriber did not subscribe"

echo "127.0.0.1:$port $count" >"$dir/device.cfg"
fw_boot qemu.out || fail "the firmware did not finish cleanly (status $?)"
wait "$sub" || fail "the subscriber did not get $count messages: $(cat "$dir/got")"
for n in $(seq 1 "$count"); do
    grep -qx "$n" "$dir/got" || fail "reading $n never arrived"
done
grep -q "Sending PUBACK to mps2-dev (m13," "$dir/mosquitto.log" ||
    fail "the last acknowledgement was not packet id 13 (the test's point)"
sed 's/^/  /' "$dir/qemu.out"
echo "firmware modem: $count readings from the emulated Cortex-M4 through the AT modem, every one arrived"
