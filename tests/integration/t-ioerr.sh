#!/bin/bash
# tests/integration/t-ioerr.sh - a BACKING whose disk fails, against the
# same failure met natively.  errfs (errfs.c) passes a directory through
# and fails the reads and writes it is told to.
#  1. mmapfs over errfs: a read that meets a failing range gives the bytes
#     before it and then EIO, in every mode, never a short file (the kernel
#     takes a short reply for the end of the file) or zeros (-o writeback).
#  2. ext4 on a loop device whose image lies on errfs, mmapfs over it: an
#     error writing back a file's pages reaches the fsync of every client
#     that wrote them, and an fsync after a flush ioctl that met it, never
#     a success for data the disk lost.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
ERRFS=$top_builddir/tests/integration/errfs
[ -x "$ERRFS" ] || fail "no $ERRFS (make check builds it)"

S=$T/errsrc
E=$T/errfs
R=$T/rules
mkdir "$S" "$E"
: >"$R"
"$ERRFS" "$S" "$E" "$R" -f 2>"$T/errfs.log" &
MMFS_PIDS+=("$!") # ended after the hooks below, not before the unmounts
MMFS_CLEANUP_HOOKS+=("fusermount3 -u '$E' || umount -l '$E'")
mmfs__wait_mounted "$!" "$E" "$T/errfs.log"
ok "errfs mounted"

# --------------------------------------------- 1. a read meets an error
# reads.py FILE: what a reader gets of FILE, whose bytes 32768-65535 fail.
cat >"$T/reads.py" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
def pread(n, off):
    try:
        b = os.pread(fd, n, off)
        return "%d bytes of %r" % (len(b), bytes(sorted(set(b))))
    except OSError as e:
        return os.strerror(e.errno)
