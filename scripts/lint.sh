#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Layering rules that a compiler cannot check.
#  - mqtt/ builds for a microcontroller: no POSIX or OS header, no heap.
#    (mqtt/posix/ holds the host-only parts, such as the file store; they
#    may use POSIX, but not the heap.)
#  - Dependencies point down: mqtt/ never includes tls/, and nothing in
#    net/ or tls/ includes mqtt/.
set -eu
fail=0
say() { echo "lint: $*" >&2; fail=1; }

# Headers a bare-metal C99 toolchain provides (emmintrin.h: the compiler's,
# included only where SSE2 is, by mqtt/scan.h).
allowed='stdint.h|stddef.h|stdbool.h|string.h|limits.h|emmintrin.h'
for f in mqtt/*.c mqtt/*.h; do
    grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "$f" |
        grep -vE "<($allowed)>" | sed "s|^|$f:|" | while read -r line; do
            echo "lint: $line: mqtt/ may only include <$allowed>" >&2
            echo x
        done | grep -q x && fail=1
    if grep -nE '\b(malloc|calloc|realloc|free)[[:space:]]*\(' "$f" >/dev/null; then
        say "$f calls the heap; the caller owns every buffer in mqtt/"
    fi
    if grep -nE '#[[:space:]]*include[[:space:]]*"(\.\./)*tls/' "$f" >/dev/null; then
        say "$f includes tls/; mqtt/ knows nothing of TLS"
    fi
    if grep -nE '_POSIX_C_SOURCE|_GNU_SOURCE' "$f" >/dev/null; then
        say "$f asks for POSIX; mqtt/ is plain C99"
    fi
done
for f in mqtt/posix/*.c; do
    [ -e "$f" ] || continue
    if grep -nE '\b(malloc|calloc|realloc)[[:space:]]*\(' "$f" >/dev/null; then
        say "$f allocates; the caller owns every buffer in mqtt/"
    fi
done
for f in net/*.[ch] tls/*.[ch]; do
    [ -e "$f" ] || continue
    if grep -nE '#[[:space:]]*include[[:space:]]*"(\.\./)*mqtt/' "$f" >/dev/null; then
        say "$f includes mqtt/; dependencies point down only"
    fi
done
for f in net/*.c; do
    [ -e "$f" ] || continue
    if grep -nE '\b(malloc|calloc|realloc)[[:space:]]*\(' "$f" >/dev/null; then
        say "$f allocates; net/ takes caller-owned buffers"
    fi
done
# Public headers include each other by relative paths ("../net/error.h"),
# so they resolve installed under <mqtls/...> with only -I$includedir, and
# in the tree; a top-level name ("net/error.h") would leak to consumers.
for f in mqtt/*.h mqtt/posix/*.h net/*.h tls/*.h; do
    if grep -nE '#[[:space:]]*include[[:space:]]*"(mqtt|net|tls)/' "$f" >/dev/null; then
        say "$f includes a header by its top-level name; write it relative (\"../net/error.h\")"
    fi
done
[ "$fail" -eq 0 ] && echo "lint: layering rules hold"
exit "$fail"
