#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The telemetry device on the emulated Cortex-M4 through trouble: readings
# every 50 ms at QoS 1 over mutual TLS through the AT modem, while the
# modem drops the link, the broker restarts, and the emulator is killed
# with SIGKILL (a power cut) and booted again over the same flash. Every
# sequence number must reach the subscriber; the device must resume its
# TLS session after the link drop and after the reboot (the broker's
# restart costs a full handshake: new ticket keys). Loopback only,
# stopped by pid, bounded.
set -u
elf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
bridge=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
measured=${3:-} # where to write "heap_peak stack" as measured on the target
count=300
name=telemetry
qemu=""
. test/firmware/lib.sh
trap '[ -n "$qemu" ] && kill "$qemu" 2>/dev/null; fw_cleanup' EXIT

broker() { # starts (or restarts) the persistent broker on $port
    cat >"$dir/mosquitto.conf" <<CONF
persistence true
persistence_location $dir/
user $(id -un)
log_dest file $dir/mosquitto.log
listener $port 127.0.0.1
cafile $certs/root-a.crt
certfile $certs/server-a-chain.pem
keyfile $certs/server-a.key
require_certificate true
use_identity_as_username true
CONF
    "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$dir/mosquitto.conf" >>"$dir/mosquitto.out" 2>&1 &
    broker_pid=$!
    pids="$pids $broker_pid" # stopped by pid whatever happens next
    for _ in $(seq 1 50); do listening "$port" && return 0; sleep 0.1; done
    fail "mosquitto did not start"
}
boot() { # boots the device (in the background, $qemu its pid) into qemu.$1.out
    # shellcheck disable=SC2086 # $fw_qemu is a list of options
    (cd "$dir" && exec qemu-system-arm -M mps2-an386 -display none -monitor none $fw_qemu \
        -semihosting-config enable=on,target=native \
        -chardev socket,id=modem,host=127.0.0.1,port="$bport" -serial chardev:modem \
        -kernel "$elf" >"$dir/qemu.$1.out" 2>&1) &
    qemu=$!
}
wait_for() { # wait_for FILE TEXT SECONDS [COUNT]: until TEXT is there COUNT (1) times
    for _ in $(seq 1 $(($3 * 10))); do
        [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "${4:-1}" ] && return 0
        sleep 0.1
    done
    fail "no '$2' (x${4:-1}) in $(basename "$1") within $3 s"
}

pick_port || exit 1
broker
fw_bridge
mosquitto_sub -h localhost -p "$port" --cafile "$certs/root-a.crt" --cert "$certs/device-002.crt" \
    --key "$certs/device-002.key" -i fw-telemetry-sub -c -q 1 -t mps2/telemetry >"$dir/got" 2>"$dir/sub.err" &
pids="$pids $!"
wait_for "$dir/mosquitto.log" "device-002" 10
sleep 0.5
echo "127.0.0.1:$port $count 50" >"$dir/device.cfg"

boot 1
wait_for "$dir/qemu.1.out" "full handshake" 60
sleep 1.5
kill -USR1 "$bridge_pid"                          # the modem drops the link
wait_for "$dir/qemu.1.out" "resumed handshake" 60
sleep 1
kill "$broker_pid"; wait "$broker_pid" 2>/dev/null # the broker restarts
broker
wait_for "$dir/qemu.1.out" "connected over" 60 3   # after the restart: a full handshake
sleep 1
kill -KILL "$qemu"; wait "$qemu" 2>/dev/null       # the power goes
qemu=""
boot 2
for _ in $(seq 1 1200); do kill -0 "$qemu" 2>/dev/null || break; sleep 0.1; done
kill -0 "$qemu" 2>/dev/null && fail "the rebooted device did not finish within 120 s"
wait "$qemu"
status=$?
qemu=""
[ "$status" -eq 0 ] || fail "the rebooted device did not finish (status $status)"
grep -q "resumed handshake" "$dir/qemu.2.out" || fail "the reboot did not resume the TLS session"
grep -q "next reading [2-9]\|next reading [1-9][0-9]" "$dir/qemu.2.out" || fail "the reboot started over"
for _ in $(seq 1 100); do
    missing=0
    for n in $(seq 1 "$count"); do grep -qx "$n" "$dir/got" || { missing=$n; break; }; done
    [ "$missing" -eq 0 ] && break
    sleep 0.1
done
[ "$missing" -eq 0 ] || fail "reading $missing never arrived"
sed 's/^/  boot 1: /' "$dir/qemu.1.out"
sed 's/^/  boot 2: /' "$dir/qemu.2.out"
if [ -n "$measured" ]; then
    heap=$(cat "$dir"/qemu.*.out | sed -n 's/.*TLS heap peak \([0-9]*\) bytes.*/\1/p' | sort -n | tail -n 1)
    stack=$(cat "$dir"/qemu.*.out | sed -n 's/.*, stack \([0-9]*\) bytes.*/\1/p' | sort -n | tail -n 1)
    echo "$heap $stack" >"$measured"
fi
echo "firmware telemetry: link drop, broker restart, power cut: all $count readings arrived" \
     "($(wc -l <"$dir/got") deliveries)"
