#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The firmware TLS profile (part of make bench): mbedTLS 2.28 built from
# Debian's own source package with test/fwprofile/mbedtls_device_config.h,
#   1. for a 32-bit host (-m32): a mutual-TLS connect, publish and resumed
#      reconnect against a loopback Mosquitto, every byte of heap from one
#      arena (test/fwprofile/fw_connect.c prints the figures);
#   2. for a Cortex-M4: what mbedTLS + mqtls cost in flash, linked with
#      --gc-sections into a device program.
# The source comes from `apt-get source mbedtls` (scripts/mbedtls-source.sh:
# the deb-src entry that needs is added, announced, and removed afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/fw
mkdir -p "$out"

# ---- 1. the source ------------------------------------------------------------
src=$(bash scripts/mbedtls-source.sh bookworm "$out")
echo "fwprofile: mbedTLS source $src ($(dpkg-parsechangelog -l "$src/debian/changelog" -S Version 2>/dev/null || echo Debian))"

# ---- 2. the library, twice -------------------------------------------------------
build_lib() { # DIR CC FLAGS...
    local dir=$1 cc=$2 f o
    shift 2
    mkdir -p "$dir/obj"
    for f in "$src"/library/*.c; do
        o="$dir/obj/$(basename "$f" .c).o"
        [ "$o" -nt "$f" ] && [ "$o" -nt test/fwprofile/mbedtls_device_config.h ] && continue
        $cc "$@" '-DMBEDTLS_CONFIG_FILE="mbedtls_device_config.h"' -Itest/fwprofile \
            -I"$src/include" -c "$f" -o "$o"
    done
    rm -f "$dir/libmbed_device.a"
    ar rcs "$dir/libmbed_device.a" "$dir"/obj/*.o
}
# MBEDTLS_MEMORY_DEBUG: the arena keeps its statistics (current and peak use).
build_lib "$out/m32" "${CC:-cc}" -m32 -Os -g -ffunction-sections -fdata-sections -DMBEDTLS_MEMORY_DEBUG
echo "fwprofile: mbedTLS for a 32-bit host built"

# ---- 3. the 32-bit measurement against a broker ---------------------------------
mqtls_srcs="net/error.c net/clock_posix.c net/tcp_posix.c mqtt/utf8.c mqtt/topic.c mqtt/codec.c
            mqtt/store.c mqtt/backoff.c mqtt/client.c tls/tls_mbedtls.c tls/tls_config.c
            tls/tls_verify.c tls/tls_explain.c tls/bundle.c tls/tcp_tls.c
            tls/castore.c"
# The device's mbedTLS headers first, so Debian's in /usr/include are not used.
${CC:-cc} -m32 -Os -g -std=c99 -Wall -Wextra -Werror -I"$src/include" -Itest/fwprofile -I. \
    '-DMBEDTLS_CONFIG_FILE="mbedtls_device_config.h"' -DMBEDTLS_MEMORY_DEBUG -DMQTLS_TLS_READ_AHEAD=0 \
    test/fwprofile/fw_connect.c $mqtls_srcs "$out/m32/libmbed_device.a" -lpthread \
    -o "$out/m32/fw_connect"
certs=$PWD/build/certs
dir=$(mktemp -d /tmp/mqtls-fw-XXXXXX) # scripts/broker.sh keeps its files here
broker_dir=$dir
broker_pid=""
trap 'stop_broker; rm -rf "$broker_dir"' EXIT
. scripts/broker.sh
pick_port
start_broker
"$out/m32/fw_connect" "$port" "$certs" | tee "$out/m32/report.txt"
stop_broker

# ---- 4. flash on a Cortex-M4 ---------------------------------------------------
arm=${ARM_CC:-arm-none-eabi-gcc}
target="-mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections"
# No OS entropy on a microcontroller: the board's TRNG (mbedtls_hardware_poll).
build_lib "$out/m4" "$arm" $target -DMBEDTLS_NO_PLATFORM_ENTROPY -DMBEDTLS_ENTROPY_HARDWARE_ALT
mkdir -p "$out/m4/mqtls"
for f in $mqtls_srcs test/fwprofile/fw_device.c; do
    case $f in net/clock_posix.c|net/tcp_posix.c|tls/tcp_tls.c) continue ;; esac
    $arm $target -std=c99 -Wall -Wextra -Werror -I"$src/include" -Itest/fwprofile -I. \
        '-DMBEDTLS_CONFIG_FILE="mbedtls_device_config.h"' -DMBEDTLS_NO_PLATFORM_ENTROPY \
        -DMBEDTLS_ENTROPY_HARDWARE_ALT -DMQTLS_TLS_READ_AHEAD=0 -DMQTLS_TLS_POSIX_CLOCK=0 \
        -DMQTLS_ERROR_TEXT=0 \
        -c "$f" -o "$out/m4/mqtls/$(basename "$f" .c).o"
done
$arm -mcpu=cortex-m4 -mthumb --specs=nano.specs --specs=nosys.specs -nostartfiles \
    -Wl,--gc-sections -Wl,-e,fw_device_entry -Wl,-Map,"$out/m4/device.map" \
    "$out"/m4/mqtls/*.o "$out/m4/libmbed_device.a" -o "$out/m4/device.elf"
awk -f scripts/kept-by-object.awk "$out/m4/device.map" | sort >"$out/m4/kept.txt"
{
    echo "firmware TLS profile, Cortex-M4 flash ($("$arm" --version | head -n 1)), -Os, --gc-sections,"
    echo "MQTLS_ERROR_TEXT=0 (error names, not sentences), no CA store linked (not used):"
    awk '
        $1 ~ /^(codec|topic|utf8|store|backoff|client)\.o$/ { mqtt += $2; next }
        $1 ~ /^(tls_mbedtls|tls_config|tls_verify|tls_explain|bundle|castore)\.o$/ { tls += $2; next }
        $1 ~ /^(error)\.o$/ { net += $2; next }
        $1 == "fw_device.o" { next }
        $1 ~ /^lib_a-/ { libc += $2; next }
        { mbed += $2 }
        END {
            printf "  mqtt/ (codec, client, store, backoff)   %7d bytes\n", mqtt
            printf "  tls/ (the mbedTLS glue)                 %7d bytes\n", tls
            printf "  net/ (error names)                      %7d bytes\n", net
            printf "  mbedTLS (device configuration)          %7d bytes\n", mbed
            printf "  total MQTT + TLS                        %7d bytes\n", mqtt + tls + net + mbed
            printf "  C library (newlib-nano, shared)         %7d bytes\n", libc
        }' "$out/m4/kept.txt"
} | tee "$out/m4/report.txt"

# ---- 5. into docs/memory.md ------------------------------------------------------
{
    echo "make bench, $(date -u +%Y-%m-%d); mbedTLS $(basename "$src") from Debian's source package,"
    echo "configured by test/fwprofile/mbedtls_device_config.h"
    echo
    cat "$out/m32/report.txt"
    echo
    cat "$out/m4/report.txt"
} >"$out/report.txt"
sh scripts/doc-section.sh docs/memory.md fwprofile "$out/report.txt"
echo "fwprofile: written to docs/memory.md"
