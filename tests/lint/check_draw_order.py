#!/usr/bin/env python3
"""Two random draws in one expression make the trace hash depend on the compiler.

C++ leaves the evaluation order of a call's arguments and of most operators' operands to the
compiler (GCC 12 and clang 14 differ), so `f(rng.A(), rng.B())` or `rng.A() * rng.B()` draws
in a different order under each. This check finds statements with two or more draws from an
Rng (base/rng.h) and fails unless each draw is its own statement. A statement whose draws are
sequenced by the language (`if (rng.A()) return rng.B();`, `&&`, `||`, `?:` conditions) may
say so with a comment `// draws sequenced` on the line before it.

  check_draw_order.py FILE_OR_DIR...     exit 0: none found; 1: found (listed); 2: bad usage
"""
import os
import re
import sys

DRAW = re.compile(
    r"\b(\w*rng\w*|clocks|swarm)\s*(\.|->)\s*"
    r"(Uniform\w*|Bernoulli|Exponential\w*|Next\w*|Zipf\w*)\s*\(", re.IGNORECASE)
MARKER = "draws sequenced"


def strip_comments_keep_lines(text):
    # Replaces comments and string literals by spaces, keeping line numbers and the marker.
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" @SEQ@ " if MARKER in text[i:j] else " ")
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def check(path):
    text = strip_comments_keep_lines(open(path, encoding="utf-8").read())
    found, start = [], 0
    for m in re.finditer(r"[;{}]", text + ";"):
        stmt = text[start:m.start()]
        if len(DRAW.findall(stmt)) >= 2 and "@SEQ@" not in stmt:
            line = text.count("\n", 0, start + len(stmt) - len(stmt.lstrip())) + 1
            found.append(f"{path}:{line}: two random draws in one statement: "
                         f"{' '.join(stmt.split())[:160]}")
        start = m.end()
    return found


def main(args):
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    files = []
    for a in args:
        if os.path.isdir(a):
            for root, _, names in os.walk(a):
                files += [os.path.join(root, f) for f in names if f.endswith((".cc", ".h"))]
        else:
            files.append(a)
    problems = [p for f in sorted(files) for p in check(f)]
    for p in problems:
        print(p)
    print(f"{len(files)} files, {len(problems)} statements with unsequenced draws")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
