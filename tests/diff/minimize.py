#!/usr/bin/env python3
"""minimize.py SCRIPT WORKDIR - shrink a failing script while its first
mismatch stays the same kind (same op name, same result kinds), then print
the repro and both outputs of its last op."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import run_pair, first_diff  # noqa: E402


def kind(line):
    r = line.split(" | ")[0]
    return " ".join(r.split()[:2]) if r.startswith("ERR") else ("val" if r else r)


def sig(lines, workdir):
    text = "\n".join(lines) + "\n"
    a, b = run_pair(text, workdir)
    d = first_diff(text, a, b)
    if d is None or d == "sigbus":
        return None, None
    i, op, x, y = d
    return (op[0], kind(x), kind(y)), i


def main():
    lines = [l for l in open(sys.argv[1]).read().splitlines() if l.split()]
    wd = sys.argv[2] + "/minwd"
    target, i = sig(lines, wd)
    if target is None:
        print("no mismatch")
        return
    lines = lines[:i + 1]
    chunk = max(len(lines) // 2, 1)
    while chunk >= 1:
        j = 0
        while j < len(lines) - 1:
            cand = lines[:j] + lines[j + chunk:]
            if cand and cand[-1] == lines[-1]:
                s, k = sig(cand, wd)
                if s == target:
                    lines = cand[:k + 1]
                    continue
            j += chunk
        chunk //= 2
    text = "\n".join(lines) + "\n"
    a, b = run_pair(text, wd)
    d = first_diff(text, a, b)
    print(text, end="")
    if d:
        print("  -> mmfs  : " + d[2])
        print("  -> python: " + d[3])


if __name__ == "__main__":
    main()
