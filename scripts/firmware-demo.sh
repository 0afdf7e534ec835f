#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make firmware-demo: watch the emulated Cortex-M4 at work. A Mosquitto of
# our own with mutual TLS on loopback, the modem bridge, a subscriber that
# prints what arrives, and the telemetry firmware sending a reading a
# second (DEMO_COUNT, default 10). Everything stopped by pid at the end.
set -u
elf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
bridge=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
name=demo
. test/firmware/lib.sh
pick_port || exit 1
start_broker || fail "mosquitto did not start"
pids="$pids $broker_pid"
fw_bridge
echo "firmware-demo: Mosquitto on 127.0.0.1:$port (mutual TLS), the modem bridge on :$bport"
mosquitto_sub -h localhost -p "$port" --cafile "$certs/root-a.crt" --cert "$certs/device-002.crt" \
    --key "$certs/device-002.key" -t mps2/telemetry -q 1 -v >"$dir/sub.out" 2>&1 &
pids="$pids $!"
sleep 1
echo "127.0.0.1:$port ${DEMO_COUNT:-10} 1000" >"$dir/device.cfg"
echo "firmware-demo: booting the device (qemu-system-arm -M mps2-an386)"
(cd "$dir" && exec timeout 300 qemu-system-arm -M mps2-an386 -display none -monitor none \
    -semihosting-config enable=on,target=native \
    -chardev socket,id=modem,host=127.0.0.1,port="$bport" -serial chardev:modem \
    -kernel "$elf" 2>&1 | sed 's/^/  device: /')
sleep 1
sed 's/^/  subscriber: /' "$dir/sub.out"
echo "firmware-demo: done"
