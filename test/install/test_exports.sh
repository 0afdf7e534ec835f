#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The shared library exports the public API and nothing else: every
# function a public header declares is exported (a forgotten
# MQTLS_API_BEGIN would hide it), and every exported symbol is declared in a
# public header (an internal function must not become API by accident).
# Usage: test/install/test_exports.sh LIB INCLUDEDIR   (INCLUDEDIR/mqtls/...)
set -eu
lib=$1 inc=$2
tmp=$(mktemp -d /tmp/mqtls-exports-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
nm -D --defined-only "$lib" | awk '{ print $NF }' | grep -v '^_' | sort -u >"$tmp/exported"
# Declared: names called like functions in the headers; static inline ones
# live in the header and are not exported.
# Comments removed (cc -fpreprocessed), macros left unexpanded; function-
# like macros (mqtls_tls_init(), ...) are not symbols.
for h in $(find "$inc/mqtls" -name '*.h' | sort); do
    cc -fpreprocessed -dD -E -P "$h" 2>/dev/null
done >"$tmp/all.h"
sed -n 's/^#define \(mqtls_[A-Za-z0-9_]*\)(.*/\1/p' "$tmp/all.h" | sort -u >"$tmp/macros"
grep -E '^static inline' -A1 "$tmp/all.h" | grep -oE '\bmqtls_[A-Za-z0-9_]+[[:space:]]*\(' |
    sed 's/[[:space:]]*($//' | sort -u >"$tmp/inline"
sort -u "$tmp/inline" "$tmp/macros" >"$tmp/not_symbols"
grep -v '^#define' "$tmp/all.h" >"$tmp/code.h"
grep -oE '\bmqtls_[A-Za-z0-9_]+[[:space:]]*\(' "$tmp/code.h" | sed 's/[[:space:]]*($//' | sort -u >"$tmp/named"
comm -23 "$tmp/named" "$tmp/not_symbols" >"$tmp/declared"
comm -23 "$tmp/exported" "$tmp/declared" >"$tmp/leaked"
comm -13 "$tmp/exported" "$tmp/declared" >"$tmp/missing"
if [ -s "$tmp/leaked" ]; then
    echo "exports: $(wc -l <"$tmp/leaked") symbol(s) exported but in no public header:"
    sed 's/^/  /' "$tmp/leaked"
    fail=1
fi
if [ -s "$tmp/missing" ]; then
    echo "exports: $(wc -l <"$tmp/missing") public function(s) not exported:"
    sed 's/^/  /' "$tmp/missing"
    fail=1
fi
[ "$fail" -eq 0 ] || exit 1
echo "exports: $(wc -l <"$tmp/exported") symbols exported, each declared in a public header, every declared function among them"
