#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The stack-path walker on a call graph whose answer is known: a chain
# through a static helper, a shorter branch with a callback, a function
# GCC has no frame for, and (second case) a cycle, which must fail.
set -eu
awkf=$(dirname "$0")/../../scripts/stack-depth.awk
graph='graph: { title: "x.c"
node: { title: "top" label: "top\nx.c:1:5\n32 bytes (static)" }
node: { title: "x.c:deep" label: "deep\nx.c:2:12\n100 bytes (static)" }
node: { title: "x.c:leaf" label: "leaf\nx.c:3:12\n8 bytes (static)" }
node: { title: "x.c:cb" label: "cb\nx.c:4:12\n40 bytes (static)" }
node: { title: "memcpy" label: "__builtin_memcpy\n<built-in>" shape : ellipse }
node: { title: "__indirect_call" label: "Indirect Call Placeholder" shape : ellipse }
edge: { sourcename: "top" targetname: "x.c:cb" }
edge: { sourcename: "x.c:cb" targetname: "__indirect_call" }
edge: { sourcename: "top" targetname: "x.c:deep" }
edge: { sourcename: "x.c:deep" targetname: "x.c:leaf" }
edge: { sourcename: "x.c:leaf" targetname: "memcpy" }
}'
out=$(printf '%s\n' "$graph" | awk -v ENTRIES=top -f "$awkf")
expect_line() {
    printf '%s\n' "$out" | grep -qF -- "$1" || { printf 'stack-depth: expected "%s" in:\n%s\n' "$1" "$out"; exit 1; }
}
expect_line "top                           140 bytes  top(32) > deep(100) > leaf(8) > memcpy?"
expect_line "when a callback runs         72 bytes  top(32) > cb(40) > callback"
expect_line "deepest: top, 140 bytes"
tmp=$(mktemp)
cyc=$(printf '%s\n%s\n' "$graph" 'edge: { sourcename: "x.c:leaf" targetname: "top" }')
if printf '%s\n' "$cyc" | awk -v ENTRIES=top -f "$awkf" >"$tmp" 2>&1; then
    echo "stack-depth: a cycle was not reported"; cat "$tmp"; rm -f "$tmp"; exit 1
fi
grep -q "recursion through" "$tmp" || { echo "stack-depth: cycle reported without saying so"; exit 1; }
rm -f "$tmp"
echo "lint: stack-depth walker gives the known answer on a test graph"
