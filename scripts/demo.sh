#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make demo: a local Mosquitto on loopback with mutual TLS, the telemetry
# example publishing readings at QoS 1, and mosquitto_sub printing them.
# The broker is stopped by its pid when this script ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
certs=$PWD/build/certs
count=${DEMO_COUNT:-10}
dir=$(mktemp -d /tmp/mqtls-demo-XXXXXX)
broker_pid=""
sub_pid=""
cleanup() {
    [ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null && wait "$sub_pid" 2>/dev/null
    stop_broker
    rm -rf "$dir"
}
trap cleanup EXIT

. scripts/broker.sh

# 1. A free loopback port; 2. Mosquitto with mutual TLS on it.
pick_port
start_broker
echo "demo: mosquitto (pid $broker_pid) on 127.0.0.1:$port, mutual TLS"

# 3. A subscriber (device-002's certificate) printing every reading.
mosquitto_sub -h 127.0.0.1 -p "$port" --cafile "$certs/root-a.crt" \
    --cert "$certs/device-002.crt" --key "$certs/device-002.key" \
    -t 'sensors/#' -q 1 -v -C "$count" -W 30 >"$dir/received.txt" 2>"$dir/sub.err" &
sub_pid=$!
for _ in $(seq 1 50); do grep -q "device-002" "$dir/mosquitto.log" 2>/dev/null && break; sleep 0.1; done
sleep 0.2

# 4. The telemetry example (device-001) publishes the readings.
echo "demo: running build/examples/telemetry $port build/certs $count"
./build/examples/telemetry "$port" "$certs" "$count"

# 5. What the subscriber got.
wait "$sub_pid" || true
sub_pid=""
echo "demo: the subscriber received $(wc -l <"$dir/received.txt") of $count readings:"
sed 's/^/  /' "$dir/received.txt"
[ "$(wc -l <"$dir/received.txt")" -eq "$count" ]
