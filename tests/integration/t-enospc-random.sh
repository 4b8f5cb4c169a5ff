#!/bin/bash
# tests/integration/t-enospc-random.sh - random writers on a small tmpfs
# BACKING run into a full file system again and again: writes, mapped
# writes, truncates and fallocates get ENOSPC (msync and fsync may report
# it as EIO), never SIGBUS; the daemon stays alive; every writer's file
# matches its in-memory model byte for byte (bytes of a mapped write whose
# msync failed may hold either version); a file fsynced before it all is
# untouched.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse

if ! res=$(mount -t tmpfs -o size=4M,mode=0755 mmfs-enospc-rnd "$B" 2>&1); then
	if [ "${MMAPFS_REQUIRE_FUSE:-0}" = 1 ] && [ "$(id -u)" = 0 ]; then
		fail "cannot mount a tmpfs as root: $res"
	fi
	skip "cannot mount a tmpfs here: $res"
fi
MMFS_CLEANUP_HOOKS+=("umount '$B' || umount -l '$B'")
ok "4 MiB tmpfs mounted as BACKING"

# writer.py FILE SEED SECONDS MAXLEN MODEL_OUT - random ops on FILE with a
# model; prints "ops=N enospc=N ..." and exits non-zero on a mismatch or
# an unexpected error.  MODEL_OUT gets the model and a mask of the bytes
# it is sure of.
cat >"$T/writer.py" <<'EOF'
import errno, mmap, os, random, sys, time
path, seed, secs, maxlen, out = sys.argv[1:6]
rnd = random.Random(int(seed))
maxlen = int(maxlen)
model = bytearray()
sure = bytearray()          # 1 where the model knows the byte
count = {}
ring = []
def bump(k):
    count[k] = count.get(k, 0) + 1
    ring.append("%d:%s:%s:size=%d" % (n, k, last, len(model)))
    del ring[:-12]
def setsize(n):
    if n < len(model):
        del model[n:]; del sure[n:]
    else:
        model.extend(bytes(n - len(model))); sure.extend(b"\1" * (n - len(sure)))
def put(off, data):
    end = off + len(data)
    if end > len(model):
        setsize(end)
    model[off:end] = data
    sure[off:end] = b"\1" * len(data)
def check(off, got, what):
    want = model[off:off + len(got)]
    if len(got) != len(want):
        sys.exit("%s: read %d bytes at %d, model has %d (size %d)"
                 % (what, len(got), off, len(want), len(model)))
    if got != want:
        for i in range(len(got)):
            if got[i] != want[i] and sure[off + i]:
                j = off + i
                while j < off + len(got) and got[j - off] != want[j - off]:
                    j += 1
                sys.exit("%s: byte %d is %d, model %d (%d bytes differ from"
                         " there; seed %s, op %d); last ops: %s"
                         % (what, off + i, got[i], want[i], j - off - i,
                            seed, n, " ".join(ring)))
        # the unsure bytes the file settled on
        for i in range(len(got)):
            if not sure[off + i]:
                model[off + i] = got[i]
def err(e, allowed, what):
    if e.errno not in allowed:
        sys.exit("%s: unexpected %s" % (what, os.strerror(e.errno)))
    bump("%s:%s" % (what, errno.errorcode[e.errno]))
