"""tests/integration/posix.py DIR - POSIX namespace and metadata cases.

Each case prints one line, "name: outcome", where the outcome is what
came back (values, or the errno's name) and never a time or an inode
number, so that t-posix.sh can run it in a native directory and on a
mount and ask for the same lines.  Timestamps are compared as relations
(changed, unchanged, ordered) within the run.
"""
import ctypes
import errno
import os
import stat
import sys
import time

D = sys.argv[1]
os.chdir(D)
os.umask(0o022)
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT = 1, 2, 4


def out(name, what):
    print("%s: %s" % (name, what))


def run(name, fn):
    """fn() -> outcome; an OSError becomes its errno's name."""
    try:
        r = fn()
        out(name, "ok" if r is None else r)
    except OSError as e:
        out(name, errno.errorcode.get(e.errno, e.errno))


def renameat2(a, b, flags):
    r = libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def put(path, data=b"", mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.write(fd, data)
    os.close(fd)


def get(path):
    with open(path, "rb") as f:
        return f.read()


def kind(path):
    st = os.lstat(path)
    return stat.filemode(st.st_mode)


def times(path):
    st = os.lstat(path)
    return st.st_mtime_ns, st.st_ctime_ns


def tick():
    """Let the clock move past the filesystems' timestamp granularity."""
    time.sleep(0.02)


# ---------------------------------------------------------------- open
put("f", b"hello")
run("open excl existing", lambda: os.open("f", os.O_CREAT | os.O_EXCL))
run("open missing", lambda: os.open("nope", os.O_RDONLY))
run("open missing dir", lambda: os.open("nodir/x", os.O_CREAT | os.O_WRONLY))
run("open file as dir", lambda: os.open("f/x", os.O_RDONLY))
run("open dir for write", lambda: os.open(".", os.O_WRONLY))
run("open O_DIRECTORY file", lambda: os.open("f", os.O_DIRECTORY))
os.symlink("f", "lnk")
run("open O_NOFOLLOW link", lambda: os.open("lnk", os.O_NOFOLLOW))
run("open via link", lambda: get("lnk"))
os.symlink("missing", "dangling")
run("open dangling", lambda: os.open("dangling", os.O_RDONLY))
fd = os.open("dangling", os.O_CREAT | os.O_WRONLY, 0o600)
os.close(fd)
run("creat through dangling", lambda: (kind("missing"), get("missing")))
fd = os.open("f", os.O_RDONLY)
run("write on O_RDONLY", lambda: os.write(fd, b"x"))
run("ftruncate on O_RDONLY", lambda: os.ftruncate(fd, 0))
os.close(fd)
fd = os.open("f", os.O_WRONLY)
run("read on O_WRONLY", lambda: os.read(fd, 1))
os.close(fd)
run("O_TRUNC", lambda: (os.close(os.open("f", os.O_WRONLY | os.O_TRUNC)),
                        os.stat("f").st_size)[1])
run("long name", lambda: put("n" * 256))
run("name of 255", lambda: (put("n" * 255), os.unlink("n" * 255)))

# ---------------------------------------------------------------- data
put("d1", b"0123456789")
fd = os.open("d1", os.O_RDWR | os.O_APPEND)
os.write(fd, b"AB")
os.pwrite(fd, b"zz", 0)  # O_APPEND: Linux appends pwrite too
os.close(fd)
run("append and pwrite with O_APPEND", lambda: get("d1"))
fd = os.open("d1", os.O_RDWR)
os.pwrite(fd, b"end", 20)
run("pwrite past end", lambda: (os.fstat(fd).st_size, get("d1")))
run("lseek SEEK_END", lambda: os.lseek(fd, -3, os.SEEK_END))
run("lseek negative", lambda: os.lseek(fd, -100, os.SEEK_SET))
run("SEEK_DATA 0", lambda: os.lseek(fd, 0, os.SEEK_DATA))
run("SEEK_DATA past end", lambda: os.lseek(fd, 100, os.SEEK_DATA))
run("SEEK_HOLE past end", lambda: os.lseek(fd, 100, os.SEEK_HOLE))
os.ftruncate(fd, 4)
run("ftruncate down", lambda: (os.fstat(fd).st_size, get("d1")))
os.ftruncate(fd, 8)
run("ftruncate up zero-fills", lambda: get("d1"))
run("ftruncate negative", lambda: os.ftruncate(fd, -1))
os.close(fd)
run("truncate path", lambda: (os.truncate("d1", 2), get("d1"))[1])
run("truncate dir", lambda: os.truncate(".", 0))

# ---------------------------------------------------------------- times
put("t", b"x")
m0, c0 = times("t")
tick()
fd = os.open("t", os.O_WRONLY)
os.write(fd, b"y")
os.close(fd)
m1, c1 = times("t")
out("write moves mtime, ctime", (m1 > m0, c1 > c0))
tick()
os.chmod("t", 0o600)
m2, c2 = times("t")
out("chmod: mtime kept, ctime moves", (m2 == m1, c2 > c1))
tick()
os.truncate("t", 0)
m3, c3 = times("t")
out("truncate moves mtime, ctime", (m3 > m2, c3 > c2))
tick()
fd = os.open("t", os.O_WRONLY | os.O_TRUNC)
os.close(fd)
m4, c4 = times("t")
out("O_TRUNC of an empty file moves mtime", m4 > m3)
# Opening a file reads nothing: with atime older than mtime (relatime
# would move it on a read), open + write, open + fallocate and an open
# alone leave atime where it was.  The write covers a whole page, which
# the writeback cache fills without reading it first.
put("at", b"abc")
for what, flags in (("write", os.O_WRONLY), ("fallocate", os.O_RDWR),
                    ("nothing", os.O_RDONLY)):
    os.utime("at", ns=(1_000_000_000, 2_000_000_000))
    fd = os.open("at", flags)
    if what == "write":
        os.pwrite(fd, b"x" * 4096, 0)
    elif what == "fallocate":
        os.posix_fallocate(fd, 0, 8192)
    os.close(fd)
    out("open and %s: atime kept" % what,
        os.stat("at").st_atime_ns == 1_000_000_000)
# copy_file_range reads its source: there relatime moves atime.
put("cs", b"source" * 1000)
os.utime("cs", ns=(1_000_000_000, 2_000_000_000))
fi, fo = os.open("cs", os.O_RDONLY), os.open("cd", os.O_WRONLY | os.O_CREAT)
out("copy_file_range", os.copy_file_range(fi, fo, 6000))
os.close(fi)
os.close(fo)
out("copy_file_range: source atime moves",
    os.stat("cs").st_atime_ns > 2_000_000_000)
out("copy_file_range: bytes", get("cd") == b"source" * 1000)
os.utime("t", ns=(1_000_000_123, 2_000_000_456))
st = os.stat("t")
out("utime ns", (st.st_atime_ns, st.st_mtime_ns))
c5 = os.stat("t").st_ctime_ns
tick()
UTIME_OMIT = (1 << 30) - 2
ts = (ctypes.c_long * 4)(0, UTIME_OMIT, 5, 0)
libc.utimensat(AT_FDCWD, b"t", ts, 0)
st = os.stat("t")
out("utimensat OMIT atime", (st.st_atime_ns, st.st_mtime_ns,
                             st.st_ctime_ns > c5))
d0 = times(".")
tick()
put("t2")
d1 = times(".")
out("create moves dir mtime", d1[0] > d0[0])
tick()
os.rename("t2", "t3")
d2 = times(".")
out("rename moves dir mtime", d2[0] > d1[0])
tick()
os.unlink("t3")
d3 = times(".")
out("unlink moves dir mtime", d3[0] > d2[0])
h0 = times("t")[1]
tick()
os.link("t", "t-hard")
out("link moves ctime", times("t")[1] > h0)

# ---------------------------------------------------------------- modes
put("m", b"", 0o777)
out("create mode with umask", oct(os.stat("m").st_mode))
os.chmod("m", 0o4755)
out("chmod setuid", oct(os.stat("m").st_mode))
os.chmod("m", 0o1777)
out("chmod sticky file", oct(os.stat("m").st_mode))
os.mkdir("md", 0o777)
out("mkdir mode with umask", oct(os.stat("md").st_mode))
os.chown("m", 1234, 5678)
st = os.stat("m")
out("chown", (st.st_uid, st.st_gid))
os.chmod("m", 0o6755)
os.chown("m", 1234, 5678)
out("chown clears setuid/setgid", oct(os.stat("m").st_mode))
os.chown("m", -1, -1)
out("chown -1 -1", (os.stat("m").st_uid, os.stat("m").st_gid))
# owner and group both -1 still count as a change of owner (Linux)
os.chmod("m", 0o6755)
c0 = times("m")[1]
tick()
os.chown("m", -1, -1)
out("chown -1 -1: setuid/setgid, ctime",
    (oct(os.stat("m").st_mode), times("m")[1] > c0))
c0 = times("md")[1]
tick()
os.chown("md", -1, -1)
out("chown -1 -1 dir: ctime moves", times("md")[1] > c0)
c0 = times("lnk")[1]
tick()
os.lchown("lnk", -1, -1)
out("lchown -1 -1 link: ctime moves", times("lnk")[1] > c0)
os.lchown("lnk", 42, 43)
st = os.lstat("lnk")
out("lchown link", (st.st_uid, st.st_gid, os.stat("lnk").st_uid))
os.mknod("fifo", 0o644 | stat.S_IFIFO)
os.mknod("cdev", 0o644 | stat.S_IFCHR, os.makedev(1, 3))
st = os.lstat("cdev")
out("mknod", (kind("fifo"), kind("cdev"), os.major(st.st_rdev),
              os.minor(st.st_rdev)))
run("mknod existing", lambda: os.mknod("fifo", 0o644 | stat.S_IFIFO))
out("access", (os.access("m", os.R_OK), os.access("missing-x", os.F_OK)))

# ---------------------------------------------------------------- names
os.mkdir("a")
os.mkdir("a/b")
put("a/file", b"A")
put("other", b"O")
run("mkdir existing", lambda: os.mkdir("a"))
run("mkdir over file", lambda: os.mkdir("other"))
run("mkdir over link", lambda: os.mkdir("lnk"))
run("rmdir nonempty", lambda: os.rmdir("a"))
run("rmdir file", lambda: os.rmdir("other"))
run("rmdir dot", lambda: os.rmdir("a/b/."))
run("unlink dir", lambda: os.unlink("a"))
run("unlink missing", lambda: os.unlink("missing-y"))
run("rename file over dir", lambda: os.rename("other", "a"))
run("rename dir over file", lambda: os.rename("a", "other"))
os.mkdir("e")
put("e/x")
run("rename dir over nonempty dir", lambda: os.rename("a/b", "e"))
run("rename dir into itself", lambda: os.rename("a", "a/b/c"))
run("rename missing", lambda: os.rename("missing-z", "zz"))
os.mkdir("empty")
run("rename dir over empty dir", lambda: (os.rename("a/b", "empty"),
                                          kind("empty"),
                                          os.path.exists("a/b"))[1:])
run("rename file over file", lambda: (os.rename("other", "a/file"),
                                      get("a/file"),
                                      os.path.exists("other"))[1:])
os.link("a/file", "hard")
run("rename hard links to each other", lambda: (os.rename("hard", "a/file"),
                                                os.path.exists("hard"),
                                                os.stat("hard").st_nlink))
put("x1", b"1")
put("x2", b"2")
run("renameat2 NOREPLACE existing",
    lambda: renameat2("x1", "x2", RENAME_NOREPLACE))
run("renameat2 NOREPLACE", lambda: (renameat2("x1", "x3", RENAME_NOREPLACE),
                                    get("x3"), os.path.exists("x1"))[1:])
run("renameat2 EXCHANGE", lambda: (renameat2("x2", "x3", RENAME_EXCHANGE),
                                   get("x2"), get("x3"))[1:])
run("renameat2 EXCHANGE missing",
    lambda: renameat2("x2", "missing-w", RENAME_EXCHANGE))
run("rename onto itself", lambda: (os.rename("x2", "x2"), get("x2"))[1])
# overlayfs's whiteout: a 0/0 character device left at the old name
run("renameat2 WHITEOUT", lambda: (renameat2("x3", "x4", RENAME_WHITEOUT),
                                   kind("x3"), os.lstat("x3").st_rdev,
                                   get("x4"))[1:])
run("renameat2 WHITEOUT|EXCHANGE",
    lambda: renameat2("x4", "x2", RENAME_WHITEOUT | RENAME_EXCHANGE))
run("renameat2 WHITEOUT|NOREPLACE existing",
    lambda: renameat2("x4", "x2", RENAME_WHITEOUT | RENAME_NOREPLACE))
run("unlink whiteout", lambda: (os.unlink("x3"), os.path.lexists("x3"))[1])

# ---------------------------------------------------------------- links
put("l", b"data")
os.link("l", "l2")
out("nlink after link", (os.stat("l").st_nlink, os.stat("l2").st_nlink))
run("link existing", lambda: os.link("l", "l2"))
run("link dir", lambda: os.link("a", "a-hard"))
run("link missing", lambda: os.link("missing-v", "v"))
fd = os.open("l2", os.O_RDWR)
os.unlink("l")
out("nlink after unlink", os.fstat(fd).st_nlink)
os.unlink("l2")
out("open unlinked: nlink", os.fstat(fd).st_nlink)
os.pwrite(fd, b"more", 4)
out("open unlinked: data", (os.pread(fd, 100, 0), os.fstat(fd).st_size))
os.ftruncate(fd, 2)
out("open unlinked: truncate", os.pread(fd, 100, 0))
os.close(fd)
run("symlink existing", lambda: os.symlink("x", "lnk"))
os.symlink("a/" * 100 + "end", "longlink")
out("readlink", (os.readlink("longlink")[-10:], os.lstat("longlink").st_size))
run("readlink file", lambda: os.readlink("f"))
os.mkdir("dlinks")
os.mkdir("dlinks/s1")
os.mkdir("dlinks/s2")
out("dir nlink", os.stat("dlinks").st_nlink)
os.rmdir("dlinks/s2")
out("dir nlink after rmdir", os.stat("dlinks").st_nlink)
os.rename("dlinks/s1", "s1moved")
out("dir nlink after rename out", os.stat("dlinks").st_nlink)

# ---------------------------------------------------------------- tmpfile
# open(O_TMPFILE): an unnamed file, then given a name by linkat(2).
AT_EMPTY_PATH, AT_SYMLINK_FOLLOW = 0x1000, 0x400


def linkat(fd, path, name, flags):
    if libc.linkat(fd, path.encode(), AT_FDCWD, name.encode(), flags) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


os.mkdir("tmpd")
fd = os.open("tmpd", os.O_TMPFILE | os.O_RDWR, 0o640)
os.write(fd, b"unnamed")
st = os.fstat(fd)
out("tmpfile", (stat.filemode(st.st_mode), st.st_nlink, st.st_size,
                os.pread(fd, 100, 0), os.listdir("tmpd")))
run("tmpfile linked", lambda: (linkat(fd, "", "tmpd/t1", AT_EMPTY_PATH),
                               get("tmpd/t1"), os.fstat(fd).st_nlink))
os.close(fd)
fd = os.open("tmpd", os.O_TMPFILE | os.O_WRONLY, 0o600)
os.write(fd, b"by /proc")
run("tmpfile linked by /proc",
    lambda: (linkat(AT_FDCWD, "/proc/self/fd/%d" % fd, "tmpd/t2",
                    AT_SYMLINK_FOLLOW), get("tmpd/t2"), kind("tmpd/t2")))
run("tmpfile read on O_WRONLY", lambda: os.pread(fd, 10, 0))
os.close(fd)
fd = os.open("tmpd", os.O_TMPFILE | os.O_RDWR | os.O_EXCL, 0o600)
run("tmpfile O_EXCL link", lambda: linkat(fd, "", "tmpd/t3", AT_EMPTY_PATH))
os.ftruncate(fd, 5000)
os.pwrite(fd, b"end", 4997)
out("tmpfile truncate", (os.fstat(fd).st_size, os.pread(fd, 8, 4995)))
os.close(fd)
run("tmpfile O_RDONLY", lambda: os.open("tmpd", os.O_TMPFILE | os.O_RDONLY))
run("tmpfile in a file", lambda: os.open("f", os.O_TMPFILE | os.O_RDWR))
out("tmpfile dir after", sorted(os.listdir("tmpd")))

# ---------------------------------------------------------------- xattrs
put("xa", b"")
try:
    os.setxattr("xa", "user.k", b"v1")
    run("getxattr", lambda: os.getxattr("xa", "user.k"))
    run("getxattr missing", lambda: os.getxattr("xa", "user.none"))
    run("setxattr CREATE existing",
        lambda: os.setxattr("xa", "user.k", b"v", os.XATTR_CREATE))
    run("setxattr REPLACE missing",
        lambda: os.setxattr("xa", "user.n", b"v", os.XATTR_REPLACE))
    run("listxattr", lambda: sorted(os.listxattr("xa")))
    run("removexattr", lambda: (os.removexattr("xa", "user.k"),
                                os.listxattr("xa"))[1])
    run("removexattr missing", lambda: os.removexattr("xa", "user.k"))
    run("big xattr", lambda: (os.setxattr("xa", "user.big", b"z" * 4000),
                              len(os.getxattr("xa", "user.big")))[1])
except OSError as e:
    out("xattrs", errno.errorcode[e.errno])

# ---------------------------------------------------------------- dirs
os.mkdir("many")
for i in range(300):
    put("many/%03d" % i)
for i in range(0, 300, 3):
    os.unlink("many/%03d" % i)
names = sorted(os.listdir("many"))
out("readdir after unlinks", (len(names), names[0], names[-1]))
with os.scandir("many") as it:
    out("scandir types", sorted({e.is_file() for e in it}))
fd = os.open("many", os.O_RDONLY | os.O_DIRECTORY)
run("read on a dir", lambda: os.read(fd, 10))
os.close(fd)
run("chdir file", lambda: os.chdir("f"))
out("statvfs", os.statvfs(".").f_namemax)
