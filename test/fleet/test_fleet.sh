#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mqtls-fleet's scenarios at a small N against Mosquitto (and HAProxy for
# the cut), each checked by what it prints and by its exit status:
#   connect   every device connects, publishes QoS 1, nothing is lost;
#   storm     every connection cut at the proxy (persistent sessions,
#             commands at QoS 2 too): all back, nothing lost either way,
#             sessions resumed; then without resumption or jitter; then a
#             broker restart: all back, every handshake full, and said so;
#   rehearse  90% trust {A,B}, 10% {A}, the broker serves B: exactly the
#             10% would be lost, in the device's words;
#   rollover  signed {A,B}, the broker switches to B, signed {B}: zero
#             lost, no device depends on A;
# and the tool refuses a broker that is not on this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
certs=$PWD/build/certs
dir=$(mktemp -d /tmp/mqtls-fleet-XXXXXX)
. test/fleet/lib.sh
cleanup() {
    stop_pid_file haproxy
    stop_pid_file broker
    rm -rf "$dir"
}
trap cleanup EXIT
N=${FLEET_N:-50}
pki=(--ca-cert "$certs/root-a.crt" --ca-key "$certs/root-a.key" --tls-name localhost)
fast=(--backoff-min 100 --backoff-max 1000 --timeout 60 --drain 10)

# ---- connect
pick_port
broker_up broker
bport=$(cat "$dir/broker.port")
run_fleet connect -p "$bport" "${pki[@]}" "${fast[@]}" --cafile "$certs/root-a.crt" -n "$N" \
    --interval 0.5 --duration 2 --csv "$dir/c.csv" --json "$dir/c.json"
expect_rc 0
expect "connect: $N of $N devices connected"
expect "handshakes: $N full, 0 resumed"
expect "lost 0"
[ "$(($(wc -l <"$dir/c.csv") - 1))" = "$N" ] || fail "the CSV has no row per device"
python3 - "$dir/c.json" "$N" <<'PY' || fail "the JSON is not one entry per device, each acknowledged"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["devices"]) == int(sys.argv[2])
assert all(x["state"] == "connected" and x["published"] > 0 and x["acked"] == x["published"]
           and x["telemetry_received"] == x["published"] for x in d["devices"])
assert sum(s["full"] for s in d["seconds"]) == int(sys.argv[2])
PY

# ---- storm: the proxy cuts every connection; the broker keeps the sessions
proxy_up "127.0.0.1:$bport"
run_fleet storm -p "$proxy_port" "${pki[@]}" "${fast[@]}" --cafile "$certs/root-a.crt" -n "$N" \
    -c --interval 0.5 --duration 2 --commands 1 --cmd-qos 2 --cut-after 2 \
    --cut "bash $(proxy_cut_script 1)"
expect_rc 0
expect "storm: $N of $N devices lost their connection; $N back"
expect "resumption on"
expect "lost 0"
expect "commands (QoS 2):"
grep -q "commands (QoS 2): [1-9][0-9]* sent, .*lost 0" "$dir/out" || fail "commands were lost"
grep -q "handshakes (peak [0-9]*/s): 0 full, $N resumed" "$dir/out" ||
    fail "after the cut every device should have resumed its session"
cp "$dir/out" "$dir/storm-resume.out"

# The same without resumption or jitter: every handshake full.
run_fleet storm -p "$proxy_port" "${pki[@]}" "${fast[@]}" --cafile "$certs/root-a.crt" -n "$N" \
    -c --interval 0.5 --duration 1 --cut-after 1 --resume off --jitter off \
    --cut "bash $(proxy_cut_script 1)" --id-prefix nojitter-
expect_rc 0
expect "$N back"
expect "jitter off, resumption off"
grep -q "handshakes (peak [0-9]*/s): $N full, 0 resumed" "$dir/out" ||
    fail "without resumption every handshake is full"
stop_pid_file haproxy

# ---- storm: the broker restarts (no session cache, new ticket keys)
run_fleet storm -p "$bport" "${pki[@]}" "${fast[@]}" --cafile "$certs/root-a.crt" -n "$N" \
    --interval 0.5 --duration 1 --cut-after 1 --cut "bash $(restart_script broker)"
