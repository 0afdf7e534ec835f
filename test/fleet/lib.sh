# SPDX-License-Identifier: Apache-2.0
# Sourced by the fleet tests (bash): brokers and proxies of their own on
# free loopback ports, each started so that a command run by mqtls-fleet
# (a cut, a restart, a switch) can stop and start it again, and each
# stopped by its pid at exit. Needs $certs and $dir.
. scripts/broker.sh

fleet_bin=${FLEET_BIN:-build/examples/mqtls-fleet}

# Pid files hold "PID STARTTIME" (field 22 of /proc/PID/stat): a process
# that died (killed by a cut, or crashed) leaves its file behind, and its
# pid may be another suite's process by the time we stop it (pids wrap:
# pid_max is 32,768 here), so nothing is killed whose start time differs.
start_time() { sed -n 's/^.*) [A-Za-z] //p' "/proc/$1/stat" 2>/dev/null | awk '{ print $19 }'; }
save_pid() { echo "$2 $(start_time "$2")" >"$dir/$1.pid"; }
# The live pid of $1 (from its pid file), or nothing.
pid_of() {
    local pid st
    [ -r "$dir/$1.pid" ] || return 0
    read -r pid st <"$dir/$1.pid"
    [ -n "$st" ] && [ "$(start_time "$pid")" = "$st" ] && echo "$pid"
    return 0
}

# A process started from a subshell is not the test shell's child, so a
# script run by the fleet can kill it and see it gone (no zombie).
# $1: a name; the broker's pid goes to $dir/$1.pid, its port to $port.
broker_up() {
    local name=$1
    ( start_broker >"$dir/$name.start" 2>&1 || exit 1; save_pid "$name" "$broker_pid" ) ||
        { cat "$dir/$name.start" >&2; return 1; }
    echo "$port" >"$dir/$name.port"
}

# Stops the process of $dir/$1.pid, if it is still the one we started,
# waiting (bounded) until it is gone.
stop_pid_file() {
    local pid
    pid=$(pid_of "$1")
    rm -f "$dir/$1.pid"
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do [ "$(start_time "$pid")" != "" ] || return 0; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
}

# A script that restarts broker $1 on its port (optionally with another
# chain: $2 certificate, $3 key), for --cut or --switch.
restart_script() {
    local name=$1 out=$dir/restart-$1.sh
    cat >"$out" <<SCRIPT
#!/usr/bin/env bash
set -e
cd "$PWD"
certs=$certs dir=$dir port=\$(cat "$dir/$name.port")
. test/fleet/lib.sh
stop_pid_file $name
broker_cert=${2:-server-a-chain.pem} broker_key=${3:-server-a.key} keep_port=1 start_broker >/dev/null
save_pid $name "\$broker_pid"
SCRIPT
    echo "$out"
}

# HAProxy in TCP mode on a free port ($proxy_port) in front of $1 (host:port
# lines, one per server), with an admin socket on $proxy_admin: "shutdown
# sessions server be/s1" cuts every connection through s1.
proxy_up() {
    local servers=$1 i=1 line
    pick_port; proxy_admin=$port
    pick_port; proxy_port=$port
    {
        echo "global"
        echo "    maxconn ${proxy_maxconn:-8000}"
        echo "    stats socket ipv4@127.0.0.1:$proxy_admin level admin"
        echo "defaults"
        echo "    mode tcp"
        echo "    timeout connect 2s"
        echo "    timeout client 10m"
        echo "    timeout server 10m"
        echo "frontend fe"
        echo "    bind 127.0.0.1:$proxy_port"
        echo "    default_backend be"
        echo "backend be"
        echo "    balance roundrobin"
        for line in $servers; do
            echo "    server s$i $line check inter 500 fall 1 rise 1"
            i=$((i + 1))
        done
    } >"$dir/haproxy.cfg"
    ( haproxy -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 & save_pid haproxy $! )
    for _ in $(seq 1 50); do listening "$proxy_port" && return 0; sleep 0.1; done
    echo "haproxy did not start:" >&2
    cat "$dir/haproxy.log" >&2
    return 1
}

# A script that cuts every connection through server s$1 (for --cut).
proxy_cut_script() {
    local out=$dir/cut-s$1.sh
    cat >"$out" <<SCRIPT
#!/usr/bin/env bash
exec 3<>/dev/tcp/127.0.0.1/$proxy_admin
echo 'shutdown sessions server be/s$1' >&3
cat <&3 >/dev/null
SCRIPT
    echo "$out"
}

# Runs mqtls-fleet (bounded by timeout), its output in $dir/out and
# $fleet_rc.
run_fleet() {
    set +e
    timeout "${FLEET_RUN_TIMEOUT:-300}" "${FLEET_BIN:-$fleet_bin}" "$@" --quiet >"$dir/out" 2>&1
    fleet_rc=$?
    set -e
}

fail() { echo "fleet: $*" >&2; echo "--- output:" >&2; cat "$dir/out" >&2 2>/dev/null; exit 1; }
expect() { grep -qF -- "$1" "$dir/out" || fail "expected \"$1\""; }
expect_rc() { [ "$fleet_rc" = "$1" ] || fail "exit status $fleet_rc, expected $1"; }
