#!/usr/bin/env bash
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
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# 1. A free loopback port (bounded search).
port=""
for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! listening "$p"; then port=$p; break; fi
done
[ -n "$port" ] || { echo "demo: no free port found" >&2; exit 1; }

# 2. Mosquitto with mutual TLS: clients need a certificate from Root A, and
#    the certificate's name becomes their user name.
cat >"$dir/mosquitto.conf" <<CONF
persistence false
user $(id -un)
log_dest file $dir/mosquitto.log
listener $port 127.0.0.1
cafile $certs/root-a.crt
certfile $certs/server-a-chain.pem
keyfile $certs/server-a.key
require_certificate true
use_identity_as_username true
allow_anonymous false
CONF
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$mosquitto_bin" -c "$dir/mosquitto.conf" >"$dir/mosquitto.out" 2>&1 &
broker_pid=$!
for _ in $(seq 1 50); do listening "$port" && break; sleep 0.1; done
listening "$port" || { echo "demo: mosquitto did not start" >&2; cat "$dir/mosquitto.out" >&2; exit 1; }
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
