#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# docs/getting-started.md works when typed: every line of its ```sh blocks
# runs here exactly as written, in order, from the top of the tree, under
# bash -e (a failing command fails the test). Only `make check` is left
# out: this test is part of it. What the doc says the commands print is
# checked too. HOME is a temp dir (the doc installs into ~/.local), and so
# is the local broker's state dir (MQTLS_BROKER_DIR); the broker the doc
# starts is stopped by the doc's last command, or here by its pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
doc=docs/getting-started.md
tmp=$(mktemp -d /tmp/mqtls-gs-XXXXXX)
cleanup() {
    if [ -r "$tmp/broker/pid" ]; then
        kill "$(cat "$tmp/broker/pid")" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "getting-started: $*" >&2; echo "--- output:" >&2; cat "$tmp/out" >&2 2>/dev/null; exit 1; }

# make demo installs only what the demo uses: no ARM toolchain, clang,
# valgrind, doxygen, QEMU or Paho; and each is one make check installs.
demo_pkgs=$(sh scripts/install-deps.sh --demo --list)
all_pkgs=" $(sh scripts/install-deps.sh --list) "
for p in $demo_pkgs; do
    case "$all_pkgs" in *" $p "*) ;; *) fail "the demo's package $p is not in the full list" ;; esac
    case "$p" in gcc-arm-none-eabi|clang|valgrind|doxygen|libpaho-mqtt-dev|qemu-*|picolibc-*|check|cmake)
        fail "make demo would install $p, which the demo does not need" ;; esac
done
grep -q '^demo: demo-deps$' Makefile || fail "make demo does not install the demo's packages only"

# The test PKI is reused while it is good: certs/valid.sh passes the one
# in build/certs, and fails (naming it) a copy whose device certificate
# has expired.
sh certs/valid.sh build/certs || fail "certs/valid.sh refuses build/certs"
mkdir -p "$tmp/pki"
cp build/certs/*.crt build/certs/*.crl "$tmp/pki/"
cp build/certs/device-expired.crt "$tmp/pki/device-001.crt"
if out=$(sh certs/valid.sh "$tmp/pki"); then
    fail "certs/valid.sh took a PKI with an expired device-001.crt"
fi
case "$out" in *device-001.crt*) ;; *) fail "certs/valid.sh said: $out" ;; esac

awk '/^```sh$/ { on = 1; next } on && /^```$/ { on = 0; next } on { print }' "$doc" >"$tmp/lines.sh"
[ -s "$tmp/lines.sh" ] || fail "no sh blocks in $doc"
{
    echo "set -e"
    sed 's/^make check$/echo "(make check: this test is part of it)"/' "$tmp/lines.sh"
} >"$tmp/script.sh"
commands=$(grep -cvE '^[[:space:]]|^$' "$tmp/lines.sh" || true)
mkdir -p "$tmp/home"
# The doc's makes are their own (make check may run this under -j).
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL HOME="$tmp/home" MQTLS_BROKER_DIR="$tmp/broker" \
        timeout 120 bash "$tmp/script.sh" >"$tmp/out" 2>&1; then
    fail "a command in $doc failed"
fi
for want in "sensors/dev1/temp 21.5" "first: success" "local-broker: MQTLS_TLS_PORT=" \
            "server certificate is not signed by a trusted CA" "exit status 1" "demo:"; do
    grep -qF "$want" "$tmp/out" || fail "the output lacks '$want'"
done
[ "$(grep -c 'first: success' "$tmp/out")" -eq 2 ] || fail "first did not succeed both times (tree and installed)"
[ -x "$tmp/home/.local/bin/mqtls-pub" ] || fail "make install PREFIX=\$HOME/.local put no mqtls-pub in ~/.local/bin"
[ ! -e "$tmp/broker/pid" ] || fail "scripts/local-broker.sh stop left the broker running"
echo "getting-started: $commands commands from $doc ran as written (make check aside) and printed what it says; make demo installs $(echo $demo_pkgs | wc -w) packages"
