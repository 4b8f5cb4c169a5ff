#!/usr/bin/env python3
"""ioctl-diff.py - the file calls and ioctls of an mmapfs mount against
CPython's mmap, op by op.

usage: ioctl-diff.py DAEMON BASE KIND NSEQ SEED
KIND: default, never (cache=never), writeback, read (access=read), copy
(access=copy), anon (-o anon: no BACKING, files are made through it).
Mounts DAEMON over BASE/bk_KIND at BASE/mnt_KIND and runs NSEQ random
sequences, each on a new file: pwrite, pread, ftruncate,
fsync, reopen, and the FIND, RFIND, MOVE, MADVISE, FLUSH and INFO ioctls
with edge values, plus malformed payloads.  Each op runs on the mount and
on a mmap.mmap of the same bytes in BASE/native_KIND (the access mode the
mount's), and its result (value or errno) must agree; after each op the
file's bytes and size must too, and on write mounts BACKING must hold the
native file's bytes after the close.  Where CPython has no answer, the
documented model stands in (mmapfs(1), mmapfsctl(1), <mmapfs.h>): writes
grow the file, an empty file has no map, a copy mount's resized bytes
live in anonymous memory, advice 100-103 is EPERM after Python's range
checks.  Prints a JSON summary; exit status 1 on any mismatch or if the
daemon died.
"""
import errno, fcntl, mmap, os, random, struct, subprocess, sys, time, json

BASE = DAEMON = None  # from the command line
PAGE = mmap.PAGESIZE
I64MIN, I64MAX = -(1 << 63), (1 << 63) - 1
NEEDLE_MAX = 4096
DEF_LEN, DEF_SIZE = 0x1, 0x2

def IOC(d, nr, size):
    return (d << 30) | (size << 16) | (0xB7 << 8) | nr
W, R, RW = 1, 2, 3
IOC_MADVISE = IOC(W, 1, 24)
IOC_FIND = IOC(RW, 2, 4128)
IOC_RFIND = IOC(RW, 3, 4128)
IOC_MOVE = IOC(W, 4, 24)
IOC_FLUSH = IOC(W, 5, 24)
IOC_INFO = IOC(R, 6, 48)
IOC_STATS = IOC(R, 7, 64)
assert (IOC_MADVISE, IOC_FIND, IOC_RFIND, IOC_MOVE, IOC_FLUSH, IOC_INFO, IOC_STATS) == \
    (0x4018b701, 0xd020b702, 0xd020b703, 0x4018b704, 0x4018b705, 0x8030b706, 0x8040b707)

KINDS = {
    'default': ('write', []),
    'never': ('write', ['-o', 'cache=never']),
    'writeback': ('write', ['-o', 'writeback']),
    'read': ('read', ['-o', 'access=read']),
    'copy': ('copy', ['-o', 'access=copy']),
    'anon': ('write', ['-o', 'anon']),  # no BACKING: files in memory
}
ACC = {'write': mmap.ACCESS_WRITE, 'read': mmap.ACCESS_READ, 'copy': mmap.ACCESS_COPY}
ACCNUM = {'write': 2, 'read': 1, 'copy': 3}

def pyerr(e):
    if isinstance(e, OSError):
        return e.errno
    if isinstance(e, OverflowError):
        return errno.EOVERFLOW
    if isinstance(e, ValueError):
        return errno.EINVAL
    if isinstance(e, IndexError):
        return errno.ERANGE
    if isinstance(e, TypeError):
        return errno.EACCES
    raise e

def run(f):
    try:
        return ('ok', f())
    except (OSError, ValueError, OverflowError, IndexError, TypeError) as e:
        return ('err', errno.errorcode.get(pyerr(e), pyerr(e)))

def E(name):
    return ('err', name)

def changes_bytes(mode, advice):
    return advice in (9, 23) or (mode == 'copy' and advice in (4, 8, 24))

NOTES = {}
HUGE = 1 << 48  # beyond what any mapping can hold (and ext4's 16 TiB)


