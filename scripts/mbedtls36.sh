#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mbedTLS 3.6 LTS for the host, from Debian 13's source package (issue 14's
# first step): static libraries and headers in build/mbedtls-3.6/, with the
# source's default configuration. Prints the prefix. About 10 s on 2 cores
# once the source is here.
set -eu
cd "$(dirname "$0")/.."
out=build/mbedtls-3.6
src=$(bash scripts/mbedtls-source.sh trixie "$out/src")
echo "mbedtls36: source $src ($(dpkg-parsechangelog -l "$src/debian/changelog" -S Version 2>/dev/null || echo Debian))" >&2
# The host build's choices (docs/tls.md): threads may share a
# configuration (PSA's generator and key store behind a mutex), and PSA
# does not copy caller buffers (no TEE here: the buffers are ours alone),
# which saves an allocation per PSA call.
cfgh="$src/include/mbedtls/mbedtls_config.h"
for opt in MBEDTLS_THREADING_C MBEDTLS_THREADING_PTHREAD MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS; do
    grep -q "^#define $opt\b" "$cfgh" || sed -i "s|^//#define $opt\b|#define $opt|" "$cfgh"
    grep -q "^#define $opt\b" "$cfgh" || { echo "mbedtls36: cannot enable $opt in $cfgh" >&2; exit 1; }
done
# Position-independent, so libmqtls.so can carry it.
flags="-O2 -g -fPIC threading,exclusive-buffers"
if [ ! -e "$out/lib/libmbedtls.a" ] || [ "$src/include/mbedtls/mbedtls_config.h" -nt "$out/lib/libmbedtls.a" ] ||
   [ "$(cat "$out/lib/flags" 2>/dev/null)" != "$flags" ]; then
    make -C "$src/library" clean >/dev/null 2>&1 || true
    make -C "$src/library" -j2 CFLAGS="${flags% *}" static >"$out/build.log" 2>&1 ||
        { tail -n 20 "$out/build.log" >&2; echo "mbedtls36: the build failed ($out/build.log)" >&2; exit 1; }
    mkdir -p "$out/lib"
    cp "$src"/library/libmbedcrypto.a "$src"/library/libmbedx509.a "$src"/library/libmbedtls.a "$out/lib/"
    echo "$flags" >"$out/lib/flags"
    rm -rf "$out/include"
    cp -r "$src/include" "$out/include"
fi
grep -q 'MBEDTLS_VERSION_STRING  *"3\.6\.' "$out/include/mbedtls/build_info.h" ||
    { echo "mbedtls36: $out is not mbedTLS 3.6" >&2; exit 1; }
echo "mbedtls36: $(sed -n 's/.*MBEDTLS_VERSION_STRING  *"\(.*\)"/\1/p' "$out/include/mbedtls/build_info.h") in $out (lib/, include/)" >&2
echo "$out"
