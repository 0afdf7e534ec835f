#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Debian 12's own Node.js 18, for the cluster test: one Aedes node runs
# on it whatever Node.js the machine has (the other on the installed one),
# so the lockfile is shown to run on both. The installed node when it is
# 18 already; else Debian's nodejs and libnode packages, downloaded and
# unpacked into build/node18 (not installed). Prints the command to run.
set -eu
cd "$(dirname "$0")/.."
out=build/node18
if command -v node >/dev/null 2>&1 && node --version | grep -q '^v18\.'; then
    command -v node
    exit 0
fi
if [ -x "$out/node" ] && "$out/node" --version >/dev/null 2>&1; then
    echo "$PWD/$out/node"
    exit 0
fi
ver=$(apt-cache madison nodejs 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2) } $2 ~ /^18\./ { print $2; exit }')
[ -n "$ver" ] || { echo "node18: Debian's nodejs 18 is not in this machine's apt sources" >&2; exit 1; }
lib=$(apt-cache depends "nodejs=$ver" 2>/dev/null | awk '/Depends: libnode[0-9]/ { print $2; exit }')
[ -n "$lib" ] || { echo "node18: nodejs $ver names no libnode" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/deb"
(cd "$out/deb" && apt-get download -q "nodejs=$ver" "$lib=$ver" >/dev/null 2>&1) ||
    { echo "node18: cannot download nodejs $ver and $lib" >&2; exit 1; }
for f in "$out"/deb/*.deb; do dpkg -x "$f" "$out/root"; done
libdir=$(dirname "$(find "$out/root" -name 'libnode.so.*' | head -1)")
cat >"$out/node" <<WRAP
#!/bin/sh
LD_LIBRARY_PATH="$PWD/$libdir\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$PWD/$out/root/usr/bin/node" "\$@"
WRAP
chmod +x "$out/node"
"$out/node" --version >/dev/null
echo "$PWD/$out/node"
