#!/bin/bash
# tests/integration/t-readonly-exerciser.sh - access=read changes nothing
# in BACKING, byte for byte and in metadata (names, types, modes, sizes,
# links, owners, mtimes, ctimes, link targets, xattrs, sha256), under fsx
# (which must be refused at its read-write open), a random read-only
# exerciser (reads, mapped reads, private mapped writes, syncs, ioctls and
# every kind of change, refused) checked against a copy of the tree, and a
# run of standard Unix tools, reading and trying to write.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
EROFS="Read-only file system"
FSX=${top_builddir:?}/tests/fsx/fsx

# A tree with small, empty, large, sparse, linked and odd files.
mkdir -p "$B/dir/sub" "$B/empty-dir"
printf 'hello, read-only world\n' >"$B/small"
: >"$B/empty"
head -c 1500000 /dev/urandom >"$B/big"
truncate -s 8M "$B/sparse"
printf 'island' | dd of="$B/sparse" bs=1 seek=3000000 conv=notrunc \
	status=none
for i in $(seq 1 40); do
	awk -v n=$((i * 20)) -v i="$i" 'BEGIN {
		for (j = 1; j <= n; j++) printf "line %d of file %d\n", j, i
	}' >"$B/dir/f$i"
done
printf 'nested\n' >"$B/dir/sub/n"
ln "$B/small" "$B/dir/hardlink"
ln -s ../small "$B/dir/symlink"
ln -s /nonexistent "$B/dangling"
mkfifo "$B/fifo"
setfattr -n user.tag -v kept "$B/big"
chmod 600 "$B/dir/f3"
chmod 4755 "$B/dir/f4"
find "$B" -exec touch -h -d '2001-02-03 04:05:06.789' {} +

snapshot()
{
	(
		cd "$B" &&
		find . -printf '%y %m %s %n %u:%g %T@ %C@ %p -> %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum &&
		getfattr -R -h -d -m - . 2>/dev/null
	)
}
snapshot >"$T/before"
cp -a "$B" "$T/ref" # what every read is checked against

# ---------------------------------------------------------------- fsx
mmfs_mount access=read
if [ -x "$FSX" ]; then
	rc=0
	res=$(deadline 60 "$FSX" -N 1000 -S 1 "$M/big" 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "fsx ran read-write on access=read: $res"
	case $res in
	*"$EROFS"*) ok "fsx refused at its read-write open: EROFS" ;;
	*) fail "fsx on access=read: status $rc without EROFS: $res" ;;
	esac
	rc=0
	res=$(deadline 60 "$FSX" -N 1000 -S 1 "$M/new-file" 2>&1) || rc=$?
	[ "$rc" -ne 0 ] && [[ $res == *"$EROFS"* ]] ||
		fail "fsx creating a file on access=read: status $rc: $res"
	ok "fsx refused creating its file: EROFS"
else
	fail "fsx not built: $FSX"
fi

# ---------------------------------------------------------------- exerciser
cat >"$T/rox.py" <<'EOF'
import errno, fcntl, mmap, os, random, struct, sys, time
mnt, ref, back = sys.argv[1:4]
seed, secs = int(sys.argv[4]), float(sys.argv[5])
rnd = random.Random(seed)
files = []
for d, _, names in os.walk(ref):
    for n in names:
        p = os.path.relpath(os.path.join(d, n), ref)
        if os.path.isfile(os.path.join(ref, p)) and \
           not os.path.islink(os.path.join(ref, p)):
            files.append(p)
files.sort()
data = {p: open(os.path.join(ref, p), "rb").read() for p in files}
dirs = sorted({os.path.dirname(p) for p in files})
IOC_INFO = (2 << 30) | (48 << 16) | (0xB7 << 8) | 6
IOC_FIND = (3 << 30) | (4128 << 16) | (0xB7 << 8) | 2
IOC_RFIND = (3 << 30) | (4128 << 16) | (0xB7 << 8) | 3
IOC_MOVE = (1 << 30) | (24 << 16) | (0xB7 << 8) | 4
IOC_FLUSH = (1 << 30) | (24 << 16) | (0xB7 << 8) | 5
IOC_MADV = (1 << 30) | (24 << 16) | (0xB7 << 8) | 1
count = {}
def bump(k):
    count[k] = count.get(k, 0) + 1
