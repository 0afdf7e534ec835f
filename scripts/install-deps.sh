#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages mqtls needs to build, test, fuzz and measure
# (make check), or with --demo only those make demo needs: a compiler,
# mbedTLS, c-ares, openssl for the test PKI, Mosquitto and its clients.
# Does nothing (and needs no privileges) when every package is present.
# --list prints the chosen packages and exits.
# Usage: scripts/install-deps.sh [--demo | --bench] [--dry-run | --list]
set -eu

PACKAGES="
build-essential
pkg-config
cmake
doxygen
python3
openssl
libmbedtls-dev
libc-ares-dev
check
mosquitto
mosquitto-clients
libpaho-mqtt-dev
libmosquitto-dev
clang
valgrind
gcc-arm-none-eabi
libnewlib-arm-none-eabi
qemu-user
libc6-dev-armhf-cross
libgcc-12-dev-armhf-cross
binutils-arm-linux-gnueabihf
qemu-system-arm
picolibc-arm-none-eabi
softhsm2
opensc
libp11-kit-dev
haproxy
redis-server
nodejs
node-acorn
node-cjs-module-lexer
node-undici
libuv1
libicu72
libnghttp2-14
libbrotli1
"
# The last seven: what Debian 12's own Node.js 18 (libnode108) loads, so
# the cluster test runs one Aedes node on it (scripts/node18.sh) on a
# machine whose installed Node.js is another.
# npm comes with some Node.js builds (NodeSource's); Debian's nodejs needs
# Debian's npm beside it (the cluster test's Aedes nodes: scripts/cluster-deps.sh).
if [ "${1:-}" != "--demo" ] && ! command -v npm >/dev/null 2>&1; then
    PACKAGES="$PACKAGES npm"
fi

# 32-bit builds run on ARM Linux under QEMU's user-mode emulator (make
# check's store32, make bench's firmware profiles), compiled by clang with
# Debian's armhf C library: gcc-arm-linux-gnueabihf would conflict with
# gcc-multilib, and a 32-bit x86 build needs the kernel's IA32 emulation.
# --bench is kept for the bench target; it needs nothing more today.
DEMO_PACKAGES="
build-essential
pkg-config
openssl
libmbedtls-dev
libc-ares-dev
mosquitto
mosquitto-clients
"
if [ "${1:-}" = "--bench" ]; then
    shift
elif [ "${1:-}" = "--demo" ]; then
    PACKAGES=$DEMO_PACKAGES
    shift
fi
if [ "${1:-}" = "--list" ]; then
    echo $PACKAGES
    exit 0
fi

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "install-deps: missing Debian packages:$missing"
if [ "${1:-}" = "--dry-run" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: not root and no sudo; install them by hand:" >&2
    echo "  apt-get install$missing" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086  # word splitting of the package list is wanted
$SUDO apt-get install -y -qq --no-install-recommends $missing
echo "install-deps: done"
