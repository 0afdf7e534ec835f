#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make fleet-bench: mqtls-fleet at large N on this machine, against one
# local Mosquitto with mutual TLS (and HAProxy for the cut):
#   - devices held by one process, and resident memory per device (RSS/N),
#     for each mbedTLS build (2.28, and 3.6 when built);
#   - storms: every connection cut at the proxy (the broker keeps its TLS
#     session cache: resumption on and off, jitter on and off; as many
#     devices as HAProxy's two descriptors each allow), and a
#     broker restart (a new Mosquitto resumes nothing: jitter on and off);
#     how long until 50/99/100% are back, the broker's peak rates.
# The figures go to build/bench/fleet.txt and docs/performance.md (section
# fleet). N: FLEET_BENCH_N (10000). Takes about 20 minutes at 10,000.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${FLEET_BENCH_N:-10000}
certs=$PWD/build/certs
dir=$(mktemp -d /tmp/mqtls-fleet-bench-XXXXXX)
. test/fleet/lib.sh
cleanup() { stop_pid_file haproxy; stop_pid_file broker; rm -rf "$dir"; }
trap cleanup EXIT
# Every process here holds N sockets or more (HAProxy two per device).
ulimit -n $((2 * N + 1000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
export FLEET_RUN_TIMEOUT=1800
# The operator takes every device's telemetry: no per-client queue limit.
broker_extra="max_queued_messages 0"
# HAProxy holds two descriptors per device; this machine's limit (the
# hard one, 20,000 here) bounds the fleet behind it.
hard=$(ulimit -Hn)
NP=$N
[ "$hard" = unlimited ] || [ $((2 * NP + 400)) -le "$hard" ] || NP=$(((hard - 400) / 2 / 100 * 100))
proxy_maxconn=$((NP + 100))
pki=(--ca-cert "$certs/root-a.crt" --ca-key "$certs/root-a.key" --tls-name localhost
     --cafile "$certs/root-a.crt" -n "$N" --timeout 900 --drain 60 --interval 60)
report=build/bench/fleet.txt
mkdir -p build/bench

pick() { sed -n "s/^$1//p" "$dir/out" | head -1; }

{
    echo "make fleet-bench, $(date -u +%Y-%m-%d): $N mqtls devices in one process (one thread) against"
    echo "one Mosquitto $(mosquitto -h 2>/dev/null | sed -n 's/^mosquitto version \([0-9.]*\).*/\1/p'),"
    echo "mutual TLS (ECDSA P-256, a certificate per device; each build's default versions), on $(nproc) cores of"
    echo "$(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)."
    echo "Connect: all started at once, at most 32 handshakes in progress (the simulator's"
    echo "CPU is the limit: one thread does every device's ECC); telemetry QoS 1 every 60 s."
    echo
} >"$report"

# ---- devices held, memory per device, each build
for bin in build/examples/mqtls-fleet build/m36/examples/mqtls-fleet; do
    [ -x "$bin" ] || continue
    pick_port
    broker_up broker
    FLEET_BIN=$bin run_fleet connect -p "$(cat "$dir/broker.port")" "${pki[@]}" --duration 10
    cat "$dir/out"
    {
        echo "== connect, $(sed -n 's/^mqtls-fleet connect: [^(]*(\(.*\)), [a-z]* sessions$/\1/p' "$dir/out") (exit $fleet_rc)"
        pick "connect: "
        grep "^TLS " "$dir/out" | head -1
        grep "^connect time " "$dir/out" | head -1
        pick "handshakes: "
        pick "memory: "
        echo
    } >>"$report"
    stop_pid_file broker
done

# ---- storms (the 2.28 build)
storm() { # LABEL ARGS...
    local label=$1
    shift
    run_fleet storm "${pki[@]}" --duration 5 --cut-after 5 "$@"
    cat "$dir/out"
    {
        echo "== storm: $label (exit $fleet_rc)"
        sed -n 's/^storm: //p' "$dir/out"
        echo
    } >>"$report"
}
pick_port
broker_up broker
proxy_up "127.0.0.1:$(cat "$dir/broker.port")"
for rj in "on on" "off on" "on off"; do
    set -- $rj
    storm "cut at the proxy, $NP devices, resumption $1, jitter $2" -p "$proxy_port" -n "$NP" --resume "$1" \
        --jitter "$2" --id-prefix "cut-$1-$2-" --cut "bash $(proxy_cut_script 1)"
done
stop_pid_file haproxy
for j in on off; do
    storm "broker restart, $N devices, jitter $j" -p "$(cat "$dir/broker.port")" --jitter "$j" \
        --id-prefix "restart-$j-" --cut "bash $(restart_script broker)"
done
cat "$report"
sh scripts/doc-section.sh docs/performance.md fleet "$report"
echo "fleet-bench: written to docs/performance.md"
