/* roles.c - what each worker of the stress test does until the deadline:
 * writers and mappers stamp their own regions of one shared file, readers
 * check that every stamp they see is whole, appenders add checksummed
 * records to one log, truncaters and openers mirror their own files in a
 * model, ioctl callers query the shared files, and the namespace worker
 * creates, renames, links and removes files beside them.  Each check that
 * can only fail through a bug is strict; views that a concurrent writer may
 * legitimately tear are re-read before they count as a failure. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmapfs.h"
#include "stress.h"

#define RETRIES 8

static uint64_t shared_size(const struct st_worker *w)
{
	return (uint64_t)w->m->nw * ST_REGION;
}

static uint32_t region_base(const struct st_worker *w)
{
	return w->wid * ST_RBLOCKS;
}

/* The expected bytes of blocks [b, b + n) from the model. */
static void expected_blocks(const struct st_worker *w, unsigned char *out,
			    uint32_t b, uint32_t n)
{
	uint32_t i, gen;

	for (i = 0; i < n; i++) {
		gen = atomic_load_explicit(&w->m->gens[b + i],
					   memory_order_relaxed);
		if (gen)
			st_stamp(out + (size_t)i * ST_BLOCK, b / ST_RBLOCKS,
				 b + i, gen);
		else
			memset(out + (size_t)i * ST_BLOCK, 0, ST_BLOCK);
	}
}

/* Strict: blocks [b, b + n) of our own region, read with pread(2) or out
 * of a mapping, must be exactly what the model says. */
static int check_own(struct st_worker *w, int fd, const unsigned char *map,
		     uint32_t b, uint32_t n, const char *how)
{
	size_t len = (size_t)n * ST_BLOCK;
	uint64_t off = (uint64_t)b * ST_BLOCK;
	size_t i;
	ssize_t got;

	if (map) {
		st_op_begin(w, OP_MAPCOPY);
		memcpy(w->buf2, map + off, len);
		st_op_end(w);
	} else {
		st_op_begin(w, OP_PREAD);
		got = st_pread_full(fd, w->buf2, len, off);
		st_op_end(w);
		if (got != (ssize_t)len)
			return st_fail(w,
				       "%s of own blocks at %" PRIu64
				       ": %zd of %zu bytes (%s)",
				       how, off, got, len,
				       got < 0 ? strerror((int)-got) : "short");
	}
	expected_blocks(w, w->buf, b, n);
	if (memcmp(w->buf, w->buf2, len) == 0)
		return 0;
	for (i = 0; i < len && w->buf[i] == w->buf2[i]; i++)
		;
	i &= ~(size_t)(ST_BLOCK - 1);
	st_fail(w,
		"%s of own block %" PRIu64 " (offset %" PRIu64
		"): not what was written",
		how, (off + i) / ST_BLOCK, off + i);
	st_hexdump("expected", w->buf + i, ST_BLOCK, off + i);
	st_hexdump("got", w->buf2 + i, ST_BLOCK, off + i);
	return -1;
}

/*
 * Tolerant: every block of someone else's region must be zero or a whole
 * stamp of its owner for that very block.  A block seen torn (a writer
 * copying at the same moment) is read again; only one that stays wrong
 * fails.  From a mapping when map is not NULL.
 */
static int check_foreign(struct st_worker *w, int fd, const unsigned char *map,
			 const unsigned char *p, uint32_t b, uint32_t n)
{
	unsigned char blk[ST_BLOCK];
	uint32_t i, gen;
	int t, ok;
	ssize_t got;

	for (i = 0; i < n; i++) {
		uint32_t x = b + i;

		if (st_stamp_check(p + (size_t)i * ST_BLOCK, x / ST_RBLOCKS, x,
				   &gen) >= 0)
			continue;
		ok = 0;
		for (t = 0; t < RETRIES && !ok; t++) {
			st_sleep_us(1000u << (t < 4 ? t : 4));
			if (map) {
				memcpy(blk, map + (uint64_t)x * ST_BLOCK,
				       ST_BLOCK);
			} else {
				st_op_begin(w, OP_PREAD);
				got = st_pread_full(fd, blk, ST_BLOCK,
						    (uint64_t)x * ST_BLOCK);
				st_op_end(w);
				if (got != ST_BLOCK)
					return st_fail(
						w, "re-read of block %u: %s", x,
						got < 0 ? strerror((int)-got)
							: "short");
			}
			ok = st_stamp_check(blk, x / ST_RBLOCKS, x, &gen) >= 0;
		}
		if (!ok) {
			st_fail(w,
				"block %u of %s (%s %u's region, offset "
				"%" PRIu64 ") is neither zero nor its owner's "
				"stamp%s",
				x, ST_SHARED,
				st_role_names[(x / ST_RBLOCKS) % R_COUNT],
				x / ST_RBLOCKS, (uint64_t)x * ST_BLOCK,
				map ? " (through a mapping)" : "");
			st_hexdump("block", blk, ST_BLOCK,
				   (uint64_t)x * ST_BLOCK);
			return -1;
		}
		atomic_fetch_add(&w->slot->retries, 1);
	}
	return 0;
}

