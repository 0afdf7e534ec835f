# SPDX-License-Identifier: Apache-2.0
# Deepest stack path through mqtt/, from GCC's -fcallgraph-info=su files.
#
# Input: the .ci files of every object (VCG graphs: one node per function
# with its frame size, one edge per call site). Output, for each entry
# point named in ENTRIES (space separated):
#   entry  <bytes>  <path>                 deepest chain of our own frames
#   calls-out <bytes> <path>               stack in use when a callback
#                                          (transport, clock, store, event)
#                                          is entered from that entry
# Functions GCC knows nothing of (memcpy, other libraries) count as 0
# bytes and are named in the path with a '?'. A cycle in the call graph
# is reported, since then no bound exists.
function strip(title) { sub(/^.*:/, "", title); return title }
/^node: \{ title: "/ {
    t = $0; sub(/^node: \{ title: "/, "", t); sub(/".*/, "", t)
    name = strip(t)
    if (match($0, /\\n[0-9]+ bytes \((static|dynamic|dynamic,bounded)\)/)) {
        s = substr($0, RSTART + 2, RLENGTH - 2)
        split(s, w, " ")
        frame[name] = w[1] + 0
        if (s !~ /static/) dyn[name] = 1
        known[name] = 1
    }
    next
}
/^edge: \{ sourcename: "/ {
    a = $0; sub(/^edge: \{ sourcename: "/, "", a); sub(/".*/, "", a)
    b = $0; sub(/.*targetname: "/, "", b); sub(/".*/, "", b)
    a = strip(a); b = strip(b)
    if (!((a, b) in seen)) { seen[a, b] = 1; ncall[a]++; callee[a, ncall[a]] = b }
    next
}
# depth(f): bytes of the deepest chain starting at f. ind(f): bytes in use
# when the deepest indirect call below f is made (-1 if none).
function walk(f,    i, c, d, best, bestc, ibest, ibestc, x) {
    if (f in done) return
    if (f in busy) { cycle = cycle " " f; depth[f] = 0; ind[f] = -1; return }
    busy[f] = 1
    best = 0; bestc = ""; ibest = -1; ibestc = ""
    for (i = 1; i <= ncall[f]; i++) {
        c = callee[f, i]
        if (c == "__indirect_call") { if (ibest < 0) { ibest = 0; ibestc = c } continue }
        walk(c)
        if (depth[c] > best || bestc == "") { best = depth[c]; bestc = c }
        if (ind[c] > ibest) { ibest = ind[c]; ibestc = c }
    }
    depth[f] = frame[f] + best; next_of[f] = bestc
    ind[f] = ibest < 0 ? -1 : frame[f] + ibest; inext_of[f] = ibestc
    delete busy[f]; done[f] = 1
}
function path(f, which,    p, n) {
    p = ""
    for (n = 0; f != "" && n < 64; n++) {
        p = p (p == "" ? "" : " > ") f (f in known ? "" : (f == "__indirect_call" ? "" : "?")) \
            (f in known ? "(" frame[f] ")" : "")
        f = which ? inext_of[f] : next_of[f]
        if (f == "__indirect_call") { p = p " > callback"; break }
    }
    return p
}
END {
    n = split(ENTRIES, e, " ")
    worst = 0
    for (i = 1; i <= n; i++) {
        f = e[i]
        if (!(f in known)) { printf "   %-28s not in the call graph\n", f; bad = 1; continue }
        walk(f)
        printf "   %-28s %4d bytes  %s\n", f, depth[f], path(f, 0)
        if (ind[f] >= 0)
            printf "   %-28s %4d bytes  %s\n", "  when a callback runs", ind[f], path(f, 1)
        if (depth[f] > worst) { worst = depth[f]; wf = f }
    }
    for (f in dyn) if (f in done) printf "   note: %s has a dynamic frame\n", f
    if (cycle != "") { printf "   recursion through:%s (no static bound)\n", cycle; bad = 1 }
    printf "   deepest: %s, %d bytes of mqtt/ stack (callbacks add their own)\n", wf, worst
    exit bad
}
