#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The port on the emulated Cortex-M4 (QEMU mps2-an386): the first firmware
# boots three times over one flash image; each boot must find the messages
# the earlier ones stored (the flash store running on the target's own
# instructions) and report a running millisecond clock, host entropy and
# calendar time. Bounded: each boot has 20 s.
set -eu
elf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
for boot in 1 2 3; do
    out=$(timeout 20 qemu-system-arm -M mps2-an386 -display none -monitor none -serial null \
        -semihosting-config enable=on,target=native -kernel "$elf" 2>&1) || {
        echo "firmware-check: boot $boot: QEMU failed or the firmware exited non-zero" >&2
        exit 1
    }
    echo "  boot $boot: $out"
    case "$out" in
        *"$boot stored messages"*) ;;
        *) echo "firmware-check: boot $boot should find $boot stored messages" >&2; exit 1 ;;
    esac
    case "$out" in
        *"entropy 00000000"*|*"time 0,"*) echo "firmware-check: no entropy or time from the host" >&2; exit 1 ;;
    esac
done
echo "firmware-check: the port boots on mps2-an386; the flash store keeps its messages across boots"
