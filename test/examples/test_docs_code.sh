#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The programs the docs show are the programs that are built and run: each
# fenced C block marked with a source file must equal that file.
#   <!-- file: examples/first.c -->  followed by a ```c block
set -u
fail=0 total=0
for doc in README.md docs/*.md; do
    grep -q '<!-- file: ' "$doc" || continue
    for src in $(sed -n 's/.*<!-- file: \([^ ]*\) -->.*/\1/p' "$doc"); do
        total=$((total + 1))
        block=$(awk -v want="<!-- file: $src -->" '
            index($0, want) { armed = 1; next }
            armed && /^```c$/ { on = 1; next }
            on && /^```$/ { exit }
            on { print }' "$doc")
        if [ "$block" != "$(cat "$src")" ]; then
            echo "FAIL $doc shows a $src that is not the file in the tree"
            fail=$((fail + 1))
        fi
    done
done
echo "docs code: $((total - fail)) of $total shown programs match their sources"
[ "$fail" -eq 0 ] && [ "$total" -gt 0 ]