static int do_find(struct st_worker *w, int fd, bool rev, const void *needle,
		   uint32_t nlen, int64_t start, int64_t end, int64_t *result)
{
	struct mmapfs_find f;
	int r;

	memset(&f, 0, offsetof(struct mmapfs_find, needle));
	f.start = start;
	f.end = end;
	f.needle_len = nlen;
	memcpy(f.needle, needle, nlen);
	st_op_begin(w, rev ? OP_RFIND : OP_FIND);
	r = ioctl(fd, rev ? MMAPFS_IOC_RFIND : MMAPFS_IOC_FIND, &f);
	st_op_end(w);
	if (r < 0)
		return -errno;
	*result = f.result;
	return 0;
}

/* Strict: a stamp the daemon already holds (written by pwrite, or synced
 * from a mapping) is found exactly where it is, forwards and backwards. */
static int find_own(struct st_worker *w, int fd, uint32_t b, bool rev)
{
	unsigned char needle[ST_BLOCK];
	int64_t off = (int64_t)b * ST_BLOCK, start, end, res = -2;
	uint32_t gen = atomic_load(&w->m->gens[b]);
	int err;

	if (!gen)
		return 0;
	st_stamp(needle, w->wid, b, gen);
	if (rev) {
		start = (int64_t)st_below(&w->rng, (uint64_t)off + 1);
		end = (int64_t)shared_size(w) -
		      (int64_t)st_below(&w->rng, shared_size(w) -
							 (uint64_t)off -
							 ST_BLOCK + 1);
	} else {
		start = (int64_t)st_below(&w->rng, (uint64_t)off + 1);
		end = st_below(&w->rng, 2) ? INT64_MAX
					   : (int64_t)shared_size(w);
	}
	err = do_find(w, fd, rev, needle, ST_BLOCK, start, end, &res);
	if (err)
		return st_fail(w, "%s of own stamp: %s", rev ? "RFIND" : "FIND",
			       strerror(-err));
	if (res != off)
		return st_fail(w,
			       "%s of own stamp (block %u, generation %u) in "
			       "[%" PRId64 ", %" PRId64 ") returned %" PRId64
			       ", expected %" PRId64,
			       rev ? "RFIND" : "FIND", b, gen, start, end, res,
			       off);
	return 0;
}

/* ---------------------------------------------------------------- writer */

/* How many blocks one write covers: mostly small, some large, a few the
 * whole region. */
static uint32_t pick_count(struct st_worker *w)
{
	uint64_t r = st_below(&w->rng, 100);

	if (r < 80)
		return 1 + (uint32_t)st_below(&w->rng, 64);
	if (r < 96)
		return 65 + (uint32_t)st_below(&w->rng, 960);
	return ST_RBLOCKS;
}

static void make_stamps(struct st_worker *w, uint32_t b, uint32_t n,
			uint32_t gen)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		st_stamp(w->buf + (size_t)i * ST_BLOCK, w->wid, b + i, gen);
}

static void model_store(struct st_worker *w, uint32_t b, uint32_t n,
			uint32_t gen)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		atomic_store_explicit(&w->m->gens[b + i], gen,
				      memory_order_relaxed);
}

