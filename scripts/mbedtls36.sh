#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mbedTLS 3.6 LTS for the host, from Debian 13's source package: static
# libraries and headers in build/mbedtls-3.6/, with the source's default
# configuration and the host's choices below. Prints the prefix. About
# 15 s on 2 cores once the source is here.
#   scripts/mbedtls36.sh          the host build (TLS 1.3 and 1.2, PSA)
#   scripts/mbedtls36.sh legacy   the same without PSA and TLS 1.3, into
#                                 build/mbedtls-3.6-legacy
#                                 (test/mbedtls/mqtls_legacy36.h)
set -eu
cd "$(dirname "$0")/.."
variant=${1:-}
out=build/mbedtls-3.6
src=$(bash scripts/mbedtls-source.sh trixie "$out/src")
[ "$variant" = legacy ] && out=build/mbedtls-3.6-legacy
mkdir -p "$out"
echo "mbedtls36: source $src ($(dpkg-parsechangelog -l "$src/debian/changelog" -S Version 2>/dev/null || echo Debian))" >&2
# The host build's choices (docs/tls.md): threads may share a
# configuration (PSA's generator and key store behind a mutex), and PSA
# does not copy caller buffers (no TEE here: the buffers are ours alone),
# which saves an allocation per PSA call; and record buffers shrink to
# what was negotiated after the handshake (a maximum fragment length then
# saves heap, as it cannot with Debian's 2.28); and TLS uses PSA throughout
# (MBEDTLS_USE_PSA_CRYPTO), so our EC key can live in PSA's key store.
cfgh="$src/include/mbedtls/mbedtls_config.h"
for opt in MBEDTLS_THREADING_C MBEDTLS_THREADING_PTHREAD MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS \
    MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH MBEDTLS_USE_PSA_CRYPTO; do
    grep -q "^#define $opt\b" "$cfgh" || sed -i "s|^//#define $opt\b|#define $opt|" "$cfgh"
    grep -q "^#define $opt\b" "$cfgh" || { echo "mbedtls36: cannot enable $opt in $cfgh" >&2; exit 1; }
done
# Position-independent, so libmqtls.so can carry it.
flags="-O2 -g -fPIC threading,exclusive-buffers,variable-buffers,use-psa"
if [ "$variant" = legacy ]; then
    flags="-O2 -g -fPIC -I$PWD/test/mbedtls -DMBEDTLS_USER_CONFIG_FILE=\\\"mqtls_legacy36.h\\\" threading,legacy"
fi
if [ ! -e "$out/lib/libmbedtls.a" ] || [ "$src/include/mbedtls/mbedtls_config.h" -nt "$out/lib/libmbedtls.a" ] ||
   [ "$(cat "$out/lib/flags" 2>/dev/null)" != "$flags" ] ||
   { [ "$variant" = legacy ] && [ test/mbedtls/mqtls_legacy36.h -nt "$out/lib/libmbedtls.a" ]; }; then
    make -C "$src/library" clean >/dev/null 2>&1 || true
    make -C "$src/library" -j2 CFLAGS="${flags% *}" static >"$out/build.log" 2>&1 ||
        { tail -n 20 "$out/build.log" >&2; echo "mbedtls36: the build failed ($out/build.log)" >&2; exit 1; }
    mkdir -p "$out/lib"
    cp "$src"/library/libmbedcrypto.a "$src"/library/libmbedx509.a "$src"/library/libmbedtls.a "$out/lib/"
    echo "$flags" >"$out/lib/flags"
    rm -rf "$out/include"
    cp -r "$src/include" "$out/include"
    [ "$variant" != legacy ] || cp test/mbedtls/mqtls_legacy36.h "$out/include/"
fi
grep -q 'MBEDTLS_VERSION_STRING  *"3\.6\.' "$out/include/mbedtls/build_info.h" ||
    { echo "mbedtls36: $out is not mbedTLS 3.6" >&2; exit 1; }
echo "mbedtls36: $(sed -n 's/.*MBEDTLS_VERSION_STRING  *"\(.*\)"/\1/p' "$out/include/mbedtls/build_info.h") in $out (lib/, include/)" >&2
echo "$out"
