#!/bin/bash
# tests/integration/t-access.sh - access=read refuses every change with
# EROFS and leaves BACKING untouched; access=copy shows data changes through
# the mount, never writes them to BACKING, and refuses namespace changes.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
EROFS="Read-only file system"

# A backing tree with a file, a larger file, a directory, a symlink, an
# xattr, and old timestamps so any touch would show.
mkdir -p "$B/dir/sub"
printf 'original contents\n' >"$B/file"
head -c 200000 /dev/urandom >"$B/big"
printf 'in a dir\n' >"$B/dir/sub/f"
ln -s file "$B/sym"
setfattr -n user.tag -v kept "$B/file"
chmod 640 "$B/big"
find "$B" -exec touch -h -d '2001-01-01 00:00:00' {} +

# snapshot - names, types, modes, sizes, links, owners, m/ctimes, symlink
# targets, xattrs and sha256 of every backing file.
snapshot()
{
	(
		cd "$B" &&
		find . -printf '%y %m %s %n %u:%g %T@ %C@ %p -> %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum &&
		getfattr -R -d -m - . 2>/dev/null
		{ lsattr -Ra . 2>/dev/null || true; } | sort
	)
}
snapshot >"$T/before"

# ---------------------------------------------------------------- read
mmfs_mount access=read
assert_content "$M/file" "original contents" "read: cat works"
assert_file_eq "$B/big" "$M/big" "read: a larger file reads back"
assert_content "$M/dir/sub/f" "in a dir" "read: nested file"
assert_eq file "$(readlink "$M/sym")" "read: readlink"
assert_eq kept \
	"$(getfattr --absolute-names -n user.tag --only-values "$M/file")" \
	"read: getfattr"
py "$M/big" "$B/big" <<'EOF'
import mmap, sys
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "rb") as g:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    assert m[:] == g.read()
EOF
ok "read: a read-only mmap of a mount file matches"

assert_fails_with "$EROFS" sh -c "echo x >'$M/file'"
assert_fails_with "$EROFS" sh -c "echo x >>'$M/file'"
assert_fails_with "$EROFS" dd if=/dev/zero of="$M/file" bs=1 count=1 \
	conv=notrunc status=none
assert_fails_with "$EROFS" py "$M/file" <<'EOF'
import os, sys
os.open(sys.argv[1], os.O_RDWR)
EOF
assert_fails_with "$EROFS" truncate -s 0 "$M/file"
assert_fails_with "$EROFS" truncate -s 1M "$M/big"
assert_fails_with "$EROFS" touch "$M/new"
assert_fails_with "$EROFS" touch "$M/file"
assert_fails_with "$EROFS" touch -d '2020-01-01' "$M/file"
assert_fails_with "$EROFS" mkdir "$M/newdir"
assert_fails_with "$EROFS" py "$M/dir" <<'EOF'
import os, sys
os.open(sys.argv[1], os.O_TMPFILE | os.O_RDWR, 0o600)
EOF
assert_fails_with "$EROFS" rm "$M/file"
assert_fails_with "$EROFS" rm -r "$M/dir"
assert_fails_with "$EROFS" rmdir "$M/dir/sub"
assert_fails_with "$EROFS" mv "$M/file" "$M/moved"
assert_fails_with "$EROFS" mv "$M/file" "$M/dir/"
assert_fails_with "$EROFS" chmod 600 "$M/file"
assert_fails_with "$EROFS" chown 1:1 "$M/file"
assert_fails_with "$EROFS" setfattr -n user.new -v x "$M/file"
assert_fails_with "$EROFS" setfattr -x user.tag "$M/file"
if lsattr "$B/file" >/dev/null 2>&1; then
	assert_fails_with "$EROFS" chattr +A "$M/file"
fi
assert_fails_with "$EROFS" ln "$M/file" "$M/hard"
assert_fails_with "$EROFS" ln -s file "$M/soft"
assert_fails_with "$EROFS" mkfifo "$M/fifo"
assert_content "$M/file" "original contents" "read: still the same bytes"
mmfs_alive "read: daemon alive after refusals"
mmfs_umount
snapshot >"$T/after-read"
assert_file_eq "$T/before" "$T/after-read" \
	"read: BACKING unchanged in bytes and metadata"