def fails(what, errs, fn, *a):
    try:
        fn(*a)
    except OSError as e:
        if e.errno in errs:
            bump("refused")
            return
        sys.exit("op %d %s: %s, want %s" % (n, what, e,
                 "/".join(errno.errorcode[x] for x in errs)))
    sys.exit("op %d %s: succeeded on access=read" % (n, what))
def same(what, got, want):
    if got != want:
        if not isinstance(got, int):
            got, want = got[:40], want[:40]
        sys.exit("op %d %s: got %r..., want %r..." % (n, what, got, want))
EROFS = (errno.EROFS,)
open_fds = {}
def fd_of(p):
    if p not in open_fds or rnd.random() < 0.05:
        if p in open_fds:
            os.close(open_fds.pop(p))
        open_fds[p] = os.open(os.path.join(mnt, p), os.O_RDONLY)
    return open_fds[p]
end = time.time() + secs
n = 0
while time.time() < end:
    n += 1
    p = rnd.choice(files)
    full = os.path.join(mnt, p)
    d = data[p]
    r = rnd.randrange(24)
    if r < 5:                                     # pread
        fd = fd_of(p)
        off = rnd.randrange(len(d) + 100)
        k = rnd.randrange(1, 200000)
        same("pread %s %d+%d" % (p, off, k), os.pread(fd, k, off), d[off:off + k])
        bump("read")
    elif r < 7 and d:                             # shared read-only map
        fd = fd_of(p)
        m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
        off = rnd.randrange(len(d))
        same("mapread " + p, m[off:off + 70000], d[off:off + 70000])
        m.close()
        bump("mapread")
    elif r < 8 and d:                             # private map, written
        fd = fd_of(p)
        m = mmap.mmap(fd, 0, flags=mmap.MAP_PRIVATE,
                      prot=mmap.PROT_READ | mmap.PROT_WRITE)
        off = rnd.randrange(len(d))
        m[off:off + 10] = b"X" * len(m[off:off + 10])
        m.close()
        fails("shared writable map of " + p, (errno.EACCES,),
              mmap.mmap, fd, 0, mmap.MAP_SHARED,
              mmap.PROT_READ | mmap.PROT_WRITE)
        bump("privwrite")
    elif r < 9:                                   # syncs, advice, caches
        fd = fd_of(p)
        os.fsync(fd)
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        if rnd.random() < 0.02:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")
        bump("sync")
    elif r < 11:                                  # ioctls
        fd = fd_of(p)
        info = bytearray(48)
        fcntl.ioctl(fd, IOC_INFO, info)
        length, size = struct.unpack("QQ", info[:16])
        if size != len(d):
            sys.exit("op %d: INFO size %d of %s, want %d" % (n, size, p, len(d)))
        if d:
            a = rnd.randrange(len(d))
            needle = d[a:a + rnd.randrange(1, 16)] if rnd.random() < 0.8 \
                else b"\xff\xfe-absent-\x00"
        else:
            needle = b"x"
        for cmd, fn in ((IOC_FIND, d.find), (IOC_RFIND, d.rfind)):
            arg = bytearray(struct.pack("qqqII", 0, 2**63 - 1, 0, len(needle), 0)
                            + needle.ljust(4096, b"\0"))
            fcntl.ioctl(fd, cmd, arg)
            res = struct.unpack("q", arg[16:24])[0]
            if res != fn(needle):
                sys.exit("op %d: find in %s: %d, want %d" % (n, p, res, fn(needle)))
        if d:
            fcntl.ioctl(fd, IOC_MADV, struct.pack("iIqq", 3, 1, 0, 0))
            fcntl.ioctl(fd, IOC_FLUSH, struct.pack("qqII", 0, 0, 2, 0))
        fails("MOVE on " + p, (errno.EACCES,), fcntl.ioctl, fd, IOC_MOVE,
              struct.pack("qqq", 0, min(1, len(d)), min(1, len(d))))
        fails("MADV_REMOVE on " + p, (errno.EACCES, errno.EINVAL),
              fcntl.ioctl, fd, IOC_MADV, struct.pack("iIqq", 9, 1, 0, 0))
        bump("ioctl")
    elif r < 12:                                  # lseek, sendfile out
        fd = fd_of(p)
        if d:  # the backing file answers, as it would natively
            bfd = os.open(os.path.join(back, p), os.O_RDONLY)
            for wh in (os.SEEK_DATA, os.SEEK_HOLE):
                off = rnd.randrange(len(d))
                res = []
                for f in (fd, bfd):
                    try:
                        res.append(os.lseek(f, off, wh))
                    except OSError as e:
                        res.append(-e.errno)
                same("lseek(%d, %d) in %s" % (off, wh, p), res[0], res[1])
            os.close(bfd)
        cp = os.path.join(os.path.dirname(ref), "copy-out")
        o = os.open(cp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        off = 0
        while off < len(d):
            k = os.sendfile(o, fd, off, len(d) - off)
            if k == 0:
                break
            off += k
        os.close(o)
        same("sendfile out of " + p, open(cp, "rb").read(), d)
        bump("copyout")
    elif r < 13:                                  # directory reads
        dd = rnd.choice(dirs)
        want = sorted(os.listdir(os.path.join(ref, dd)))
        same("listdir " + dd, sorted(os.listdir(os.path.join(mnt, dd))), want)
        os.stat(full)
        os.lstat(os.path.join(mnt, "dir/symlink"))
        os.listxattr(full)
        bump("meta")
    else:                                         # every change, refused
        nf = os.path.join(mnt, rnd.choice(dirs), "new%d" % n)
        c = r - 13
        ops = [
            ("open O_RDWR", lambda: os.open(full, os.O_RDWR)),
            ("open O_WRONLY|O_APPEND", lambda: os.open(full, os.O_WRONLY | os.O_APPEND)),
            ("open O_TRUNC", lambda: os.open(full, os.O_RDONLY | os.O_TRUNC)),
            ("create", lambda: os.open(nf, os.O_WRONLY | os.O_CREAT, 0o644)),
            ("truncate", lambda: os.truncate(full, rnd.randrange(len(d) + 2))),
            ("utime", lambda: os.utime(full, (0, 0))),
            ("chmod", lambda: os.chmod(full, 0o777)),
            ("chown", lambda: os.chown(full, 1, 1)),
            ("mkdir/mknod/symlink/link",
             lambda: [fails(w, EROFS, f) for w, f in (
                 ("mkdir", lambda: os.mkdir(nf)),
                 ("mkfifo", lambda: os.mkfifo(nf)),
                 ("symlink", lambda: os.symlink("x", nf)),
                 ("link", lambda: os.link(full, nf)))] and
             os.unlink(full)),
            ("rename", lambda: os.rename(full, nf)),
            ("setxattr", lambda: os.setxattr(full, "user.x", b"1")),
            ("removexattr", lambda: os.removexattr(os.path.join(mnt, "big"),
                                                   "user.tag")),
        ]
        what, fn = ops[c % len(ops)]
        fails(what + " " + p, EROFS, fn)
        fd = fd_of(p)
        fails("write on O_RDONLY", (errno.EBADF,), os.write, fd, b"x")
        fails("fallocate on O_RDONLY", (errno.EBADF,), os.posix_fallocate, fd, 0, 1)
for fd in open_fds.values():
    os.close(fd)
print("ops=%d %s" % (n, " ".join("%s=%d" % kv for kv in sorted(count.items()))))
EOF
SECS=${MMFS_ROX_SECS:-6}
res=$(py "$M" "$T/ref" "$B" 20240801 "$SECS" <"$T/rox.py" 2>&1) ||
	fail "read-only exerciser: $res"
ok "exerciser on access=read: $res"
mmfs_alive "daemon alive after the exerciser"

# ---------------------------------------------------------------- tools
# Reading tools agree with the copy of the tree ...
C=$T/copies
mkdir "$C"
assert_ok diff -r --no-dereference -x fifo "$T/ref" "$M"
assert_ok cp -a "$M/." "$C/cp"
assert_ok diff -r --no-dereference -x fifo "$T/ref" "$C/cp"
assert_eq "$(cd "$T/ref" && tar cf - --sort=name --mtime=@0 --owner=0 \
		--group=0 --exclude=fifo . | sha256sum)" \
	"$(cd "$M" && tar cf - --sort=name --mtime=@0 --owner=0 --group=0 \
		--exclude=fifo . | sha256sum)" "tar of the mount == tar of the copy"
assert_eq "$(cd "$T/ref" && grep -r -c 'line 7' . | sort)" \
	"$(cd "$M" && grep -r -c 'line 7' . | sort)" "grep -r"
assert_eq "$(cd "$T/ref" && find . -type f -print0 | sort -z |
		xargs -0 sha256sum)" \
	"$(cd "$M" && find . -type f -print0 | sort -z | xargs -0 sha256sum)" \
	"sha256sum of every file"
