/*
 * fuzz-engine-ops.c - the calls of the engine harness (fuzz-engine.c).
 * Each op takes its arguments from the input, extremes often, makes one
 * engine call, and checks the result against reference rules written
 * apart from lib/ (Python's bounds for find, its slice arithmetic, the
 * order of the checks): the count, or the exact -errno with a message.
 * A call that succeeds applies itself to the model, which the harness
 * then compares with the map.
 */
#include "config.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-engine.h"

#define NEEDLE_MAX 80
#define IO_MAX (3 * 4096)

/* ------------------------------------------------------------------ */
/* Reference rules, written apart from lib/ */

/* Python's bound for find: negative counts from the end, clamp to len. */
static size_t ref_bound(int64_t v, size_t len)
{
	__int128 x = v;

	if (x < 0)
		x += len;
	if (x < 0)
		x = 0;
	if (x > (__int128)len)
		x = len;
	return (size_t)x;
}

static int64_t ref_find(const struct fze *s, const unsigned char *needle,
			size_t nlen, int64_t start, int64_t end, bool rev)
{
	size_t a = ref_bound(start, s->len), b = ref_bound(end, s->len), i;

	if (b < a || b - a < nlen)
		return -1;
	if (nlen == 0)
		return (int64_t)(rev ? b : a);
	for (size_t k = 0; k + nlen <= b - a; k++) {
		i = rev ? b - nlen - k : a + k;
		if (memcmp(s->model + i, needle, nlen) == 0)
			return (int64_t)i;
	}
	return -1;
}

/* PySlice_Unpack + PySlice_AdjustIndices in 128 bits; INT64_MIN is None.
 * Returns the slice length, or -1 for a zero step. */
static int64_t ref_slice(size_t len, int64_t start, int64_t stop,
			 int64_t step, __int128 *first, __int128 *stride)
{
	__int128 n = len, st = step == INT64_MIN ? 1 : step, a, b;

	if (st == 0)
		return -1;
	a = start == INT64_MIN ? (st < 0 ? INT64_MAX : 0) : start;
	b = stop == INT64_MIN ? (st < 0 ? INT64_MIN : INT64_MAX) : stop;
	if (a < 0) {
		a += n;
		if (a < 0)
			a = st < 0 ? -1 : 0;
	} else if (a >= n) {
		a = st < 0 ? n - 1 : n;
	}
	if (b < 0) {
		b += n;
		if (b < 0)
			b = st < 0 ? -1 : 0;
	} else if (b >= n) {
		b = st < 0 ? n - 1 : n;
	}
	*first = a;
	*stride = st;
	if (st < 0)
		return b < a ? (int64_t)((a - b - 1) / -st + 1) : 0;
	return a < b ? (int64_t)((b - a - 1) / st + 1) : 0;
}

/* ------------------------------------------------------------------ */
/* Operations */

static int op_find(struct fze *s, struct fz *z, bool rev)
{
	unsigned char needle[NEEDLE_MAX];
	size_t nlen = fz_below(z, NEEDLE_MAX + 1), at;
	int64_t start, end, got = -2, want;
	int ret;

	if (fz_u8(z) % 3 && s->len) { /* a needle that occurs */
		at = fz_below(z, s->len);
		if (nlen > s->len - at)
			nlen = s->len - at;
		memcpy(needle, s->model + at, nlen);
	} else {
		fz_bytes(z, needle, nlen);
	}
	start = fz_i64(z, (int64_t)s->len, (int64_t)s->page);
	end = fz_i64(z, (int64_t)s->len, (int64_t)s->page);
	mmfs_clear_error();
	ret = rev ? mmfs_rfind(s->map, needle, nlen, start, end, &got)
		  : mmfs_find(s->map, needle, nlen, start, end, &got);
	if (s->closed) {
		expect_err(ret, EBADF, "find on a closed map");
		return 0;
	}
	want = ref_find(s, needle, nlen, start, end, rev);
	FZ_CHECK(ret == 0 && got == want,
		 "%s(nlen %zu, %lld, %lld) on len %zu: ret %d, %lld, "
		 "expected %lld", rev ? "rfind" : "find", nlen,
		 (long long)start, (long long)end, s->len, ret,
		 (long long)got, (long long)want);
	return 0;
}

