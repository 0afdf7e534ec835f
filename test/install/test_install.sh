#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make install-check: mqtls as a user gets it.
#  1. make install into a temporary prefix (and with DESTDIR), files where
#     they belong, the shared library's soname;
#  2. test/install/consumer.c built out of tree with
#     `pkg-config --cflags --libs mqtls`, and again by a CMake project that
#     add_subdirectory()s mqtls;
#  3. both, and examples/first (docs/getting-started.md), run against a
#     loopback broker (mutual TLS) and get a PUBACK;
#  4. make uninstall leaves nothing behind.
set -euo pipefail
# Its makes are its own (make check runs it beside other suites under -j).
unset MAKEFLAGS MFLAGS MAKELEVEL
cd "$(dirname "$0")/../.."
src=$PWD
certs=$PWD/build/certs
dir=$(mktemp -d /tmp/mqtls-install-XXXXXX)
broker_pid=""
cleanup() { stop_broker; rm -rf "$dir"; }
trap cleanup EXIT
. scripts/broker.sh
fail() { echo "install-check: $*" >&2; exit 1; }

prefix=$dir/prefix
make -s install PREFIX="$prefix" >/dev/null
for f in lib/libmqtls.a lib/libmqtls.so lib/pkgconfig/mqtls.pc \
         include/mqtls/mqtt/client.h include/mqtls/tls/castore.h include/mqtls/net/blobs.h \
         bin/mqtls-pub bin/mqtls-sub bin/mqtls-decode bin/mqtls-ca-sign bin/mqtls-provisioner \
         bin/mqtls-pem2c; do
    [ -e "$prefix/$f" ] || fail "make install did not install $f"
done
for f in mqtt/scan.h tls/bundle.h tls/tls_internal.h tls/tls_compat.h; do
    [ ! -e "$prefix/include/mqtls/$f" ] || fail "an internal header was installed: $f"
done
# The shared library exports the public API, nothing else.
sh test/install/test_exports.sh "$prefix/lib/libmqtls.so" "$prefix/include" || fail "exported symbols differ from the public headers"
# One version: net/version.h, the soname (major only), mqtls.pc, CMake.
version=$(sed -n 's/^#define MQTLS_VERSION_STRING "\(.*\)"/\1/p' net/version.h)
major=$(sed -n 's/^#define MQTLS_VERSION_MAJOR \([0-9]*\)/\1/p' net/version.h)
[ -n "$version" ] && [ -n "$major" ] || fail "net/version.h has no version"
soname=$(objdump -p "$prefix/lib/libmqtls.so" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libmqtls.so.$major" ] || fail "soname is '$soname', want libmqtls.so.$major"
[ -e "$prefix/lib/libmqtls.so.$version" ] || fail "no libmqtls.so.$version"
pcver=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --modversion mqtls)
[ "$pcver" = "$version" ] || fail "mqtls.pc says $pcver, net/version.h $version"

# DESTDIR: the same tree under a staging root.
make -s install PREFIX=/usr DESTDIR="$dir/stage" >/dev/null
[ -e "$dir/stage/usr/lib/libmqtls.so.$version" ] || fail "DESTDIR was not honoured"
grep -q '^prefix=/usr$' "$dir/stage/usr/lib/pkgconfig/mqtls.pc" || fail "mqtls.pc prefix is wrong"

# Out of tree with pkg-config (shared library, found at run time by rpath).
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs mqtls)
mkdir "$dir/app"
cp test/install/consumer.c "$dir/app/"
(cd "$dir/app" && cc -std=c99 -Wall -Werror consumer.c $flags -Wl,-rpath,"$prefix/lib" -o consumer)
# (ldd's output is read whole first: under pipefail, grep -q ending the pipe
# early made ldd die of SIGPIPE and fail the check at random.)
libs=$(ldd "$dir/app/consumer")
case "$libs" in *"$prefix/lib/libmqtls.so.0"*) ;; *) fail "consumer is not linked to the installed library: $libs" ;; esac
# Only <mqtls/...>: the flags name include/ alone, and a top-level
# <mqtt/client.h> (a name other libraries use) does not resolve.
[ "$(pkg-config --cflags-only-I mqtls | sed "s/ *$//")" = "-I$prefix/include" ] ||
    fail "pkg-config --cflags is '$(pkg-config --cflags-only-I mqtls)', want -I$prefix/include only"
if cc -std=c99 -c test/install/leak.c $flags -o "$dir/leak.o" 2>/dev/null; then
    fail "<mqtt/client.h> resolves with the installed flags: mqtls's names leak to consumers"
fi
# The installed headers include each other by relative paths: each one
# compiles on its own with -I$prefix/include only.
for h in $(cd "$prefix/include" && find mqtls -name '*.h' | sort); do
    printf '#include <%s>\nint mqtls_consumer_probe;\n' "$h" >"$dir/one.c"
    cc -std=c99 -Wall -Werror -c "$dir/one.c" -I"$prefix/include" -o "$dir/one.o" ||
        fail "<$h> does not compile on its own with -I\$includedir"
done

# With CMake's find_package against the installed tree: the shared library
# and the static one; a newer major version is refused.
cmake -S test/install/cmake-find -B "$dir/cmake-find" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$dir/cmake-find.log" 2>&1 && cmake --build "$dir/cmake-find" -j 2 >>"$dir/cmake-find.log" 2>&1 ||
    { cat "$dir/cmake-find.log" >&2; fail "find_package(mqtls) build failed"; }
grep -q "found mqtls $version" "$dir/cmake-find.log" || fail "find_package did not report mqtls $version"
libs=$(ldd "$dir/cmake-find/consumer")
case "$libs" in *"$prefix/lib/libmqtls.so.$major"*) ;; *) fail "the find_package consumer is not linked to the installed libmqtls.so: $libs" ;; esac
libs=$(ldd "$dir/cmake-find/consumer_static")
case "$libs" in *libmqtls*) fail "mqtls::mqtls_static linked the shared library" ;; esac
mkdir -p "$dir/find-newer"
printf 'cmake_minimum_required(VERSION 3.14)\nproject(p LANGUAGES C)\nfind_package(mqtls %s CONFIG REQUIRED)\n' \
    "$((major + 1)).0" >"$dir/find-newer/CMakeLists.txt"