class Ref:
    """CPython side: a real mmap.mmap, plus the documented model where CPython
    has no answer (empty file: no map can exist; copy-mode growth)."""

    def __init__(self, mode, path, content):
        self.mode = mode
        with open(path, 'wb') as f:
            f.write(content)
        self.fd = os.open(path, os.O_RDONLY if mode == 'read' else os.O_RDWR)
        self.m = mmap.mmap(self.fd, 0, access=ACC[mode]) if content else None
        self.anon = False  # copy mode: bytes moved to anonymous memory
        self.anon_mount = False  # -o anon: info says anonymous

    def close(self):
        if self.m is not None:
            self.m.close()
        os.close(self.fd)

    def size(self):
        return len(self.m) if self.m is not None else 0

    def content(self):
        return self.m[:] if self.m is not None else b''

    def _resize(self, n):
        if self.mode == 'write':
            if n == 0:  # documented: empty files are unmapped
                os.ftruncate(self.fd, 0)
                if self.m is not None:
                    self.m.close()
                self.m = None
            elif self.m is None:
                os.ftruncate(self.fd, n)
                self.m = mmap.mmap(self.fd, 0, access=mmap.ACCESS_WRITE)
            else:
                try:
                    self.m.resize(n)
                except OSError as e:
                    # CPython's resize = ftruncate, then mremap; mremap fails
                    # EFAULT once a madvise split the VMA.  Count it, then do
                    # what resize means: remap the (already resized) file.
                    if e.errno != errno.EFAULT:
                        raise
                    NOTES['cpython resize EFAULT after VMA split (remapped)'] = NOTES.get('cpython resize EFAULT after VMA split (remapped)', 0) + 1
                    os.ftruncate(self.fd, n)
                    self.m.close()
                    self.m = mmap.mmap(self.fd, 0, access=mmap.ACCESS_WRITE)
        else:  # copy: documented, bytes move into anonymous shared memory
            if n == self.size():
                return
            old = self.content()
            nm = None
            if n > 0:
                nm = mmap.mmap(-1, n)
                k = min(n, len(old))
                nm[:k] = old[:k]
            if self.m is not None:
                self.m.close()
            self.m = nm
            self.anon = True

    def pwrite(self, data, off):
        if self.mode == 'read':
            return run(lambda: os.pwrite(self.fd, data, off))
        if off < 0:
            return E('EINVAL')
        if not data:
            return ('ok', 0)
        end = off + len(data)
        if end > I64MAX:
            return E('EINVAL')
        if end >= HUGE:
            return E('EFBIG')

        def f():
            if end > self.size():
                self._resize(end)
            self.m[off:end] = data
            return len(data)
        return run(f)

    def pread(self, n, off):
        if off < 0:
            return E('EINVAL')
        return ('ok', self.content()[off:off + n])

    def ftruncate(self, n):
        if self.mode == 'read':
            return run(lambda: os.ftruncate(self.fd, n))
        if n < 0:
            return E('EINVAL')
        if n >= HUGE:
            return E('EFBIG')
        return run(lambda: self._resize(n))

    def fsync(self):
        def f():
            if self.m is not None and self.mode == 'write':
                self.m.flush()
            return None
        return run(f)

    def find(self, rev, needle, start, end, nlen, flags):
        if nlen > NEEDLE_MAX or flags != 0:
            return E('EINVAL')  # header: needle too long / flags must be 0
        if self.m is None:  # model of a 0-length map (CPython: no map)
            n = 0
            s = start + n if start < 0 else start
            e = end + n if end < 0 else end
            s = min(max(s, 0), n)
            e = min(max(e, 0), n)
            if e < s:
                return ('ok', -1)
            return ('ok', (e if rev else s) if not needle else -1)
        fn = self.m.rfind if rev else self.m.find
        return run(lambda: fn(needle, start, end))

    def move(self, dest, src, count):
        if self.mode == 'read':
            return E('EACCES')
        if self.m is None:
            if dest < 0 or src < 0 or count < 0 or count > 0 - dest or count > 0 - src:
                return E('EINVAL')
            return ('ok', None)
        return run(lambda: self.m.move(dest, src, count))

    def madvise(self, advice, start, length, flags):
        if self.mode == 'read' and changes_bytes(self.mode, advice):
            return E('EACCES')  # mmapfsctl.1: needs a writable handle
        if flags & ~DEF_LEN:
            return E('EINVAL')
        if self.m is None:
            return E('EINVAL')  # start out of bounds of an empty map
        if advice in (100, 101, 102, 103):
            # <mmapfs.h>: would harm the daemon, never run here; Python's
            # range checks come first
            n = len(self.m)
            if flags & DEF_LEN:
                length = n - start if 0 <= start <= n else 0
            if start < 0 or start >= n or length < 0:
                return E('EINVAL')
            if I64MAX - start < length:
                return E('EOVERFLOW')
            return E('EPERM')
        if flags & DEF_LEN:
            return run(lambda: self.m.madvise(advice, start))
        return run(lambda: self.m.madvise(advice, start, length))

    def flush(self, offset, size, flags, dflt_py311=True):
        if flags & ~DEF_SIZE:
            return E('EINVAL')
        n = self.size()
        if self.m is None or self.anon:
            if flags & DEF_SIZE:
                size = n if dflt_py311 else n - offset
            if size < 0 or offset < 0 or offset + size > n:
                return E('EINVAL')
            return ('ok', None)
        if flags & DEF_SIZE:
            if dflt_py311:
                return run(lambda: self.m.flush(offset))
            if offset < 0 or offset > n:
                return E('EINVAL')
            return run(lambda: self.m.flush(offset, n - offset))
        return run(lambda: self.m.flush(offset, size))

    def info(self):
        n = self.size()
        an = self.anon and n > 0
        anonymous = an or self.anon_mount  # mmapfs(1): said of -o anon
        flags = {'write': 1, 'read': 1, 'copy': 33 if an else 2}[self.mode]
        return ('ok', dict(length=n, file_size=n, offset=0,
                           access=ACCNUM[self.mode], page_size=PAGE,
                           mapped=int(n > 0), flags=flags,
                           prot=1 if self.mode == 'read' else 3,
                           anonymous=int(anonymous)))

    def reopen(self):
        return ('ok', None)