static int op_move(struct fze *s, struct fz *z)
{
	int64_t n = (int64_t)s->len, ps = (int64_t)s->page;
	int64_t d = fz_i64(z, n, ps), src = fz_i64(z, n, ps);
	int64_t c = fz_i64(z, n, ps);
	int ret;

	mmfs_clear_error();
	ret = mmfs_move(s->map, d, src, c);
	if (s->closed)
		return expect_err(ret, EBADF, "move closed");
	if (!s->writable)
		return expect_err(ret, EACCES, "move on a read-only map");
	if (d < 0 || src < 0 || c < 0 || d > n || src > n || n - d < c ||
	    n - src < c)
		return expect_err(ret, EINVAL, "move out of range");
	FZ_CHECK(ret == 0, "move(%lld, %lld, %lld) on len %lld: %d",
		 (long long)d, (long long)src, (long long)c, (long long)n, ret);
	memmove(s->model + d, s->model + src, (size_t)c);
	return 0;
}

/* Advice that loses nothing in this process: never the kernel's page
 * poisoning or guard regions (100 and up), which are not arguments to
 * check but orders to break the memory. */
static int pick_advice(struct fz *z)
{
	static const int set[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED,
		MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTFORK,
		MADV_DOFORK, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE,
		MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP, 18, 19, 20, 21,
		22, 23, 24, 25, -1, INT32_MIN, INT32_MAX, 5, 99, 104, 12345};
	int a = set[fz_below(z, sizeof(set) / sizeof(set[0]))];

	return a;
}

static int op_madvise(struct fze *s, struct fz *z)
{
	int64_t n = (int64_t)s->len, ps = (int64_t)s->page;
	int adv = pick_advice(z);
	int64_t start = fz_i64(z, n, ps), length = fz_i64(z, n, ps);
	int ret;

	if (fz_u8(z) & 1) /* mostly valid starts: reach the kernel */
		start = ps * (int64_t)fz_below(z, s->len / s->page + 1);
	mmfs_clear_error();
	ret = mmfs_madvise(s->map, adv, start, length);

	if (s->closed)
		return expect_err(ret, EBADF, "madvise closed");
	if (start < 0 || start >= n)
		return expect_err(ret, EINVAL, "madvise start");
	if (length < 0)
		return expect_err(ret, EINVAL, "madvise length");
	if (INT64_MAX - start < length)
		return expect_err(ret, EOVERFLOW, "madvise overflow");
	if (!ok_or_err(ret, "madvise"))
		return 0;
	/* These may drop bytes: a hole, a private page back to the file's
	 * or to zero.  The model follows the map. */
	if (adv == MADV_REMOVE) /* even a PROT_READ map of a writable fd
				 * punches the hole (Linux 6.x), as Python's */
		s->holed = true;
	/* After MADV_FREE the kernel may drop the pages at any later time
	 * (a MADV_PAGEOUT does it at once) unless they are written first:
	 * their bytes are undefined, so write the zeros a drop would leave.
	 * Read-only private pages were never written, so nothing to drop. */
	if (adv == MADV_FREE && (mmfs_prot(s->map) & PROT_WRITE))
		memset(s->base + start, 0,
		       (size_t)(n - start < length ? n - start : length));
	if (adv == MADV_DONTNEED || adv == MADV_FREE || adv == MADV_REMOVE ||
	    adv == 24) {
		memcpy(s->model, s->base, s->len);
		fze_snap_tail(s);
	}
	return 0;
}

static int op_flush(struct fze *s, struct fz *z)
{
	int64_t n = (int64_t)s->len, ps = (int64_t)s->page;
	int64_t off = fz_i64(z, n, ps), size = fz_i64(z, n, ps);
	int ret;

	mmfs_clear_error();
	ret = mmfs_flush(s->map, off, size);
	if (s->closed)
		return expect_err(ret, EBADF, "flush closed");
	if (size < 0 || off < 0 || n - off < size)
		return expect_err(ret, EINVAL, "flush range");
	if (!s->writable || mmfs_access(s->map) == MMFS_ACCESS_COPY ||
	    off % ps == 0) {
		FZ_CHECK(ret == 0, "flush(%lld, %lld): %d (%s)",
			 (long long)off, (long long)size, ret, mmfs_errmsg());
		return 0;
	}
	expect_err(ret, EINVAL, "msync of an unaligned offset");
	return 0;
}

