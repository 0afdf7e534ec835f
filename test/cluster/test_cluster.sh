#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A broker cluster losing a node, with the fleet on it: two Aedes nodes
# (test/cluster/node.js) sharing sessions, subscriptions and messages
# through one redis-server, behind HAProxy in TCP mode. Mutual TLS ends
# at the nodes: each node checks the device's certificate itself, and the
# balancer holds no key and sees no MQTT (a TCP relay with health checks).
#
# 50 devices with persistent sessions publish QoS 1 telemetry and take
# per-device commands; node A is killed (SIGKILL: a crash), the devices
# it held reconnect through the balancer to node B, find their sessions
# (session present 1), resend what was in flight, and nothing is lost in
# either direction (QoS 1 may bring a resent message twice, counted; QoS 2
# never): commands at QoS 2. Then A comes back, B is killed,
# and the same holds with commands at QoS 1, the operator's client moving
# too. Everything on loopback ports of its own, stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
certs=$PWD/build/certs
dir=$(mktemp -d /tmp/mqtls-cluster-XXXXXX)
. test/fleet/lib.sh
cleanup() {
    stop_pid_file haproxy
    stop_pid_file node-a
    stop_pid_file node-b
    stop_pid_file redis
    rm -rf "$dir"
}
trap cleanup EXIT
N=${FLEET_N:-50}

node test/cluster/engines.js test/cluster/package-lock.json
sh scripts/cluster-deps.sh >/dev/null

pick_port
redis_port=$port
( redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    >"$dir/redis.log" 2>&1 & echo $! >"$dir/redis.pid" )
for _ in $(seq 1 50); do listening "$redis_port" && break; sleep 0.1; done
listening "$redis_port" || { cat "$dir/redis.log" >&2; fail "redis-server did not start"; }

# node_up NAME: an Aedes node on a free port ($dir/NAME.port).
node_up() {
    local name=$1
    [ -r "$dir/$name.port" ] || { pick_port; echo "$port" >"$dir/$name.port"; }
    : >"$dir/$name.log"
    ( NODE_PATH=$PWD/build/cluster/node_modules node test/cluster/node.js "$name" \
        "$(cat "$dir/$name.port")" "$redis_port" "$certs/root-a.crt" \
        "$certs/server-a-chain.pem" "$certs/server-a.key" >"$dir/$name.log" 2>&1 &
      echo $! >"$dir/$name.pid" )
    for _ in $(seq 1 100); do grep -q " running" "$dir/$name.log" && return 0; sleep 0.1; done
    cat "$dir/$name.log" >&2
    fail "aedes $name did not start"
}
node_up node-a
node_up node-b
proxy_up "127.0.0.1:$(cat "$dir/node-a.port") 127.0.0.1:$(cat "$dir/node-b.port")"

pki=(--ca-cert "$certs/root-a.crt" --ca-key "$certs/root-a.key" --tls-name localhost
     --cafile "$certs/root-a.crt")
fleet_args=(-p "$proxy_port" "${pki[@]}" -n "$N" -c --interval 0.5 --duration 2 --commands 0.5
            --cut-after 2 --backoff-min 100 --backoff-max 1000 --timeout 60 --drain 15)

# failover KILLED QOS PREFIX: the fleet through the balancer; KILLED
# crashes after 2 s; everything it held comes back with its session.
failover() {
    run_fleet storm "${fleet_args[@]}" --cmd-qos "$2" --id-prefix "$3" --json "$dir/$3.json" \
        --cut "kill -KILL $(cat "$dir/$1.pid")"
    cp "$dir/out" "$dir/$3.out"
    expect_rc 0
    grep -q "storm: [1-9][0-9]* of $N devices lost their connection" "$dir/out" ||
        fail "killing $1 dropped no device"
    lost=$(sed -n "s/^storm: \([0-9]*\) of $N devices lost.*/\1/p" "$dir/out")
    expect "storm: $lost of the $lost back found their MQTT session (CONNACK session present 1)"
    expect "lost 0"
    # QoS 1 is at least once: a message resent after the failover may come
    # twice (counted, allowed); QoS 2 is exactly once.
    grep -q "commands (QoS $2): [1-9][0-9]* sent, .*lost 0" "$dir/out" ||
        fail "commands at QoS $2 were lost"
    if [ "$2" = 2 ]; then
        grep -q "commands (QoS 2): .*(0 duplicates)" "$dir/out" || fail "a QoS 2 command came twice"
    fi
    grep -q "telemetry (QoS 1): .*operator received [0-9]* ([0-9]* duplicates), lost 0" "$dir/out" ||
        fail "telemetry was lost"
    sed -n 's/^storm: /  /p' "$dir/out"
}

echo "cluster: node-a killed; commands at QoS 2"
failover node-a 2 qos2-
echo "cluster: node-a back, node-b killed; commands at QoS 1"
node_up node-a
for _ in $(seq 1 50); do sleep 0.1; done # HAProxy's health check sees it up (inter 500 ms)
failover node-b 1 qos1-
echo "cluster: failover passed both ways with $N devices: sessions found, nothing lost"
