#!/bin/bash
# tests/integration/t-replace.sh - backing files truncated, grown,
# overwritten, replaced by rename-over (with a file or a symlink) and
# deleted from outside the mount, in a loop, while clients read, write,
# map and ioctl the same files through the mount.  The daemon must survive
# all of it; clients may see ENOENT, EIO, short reads or (mappers) SIGBUS,
# never bytes that belong to another offset; after the loop, fresh opens
# see the files as last replaced from outside.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
SECS=${MMFS_REPLACE_SECS:-6}
NF=4

# Every file is made of 64-byte records; the record at offset O reads
# "<GGGGGG@OOOOOOOOOOOO>" then dots and a newline, G being who wrote it.
# A byte is plausible if it is 0 (a hole) or what the template has there.
cat >"$T/rec.py" <<'EOF'
import errno, os, random, sys, time
R = 64
def rec(gen, off):
    h = b"<%06d@%012d>" % (gen, off)
    return h + b"." * (R - 1 - len(h)) + b"\n"
def plausible(data, off):
    """None if every byte is 0 or fits the record at its offset."""
    assert off % R == 0
    for i in range(0, len(data), R):
        r = data[i:i + R]
        if r.count(0) == len(r):
            continue
        t = rec(0, off + i)
        for j, c in enumerate(r):
            if c == 0:
                continue
            if 1 <= j <= 6:
                if not 48 <= c <= 57:
                    return off + i + j
            elif c != t[j]:
                return off + i + j
    return None
OK_ERRS = (errno.ENOENT, errno.EIO, errno.ESTALE, errno.ELOOP)  # links may cycle
def stop(t):
    return os.path.exists(os.path.join(t, "stop"))
EOF

# client.py KIND MNT T ID - loops until T/stop; prints counters.
cat >"$T/client.py" <<'EOF'
import fcntl, mmap, struct, sys
sys.path.insert(0, sys.argv[3])
from rec import *
kind, mnt, t, cid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rnd = random.Random(cid)
n = {"ok": 0}
def count(k):
    n[k] = n.get(k, 0) + 1
def bad(what, at):
    sys.exit("%s %d: implausible byte at %d: %s" % (kind, cid, at, what))
def name():
    return os.path.join(mnt, "f%d" % rnd.randrange(4))
IOC_INFO = (2 << 30) | (48 << 16) | (0xB7 << 8) | 6
IOC_FIND = (3 << 30) | (4128 << 16) | (0xB7 << 8) | 2
IOC_MADV = (1 << 30) | (24 << 16) | (0xB7 << 8) | 1
end = time.time() + (1.5 if kind == "mapper" else 300)
while not stop(t) and time.time() < end:
    try:
        p = name()
        if kind == "reader":
            with open(p, "rb", buffering=0) as f:
                off = 0
                while True:
                    d = os.pread(f.fileno(), 65536, off)
                    if not d:
                        break
                    at = plausible(d, off)
                    if at is not None:
                        bad(p, at)
                    off += len(d)
                    if len(d) % R:
                        break  # a short read at a cut: start again
        elif kind == "writer":
            fd = os.open(p, os.O_WRONLY)
            try:
                for _ in range(8):
                    off = rnd.randrange(2 << 20) // R * R
                    os.pwrite(fd, rec(cid, off), off)
                if rnd.random() < 0.2:
                    os.fsync(fd)
            finally:
                os.close(fd)
        elif kind == "mapper":
            fd = os.open(p, os.O_RDWR)
            try:
                size = os.fstat(fd).st_size // R * R
                if size == 0:
                    continue
                m = mmap.mmap(fd, size)
                at = plausible(m[:], 0)
                if at is not None:
                    bad(p, at)
                for _ in range(4):
                    off = rnd.randrange(size) // R * R
                    m[off:off + R] = rec(cid, off)
                m.flush()
                m.close()
            finally:
                os.close(fd)
        elif kind == "ioctl":
            fd = os.open(p, os.O_RDONLY)
            try:
                fcntl.ioctl(fd, IOC_INFO, bytes(48))
                needle = b"@%012d>" % (rnd.randrange(1 << 14) * R)
                arg = struct.pack("qqqII", 0, 2**63 - 1, 0, len(needle), 0)
                # mutable: passed as is (an immutable one is capped at
                # 1024 bytes by Python)
                arg = bytearray(arg + needle.ljust(4096, b"\0"))
                fcntl.ioctl(fd, IOC_FIND, arg)
                res = struct.unpack("q", arg[16:24])[0]
                if res >= 0 and (res - 7) % R:
                    bad(p + " (find result)", res)
                if res >= 0:
                    d = os.pread(fd, R, res - 7)
                    if d and plausible(d, res - 7) is not None:
                        bad(p + " (find)", res)
                fcntl.ioctl(fd, IOC_MADV, struct.pack("iIqq", 3, 1, 0, 0))
            finally:
                os.close(fd)
        count("ok")
    except OSError as e:
        if e.errno not in OK_ERRS and not (kind == "ioctl" and
                                           e.errno == errno.EINVAL):
            sys.exit("%s %d: %s: %s" % (kind, cid, p, e))
        count(errno.errorcode[e.errno])
    except ValueError:  # mmap of a file emptied meanwhile
        if kind != "mapper":
            raise
        count("emptied")