if cmake -S "$dir/find-newer" -B "$dir/find-newer/b" -DCMAKE_PREFIX_PATH="$prefix" >"$dir/newer.log" 2>&1; then
    fail "find_package(mqtls $((major + 1)).0) accepted mqtls $version"
fi

# With CMake: add_subdirectory.
cmake -S test/install/cmake -B "$dir/cmake" -DMQTLS_DIR="$src" >"$dir/cmake.log" 2>&1 ||
    { cat "$dir/cmake.log" >&2; fail "cmake configure failed"; }
grep -q "mqtls $version for CMake" "$dir/cmake.log" || fail "CMake's project version is not $version"
for d in $(tr ';' ' ' <"$dir/cmake/consumer-includes.txt"); do
    [ ! -e "$d/mqtt/client.h" ] || fail "add_subdirectory gives consumers $d, where <mqtt/client.h> leaks"
done
cmake --build "$dir/cmake" -j 2 >>"$dir/cmake.log" 2>&1 ||
    { cat "$dir/cmake.log" >&2; fail "cmake build failed"; }
# The same against mbedTLS 3.6 (make mbedtls36), chosen with one option.
make -s mbedtls36
cmake -S test/install/cmake -B "$dir/cmake36" -DMQTLS_DIR="$src" \
    -DMQTLS_MBEDTLS_DIR="$src/build/mbedtls-3.6" >"$dir/cmake36.log" 2>&1 &&
    cmake --build "$dir/cmake36" -j 2 >>"$dir/cmake36.log" 2>&1 ||
    { cat "$dir/cmake36.log" >&2; fail "cmake build with MQTLS_MBEDTLS_DIR failed"; }

# Both against a broker.
pick_port
start_broker
out=$("$dir/app/consumer" "$port" "$certs") || fail "pkg-config consumer: $out"
[ "$out" = "consumer: published, acknowledged" ] || fail "pkg-config consumer said: $out"
out=$("$dir/cmake/consumer" "$port" "$certs") || fail "CMake consumer: $out"
[ "$out" = "consumer: published, acknowledged" ] || fail "CMake consumer said: $out"
out=$("$dir/cmake-find/consumer" "$port" "$certs") || fail "find_package consumer: $out"
[ "$out" = "consumer: published, acknowledged" ] || fail "find_package consumer said: $out"
out=$("$dir/cmake-find/consumer_static" "$port" "$certs") || fail "find_package static consumer: $out"
[ "$out" = "consumer: published, acknowledged" ] || fail "find_package static consumer said: $out"
out=$("$dir/cmake36/consumer" "$port" "$certs") || fail "CMake consumer on mbedTLS 3.6: $out"
[ "$out" = "consumer: published, acknowledged" ] || fail "CMake consumer (3.6) said: $out"
out=$(build/examples/first "$port") || fail "examples/first: $out"
[ "$out" = "first: success " ] || fail "examples/first said: $out"
stop_broker

# ldconfig after installing into a directory the dynamic linker searches
# (a stand-in ldconfig on PATH records the call); a private prefix gets
# the sentence saying what to do instead; staging does nothing.
mkdir -p "$dir/fakebin"
printf '#!/bin/sh\n[ "${1:-}" = -p ] && exit 0\necho "ldconfig $*" >>"%s/ldconfig.calls"\n' "$dir" >"$dir/fakebin/ldconfig"
chmod +x "$dir/fakebin/ldconfig"
out=$(PATH=$dir/fakebin:$PATH sh scripts/install-ldconfig.sh /usr/local/lib)
if [ "$(id -u)" -eq 0 ]; then
    [ "$(cat "$dir/ldconfig.calls" 2>/dev/null)" = "ldconfig " ] || fail "no ldconfig after installing into /usr/local/lib: $out"
else
    case "$out" in *"sudo ldconfig"*) ;; *) fail "no ldconfig advice for /usr/local/lib: $out" ;; esac
fi
rm -f "$dir/ldconfig.calls"
out=$(PATH=$dir/fakebin:$PATH sh scripts/install-ldconfig.sh "$prefix/lib")
[ ! -e "$dir/ldconfig.calls" ] || fail "ldconfig ran for $prefix/lib"
case "$out" in *"-Wl,-rpath,$prefix/lib"*PKG_CONFIG_PATH=*) ;; *) fail "no advice for a private prefix: $out" ;; esac
out=$(PATH=$dir/fakebin:$PATH sh scripts/install-ldconfig.sh /usr/local/lib "$dir/stage")
[ -z "$out" ] && [ ! -e "$dir/ldconfig.calls" ] || fail "staging into DESTDIR ran ldconfig: $out"

make -s uninstall PREFIX="$prefix" >/dev/null
left=$(find "$prefix" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "install-check: installed; built with pkg-config, CMake find_package (shared, static), add_subdirectory (2.28, 3.6), only <mqtls/...> visible; all published over mutual TLS; uninstalled cleanly"