class Mnt:
    def __init__(self, mode, path):
        self.mode = mode
        self.path = path
        self.fd = os.open(path, os.O_RDONLY if mode == 'read' else os.O_RDWR)

    def close(self):
        os.close(self.fd)

    def ioctl(self, cmd, payload, outlen=None):
        buf = bytearray(payload if payload is not None else bytes(outlen))
        r = fcntl.ioctl(self.fd, cmd, buf, True)
        return r, bytes(buf)

    def pwrite(self, data, off):
        return run(lambda: os.pwrite(self.fd, data, off))

    def pread(self, n, off):
        return run(lambda: os.pread(self.fd, n, off))

    def ftruncate(self, n):
        return run(lambda: os.ftruncate(self.fd, n))

    def fsync(self):
        return run(lambda: os.fsync(self.fd))

    def find(self, rev, needle, start, end, nlen, flags):
        p = struct.pack('<qqqII4096s', start, end, -7, nlen & 0xffffffff,
                        flags, needle)

        def f():
            r, out = self.ioctl(IOC_RFIND if rev else IOC_FIND, p)
            return struct.unpack_from('<q', out, 16)[0]
        return run(f)

    def move(self, dest, src, count):
        return run(lambda: (self.ioctl(IOC_MOVE, struct.pack('<qqq', dest, src, count)), None)[1])

    def madvise(self, advice, start, length, flags):
        p = struct.pack('<iIqq', advice, flags, start, length)
        return run(lambda: (self.ioctl(IOC_MADVISE, p), None)[1])

    def flush(self, offset, size, flags):
        p = struct.pack('<qqII', offset, size, flags, 0)
        return run(lambda: (self.ioctl(IOC_FLUSH, p), None)[1])

    def info_raw(self):
        def f():
            r, out = self.ioctl(IOC_INFO, None, 48)
            k = ('length', 'file_size', 'offset', 'access', 'flags', 'prot',
                 'page_size', 'mapped', 'anonymous')
            return dict(zip(k, struct.unpack('<QQqIIIIII', out)))
        return run(f)

    def info(self):
        return self.info_raw()

    def reopen(self):
        os.close(self.fd)
        self.fd = os.open(self.path, os.O_RDONLY if self.mode == 'read' else os.O_RDWR)
        return ('ok', None)

    def whole(self):
        chunks, off = [], 0
        while True:
            b = os.pread(self.fd, 1 << 20, off)
            if not b:
                break
            chunks.append(b)
            off += len(b)
        return b''.join(chunks)


# ---------------------------------------------------------------- generators

def wrap(v):
    return (v + (1 << 63)) % (1 << 64) - (1 << 63)


def edge_i64(rng, n):
    c = [0, 1, -1, n, n - 1, n + 1, -n, -n - 1, I64MIN, I64MAX, I64MAX - 1,
         I64MIN + 1, PAGE, -PAGE, PAGE - 1, PAGE + 1, 2 * PAGE, n // 2,
         1 << 32, -(1 << 32), (1 << 31), (1 << 31) - 1]
    if rng.random() < 0.5:
        return rng.choice(c)
    return rng.randint(-n - 10, 2 * n + 10)


