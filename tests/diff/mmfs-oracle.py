#!/usr/bin/env python3
"""mmfs-oracle.py - runs a differential op script (stdin) on CPython's mmap
and prints the same lines as mmfs-driver.  Usage: mmfs-oracle.py FILE < script

Python exceptions become errno names by the contract at the top of
lib/mmfs.h.  Expected (documented) differences are filtered here and in the
driver:
  * resize growing a shared anonymous map: "SKIP anon-grow" on both sides
    (CPython <= 3.14 "succeeds" and dies of SIGBUS on touch).
  * resize failing after its ftruncate (CPython is not atomic): the file is
    truncated back to its old size here, as the engine never changes it.
"""
import errno
import mmap
import os
import sys
import zlib

MASK = (1 << 64) - 1
ALPHA = b"ab\ncd\x00a\xff"


def gen_byte(i, seed):
    x = (i * 0x9E3779B97F4A7C15 + seed * 0xBF58476D1CE4E5B9) & MASK
    x ^= x >> 31
    x = (x * 0x94D049BB133111EB) & MASK
    x ^= x >> 29
    return ALPHA[x % 8]


def errline(e):
    if isinstance(e, ValueError):
        name = "EBADF" if str(e) == "mmap closed or invalid" else "EINVAL"
        return "ERR %s %s" % (name, e)
    if isinstance(e, OverflowError):
        return "ERR EOVERFLOW %s" % e
    if isinstance(e, IndexError):
        return "ERR ERANGE %s" % e
    if isinstance(e, BufferError):
        return "ERR EBUSY %s" % e
    if isinstance(e, TypeError):
        s = str(e)
        if "readonly or copy-on-write" in s:
            name = "EPERM"
        elif "readonly memory map" in s:
            name = "EACCES"
        elif "support" in s and "deletion" in s:
            name = "EOPNOTSUPP"
        else:
            name = "ETYPE"
        return "ERR %s %s" % (name, s)
    if isinstance(e, OSError):
        return "ERR %s %s" % (errno.errorcode.get(e.errno, "E?"), e.strerror)
    return "ERR %s %s" % (type(e).__name__, e)


def num(s, default=None):
    if s is None:
        return default
    if s == "N":
        return None
    return int(s)


def unhex(s):
    if s is None or s == "-":
        return b""
    out = b""
    for part in s.split("+"):
        h, _, k = part.partition("*")
        out += bytes.fromhex(h) * (int(k) if k else 1)
    return out


def hexout(b):
    if not b:
        return "-"
    if len(b) * 2 + 1 > (1 << 20):
        return "len=%d crc=%08x" % (len(b), zlib.crc32(b))
    return b.hex()


