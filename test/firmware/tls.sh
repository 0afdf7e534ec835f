#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# MQTT over mutual TLS from the emulated Cortex-M4, through the AT modem:
# QEMU's UART0 is joined to our modem bridge, which dials a Mosquitto of
# our own (mutual TLS, Root A) on loopback. The firmware (mbedTLS 2.28,
# device configuration; trust and identity compiled in) publishes 20
# numbered readings at QoS 1 from its flash store and exits once all are
# acknowledged; a subscriber must see every number. Everything on
# 127.0.0.1, stopped by pid, bounded.
set -u
elf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
bridge=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
count=20
name=tls
. test/firmware/lib.sh

pick_port || exit 1
start_broker || fail "mosquitto did not start"
pids="$pids $broker_pid"

fw_bridge

mosquitto_sub -h localhost -p "$port" --cafile "$certs/root-a.crt" --cert "$certs/device-002.crt" \
    --key "$certs/device-002.key" -t mps2/telemetry -q 1 -C "$count" -W 120 >"$dir/got" 2>&1 &
sub=$!
pids="$pids $sub"
for _ in $(seq 1 50); do grep -q "device-002" "$dir/mosquitto.log" 2>/dev/null && break; sleep 0.1; done
sleep 0.5 # connected; its SUBSCRIBE follows at once

echo "127.0.0.1:$port $count" >"$dir/device.cfg"
fw_boot qemu.out || fail "the firmware did not finish cleanly (status $?)"
wait "$sub" || fail "the subscriber did not get $count messages: $(cat "$dir/got")"
for n in $(seq 1 "$count"); do
    grep -qx "$n" "$dir/got" || fail "reading $n never arrived"
done
sed 's/^/  /' "$dir/qemu.out"
grep -q "identity from the factory, written to flash blobs" "$dir/qemu.out" ||
    fail "the first boot did not write its factory trust and identity to flash"
echo "firmware tls: $count readings over mutual TLS from the emulated Cortex-M4, every one arrived"

# Trust is what the flash holds: a device whose blob flash was given
# Root B at the factory refuses this broker (Root A), in words; given
# Root A again (version 2), it connects. Identity stays as it was.
rm -f "$dir/device.flash"
"$(dirname "$bridge")/flash_trust" "$dir/device.blobs" "$certs/root-b.crt" 7 ||
    fail "flash_trust could not write Root B"
echo "127.0.0.1:$port 21" >"$dir/device.cfg"
fw_boot qemu-b.out && fail "a device trusting only Root B (from flash) connected to a Root A broker"
grep -q "trust (1 CA, version 7) and identity read from flash blobs" "$dir/qemu-b.out" ||
    fail "the device did not read its trust from flash"
grep -q "^mps2: connect: server certificate not signed by a trusted CA" "$dir/qemu-b.out" ||
    fail "the device gave another reason"
"$(dirname "$bridge")/flash_trust" "$dir/device.blobs" "$certs/root-a.crt" 8 ||
    fail "flash_trust could not write Root A"
fw_boot qemu-a.out || fail "the device given Root A again did not connect"
grep -q "trust (1 CA, version 8)" "$dir/qemu-a.out" || fail "the device did not read version 8"
echo "  $(grep '^mps2: connect:' "$dir/qemu-b.out")"
echo "firmware tls: the device trusts what its flash holds (Root B refused the broker, Root A again connected)"

# An impostor: a broker whose certificate chains to a root of the same
# name that the device does not hold. The device refuses it and says why
# in the same words the host library prints for the same broker.
stop_broker
pick_port || exit 1
broker_cert=server-fake.crt broker_key=server-fake.key start_broker || fail "the impostor broker did not start"
pids="$pids $broker_pid"
echo "127.0.0.1:$port 1" >"$dir/device.cfg"
fw_boot qemu.out && fail "the device connected to an impostor"
device=$(sed -n 's/^mps2: connect: //p' "$dir/qemu.out")
host=$(cd "$PWD" && build/examples/first "$port" 2>&1 | sed -n 's/^first: //p')
[ -n "$device" ] || fail "the device gave no reason"
[ "$device" = "$host" ] || fail "device and host disagree: device '$device', host '$host'"
echo "  device and host: $device"
echo "firmware tls: the impostor is refused on the device, in the host's words"

# No calendar time at boot (a board without an RTC, before SNTP): under
# the default policy for such boards dates wait for the clock and the
# device connects (chain and signatures still checked); a device told to
# be strict refuses, saying the clock is not set.
stop_broker
pick_port || exit 1
start_broker || fail "mosquitto did not start"
pids="$pids $broker_pid"
rm -f "$dir/device.flash" "$dir/device.blobs"
run_device() { # run_device CFG: the exit status of one boot
    echo "$1" >"$dir/device.cfg"
    fw_boot qemu.out
}
run_device "127.0.0.1:$port 3 0 notime" || fail "with no calendar time the device did not publish"
grep -q "no calendar time" "$dir/qemu.out" || fail "the device did not boot without time"
echo "  no calendar time, dates deferred: $(grep -c 'connected over' "$dir/qemu.out") connection, readings acknowledged"
rm -f "$dir/device.flash" "$dir/device.blobs"
run_device "127.0.0.1:$port 3 0 notime strict" && fail "a strict device connected without a clock"
why=$(sed -n 's/^mps2: connect: //p' "$dir/qemu.out")
case "$why" in
    *"clock"*) echo "  no calendar time, strict: $why" ;;
    *) fail "a strict device without a clock should say so, said: $why" ;;
esac
echo "firmware tls: boots with and without calendar time, as the time policy says"
