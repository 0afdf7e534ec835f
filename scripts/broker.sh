# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts that need a broker of their own (bash): a free loopback
# port, Mosquitto with mutual TLS and a config in a temp dir, stopped by
# its pid. Needs $certs (the test PKI) and $dir (a temp dir it may use).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Sets $port to a free loopback port (bounded search).
pick_port() {
    port=""
    for _ in $(seq 1 50); do
        local p=$((20000 + RANDOM % 40000))
        if ! listening "$p"; then port=$p; return 0; fi
    done
    echo "no free loopback port found" >&2
    return 1
}

# Starts Mosquitto on 127.0.0.1:$port: clients need a certificate from
# Root A, whose name becomes their user name. Sets $broker_pid.
start_broker() {
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
    local bin
    bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    "$bin" -c "$dir/mosquitto.conf" >"$dir/mosquitto.out" 2>&1 &
    broker_pid=$!
    for _ in $(seq 1 50); do listening "$port" && return 0; sleep 0.1; done
    echo "mosquitto did not start:" >&2
    cat "$dir/mosquitto.out" >&2
    return 1
}

stop_broker() {
    if [ -n "${broker_pid:-}" ]; then
        kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
        broker_pid=""
    fi
    return 0
}
