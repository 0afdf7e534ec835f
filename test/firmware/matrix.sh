#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The device matrix's tests, one group per build, the groups side by side
# (each test has its own temp dir, free ports, broker and modem bridge;
# QEMU mostly waits on the network, so three fit two cores). Each group's
# output is kept and printed whole, in order, when all are done.
#   test/firmware/matrix.sh FW_DIR
set -u
fw=$1
br=$fw/modem_bridge
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
group() { # group NAME COMMAND...: the commands in order, stopping at the first failure
    local name=$1
    shift
    (
        export FW_FAILURES="$logs/$name.why"
        while [ $# -gt 0 ]; do
            # shellcheck disable=SC2086 # each argument is one command line
            eval "$1" || exit 1
            shift
        done
    ) >"$logs/$name" 2>&1
}
group 2.28 "bash test/firmware/tls.sh $fw/2.28/telemetry.elf $br" \
    "bash test/firmware/telemetry.sh $fw/2.28/telemetry.elf $br $fw/2.28/measured.txt" &
a=$!
group 3.6 "bash test/firmware/telemetry.sh $fw/3.6/telemetry.elf $br $fw/3.6/measured.txt" \
    "bash test/firmware/watchdog.sh $fw/3.6/telemetry.elf $br 50 1" &
b=$!
group 3.6-tls13 "bash test/firmware/tls.sh $fw/3.6-tls13/telemetry.elf $br" \
    "bash test/firmware/telemetry.sh $fw/3.6-tls13/telemetry.elf $br $fw/3.6-tls13/measured.txt" &
c=$!
status=0
for g in "2.28:$a" "3.6:$b" "3.6-tls13:$c"; do
    wait "${g#*:}" || { status=1; failed="${failed:-} ${g%%:*}"; }
done
for name in 2.28 3.6 3.6-tls13; do
    echo "== firmware build $name"
    cat "$logs/$name"
done
# What failed, again at the end, where a log's tail shows it.
for name in ${failed:-}; do
    why="$logs/$name.why"
    [ -s "$why" ] || tail -n 12 "$logs/$name" >"$why"
    sed "s|^|firmware build $name: |" "$why" >&2
done
[ "$status" = 0 ] || echo "firmware matrix: failed:${failed}" >&2
exit $status