def payload(k):
    b = bytes([rnd.randrange(1, 256)]) * 7 + b"%08d" % n
    return (b * (k // len(b) + 1))[:k]
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
end = time.time() + float(secs)
n = 0
while time.time() < end:
    n += 1
    r = rnd.random()
    size = len(model)
    last = ""
    try:
        if r < 0.30:
            off = rnd.randrange(maxlen)
            data = payload(rnd.randrange(1, 65536))
            last = "%d+%d" % (off, len(data))
            try:
                w = os.pwrite(fd, data, off)
                put(off, data[:w])
                bump("write")
            except OSError as e:
                err(e, (errno.ENOSPC,), "pwrite")
        elif r < 0.42 and size > 0:
            off = rnd.randrange(size)
            k = min(rnd.randrange(1, 65536), size - off)
            data = payload(k)
            last = "%d+%d" % (off, k)
            m = mmap.mmap(fd, size)
            m[off:off + k] = data
            try:
                m.flush()
                put(off, data)
                bump("mapwrite")
            except OSError as e:
                err(e, (errno.ENOSPC, errno.EIO), "msync")
                # written to the kernel's cache, maybe not to the file
                model[off:off + k] = data
                sure[off:off + k] = bytes(k)
            m.close()
        elif r < 0.52:
            k = rnd.randrange(maxlen) if rnd.random() < 0.7 else \
                rnd.randrange(max(size, 1))
            last = "%d" % k
            try:
                os.ftruncate(fd, k)
                setsize(k)
                bump("trunc")
            except OSError as e:
                err(e, (errno.ENOSPC,), "ftruncate")
        elif r < 0.57:
            off = rnd.randrange(maxlen)
            k = rnd.randrange(1, 256 << 10)
            last = "%d+%d" % (off, k)
            try:
                os.posix_fallocate(fd, off, k)
                if off + k > size:
                    setsize(off + k)
                bump("falloc")
            except OSError as e:
                err(e, (errno.ENOSPC,), "fallocate")
        elif r < 0.80:
            off = rnd.randrange(maxlen)
            k = rnd.randrange(1, 131072)
            check(off, os.pread(fd, k, off), "pread")
            bump("read")
        elif r < 0.90:
            try:
                os.fsync(fd)
                bump("fsync")
            except OSError as e:
                err(e, (errno.ENOSPC, errno.EIO), "fsync")
        else:
            st = os.fstat(fd)
            if st.st_size != len(model):
                sys.exit("size %d, model %d (op %d); last ops: %s"
                         % (st.st_size, len(model), n, " ".join(ring)))
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            got = os.pread(fd, len(model) + 1, 0)
            check(0, got, "whole file")
            bump("check")
    except OSError as e:
        sys.exit("op %d: unexpected %s" % (n, e))
os.close(fd)
with open(out, "wb") as f:
    f.write(bytes(model))
with open(out + ".sure", "wb") as f:
    f.write(bytes(sure))
print("ops=%d %s" % (n, " ".join("%s=%d" % kv for kv in sorted(count.items()))))
EOF

# compare.py FILE MODEL - FILE holds MODEL wherever the model is sure.
cat >"$T/compare.py" <<'EOF'
import sys
got = open(sys.argv[1], "rb").read()
want = open(sys.argv[2], "rb").read()
sure = open(sys.argv[2] + ".sure", "rb").read()
if len(got) != len(want):
    sys.exit("size %d, model %d" % (len(got), len(want)))
bad = [i for i in range(len(got)) if got[i] != want[i] and sure[i]]
if bad:
    sys.exit("%d bytes differ, first at %d" % (len(bad), bad[0]))
print("%d bytes, %d unsure" % (len(got), sure.count(0)))
EOF

mmfs_mount
head -c 400000 /dev/urandom >"$T/precious"
deadline 30 dd if="$T/precious" of="$M/precious" bs=64k conv=fsync \
	status=none
assert_file_eq "$T/precious" "$B/precious" "an fsynced file on the backing fs"

# Two exact cases first, on a file system filled to the last page from
# outside.  (1) A write past the end that fails must not leave the file
# grown to the write's offset.  (2) A mapped write whose write-back can
# store only its first page (the others are holes) must fail msync: the
# kernel ignores the count of a write-back, so a short reply would lose the
# rest silently.
head -c 10000 /dev/urandom >"$T/g"
cp "$T/g" "$M/g"
py "$M/h" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(fd, b"h" * 4096, 0)
os.ftruncate(fd, 65536)
os.fsync(fd)
EOF
dd if=/dev/zero of="$B/filler" bs=4k status=none 2>/dev/null || true
ok "BACKING filled from outside ($(stat -c %s "$B/filler") bytes)"
assert_fails_with "No space left on device" py "$M/g" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"x" * 8192, 100000)
EOF
assert_size "$M/g" 10000 "a failed write past the end leaves the size"
assert_size "$B/g" 10000 "a failed write past the end: backing size"
assert_file_eq "$T/g" "$M/g" "a failed write past the end: bytes"
res=$(py "$M/h" <<'EOF'
import errno, mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 65536)
m[:] = b"M" * 65536
try:
    m.flush()
    print("msync ok")
except OSError as e:
    print("msync", errno.errorcode[e.errno])
EOF
) || fail "mapped write on the full fs: $res"
got=$(head -c 65536 "$B/h" | tr -d '\0' | wc -c)
case $res:$got in
"msync ok:65536") ok "mapped write stored whole although the fs is full" ;;
"msync ok:"*) fail "msync succeeded but only $got of 65536 bytes reached" \
	"BACKING: the rest of a short write-back was lost" ;;
