/* trunc.c - the stress test's truncater: one file of its own, mirrored in
 * a model (in the memory shared with the parent, which checks the file
 * again at the end), changed by writes, truncations up and down, O_TRUNC
 * reopens, fallocate (allocate, keep size, punch a hole, zero a range) and
 * copy_file_range within the file; its size is checked after every op and
 * its bytes often. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stress.h"

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif
#ifndef FALLOC_FL_ZERO_RANGE
#define FALLOC_FL_ZERO_RANGE 0x10
#endif

int st_trunc_role(struct st_worker *w);

struct tfile {
	char name[32];
	char path[4096];
	int fd;
	unsigned char *model; /* ST_TMAX bytes, zero from size on */
	uint32_t size;
	bool no_falloc[4]; /* the mount refused that mode */
	bool no_copy;	   /* ... or copy_file_range */
};

static int trunc_check(struct st_worker *w, struct tfile *t, bool bytes)
{
	struct stat st;
	ssize_t got;
	uint32_t i;

	st_op_begin(w, OP_STAT);
	if (fstat(t->fd, &st) < 0) {
		st_op_end(w);
		return st_fail(w, "fstat %s: %s", t->name, strerror(errno));
	}
	st_op_end(w);
	if (st.st_size != t->size)
		return st_fail(w, "%s: size %lld, expected %u", t->name,
			       (long long)st.st_size, t->size);
	if (!bytes)
		return 0;
	st_op_begin(w, OP_PREAD);
	got = st_pread_full(t->fd, w->buf2, (size_t)t->size + 4096, 0);
	st_op_end(w);
	if (got != t->size)
		return st_fail(w, "%s: read %zd bytes, expected %u (%s)",
			       t->name, got, t->size,
			       got < 0 ? strerror((int)-got) : "size");
	if (memcmp(w->buf2, t->model, t->size) == 0)
		return 0;
	for (i = 0; w->buf2[i] == t->model[i]; i++)
		;
	st_fail(w, "%s (size %u): bytes differ first at offset %u", t->name,
		t->size, i);
	i &= ~15u;
	st_hexdump("expected", t->model + i,
		   t->size - i < 32 ? t->size - i : 32, i);
	st_hexdump("got", w->buf2 + i, t->size - i < 32 ? t->size - i : 32, i);
	return -1;
}

static void trunc_model(struct st_worker *w, struct tfile *t, uint32_t size)
{
	if (size < t->size)
		memset(t->model + size, 0, t->size - size);
	t->size = size;
	atomic_store(&w->m->sh->tsize[w->wid], size);
}

static int trunc_write(struct st_worker *w, struct tfile *t, uint64_t r)
{
	uint32_t len, off;
	uint64_t i;
	ssize_t got;

	len = 1 + (uint32_t)st_below(&w->rng, r < 30 ? 8192 : 65536);
	off = (uint32_t)st_below(&w->rng,
				 (r & 1 ? t->size : ST_TMAX - len) + 1);
	if (off > ST_TMAX - len)
		off = ST_TMAX - len;
	for (i = 0; i < len; i += 8) {
		uint64_t v = st_rand(&w->rng);

		memcpy(w->buf + i, &v, 8);
	}
	st_op_begin(w, OP_PWRITE);
	got = st_pwrite_full(t->fd, w->buf, len, off);
	st_op_end(w);
	if (got != len)
		return st_fail(w, "%s: pwrite of %u at %u: %s", t->name, len,
			       off, got < 0 ? strerror((int)-got) : "short");
	memcpy(t->model + off, w->buf, len);
	if (off + len > t->size)
		trunc_model(w, t, off + len);
	return 0;
}

/* fallocate: allocate (may grow), keep size, punch a hole, zero a range
 * (may grow).  A mode the mount refuses is not tried again. */
static int trunc_falloc(struct st_worker *w, struct tfile *t)
{
	static const int modes[4] = {0, FALLOC_FL_KEEP_SIZE,
				     FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				     FALLOC_FL_ZERO_RANGE};
	unsigned int k = (unsigned int)st_below(&w->rng, 4);
	uint32_t len, off, end, zend;
	int r;

	if (t->no_falloc[k])
		return 0;
	len = 1 + (uint32_t)st_below(&w->rng, 32768);
	off = (uint32_t)st_below(&w->rng, ST_TMAX - len + 1);
	end = off + len;
	st_op_begin(w, OP_FTRUNCATE);
	r = fallocate(t->fd, modes[k], off, len);
	st_op_end(w);
	if (r < 0) {
		if (errno == EOPNOTSUPP || errno == ENOSYS) {
			t->no_falloc[k] = true;
			return 0;
		}
		return st_fail(w, "%s: fallocate(mode %#x, %u, %u): %s",
			       t->name, modes[k], off, len, strerror(errno));
	}
	if (modes[k] & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
		zend = end < t->size ? end : t->size;
		if (off < zend)
			memset(t->model + off, 0, zend - off);
	}
	if (!(modes[k] & FALLOC_FL_KEEP_SIZE) && end > t->size)
		trunc_model(w, t, end);
	return 0;
}

