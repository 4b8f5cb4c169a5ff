/*
 * ops.c - fsx's operations.  Each draws its arguments from the seeded
 * stream, applies itself to the target and to the model, records itself in
 * f->cur for the report, and checks what the target returned: the bytes,
 * the count, the errno.  Ops the target cannot do (EOPNOTSUPP) are
 * switched off once; ops with nothing to do (a mapping of an empty file)
 * are recorded as skipped.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fsx.h"
#include "mmapfs.h"
#include "mmfs.h"

static unsigned char needle[MMAPFS_NEEDLE_MAX + 1];
static unsigned char rneedle[MMAPFS_NEEDLE_MAX + 1];

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Data for a write: random bytes, a small alphabet (so that searches find
 * near misses), a pattern tagged with the op number, or a run of one byte
 * (long runs of equal bytes are the hard case for a search). */
static void fill(struct fsx *f, unsigned char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;
	int mode = fsx_rnd(f, 4);

	f->cur->sub = mode;
	switch (mode) {
	case 0:
		for (i = 0; i < n; i++) {
			if (i % 8 == 0)
				v = fsx_rnd64(f);
			p[i] = v >> (i % 8 * 8);
		}
		break;
	case 1:
		for (i = 0; i < n; i++) {
			if (i % 32 == 0)
				v = fsx_rnd64(f);
			p[i] = "abcd"[(v >> (i % 32 * 2)) & 3];
		}
		break;
	case 2:
		for (i = 0; i < n; i++)
			p[i] = f->num * 31 + i % 253;
		break;
	default:
		memset(p, fsx_rnd(f, 2) ? (int)(f->num & 0xff) : 0, n);
		break;
	}
}

void fsx_model_resize(struct fsx *f, uint64_t size)
{
	if (size < f->size)
		memset(f->model + size, 0, f->size - size);
	f->size = size;
}

static void expect_ok(struct fsx *f, int ret, const char *call)
{
	f->cur->result = ret;
	if (ret < 0)
		fsx_fail(f, "%s: %s (%s)", call, strerror(-ret),
			 f->t.engine ? mmfs_errmsg() : "");
}

static void expect_err(struct fsx *f, int ret, int err, const char *call)
{
	f->cur->result = ret;
	if (ret != -err)
		fsx_fail(f, "%s returned %d (%s), expected -%s", call, ret,
			 ret < 0 ? strerror(-ret) : "success",
			 strerror(err));
}

static void op_read(struct fsx *f)
{
	uint64_t off, len, expect;
	ssize_t n;

	if (fsx_rnd(f, 8) == 0)
		off = f->size + fsx_rnd(f, f->maxop);
	else
		off = fsx_pick_off(f, f->size + 1);
	len = fsx_pick_len(f, f->maxop);
	expect = off >= f->size ? 0 : min64(len, f->size - off);
	f->cur->a = off;
	f->cur->b = len;
	memset(f->buf, 0xa5, len + 1);
	if (f->t.engine && f->t.map != NULL && fsx_rnd(f, 4) == 0) {
		/* m[off:off+len], Python's slice, on the same bytes. */
		f->cur->sub = 1;
		n = mmfs_getslice(f->t.map, off, off + len, 1, f->buf,
				  len + 1);
	} else {
		n = tgt_pread(f, f->buf, len, off);
	}
	f->cur->result = n;
	if (n < 0)
		fsx_fail(f, "read: %s", strerror(-n));
	if ((uint64_t)n != expect)
		fsx_fail(f, "read returned %zd bytes, expected %llu", n,
			 (unsigned long long)expect);
	if (f->buf[n] != 0xa5)
		fsx_fail(f, "read wrote past the %zd bytes it returned", n);
	fsx_check_bytes(f, "read", off, f->buf, n);
}

static void op_write(struct fsx *f)
{
	uint64_t off, len;
	ssize_t n;

	off = fsx_pick_off(f, f->maxlen);
	len = min64(fsx_pick_len(f, f->maxop), f->maxlen - off);
	f->cur->a = off;
	f->cur->b = len;
	fill(f, f->buf, len);
	n = tgt_pwrite(f, f->buf, len, off);
	f->cur->result = n;
	if (n < 0)
		fsx_fail(f, "write: %s (%s)", strerror(-n),
			 f->t.engine ? mmfs_errmsg() : "");
	if ((uint64_t)n != len)
		fsx_fail(f, "short write: %zd of %llu bytes", n,
			 (unsigned long long)len);
	memcpy(f->model + off, f->buf, len);
	if (len > 0 && off + len > f->size)
		f->size = off + len;
}