print("%s %d: %s" % (kind, cid,
                     " ".join("%s=%d" % kv for kv in sorted(n.items()))))
EOF

# outside.py B T SECS - the changes from outside, until SECS are up.
cat >"$T/outside.py" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
from rec import *
b, t, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
rnd = random.Random(7)
def content(gen, size, at=0):
    return b"".join(rec(gen, at + o) for o in range(0, size, R))[:size]
n = {}
gen = 900000
end = time.time() + secs
while time.time() < end:
    gen += 1
    i = rnd.randrange(4)
    p = os.path.join(b, "f%d" % i)
    what = rnd.choice(["truncate", "grow", "overwrite", "replace",
                       "symlink", "delete", "empty"])
    try:
        if what == "truncate":
            os.truncate(p, rnd.randrange(1 << 20))
        elif what == "grow":
            os.truncate(p, rnd.randrange(1 << 20, 2 << 20))
        elif what == "overwrite":
            with open(p, "r+b") as f:
                off = rnd.randrange(1 << 20) // R * R
                f.seek(off)
                f.write(content(gen, 8192, off))
        elif what in ("replace", "empty"):
            size = 0 if what == "empty" else rnd.randrange(1, 2 << 20)
            with open(p + ".tmp", "wb") as f:
                f.write(content(gen, size))
            os.rename(p + ".tmp", p)
        elif what == "symlink":
            os.symlink("f%d" % ((i + 1) % 4), p + ".lnk")
            os.rename(p + ".lnk", p)
        elif what == "delete":
            os.unlink(p)
            time.sleep(0.01)
            with open(p + ".tmp", "wb") as f:
                f.write(content(gen, 4096))
            os.rename(p + ".tmp", p)
        n[what] = n.get(what, 0) + 1
    except FileNotFoundError:
        n["enoent"] = n.get("enoent", 0) + 1
    time.sleep(0.002)
print(" ".join("%s=%d" % kv for kv in sorted(n.items())))
EOF

# final.py B - each file replaced one last time, with known bytes.
cat >"$T/final.py" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
from rec import *
for i in range(4):
    p = os.path.join(sys.argv[1], "f%d" % i)
    with open(p + ".tmp", "wb") as f:
        f.write(b"".join(rec(777000 + i, o) for o in range(0, 5000 * R, R)))
    os.rename(p + ".tmp", p)
EOF

KINDS=(reader reader writer writer mapper ioctl)

# mapper_loop ID - mappers die of SIGBUS when a file shrinks under their
# map (as on a native file): start a new one each time.
mapper_loop()
{
	local rc runs=0 sigbus=0
	while [ ! -e "$T/stop" ]; do
		rc=0
		timeout -k 5 60 "$PYTHON3" "$T/client.py" mapper "$M" "$T" "$1" \
			>>"$T/mapper$1.out" 2>&1 || rc=$?
		runs=$((runs + 1))
		case $rc in
		0) ;;
		135) sigbus=$((sigbus + 1)) ;;
		*) echo "mapper run $runs: status $rc" >>"$T/mapper$1.out"
		   return 1 ;;
		esac
	done
	echo "mapper loop: runs=$runs sigbus=$sigbus" >>"$T/mapper$1.out"
}

