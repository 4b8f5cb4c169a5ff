#!/bin/sh
# find.sh - the find/rfind benchmark: ours against glibc memmem, a simple
# backward baseline and, when python3 is there, Python's mmap.find/rfind on
# the same bytes.  Usage: find.sh [FIND_BENCH [find-bench options]]
# (make bench-find passes the built binary).  See bench/README.md.
set -eu

bench=${1:-./bench/find-bench}
[ $# -gt 0 ] && shift
if [ ! -x "$bench" ]; then
	echo "find.sh: $bench: not built (make bench/find-bench)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/find-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

: >"$tmp/python"
if command -v python3 >/dev/null 2>&1; then
	# The C side writes its text haystack and the case list; Python maps
	# the same bytes (the other haystacks it makes itself, as the C side
	# does) and times mmap.find/rfind with the same run count.
	"$bench" "$@" -w "$tmp/hay" >"$tmp/cases"
	echo "python3: timing mmap.find/rfind ..." >&2
	python3 - "$tmp/hay" "$tmp/cases" >"$tmp/python" <<'EOF'
import mmap
import statistics
import sys
import time

hay_path, cases_path = sys.argv[1], sys.argv[2]
with open(cases_path) as f:
    head = f.readline().split()
    size, runs = int(head[1]), int(head[3])
    cases = []
    for line in f:
        i, kind, call, plant, needle = line.split()
        cases.append((int(i), kind, call, int(plant), bytes.fromhex(needle)))

m = mmap.mmap(-1, size)


def fill(kind):
    if kind == "text":
        with open(hay_path, "rb") as f:
            assert f.readinto(m) == size
    elif kind == "periodic":
        m[:] = b"a" * size
    else:
        m[:] = b"ab" * (size // 2) + b"a" * (size % 2)


ready = None
for i, kind, call, plant, needle in cases:
    if kind != "text" or ready != "text":
        fill(kind)
    ready = kind
    m[plant:plant + len(needle)] = needle
    search = m.rfind if call == "rfind" else m.find
    figures = []
    for _ in range(runs):
        t0 = time.perf_counter()
        # Explicit start 0: mmap's default start is the position.
        r = search(needle, 0)
        dt = time.perf_counter() - t0
        if r != plant:
            sys.exit("python: case %d: got %d, want %d" % (i, r, plant))
        crossed = size - r if call == "rfind" else r + len(needle)
        figures.append(crossed / dt / 1e9)
    print(i, statistics.median(figures), flush=True)
EOF
else
	echo "find.sh: no python3: the python columns stay empty" >&2
fi

"$bench" "$@" -p "$tmp/python"
