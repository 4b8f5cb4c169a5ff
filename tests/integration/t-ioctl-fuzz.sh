#!/bin/bash
# t-ioctl-fuzz.sh - bad ioctls at a real mount (tests/fuzz/ioctl-spray):
# garbage payloads for every mmapfs command, every advice value, our
# numbers with the wrong size or direction, and 10,000+ random numbers
# with random payloads and pointers, at a file, an empty file, a directory
# and the root, on write, read and copy mounts.  Every answer must be
# success or an expected errno, the daemon must live on and still serve
# the right bytes, and read and copy mounts must leave BACKING as it was.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
SPRAY=$top_builddir/tests/fuzz/ioctl-spray
if [ ! -x "$SPRAY" ]; then
	fail "ioctl-spray not built: $SPRAY"
fi

head -c 50000 /dev/urandom >"$B/target.bin"
head -c 20000 /dev/urandom >"$B/witness.bin"
cp "$B/witness.bin" "$T/witness.orig"
: >"$B/empty.bin"
mkdir "$B/dir"
echo inside >"$B/dir/f"

# spray N SEED - the spray at the usual targets of the current mount.
spray()
{
	assert_ok deadline 120 "$SPRAY" -n "$1" -s "$2" "$M/target.bin" \
		"$M/empty.bin" "$M/dir" "$M"
}

# served WHAT - the daemon is alive and serves the right bytes: the
# untouched file whole, the sprayed one as BACKING has it (or, on a copy
# mount, as it had it), a directory listing, and the mount's counters.
served()
{
	mmfs_alive "daemon alive after the spray ($1)"
	assert_file_eq "$T/witness.orig" "$M/witness.bin" \
		"untouched file read back ($1)"
	assert_eq "inside" "$(deadline 30 cat "$M/dir/f")" "dir/f ($1)"
	assert_eq "dir empty.bin target.bin witness.bin" \
		"$(cd "$M" && echo *)" "listing ($1)"
	if [ -x "$MMAPFSCTL" ]; then
		assert_ok "$MMAPFSCTL" stats "$M"
	fi
}

# ---------------------------------------------------------------- write

mmfs_mount
spray 12000 1
served write
# Garbage MOVEs and hole punches may have changed target.bin: the mount
# must show what BACKING holds, not a stale page.
assert_file_eq "$B/target.bin" "$M/target.bin" \
	"sprayed file through the mount == BACKING"
assert_size "$M/target.bin" 50000 "sprayed file keeps its size"
mmfs_umount

# ---------------------------------------------------------------- read

tree_listing "$B" >"$T/before.read"
mmfs_mount access=read
spray 3000 2
served read
mmfs_umount
tree_listing "$B" >"$T/after.read"
assert_file_eq "$T/before.read" "$T/after.read" \
	"BACKING unchanged by the spray on a read mount"

# ---------------------------------------------------------------- copy

cp "$B/target.bin" "$T/target.before"
tree_listing "$B" >"$T/before.copy"
mmfs_mount access=copy
spray 3000 3
served copy
mmfs_umount
tree_listing "$B" >"$T/after.copy"
assert_file_eq "$T/before.copy" "$T/after.copy" \
	"BACKING unchanged by the spray on a copy mount"

mmfs_done