static void op_trunc(struct fsx *f)
{
	uint64_t size;

	switch (fsx_rnd(f, 8)) {
	case 0:
		size = 0;
		break;
	case 1:
		size = fsx_rnd(f, f->maxlen + 1);
		size -= size % f->pagesize;
		break;
	case 2:
		size = f->size + fsx_rnd(f, 5);
		size = size > 2 ? size - 2 : 0;
		break;
	default:
		size = fsx_rnd(f, f->maxlen + 1);
		break;
	}
	size = min64(size, f->maxlen);
	f->cur->a = size;
	expect_ok(f, tgt_truncate(f, size), "truncate");
	fsx_model_resize(f, size);
}

static void op_reopen(struct fsx *f, bool trunc)
{
	tgt_close(f);
	expect_ok(f, tgt_open(f, trunc), trunc ? "open(O_TRUNC)" : "open");
	if (trunc)
		fsx_model_resize(f, 0);
}

static void op_map(struct fsx *f, bool write)
{
	unsigned char *p;
	uint64_t off, len;
	sigjmp_buf jb;
	int ret;

	if (f->size == 0) {
		f->cur->skipped = true;
		return;
	}
	off = fsx_pick_off(f, f->size);
	len = fsx_pick_len(f, min64(f->maxop, f->size - off));
	f->cur->a = off;
	f->cur->b = len;
	if (write)
		fill(f, f->buf, len);
	ret = tgt_map(f, off, len, write, &p);
	if (ret < 0)
		fsx_fail(f, "mmap: %s", strerror(-ret));
	if (sigsetjmp(jb, 1)) {
		fsx_bus_jmp = NULL;
		fsx_fail(f, "SIGBUS touching the mapping of 0x%llx thru 0x%llx",
			 (unsigned long long)f->cur->a,
			 (unsigned long long)(f->cur->a + f->cur->b));
	}
	fsx_bus_jmp = &jb;
	if (write)
		memcpy(p, f->buf, len);
	else
		memcpy(f->buf, p, len);
	fsx_bus_jmp = NULL;
	expect_ok(f, tgt_unmap(f, write), write ? "msync/munmap" : "munmap");
	if (write)
		memcpy(f->model + off, f->buf, len);
	else
		fsx_check_bytes(f, "mapped read", off, f->buf, len);
}

static void op_drop(struct fsx *f)
{
	int ret, fd;

	expect_ok(f, tgt_drop(f), "posix_fadvise(DONTNEED)");
	if (!f->drop_caches || geteuid() != 0 || fsx_rnd(f, 4) != 0)
		return;
	f->cur->sub = 1;
	expect_ok(f, tgt_sync(f, false), "fsync");
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0)
		fsx_fail(f, "/proc/sys/vm/drop_caches: %s", strerror(errno));
	ret = write(fd, "3\n", 2) == 2 ? 0 : -errno;
	close(fd);
	expect_ok(f, ret, "write /proc/sys/vm/drop_caches");
}

static void op_falloc(struct fsx *f, int op)
{
	bool keep = op == OP_PUNCH || fsx_rnd(f, 2);
	uint64_t off, len, end;
	int mode;

	off = fsx_pick_off(f, f->maxlen);
	len = fsx_pick_len(f, f->maxop);
	len = min64(len ? len : 1, f->maxlen - off);
	end = off + len;
	mode = keep ? FALLOC_FL_KEEP_SIZE : 0;
	if (op == OP_PUNCH)
		mode |= FALLOC_FL_PUNCH_HOLE;
	if (op == OP_ZERO)
		mode |= FALLOC_FL_ZERO_RANGE;
	f->cur->a = off;
	f->cur->b = len;
	f->cur->sub = mode;
	if (fallocate(f->t.fd, mode, off, len) < 0) {
		f->cur->result = -errno;
		if (errno == EOPNOTSUPP || errno == ENOSYS) {
			f->cur->skipped = true;
			fsx_disable(f, op, strerror(errno));
			return;
		}
		fsx_fail(f, "fallocate(mode 0x%x): %s", mode, strerror(errno));
	}
	if (op != OP_FALLOC && off < f->size)
		memset(f->model + off, 0, min64(end, f->size) - off);
	if (!keep && end > f->size)
		f->size = end;
}