/* copy_file_range between two ranges of the file that do not overlap
 * (the kernel refuses overlapping ones): as many bytes as the source
 * holds up to the end, and the destination may grow. */
static int trunc_copy(struct st_worker *w, struct tfile *t)
{
	uint32_t len = 1 + (uint32_t)st_below(&w->rng, 16384), in, out, n;
	loff_t oin, oout;
	ssize_t got;

	in = (uint32_t)st_below(&w->rng, (uint64_t)t->size + 1);
	out = (uint32_t)st_below(&w->rng, ST_TMAX - len + 1);
	if (!(out + len <= in || out >= in + len))
		return 0;
	n = in < t->size ? t->size - in : 0;
	if (n > len)
		n = len;
	oin = in;
	oout = out;
	st_op_begin(w, OP_PWRITE);
	got = copy_file_range(t->fd, &oin, t->fd, &oout, len, 0);
	st_op_end(w);
	if (got < 0 &&
	    (errno == EOPNOTSUPP || errno == ENOSYS || errno == EXDEV)) {
		t->no_copy = true;
		return 0;
	}
	if (got != n)
		return st_fail(w,
			       "%s: copy_file_range(%u -> %u, %u) of a %u "
			       "byte file returned %zd (%s), expected %u",
			       t->name, in, out, len, t->size, got,
			       got < 0 ? strerror(errno) : "count", n);
	if (n == 0)
		return 0;
	memmove(t->model + out, t->model + in, n);
	if (out + n > t->size)
		trunc_model(w, t, out + n);
	return 0;
}

int st_trunc_role(struct st_worker *w)
{
	struct tfile t = {.model = w->m->tdata + (size_t)w->wid * ST_TMAX};
	uint32_t size;
	int rc = 0, err;
	uint64_t r;

	snprintf(t.name, sizeof(t.name), "trunc.%u", w->wid);
	snprintf(t.path, sizeof(t.path), "%s/%s", w->cfg->dir, t.name);
	t.fd = openat(w->dirfd, t.name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0644);
	if (t.fd < 0)
		return st_fail(w, "create %s: %s", t.name, strerror(errno));
	trunc_model(w, &t, 0);
	while (!st_stopping(w) && rc == 0) {
		r = st_below(&w->rng, 100);
		if (r < 35) {
			rc = trunc_write(w, &t, r);
		} else if (r < 58) {
			size = r < 46 ? (uint32_t)st_below(&w->rng, t.size + 1)
				      : (uint32_t)st_below(&w->rng,
							   ST_TMAX + 1);
			st_op_begin(w, r < 54 ? OP_FTRUNCATE : OP_TRUNCATE);
			err = r < 54 ? ftruncate(t.fd, size)
				     : truncate(t.path, size);
			st_op_end(w);
			if (err < 0)
				rc = st_fail(w, "%s: truncate to %u: %s",
					     t.name, size, strerror(errno));
			else
				trunc_model(w, &t, size);
		} else if (r < 62) {
			st_op_begin(w, OP_CLOSE);
			close(t.fd);
			st_op_end(w);
			st_op_begin(w, OP_OPEN);
			t.fd = openat(w->dirfd, t.name,
				      O_RDWR | O_TRUNC | O_CLOEXEC);
			st_op_end(w);
			if (t.fd < 0)
				return st_fail(w, "reopen %s with O_TRUNC: %s",
					       t.name, strerror(errno));
			trunc_model(w, &t, 0);
		} else if (r < 70) {
			rc = trunc_falloc(w, &t);
		} else if (r < 77) {
			rc = trunc_copy(w, &t);
		} else if (r < 97) {
			rc = trunc_check(w, &t, true);
			continue;
		} else {
			st_op_begin(w, OP_FSYNC);
			if (fsync(t.fd) < 0)
				rc = st_fail(w, "fsync %s: %s", t.name,
					     strerror(errno));
			st_op_end(w);
		}
		if (rc == 0)
			rc = trunc_check(w, &t, false);
	}
	if (rc == 0)
		rc = trunc_check(w, &t, true);
	close(t.fd);
	if (t.no_falloc[0] || t.no_falloc[1] || t.no_falloc[2] ||
	    t.no_falloc[3] || t.no_copy)
		st_say("truncater %u: refused by the mount:%s%s%s%s%s", w->wid,
		       t.no_falloc[0] ? " fallocate" : "",
		       t.no_falloc[1] ? " fallocate(KEEP_SIZE)" : "",
		       t.no_falloc[2] ? " fallocate(PUNCH_HOLE)" : "",
		       t.no_falloc[3] ? " fallocate(ZERO_RANGE)" : "",
		       t.no_copy ? " copy_file_range" : "");
	return rc;
}