static int role_writer(struct st_worker *w)
{
	uint32_t base = region_base(w), gen = 0, n, b;
	int fd = w->shared_fd, own = -1, rc = 0;
	uint64_t r;
	ssize_t got;

	/* every other writer has a descriptor of its own */
	if ((w->wid / R_COUNT) % 2) {
		own = openat(w->dirfd, ST_SHARED, O_RDWR | O_CLOEXEC);
		if (own < 0)
			return st_fail(w, "open %s: %s", ST_SHARED,
				       strerror(errno));
		fd = own;
	}
	while (!st_stopping(w) && rc == 0) {
		n = pick_count(w);
		b = base + (uint32_t)st_below(&w->rng, ST_RBLOCKS - n + 1);
		make_stamps(w, b, n, ++gen);
		st_op_begin(w, OP_PWRITE);
		got = st_pwrite_full(fd, w->buf, (size_t)n * ST_BLOCK,
				     (uint64_t)b * ST_BLOCK);
		st_op_end(w);
		if (got != (ssize_t)n * ST_BLOCK) {
			rc = st_fail(w, "pwrite of %u bytes at %" PRIu64 ": %s",
				     n * ST_BLOCK, (uint64_t)b * ST_BLOCK,
				     got < 0 ? strerror((int)-got) : "short");
			break;
		}
		model_store(w, b, n, gen);
		r = st_below(&w->rng, 100);
		if (r < 10) {
			n = pick_count(w);
			b = base +
			    (uint32_t)st_below(&w->rng, ST_RBLOCKS - n + 1);
			rc = check_own(w, fd, NULL, b, n, "pread");
		} else if (r < 16) {
			rc = find_own(w, fd, b + (uint32_t)st_below(&w->rng, n),
				      r < 13);
		} else if (r == 16) {
			st_op_begin(w, OP_FSYNC);
			if ((st_below(&w->rng, 2) ? fdatasync(fd) : fsync(fd)) <
			    0)
				rc = st_fail(w, "fsync: %s", strerror(errno));
			st_op_end(w);
		}
	}
	if (rc == 0)
		rc = check_own(w, fd, NULL, base, ST_RBLOCKS, "final pread");
	if (own >= 0)
		close(own);
	return rc;
}

/* ---------------------------------------------------------------- reader */

struct logview {
	uint64_t pos;		/* offset of the next record to parse */
	uint32_t next[ST_MAXW]; /* the seq each appender must show next */
	uint64_t records;
};

/*
 * Parse the log from the view's position on, as far as one read reaches.
 * Records never change once written, so every one must be whole; only the
 * last may be cut short by the read.  Something else is read again (an
 * append in flight), and fails if it stays so.
 */
static int log_scan(struct st_worker *w, int fd, struct logview *v,
		    size_t chunk)
{
	uint32_t id, seq;
	size_t at = 0;
	ssize_t got;
	long len;
	int t;

	st_op_begin(w, OP_PREAD);
	got = st_pread_full(fd, w->buf, chunk, v->pos);
	st_op_end(w);
	if (got < 0)
		return st_fail(w, "read %s at %" PRIu64 ": %s", ST_LOG, v->pos,
			       strerror((int)-got));
	for (;;) {
		len = st_record_parse(w->buf + at, (size_t)got - at, &id, &seq);
		for (t = 0; len < 0 && t < RETRIES; t++) {
			st_sleep_us(2000u << (t < 4 ? t : 4));
			st_op_begin(w, OP_PREAD);
			got = st_pread_full(fd, w->buf, ST_REC_MAX, v->pos);
			st_op_end(w);
			if (got < 0)
				return st_fail(
					w, "re-read %s at %" PRIu64 ": %s",
					ST_LOG, v->pos, strerror((int)-got));
			at = 0;
			len = st_record_parse(w->buf, (size_t)got, &id, &seq);
			if (len >= 0)
				atomic_fetch_add(&w->slot->retries, 1);
		}
		if (len < 0) {
			st_fail(w,
				"%s: corrupt record at offset %" PRIu64
				" after %" PRIu64 " good ones",
				ST_LOG, v->pos, v->records);
			st_hexdump("there", w->buf + at,
				   (size_t)got - at < 48 ? (size_t)got - at
							 : 48,
				   v->pos);
			return -1;
		}
		if (len == 0)
			return 0;
		if (id >= w->m->nw || seq != v->next[id])
			return st_fail(w,
				       "%s: record at %" PRIu64 " is appender "
				       "%u's #%u, expected #%u",
				       ST_LOG, v->pos, id, seq,
				       id < w->m->nw ? v->next[id] : 0);
		v->next[id]++;
		v->records++;
		v->pos += (uint64_t)len;
		at += (size_t)len;
	}
}

