#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Writes the fenced contents of section NAME ("<!-- NAME:begin -->" to
# "<!-- NAME:end -->") of FILE to OUT; OUT is empty when FILE has none.
# make bench keeps the fleet figures (make fleet-bench's) through its
# rewrite of docs/performance.md with it. Usage: doc-section-get.sh FILE NAME OUT
set -eu
file=$1 name=$2 out=$3
awk -v b="<!-- $name:begin -->" -v e="<!-- $name:end -->" '
    $0 == b { on = 1; next }
    $0 == e { on = 0 }
    on && $0 != "```" { print }' "$file" >"$out"
