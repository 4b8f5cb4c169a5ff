#!/bin/bash
# tests/integration/t-ioctl-diff.sh - the mount's file calls and ioctls
# against CPython's mmap (python3 is the oracle), op by op, on default,
# cache=never, writeback, access=read, access=copy and anon mounts: random
# sequences of writes, reads, truncations, fsyncs, reopens, find, rfind,
# move, madvise, flush and info with edge values and malformed payloads
# (ioctl-diff.py says what is compared and where the documented model
# stands in for CPython).  It found that a copy mount's flush failed on
# an unaligned offset once the file grew, and that MADV_DONTNEED_LOCKED
# could drop a copy's private bytes through a read-only handle.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
"$PYTHON3" -c 'import mmap' 2>/dev/null ||
	skip "python3 (the oracle) is missing"
SEQS=${IOCTL_DIFF_SEQS:-300}
SEED=${IOCTL_DIFF_SEED:-1}
D=$T/diff
mkdir "$D"
# the harness mounts by itself; the cleanup unmounts what it left
for kind in default never writeback read copy anon; do
	MMFS_MOUNTS+=("$D/mnt_$kind")
done

for kind in default never writeback read copy anon; do
	rc=0
	timeout -k 5 300 "$PYTHON3" "$top_srcdir/tests/integration/ioctl-diff.py" \
		"$MMAPFS" "$D" "$kind" "$SEQS" "$SEED" >"$T/$kind.json" 2>&1 ||
		rc=$?
	summary=$("$PYTHON3" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("%d of %d sequences (%d ops) as CPython" %
      (d["clean_seqs"], d["seqs"], d["ops"]))' "$T/$kind.json" 2>/dev/null) ||
		summary=""
	if [ "$rc" != 0 ] || [ -z "$summary" ]; then
		fail "$kind mount differs from CPython's mmap (status $rc):" \
			"$(head -c 4000 "$T/$kind.json")"
	fi
	ok "$kind mount: $summary"
done

mmfs_done