static int role_reader(struct st_worker *w)
{
	uint64_t size = shared_size(w), r, off;
	struct logview *v = calloc(1, sizeof(*v));
	int sfd, lfd = -1, rc = 0;
	uint32_t n;
	ssize_t got;

	sfd = openat(w->dirfd, ST_SHARED, O_RDONLY | O_CLOEXEC);
	if (sfd >= 0)
		lfd = openat(w->dirfd, ST_LOG, O_RDONLY | O_CLOEXEC);
	if (sfd < 0 || lfd < 0 || !v) {
		rc = st_fail(w, "open: %s", strerror(errno));
		goto out;
	}
	while (!st_stopping(w) && rc == 0) {
		r = st_below(&w->rng, 100);
		if (r < 55) {
			n = 1 +
			    (uint32_t)st_below(&w->rng, ST_BUFSZ / ST_BLOCK);
			if (r < 40)
				n = 1 + n % 512;
			off = st_below(&w->rng, size / ST_BLOCK);
			if (n > size / ST_BLOCK - off)
				n = (uint32_t)(size / ST_BLOCK - off);
			st_op_begin(w, OP_PREAD);
			got = st_pread_full(r < 50 ? sfd : w->shared_fd,
					    w->buf2, (size_t)n * ST_BLOCK,
					    off * ST_BLOCK);
			st_op_end(w);
			if (got != (ssize_t)n * ST_BLOCK) {
				rc = st_fail(
					w,
					"pread of %u bytes of %s at %" PRIu64
					": %s",
					n * ST_BLOCK, ST_SHARED, off * ST_BLOCK,
					got < 0 ? strerror((int)-got)
						: "short read");
				break;
			}
			rc = check_foreign(w, sfd, NULL, w->buf2, (uint32_t)off,
					   n);
		} else if (r < 95) {
			rc = log_scan(w, lfd, v,
				      r < 90 ? 256 * 1024 : ST_BUFSZ);
		} else if (r < 97) {
			memset(v, 0, sizeof(*v)); /* from the start again */
		} else {
			/* read what the daemon holds, not the cache */
			posix_fadvise(sfd, 0, 0, POSIX_FADV_DONTNEED);
			posix_fadvise(lfd, 0, 0, POSIX_FADV_DONTNEED);
		}
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (lfd >= 0)
		close(lfd);
	free(v);
	return rc;
}

/* ---------------------------------------------------------------- appender */

static int role_appender(struct st_worker *w)
{
	struct st_shared *sh = w->m->sh;
	struct logview *v = calloc(1, sizeof(*v));
	uint32_t seq = 0;
	int fd, rc = 0;
	uint64_t r;
	size_t len;
	off_t end;
	ssize_t got;

	fd = openat(w->dirfd, ST_LOG, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0 || !v) {
		free(v);
		return st_fail(w, "open %s: %s", ST_LOG, strerror(errno));
	}
	while (!st_stopping(w) && rc == 0) {
		if (atomic_load(&sh->log_full)) {
			/* the log is as big as allowed: check it instead */
			rc = log_scan(w, fd, v, ST_BUFSZ);
			st_sleep_us(1000);
			continue;
		}
		r = st_below(&w->rng, 100);
		len = ST_REC_HDR + 4;
		if (r < 90)
			len += st_below(&w->rng, 512);
		else if (r < 99)
			len += st_below(&w->rng, 8192);
		else
			len += st_below(&w->rng, ST_REC_MAX - len + 1);
		st_record(w->buf, w->wid, seq, len);
		st_op_begin(w, OP_APPEND);
		got = write(fd, w->buf, len);
		st_op_end(w);
		if (got != (ssize_t)len) {
			rc = st_fail(w, "append of %zu bytes: %s", len,
				     got < 0 ? strerror(errno) : "short write");
			break;
		}
		atomic_store(&sh->appended[w->wid], ++seq);
		end = lseek(fd, 0, SEEK_CUR);
		if (end < (off_t)len) {
			rc = st_fail(w, "offset %lld after an append of %zu",
				     (long long)end, len);
			break;
		}
		if ((uint64_t)end >= sh->p.logmax)
			atomic_store(&sh->log_full, 1);
		r = st_below(&w->rng, 100);
		if (r < 5) {
			/* strict: records never move or change */
			st_op_begin(w, OP_PREAD);
			got = st_pread_full(fd, w->buf2, len,
					    (uint64_t)end - len);
			st_op_end(w);
			if (got != (ssize_t)len ||
			    memcmp(w->buf, w->buf2, len) != 0)
				rc = st_fail(w,
					     "own record #%u at %lld reads "
					     "back wrong (%zd bytes)",
					     seq - 1, (long long)(end - len),
					     got);
		} else if (r == 5) {
			st_op_begin(w, OP_FSYNC);
			if (fsync(fd) < 0)
				rc = st_fail(w, "fsync: %s", strerror(errno));
			st_op_end(w);
		}
	}
	close(fd);
	free(v);
	return rc;
}

/* ---------------------------------------------------------------- mapper */

static int map_shared(struct st_worker *w, int fd, unsigned char **mapp)
{
	void *p;

	st_op_begin(w, OP_MMAP);
	p = mmap(NULL, shared_size(w), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	st_op_end(w);
	if (p == MAP_FAILED)
		return st_fail(w, "mmap of %s: %s", ST_SHARED, strerror(errno));
	*mapp = p;
	return 0;
}

static int msync_own(struct st_worker *w, unsigned char *map, int flags)
{
	int r;

	st_op_begin(w, OP_MSYNC);
	r = msync(map + (uint64_t)region_base(w) * ST_BLOCK, ST_REGION, flags);
	st_op_end(w);
	if (r < 0)
		return st_fail(w, "msync: %s", strerror(errno));
	return 0;
}

static int role_mapper(struct st_worker *w)
{
	uint32_t base = region_base(w), gen = 0, n, b;
	unsigned char *map = NULL;
	int fd, rc = 0;
	uint64_t r;

	fd = openat(w->dirfd, ST_SHARED, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return st_fail(w, "open %s: %s", ST_SHARED, strerror(errno));
	rc = map_shared(w, fd, &map);
	while (!st_stopping(w) && rc == 0) {
		r = st_below(&w->rng, 100);
		n = pick_count(w);
		b = base + (uint32_t)st_below(&w->rng, ST_RBLOCKS - n + 1);
		if (r < 45) {
			make_stamps(w, b, n, ++gen);
			st_op_begin(w, OP_MAPCOPY);
			memcpy(map + (uint64_t)b * ST_BLOCK, w->buf,
			       (size_t)n * ST_BLOCK);
			st_op_end(w);
			model_store(w, b, n, gen);
		} else if (r < 55) {
			rc = msync_own(w, map, r < 50 ? MS_SYNC : MS_ASYNC);
		} else if (r < 65) {
			rc = check_own(w, fd, map, b, n, "mapped read");
		} else if (r < 73) {
			rc = check_own(w, fd, NULL, b, n, "pread");
		} else if (r < 85) {
			/* someone else's region, through the mapping */
			b = (uint32_t)st_below(
				&w->rng, shared_size(w) / ST_BLOCK - n + 1);
			memcpy(w->buf2, map + (uint64_t)b * ST_BLOCK,
			       (size_t)n * ST_BLOCK);
			rc = check_foreign(w, fd, map, w->buf2, b, n);
		} else if (r < 90) {
			rc = msync_own(w, map, MS_SYNC);
			st_op_begin(w, OP_MUNMAP);
			munmap(map, shared_size(w));
			st_op_end(w);
			map = NULL;
			if (rc == 0)
				rc = map_shared(w, fd, &map);
			if (rc == 0)
				rc = check_own(w, fd, map, base, ST_RBLOCKS,
					       "read after remapping");
		} else {
			/* once synced, the daemon holds the stamps */
			rc = msync_own(w, map, MS_SYNC);
			if (rc == 0)
				rc = find_own(w, fd, b, r < 95);
		}
	}
	if (map) {
		if (rc == 0)
			rc = msync_own(w, map, MS_SYNC);
		if (rc == 0)
			rc = check_own(w, fd, NULL, base, ST_RBLOCKS,
				       "final pread");
		munmap(map, shared_size(w));
	}
	close(fd);
	return rc;
}

/* ---------------------------------------------------------------- ioctl */

static int ioctl_call(struct st_worker *w, int fd, int op, unsigned long cmd,
		      void *arg)
{
	int r;

	st_op_begin(w, op);
	r = ioctl(fd, cmd, arg);
	st_op_end(w);
	return r < 0 ? -errno : 0;
}

static int ioctl_madvise(struct st_worker *w, int fd, uint64_t size,
			 const char *name)
{
	static const int advice[] = {MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL,
				     MADV_WILLNEED, MADV_DONTNEED};
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), r;
	struct mmapfs_madvise ma;
	int err, want = 0;

	memset(&ma, 0, sizeof(ma));
	ma.advice = advice[st_below(&w->rng, 5)];
	ma.start = (int64_t)(st_below(&w->rng, size) & ~(page - 1));
	ma.length = (int64_t)st_below(&w->rng, size - (uint64_t)ma.start + 1);
	r = st_below(&w->rng, 10);
	if (r == 0) {
		ma.flags = MMAPFS_ARG_DEFAULT_LENGTH;
	} else if (r == 1) {
		ma.start = -(int64_t)page; /* bad: before the start */
		want = -EINVAL;
	} else if (r == 2) {
		ma.flags = 0x80; /* bad: unknown flag */
		want = -EINVAL;
	}
	err = ioctl_call(w, fd, OP_MADVISE, MMAPFS_IOC_MADVISE, &ma);
	if (err != want)
		return st_fail(w,
			       "MADVISE(%d, %" PRId64 ", %" PRId64
			       ", flags %#x) on %s (size %" PRIu64
			       "): %s, expected %s",
			       ma.advice, ma.start, ma.length, ma.flags, name,
			       size, err ? strerror(-err) : "success",
			       want ? strerror(-want) : "success");
	return 0;
}

static int role_ioctl(struct st_worker *w)
{
	uint64_t size = shared_size(w), logsize = 0, requests = 0, r;
	unsigned char blk[ST_BLOCK];
	struct mmapfs_stats stats;
	struct mmapfs_info info;
	int sfd, lfd = -1, rc = 0, err;
	int64_t res, start;
	uint32_t b, gen;
	uint32_t word;

	sfd = openat(w->dirfd, ST_SHARED, O_RDONLY | O_CLOEXEC);
	if (sfd >= 0)
		lfd = openat(w->dirfd, ST_LOG, O_RDONLY | O_CLOEXEC);
	if (sfd < 0 || lfd < 0) {
		rc = st_fail(w, "open: %s", strerror(errno));
		goto out;
	}
	while (!st_stopping(w) && rc == 0) {
		r = st_below(&w->rng, 100);
		if (r < 12) {
			err = ioctl_call(w, sfd, OP_INFO, MMAPFS_IOC_INFO,
					 &info);
			if (err)
				rc = st_fail(w, "INFO on %s: %s", ST_SHARED,
					     strerror(-err));
			else if (info.file_size != size ||
				 (info.length != 0 && info.length != size) ||
				 info.mapped != (info.length != 0) ||
				 info.page_size != sysconf(_SC_PAGESIZE))
				rc = st_fail(w,
					     "INFO on %s: file size %" PRIu64
					     ", length %" PRIu64
					     ", mapped %u, page %u; "
					     "expected size %" PRIu64,
					     ST_SHARED, info.file_size,
					     info.length, info.mapped,
					     info.page_size, size);
		} else if (r < 20) {
			err = ioctl_call(w, lfd, OP_INFO, MMAPFS_IOC_INFO,
					 &info);
			if (err)
				rc = st_fail(w, "INFO on %s: %s", ST_LOG,
					     strerror(-err));
			else if (info.file_size < logsize)
				rc = st_fail(w,
					     "INFO on %s: the log shrank "
					     "from %" PRIu64 " to %" PRIu64,
					     ST_LOG, logsize, info.file_size);
			else
				logsize = info.file_size;
		} else if (r < 28) {
			err = ioctl_call(w, r < 24 ? w->dirfd : sfd, OP_STATS,
					 MMAPFS_IOC_STATS, &stats);
			if (err)
				rc = st_fail(w, "STATS: %s", strerror(-err));
			else if (stats.requests < requests ||
				 stats.live_mappings == 0)
				rc = st_fail(w,
					     "STATS: requests %" PRIu64
					     " after %" PRIu64 ", %" PRIu64
					     " live mappings",
					     stats.requests, requests,
					     stats.live_mappings);
			else
				requests = stats.requests;
		} else if (r < 50) {
			/* a stamp we see is found where we saw it, or not
			 * at all if its owner changed it since (or has not
			 * synced it from a mapping yet) */
			b = (uint32_t)st_below(&w->rng, size / ST_BLOCK);
			st_op_begin(w, OP_PREAD);
			res = st_pread_full(sfd, blk, ST_BLOCK,
					    (uint64_t)b * ST_BLOCK);
			st_op_end(w);
			if (res != ST_BLOCK) {
				rc = st_fail(w, "pread of block %u: %s", b,
					     res < 0 ? strerror((int)-res)
						     : "short");
				break;
			}
			if (st_stamp_check(blk, b / ST_RBLOCKS, b, &gen) != 1)
				continue;
			start = (int64_t)st_below(&w->rng,
						  (uint64_t)b * ST_BLOCK + 1);
			err = do_find(w, sfd, r >= 40, blk, ST_BLOCK,
				      r >= 40 ? 0 : start,
				      r >= 40 ? (int64_t)(b + 1) * ST_BLOCK
					      : INT64_MAX,
				      &res);
			if (err)
				rc = st_fail(w, "FIND of a stamp: %s",
					     strerror(-err));
			else if (res != -1 && res != (int64_t)b * ST_BLOCK)
				rc = st_fail(w,
					     "%s of block %u's stamp "
					     "returned %" PRId64,
					     r >= 40 ? "RFIND" : "FIND", b,
					     res);
		} else if (r < 60) {
			/* a record header found in the log is a whole
			 * record, or one still being appended */
			if (!logsize)
				continue;
			start = (int64_t)st_below(&w->rng, logsize);
			err = do_find(w, lfd, r >= 55, "mmfsAPND", 8,
				      r >= 55 ? 0 : start,
				      r >= 55 ? start + 8 : INT64_MAX, &res);
			if (err) {
				rc = st_fail(w, "FIND in %s: %s", ST_LOG,
					     strerror(-err));
				break;
			}
			if (res < 0)
				continue;
			for (err = 0; err < RETRIES; err++) {
				if (err)
					st_sleep_us(2000u
						    << (err < 4 ? err : 4));
				st_op_begin(w, OP_PREAD);
				start = st_pread_full(lfd, w->buf, ST_REC_MAX,
						      (uint64_t)res);
				st_op_end(w);
				if (start < ST_REC_HDR ||
				    st_record_parse(w->buf, (size_t)start, &b,
						    &gen) >= 0)
					break;
			}
			if (err == RETRIES) {
				rc = st_fail(
					w,
					"%s: FIND found a header at %" PRId64
					" but no record",
					ST_LOG, res);
				st_hexdump("there", w->buf, 48, (uint64_t)res);
			}
		} else if (r < 80) {
			if (r >= 72 && !logsize)
				continue;
			rc = ioctl_madvise(w, r < 72 ? sfd : lfd,
					   r < 72 ? size : logsize,
					   r < 72 ? ST_SHARED : ST_LOG);
		} else if (r < 88) {
			struct mmapfs_flush fl = {
				.flags = MMAPFS_ARG_DEFAULT_SIZE};

			err = ioctl_call(w, sfd, OP_FLUSH, MMAPFS_IOC_FLUSH,
					 &fl);
			if (err)
				rc = st_fail(w, "FLUSH of %s: %s", ST_SHARED,
					     strerror(-err));
		} else if (r < 94) {
			err = ioctl_call(w, sfd, OP_BADIOCTL,
					 _IOR(MMAPFS_IOC_MAGIC, 99, uint32_t),
					 &word);
			if (err != -ENOTTY)
				rc = st_fail(w,
					     "unknown ioctl: %s, expected "
					     "ENOTTY",
					     err ? strerror(-err) : "success");
		} else {
			err = ioctl_call(w, sfd, OP_BADIOCTL,
					 _IOR(MMAPFS_IOC_MAGIC, 6, uint32_t),
					 &word);
			if (err != -EINVAL)
				rc = st_fail(w,
					     "INFO with a wrong size: %s, "
					     "expected EINVAL",
					     err ? strerror(-err) : "success");
		}
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (lfd >= 0)
		close(lfd);
	return rc;
}

/* ---------------------------------------------------------------- rest */

int st_ns_role(struct st_worker *w);
int st_opener_role(struct st_worker *w);
int st_trunc_role(struct st_worker *w);

int st_role_run(struct st_worker *w)
{
	switch (w->role) {
	case R_WRITER:
		return role_writer(w);
	case R_READER:
		return role_reader(w);
	case R_APPENDER:
		return role_appender(w);
	case R_MAPPER:
		return role_mapper(w);
	case R_TRUNCATER:
		return st_trunc_role(w);
	case R_IOCTL:
		return role_ioctl(w);
	case R_NAMESPACE:
		return st_ns_role(w);
	case R_OPENER:
		return st_opener_role(w);
	}
	return st_fail(w, "no such role %d", w->role);
}
