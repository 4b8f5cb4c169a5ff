#!/bin/bash
# tests/integration/t-data.sh - data through the mapping: growth with zeroed
# holes, shrink and short reads, O_TRUNC, empty files, fsync reaching the
# backing file, appends, a 64 MiB round trip, hard links sharing one
# mapping, concurrent O_APPEND writers, a deleted-but-open file, a program
# running from BACKING (ETXTBSY), fsynced data surviving kill -9.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
N=$T/native
mkdir "$N"
mmfs_mount

# The same sequence on the native directory and on the mount must report
# the same observations; each run also asserts the absolute values.
seq_grow_shrink()
{
	py "$1" <<'EOF'
import os, sys
d = sys.argv[1]
p = os.path.join(d, "grow")
out = []
fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
assert os.write(fd, b"abc") == 3
# pwrite past the end grows; the hole reads as zeros
assert os.pwrite(fd, b"XYZ", 10000) == 3
st = os.fstat(fd)
assert st.st_size == 10003, st.st_size
data = os.pread(fd, 20000, 0)
assert len(data) == 10003, len(data)
assert data[:3] == b"abc" and data[10000:] == b"XYZ"
assert data[3:10000] == bytes(9997), "hole not zero-filled"
out.append("grow %d" % st.st_size)
# a second handle opened later sees the grown size and bytes
with open(p, "rb") as f:
    assert f.read() == data
# shrink, then reads are short
os.ftruncate(fd, 5)
assert os.fstat(fd).st_size == 5
assert os.pread(fd, 100, 0) == b"abc\0\0", os.pread(fd, 100, 0)
assert os.pread(fd, 100, 3) == bytes(2)
assert os.pread(fd, 100, 5) == b""
assert os.pread(fd, 100, 9000) == b""
with open(p, "rb") as f:
    assert f.read(1000) == b"abc\0\0"
out.append("shrink %d" % os.fstat(fd).st_size)
# truncate to 0, then grow again: no stale bytes come back
os.ftruncate(fd, 0)
assert os.fstat(fd).st_size == 0
assert os.pread(fd, 10, 0) == b""
os.ftruncate(fd, 4096)
assert os.pread(fd, 8192, 0) == bytes(4096)
assert os.pwrite(fd, b"new", 0) == 3
assert os.pread(fd, 5, 0) == b"new\0\0"
os.ftruncate(fd, 3)
assert os.pread(fd, 10, 0) == b"new"
# grow a lot by truncate, write at the far end, shrink back
os.ftruncate(fd, 3 << 20)
assert os.pwrite(fd, b"end", (3 << 20) - 3) == 3
assert os.pread(fd, 6, (3 << 20) - 6) == b"\0\0\0end"
assert os.pread(fd, 4096, 1 << 20) == bytes(4096)
os.ftruncate(fd, 3)
assert os.pread(fd, 10, 0) == b"new"
out.append("final %d" % os.fstat(fd).st_size)
os.close(fd)
print(" ".join(out))
EOF
}
assert_eq "grow 10003 shrink 5 final 3" "$(seq_grow_shrink "$N")" \
	"grow/shrink sequence on native"
assert_eq "grow 10003 shrink 5 final 3" "$(seq_grow_shrink "$M")" \
	"grow/shrink sequence through the mount"
assert_content "$B/grow" new "backing file after the sequence"

# O_TRUNC, by Python and by the shell.
printf 'some old contents\n' >"$M/otrunc"
py "$M/otrunc" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
assert os.fstat(fd).st_size == 0
os.write(fd, b"short")
os.close(fd)
assert open(sys.argv[1], "rb").read() == b"short"
EOF
ok "O_TRUNC empties, then writes"
printf 'x\n' >"$M/otrunc"
assert_content "$M/otrunc" x "shell > truncates"
assert_size "$M/otrunc" 2

# Empty files: created, opened read-write, read at any offset.
: >"$M/empty"
touch "$M/empty2"
cp /dev/null "$M/empty3"
for f in empty empty2 empty3; do
	assert_size "$M/$f" 0 "size of $f"
	assert_size "$B/$f" 0 "backing size of $f"
done
py "$M/empty" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
assert os.read(fd, 100) == b""
assert os.pread(fd, 100, 1000) == b""
assert os.fstat(fd).st_size == 0
os.fsync(fd)
os.close(fd)
assert os.stat(sys.argv[1]).st_size == 0
EOF
ok "empty file reads nothing at any offset and stays empty"
assert_eq "" "$(cat "$M/empty")" "cat of an empty file"
echo grown >>"$M/empty"
assert_content "$M/empty" grown "an empty file grows by append"
truncate -s 0 "$M/empty"
assert_size "$M/empty" 0 "truncate -s 0 back to empty"
assert_size "$B/empty" 0 "backing size after truncate -s 0"