static void op_cfr(struct fsx *f)
{
	uint64_t src, dst = 0, len, expect;
	loff_t in, out;
	ssize_t n;
	int i;

	if (f->size == 0) {
		f->cur->skipped = true;
		return;
	}
	src = fsx_pick_off(f, f->size);
	len = fsx_pick_len(f, f->maxop);
	len = len ? len : 1;
	/* The kernel refuses overlapping ranges within one file. */
	for (i = 0; i < 8; i++) {
		dst = fsx_pick_off(f, f->maxlen);
		len = min64(len, f->maxlen - dst);
		if (dst + len <= src || src + len <= dst)
			break;
	}
	f->cur->a = src;
	f->cur->b = dst;
	f->cur->c = len;
	if (i == 8) {
		f->cur->skipped = true;
		return;
	}
	expect = min64(len, f->size - src);
	in = src;
	out = dst;
	n = copy_file_range(f->t.fd, &in, f->t.fd, &out, len, 0);
	f->cur->result = n < 0 ? -errno : n;
	if (n < 0) {
		if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EXDEV) {
			f->cur->skipped = true;
			fsx_disable(f, OP_CFR, strerror(errno));
			return;
		}
		fsx_fail(f, "copy_file_range: %s", strerror(errno));
	}
	/* A short copy is allowed; none at all when there was data is not. */
	if ((uint64_t)n > expect || (n == 0 && expect > 0))
		fsx_fail(f, "copy_file_range copied %zd bytes, expected %llu",
			 n, (unsigned long long)expect);
	if ((uint64_t)in != src + n || (uint64_t)out != dst + n)
		fsx_fail(f, "copy_file_range left offsets %lld, %lld",
			 (long long)in, (long long)out);
	memmove(f->model + dst, f->model + src, n);
	if (n > 0 && dst + n > f->size)
		f->size = dst + n;
}

/* Python's bound rule for find: negative counts from the end, then both
 * clamp to [0, len]. */
static int64_t clamp_bound(int64_t v, int64_t len)
{
	if (v < 0) {
		v += len;
		return v < 0 ? 0 : v;
	}
	return v > len ? len : v;
}

/* The expected result of find/rfind, from the model: forward with
 * memmem, backward with memmem over the reversed window, so it shares no
 * code with the engine's search. */
static int64_t model_find(struct fsx *f, bool rev, size_t nlen,
			  int64_t start, int64_t end)
{
	int64_t len = f->size, w, i;
	const unsigned char *p;

	start = clamp_bound(start, len);
	end = clamp_bound(end, len);
	if (end < start)
		return -1;
	if (nlen == 0)
		return rev ? end : start;
	w = end - start;
	if ((uint64_t)w < nlen)
		return -1;
	if (!rev) {
		p = memmem(f->model + start, w, needle, nlen);
		return p ? p - f->model : -1;
	}
	for (i = 0; i < w; i++)
		f->buf2[i] = f->model[end - 1 - i];
	for (i = 0; i < (int64_t)nlen; i++)
		rneedle[i] = needle[nlen - 1 - i];
	p = memmem(f->buf2, w, rneedle, nlen);
	return p ? end - (p - f->buf2) - (int64_t)nlen : -1;
}

/* The slow, obvious search, run only to confirm a reported mismatch. */
static int64_t naive_find(struct fsx *f, bool rev, size_t nlen,
			  int64_t start, int64_t end)
{
	int64_t len = f->size, i;

	start = clamp_bound(start, len);
	end = clamp_bound(end, len);
	if (end < start || (uint64_t)(end - start) < nlen)
		return -1;
	for (i = 0; i <= end - start - (int64_t)nlen; i++) {
		int64_t at = rev ? end - (int64_t)nlen - i : start + i;

		if (memcmp(f->model + at, needle, nlen) == 0)
			return at;
	}
	return -1;
}

static int64_t pick_bound(struct fsx *f, int64_t dflt, int64_t near)
{
	static const int64_t extremes[] = {INT64_MIN, INT64_MAX, -1, 0};
	int64_t len = f->size;

	switch (fsx_rnd(f, 10)) {
	case 0:
	case 1:
	case 2:
		return dflt;
	case 8:
		return near + (int64_t)fsx_rnd(f, 5) - 2;
	case 9:
		return fsx_rnd(f, 5) == 4 ? len : extremes[fsx_rnd(f, 4)];
	default:
		return (int64_t)fsx_rnd(f, 2 * len + 21) - len - 10;
	}
}