# ---------------------------------------------------------------- copy
mmfs_mount access=copy
py "$M/file" "$B/file" <<'EOF'
import os, sys
p, back = sys.argv[1:3]
fd = os.open(p, os.O_RDWR)
assert os.pwrite(fd, b"COPIED", 0) == 6
assert os.pread(fd, 100, 0) == b"COPIEDal contents\n"
# growth past the end is visible through the mount too
assert os.pwrite(fd, b"tail", 100) == 4
assert os.fstat(fd).st_size == 104, os.fstat(fd).st_size
d = os.pread(fd, 200, 0)
assert d == b"COPIEDal contents\n" + bytes(82) + b"tail", d
os.fsync(fd)
os.close(fd)
assert os.stat(p).st_size == 104
assert open(back, "rb").read() == b"original contents\n"
EOF
ok "copy: write and growth visible through the mount, not in BACKING"
# The copy lives as long as the mount: another process, another open.
py "$M/file" <<'EOF'
import sys
d = open(sys.argv[1], "rb").read()
assert d == b"COPIEDal contents\n" + bytes(82) + b"tail", d
EOF
ok "copy: a later open in another process sees the changed bytes"
# Of fallocate, a copy mount serves allocation (which may grow the file);
# holes and zeroed ranges are refused, as mmapfs(1) says.
py "$M/big" <<'EOF'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long,
                           ctypes.c_long]
fd = os.open(sys.argv[1], os.O_RDWR)
before = os.pread(fd, 1 << 20, 0)
for mode in (1 | 2, 16, 16 | 1):  # PUNCH_HOLE|KEEP_SIZE, ZERO_RANGE (+KEEP)
    assert libc.fallocate(fd, mode, 4096, 8192) == -1, mode
    assert ctypes.get_errno() == errno.EOPNOTSUPP, (mode, ctypes.get_errno())
assert os.pread(fd, 1 << 20, 0) == before, "bytes changed"
os.close(fd)
EOF
ok "copy: punching holes and zeroing ranges fail with EOPNOTSUPP"
assert_size "$M/file" 104 "copy: stat size through the mount"
# A statx(2) that asks for the birth time is a FUSE_STATX, answered apart.
assert_eq "104 $(stat -c %W "$B/file")" "$(stat -c '%s %W' "$M/file")" \
	"copy: statx with the birth time gives the private size"
assert_size "$B/file" 18 "copy: backing size unchanged"
head -c 4096 /dev/urandom >"$T/patch"
deadline 30 dd if="$T/patch" of="$M/big" bs=4096 seek=10 conv=notrunc \
	status=none
cmp -s "$B/big" "$M/big" && fail "copy: the write did not show through"
deadline 30 dd if="$M/big" of="$T/readback" bs=4096 skip=10 count=1 status=none
assert_file_eq "$T/patch" "$T/readback" "copy: dd patch reads back"
py "$M/dir/sub/f" <<'EOF'
import mmap, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[0:2] = b"IN"
    m.flush()
with open(sys.argv[1], "rb") as f:
    assert f.read() == b"IN a dir\n"
EOF
ok "copy: a shared mmap store through the mount is visible"
assert_content "$B/dir/sub/f" "in a dir" "copy: backing untouched by mmap"

assert_fails_with "$EROFS" touch "$M/new"
assert_fails_with "$EROFS" sh -c "echo x >'$M/new2'"
assert_fails_with "$EROFS" rm "$M/file"
assert_fails_with "$EROFS" mv "$M/file" "$M/moved"
assert_fails_with "$EROFS" mkdir "$M/newdir"
assert_fails_with "$EROFS" py "$M/dir" <<'EOF'
import os, sys
os.open(sys.argv[1], os.O_TMPFILE | os.O_RDWR, 0o600)
EOF
assert_fails_with "$EROFS" rmdir "$M/dir/sub"
assert_fails_with "$EROFS" ln "$M/file" "$M/hard"
assert_fails_with "$EROFS" ln -s file "$M/soft"
if lsattr "$B/file" >/dev/null 2>&1; then
	assert_eq "$(lsattr "$B/file" | cut -d' ' -f1)" \
		"$(lsattr "$M/file" | cut -d' ' -f1)" "copy: lsattr reads flags"
	assert_fails_with "$EROFS" chattr +A "$M/file"
	assert_fails_with "$EROFS" chattr +d "$M/dir"
fi
[ ! -e "$M/new" ] && [ ! -e "$B/new" ] && [ -e "$M/file" ] ||
	fail "copy: a refused namespace change happened anyway"
