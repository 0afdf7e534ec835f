#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mbedTLS for the emulated Cortex-M4 firmware (ports/qemu-mps2): Debian's
# 2.28 source package (scripts/mbedtls-source.sh), the device configuration
# test/fwprofile/mbedtls_device_config.h, picolibc, entropy from the
# board (mbedtls_hardware_poll). Builds OUT/libmbed_fw.a, recompiling only
# what changed; prints nothing on success.
#   scripts/fw-mbedtls.sh OUT CC FLAGS...
set -euo pipefail
out=$1 cc=$2
shift 2
src=$(bash scripts/mbedtls-source.sh bookworm build/fw)
mkdir -p "$out/obj"
echo "$cc $*" >"$out/flags.new"
cmp -s "$out/flags.new" "$out/flags" 2>/dev/null || rm -f "$out"/obj/*.o
mv "$out/flags.new" "$out/flags"
config=test/fwprofile/mbedtls_device_config.h
for f in "$src"/library/*.c; do
    o="$out/obj/$(basename "$f" .c).o"
    [ "$o" -nt "$f" ] && [ "$o" -nt "$config" ] && continue
    $cc "$@" -DMBEDTLS_CONFIG_FILE='"mbedtls_device_config.h"' -DMBEDTLS_NO_PLATFORM_ENTROPY \
        -DMBEDTLS_ENTROPY_HARDWARE_ALT -Itest/fwprofile -I"$src/include" -c "$f" -o "$o"
done
rm -f "$out/libmbed_fw.a"
arm-none-eabi-ar rcs "$out/libmbed_fw.a" "$out"/obj/*.o
echo "$src" >"$out/source"
