#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A Mosquitto of your own on loopback, left running, for trying mqtls by
# hand (docs/getting-started.md):
#
#   eval "$(scripts/local-broker.sh start)"   # exports MQTLS_TLS_PORT, MQTLS_PORT
#   scripts/local-broker.sh stop
#
# Mutual TLS (clients need a certificate from the test PKI's Root A) on one
# port, plain TCP on another, both on 127.0.0.1. The ports are free ones it
# picks (Debian's own mosquitto.service may hold 1883 and 8883), or the ones
# given with --tls-port / --port. Its config, the copies of the keys it
# reads (owned by you, mode 600: Mosquitto runs as you, so it can read them)
# and its log are in the state directory, build/local-broker unless
# --dir DIR (or MQTLS_BROKER_DIR) says otherwise. `stop` stops it by the pid
# it wrote there, after checking that the pid is still that Mosquitto.
#
# start prints the shell assignments on stdout (for eval), and on stderr
# where it is and how to stop it; errors go to stderr, exit status 1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
certs=${MQTLS_CERTS:-$here/build/certs}
state=${MQTLS_BROKER_DIR:-$here/build/local-broker}
tls_port=""
plain_port=""

usage() {
    cat <<'USAGE'
usage: scripts/local-broker.sh start [--tls-port N] [--port N] [--dir DIR]
       scripts/local-broker.sh stop [--dir DIR]
       scripts/local-broker.sh status [--dir DIR]
USAGE
}
die() { echo "local-broker: $*" >&2; exit 1; }

cmd=${1:-}
[ -n "$cmd" ] || { usage >&2; exit 1; }
shift
while [ $# -gt 0 ]; do
    case "$1" in
        --tls-port) [ $# -ge 2 ] || die "--tls-port needs a port"; tls_port=$2; shift 2 ;;
        --port) [ $# -ge 2 ] || die "--port needs a port"; plain_port=$2; shift 2 ;;
        --dir) [ $# -ge 2 ] || die "--dir needs a directory"; state=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option '$1'" ;;
    esac
done
for p in "$tls_port" "$plain_port"; do
    [ -z "$p" ] && continue
    case "$p" in *[!0-9]*) die "'$p' is not a port number" ;; esac
    [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || die "'$p' is not a port number (1-65535)"
done

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { # a free loopback port, not $1, below the ephemeral range (bounded)
    local p low=32768
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    [ "$low" -gt 12000 ] || low=32768
    for _ in $(seq 1 100); do
        p=$((10000 + RANDOM % (low - 10000)))
        [ "$p" != "${1:-}" ] && ! listening "$p" && { echo "$p"; return 0; }
    done
    die "no free loopback port found in 100 tries"
}

# The pid in the state directory, if it is still the Mosquitto we started
# with this directory's config (a pid can be reused once it has exited).
running_pid() {
    local pid
    [ -r "$state/pid" ] || return 1
    pid=$(cat "$state/pid")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    case "$(tr '\0' ' ' <"/proc/$pid/cmdline")" in *"$state/mosquitto.conf"*) ;; *) return 1 ;; esac
    echo "$pid"
}

case "$cmd" in
start)
    if pid=$(running_pid); then
        die "already running (pid $pid, $state); scripts/local-broker.sh stop first"
    fi
    [ -r "$certs/root-a.crt" ] || die "no test PKI in $certs: run 'make certs' first"
    bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    [ -x "$bin" ] || die "mosquitto is not installed (make demo installs it)"
    [ -n "$tls_port" ] || tls_port=$(free_port "$plain_port")
    [ -n "$plain_port" ] || plain_port=$(free_port "$tls_port")
    [ "$tls_port" != "$plain_port" ] || die "the TLS and plain ports are both $tls_port"
    for p in "$tls_port" "$plain_port"; do
        ! listening "$p" || die "port $p on 127.0.0.1 is already in use"
    done
    mkdir -p "$state"
    rm -f "$state/pid" "$state/mosquitto.log"
    (umask 077
     cp "$certs/root-a.crt" "$state/ca.crt"
     cp "$certs/server-a-chain.pem" "$state/server.crt"
     cp "$certs/server-a.key" "$state/server.key")
    cat >"$state/mosquitto.conf" <<CONF
# Written by scripts/local-broker.sh; stopped by scripts/local-broker.sh stop.
persistence false
user $(id -un)
log_dest file $state/mosquitto.log
log_type all
per_listener_settings true
listener $plain_port 127.0.0.1
allow_anonymous true
listener $tls_port 127.0.0.1
cafile $state/ca.crt
certfile $state/server.crt
keyfile $state/server.key
require_certificate true
use_identity_as_username true
allow_anonymous false
CONF
    # setsid: the broker outlives the shell that started it, and a Ctrl-C
    # there does not reach it.
    setsid "$bin" -c "$state/mosquitto.conf" >"$state/mosquitto.out" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$state/pid"
    for _ in $(seq 1 100); do
        listening "$tls_port" && listening "$plain_port" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if ! listening "$tls_port" || ! listening "$plain_port"; then
        kill "$pid" 2>/dev/null || true
        rm -f "$state/pid"
        die "mosquitto did not start: $(cat "$state/mosquitto.out" "$state/mosquitto.log" 2>/dev/null | tail -3)"
    fi
    echo "export MQTLS_TLS_PORT=$tls_port MQTLS_PORT=$plain_port"
    {
        echo "local-broker: mosquitto (pid $pid): mutual TLS on 127.0.0.1:$tls_port, plain TCP on 127.0.0.1:$plain_port"
        echo "local-broker: MQTLS_TLS_PORT=$tls_port MQTLS_PORT=$plain_port (exported when run under eval)"
        echo "local-broker: config and log in $state; stop it with: scripts/local-broker.sh stop"
    } >&2
    ;;
stop)
    if ! pid=$(running_pid); then
        rm -f "$state/pid"
        echo "local-broker: not running ($state)" >&2
        exit 0
    fi
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        die "mosquitto (pid $pid) did not stop within 5 s"
    fi
    rm -f "$state/pid"
    echo "local-broker: stopped mosquitto (pid $pid)" >&2
    ;;
status)
    if pid=$(running_pid); then
        echo "local-broker: running (pid $pid, $state)"
    else
        echo "local-broker: not running ($state)"
        exit 3
    fi
    ;;
*) usage >&2; exit 1 ;;
esac
