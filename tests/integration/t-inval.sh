#!/bin/bash
# tests/integration/t-inval.sh - ioctls that drop the kernel's cached pages
# (MOVE, madvise DONTNEED) while clients keep dirtying those pages through
# their own mappings: the drop waits for the dirty pages' write-back, which
# the daemon must still be free to serve.  Eight processes on a daemon of
# two threads hung at once when the session threads did the drops
# themselves; now the mount answers and the bytes are right.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse

cat >"$T/inval.py" <<'PY'
import fcntl, mmap, os, struct, sys, time
from multiprocessing import Process
path, secs, nproc = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
PAGE = 4096
SIZE = 64 * PAGE
MADV = (1 << 30) | (24 << 16) | (0xB7 << 8) | 1
MOVE = (1 << 30) | (24 << 16) | (0xB7 << 8) | 4
def worker(i):
    fd = os.open(path, os.O_RDWR)
    m = mmap.mmap(fd, SIZE)
    end = time.time() + secs
    n = 0
    while time.time() < end:
        for off in range(PAGE, SIZE, PAGE):  # dirty every page but the 1st
            m[off] = 1 + (n + i) % 255
        if n % 2:
            fcntl.ioctl(fd, MADV, struct.pack("iIqq", 4, 0, 0, SIZE))
        else:  # page 0 <- page 1, through the daemon's map
            fcntl.ioctl(fd, MOVE, struct.pack("qqq", 0, PAGE, PAGE))
        n += 1
    # our last store to page 1 is seen by the map: move it and read back
    m[PAGE] = 0xAB
    m.flush()
    fcntl.ioctl(fd, MOVE, struct.pack("qqq", 0, PAGE, PAGE))
    m.close()
    os.close(fd)
    print(n)
with open(path, "wb") as f:
    f.write(bytes(SIZE))
ps = [Process(target=worker, args=(i,)) for i in range(nproc)]
for p in ps:
    p.start()
for p in ps:
    p.join()
    assert p.exitcode == 0, p.exitcode
PY

# run OPTS... - the eight processes for 5 s on a fresh mount of two threads
run()
{
	local what=$1 pid i out rc=0
	shift
	mmfs_mount max_threads=2 "$@"
	"$PYTHON3" "$T/inval.py" "$M/f" 5 8 >"$T/out" 2>&1 &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		mmfs__abort "$M"
		wait "$pid" 2>/dev/null || true
		fail "$what: hung: the clients waited 60 s on the daemon"
	fi
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || fail "$what: the clients failed ($rc): $(tail -5 "$T/out")"
	out=$(tr '\n' ' ' <"$T/out")
	[ "$(wc -l <"$T/out")" = 8 ] || fail "$what: not every client ended: $out"
	ok "$what: 8 clients dirtied pages and dropped them; rounds: $out"
	mmfs_alive "$what: daemon alive"
	assert_eq "ab" "$(head -c 1 "$M/f" | od -An -tx1 | tr -d ' ')" \
		"$what: the last move's byte reads through the mount"
	mmfs_umount
	assert_eq "ab" "$(head -c 1 "$B/f" | od -An -tx1 | tr -d ' ')" \
		"$what: and is in the backing file"
}

run "default"
run "-o writeback" writeback

# A client's stores through its own mapping, not yet written back, and a
# MOVE or MADV_REMOVE by ioctl over the same pages: the ioctl has the
# kernel write those pages back first, so both count, as with two maps
# of one file in Python (the invalidation after the change used to write
# the stores back over it: the move lost, the removed page back).
for o in default cache=never anon; do
	case $o in
	anon) mmfs_anon_mount ;;
	default) mmfs_mount ;;
	*) mmfs_mount "$o" ;;
	esac
	res=$(py "$M/dm" 2>&1 <<'EOF'
import fcntl, mmap, os, struct, sys
MOVE = (1 << 30) | (24 << 16) | (0xB7 << 8) | 4
MADV = (1 << 30) | (24 << 16) | (0xB7 << 8) | 1
with open(sys.argv[1], "wb") as f:
    f.write(b"S" * 10 + b"." * 12278)
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 12288)
m[4096] = ord("Z")  # in the move's destination: the move wins
m[4196] = ord("z")  # beside it: kept
m[8300] = ord("Y")  # in the removed page: gone
fcntl.ioctl(fd, MOVE, struct.pack("=qqq", 4096, 0, 10))
fcntl.ioctl(fd, MADV, struct.pack("=iIqq", mmap.MADV_REMOVE, 0, 8192, 4096))
os.fsync(fd)
got = (m[4096:4106], m[4196:4197], m[8192:12288].count(0))
m.close()
os.close(fd)
with open(sys.argv[1], "rb") as f:
    d = f.read()
want = (b"S" * 10, b"z", 4096)
assert got == want, "through the map: %s" % (got,)
assert (d[4096:4106], d[4196:4197], d[8192:].count(0)) == want, "read back"
EOF
) || fail "$o: a move and a removal over a client's unwritten stores: $res"
	ok "$o: a move and a removal over a client's unwritten stores both count"
	mmfs_umount
done

# -o writeback: an ioctl first has the kernel write back the file's cached
# writes, so find sees bytes written a moment before, with no fsync.
mmfs_mount writeback
res=$(py "$M/wb" 2>&1 <<'EOF'
import fcntl, os, struct, sys
FIND = (3 << 30) | (4128 << 16) | (0xB7 << 8) | 2
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b"a" * 100000)
os.pwrite(fd, b"NEEDLE", 50000)
# on the same descriptor: no open or close of the file meanwhile
arg = bytearray(struct.pack("qqqII", 0, 2**63 - 1, -2, 6, 0) + b"NEEDLE")
arg += bytes(4128 - len(arg))
fcntl.ioctl(fd, FIND, arg)
got = struct.unpack_from("q", arg, 16)[0]
assert got == 50000, "find: %d" % got
os.close(fd)
EOF
) || fail "-o writeback: $res"
ok "-o writeback: find sees bytes still in the kernel's cache"

# SEEK_DATA / SEEK_HOLE while written bytes are still in the kernel's
# cache: the kernel's size counts, all of it data (the backing file, still
# empty, would say ENXIO).  cp of the file while it is open copies it all.
res=$(py "$M/sparse" "$T/sparse.copy" 2>&1 <<'EOF'
import os, subprocess, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.pwrite(fd, b"X" * 4096, 1 << 20)
os.pwrite(fd, b"Y" * 4096, 0)
size = (1 << 20) + 4096
for off in (0, 4096, 1 << 20):
    assert os.lseek(fd, off, os.SEEK_DATA) == off, "SEEK_DATA %d" % off
    assert os.lseek(fd, off, os.SEEK_HOLE) == size, "SEEK_HOLE %d" % off
try:
    os.lseek(fd, size, os.SEEK_DATA)
    raise SystemExit("SEEK_DATA at the end found data")
except OSError as e:
    assert e.errno == 6, e  # ENXIO
subprocess.run(["cp", sys.argv[1], sys.argv[2]], check=True)
with open(sys.argv[2], "rb") as f:
    got = f.read()
assert got == b"Y" * 4096 + bytes((1 << 20) - 4096) + b"X" * 4096, \
    "cp copied %d bytes" % len(got)
os.close(fd)
EOF
) || fail "-o writeback: $res"
ok "-o writeback: SEEK_DATA/SEEK_HOLE by the kernel's size, cp copies all"
mmfs_umount
mmfs_done
