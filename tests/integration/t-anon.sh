#!/bin/bash
# tests/integration/t-anon.sh - "mmapfs -o anon": a RAM file system of
# anonymous mappings.  The namespace behaves like a native directory, data
# grows and shrinks, and everything is gone after unmount (no file left in
# /dev/shm either).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
N=$T/native
mkdir "$N"

shm_list()
{
	find /dev/shm -maxdepth 1 -name 'mmapfs-anon.*' -printf '%f\n' | sort
}
shm_list >"$T/shm.before"
mmfs_anon_mount
shm_list >"$T/shm.during"
assert_eq "" "$(ls -A "$M")" "a fresh anon mount is empty"
df -P "$M" >/dev/null || fail "statfs on an anon mount failed"
ok "statfs answers"

# The same namespace operations on the native directory and the mount.
ops()
{
	cd "$1" || exit 1
	printf 'hello\n' >a
	printf 'world\n' >>a
	mkdir -p d/e/f
	printf 'deep\n' >d/e/f/g
	mv a d/renamed
	ln d/renamed hard
	ln -s d/renamed soft
	cat soft
	printf 'via hard\n' >>hard
	cat d/renamed
	stat -c '%h %s' hard d/renamed
	readlink soft
	truncate -s 100000 d/renamed
	stat -c %s d/renamed
	truncate -s 3 hard
	cat d/renamed
	echo
	: >empty
	stat -c %s empty
	mkdir gone
	printf x >gone/x
	rm -r gone
	mv d/e/f/g top
	rmdir d/e/f
	chmod 604 top
	stat -c '%a %F' top d soft
	setfattr -n user.k -v v1 top
	setfattr -n user.k2 -v v2 top
	getfattr -d top
	setfattr -x user.k top
	getfattr -d top
	touch -d '2002-02-02 02:02:02' top
	stat -c %Y top
	find . ! -type d -printf '%y %m %n %s %p -> %l\n' | sort
	find . -type d -printf '%y %m %n %p\n' | sort
}
assert_eq "$(ops "$N" 2>&1)" "$(ops "$M" 2>&1)" \
	"namespace operations like native"

# Data: write, read back, grow with zeroed holes, shrink, a 16 MiB round
# trip, an mmap.
head -c 16M /dev/urandom >"$T/big"
deadline 60 cp "$T/big" "$M/big"
assert_file_eq "$T/big" "$M/big" "16 MiB file round trip"
py "$M/data" <<'EOF'
import mmap, os, sys
p = sys.argv[1]
fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
assert os.fstat(fd).st_size == 0
assert os.pread(fd, 10, 0) == b""
assert os.pwrite(fd, b"abc", 0) == 3
assert os.pwrite(fd, b"Z", 1 << 20) == 1
assert os.fstat(fd).st_size == (1 << 20) + 1
d = os.pread(fd, 2 << 20, 0)
assert d[:3] == b"abc" and d[-1:] == b"Z"
assert d[3:1 << 20] == bytes((1 << 20) - 3)
os.ftruncate(fd, 2)
assert os.pread(fd, 10, 0) == b"ab"
os.ftruncate(fd, 8192)
assert os.pread(fd, 10000, 0) == b"ab" + bytes(8190)
m = mmap.mmap(fd, 0)
m[4096:4100] = b"MMAP"
m.flush()
m.close()
os.close(fd)
with open(p, "rb") as f:
    d = f.read()
assert len(d) == 8192 and d[4096:4100] == b"MMAP" and d[:2] == b"ab"
os.ftruncate(os.open(p, os.O_RDWR), 0)
assert os.stat(p).st_size == 0
EOF
ok "anon data: grow, holes, shrink, regrow, mmap"
truncate -s 1G "$M/huge"
assert_size "$M/huge" 1073741824 "1 GiB sparse anon file"
assert_eq "0000" "$(dd if="$M/huge" bs=1 skip=1073741822 count=2 \
	status=none | od -An -tx1 | tr -d ' \n')" "its last bytes are zeros"

# Sizes no map can reach (past the address space, or with no room left in
# it for one map that long; tmpfs itself would take them): truncate and
# fallocate fail with EFBIG, as a write does, and the file stays as it was
# and readable.  An empty file, which has no map to grow first, is cut back
# to empty when its first map fails, with EFBIG too.
printf 'abc' >"$M/big"
: >"$M/big0"
py "$M/big" "$M/big0" <<'EOF'
import errno, os, sys
ROOMLESS = 2**47 - 2**40  # below the address space's end, but no gap so big
fd = os.open(sys.argv[1], os.O_RDWR)
for what, call in (("truncate", lambda: os.ftruncate(fd, 2**47)),
                   ("fallocate", lambda: os.posix_fallocate(fd, 2**50, 10)),
                   ("pwrite", lambda: os.pwrite(fd, b"x", 2**47)),
                   ("truncate 127T", lambda: os.ftruncate(fd, ROOMLESS)),
                   ("fallocate 127T",
                    lambda: os.posix_fallocate(fd, ROOMLESS, 1)),
                   ("pwrite 127T", lambda: os.pwrite(fd, b"x", ROOMLESS))):
    try:
        call()
        raise SystemExit("%s past the address space succeeded" % what)
    except OSError as e:
        assert e.errno == errno.EFBIG, (what, e)
    assert os.fstat(fd).st_size == 3, what
    assert os.pread(fd, 10, 0) == b"abc", what