scenario()
{
	local tag="[${1:-default}]" i pids=() rc res
	rm -rf "${B:?}"/* "$T/stop" "$T"/*.out
	for ((i = 0; i < NF; i++)); do
		py "$B/f$i" "$T" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
from rec import *
with open(sys.argv[1], "wb") as f:
    f.write(b"".join(rec(0, o) for o in range(0, 1 << 20, R)))
EOF
	done
	mmfs_mount "$@"
	for ((i = 0; i < ${#KINDS[@]}; i++)); do
		if [ "${KINDS[i]}" = mapper ]; then
			mapper_loop "$i" 2>/dev/null &
		else
			timeout -k 5 $((SECS + 60)) "$PYTHON3" "$T/client.py" \
				"${KINDS[i]}" "$M" "$T" "$i" >"$T/c$i.out" 2>&1 &
		fi
		pids+=($!)
	done
	res=$(timeout -k 5 $((SECS + 30)) "$PYTHON3" "$T/outside.py" "$B" "$T" \
		"$SECS" 2>&1) || fail "$tag outside changes: $res"
	ok "$tag changes from outside: $res"
	mmfs_alive "$tag daemon alive during the changes"
	touch "$T/stop"
	for ((i = 0; i < ${#KINDS[@]}; i++)); do
		rc=0
		wait "${pids[i]}" || rc=$?
		if [ "${KINDS[i]}" = mapper ]; then
			[ "$rc" -eq 0 ] ||
				fail "$tag mapper: $(tail -n 3 "$T/mapper$i.out")"
			ok "$tag $(tail -n 1 "$T/mapper$i.out")"
		else
			[ "$rc" -eq 0 ] || fail "$tag ${KINDS[i]} $i (status $rc):" \
				"$(cat "$T/c$i.out")"
			ok "$tag $(cat "$T/c$i.out")"
		fi
	done
	mmfs_alive "$tag daemon alive after the clients ended"

	# The last word is the outside's: fresh opens must see it.
	py "$B" "$T" <"$T/final.py"
	for ((i = 0; i < NF; i++)); do
		py "$T/want$i" "$T" "$i" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
from rec import *
with open(sys.argv[1], "wb") as f:
    f.write(b"".join(rec(777000 + int(sys.argv[3]), o)
                     for o in range(0, 5000 * R, R)))
EOF
		wait_until 5 cmp -s "$T/want$i" "$M/f$i" ||
			fail "$tag f$i through the mount is not the new file:" \
				"$(cmp "$T/want$i" "$M/f$i" 2>&1)"
		ok "$tag a fresh open of f$i sees the file replaced last"
	done
	mmfs_alive "$tag daemon alive at the end"
	mmfs_umount
}

# An exact case first: the daemon maps 4 MiB, the file is cut to 1000
# bytes outside, and a client whose kernel still believes the old size
# (cache=always, its cached pages dropped) reads 64 KiB at 0.  The
# mapping's first page still reads whole, zeros past byte 1000 included;
# the client must get the file's 1000 bytes (or an error), never those
# zeros as data.
head -c 4M /dev/urandom >"$B/cut"
mmfs_mount cache=always
res=$( (py "$M/cut" "$B/cut" <<'EOF'
import os, sys
p, back = sys.argv[1:3]
orig = open(back, "rb").read()
fd = os.open(p, os.O_RDONLY)
assert os.pread(fd, len(orig), 0) == orig
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
os.truncate(back, 1000)
try:
    got = os.pread(fd, 65536, 0)
except OSError as e:
    print("error %s" % e.strerror)
    sys.exit(0)
if got != orig[:len(got)]:
    bad = next(i for i in range(len(got)) if got[i] != orig[i])
    sys.exit("read %d bytes, wrong from byte %d on (%s)" % (len(got), bad,
             "zeros" if got[bad:].count(0) == len(got) - bad else "garbage"))
print("read %d bytes, all the file's" % len(got))
EOF
) 2>&1) || fail "a read over the cut: $res"
ok "a read over an outside cut, stale size in the kernel: $res"
mmfs_umount
rm "$B/cut"

scenario
scenario cache=never

mmfs_done
