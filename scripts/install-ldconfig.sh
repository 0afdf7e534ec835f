#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make install's last step. A library directory the dynamic linker already
# searches (/usr/lib, /usr/local/lib, or any in ld.so's cache) gets the
# cache refreshed (ldconfig, as root); staging into DESTDIR does nothing.
# Any other directory gets a line saying what to do (docs/getting-started.md,
# "Installing to your own prefix").
# Usage: scripts/install-ldconfig.sh LIBDIR [DESTDIR]
set -eu
libdir=$1 destdir=${2:-}
[ -z "$destdir" ] || exit 0
searched=0
case "$libdir" in
    /usr/lib|/usr/local/lib|/lib|/usr/lib/*-linux-gnu) searched=1 ;;
    *) if ldconfig -p 2>/dev/null | grep -q " => $libdir/"; then searched=1; fi ;;
esac
if [ "$searched" -eq 1 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "install: ldconfig (libmqtls.so in $libdir)"
        ldconfig
    else
        echo "install: run 'sudo ldconfig' so that programs find libmqtls.so in $libdir"
    fi
else
    echo "install: $libdir is not searched by the dynamic linker: link with -Wl,-rpath,$libdir"
    echo "install: (or set LD_LIBRARY_PATH), and set PKG_CONFIG_PATH=$libdir/pkgconfig, CMAKE_PREFIX_PATH=${libdir%/lib}"
fi