assert_eq "$(cd "$T/ref" && find . -printf '%y %m %s %n %T@ %p -> %l\n' |
		sort)" \
	"$(cd "$M" && find . -printf '%y %m %s %n %T@ %p -> %l\n' | sort)" \
	"find: types, modes, sizes, links, mtimes"
assert_eq "$(wc -c <"$T/ref/sparse") $(du -s --apparent-size "$T/ref" |
		cut -f1)" \
	"$(wc -c <"$M/sparse") $(du -s --apparent-size "$M" | cut -f1)" \
	"wc -c and du --apparent-size"
assert_eq "$(od -A d -t x1 -j 2999990 -N 20 "$T/ref/sparse")" \
	"$(od -A d -t x1 -j 2999990 -N 20 "$M/sparse")" "od inside the sparse file"
assert_eq "$(sort -k 2,2n "$T/ref/dir/f9" | uniq -c | sed -n '1,3p')" \
	"$(sort -k 2,2n "$M/dir/f9" | uniq -c | sed -n '1,3p')" "sort | uniq"
assert_ok cmp "$T/ref/big" "$M/big"
assert_eq kept \
	"$(getfattr --absolute-names -n user.tag --only-values "$M/big")" \
	"getfattr"
assert_ok ls -laR "$M"
assert_ok stat "$M/fifo" "$M/dangling" "$M/dir/symlink"
assert_ok "$MMAPFSCTL" info "$M/big"
assert_status 0 "$MMAPFSCTL" find "$M/dir/f5" "line 3 "
assert_ok "$MMAPFSCTL" madvise "$M/big" willneed
assert_ok "$MMAPFSCTL" flush "$M/big"