static void op_find(struct fsx *f, bool rev)
{
	uint64_t pos = 0, nlen = 0, i, v = 0;
	int64_t start, end, result = -2, expect;
	uint32_t flags = 0;
	int kind, ret;

	if (f->size == 0 && f->t.engine) {
		f->cur->skipped = true;
		return;
	}
	kind = fsx_rnd(f, 10);
	if (kind >= 1 && kind <= 7) {
		pos = fsx_rnd(f, f->size);
		nlen = fsx_rnd(f, 4) ? 32 : MMAPFS_NEEDLE_MAX;
		nlen = 1 + fsx_rnd(f, min64(nlen, f->size - pos));
		memcpy(needle, f->model + pos, nlen);
		if (kind >= 6) /* a near miss, or a match elsewhere */
			needle[fsx_rnd(f, nlen)] ^= 1 + fsx_rnd(f, 255);
	} else if (kind >= 8) {
		nlen = 1 + fsx_rnd(f, kind == 8 ? 8 : 16);
		for (i = 0; i < nlen; i++) {
			if (i % 8 == 0)
				v = fsx_rnd64(f);
			needle[i] = kind == 8 ? "abcd"[(v >> (i % 8 * 2)) & 3] :
				    (unsigned char)(v >> (i % 8 * 8));
		}
	}
	start = pick_bound(f, 0, pos);
	end = pick_bound(f, INT64_MAX, pos + nlen);
	f->cur->a = start;
	f->cur->b = end;
	f->cur->c = kind ? (int64_t)pos : -1;
	f->cur->sub = nlen;
	/* The ABI's own limits, on the mount only (the engine has none). */
	if (!f->t.engine && fsx_rnd(f, 40) == 0) {
		if (fsx_rnd(f, 2))
			flags = 1u << fsx_rnd(f, 32);
		else
			nlen = MMAPFS_NEEDLE_MAX + 1 + fsx_rnd(f, 1000);
		f->cur->sub = nlen;
		ret = tgt_find(f, rev, needle, nlen, start, end, flags,
			       &result);
		expect_err(f, ret, EINVAL, rev ? "RFIND" : "FIND");
		return;
	}
	expect = model_find(f, rev, nlen, start, end);
	ret = tgt_find(f, rev, needle, nlen, start, end, 0, &result);
	expect_ok(f, ret, rev ? "rfind" : "find");
	f->cur->result = result;
	if (result != expect)
		fsx_fail(f, "%s(needle of %llu bytes, %lld, %lld) = %lld, "
			 "expected %lld (a naive search says %lld)",
			 rev ? "rfind" : "find", (unsigned long long)nlen,
			 (long long)start, (long long)end, (long long)result,
			 (long long)expect,
			 (long long)naive_find(f, rev, nlen, start, end));
}

static void op_move(struct fsx *f)
{
	int64_t len = f->size, dest, src, count;

	if (len == 0 && f->t.engine) {
		f->cur->skipped = true;
		return;
	}
	count = fsx_pick_len(f, min64(f->maxop, len));
	src = fsx_rnd(f, len - count + 1);
	dest = fsx_rnd(f, len - count + 1);
	if (fsx_rnd(f, 16) == 0) {
		count = 0;
		dest = len;
	}
	f->cur->sub = fsx_rnd(f, 8) == 0 ? 1 + (int)fsx_rnd(f, 5) : 0;
	switch (f->cur->sub) {
	case 1:
		dest = -1 - (int64_t)fsx_rnd(f, 10);
		break;
	case 2:
		src = -1 - (int64_t)fsx_rnd(f, 10);
		break;
	case 3:
		count = -1 - (int64_t)fsx_rnd(f, 10);
		break;
	case 4:
		count = len - dest + 1 + fsx_rnd(f, 10);
		break;
	case 5:
		src = len + 1 + fsx_rnd(f, 10);
		count = 0;
		break;
	}
	f->cur->a = dest;
	f->cur->b = src;
	f->cur->c = count;
	if (f->cur->sub) {
		expect_err(f, tgt_move(f, dest, src, count), EINVAL, "move");
		return;
	}
	expect_ok(f, tgt_move(f, dest, src, count), "move");
	memmove(f->model + dest, f->model + src, count);
}