/* After a successful resize the old bytes stay, new ones are the file's
 * (or zero without one); a map past MODEL_MAX is shrunk back at once. */
static void resized(struct fze *s, size_t old, struct fz *z)
{
	unsigned char *data = NULL;
	size_t keep = old < s->len ? old : s->len, i;
	size_t check = s->len < MODEL_MAX ? s->len : MODEL_MAX;

	FZ_CHECK(mmfs_pin(s->map, (void **)&data, NULL) == 0, "pin");
	mmfs_unpin(s->map);
	s->base = data;
	s->resized = true;
	FZ_CHECK(memcmp(s->base, s->model, keep) == 0,
		 "resize lost bytes below the old length");
	/* the file's bytes there (short: zeros past its end) */
	memset(s->model + keep, 0, check - keep);
	if (s->fd >= 0 && check > keep &&
	    pread(s->fd, s->model + keep, check - keep,
		  s->offset + (off_t)keep) < 0)
		fz_fail(__FILE__, __LINE__, "pread: %s", strerror(errno));
	for (i = keep; i < check; i++)
		FZ_CHECK(s->base[i] == s->model[i], "resize: new byte %zu is "
			 "%#x, file has %#x", i, s->base[i], s->model[i]);
	if (s->len > MODEL_MAX) {
		size_t small = 1 + fz_below(z, 2 * s->page);

		mmfs_clear_error();
		FZ_CHECK(mmfs_resize(s->map, (int64_t)small) == 0,
			 "shrinking a big map back: %s", mmfs_errmsg());
		s->len = small;
		FZ_CHECK(mmfs_pin(s->map, (void **)&data, NULL) == 0, "pin");
		mmfs_unpin(s->map);
		s->base = data;
	}
	memcpy(s->model, s->base, s->len);
	fze_guards_put(s);
	fze_snap_tail(s);
}

static int op_resize(struct fze *s, struct fz *z)
{
	int64_t n = (int64_t)s->len, ps = (int64_t)s->page;
	int64_t newsize = fz_i64(z, n, ps);
	size_t old = s->len;
	int ret;

	if (fz_u8(z) % 4 == 0)
		newsize = (int64_t)fz_below(z, 4 * s->page);
	mmfs_clear_error();
	ret = mmfs_resize(s->map, newsize);
	if (s->closed)
		return expect_err(ret, EBADF, "resize closed");
	if (s->pins)
		return expect_err(ret, EBUSY, "resize pinned");
	if (!s->resizeable) {
		FZ_CHECK(ret == -EPERM || ret == -EINVAL,
			 "resize of a map that cannot: %d", ret);
		return expect_some_err(ret, "resize refused");
	}
	if (newsize <= 0 || INT64_MAX - s->offset < newsize)
		return expect_err(ret, EINVAL, "resize range");
	if (!ok_or_err(ret, "resize")) {
		/* atomic: nothing changed (check_state says so) */
		return 0;
	}
	s->len = (size_t)newsize;
	resized(s, old, z);
	return 0;
}

static int op_getslice(struct fze *s, struct fz *z)
{
	int64_t n = (int64_t)s->len, ps = (int64_t)s->page;
	int64_t a = fz_i64(z, n, ps), b = fz_i64(z, n, ps), c;
	__int128 first = 0, stride = 1;
	int64_t want;
	unsigned char *buf = NULL;
	size_t cap = 0;
	uint8_t mode = fz_u8(z);
	ssize_t ret;

	c = mode & 8 ? fz_i64(z, n, ps) : (int64_t)fz_below(z, 7) - 3;
	if (mode & 16)
		c = INT64_MIN; /* None */
	want = s->closed ? 0 : ref_slice(s->len, a, b, c, &first, &stride);
	if (mode % 4 != 0 && want > 0) {
		cap = (size_t)want - (mode % 4 == 1);
		buf = malloc(cap ? cap : 1);
	} else if (mode % 4 != 0) {
		buf = malloc(1);
	}
	mmfs_clear_error();
	ret = mmfs_getslice(s->map, a, b, c, buf, cap);
	if (s->closed) {
		expect_err(ret, EBADF, "getslice closed");
	} else if (want < 0) {
		expect_err(ret, EINVAL, "getslice step 0");
	} else if (buf && cap < (size_t)want) {
		expect_err(ret, ERANGE, "getslice small buffer");
	} else {
		FZ_CHECK(ret == want, "getslice(%lld, %lld, %lld) on %zu: "
			 "%zd, expected %lld", (long long)a, (long long)b,
			 (long long)c, s->len, ret, (long long)want);
		for (int64_t k = 0; buf && k < want; k++) {
			__int128 i = first + stride * k;

			FZ_CHECK(i >= 0 && i < (__int128)s->len, "ref slice");
			FZ_CHECK(buf[k] == s->model[(size_t)i],
				 "getslice byte %lld", (long long)k);
		}
	}
	free(buf);
	return 0;
}

