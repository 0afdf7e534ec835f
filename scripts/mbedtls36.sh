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
if [ ! -e "$out/lib/libmbedtls.a" ] || [ "$src/include/mbedtls/mbedtls_config.h" -nt "$out/lib/libmbedtls.a" ]; then
    make -C "$src/library" -j2 CFLAGS="-O2 -g" static >"$out/build.log" 2>&1 ||
        { tail -n 20 "$out/build.log" >&2; echo "mbedtls36: the build failed ($out/build.log)" >&2; exit 1; }
    mkdir -p "$out/lib"
    cp "$src"/library/libmbedcrypto.a "$src"/library/libmbedx509.a "$src"/library/libmbedtls.a "$out/lib/"
    rm -rf "$out/include"
    cp -r "$src/include" "$out/include"
fi
grep -q 'MBEDTLS_VERSION_STRING  *"3\.6\.' "$out/include/mbedtls/build_info.h" ||
    { echo "mbedtls36: $out is not mbedTLS 3.6" >&2; exit 1; }
echo "mbedtls36: $(sed -n 's/.*MBEDTLS_VERSION_STRING  *"\(.*\)"/\1/p' "$out/include/mbedtls/build_info.h") in $out (lib/, include/)" >&2
echo "$out"