# fsync, then the backing file holds the same bytes and size.
head -c 300000 /dev/urandom >"$T/rand"
py "$T/rand" "$M/synced" "$B/synced" <<'EOF'
import os, sys
src, dst, back = sys.argv[1:4]
data = open(src, "rb").read()
fd = os.open(dst, os.O_RDWR | os.O_CREAT, 0o644)
view = memoryview(data)
off = 0
while off < len(data):
    off += os.pwrite(fd, view[off:off + 65536], off)
os.fsync(fd)
with open(back, "rb") as f:
    got = f.read()
assert len(got) == len(data), (len(got), len(data))
assert got == data, "backing bytes differ after fsync"
os.pwrite(fd, b"PATCH", 123456)
os.fdatasync(fd)
with open(back, "rb") as f:
    f.seek(123456)
    assert f.read(5) == b"PATCH"
os.close(fd)
EOF
ok "after fsync/fdatasync the backing file has the bytes and the size"
assert_size "$B/synced" 300000 "backing size after fsync"

# Many small appends: the same as on the native directory.
for d in "$N" "$M"; do
	for ((i = 0; i < 1000; i++)); do
		printf 'line %04d %s\n' "$i" "$((i * 7919 % 1000))"
	done >"$d/ref.lst" 2>/dev/null
	for ((i = 0; i < 1000; i++)); do
		printf 'line %04d %s\n' "$i" "$((i * 7919 % 1000))" >>"$d/app"
	done
done
assert_file_eq "$N/app" "$M/app" "1000 small appends (>>) like native"
assert_file_eq "$N/ref.lst" "$M/app" "appended bytes"

# A 64 MiB file written and read back.
head -c 64M /dev/urandom >"$T/big"
deadline 120 dd if="$T/big" of="$M/big" bs=1M status=none
assert_size "$M/big" 67108864 "64 MiB file size"
assert_file_eq "$T/big" "$M/big" "64 MiB read back through the mount"
deadline 60 dd if="$M/big" of=/dev/null bs=4k status=none
deadline 60 sync "$M/big"
assert_file_eq "$T/big" "$B/big" "64 MiB in the backing file after sync"
rm "$M/big" "$T/big"

# Overwrite in the middle, like native.
for d in "$N" "$M"; do
	head -c 20000 "$T/rand" >"$d/mid"
	printf 'MIDDLE-OVERWRITE' |
		dd of="$d/mid" bs=1 seek=9000 conv=notrunc status=none
	py "$d/mid" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"\xff" * 5000, 4096 - 17)
os.close(fd)
EOF
done
assert_file_eq "$N/mid" "$M/mid" "overwrites in the middle like native"
assert_size "$M/mid" 20000 "overwrite keeps the size"

# A hard link: both names, both open at once, one mapping.
printf 'linked bytes' >"$M/la"
ln "$M/la" "$M/lb"
py "$M/la" "$M/lb" <<'EOF'
import os, sys
a = os.open(sys.argv[1], os.O_RDWR)
b = os.open(sys.argv[2], os.O_RDWR)
assert os.fstat(a).st_ino == os.fstat(b).st_ino
assert os.fstat(a).st_nlink == 2
os.pwrite(a, b"LINKED", 0)
assert os.pread(b, 100, 0) == b"LINKED bytes", os.pread(b, 100, 0)
os.pwrite(b, b"+grown via b", 12)
assert os.fstat(a).st_size == 24, os.fstat(a).st_size
assert os.pread(a, 100, 0) == b"LINKED bytes+grown via b"
os.ftruncate(a, 6)
assert os.pread(b, 100, 0) == b"LINKED"
assert os.fstat(b).st_size == 6
os.close(a)
os.close(b)
EOF
ok "hard link: writes, growth and shrink via one name seen via the other"
assert_content "$B/lb" LINKED "backing link has the bytes"

# Two processes appending with O_APPEND: no write lost, none torn.
py "$M/twoapp" <<'EOF'
import os, sys
p = sys.argv[1]
open(p, "wb").close()
pids = []
for tag in (b"A", b"B"):
    pid = os.fork()
    if pid == 0:
        fd = os.open(p, os.O_WRONLY | os.O_APPEND)
        for i in range(500):
            rec = tag * 90 + b" %06d\n" % i
            assert len(rec) == 98
            assert os.write(fd, rec) == len(rec)
        os.close(fd)
        os._exit(0)
    pids.append(pid)
for pid in pids:
    _, st = os.waitpid(pid, 0)
    assert st == 0, st
data = open(p, "rb").read()
assert len(data) == 2 * 500 * 98, len(data)
seen = {b"A": [], b"B": []}
for i in range(0, len(data), 98):
    rec = data[i:i + 98]
    tag = rec[:1]
    assert rec == tag * 90 + b" %06d\n" % len(seen[tag]), rec
    seen[tag].append(i)
assert len(seen[b"A"]) == 500 and len(seen[b"B"]) == 500
EOF
ok "two O_APPEND writers: 1000 whole records in order per writer"
assert_size "$B/twoapp" 98000 "backing size after concurrent appends"