ok "copy: the refused changes left no trace"
mmfs_alive "copy: daemon alive"
mmfs_umount
snapshot >"$T/after-copy"
assert_file_eq "$T/before" "$T/after-copy" \
	"copy: BACKING unchanged in bytes and metadata"

# A new copy mount starts again from the backing bytes.
mmfs_mount access=copy
assert_content "$M/file" "original contents" "copy: remount shows BACKING"
assert_file_eq "$B/big" "$M/big" "copy: remount discards the old changes"
# A name the kernel has as missing, made a directory behind the mount:
# open(O_CREAT) of it is EISDIR, and the daemon lives (it read the type
# of an inode it had just freed).
py "$M/made" "$B/made" <<'EOF'
import os, sys
try:
    os.stat(sys.argv[1])
except FileNotFoundError:
    pass
os.mkdir(sys.argv[2])
try:
    os.open(sys.argv[1], os.O_CREAT | os.O_RDONLY, 0o644)
    sys.exit("open(O_CREAT) of a directory succeeded")
except IsADirectoryError:
    pass
EOF
ok "copy: open(O_CREAT) of a directory made behind the mount: EISDIR"
mmfs_alive "copy: daemon alive after it"
rmdir "$B/made"

# Sizes no private map can reach (past the address space, or with no room
# in it for one map that long): EFBIG, as on the other mounts, and the
# file as it was.
py "$M/file" <<'EOF'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
before = os.pread(fd, 100, 0)
assert before.startswith(b"original contents"), before
for off in (2**47 - 2**40, 2**47, 2**50):
    for call in (lambda: os.ftruncate(fd, off),
                 lambda: os.pwrite(fd, b"x", off),
                 lambda: os.posix_fallocate(fd, off, 1)):
        try:
            call()
            raise SystemExit("size %d accepted" % off)
        except OSError as e:
            assert e.errno == errno.EFBIG, (off, e)
        assert os.pread(fd, 100, 0) == before, off
EOF
ok "copy: sizes no map can reach: EFBIG, file intact"

# A file truncated in BACKING while a client has it open, to 0, into its
# first page and past it, before and after the client first wrote to it
# (its private data was then in a copy-on-write map, whose pages past the
# new end the kernel takes): the mount survives, reads end at the new
# end, and writes, growth and ftruncate succeed and read back, also after
# a close and an open again.  Writes and ftruncate failed with EIO, for
# good, and reads returned bytes past the new end.  Reads are O_DIRECT:
# the kernel's cache keeps the old pages for a while (CACHING).
cat >"$T/copyio.py" <<'EOF'
import os


def whole(mnt, name):
    """All of name's bytes through the mount, past the kernel's cache."""
    fd = os.open(os.path.join(mnt, name), os.O_RDONLY | os.O_DIRECT)
    try:
        return os.pread(fd, 100000, 0)
    finally:
        os.close(fd)
EOF
py "$M" "$B" "$T" <<'EOF'
import os, sys
M, B, T = sys.argv[1:]
sys.path.insert(0, T)
from copyio import whole as whole_in
whole = lambda name: whole_in(M, name)
for wrote_first in (False, True):
    for n in (0, 100, 6000):
        name = "shrunk-%d-%d" % (wrote_first, n)
        with open(os.path.join(B, name), "wb") as f:
            f.write(b"A" * 12288)
        model = bytearray(b"A" * 12288)
        fd = os.open(os.path.join(M, name), os.O_RDWR)
        assert os.pread(fd, 10, 0) == b"A" * 10
        if wrote_first:
            os.pwrite(fd, b"w", 1)
            model[1:2] = b"w"
        os.truncate(os.path.join(B, name), n)
        del model[n:]
        got = whole(name)
        assert got == model, (name, len(got), len(model))
        for off, data in ((1, b"v"), (5000, b"q"), (20000, b"x")):
            assert os.pwrite(fd, data, off) == 1, (name, off)
            model[len(model):off] = bytes(max(0, off - len(model)))
            model[off:off + 1] = data
        assert os.fstat(fd).st_size == 20001, name
        assert whole(name) == model, name
        os.ftruncate(fd, 50)
        del model[50:]
        os.close(fd)
        fd = os.open(os.path.join(M, name), os.O_RDWR)
        assert os.pwrite(fd, b"y", 30000) == 1, name
        model[len(model):30000] = bytes(30000 - len(model))
        model += b"y"
        assert whole(name) == model, name
        os.close(fd)
        with open(os.path.join(B, name), "rb") as f:
            assert f.read() == b"A" * n, name