static int op_setslice(struct fze *s, struct fz *z, bool del)
{
	int64_t n = (int64_t)s->len, ps = (int64_t)s->page;
	int64_t a = fz_i64(z, n, ps), b = fz_i64(z, n, ps), c;
	__int128 first = 0, stride = 1;
	int64_t want;
	unsigned char *data;
	size_t dlen;
	uint8_t mode = fz_u8(z);
	int ret;

	c = mode & 8 ? fz_i64(z, n, ps) : (int64_t)fz_below(z, 7) - 3;
	if (mode & 16)
		c = INT64_MIN;
	want = ref_slice(s->len, a, b, c, &first, &stride);
	dlen = want > 0 ? (size_t)want : 0;
	if (mode % 4 == 1)
		dlen++;
	else if (mode % 4 == 2 && dlen > 0)
		dlen--;
	data = malloc(dlen ? dlen : 1);
	fz_bytes(z, data, dlen);
	mmfs_clear_error();
	ret = del ? mmfs_delslice(s->map, a, b, c)
		  : mmfs_setslice(s->map, a, b, c, data, dlen);
	if (s->closed)
		expect_err(ret, EBADF, "setslice closed");
	else if (!s->writable)
		expect_err(ret, EACCES, "setslice read-only");
	else if (want < 0)
		expect_err(ret, EINVAL, "setslice step 0");
	else if (del)
		expect_err(ret, EOPNOTSUPP, "delslice");
	else if (dlen != (size_t)want)
		expect_err(ret, ERANGE, "setslice size");
	else {
		FZ_CHECK(ret == 0, "setslice: %d (%s)", ret, mmfs_errmsg());
		for (int64_t k = 0; k < want; k++) {
			__int128 i = first + stride * k;

			FZ_CHECK(i >= 0 && i < (__int128)s->len, "ref slice");
			s->model[(size_t)i] = data[k];
		}
	}
	free(data);
	return 0;
}

static int op_item(struct fze *s, struct fz *z)
{
	int64_t n = (int64_t)s->len;
	int64_t i = fz_i64(z, n, (int64_t)s->page);
	uint8_t which = fz_u8(z) % 3;
	int v = fz_int(z), ret;
	__int128 idx = i < 0 ? (__int128)i + n : i;
	bool in = idx >= 0 && idx < n;

	mmfs_clear_error();
	ret = which == 0   ? mmfs_getitem(s->map, i)
	      : which == 1 ? mmfs_setitem(s->map, i, v)
			   : mmfs_delitem(s->map, i);
	if (s->closed)
		return expect_err(ret, EBADF, "item closed");
	if (which == 0) {
		if (!in)
			return expect_err(ret, ERANGE, "getitem index");
		FZ_CHECK(ret == s->model[(size_t)idx], "getitem %lld",
			 (long long)i);
		return 0;
	}
	if (!s->writable)
		return expect_err(ret, EACCES, "setitem read-only");
	if (!in)
		return expect_err(ret, ERANGE, "setitem index");
	if (which == 2)
		return expect_err(ret, EOPNOTSUPP, "delitem");
	if (v < 0 || v > 255)
		return expect_err(ret, EINVAL, "setitem value");
	FZ_CHECK(ret == 0, "setitem: %d", ret);
	s->model[(size_t)idx] = (unsigned char)v;
	return 0;
}

