#!/usr/bin/env python3
"""compare.py SCRIPT WORKDIR - run SCRIPT through the driver ($DRV) and the
oracle, each on its own backing file, and report the first mismatching op.
Exit 0 when the outputs agree (after the expected-difference filters),
1 on a mismatch, 2 when a side crashed.  Importable (run_pair, first_diff).

Expected-difference filters (FILTERS env, comma list; default all):
  sigbus    CPython killed by SIGBUS at an op where the engine returned -EIO
            or could not read its own map back (PREAD-FAULT): rest skipped.
  efault    resize: CPython's mremap fails with EFAULT on a map a madvise
            split, the engine remaps afresh (map.c): rest skipped.
  anonsize  size() of an anonymous map: CPython 3.11 raises OSError EBADF,
            the engine returns the length (3.15 behaviour, see mmfs.h).
Plus, in the driver/oracle themselves: "SKIP anon-grow" (shared anonymous
growth) and the oracle's undo of a non-atomic failed resize.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FILTERS = set(os.environ.get("FILTERS", "anonsize,sigbus,efault").split(","))


def run_pair(script_text, workdir):
    os.makedirs(workdir, exist_ok=True)
    fa, fb = os.path.join(workdir, "fa"), os.path.join(workdir, "fb")
    for f in (fa, fb):
        if os.path.exists(f):
            os.unlink(f)
    drv = os.environ.get("DRV", os.path.join(HERE, "mmfs-driver"))
    a = subprocess.run([drv, fa], input=script_text, capture_output=True,
                       text=True, timeout=120)
    b = subprocess.run([sys.executable, os.path.join(HERE, "mmfs-oracle.py"), fb],
                       input=script_text, capture_output=True, text=True,
                       timeout=300)
    return a, b


def filt(op, la, lb):
    """return True when the pair differs only by an expected difference"""
    ra, rb = la.split(" | ")[0], lb.split(" | ")[0]
    if "anonsize" in FILTERS and op[0] == "size" and \
            rb == "ERR EBADF Bad file descriptor" and not ra.startswith("ERR"):
        return la.split(" | ")[1:] == lb.split(" | ")[1:]
    return False


def first_diff(script_text, a, b):
    ops = [l.split() for l in script_text.splitlines()
           if l.split() and not l.startswith("#")]
    la, lb = a.stdout.splitlines(), b.stdout.splitlines()
    for i, op in enumerate(ops):
        x = la[i] if i < len(la) else "<missing: driver died>"
        y = lb[i] if i < len(lb) else "<missing: oracle died>"
        # Expected: CPython dies of SIGBUS where the engine reports -EIO
        # (or its own state read, pread, comes back short).
        if "sigbus" in FILTERS and i == len(lb) and b.returncode == -7 and \
                ("PREAD-FAULT" in x or x.startswith("ERR EIO")):
            return "sigbus"
        if i == len(lb) and "FILTER-STOP" in b.stderr:
            return "sigbus"
        # Expected (map.c, mmfs_remap_fresh): after a madvise split the
        # VMA, CPython's mremap fails with EFAULT; the engine remaps
        # afresh.  The states part here: stop comparing.
        if "efault" in FILTERS and op[0] == "resize" and \
                y.startswith("ERR EFAULT") and not x.startswith("ERR"):
            return "sigbus"
        if x != y and not filt(op, x, y):
            return i, op, x, y
    return None


def main():
    script, workdir = sys.argv[1], sys.argv[2]
    text = open(script).read()
    a, b = run_pair(text, workdir)
    nops = len([l for l in text.splitlines() if l.split()])
    d = first_diff(text, a, b)
    filt_notes = b.stderr.count("FILTER")
    if d == "sigbus" and a.returncode == 0:
        # the driver ran the whole script: nothing it did may crash it
        print("clean until a filtered stop (%d ops)" % nops)
        return 0
    if d is None and a.returncode == 0 and b.returncode == 0:
        print("clean %d ops (oracle filters applied: %d)" % (nops, filt_notes))
        return 0
    if d is None or d == "sigbus":
        print("crash: driver rc=%d oracle rc=%d" % (a.returncode, b.returncode))
        print(a.stderr[-3000:])
        print(b.stderr[-3000:])
        return 2
    i, op, x, y = d
    print("first mismatch at op #%d: %s" % (i, " ".join(op)))
    print("  mmfs  : " + x)
    print("  python: " + y)
    if a.returncode != 0:
        print("driver rc=%d stderr:\n%s" % (a.returncode, a.stderr[-3000:]))
    if b.returncode != 0:
        print("oracle rc=%d stderr:\n%s" % (b.returncode, b.stderr[-3000:]))
    return 1


if __name__ == "__main__":
    sys.exit(main())