def gen_op(rng, mode, n, content, writeback):
    rng.random()  # kept: the sequences of a seed stay as they were
    ops = ['pwrite'] * 14 + ['pread'] * 5 + ['ftruncate'] * 6 + ['fsync'] * 2 + \
        ['find'] * 10 + ['rfind'] * 10 + ['move'] * 8 + ['madvise'] * 8 + \
        ['flush'] * 8 + ['info'] * 3 + ['bad'] * 2 + ['reopen'] * 2
    op = rng.choice(ops)
    if op == 'pwrite':
        k = rng.random()
        if k < 0.05:
            off = rng.choice([-1, -PAGE, I64MIN])
        elif k < 0.08 and not writeback:
            off = rng.choice([HUGE, 1 << 50, I64MAX - 3, I64MAX])
        elif k < 0.4:
            off = rng.choice([0, n, max(n - 1, 0), n + 1, PAGE, PAGE - 1, 2 * PAGE + 5, n + PAGE])
        else:
            off = rng.randint(0, n + 2 * PAGE)
        ln = rng.choice([0, 1, 2, rng.randint(1, 64), rng.randint(1, 600), rng.randint(1, 9000)])
        if n > 40000 and off >= 0 and off < HUGE:
            off = rng.randint(0, n)
            ln = min(ln, 100)
        data = rng.randbytes(ln) if rng.random() < 0.6 else bytes([rng.choice(b'ab\0')]) * ln
        return ('pwrite', data, off)
    if op == 'pread':
        off = rng.choice([0, n, n + 5, rng.randint(0, n + 10), -1])
        return ('pread', rng.choice([0, 1, 100, n + 10, 5000]), off)
    if op == 'ftruncate':
        k = rng.random()
        if k < 0.04:
            v = rng.choice([-1, I64MIN])
        elif k < 0.07:
            v = rng.choice([HUGE, I64MAX])
        else:
            v = rng.choice([0, 0, 1, n, n + 1, max(n - 1, 0), PAGE, PAGE + 1, 3 * PAGE - 1,
                            rng.randint(0, n + 1), rng.randint(0, 3 * PAGE)])
        if n > 40000:
            v = rng.randint(0, PAGE * 2)
        return ('ftruncate', v)
    if op == 'fsync':
        return ('fsync',)
    if op in ('find', 'rfind'):
        k = rng.random()
        if k < 0.15:
            needle = b''
        elif k < 0.55 and n:
            a = rng.randint(0, n - 1)
            needle = content[a:a + rng.randint(1, 8)]
        elif k < 0.65:
            needle = content[:] if n <= NEEDLE_MAX else content[:NEEDLE_MAX]
        elif k < 0.72:
            needle = bytes(rng.choice([b'a', b'\0'])) * rng.choice([n, n + 1, NEEDLE_MAX])
            needle = needle[:NEEDLE_MAX]
        elif k < 0.78:
            needle = rng.randbytes(NEEDLE_MAX)
        else:
            needle = rng.randbytes(rng.randint(1, 3))
        nlen, flags = len(needle), 0
        b = rng.random()
        if b < 0.04:
            nlen = rng.choice([NEEDLE_MAX + 1, 0xffffffff, 1 << 31])
        elif b < 0.07:
            flags = rng.choice([1, 2, 0x80000000])
        start = edge_i64(rng, n) if rng.random() < 0.7 else 0
        end = edge_i64(rng, n) if rng.random() < 0.6 else I64MAX
        return (op, needle, start, end, nlen, flags)
    if op == 'move':
        if rng.random() < 0.5 and n:
            cnt = rng.randint(0, n)
            return ('move', rng.randint(0, n - cnt), rng.randint(0, n - cnt), cnt)
        return ('move', edge_i64(rng, n), edge_i64(rng, n), edge_i64(rng, n))
    if op == 'madvise':
        adv = rng.choice([0, 1, 2, 3, 4, 4, 8, 9, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                          19, 20, 21, 22, 23, 24, 25, 5, 6, 7, 26, 99, 100, 101, 102,
                          103, 104, 200, -1, 0x7fffffff, -0x80000000])
        start = rng.choice([0, 0, PAGE, 2 * PAGE, n, (n // PAGE) * PAGE]) if rng.random() < 0.6 else edge_i64(rng, n)
        length = edge_i64(rng, n) if rng.random() < 0.7 else rng.choice([0, 1, PAGE, n])
        flags = DEF_LEN if rng.random() < 0.3 else 0
        if rng.random() < 0.04:
            flags |= rng.choice([2, 4, 0x80000000])
        return ('madvise', adv, start, length, flags)
    if op == 'flush':
        off = rng.choice([0, 0, PAGE, 2 * PAGE, n, 1, -1, -PAGE, (n // PAGE) * PAGE]) if rng.random() < 0.7 else edge_i64(rng, n)
        size = edge_i64(rng, n) if rng.random() < 0.6 else rng.choice([0, n, wrap(n - off), 1])
        flags = DEF_SIZE if rng.random() < 0.3 else 0
        if rng.random() < 0.04:
            flags |= rng.choice([1, 4, 0x80000000])
        return ('flush', off, size, flags)
    if op == 'info':
        return ('info',)
    if op == 'reopen':
        return ('reopen',)
    return ('bad', rng.choice(['nr8', 'madvise16', 'find_dirR', 'info_dirW', 'stats']))


def do_bad(mnt, which):
    cmd = {'nr8': (IOC(W, 8, 24), 24), 'madvise16': (IOC(W, 1, 16), 16),
           'find_dirR': (IOC(R, 2, 4128), 4128), 'info_dirW': (IOC(W, 6, 48), 48),
           'stats': (IOC_STATS, 64)}[which]

    def f():
        r, out = mnt.ioctl(cmd[0], bytes(cmd[1]))
        return 'stats-ok' if which == 'stats' else r
    return run(f)


BAD_EXPECT = {'nr8': E('ENOTTY'), 'madvise16': E('EINVAL'),
              'find_dirR': E('EINVAL'), 'info_dirW': E('EINVAL'),
              'stats': ('ok', 'stats-ok')}


def apply(obj, op):
    name = op[0]
    if name in ('find', 'rfind'):
        return obj.find(name == 'rfind', *op[1:])
    return getattr(obj, name)(*op[1:])


def short(op):
    out = []
    for a in op:
        if isinstance(a, (bytes, bytearray)):
            out.append('bytes[%d]' % len(a) if len(a) > 12 else repr(bytes(a)))
        else:
            out.append(repr(a))
    return '(' + ', '.join(out) + ')'


def signature(op, exp, got):
    name = op[0]
    def cls(r):
        if r[0] == 'err':
            return r[1]
        if name in ('find', 'rfind'):
            return 'found' if r[1] >= 0 else '-1'
        return 'ok'
    extra = ''
    if name == 'madvise':
        extra = ' adv=%d flags=%d' % (op[1], op[4])
    if name == 'flush':
        extra = ' flags=%d' % op[3]
    if name == 'bad':
        extra = ' ' + op[1]
    if name == 'info' and exp[0] == got[0] == 'ok':
        extra = ' keys=' + ','.join(k for k in exp[1] if exp[1][k] != got[1][k])
    return '%s%s: mount=%s cpython=%s' % (name, extra, cls(got), cls(exp))


class Stats:
    def __init__(self):
        self.seq = self.ops = self.clean_seq = 0
        self.mis = {}  # sig -> [count, first repro]

    def add(self, sig, repro):
        e = self.mis.setdefault(sig, [0, repro])
        e[0] += 1


def mount(kind):
    mode, opts = KINDS[kind]
    bk = '%s/bk_%s' % (BASE, kind)
    mnt = '%s/mnt_%s' % (BASE, kind)
    os.makedirs(bk, exist_ok=True)
    os.makedirs(mnt, exist_ok=True)
    subprocess.run([DAEMON] + opts + ([mnt] if kind == 'anon' else [bk, mnt]),
                   check=True)
    for _ in range(50):
        if os.path.ismount(mnt):
            break
        time.sleep(0.1)
    return mode, bk, mnt


def daemon_alive(mnt):
    r = subprocess.run(['pgrep', '-f', 'src/mmapfs .*%s$' % mnt], capture_output=True)
    return r.returncode == 0


def main():
    global BASE, DAEMON
    DAEMON, BASE = sys.argv[1], sys.argv[2]
    kind, nseq, seed = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    writeback = kind == 'writeback'
    mode, bk, mntdir = mount(kind)
    src = mntdir if kind == 'anon' else bk  # where files are made, checked
    nat = '%s/native_%s' % (BASE, kind)
    os.makedirs(nat, exist_ok=True)
    st = Stats()
    t0 = time.time()
    mnt = None
    try:
        for s in range(nseq):
            rng = random.Random(seed * 1000003 + s)
            n0 = rng.choice([0, 0, 1, 10, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE + 7, rng.randint(1, 3 * PAGE)])
            content = rng.randbytes(n0) if rng.random() < 0.5 else bytes(rng.choice(b'ab\0') for _ in range(n0))
            fname = 'f_%d_%d' % (seed, s)
            with open('%s/%s' % (src, fname), 'wb') as f:
                f.write(content)
            ref = Ref(mode, '%s/%s' % (nat, fname), content)
            ref.anon_mount = kind == 'anon'
            mnt = Mnt(mode, '%s/%s' % (mntdir, fname))
            hist = []
            clean = True
            nops = rng.randint(5, 60)
            for i in range(nops):
                cur = ref.content()
                op = gen_op(rng, mode, len(cur), cur, writeback)
                hist.append(op)
                if op[0] == 'bad':
                    exp = BAD_EXPECT[op[1]]
                    got = do_bad(mnt, op[1])
                else:
                    if op[0] == 'flush' and op[3] & DEF_SIZE:
                        exp311 = ref.flush(*op[1:], dflt_py311=True)
                        exp = ref.flush(*op[1:], dflt_py311=False)  # header: size = to the end
                        if exp311 != exp:
                            k = 'flush DEFAULT_SIZE: header semantics %s, CPython 3.11 m.flush(off) %s' % (exp[0] if exp[0] == 'ok' else exp[1], exp311[0] if exp311[0] == 'ok' else exp311[1])
                            NOTES[k] = NOTES.get(k, 0) + 1
                    else:
                        exp = apply(ref, op)
                    got = apply(mnt, op)
                st.ops += 1
                repro = 'kind=%s seed=%d seq=%d init_len=%d ops=%s' % (
                    kind, seed, s, n0, ' ; '.join(short(o) for o in hist[-6:]))
                if exp != got:
                    clean = False
                    sig = signature(op, exp, got)
                    st.add(sig, repro + ' || mount=%r cpython=%r' % (
                        got if op[0] != 'pread' else (got[0], len(got[1]) if got[0] == 'ok' else got[1]),
                        exp if op[0] != 'pread' else (exp[0], len(exp[1]) if exp[0] == 'ok' else exp[1])))
                # whole-state comparison
                want = ref.content()
                try:
                    have = mnt.whole()
                    fsz = os.fstat(mnt.fd).st_size
                except OSError as e:
                    have, fsz = ('ERR', e.errno), -1
                if have != want or fsz != len(want):
                    clean = False
                    first = next((j for j in range(min(len(have), len(want))) if have[j] != want[j]), None) if isinstance(have, bytes) else None
                    st.add('STATE after %s: content/size differ' % op[0],
                           repro + ' || mount len=%s fstat=%d cpython len=%d firstdiff=%s' % (
                               len(have) if isinstance(have, bytes) else have, fsz, len(want), first))
                    break  # diverged
            ref_final = ref.content()
            mnt.close()
            ref.close()
            # write mounts: the backing file must hold what CPython's file holds
            if mode == 'write' and clean:
                with open('%s/%s' % (src, fname), 'rb') as f:
                    b = f.read()
                with open('%s/%s' % (nat, fname), 'rb') as f:
                    nb = f.read()
                if b != nb:
                    clean = False
                    st.add('BACKING after close differs from native file', 'kind=%s seed=%d seq=%d len %d vs %d' % (kind, seed, s, len(b), len(nb)))
            os.unlink('%s/%s' % (nat, fname))
            if mode != 'copy':
                os.unlink('%s/%s' % (src, fname))
            st.seq += 1
            st.clean_seq += clean
            if not daemon_alive(mntdir):
                st.add('DAEMON DIED', 'kind=%s seed=%d seq=%d' % (kind, seed, s))
                break
    finally:
        try:
            mnt.close()
        except Exception:
            pass
        subprocess.run(['fusermount3', '-u', mntdir])
        if mode == 'copy':
            for f in os.listdir(bk):
                os.unlink(os.path.join(bk, f))
    res = dict(kind=kind, seed=seed, seqs=st.seq, clean_seqs=st.clean_seq, ops=st.ops,
               secs=round(time.time() - t0, 1), notes=NOTES,
               mismatches={k: v for k, v in sorted(st.mis.items(), key=lambda x: -x[1][0])})
    print(json.dumps(res, indent=1))
    return 1 if st.mis else 0


if __name__ == '__main__':
    sys.exit(main())
