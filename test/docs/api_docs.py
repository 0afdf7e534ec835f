#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The public headers document the whole API (make check, `docs` suite).

Headers are written for people (STYLE.md: contracts, not signatures), so
this checks what a reader needs rather than Doxygen tags:

  - every public function has a comment (the one right above it, shared by
    a group of declarations with no blank line between them);
  - that comment names each parameter, except the object a module's
    functions take first (mqtls_tls_config *cfg for mqtls_tls_config_*),
    which its type's own comment covers;
  - a function that returns something says what (Returns, MQTLS_OK,
    MQTLS_ERR_..., NULL, true/false, "cannot fail", ...);
  - every field of every public struct has a comment (on its line, or a
    comment heading the group of fields it is in);
  - every object with an _init and a _free has its lifecycle said in its
    header: a comment naming both.

Usage: test/docs/api_docs.py HEADER...   (exit 1 and a line per gap)
"""
import re
import sys

RETURN_WORDS = re.compile(
    r"(?i)\breturns?\b|\bMQTLS_OK\b|\bMQTLS_ERR|\bNULL\b|\btrue\b|\bfalse\b|"
    r"cannot fail|never fails|\bgives\b|\bnumber of\b|\bthe count\b|\bis\s+0\b|"
    r"\b0\b.*\bor\b|\bnonzero\b|\bbytes? written\b")


def strip_strings(line):
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', line)


def parse(path):
    """Yields ('comment', text, line) and ('code', text, line) items and
    blank-line markers, top level and in structs alike, with brace depth."""
    text = open(path, encoding="utf-8").read()
    # C++ linkage wrappers are not scopes
    text = re.sub(r'#ifdef __cplusplus\n(extern "C" \{|\})\n#endif', "#if 0\n#endif\n#endif", text)
    items = []
    kinds = []  # per open brace: "struct" (members) or "other" (bodies, enums)
    i, n, line, depth = 0, len(text), 1, 0
    code = ""
    code_line = 1
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            if code.strip():
                items.append(("code", code, code_line, depth))
                code = ""
            items.append(("comment", text[i:j], line, depth))
            line += text.count("\n", i, j)
            i = j
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            items.append(("comment", text[i:j], line, depth))
            i = j
            continue
        c = text[i]
        if c == "#" and not code.strip():
            # a preprocessor line (with continuations)
            j = i
            while True:
                k = text.find("\n", j)
                if k < 0:
                    k = n
                    break
                if text[k - 1] == "\\":
                    j = k + 1
                    continue
                break
            items.append(("pp", text[i:k], line, depth))
            line += text.count("\n", i, k)
            i = k
            continue
        if c == "\n":
            line += 1
            if code.strip():
                code += c
            elif text.startswith("\n", i + 1) or text[i + 1:i + 2] == "":
                pass
            # a blank line: a line with nothing but spaces
            k = i + 1
            while k < n and text[k] in " \t":
                k += 1
            if k < n and text[k] == "\n" and not code.strip():
                items.append(("blank", "", line, depth))
            i += 1
            continue
        if not code.strip():
            code_line = line
        code += c
        if c == "{":
            head = " ".join(code.split())
            kinds.append("struct" if re.search(r"\b(struct|union)\b[\w\s]*\{$", head)
                         and (not kinds or kinds[-1] == "struct") else "other")
            items.append(("code", code, code_line, depth))
            code = ""
            depth += 1
        elif c == "}":
            depth -= 1
            code = code[:-1]
            if code.strip():
                items.append(("code", code, code_line, depth + 1, kinds[-1] if kinds else "other"))
            kinds.pop() if kinds else None
            code = "}"
        elif c == ";":
            items.append(("code", code, code_line, depth, kinds[-1] if kinds else "top"))
            code = ""
        i += 1
    return items


def split_params(params):
    out, depth, cur = [], 0, ""
    for ch in params:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    names = []
    for p in out:
        p = p.strip()
        if p in ("", "void", "..."):
            continue
        m = re.search(r"\(\s*\*\s*(\w+)\s*\)", p)  # a function pointer
        if m:
            names.append((m.group(1), p))
            continue
        m = re.search(r"(\w+)\s*(\[[^\]]*\])?$", p)
        if m:
            names.append((m.group(1), p))
    return names


def check(path):
    gaps = []
    items = parse(path)
    whole = open(path, encoding="utf-8").read()
    lines = whole.split("\n")
    funcs = set()
    last_comment = None  # (text, line) that covers what follows
    section = ""         # a "---- Name ----" comment: covers its whole section
    prev_doc = ""
    in_struct = []
    for item in items:
        kind, text, line, depth = item[:4]
        scope = item[4] if len(item) > 4 else ("top" if depth == 0 else "other")
        if kind == "blank":
            last_comment = None
            continue
        if kind == "pp":
            # a macro right after a comment shares it with what follows
            # (mqtls_tls_init(t) and mqtls_tls_init_sized); includes do not
            last_comment = None if text.startswith("#include") else last_comment
            continue
        if kind == "comment":
            before = lines[line - 1].split("/*")[0] if line - 1 < len(lines) else ""
            if before.strip():
                continue  # a trailing comment covers its own line only
            if re.match(r"/\*\s*-{3,}", text):
                section = text  # "/* ---- Encoders ---- Each writes ..." covers its section
                last_comment = None
                continue
            if re.match(r"/\*\s*The same\b", text) and prev_doc:
                text = prev_doc + "\n" + text  # "The same, ..." builds on the one before
            last_comment = (text, line)
            continue
        code = " ".join(strip_strings(text).split())
        if depth == 0:
            if code.startswith("typedef") and "(*" in code:
                continue  # a function type: its comment is the caller's business
            m = re.match(r"^(?:extern\s+)?([\w\s\*]+?)\b(mqtls_\w+)\s*\((.*)\)\s*;$", code)
            if m and not code.startswith(("typedef", "static", "return", "#")):
                ret, name, params = m.group(1).strip(), m.group(2), m.group(3)
                funcs.add(name)
                trailing = None
                if last_comment is None and section:
                    last_comment = ("", line)  # the section's comment alone
                if last_comment is None:
                    gaps.append("%s:%d: %s has no comment" % (path, line, name))
                    continue
                doc = last_comment[0] + "\n" + section
                prev_doc = last_comment[0]
                for pname, ptext in split_params(params):
                    mobj = re.match(r"^(?:const\s+)?(mqtls_\w+)\s*\*", ptext)
                    if (pname == split_params(params)[0][0] and mobj
                            and name.startswith(mobj.group(1) + "_")):
                        continue  # the module's own object
                    if not re.search(r"\b%s\b" % re.escape(pname), doc):
                        gaps.append("%s:%d: %s: parameter '%s' is not described"
                                    % (path, line, name, pname))
                if ret not in ("void",) and not RETURN_WORDS.search(doc):
                    gaps.append("%s:%d: %s: what it returns is not said" % (path, line, name))
                continue  # the comment goes on covering the next declaration
            last_comment = None if kind == "code" and not code.endswith(";") else last_comment
            if code.endswith("{"):
                last_comment = None
            continue
        # a struct or union member (function bodies and enums are not checked)
        if scope != "struct":
            if code.endswith("{"):
                last_comment = None
            continue
        if code.endswith("{") or code.startswith("}"):
            last_comment = None if code.startswith("}") else last_comment
            continue
        if code.endswith(";") and re.search(r"[\w\]\)]\s*;$", code):
            member_line = whole.split("\n")[line - 1]
            has_trailing = "/*" in member_line or "//" in member_line
            if not has_trailing:
                # a trailing comment may start on the next line for a long member
                nxt = whole.split("\n")[line] if line < len(whole.split("\n")) else ""
                has_trailing = nxt.strip().startswith("/*") and False
            if not has_trailing and last_comment is None:
                gaps.append("%s:%d: a struct field has no comment: %s" % (path, line, code))
            continue
    # lifecycles: an object with _init and _free says both in one comment
    for name in sorted(funcs):
        if name.endswith("_init"):
            base = name[: -len("_init")]
            if base + "_free" in funcs:
                comments = re.findall(r"/\*.*?\*/", whole, re.S)
                if not any((base + "_init" in c or "init" in c) and (base + "_free" in c or "_free" in c)
                           and ("setup" in c or "free" in c) for c in comments):
                    gaps.append("%s: the lifecycle of %s (init ... free) is not said" % (path, base))
    return gaps, len(funcs)


def main():
    gaps, total = [], 0
    for path in sys.argv[1:]:
        g, n = check(path)
        gaps += g
        total += n
    for g in gaps:
        print(g)
    if gaps:
        print("api docs: %d gap(s) in %d public functions' and structs' comments" % (len(gaps), total))
        return 1
    print("api docs: %d public functions, each parameter and return value described; every struct field; every lifecycle" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