os.posix_fallocate(fd, 0, 100000)
assert os.fstat(fd).st_size == 100000
assert os.pread(fd, 4, 0) == b"abc\0"
fd0 = os.open(sys.argv[2], os.O_RDWR)
try:
    os.posix_fallocate(fd0, 2**50, 10)
    raise SystemExit("fallocate of an empty file to 2^50 succeeded")
except OSError as e:
    assert e.errno == errno.EFBIG, e
assert os.fstat(fd0).st_size == 0
os.posix_fallocate(fd0, 0, 100)
assert os.pread(fd0, 200, 0) == bytes(100)
EOF
ok "sizes no map can reach: EFBIG, files intact"
rm "$M/huge"
# tmpfs checks immutability in truncate(2) by path alone: a truncation by
# path of a file made immutable while held open is refused all the same
# (the daemon truncates through the descriptor it holds).
if lsattr -d /dev/shm >/dev/null 2>&1; then
	cat >"$T/imm.py" <<'EOF'
import errno, os, subprocess, sys
p = sys.argv[1]
with open(p, "wb") as f:
    f.write(b"0123456789")
fd = os.open(p, os.O_RDWR)
subprocess.run(["chattr", "+i", p], check=True)
try:
    os.truncate(p, 2)
    r = "ok"
except OSError as e:
    r = errno.errorcode[e.errno]
subprocess.run(["chattr", "-i", p], check=True)
os.close(fd)
print(r, os.stat(p).st_size)
EOF
	nd=$(mktemp -d /dev/shm/mmfs-t-anon-native.XXXXXX)
	MMFS_CLEANUP_HOOKS+=("chattr -i '$nd/f' 2>/dev/null; rm -rf '$nd'")
	assert_eq "EPERM 10" "$("$PYTHON3" "$T/imm.py" "$nd/f")" \
		"natively on tmpfs: truncate by path of an immutable file"
	assert_eq "EPERM 10" "$("$PYTHON3" "$T/imm.py" "$M/imm")" \
		"truncate by path of a file made immutable while open"
	rm -rf "$nd" "$M/imm"
fi
# truncate(2) by name to the size a file has leaves an empty file's times
# on tmpfs (ftruncate(2) moves them): the daemon's ftruncate moved them.
cat >"$T/same.py" <<'EOF'
import os, sys, time
out = []
for size in (0, 5):
    p = os.path.join(sys.argv[1], "same%d" % size)
    with open(p, "wb") as f:
        f.write(b"x" * size)
    for name, call in (("truncate", lambda: os.truncate(p, size)),
                       ("ftruncate", lambda: os.ftruncate(fd, size))):
        fd = os.open(p, os.O_RDWR)
        before = os.stat(p)
        time.sleep(0.02)
        call()
        after = os.stat(p)
        os.close(fd)
        out.append("%s %d: %s" % (name, size, "moved"
                   if after.st_mtime_ns != before.st_mtime_ns or
                   after.st_ctime_ns != before.st_ctime_ns else "kept"))
print(", ".join(out))
EOF
nd=$(mktemp -d /dev/shm/mmfs-t-anon-native.XXXXXX)
MMFS_CLEANUP_HOOKS+=("rm -rf '$nd'")
native=$("$PYTHON3" "$T/same.py" "$nd")
rm -rf "$nd"
assert_eq "$native" "$("$PYTHON3" "$T/same.py" "$M")" \
	"truncations to the same size move the times as on tmpfs"
# Reading holes gives them no memory, as on tmpfs: through an O_NOATIME
# descriptor and by copy_file_range (both copied out of the map, whose
# read faults gave every hole a page: 64 MiB of holes took 64 MiB).
py "$M" <<'EOF'
import os, sys
M = sys.argv[1]
p, q = os.path.join(M, "holes"), os.path.join(M, "copy")
with open(p, "wb") as f:
    f.truncate(64 << 20)
fd = os.open(p, os.O_RDONLY | os.O_NOATIME)
assert os.pread(fd, 64 << 20, 0) == bytes(64 << 20)
os.close(fd)
assert os.stat(p).st_blocks == 0, os.stat(p)
src = os.open(p, os.O_RDONLY)
dst = os.open(q, os.O_RDWR | os.O_CREAT, 0o644)
assert os.copy_file_range(src, dst, 8 << 20, 0, 0) == 8 << 20
assert os.pread(dst, 8 << 20, 0) == bytes(8 << 20)
os.close(src)
os.close(dst)
assert os.stat(p).st_blocks == 0, os.stat(p)
EOF
ok "holes read through O_NOATIME and copy_file_range take no memory"
rm -r "${M:?}"/*
assert_eq "" "$(ls -A "$M")" "rm -r empties the mount"
printf 'must vanish\n' >"$M/persist?"
mmfs_alive
mmfs_umount

# Nothing survives: not in a new mount, not in /dev/shm.
shm_list >"$T/shm.after"
ours=$(comm -13 "$T/shm.before" "$T/shm.during")
for f in $ours; do
	if [ -e "/dev/shm/$f" ]; then
		fail "left over after unmount: /dev/shm/$f"
	fi
done
ok "no mmapfs-anon.* left in /dev/shm (had: ${ours:-none})"
mmfs_anon_mount
assert_eq "" "$(ls -A "$M")" "a remount starts empty"

mmfs_done