print("pread(65536, 0):", pread(65536, 0))
print("pread(4096, 40960):", pread(4096, 40960))
print("pread(4096, 4096):", pread(4096, 4096))
print("size:", os.fstat(fd).st_size)
EOF
# cfr.py DIR: copy_file_range of DIR/f to DIR/dst until it fails.
cat >"$T/cfr.py" <<'EOF'
import os, sys
d = sys.argv[1]
i = os.open(d + "/f", os.O_RDONLY)
o = os.open(d + "/dst", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
got = 0
try:
    while True:
        n = os.copy_file_range(i, o, 1 << 20)
        if n == 0:
            break
        got += n
    end = "the end"
except OSError as e:
    end = os.strerror(e.errno)
print("copied %d, then %s; dst %d bytes" % (got, end, os.fstat(o).st_size))
os.close(i)
os.close(o)
os.unlink(d + "/dst")
EOF
head -c 65536 /dev/zero | tr '\0' A >"$S/f"
echo "read /f 32768 65535 5" >"$R"
native_cfr=$(python3 "$T/cfr.py" "$E")
assert_eq "copied 32768, then Input/output error; dst 32768 bytes" \
	"$native_cfr" "natively, copy_file_range copies up to the error"
native=$(python3 "$T/reads.py" "$E/f")
want="pread(65536, 0): 32768 bytes of b'A'
pread(4096, 40960): Input/output error
pread(4096, 4096): 4096 bytes of b'A'
size: 65536"
assert_eq "$want" "$native" "natively, a read stops at the failing range"
for o in "" writeback access=copy cache=never; do
	mmfs_mount_at "$E" "$M" $o
	assert_eq "$native" "$(python3 "$T/reads.py" "$M/f")" \
		"-o ${o:-defaults}: a read meets the error as natively"
	# cat must fail, not end early with half the file and status 0
	rc=0
	cat "$M/f" >"$T/out" 2>/dev/null || rc=$?
	assert_eq "1 32768" "$rc $(stat -c %s "$T/out")" \
		"-o ${o:-defaults}: cat fails after the bytes before the error"
	# copy_file_range copies up to the error, then fails (the copy
	# mount refuses it with EROFS)
	[ "$o" = access=copy ] ||
		assert_eq "$native_cfr" "$(python3 "$T/cfr.py" "$M")" \
			"-o ${o:-defaults}: copy_file_range stops at the error"
	mmfs_alive "-o ${o:-defaults}: daemon alive after the read errors"
	mmfs_umount
done
: >"$R"

# ------------------------------------ 2. an error writing back the pages
if [ ! -e /dev/loop-control ]; then
	skip "no loop devices (/dev/loop-control) for the write-back errors"
fi
truncate -s 64M "$S/img"
loop=$(losetup -f --show "$E/img") || fail "losetup of $E/img failed"
MMFS_CLEANUP_HOOKS+=("losetup -d '$loop'")
mkfs.ext4 -q -F -E nodiscard "$loop" || fail "mkfs.ext4 of $loop failed"
mount -t ext4 "$loop" "$B" || fail "mount of $loop on $B failed"
MMFS_CLEANUP_HOOKS+=("umount '$B' || umount -l '$B'")
ok "ext4 on $loop over errfs mounted as BACKING"

# disk.py, what the scripts below share: an fsync's outcome, and the
# rules failing the disk blocks of a file of the ext4 (from its first
# block on, for nbytes) or failing nothing.
cat >"$T/disk.py" <<'EOF'
import errno, os, re, subprocess
def fsync(fd):
    try:
        os.fsync(fd)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
def fail_blocks(rules, path=None, nbytes=0):
    line = ""
    if path:
        out = subprocess.run(["filefrag", "-v", "-b4096", path],
                             capture_output=True, text=True,
                             check=True).stdout
        first = int(re.search(r"^\s*0:\s+0\.\.\s*\d+:\s+(\d+)\.\.", out,
                              re.M).group(1)) * 4096
        line = "write /img %d %d 5\n" % (first, first + nbytes - 1)
    with open(rules + ".new", "w") as f:
        f.write(line)
    os.rename(rules + ".new", rules)
EOF

# wberr.py DIR EXT4_DIR RULES: two clients write one file of DIR, then
# its blocks on the disk fail and each fsyncs; then a third client's
# flush ioctl (mmapfsctl, on the mount) or msync (natively) meets the
# error first, and the first client's fsync after it.
cat >"$T/wberr.py" <<'EOF'
import mmap, os, subprocess, sys
from disk import fsync, fail_blocks
d, ext4, rules = sys.argv[1:4]
ctl = os.environ.get("MMAPFSCTL")
p = d + "/X"
with open(p, "wb") as f:
    f.write(b"a" * 65536)
    f.flush()
    os.fsync(f.fileno())
a = os.open(p, os.O_RDWR)
b = os.open(p, os.O_RDWR)
os.pwrite(a, b"A" * 4096, 0)
os.pwrite(b, b"B" * 4096, 8192)
fail_blocks(rules, ext4 + "/X", 65536)
print("two writers: fsync A %s, fsync B %s" % (fsync(a), fsync(b)))
fail_blocks(rules)
os.pwrite(a, b"C" * 4096, 16384)
fail_blocks(rules, ext4 + "/X", 65536)
if ctl:
    r = subprocess.run([ctl, "flush", p], capture_output=True, text=True)
    flushed = "fails" if r.returncode else "ok"
else:
    c = os.open(p, os.O_RDWR)
    m = mmap.mmap(c, 65536)
    try:
        m.flush()
        flushed = "ok"
    except OSError:
        flushed = "fails"
print("a flush of the map %s, then fsync A %s" % (flushed, fsync(a)))
fail_blocks(rules)
os.close(a)
os.close(b)
os.unlink(p)
EOF
export PYTHONPATH=$T
native=$(python3 "$T/wberr.py" "$B" "$B" "$R") ||
	fail "the write-back errors natively: $native"
want="two writers: fsync A EIO, fsync B EIO
a flush of the map fails, then fsync A EIO"
assert_eq "$want" "$native" "natively, each writer's fsync reports the error"
for o in "" writeback; do
	mmfs_mount $o
	out=$(MMAPFSCTL=$MMAPFSCTL python3 "$T/wberr.py" "$M" "$B" "$R") ||
		fail "-o ${o:-defaults}: the write-back errors: $out"
	assert_eq "$native" "$out" \
		"-o ${o:-defaults}: each writer's fsync reports the error"
	mmfs_alive "-o ${o:-defaults}: daemon alive after the write-back errors"
	mmfs_umount
done

# The error met first through a handle with a descriptor of its own (an
# O_APPEND writer of an append-only file) goes to the handles open
# before it, not to one opened after, as natively (a reader opened after
# got it too).
cat >"$T/own.py" <<'EOF'
import os, subprocess, sys
from disk import fsync, fail_blocks
d, ext4, rules = sys.argv[1:4]
p = d + "/Y"
with open(p, "wb") as f:
    f.write(b"y" * 65536)
    f.flush()
    os.fsync(f.fileno())
subprocess.run(["chattr", "+a", ext4 + "/Y"], check=True)
c = os.open(p, os.O_RDONLY)
a = os.open(p, os.O_WRONLY | os.O_APPEND)
os.write(a, b"W" * 4096)
fail_blocks(rules, ext4 + "/Y", 1 << 20) # the file's blocks and the next
print("appender", fsync(a), end="; ")
b = os.open(p, os.O_RDONLY)
print("reader opened after", fsync(b), end="; ")
print("reader open before", fsync(c))
fail_blocks(rules)
for fd in (a, b, c):
    os.close(fd)
subprocess.run(["chattr", "-a", ext4 + "/Y"], check=True)
os.unlink(ext4 + "/Y")
EOF
native=$(python3 "$T/own.py" "$B" "$B" "$R") ||
	fail "an appender's write-back error natively: $native"
assert_eq "appender EIO; reader opened after ok; reader open before EIO" \
	"$native" "natively, the appender's error goes to the reader open before"
mmfs_mount
out=$(python3 "$T/own.py" "$M" "$B" "$R") ||
	fail "an appender's write-back error: $out"
assert_eq "$native" "$out" "an appender's error goes to the reader open before"
mmfs_alive "daemon alive after the appender's error"
mmfs_umount
mmfs_done