expect_rc 0
expect "storm: $N of $N devices lost their connection; $N back"
expect "every device made a full handshake"
grep -q "handshakes (peak [0-9]*/s): [0-9]* full, 0 resumed" "$dir/out" ||
    fail "a restarted Mosquitto resumes nothing"
stop_pid_file broker

# ---- rehearse: the broker already serves Root B's chain
broker_cert=server-b.crt broker_key=server-b.key broker_up broker
bport=$(cat "$dir/broker.port")
named=(--ca "A=$certs/root-a.crt" --ca "B=$certs/root-b.crt")
run_fleet rehearse -p "$bport" "${pki[@]}" "${fast[@]}" "${named[@]}" --trust 90:A,B --trust 10:A \
    -n "$N" --csv "$dir/r.csv"
expect_rc 1
lost=$((N / 10))
expect "$lost of $N devices would be lost"
expect "trust {A,B}: $((N - lost)) devices, 0 would be lost"
expect "trust {A}: $lost devices, $lost would be lost"
expect "MQTLS_ERR_TLS_CERT_UNTRUSTED: server certificate is not signed by a trusted CA (subject CN=broker, issuer CN=mqtls Test Root B)"
[ "$(grep -c never-connected "$dir/r.csv")" = "$lost" ] || fail "the CSV does not name the lost devices"
run_fleet rehearse -p "$bport" "${pki[@]}" "${fast[@]}" "${named[@]}" --trust 100:A,B -n "$N"
expect_rc 0
expect "0 of $N devices would be lost"
stop_pid_file broker

# ---- rollover: {A,B} signed, the broker switches to B, {B} signed
broker_up broker
bport=$(cat "$dir/broker.port")
./build/examples/mqtls-ca-sign -k "$certs/update-signer.key" -V 2 -d 1 -o "$dir/u1" \
    "$certs/root-a.crt" "$certs/root-b.crt" >/dev/null
./build/examples/mqtls-ca-sign -k "$certs/update-signer.key" -V 3 -d 1 -o "$dir/u2" \
    "$certs/root-b.crt" >/dev/null
run_fleet rollover -p "$bport" "${pki[@]}" "${fast[@]}" "${named[@]}" --trust 100:A -n "$N" \
    --interval 0.5 --signer-pub "$certs/update-signer.pub" --update "$dir/u1" --update "$dir/u2" \
    --switch "bash $(restart_script broker server-b.crt server-b.key)" --csv "$dir/ro.csv"
expect_rc 0
expect "update 1 (version 2): $N devices staged, proved and committed it, 0 did not"
expect "$N of $N devices connected after it"
expect "since the switch, 0 connects ended at CA A"
expect "update 2 (version 3): $N devices staged, proved and committed it, 0 did not"
expect "$N devices trust B"
expect "no device still depends on A"
expect "rollover: 0 devices lost"
python3 - "$dir/ro.csv" "$N" <<'PY' || fail "not every device is on version 3"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == int(sys.argv[2]) and all(r["ca_version"] == "3" for r in rows)
PY
stop_pid_file broker

# ---- a load generator stays on this machine
set +e
"$fleet_bin" connect -h 192.0.2.1 -p 8883 "${pki[@]}" --cafile "$certs/root-a.crt" >"$dir/out" 2>&1
fleet_rc=$?
set -e
expect_rc 2
expect "not a loopback address"
set +e
"$fleet_bin" connect -p 1 "${pki[@]}" --cafile "$certs/root-a.crt" -q 3 >"$dir/out" 2>&1
fleet_rc=$?
set -e
expect_rc 2
expect "--qos 3: out of range (0 to 2)"
"$fleet_bin" --help >"$dir/out" && expect "rollover" && expect "--max-handshakes"
"$fleet_bin" --version >"$dir/out" && expect "mqtls-fleet "
echo "fleet: connect, storm (proxy cut, with and without resumption and jitter; broker restart), rehearse and rollover passed with $N devices"