static int op_seek(struct fze *s, struct fz *z)
{
	int64_t p = fz_i64(z, (int64_t)s->len, (int64_t)s->page);
	int whence = fz_u8(z) % 5 - 1, ret;
	int64_t got = -7;
	__int128 where;

	mmfs_clear_error();
	ret = mmfs_seek(s->map, p, whence, fz_u8(z) & 1 ? &got : NULL);
	if (s->closed)
		return expect_err(ret, EBADF, "seek closed");
	if (whence < 0 || whence > 2)
		return expect_err(ret, EINVAL, "seek whence");
	where = (__int128)p + (whence == 0 ? 0 : whence == 1 ? s->pos : s->len);
	if (where < 0 || where > (__int128)s->len)
		return expect_err(ret, EINVAL, "seek range");
	FZ_CHECK(ret == 0, "seek: %d", ret);
	FZ_CHECK(got == -7 || got == (int64_t)where, "seek newpos");
	s->pos = (size_t)where;
	return 0;
}

static size_t remaining(const struct fze *s)
{
	return s->pos < s->len ? s->len - s->pos : 0;
}

static int op_read(struct fze *s, struct fz *z)
{
	int64_t n = fz_i64(z, (int64_t)remaining(s), (int64_t)s->page);
	size_t cap = fz_below(z, IO_MAX + 1), want = remaining(s);
	uint8_t kind = fz_u8(z) % 3;
	unsigned char *buf;
	ssize_t ret;

	if (kind == 1 && want <= IO_MAX)
		cap = want;
	buf = malloc(cap ? cap : 1);
	mmfs_clear_error();
	if (kind == 2) {
		ret = mmfs_readline(s->map, buf, cap);
		if (s->closed) {
			free(buf);
			return expect_err(ret, EBADF, "readline");
		}
		if (want > cap)
			want = cap;
		void *nl = memchr(s->model + s->pos, '\n', want);

		if (nl)
			want = (size_t)((unsigned char *)nl -
					(s->model + s->pos)) + 1;
	} else {
		ret = mmfs_read(s->map, buf, cap, n);
		if (s->closed) {
			free(buf);
			return expect_err(ret, EBADF, "read");
		}
		if (n >= 0 && (uint64_t)n < want)
			want = (size_t)n;
		if (want > cap)
			want = cap;
	}
	FZ_CHECK(ret == (ssize_t)want, "read(%lld, cap %zu) at %zu of %zu: "
		 "%zd, expected %zu", (long long)n, cap, s->pos, s->len, ret,
		 want);
	FZ_CHECK(memcmp(buf, s->model + s->pos, want) == 0, "read bytes");
	s->pos += want;
	free(buf);
	return 0;
}

static int op_write(struct fze *s, struct fz *z)
{
	size_t rem = remaining(s), n;
	uint8_t kind = fz_u8(z) % 4;
	unsigned char *buf;
	ssize_t ret;

	n = kind == 0 ? rem : kind == 1 ? rem + 1 : fz_below(z, 64);
	if (n > IO_MAX)
		n = IO_MAX;
	buf = malloc(n ? n : 1);
	fz_bytes(z, buf, n);
	mmfs_clear_error();
	ret = mmfs_write(s->map, buf, n);
	if (s->closed)
		expect_err(ret, EBADF, "write closed");
	else if (!s->writable)
		expect_err(ret, EACCES, "write read-only");
	else if (s->pos > s->len || rem < n)
		expect_err(ret, EINVAL, "write past the end");
	else {
		FZ_CHECK(ret == (ssize_t)n, "write %zu: %zd", n, ret);
		memcpy(s->model + s->pos, buf, n);
		s->pos += n;
	}
	free(buf);
	return 0;
}

static int op_byte(struct fze *s, struct fz *z)
{
	bool wr = fz_u8(z) & 1;
	int v = fz_int(z), ret;

	mmfs_clear_error();
	ret = wr ? mmfs_write_byte(s->map, v) : mmfs_read_byte(s->map);
	if (s->closed)
		return expect_err(ret, EBADF, "byte closed");
	if (!wr) {
		if (s->pos >= s->len)
			return expect_err(ret, EINVAL, "read_byte at end");
		FZ_CHECK(ret == s->model[s->pos], "read_byte");
		s->pos++;
		return 0;
	}
	if (v < 0 || v > 255)
		return expect_err(ret, EOVERFLOW, "write_byte value");
	if (!s->writable)
		return expect_err(ret, EACCES, "write_byte read-only");
	if (s->pos >= s->len)
		return expect_err(ret, EINVAL, "write_byte at end");
	FZ_CHECK(ret == 0, "write_byte: %d", ret);
	s->model[s->pos++] = (unsigned char)v;
	return 0;
}