# Truncated while closed, its private pages in the kernel's cache: the
# next open drops that cache (it kept it, and 12288 bytes read back).
for n in (0, 100, 6000):
    name = "shrunk-closed-%d" % n
    with open(os.path.join(B, name), "wb") as f:
        f.write(b"A" * 12288)
    fd = os.open(os.path.join(M, name), os.O_RDWR)
    os.pwrite(fd, b"w", 1)
    assert len(os.pread(fd, 100000, 0)) == 12288
    os.close(fd)
    os.truncate(os.path.join(B, name), n)
    fd = os.open(os.path.join(M, name), os.O_RDONLY)
    got = os.pread(fd, 100000, 0)
    assert got == (b"Aw" + b"A" * 12286)[:n], (name, len(got))
    os.close(fd)
EOF
ok "copy: files truncated behind the mount while open shrink and stay usable"
mmfs_alive "copy: daemon alive after the truncations behind it"

# A file changed through the mount shows the change's time as its mtime
# and ctime (they stayed the backing file's, so make saw nothing new),
# and grows sparse: stat's blocks and SEEK_HOLE as natively (a 1 GiB
# file showed 2,097,152 blocks and no hole).  BACKING keeps its own.
printf 'hello\n' >"$B/sparse"
touch -d @1000000000 "$B/sparse"
py "$M/sparse" "$B/sparse" <<'EOF'
import errno, os, sys, time
m, b = sys.argv[1:]
st = os.stat(m)
assert st.st_mtime == 1000000000, st
t0 = time.time()
with open(m, "ab") as f:
    f.write(b"more\n")
st = os.stat(m)
for t in (st.st_mtime, st.st_ctime):
    assert t0 - 1 <= t <= time.time() + 1, (t0, st)
os.truncate(m, 1 << 30)
st = os.stat(m)
assert st.st_size == 1 << 30 and st.st_blocks <= 64, st
assert st.st_mtime >= t0 - 1, st
fd = os.open(m, os.O_RDONLY)
assert os.lseek(fd, 0, os.SEEK_HOLE) == 4096
assert os.lseek(fd, 0, os.SEEK_DATA) == 0
try:
    os.lseek(fd, 8192, os.SEEK_DATA)
    raise SystemExit("data past the first page")
except OSError as e:
    assert e.errno == errno.ENXIO, e
assert os.pread(fd, 12, 0) == b"hello\nmore\n\0"
os.close(fd)
st = os.stat(b)
assert st.st_mtime == 1000000000 and st.st_size == 6, st
EOF
ok "copy: a changed file's mtime and ctime move, and it grows sparse"

# Private data in a copy-on-write map, its backing file truncated behind
# the mount while open, then changed by calls that do not write: they act
# on the file as it now is (ftruncate and fallocate failed with EIO, an
# ftruncate to the old size did nothing, copy_file_range copied bytes past
# the new end); its shrinking moves its times (they stayed the write's);
# and reading a sparse private file leaves its holes (it filled them).
py "$M" "$B" "$T" <<'EOF'
import os, sys, time
M, B, T = sys.argv[1:]
sys.path.insert(0, T)
from copyio import whole as whole_in
whole = lambda name: whole_in(M, name)

def setup(name, n):
    with open(os.path.join(B, name), "wb") as f:
        f.write(b"A" * 12288)
    fd = os.open(os.path.join(M, name), os.O_RDWR)
    os.pwrite(fd, b"w", 1)
    os.truncate(os.path.join(B, name), n)
    return fd, (b"Aw" + b"A" * 12286)[:n]

for n in (0, 100):
    fd, model = setup("grow-%d" % n, n)
    os.ftruncate(fd, 12288)
    assert whole("grow-%d" % n) == model + bytes(12288 - n), n
    os.close(fd)
    fd, model = setup("falloc-%d" % n, n)
    os.posix_fallocate(fd, 0, 20000)
    assert whole("falloc-%d" % n) == model + bytes(20000 - n), n
    os.close(fd)
    # within the old size: it compared with that and did nothing
    fd, model = setup("falloc-in-%d" % n, n)
    os.posix_fallocate(fd, 0, 6000)
    assert whole("falloc-in-%d" % n) == model + bytes(6000 - n), n
    os.close(fd)