# ... and every tool that writes is refused.
refuse()
{
	assert_fails_with "$EROFS" "$@"
}
refuse touch "$M/small"
refuse touch "$M/new"
refuse mkdir "$M/newdir"
refuse rmdir "$M/empty-dir"
refuse rm -f "$M/small"
refuse rm -rf "$M/dir/sub"
refuse mv "$M/small" "$M/moved"
refuse cp "$T/ref/small" "$M/dir/copied"
refuse cp "$T/ref/big" "$M/small"
refuse sed -i s/hello/bye/ "$M/small"
refuse sh -c "echo more >>'$M/small'"
refuse sh -c "echo over >'$M/small'"
refuse dd if=/dev/zero of="$M/big" bs=1 count=1 conv=notrunc status=none
refuse truncate -s 0 "$M/big"
refuse truncate -s 1G "$M/sparse"
refuse fallocate -l 1M "$M/empty"
refuse ln "$M/small" "$M/hard2"
refuse ln -s small "$M/sym2"
refuse mkfifo "$M/fifo2"
refuse chmod 777 "$M/small"
refuse chown 1:1 "$M/small"
refuse chgrp 1 "$M/small"
refuse setfattr -n user.x -v 1 "$M/small"
refuse setfattr -x user.tag "$M/big"
refuse tar xf <(cd "$T/ref" && tar cf - dir) -C "$M"
refuse "$MMAPFSCTL" move "$M/big" 0 1 1
refuse sh -c "cd '$M/dir' && tar cf '$M/dir/out.tar' f1"
mmfs_alive "daemon alive after the tools"
mmfs_umount

# cache=never sends every read to the mapping: the exerciser once more.
mmfs_mount access=read cache=never
res=$(py "$M" "$T/ref" "$B" 20240802 "$((SECS / 2 + 1))" <"$T/rox.py" 2>&1) ||
	fail "read-only exerciser, cache=never: $res"
ok "exerciser on access=read,cache=never: $res"
mmfs_umount

snapshot >"$T/after"
if ! cmp -s "$T/before" "$T/after"; then
	fail "BACKING changed under access=read:" \
		"$(diff "$T/before" "$T/after")"
fi
ok "BACKING identical: $(grep -c . "$T/before") lines of names, metadata," \
	"hashes and xattrs"
mmfs_done
