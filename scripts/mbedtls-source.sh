#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Unpacks Debian's mbedtls source package of one release into a folder:
#   scripts/mbedtls-source.sh SUITE DEST     (SUITE: bookworm = 2.28, trixie = 3.6)
# prints the source directory. The deb-src entry apt-get source needs is
# added for the download, announced on stderr, and removed afterwards; no
# other download is made. Reuses a source already unpacked in DEST.
set -eu
suite=$1
dest=$2
case $suite in
bookworm) want=2.28 ;;
trixie) want=3.6 ;;
*) echo "mbedtls-source: unknown suite $suite" >&2; exit 2 ;;
esac
mkdir -p "$dest"
# One at a time (make -j builds several mbedTLS trees, and apt allows one
# update at a time): the first unpacks, the others wait and reuse it. The
# source is unpacked beside DEST and moved in whole, so a half-unpacked
# tree is never taken for a source.
lock=${TMPDIR:-/tmp}/mqtls-mbedtls-source.$(id -u).lock
exec 9>"$lock"
flock 9
src=$(ls -d "$dest"/mbedtls-"$want".* 2>/dev/null | head -n 1 || true)
if [ -z "$src" ]; then
    list=/etc/apt/sources.list.d/mqtls-deb-src-$suite.sources
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    updates=""
    [ "$suite" = bookworm ] && updates=" bookworm-updates"
    echo "mbedtls-source: adding $list (deb-src, for apt-get source mbedtls); removed afterwards" >&2
    $sudo sh -c "cat >$list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite$updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    trap '$sudo rm -f "$list"; $sudo apt-get update -qq >/dev/null 2>&1 || true' EXIT
    $sudo apt-get update -qq >/dev/null
    tmp=$(mktemp -d "$dest/.unpack.XXXXXX")
    (cd "$tmp" && apt-get source -qq "mbedtls/$suite" >/dev/null 2>&1)
    mv "$(ls -d "$tmp"/mbedtls-"$want".* | head -n 1)" "$dest/"
    rm -rf "$tmp"
    $sudo rm -f "$list"
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    trap - EXIT
    echo "mbedtls-source: removed $list" >&2
    src=$(ls -d "$dest"/mbedtls-"$want".* | head -n 1)
fi
echo "$src"