class Runner:
    def __init__(self, path):
        self.path = path
        self.m = None
        self.views = []
        self.shared_anon = False
        self.access = 0
        self.prot = 3
        self.anon = False

    def drop(self):
        for v in self.views:
            v.release()
        self.views = []
        if self.m is not None:
            self.m.close()
        self.m = None
        self.shared_anon = False

    def state(self):
        m = self.m
        if m is None or m.closed:
            s = "closed"
        elif len(m) > (1 << 28):
            s = "p=%d l=%d HUGE" % (m.tell(), len(m))
        else:
            s = "p=%d l=%d c=%08x" % (m.tell(), len(m), zlib.crc32(m))
        try:
            with open(self.path, "rb") as f:
                data = f.read()
            s += " | f=%d:%08x" % (len(data), zlib.crc32(data))
        except FileNotFoundError:
            s += " | nofile"
        return s

    def open_fd(self, kind):
        p = self.path
        return {
            "rw": lambda: os.open(p, os.O_RDWR),
            "ro": lambda: os.open(p, os.O_RDONLY),
            "wo": lambda: os.open(p, os.O_WRONLY),
            "devzero": lambda: os.open("/dev/zero", os.O_RDWR),
            "dir": lambda: os.open("/", os.O_RDONLY | os.O_DIRECTORY),
            "bad": lambda: 1000,
            "neg2": lambda: -2,
        }.get(kind, lambda: -1)()

    def op(self, t):
        o = t[0]
        a = t[1:] + [None] * 8
        m = self.m
        if o == "file":
            size, seed = int(a[0]), int(a[1])
            self.drop()
            with open(self.path, "wb") as f:
                f.write(bytes(gen_byte(i, seed) for i in range(size)))
            return "OK"
        if o == "extend":
            size = int(a[0])
            if os.path.exists(self.path) and os.stat(self.path).st_size < size:
                os.truncate(self.path, size)
            return "OK"
        if o == "open":
            self.drop()
            kind = a[0]
            length, flags, prot, access, off = (int(x) for x in a[1:6])
            fd = self.open_fd(kind)
            try:
                self.m = mmap.mmap(fd, length, flags, prot, access, off)
            finally:
                if fd >= 0 and fd != 1000:
                    os.close(fd)
            if kind == "anon":
                typ = flags & 3
                self.shared_anon = access in (1, 2) or (
                    access == 0 and typ in (1, 3))
            return "OK"
        if m is None and o != "unpin":
            return "NOMAP"
        if o == "close":
            m.close()
            return "OK"
        if o == "closed":
            return str(int(m.closed))
        if o == "len":
            return str(len(m))
        if o == "size":
            return str(m.size())
        if o == "tell":
            return str(m.tell())
        if o == "seek":
            if a[1] is None:
                m.seek(int(a[0]))
            else:
                m.seek(int(a[0]), int(a[1]))
            return "OK"
        if o == "read":
            if len(t) > 1:
                return hexout(m.read(num(a[0])))
            return hexout(m.read())
        if o == "read_byte":
            return str(m.read_byte())
        if o == "readline":
            return hexout(m.readline())
        if o == "write":
            return str(m.write(unhex(a[0])))
        if o == "write_byte":
            m.write_byte(int(a[0]))
            return "OK"
        if o in ("find", "rfind"):
            f = m.find if o == "find" else m.rfind
            args = [unhex(a[0])] + [int(x) for x in t[2:4]]
            return str(f(*args))
        if o == "move":
            m.move(int(a[0]), int(a[1]), int(a[2]))
            return "OK"
        if o == "flush":
            m.flush(*[int(x) for x in t[1:3]])
            return "OK"
        if o == "madvise":
            m.madvise(*[int(x) for x in t[1:4]])
            return "OK"
        if o == "resize":
            ns = int(a[0])
            if (not m.closed and self.shared_anon and not self.views
                    and self.access_of(m) in (0, 2) and ns > len(m)
                    and ns <= (1 << 63) - 1 - self.offset):
                return "SKIP anon-grow"
            before = None
            if not self.anon and self.fdkind == "rw":
                with open(self.path, "rb") as f:
                    before = f.read()
            old = len(m) if not m.closed else 0
            try:
                m.resize(ns)
                if self.private and old < ns and self.resized:
                    # Filter "privtail": after an earlier resize the file
                    # ends at the map's end, yet CPython shows the stale
                    # bytes a private page kept past it when the map grows
                    # again; the engine (and the spec, 7.4) zero them.
                    end = min(ns, -(-old // mmap.PAGESIZE) * mmap.PAGESIZE)
                    if end > old and m[old:end] != bytes(end - old):
                        m[old:end] = bytes(end - old)
                        sys.stderr.write("FILTER privtail\n")
                self.resized = True
            except OSError:
                # Filter: CPython's ftruncate-then-mremap is not atomic;
                # put the file back as it was (the engine never changes it).
                if before is not None:
                    with open(self.path, "rb") as f:
                        now = f.read()
                    if now != before:
                        fd = os.open(self.path, os.O_RDWR)
                        os.ftruncate(fd, len(before))
                        os.pwrite(fd, before, 0)
                        os.close(fd)
                        sys.stderr.write("FILTER undo-nonatomic-resize\n")
                        if self.private:
                            # the truncation also dropped the private
                            # map's own pages: nothing left to compare
                            sys.stderr.write("FILTER-STOP\n")
                            sys.stderr.flush()
                            os._exit(0)
                raise
            return "OK"
        if o == "getitem":
            return str(m[int(a[0])])
        if o == "setitem":
            m[int(a[0])] = int(a[1])
            return "OK"
        if o == "delitem":
            del m[int(a[0])]
            return "OK"
        if o == "getslice":
            return hexout(m[slice(num(a[0]), num(a[1]), num(a[2]))])
        if o == "setslice":
            m[slice(num(a[0]), num(a[1]), num(a[2]))] = unhex(a[3])
            return "OK"
        if o == "setslicefit":
            sl = slice(num(a[0]), num(a[1]), num(a[2]))
            try:
                n = len(range(*sl.indices(len(m))))
            except (ValueError, TypeError):
                n = 0
            seed = int(a[3])
            m[sl] = bytes(((k * 13 + seed) & 255) for k in range(n))
            return "OK"
        if o == "delslice":
            del m[slice(num(a[0]), num(a[1]), num(a[2]))]
            return "OK"
        if o == "pin":
            self.views.append(memoryview(m))
            return "OK"
        if o == "unpin":
            if self.views:
                self.views.pop().release()
            return "OK"
        return "BADOP " + o

    def access_of(self, m):
        return self.access

    def run_line(self, t):
        if t[0] == "open":
            # remember what the resize filter needs
            self.fdkind = t[1]
            self.anon = t[1] == "anon"
            flags, prot, access = int(t[3]), int(t[4]), int(t[5])
            self.offset = int(t[6])
            self.private = access == 3 or (access == 0 and flags & 3 == 2)
            if access == 0:
                if (prot & 3) == 3:
                    access = 0
                elif prot & 2:
                    access = 2
                else:
                    access = 1
            self.access = access
            self.resized = False  # the length came from a resize
        try:
            res = self.op(t)
        except Exception as e:  # noqa: BLE001
            res = errline(e)
            if t[0] == "open":
                self.m = None
        return res + " | " + self.state()


def main():
    r = Runner(sys.argv[1])
    r.fdkind = None
    r.offset = 0
    out = sys.stdout
    for line in sys.stdin:
        t = line.split()
        if not t or t[0].startswith("#"):
            continue
        out.write(r.run_line(t) + "\n")
        out.flush()
    r.drop()


if __name__ == "__main__":
    main()
