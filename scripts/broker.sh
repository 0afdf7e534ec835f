# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts that need a broker of their own (bash): a free loopback
# port, Mosquitto with mutual TLS and a config in a temp dir, stopped by
# its pid. Needs $certs (the test PKI) and $dir (a temp dir it may use).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Sets $port to a free loopback port (bounded search), below the kernel's
# ephemeral range (ip_local_port_range): a port in it may be taken by any
# outgoing connection between our pick and the broker's bind, which make
# check's side-by-side suites made happen.
pick_port() {
    local low=32768 p
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    [ "$low" -gt 12000 ] || low=32768
    port=""
    for _ in $(seq 1 50); do
        p=$((10000 + RANDOM % (low - 10000)))
        if ! listening "$p"; then port=$p; return 0; fi
    done
    echo "no free loopback port found" >&2
    return 1
}

# Starts Mosquitto on 127.0.0.1:$port: clients need a certificate from
# Root A, whose name becomes their user name. Sets $broker_pid. A port
# taken between pick_port and the bind (another suite's pick) gets another
# port, at most three times; $port is then the one in use (unless
# $keep_port is set: a restart must come back where it was). The server
# chain is $broker_cert and $broker_key in $certs (default Root A's);
# $broker_extra, lines added to its config.
start_broker() {
    local bin attempt
    bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    for attempt in 1 2 3; do
        cat >"$dir/mosquitto.conf" <<CONF
persistence false
user $(id -un)
log_dest file $dir/mosquitto.log
listener $port 127.0.0.1
cafile $certs/root-a.crt
certfile $certs/${broker_cert:-server-a-chain.pem}
keyfile $certs/${broker_key:-server-a.key}
require_certificate true
use_identity_as_username true
allow_anonymous false
${broker_extra:-}
CONF
        : >"$dir/mosquitto.log"
        "$bin" -c "$dir/mosquitto.conf" >"$dir/mosquitto.out" 2>&1 &
        broker_pid=$!
        # Up when its own log says it runs (all listeners bound) and the
        # port answers: something else listening there is not it.
        for _ in $(seq 1 50); do
            kill -0 "$broker_pid" 2>/dev/null || break
            grep -q " running" "$dir/mosquitto.log" 2>/dev/null && listening "$port" && return 0
            sleep 0.1
        done
        if ! kill -0 "$broker_pid" 2>/dev/null && grep -q "Address already in use" "$dir/mosquitto.log"; then
            wait "$broker_pid" 2>/dev/null
            broker_pid=""
            [ "$attempt" -lt 3 ] && [ -z "${keep_port:-}" ] && pick_port && continue
        fi
        break
    done
    echo "mosquitto did not start:" >&2
    cat "$dir/mosquitto.out" "$dir/mosquitto.log" >&2 2>/dev/null
    return 1
}

stop_broker() {
    if [ -n "${broker_pid:-}" ]; then
        kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
        broker_pid=""
    fi
    return 0
}
