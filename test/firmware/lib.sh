# SPDX-License-Identifier: Apache-2.0
# Sourced by the firmware tests (bash): one temp dir, every process they
# start listed in $pids and stopped by pid on exit, the modem bridge, and
# one boot of the emulated device. The caller sets $name (for messages),
# $elf and $bridge (absolute paths) first.
dir=$(mktemp -d)
pids=""
fw_cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$dir"
}
trap fw_cleanup EXIT
# fail MESSAGE: says what went wrong, with the device's and the bridge's output.
# With $FW_FAILURES set (matrix.sh), the message and each output's last
# lines are also appended there, to be printed again at the very end.
fail() {
    echo "firmware $name: $*" >&2
    if [ -n "${FW_FAILURES:-}" ]; then
        {
            echo "firmware $name: $*"
            for f in "$dir"/*.out "$dir/bridge.log"; do
                [ -f "$f" ] && tail -n 6 "$f" | sed "s|^|  $(basename "$f"): |"
            done
        } >>"$FW_FAILURES"
    fi
    for f in "$dir"/*.out "$dir/bridge.log"; do
        [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f" >&2
    done
    [ -f "$dir/mosquitto.log" ] && tail -n 40 "$dir/mosquitto.log" | sed "s|^|  mosquitto.log: |" >&2
    exit 1
}
. scripts/broker.sh
certs=$PWD/build/certs

# Starts the modem bridge (its events in bridge.log); sets $bport, $bridge_pid.
fw_bridge() {
    MODEM_BRIDGE_LOG=1 "$bridge" "$dir/bridge.port" 2>"$dir/bridge.log" &
    bridge_pid=$!
    pids="$pids $bridge_pid"
    for _ in $(seq 1 50); do [ -s "$dir/bridge.port" ] && break; sleep 0.1; done
    [ -s "$dir/bridge.port" ] || fail "the modem bridge did not start"
    bport=$(cat "$dir/bridge.port")
}

# fw_boot OUT: one boot of the device, UART0 on the bridge, in $dir (its
# flash files and device.cfg there), output in $dir/OUT; its exit status.
# $fw_qemu: QEMU's clock options. By default -icount shift=4: guest time
# advances 16 ns per instruction while the core runs (a 62.5 MHz Cortex-M4,
# about the 64 MHz parts the targets are for) and with the host's clock
# while it is halted (WFI: waiting for the modem's next byte or the next
# tick). Work is then counted in the device's own time whatever else the
# host runs (without it a loaded host made a 200 M-instruction handshake
# miss its deadline). Waiting is not: a host that stalls QEMU, the bridge
# or the broker stretches the device's waits as a slow link would (a 4 s
# stop of QEMU while the core waits adds 4 s to its handshake). A full
# handshake normally waits about 0.1 s of its time (each run prints "in N
# ms, busy M us"); the firmware gives it 30 s. watchdog.sh uses shift=0
# (1 ns per instruction).
fw_qemu=${fw_qemu:--icount shift=4,align=on}
fw_boot() {
    # shellcheck disable=SC2086 # $fw_qemu is a list of options
    (cd "$dir" && timeout 120 qemu-system-arm -M mps2-an386 -display none -monitor none $fw_qemu \
        -semihosting-config enable=on,target=native \
        -chardev socket,id=modem,host=127.0.0.1,port="$bport" -serial chardev:modem \
        -kernel "$elf" >"$dir/$1" 2>&1)
}
