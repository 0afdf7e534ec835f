# SPDX-License-Identifier: Apache-2.0
# Bytes of code and read-only data the linker kept, per input object, from
# a GNU ld map file (-Map). Reads only after "Linker script and memory map"
# (before it, ld lists the sections it discarded). Prints "object bytes".
# Used by scripts/size.sh and scripts/fwprofile.sh.

function hex(s,   i, c, v) {
    v = 0; s = tolower(s); sub(/^0x/, "", s)
    for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
    return v
}
/^Linker script and memory map/ { on = 1; next }
!on { next }
/^ \.(text|rodata)[^ ]*$/ { pending = 1; next }
pending && NF >= 3 && $1 ~ /^0x/ { add($2, $3); pending = 0; next }
{ pending = 0 }
/^ \.(text|rodata)[^ ]* +0x/ && NF >= 4 { add($3, $4) }
function add(size, file) { n = split(file, parts, "/"); f = parts[n]; if (f ~ /\(/) { sub(/.*\(/, "", f); sub(/\)$/, "", f) } t[f] += hex(size) }
END { for (f in t) if (t[f] > 0) printf "%s %d\n", f, t[f] }
