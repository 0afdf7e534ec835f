#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The firmware TLS profiles (part of make bench). Each profile is mbedTLS
# built from Debian's own source package with a device configuration from
# test/fwprofile/:
#   2.28            mbedtls_device_config.h (bookworm's 2.28), TLS 1.2
#   3.6 TLS 1.2     mbedtls36_device_config.h (trixie's 3.6)
#   3.6 TLS 1.2+1.3 the same with -DMQTLS_FW_TLS13
#   3.6 TLS 1.3, 2 KB records: and -DMQTLS_FW_SMALL_RECORDS, against a
#                   Mosquitto made to send small records (small_records.c)
# and for each:
#   1. a 32-bit ARM Linux build (arm-linux-gnueabihf, run here by qemu-arm):
#      a mutual-TLS connect, publish, and resumed reconnect against a
#      loopback Mosquitto, every byte of heap from one arena, the stack
#      painted (test/fwprofile/fw_connect.c prints the figures), once per
#      TLS version the profile speaks;
#   2. a Cortex-M4 build: what mbedTLS + mqtls cost in flash (and static
#      RAM), linked with --gc-sections into a device program.
# Any step that cannot run fails the script (set -e, pipefail): a figure
# never silently goes missing. The sources come from `apt-get source
# mbedtls` (scripts/mbedtls-source.sh: the deb-src entry that needs is
# added, announced, and removed afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/fw
mkdir -p "$out"
# clang cross-compiles for ARM Linux with Debian's armhf C library
# (scripts/install-deps.sh --bench says why not gcc).
arm_linux=${ARM_LINUX_CC:-clang --target=arm-linux-gnueabihf}
arm=${ARM_CC:-arm-none-eabi-gcc}
echo 'int main(void){return 0;}' >"$out/probe.c"
$arm_linux -static "$out/probe.c" -o "$out/probe" ||
    { echo "fwprofile: $arm_linux cannot build for ARM Linux (make bench-deps)" >&2; exit 1; }
qemu-arm "$out/probe" || { echo "fwprofile: qemu-arm cannot run it (make bench-deps)" >&2; exit 1; }

src228=$(bash scripts/mbedtls-source.sh bookworm "$out")
src36=$(bash scripts/mbedtls-source.sh trixie build/mbedtls-3.6/src)
echo "fwprofile: mbedTLS sources $src228, $src36"

