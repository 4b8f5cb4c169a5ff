# tests/integration/posix-random.py SEED N NATIVE MOUNT - the same random
# sequence of N namespace and data calls (create, mkdir, rename, link,
# unlink, rmdir, symlink, truncate, chmod, writes through new and held
# descriptors, reads, utime, readdir, unnamed files made with O_TMPFILE
# and named by linkat) in the directories NATIVE and MOUNT.
# Each call's outcome (its result or errno) must be the same in both, and
# every 50 calls so must every name's type, mode, link count, size, bytes,
# link target and directory listing.  Exits 1 at the first difference,
# after printing it; prints "ok N" at the end.
import ctypes
import os
import random
import stat
import sys

NAMES = ["a", "b", "c", "d", "d/e", "d/f", "d/h", "g", "g/i"]
CALLS = 18
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, AT_SYMLINK_FOLLOW = -100, 0x400


def outcome(fn):
    try:
        return ("ok", fn())
    except OSError as e:
        return ("err", e.errno)


def view(root, name):
    p = os.path.join(root, name)
    try:
        st = os.lstat(p)
    except OSError as e:
        return ("none", e.errno)
    v = [stat.S_IFMT(st.st_mode), oct(stat.S_IMODE(st.st_mode)), st.st_nlink]
    if stat.S_ISREG(st.st_mode):
        with open(p, "rb") as f:
            v += [st.st_size, f.read()]
    elif stat.S_ISLNK(st.st_mode):
        v.append(os.readlink(p))
    elif stat.S_ISDIR(st.st_mode):
        v.append(sorted(os.listdir(p)))
    return tuple(v)


class Side:
    def __init__(self, root, seed):
        self.root = root
        self.rnd = random.Random(seed)
        self.fds = []

    def path(self, name):
        return os.path.join(self.root, name)

    def held(self, off):
        return self.fds[off % len(self.fds)] if self.fds else None

    def step(self):
        """One random call; returns (what, outcome)."""
        r = self.rnd
        k = r.randrange(CALLS)
        x, y = self.path(r.choice(NAMES)), self.path(r.choice(NAMES))
        mode = r.choice([0o644, 0o600, 0o755, 0o4755])
        data = bytes([r.randrange(256)]) * r.randrange(1, 100)
        off = r.randrange(200)
        flag = r.random() < 0.4
        what = (k, x[len(self.root):], y[len(self.root):], mode, off, flag)
        fd = self.held(off)

        def create():
            excl = os.O_EXCL if flag else 0
            os.close(os.open(x, os.O_CREAT | os.O_WRONLY | excl, mode))

        def write_new():
            f = os.open(x, os.O_WRONLY | (os.O_APPEND if flag else 0))
            try:
                return os.pwrite(f, data, off)
            finally:
                os.close(f)

        def hold():
            self.fds.append(os.open(x, os.O_RDWR))
            return len(self.fds)

        def read_held():
            if fd is None:
                return None
            st = os.fstat(fd)
            return os.pread(fd, 300, 0), st.st_size, st.st_nlink

        def truncate_held():
            if fd is None:
                return None
            os.ftruncate(fd, off // 2)
            return os.fstat(fd).st_size

        def tmpfile():
            f = os.open(x, os.O_TMPFILE | os.O_RDWR, mode & 0o777)
            os.pwrite(f, data, off)
            self.fds.append(f)
            if flag and libc.linkat(AT_FDCWD,
                                    ("/proc/self/fd/%d" % f).encode(),
                                    AT_FDCWD, y.encode(),
                                    AT_SYMLINK_FOLLOW) < 0:
                return "link", ctypes.get_errno()
            return os.fstat(f).st_nlink

        def utime():
            os.utime(x, ns=(off * 10**9, (off + 1) * 10**9))
            st = os.stat(x)
            return st.st_atime_ns, st.st_mtime_ns

        calls = [
            create,
            lambda: os.mkdir(x, mode),
            lambda: os.rename(x, y),
            lambda: os.link(x, y),
            lambda: os.unlink(x),
            lambda: os.rmdir(x),
            # targets inside the directory (a link in d to "d/e" dangles)
            lambda: os.symlink(r.choice(["a", "d", "x", "d/e", "zz"]), x),
            lambda: os.truncate(x, off),
            lambda: os.chmod(x, mode),
            write_new,
            lambda: view(self.root, x[len(self.root) + 1:]),
            lambda: sorted(os.listdir(x)),
            hold,
            lambda: None if fd is None else os.pwrite(fd, data, off),
            read_held,
            utime,
            truncate_held,
            tmpfile,
        ]
        return what, outcome(calls[k])


def main():
    seed, n, native, mount = (int(sys.argv[1]), int(sys.argv[2]),
                              sys.argv[3], sys.argv[4])
    a, b = Side(native, seed), Side(mount, seed)
    for i in range(n):
        what, want = a.step()
        _, got = b.step()
        if want != got:
            print("call %d %s: native %r, mount %r" % (i, what, want, got))
            return 1
        if i % 50 == 49 or i == n - 1:
            for name in NAMES:
                want, got = view(native, name), view(mount, name)
                if want != got:
                    print("after call %d, %s: native %r, mount %r"
                          % (i, name, want, got))
                    return 1
    print("ok %d" % n)
    return 0


sys.exit(main())
