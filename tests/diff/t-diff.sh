#!/bin/bash
# tests/diff/t-diff.sh - the engine against CPython's mmap (the oracle),
# op by op, on DIFF_SEEDS random scripts from gen.py: every op's result
# (value, or errno and message), and after it the map's position, length
# and bytes and the backing file's size and bytes, must be the same on
# both sides, but for the departures the README and mmfs(3) document
# (compare.py filters them).  A failing seed prints its first mismatch;
# run.sh shrinks it to a short repro.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${PYTHON3:=python3}"
here=$top_srcdir/tests/diff
first=${DIFF_FIRST:-1}
seeds=${DIFF_SEEDS:-300}
nops=${DIFF_OPS:-80}

if ! command -v "$PYTHON3" >/dev/null; then
	echo "SKIP: python3 (the oracle) is missing"
	exit 77
fi
if ! "$PYTHON3" -c 'import sys
sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))'; then
	echo "SKIP: the oracle's messages are those of CPython 3.10 to 3.13"
	exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mmfs-t-diff.XXXXXX")
trap 'rm -rf "$work"' EXIT
export DRV=$top_builddir/tests/diff/mmfs-driver
[ -x "$DRV" ] || { echo "FAIL: $DRV is not built"; exit 1; }

# one SEED: gen, run both sides, compare; prints ok or the mismatch.
one()
{
	local d=$work/s$1
	mkdir "$d"
	"$PYTHON3" "$here/gen.py" "$1" "$nops" >"$d/script" || return 1
	if "$PYTHON3" "$here/compare.py" "$d/script" "$d" >"$d/out" 2>&1; then
		echo "ok $1"
		rm -rf "$d"
	else
		echo "FAIL seed $1 (gen.py $1 $nops):"
		head -c 2000 "$d/out"
		echo
	fi
}
export -f one
export work here nops PYTHON3

seq "$first" $((first + seeds - 1)) |
	xargs -P 2 -I{} bash -c 'one {}' >"$work/log"
clean=$(grep -c '^ok ' "$work/log")
echo "CPython $("$PYTHON3" -c 'import platform
print(platform.python_version())'): $clean of $seeds scripts of $nops ops" \
	"(seeds $first..$((first + seeds - 1))) match"
if [ "$clean" != "$seeds" ]; then
	grep -v '^ok ' "$work/log"
	exit 1
fi