"msync ENOSPC:"*|"msync EIO:"*)
	ok "a mapped write that cannot be stored fails msync ($res)" ;;
*) fail "mapped write on the full fs: $res" ;;
esac
# (3) A write whose first page the file system cannot give, with pages
# after it stored: natively it fails with nothing written.  The kernel
# holds the file's pages (read through this descriptor), so it sends the
# write whole; the page goes from under it, and the space with it.
head -c 32768 /dev/urandom >"$T/k"
rm "$B/filler"
cp "$T/k" "$M/k"
res=$(py "$M/k" "$B" <<'EOF'
import errno, os, subprocess, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.pread(fd, 32768, 0)
k = os.path.join(sys.argv[2], "k")
subprocess.run(["fallocate", "-p", "-o", "0", "-l", "4096", k], check=True)
subprocess.run(["dd", "if=/dev/zero", "of=" + sys.argv[2] + "/filler",
                "bs=4k", "status=none"], stderr=subprocess.DEVNULL)
try:
    print("wrote", os.pwrite(fd, b"y" * 8192, 4096 - 55))
except OSError as e:
    print(errno.errorcode[e.errno])
EOF
) || fail "write on the full fs: $res"
assert_eq ENOSPC "$res" "a write whose first page cannot be had fails"
cmp -s -i 4096 "$T/k" "$B/k" ||
	fail "the failed write changed BACKING past its first page"
ok "a failed write changed no byte past its first page"
mmfs_alive "daemon alive after the exact cases"
rm "$B/filler" "$M/g" "$M/h" "$M/k"

# Three writers at once, each may grow to 3 MiB, in the 1.6 MiB that 2 MiB
# of filler leaves: they fill it often, and truncates free space again.
SECS=${MMFS_ENOSPC_SECS:-12}
head -c $((2 << 20)) /dev/zero >"$B/filler2"
pids=()
for i in 1 2 3; do
	timeout -k 5 $((SECS + 60)) "$PYTHON3" "$T/writer.py" "$M/w$i" \
		$((20240700 + i)) "$SECS" $((3 << 20)) "$T/model$i" \
		>"$T/w$i.out" 2>&1 &
	pids+=($!)
done
enospc=0
for i in 1 2 3; do
	rc=0
	wait "${pids[i - 1]}" || rc=$?
	[ "$rc" -ne 135 ] || fail "writer $i killed by SIGBUS"
	[ "$rc" -eq 0 ] || fail "writer $i (status $rc): $(cat "$T/w$i.out")"
	ok "writer $i: $(cat "$T/w$i.out")"
	for n in $(grep -o 'ENOSPC=[0-9]*' "$T/w$i.out" | cut -d= -f2); do
		enospc=$((enospc + n))
	done
done
[ "$enospc" -gt 0 ] || fail "no writer ever hit ENOSPC: the test is void"
ok "the writers got ENOSPC $enospc times"
mmfs_alive "daemon alive after the random writes on a full fs"
stats=$(deadline 10 "$MMAPFSCTL" stats "$M" 2>&1) || true
ok "stats: $(echo "$stats" | tr '\n' ' ' | tr -s ' ')"

assert_file_eq "$T/precious" "$M/precious" "the fsynced file through the mount"
for i in 1 2 3; do
	res=$(py "$M/w$i" "$T/model$i" <"$T/compare.py" 2>&1) ||
		fail "w$i through the mount differs from its model: $res"
	ok "w$i through the mount == model: $res"
done
mmfs_umount
for i in 1 2 3; do
	res=$(py "$B/w$i" "$T/model$i" <"$T/compare.py" 2>&1) ||
		fail "w$i in BACKING differs from its model: $res"
	ok "w$i in BACKING == model: $res"
done
assert_file_eq "$T/precious" "$B/precious" "the fsynced file in BACKING"
rm "$B/filler2" # while unmounted: a daemon that has seen it holds it

# Space freed: a new mount writes a large file again.
mmfs_mount
rm "$M"/w?
head -c 2M /dev/urandom >"$T/big"
assert_ok dd if="$T/big" of="$M/big" bs=64k conv=fsync status=none
assert_file_eq "$T/big" "$B/big" "a 2 MiB file once space is free"
mmfs_done
