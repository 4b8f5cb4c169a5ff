#!/bin/bash
# tests/integration/t-posix.sh - POSIX namespace and metadata semantics
# (posix.py: about 100 cases of open flags, O_APPEND, seeks and holes,
# truncation, which calls move mtime and ctime and which leave atime,
# modes and owners, mknod, rename and renameat2 corners (whiteouts too),
# links and open unlinked files, directory link counts, xattrs, readdir)
# give exactly the native directory's outcomes on a default mount,
# cache=never, cache=always, -o writeback, -o anon and -o anon,writeback.
# So do random sequences of such calls (posix-random.py), call by call
# and in the tree they leave.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
[ "$(id -u)" = 0 ] || skip "needs root (chown, mknod of a device)"
CASES=$top_srcdir/tests/integration/posix.py
RANDOM_CALLS=$top_srcdir/tests/integration/posix-random.py
SEEDS=${MMFS_POSIX_SEEDS:-"1 2 3"}

mkdir "$T/native"
py "$T/native" <"$CASES" >"$T/native.out" 2>&1 ||
	fail "posix.py failed on the native directory: $(tail -5 "$T/native.out")"
n=$(wc -l <"$T/native.out")
[ "$n" -ge 90 ] || fail "only $n cases ran natively"
# a few outcomes asserted outright, so that the native run is checked too
for want in "rename dir over nonempty dir: ENOTEMPTY" \
	"open unlinked: data: (b'datamore', 8)" \
	"renameat2 EXCHANGE: (b'1', b'2')" "link dir: EPERM" \
	"renameat2 WHITEOUT: ('c---------', 0, b'2')" \
	"chown clears setuid/setgid: 0o100755" "dir nlink after rmdir: 3"; do
	grep -qxF "$want" "$T/native.out" ||
		fail "native: no line '$want'"
done

compare()
{
	local what=$1
	if ! py "$M" <"$CASES" >"$T/mount.out" 2>&1; then
		fail "$what: posix.py failed: $(tail -5 "$T/mount.out")"
	fi
	if ! cmp -s "$T/native.out" "$T/mount.out"; then
		fail "$what: outcomes differ from native:" \
			"$(diff "$T/native.out" "$T/mount.out")"
	fi
	ok "$what: $n cases as in a native directory"
	for seed in $SEEDS; do
		mkdir "$T/random.$seed" "$M/random.$seed"
		out=$(py "$seed" 4000 "$T/random.$seed" "$M/random.$seed" \
			<"$RANDOM_CALLS" 2>&1) ||
			fail "$what: random calls, seed $seed: $out"
		assert_eq "ok 4000" "$out" \
			"$what: 4000 random calls (seed $seed) as natively"
		rm -rf "$T/random.$seed"
	done
	mmfs_alive "$what: daemon alive"
	mmfs_umount
}

for opts in "" cache=never cache=always writeback; do
	mkdir "$B/${opts:-default}"
	mmfs_mount_at "$B/${opts:-default}" "$M" $opts
	compare "${opts:-default mount}"
done
mmfs_anon_mount
compare "-o anon"
mmfs_anon_mount writeback
compare "-o anon,writeback"
mmfs_done
