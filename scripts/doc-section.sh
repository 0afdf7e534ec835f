#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Replaces the text between "<!-- NAME:begin -->" and "<!-- NAME:end -->"
# in FILE with the contents of INPUT (as a fenced block), or appends the
# section if FILE has none. Usage: doc-section.sh FILE NAME INPUT
set -eu
file=$1 name=$2 input=$3
tmp=$file.tmp.$$
if grep -q "<!-- $name:begin -->" "$file"; then
    awk -v b="<!-- $name:begin -->" -v e="<!-- $name:end -->" -v in_file="$input" '
        $0 == b { print; print "```"; while ((getline l < in_file) > 0) print l; print "```"; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$file" >"$tmp"
else
    { cat "$file"; printf '\n<!-- %s:begin -->\n```\n' "$name"; cat "$input"; printf '```\n<!-- %s:end -->\n' "$name"; } >"$tmp"
fi
mv "$tmp" "$file"