fd, model = setup("cut", 0)
os.ftruncate(fd, 50)
assert whole("cut") == bytes(50)
os.close(fd)

with open(os.path.join(B, "cfr-dst"), "wb"):
    pass
src, model = setup("cfr-src", 100)
dst = os.open(os.path.join(M, "cfr-dst"), os.O_RDWR)
assert os.copy_file_range(src, dst, 12288, 0, 0) == 100
assert whole("cfr-dst") == model
os.close(src)
os.close(dst)

fd, model = setup("times", 100)
os.close(fd)
before = os.stat(os.path.join(M, "times"))
time.sleep(0.05)
fd = os.open(os.path.join(M, "times"), os.O_RDONLY)
after = os.fstat(fd)
os.close(fd)
assert after.st_size == 100, after
assert after.st_mtime_ns > before.st_mtime_ns, (before, after)
assert after.st_ctime_ns > before.st_ctime_ns, (before, after)

with open(os.path.join(B, "holes"), "wb") as f:
    f.write(b"h")
fd = os.open(os.path.join(M, "holes"), os.O_RDWR)
os.ftruncate(fd, 64 << 20)
blocks = os.fstat(fd).st_blocks
assert blocks <= 64, blocks
assert len(os.pread(fd, 64 << 20, 0)) == 64 << 20
os.close(fd)
assert os.stat(os.path.join(M, "holes")).st_blocks == blocks
fd = os.open(os.path.join(M, "holes"), os.O_RDONLY)
assert os.lseek(fd, 0, os.SEEK_HOLE) == 4096
os.close(fd)
# a sparse file written in place, then grown: its bytes move into a
# memfd, and its holes stay holes (each page was copied)
with open(os.path.join(B, "sparse-cow"), "wb") as f:
    f.write(b"x")
    f.truncate(64 << 20)
fd = os.open(os.path.join(M, "sparse-cow"), os.O_RDWR)
os.pwrite(fd, b"w", 1)
os.pwrite(fd, b"e", 64 << 20)
st = os.fstat(fd)
assert st.st_size == (64 << 20) + 1 and st.st_blocks <= 512, st
assert os.pread(fd, 3, 0) == b"xw\0" and os.pread(fd, 2, 64 << 20) == b"e"
os.close(fd)
EOF
ok "copy: calls on a file truncated behind the mount act on what it has"
mmfs_alive "copy: daemon alive after them"
mmfs_umount

# access=copy with -o writeback: the kernel sends the times it owns as it
# writes a file back and with a truncation; they stay in its cache, and
# neither fsync nor close fails (they got EROFS).
snapshot >"$T/before-cw"
mmfs_mount access=copy writeback
py "$M/file" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"PRIVATE", 3)
os.fsync(fd)
os.ftruncate(fd, 100)
os.fsync(fd)
os.close(fd)
fd = os.open(sys.argv[1], os.O_RDWR | os.O_TRUNC)
os.write(fd, b"again")
os.close(fd)
with open(sys.argv[1], "rb") as f:
    assert f.read() == b"again", "read back"
EOF
ok "copy,writeback: writes, truncations, fsync and close succeed"
mmfs_umount
snapshot >"$T/after-cw"
assert_file_eq "$T/before-cw" "$T/after-cw" \
	"copy,writeback: BACKING unchanged in bytes and metadata"

# A directory the daemon may not read fails at open, as open(2) fails in
# the backing directory, though the daemon opens a directory's stream only
# at its first readdir (t-fds).  The daemon runs as root without the
# capabilities that override permissions, on a directory of mode 0300.
mkdir -p "$B/noread/sub"
chmod 0300 "$B/noread"
real_daemon=$MMAPFS
cat >"$T/mmapfs-nodac" <<EOF
#!/bin/bash
exec setpriv --bounding-set -dac_override,-dac_read_search \
	"$real_daemon" "\$@"
EOF
chmod +x "$T/mmapfs-nodac"
MMAPFS=$T/mmapfs-nodac
mmfs_mount
assert_fails_with "Permission denied" ls "$M/noread"
assert_fails_with "Permission denied" py "$M/noread" <<'EOF'
import os, sys
os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
EOF
assert_eq directory "$(stat -c %F "$M/noread/sub")" \
	"a directory in it is still reached (search permission)"
MMAPFS=$real_daemon
chmod 0755 "$B/noread"

mmfs_done