# A deleted-but-open file still reads, writes and grows.
printf 'still here' >"$M/ghost"
py "$M/ghost" <<'EOF'
import os, sys
p = sys.argv[1]
fd = os.open(p, os.O_RDWR)
os.unlink(p)
assert not os.path.exists(p)
assert os.path.basename(p) not in os.listdir(os.path.dirname(p))
assert os.pread(fd, 100, 0) == b"still here"
os.pwrite(fd, b"STILL", 0)
os.pwrite(fd, b"!", 20000)
assert os.fstat(fd).st_size == 20001
d = os.pread(fd, 30000, 0)
assert d[:10] == b"STILL here" and d[-1:] == b"!"
assert d[10:20000] == bytes(19990)
os.fsync(fd)
os.ftruncate(fd, 3)
assert os.pread(fd, 10, 0) == b"STI"
os.close(fd)
EOF
ok "deleted-but-open file: read, write, grow, fsync, shrink"

# A write past what a map can reach (the address space): EFBIG, as a file
# system says of a size it cannot hold, and the file as it was.
printf 'abc' >"$M/huge"
py "$M/huge" <<'EOF'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
for off in (2**47, 2**62, 2**63 - 2):
    try:
        os.pwrite(fd, b"x", off)
        raise SystemExit("pwrite at %d succeeded" % off)
    except OSError as e:
        assert e.errno == errno.EFBIG, (off, e)
assert os.fstat(fd).st_size == 3
assert os.pread(fd, 10, 0) == b"abc"
os.close(fd)
EOF
ok "writes past the address space: EFBIG, nothing changed"

# Sizes within the address space that it has no room to map in one piece
# (127 TiB), or that the backing file system refuses (ext4: past 16 TiB):
# EFBIG wherever the backing directory says EFBIG, and EFBIG (or ENOMEM)
# where it takes the size but no map can.  The file stays as it was.
py "$M/huge" "$B/huge-native" <<'EOF'
import errno, os, sys

def answers(path):
    with open(path, "wb") as f:
        f.write(b"abc")
    fd = os.open(path, os.O_RDWR)
    got = []
    for off in (3 * 2**44, 2**46 - 2, 2**47 - 2**40):
        for call in (lambda: os.pwrite(fd, b"x", off),
                     lambda: os.posix_fallocate(fd, off, 1)):
            try:
                call()
                got.append("ok")
                os.ftruncate(fd, 3)
            except OSError as e:
                got.append(errno.errorcode[e.errno])
            assert os.fstat(fd).st_size == 3, (path, off)
            assert os.pread(fd, 10, 0) == b"abc", (path, off)
    os.close(fd)
    return got

mount, native = answers(sys.argv[1]), answers(sys.argv[2])
os.unlink(sys.argv[2])
for m, n in zip(mount, native):
    assert m == n or (n == "ok" and m in ("EFBIG", "ENOMEM")), \
        (mount, native)
EOF
ok "sizes a map cannot get: EFBIG, as natively"
assert_size "$B/huge" 3 "backing size after the refused writes"
[ ! -e "$B/ghost" ] || fail "backing ghost still exists"
ok "the deleted file is gone from the backing directory"

# The daemon opens backing files read-write where it may, whatever the
# client asked; a program running from BACKING cannot be opened for
# writing (ETXTBSY), yet a read-only open through the mount must work, and
# a write open must fail as it does natively.
cp "$(command -v sleep)" "$B/prog"
"$B/prog" 30 &
prog_pid=$!
MMFS_CLEANUP_HOOKS+=("kill $prog_pid 2>/dev/null")
wait_until 5 grep -q "$B/prog" "/proc/$prog_pid/cmdline" ||
	fail "the program did not start"
assert_file_eq "$B/prog" "$M/prog" "a running program reads through the mount"
assert_fails_with "Text file busy" dd if=/dev/zero of="$M/prog" bs=1 \
	count=1 conv=notrunc status=none
kill "$prog_pid"
wait "$prog_pid" 2>/dev/null || true
assert_file_eq "$(command -v sleep)" "$B/prog" "the program is unchanged"

# Durability: what fsync returned for survives a kill -9 of the daemon.
mmfs_alive
mmfs_umount
mmfs_mount
head -c 200000 /dev/urandom >"$T/durable"
deadline 30 dd if="$T/durable" of="$M/durable" bs=64k conv=fsync status=none
printf 'grown' | dd of="$M/durable" bs=1 seek=300000 conv=notrunc,fsync \
	status=none
kill -KILL "$MMFS_PID"
rc=0
wait "$MMFS_PID" 2>/dev/null || rc=$?
mmfs__forget_pid "$MMFS_PID"
MMFS_PID=
fusermount3 -uz "$M" 2>/dev/null || umount -l "$M"
assert_eq 137 "$rc" "the daemon was killed"
assert_size "$B/durable" 300005 "fsynced size survives kill -9"
head -c 200000 "$B/durable" >"$T/durable.back"
assert_file_eq "$T/durable" "$T/durable.back" "fsynced bytes survive kill -9"
assert_eq grown "$(tail -c 5 "$B/durable")" "fsynced tail survives kill -9"

mmfs_done
