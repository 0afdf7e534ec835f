#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mbedTLS for the emulated Cortex-M4 firmware (ports/qemu-mps2), from
# Debian's source packages (scripts/mbedtls-source.sh) with a device
# configuration from test/fwprofile/, picolibc, entropy from the board
# (mbedtls_hardware_poll) and, on 3.6, its millisecond clock
# (mbedtls_ms_time, with -DMBEDTLS_PLATFORM_MS_TIME_ALT in FLAGS). Builds OUT/libmbed_fw.a, recompiling only what
# changed; prints nothing on success.
#   scripts/fw-mbedtls.sh OUT SUITE CONFIG CC FLAGS...
#     SUITE   bookworm (2.28) or trixie (3.6)
#     CONFIG  a file in test/fwprofile/ (mbedtls_device_config.h, ...)
set -euo pipefail
out=$1 suite=$2 config=$3 cc=$4
shift 4
case $suite in
    bookworm) src=$(bash scripts/mbedtls-source.sh bookworm build/fw) ;;
    trixie) src=$(bash scripts/mbedtls-source.sh trixie build/mbedtls-3.6/src) ;;
    *) echo "fw-mbedtls: unknown suite $suite" >&2; exit 1 ;;
esac
mkdir -p "$out/obj"
echo "$src $config $cc $*" >"$out/flags.new"
cmp -s "$out/flags.new" "$out/flags" 2>/dev/null || rm -f "$out"/obj/*.o
mv "$out/flags.new" "$out/flags"
for f in "$src"/library/*.c; do
    o="$out/obj/$(basename "$f" .c).o"
    [ "$o" -nt "$f" ] && [ "$o" -nt "test/fwprofile/$config" ] && continue
    $cc "$@" "-DMBEDTLS_CONFIG_FILE=\"$config\"" -DMBEDTLS_NO_PLATFORM_ENTROPY \
        -DMBEDTLS_ENTROPY_HARDWARE_ALT -Itest/fwprofile -I"$src/include" -c "$f" -o "$o"
done
rm -f "$out/libmbed_fw.a"
arm-none-eabi-ar rcs "$out/libmbed_fw.a" "$out"/obj/*.o
echo "$src" >"$out/source"