# mbedTLS for one target: build_lib DIR SRC CONFIG CC FLAGS...
build_lib() {
    local dir=$1 src=$2 config=$3 cc=$4 f o
    shift 4
    mkdir -p "$dir/obj"
    echo "$cc $* $config" >"$dir/flags.new"
    cmp -s "$dir/flags.new" "$dir/flags" 2>/dev/null || rm -f "$dir"/obj/*.o
    mv "$dir/flags.new" "$dir/flags"
    for f in "$src"/library/*.c; do
        o="$dir/obj/$(basename "$f" .c).o"
        [ "$o" -nt "$f" ] && [ "$o" -nt "test/fwprofile/$config" ] && continue
        $cc "$@" "-DMBEDTLS_CONFIG_FILE=\"$config\"" -Itest/fwprofile -I"$src/include" -c "$f" -o "$o"
    done
    rm -f "$dir/libmbed_device.a"
    ar rcs "$dir/libmbed_device.a" "$dir"/obj/*.o
}

mqtls_srcs="net/error.c net/version.c net/clock_posix.c net/tcp_posix.c mqtt/utf8.c mqtt/topic.c
            mqtt/codec.c mqtt/store.c mqtt/backoff.c mqtt/client.c tls/tls_mbedtls.c
            tls/tls_config.c tls/tls_verify.c tls/tls_explain.c tls/tls_compat.c tls/tls_compat_crypto.c tls/bundle.c
            tls/tcp_tls.c tls/castore.c"
certs=$PWD/build/certs
dir=$(mktemp -d /tmp/mqtls-fw-XXXXXX) # scripts/broker.sh keeps its files here
broker_dir=$dir
broker_pid=""
trap 'stop_broker; rm -rf "$broker_dir"' EXIT
. scripts/broker.sh
pick_port
start_broker

# profile NAME SRC CONFIG "DEFINES" "RUNS" (runs: VERSION:MFL ...)
profile() {
    local name=$1 src=$2 config=$3 defs=$4 runs=$5 d=$out/$1 run v m
    # ---- 32-bit ARM Linux, under qemu-arm, against the broker
    # MBEDTLS_MEMORY_DEBUG: the arena keeps its statistics (current and peak).
    build_lib "$d/arm" "$src" "$config" "$arm_linux" -Os -g -ffunction-sections -fdata-sections \
        -DMBEDTLS_MEMORY_DEBUG $defs
    # The device's mbedTLS headers first, so Debian's in /usr/include are not used.
    $arm_linux -static -Os -g -std=c99 -Wall -Wextra -Werror -I"$src/include" -Itest/fwprofile -I. \
        "-DMBEDTLS_CONFIG_FILE=\"$config\"" -DMBEDTLS_MEMORY_DEBUG -DMQTLS_TLS_READ_AHEAD=0 $defs \
        test/fwprofile/fw_connect.c $mqtls_srcs "$d/arm/libmbed_device.a" -lpthread \
        -o "$d/arm/fw_connect"
    : >"$d/arm/report.txt"
    for run in $runs; do
        v=${run%:*} m=${run#*:}
        qemu-arm "$d/arm/fw_connect" "$port" "$certs" "$v" "$m" | tee -a "$d/arm/report.txt"
    done
    # ---- Cortex-M4 flash
    local target="-mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections"
    # No OS entropy on a microcontroller: the board's TRNG (mbedtls_hardware_poll);
    # 3.6 also wants the board's millisecond clock (mbedtls_ms_time).
    local m4defs="-DMBEDTLS_NO_PLATFORM_ENTROPY -DMBEDTLS_ENTROPY_HARDWARE_ALT"
    case $config in mbedtls36*) m4defs="$m4defs -DMBEDTLS_PLATFORM_MS_TIME_ALT" ;; esac
    build_lib "$d/m4" "$src" "$config" "$arm" $target $m4defs $defs
    mkdir -p "$d/m4/mqtls"
    for f in $mqtls_srcs test/fwprofile/fw_device.c; do
        case $f in net/clock_posix.c|net/tcp_posix.c|tls/tcp_tls.c) continue ;; esac
        $arm $target -std=c99 -Wall -Wextra -Werror -I"$src/include" -Itest/fwprofile -I. \
            "-DMBEDTLS_CONFIG_FILE=\"$config\"" $m4defs \
            -DMQTLS_TLS_READ_AHEAD=0 -DMQTLS_TLS_POSIX_CLOCK=0 \
            -DMQTLS_ERROR_TEXT=0 $defs \
            -c "$f" -o "$d/m4/mqtls/$(basename "$f" .c).o"
    done
    $arm -mcpu=cortex-m4 -mthumb --specs=nano.specs --specs=nosys.specs -nostartfiles \
        -Wl,--gc-sections -Wl,-e,fw_device_entry -Wl,-Map,"$d/m4/device.map" \
        "$d"/m4/mqtls/*.o "$d/m4/libmbed_device.a" -o "$d/m4/device.elf"
    awk -f scripts/kept-by-object.awk "$d/m4/device.map" | sort >"$d/m4/kept.txt"
    {
        echo "Cortex-M4 flash ($("$arm" --version | head -n 1)), -Os, --gc-sections,"
        echo "MQTLS_ERROR_TEXT=0 (error names, not sentences), no CA store linked (not used):"
        awk '
            $1 ~ /^(codec|topic|utf8|store|backoff|client)\.o$/ { mqtt += $2; next }
            $1 ~ /^(tls_mbedtls|tls_config|tls_verify|tls_explain|tls_compat|tls_compat_crypto|bundle|castore)\.o$/ { tls += $2; next }
            $1 ~ /^(error|version)\.o$/ { net += $2; next }
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
            }' "$d/m4/kept.txt"
    } | tee "$d/m4/report.txt"
    {
        echo "### $name ($(basename "$src"), test/fwprofile/$config${defs:+ $defs})"
        echo
        sed 's/^/    /' "$d/arm/report.txt"
        echo
        sed 's/^/    /' "$d/m4/report.txt"
        echo
    } >"$d/section.txt"
}

profile 2.28 "$src228" mbedtls_device_config.h "" "12:2048"
profile 3.6-tls12 "$src36" mbedtls36_device_config.h "" "12:2048"
profile 3.6-tls13 "$src36" mbedtls36_device_config.h "-DMQTLS_FW_TLS13" "12:2048 13:0"
stop_broker

# TLS 1.3 with a 2 KB input buffer needs a broker that sends small records:
# Mosquitto has no option for it, so OpenSSL's max_send_fragment is set
# from a preloaded shim (test/fwprofile/small_records.c).
${CC:-cc} -shared -fPIC -O2 -o "$out/small_records.so" test/fwprofile/small_records.c -ldl
pick_port
LD_PRELOAD=$PWD/$out/small_records.so MQTLS_MAX_SEND_FRAGMENT=2048 start_broker
profile 3.6-tls13-small "$src36" mbedtls36_device_config.h \
    "-DMQTLS_FW_TLS13 -DMQTLS_FW_SMALL_RECORDS" "13:0"
stop_broker

# ---- into docs/memory.md ------------------------------------------------------------
{
    echo "make bench, $(date -u +%Y-%m-%d): 32-bit ARM Linux builds ($($arm_linux --version | head -n 1), -Os)"
    echo "run by $(qemu-arm --version | head -n 1) against Mosquitto $(mosquitto -h 2>/dev/null | sed -n 's/^mosquitto version //p' | head -n 1) on loopback,"
    echo "and Cortex-M4 builds; heap from the mbedTLS arena, stack painted."
    echo
    cat "$out/2.28/section.txt" "$out/3.6-tls12/section.txt" "$out/3.6-tls13/section.txt" \
        "$out/3.6-tls13-small/section.txt"
} >"$out/report.txt"
sh scripts/doc-section.sh docs/memory.md fwprofile "$out/report.txt"
echo "fwprofile: written to docs/memory.md"