static void op_madvise(struct fsx *f)
{
	static const int advices[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED,
		MADV_DONTNEED, MADV_DONTDUMP, MADV_DODUMP};
	int64_t len = f->size, ps = f->pagesize, start, length;
	int advice, kind, err = EINVAL;
	uint32_t flags = 0;

	if (len == 0 && f->t.engine) {
		f->cur->skipped = true;
		return;
	}
	advice = advices[fsx_rnd(f, sizeof(advices) / sizeof(advices[0]))];
	start = fsx_rnd(f, len);
	start -= start % ps;
	length = fsx_rnd(f, 4) ? (int64_t)fsx_rnd(f, 2 * len + 1) : 0;
	if (fsx_rnd(f, 4) == 0)
		flags = MMAPFS_ARG_DEFAULT_LENGTH;
	kind = fsx_rnd(f, 3) ? 0 : 1 + fsx_rnd(f, f->t.engine ? 6 : 7);
	if (len == 0 && (kind == 0 || kind == 7))
		kind = 2; /* an empty file has no valid start */
	if (kind == 4 && len < 2)
		kind = 1;
	if (kind == 6 && len <= ps)
		kind = 3;
	switch (kind) {
	case 1: /* start before the map */
		start = -1 - (int64_t)fsx_rnd(f, ps);
		break;
	case 2: /* start at or past the end, even with length 0 */
		start = len + fsx_rnd(f, 2) * fsx_rnd(f, ps);
		break;
	case 3:
		length = -1 - (int64_t)fsx_rnd(f, 100);
		flags = 0;
		break;
	case 4: /* not page aligned: the kernel's EINVAL */
		start = 1 + fsx_rnd(f, min64(len, ps) - 1);
		break;
	case 5:
		advice = 12345;
		break;
	case 6:
		start = ps;
		length = INT64_MAX;
		flags = 0;
		err = EOVERFLOW;
		break;
	case 7: /* flags the ABI does not define */
		flags |= 1u << (1 + fsx_rnd(f, 31));
		break;
	}
	f->cur->sub = advice;
	f->cur->a = start;
	f->cur->b = length;
	f->cur->c = flags;
	if (kind)
		expect_err(f, tgt_madvise(f, advice, flags, start, length),
			   err, "madvise");
	else
		expect_ok(f, tgt_madvise(f, advice, flags, start, length),
			  "madvise");
}

static void op_flush(struct fsx *f)
{
	int64_t len = f->size, ps = f->pagesize, offset, size;
	uint32_t flags = 0;
	int kind;

	if (len == 0 && f->t.engine) {
		f->cur->skipped = true;
		return;
	}
	offset = fsx_rnd(f, len + 1);
	offset -= offset % ps;
	size = fsx_rnd(f, len - offset + 1);
	if (fsx_rnd(f, 4) == 0)
		flags = MMAPFS_ARG_DEFAULT_SIZE;
	kind = fsx_rnd(f, 4) ? 0 : 1 + fsx_rnd(f, f->t.engine ? 4 : 5);
	if (kind == 1 && len < 2)
		kind = 2;
	switch (kind) {
	case 1: /* msync needs a page-aligned start */
		offset = 1 + fsx_rnd(f, min64(len, ps) - 1);
		/* a copy mount only checks the range, as Python's
		 * ACCESS_COPY does: ok unless it ends past the file */
		if (f->t.copy && (flags || offset + size <= len))
			kind = 0;
		break;
	case 2:
		offset = 0;
		size = len + 1 + fsx_rnd(f, 10);
		flags = 0;
		break;
	case 3:
		offset = -ps;
		break;
	case 4:
		size = -1;
		flags = 0;
		break;
	case 5: /* flags the ABI does not define (bit 1 is DEFAULT_SIZE) */
		flags |= 1u << (2 + fsx_rnd(f, 30));
		break;
	}
	f->cur->a = offset;
	f->cur->b = size;
	f->cur->c = flags;
	f->cur->sub = kind;
	if (kind)
		expect_err(f, tgt_flush(f, offset, size, flags), EINVAL,
			   "flush");
	else
		expect_ok(f, tgt_flush(f, offset, size, flags), "flush");
}

void fsx_do_op(struct fsx *f, int op)
{
	switch (op) {
	case OP_READ: op_read(f); break;
	case OP_WRITE: op_write(f); break;
	case OP_TRUNC: op_trunc(f); break;
	case OP_OTRUNC: op_reopen(f, true); break;
	case OP_MAPREAD: op_map(f, false); break;
	case OP_MAPWRITE: op_map(f, true); break;
	case OP_FSYNC: expect_ok(f, tgt_sync(f, false), "fsync"); break;
	case OP_FDATASYNC:
		expect_ok(f, tgt_sync(f, true), "fdatasync");
		break;
	case OP_REOPEN: op_reopen(f, false); break;
	case OP_DROP: op_drop(f); break;
	case OP_FALLOC:
	case OP_PUNCH:
	case OP_ZERO: op_falloc(f, op); break;
	case OP_CFR: op_cfr(f); break;
	case OP_FIND: op_find(f, false); break;
	case OP_RFIND: op_find(f, true); break;
	case OP_MOVE: op_move(f); break;
	case OP_MADVISE: op_madvise(f); break;
	case OP_FLUSH: op_flush(f); break;
	}
}
