#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the cluster test's npm packages (Aedes, its Redis emitter and
# persistence), exactly as test/cluster/package-lock.json pins them, into
# build/cluster/node_modules (npm ci: the lockfile or nothing). Does
# nothing when they are there already. Node.js and npm come from
# scripts/install-deps.sh.
set -eu
cd "$(dirname "$0")/.."
out=build/cluster
if [ -f "$out/node_modules/.package-lock.json" ] && cmp -s test/cluster/package-lock.json "$out/package-lock.json"; then
    exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "cluster-deps: npm is missing (scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$out"
cp test/cluster/package.json test/cluster/package-lock.json "$out/"
(cd "$out" && npm ci --no-audit --no-fund --loglevel=error)
echo "cluster-deps: $(ls "$out/node_modules" | wc -l) packages in $out/node_modules"