static int op_pio(struct fze *s, struct fz *z)
{
	bool wr = fz_u8(z) & 1;
	uint64_t off = fz_off(z, s->len, s->page);
	size_t n = fz_below(z, IO_MAX + 1), want;
	unsigned char *buf = malloc(n ? n : 1);
	ssize_t ret;

	fz_bytes(z, buf, n);
	mmfs_clear_error();
	ret = wr ? mmfs_pwrite(s->map, buf, n, off)
		 : mmfs_pread(s->map, buf, n, off);
	if (s->closed) {
		expect_err(ret, EBADF, "pread/pwrite closed");
	} else if (!wr) {
		want = off >= s->len ? 0 : s->len - off < n ? s->len - off : n;
		FZ_CHECK(ret == (ssize_t)want, "pread(%zu, %llu): %zd", n,
			 (unsigned long long)off, ret);
		FZ_CHECK(memcmp(buf, s->model + (want ? off : 0), want) == 0,
			 "pread bytes");
	} else if (!s->writable) {
		expect_err(ret, EACCES, "pwrite read-only");
	} else if (off > s->len || s->len - off < n) {
		expect_err(ret, EINVAL, "pwrite range");
	} else {
		FZ_CHECK(ret == (ssize_t)n, "pwrite: %zd", ret);
		memcpy(s->model + off, buf, n);
	}
	free(buf);
	return 0;
}

static int op_misc(struct fze *s, struct fz *z)
{
	int64_t size = -1;
	int ret;

	switch (fz_u8(z) % 5) {
	case 0:
		mmfs_clear_error();
		ret = mmfs_size(s->map, &size);
		if (s->closed)
			return expect_err(ret, EBADF, "size closed");
		if (!ok_or_err(ret, "size"))
			return 0;
		if (!s->file)
			FZ_CHECK(size == (int64_t)s->len, "size of anon map");
		else
			FZ_CHECK(size >= s->offset + (int64_t)s->len,
				 "size: file shorter than the map");
		return 0;
	case 1: /* pin: close and resize must then refuse */
		ret = mmfs_pin(s->map, NULL, NULL);
		if (s->closed)
			return expect_err(ret, EBADF, "pin closed");
		FZ_CHECK(ret == 0, "pin");
		s->pins++;
		return 0;
	case 2:
		if (s->pins) {
			mmfs_unpin(s->map);
			s->pins--;
		}
		return 0;
	case 3:
		mmfs_clear_error();
		ret = mmfs_close(s->map);
		if (s->pins && !s->closed)
			return expect_err(ret, EBUSY, "close pinned");
		FZ_CHECK(ret == 0, "close: %d", ret);
		if (!s->closed)
			fze_guards_drop(s);
		s->closed = true;
		return 0;
	case 4:
		mmfs_clear_error();
		ret = mmfs_sync_length(s->map);
		if (s->closed)
			return expect_err(ret, EBADF, "sync_length closed");
		FZ_CHECK(ret == 0 || (ret == -EBADF && s->file),
			 "sync_length of an intact map: %d", ret);
		if (ret)
			expect_some_err(ret, "sync_length");
		return 0;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Dispatch: the names and the switch below in the same order */

const char *const fze_op_names[FZE_NOPS] = {
	"find", "rfind", "move", "madvise", "flush", "resize", "getslice",
	"setslice", "delslice", "item", "seek", "read", "write", "byte",
	"pio", "misc",
};

void fze_op(struct fze *s, struct fz *z, unsigned int op)
{
	switch (op) {
	case 0: op_find(s, z, false); break;
	case 1: op_find(s, z, true); break;
	case 2: op_move(s, z); break;
	case 3: op_madvise(s, z); break;
	case 4: op_flush(s, z); break;
	case 5: op_resize(s, z); break;
	case 6: op_getslice(s, z); break;
	case 7: op_setslice(s, z, false); break;
	case 8: op_setslice(s, z, true); break;
	case 9: op_item(s, z); break;
	case 10: op_seek(s, z); break;
	case 11: op_read(s, z); break;
	case 12: op_write(s, z); break;
	case 13: op_byte(s, z); break;
	case 14: op_pio(s, z); break;
	default: op_misc(s, z); break;
	}
}
