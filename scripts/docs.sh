#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make docs: the API reference from the public headers, with Doxygen.
# The headers use plain C comments (they are written for people reading the
# header); this turns each into a Doxygen comment in a copy under
# build/docs/src, so the comments you read in the header are the reference:
#   - a comment on its own line documents what follows   (/*  ->  /**)
#   - a comment after code documents that code           (/*  ->  /**<)
#   - a file's first comment documents the file          (@file)
# Fails when Doxygen warns about anything.
set -eu
out=build/docs
rm -rf "$out"
mkdir -p "$out/src"
for h in $(ls mqtt/*.h mqtt/posix/*.h net/*.h tls/*.h | grep -v -e mqtt/scan.h -e tls/bundle.h -e tls/tls_internal.h -e tls/tls_compat.h); do
    mkdir -p "$out/src/$(dirname "$h")"
    awk '
        # Doxygen reads & and # in comments as markup; escape them there.
        function esc(t) { gsub(/&/, "\\\\\\&", t); gsub(/#/, "\\#", t); return t }
        BEGIN { first = 1; incomment = 0 }
        {
            line = $0
            if (incomment) {
                j = index(line, "*/")
                if (j > 0) { line = esc(substr(line, 1, j - 1)) substr(line, j); incomment = 0 }
                else line = esc(line)
                print line
                next
            }
            i = index(line, "/*")
            if (i > 0) {
                before = substr(line, 1, i - 1)
                rest = substr(line, i + 2)
                if (substr(rest, 1, 1) == "*")
                    rest = substr(rest, 2)
                j = index(rest, "*/")
                body = j > 0 ? esc(substr(rest, 1, j - 1)) substr(rest, j) : esc(rest)
                if (j == 0)
                    incomment = 1
                if (first && before ~ /^[ \t]*$/) {
                    print before "/** @file"
                    line = before " *" body
                    first = 0
                } else if (before ~ /^[ \t]*$/) {
                    line = before "/**" body
                } else if (before !~ /"/) {
                    line = before "/**<" body
                } else {
                    line = before "/*" rest
                }
            }
            print line
        }' "$h" >"$out/src/$h"
done
# The README is the main page and docs/ the related pages; links to
# certs/README.md (not part of the reference) become plain text.
mkdir -p "$out/pages"
sed -e 's|\[certs/README.md\](certs/README.md)|`certs/README.md`|' -e 's|(docs/|(pages/|g' README.md >"$out/README.md"
for f in docs/*.md; do
    sed 's|\[certs/README.md\](\.\./certs/README.md)|`certs/README.md`|' "$f" >"$out/pages/$(basename "$f")"
done
cat >"$out/Doxyfile" <<CONF
PROJECT_NAME           = mqtls
PROJECT_BRIEF          = "MQTT 3.1.1 over mutually authenticated TLS, for devices"
PROJECT_NUMBER         = $(sed -n 's/^#define MQTLS_VERSION_STRING "\(.*\)"/\1/p' net/version.h)
OUTPUT_DIRECTORY       = $out
INPUT                  = $out/src $out/README.md $out/pages
USE_MDFILE_AS_MAINPAGE = $out/README.md
STRIP_FROM_PATH        = $out/src
RECURSIVE              = YES
FILE_PATTERNS          = *.h *.md
EXTRACT_ALL            = YES
EXTRACT_STATIC         = YES
OPTIMIZE_OUTPUT_FOR_C  = YES
TYPEDEF_HIDES_STRUCT   = YES
JAVADOC_AUTOBRIEF      = YES
MARKDOWN_SUPPORT       = YES
ENABLE_PREPROCESSING   = YES
MACRO_EXPANSION        = YES
EXPAND_ONLY_PREDEF     = YES
PREDEFINED             = MQTLS_API_BEGIN= MQTLS_API_END=
GENERATE_LATEX         = NO
HAVE_DOT               = NO
CLASS_GRAPH            = NO
COLLABORATION_GRAPH    = NO
INCLUDE_GRAPH          = NO
INCLUDED_BY_GRAPH      = NO
DIRECTORY_GRAPH        = NO
GENERATE_HTML          = YES
HTML_OUTPUT            = html
QUIET                  = YES
WARNINGS               = YES
WARN_IF_UNDOCUMENTED   = YES
WARN_IF_DOC_ERROR      = YES
WARN_NO_PARAMDOC       = NO
WARN_LOGFILE           = $out/warnings.log
CONF
doxygen "$out/Doxyfile"
if [ -s "$out/warnings.log" ]; then
    echo "docs: Doxygen warned ($(wc -l <"$out/warnings.log") lines):"
    head -n 40 "$out/warnings.log"
    exit 1
fi
echo "docs: API reference in $out/html/index.html, no warnings"
