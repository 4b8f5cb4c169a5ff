/* verify.c - what the stress test's files hold and how it is checked:
 * the 16-byte stamps of the shared file, the checksummed records of the
 * log, the layout of the model in the memory the processes share, and the
 * final check of every byte (through the mount at the end of a run, or in
 * the backing directory later against an expect file). */
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

/* ---------------------------------------------------------------- stamps */

uint32_t st_hash3(uint32_t a, uint32_t b, uint32_t c)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ a;

	h = (h ^ ((uint64_t)b << 32)) * 0xBF58476D1CE4E5B9ull;
	h ^= h >> 29;
	h = (h ^ c) * 0x94D049BB133111EBull;
	h ^= h >> 32;
	return (uint32_t)h | 1; /* a valid stamp is never all zeros */
}

/* A 16-byte stamp: checksum, owner, block index, generation. */
void st_stamp(unsigned char *out, uint32_t id, uint32_t idx, uint32_t gen)
{
	uint32_t w[4] = {st_hash3(id, idx, gen), id, idx, gen};

	memcpy(out, w, sizeof(w));
}

int st_stamp_check(const unsigned char *p, uint32_t id, uint32_t idx,
		   uint32_t *gen)
{
	static const unsigned char zero[ST_BLOCK];
	uint32_t w[4];

	if (memcmp(p, zero, ST_BLOCK) == 0)
		return 0;
	memcpy(w, p, sizeof(w));
	if (w[1] != id || w[2] != idx || w[3] == 0 ||
	    w[0] != st_hash3(id, idx, w[3]))
		return -1;
	*gen = w[3];
	return 1;
}

/* ---------------------------------------------------------------- records */

static const char rec_magic[8] = {'m', 'm', 'f', 's', 'A', 'P', 'N', 'D'};

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* An append record of len bytes (>= ST_REC_HDR + 4): magic, length,
 * appender, sequence number, header checksum, payload, checksum. */
size_t st_record(unsigned char *out, uint32_t id, uint32_t seq, size_t len)
{
	uint32_t h[4] = {(uint32_t)len, id, seq, 0};
	uint64_t r = ((uint64_t)id << 32) | seq;
	uint32_t sum;
	size_t i;

	h[3] = st_hash3((uint32_t)len, id, seq);
	memcpy(out, rec_magic, 8);
	memcpy(out + 8, h, sizeof(h));
	for (i = ST_REC_HDR; i + 8 <= len - 4; i += 8) {
		uint64_t v = st_rand(&r);

		memcpy(out + i, &v, 8);
	}
	for (; i < len - 4; i++)
		out[i] = (unsigned char)st_rand(&r);
	sum = fnv1a(out, len - 4);
	memcpy(out + len - 4, &sum, 4);
	return len;
}

long st_record_parse(const unsigned char *p, size_t avail, uint32_t *id,
		     uint32_t *seq)
{
	uint32_t h[4], sum;

	if (avail < ST_REC_HDR)
		return 0;
	memcpy(h, p + 8, sizeof(h));
	if (memcmp(p, rec_magic, 8) != 0 || h[0] < ST_REC_HDR + 4 ||
	    h[0] > ST_REC_MAX || h[3] != st_hash3(h[0], h[1], h[2]))
		return -1;
	if (avail < h[0])
		return 0;
	memcpy(&sum, p + h[0] - 4, 4);
	if (sum != fnv1a(p, h[0] - 4))
		return -1;
	*id = h[1];
	*seq = h[2];
	return (long)h[0];
}

/* ---------------------------------------------------------------- model */

static unsigned int nworkers(const struct st_params *p)
{
	return p->nprocs * p->nthreads;
}

int st_model_layout(struct st_model *m, struct st_shared *sh,
		    const struct st_params *p)
{
	size_t off = sizeof(*sh), nw = nworkers(p);

	if (p->magic != ST_MAGIC || p->version != ST_VERSION || nw == 0 ||
	    nw > ST_MAXW || p->nopen > ST_MAXOPEN)
		return -EINVAL;
	m->sh = sh;
	m->nw = (unsigned int)nw;
	off = (off + 63) & ~(size_t)63;
	m->gens = (_Atomic uint32_t *)((char *)sh + off);
	off += nw * ST_RBLOCKS * sizeof(uint32_t);
	m->ogens = (_Atomic uint32_t *)((char *)sh + off);
	off += nw * p->nopen * sizeof(uint32_t);
	off = (off + 63) & ~(size_t)63;
	m->tdata = (unsigned char *)sh + off;
	off += nw * (size_t)ST_TMAX;
	m->total = off;
	return 0;
}

size_t st_area_size(const struct st_params *p)
{
	struct st_model m;
	struct st_shared sh;

	sh.p = *p;
	if (st_model_layout(&m, &sh, p) < 0)
		return 0;
	return m.total;
}

/* ---------------------------------------------------------------- verify */

static int verify_shared(struct st_model *m, int dirfd, const char *where)
{
	uint64_t size = (uint64_t)m->nw * ST_REGION, off, b;
	unsigned char want[ST_BLOCK], *buf = NULL;
	int fd, bad = 0;
	struct stat st;
	ssize_t n;

	fd = openat(dirfd, ST_SHARED, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return st_fail(NULL, "%s: open %s: %s", where, ST_SHARED,
			       strerror(errno));
	/* Read what the daemon holds, not the kernel's cached copy. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size) {
		bad = st_fail(NULL, "%s: %s has size %lld, expected %" PRIu64,
			      where, ST_SHARED, (long long)st.st_size, size);
		goto out;
	}
	buf = malloc(ST_REGION);
	if (!buf) {
		bad = st_fail(NULL, "out of memory");
		goto out;
	}
	for (off = 0; off < size; off += ST_REGION) {
		n = st_pread_full(fd, buf, ST_REGION, off);
		if (n != ST_REGION) {
			bad = st_fail(NULL, "%s: read %s at %" PRIu64 ": %s",
				      where, ST_SHARED, off,
				      n < 0 ? strerror((int)-n) : "short");
			goto out;
		}
		for (b = off / ST_BLOCK; b < (off + ST_REGION) / ST_BLOCK;
		     b++) {
			uint32_t gen = atomic_load(&m->gens[b]);
			unsigned char *got = buf + (b * ST_BLOCK - off);

			if (gen)
				st_stamp(want, (uint32_t)(b / ST_RBLOCKS),
					 (uint32_t)b, gen);
			else
				memset(want, 0, sizeof(want));
			if (memcmp(want, got, ST_BLOCK) == 0)
				continue;
			if (bad++ < 8) {
				st_fail(NULL,
					"%s: %s block %" PRIu64
					" (offset %" PRIu64 ", %s %" PRIu64
					") holds the "
					"wrong bytes: expected generation %u",
					where, ST_SHARED, b, b * ST_BLOCK,
					st_role_names[(b / ST_RBLOCKS) %
						      R_COUNT],
					b / ST_RBLOCKS, gen);
				st_hexdump("expected", want, ST_BLOCK,
					   b * ST_BLOCK);
				st_hexdump("got", got, ST_BLOCK, b * ST_BLOCK);
			}
		}
	}
out:
	free(buf);
	close(fd);
	return bad ? -1 : 0;
}

static int verify_log(struct st_model *m, int dirfd, const char *where)
{
	uint32_t *next = calloc(m->nw, sizeof(uint32_t)), id, seq;
	unsigned char *buf = NULL;
	uint64_t off = 0, nrec = 0;
	int fd = -1, bad = 0;
	struct stat st;
	unsigned int w;
	long len;
	ssize_t n;

	fd = openat(dirfd, ST_LOG, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !next) {
		bad = st_fail(NULL, "%s: open %s: %s", where, ST_LOG,
			      strerror(errno));
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (fstat(fd, &st) < 0) {
		bad = st_fail(NULL, "%s: stat %s: %s", where, ST_LOG,
			      strerror(errno));
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		bad = st_fail(NULL, "out of memory for %lld bytes",
			      (long long)st.st_size);
		goto out;
	}
	n = st_pread_full(fd, buf, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		bad = st_fail(NULL, "%s: read %s: %s", where, ST_LOG,
			      n < 0 ? strerror((int)-n) : "short");
		goto out;
	}
	while (off < (uint64_t)n) {
		len = st_record_parse(buf + off, (size_t)n - off, &id, &seq);
		if (len <= 0) {
			bad = st_fail(NULL,
				      "%s: %s: %s record at offset %" PRIu64
				      " (after %" PRIu64 " good ones, file "
				      "size %zd)",
				      where, ST_LOG,
				      len ? "corrupt" : "truncated", off, nrec,
				      n);
			st_hexdump("there", buf + off,
				   (size_t)n - off < 64 ? (size_t)n - off : 64,
				   off);
			goto out;
		}
		if (id >= m->nw || seq != next[id]) {
			bad = st_fail(NULL,
				      "%s: %s: record at %" PRIu64 " is "
				      "appender %u's #%u, expected #%u",
				      where, ST_LOG, off, id, seq,
				      id < m->nw ? next[id] : 0);
			goto out;
		}
		next[id]++;
		nrec++;
		off += (uint64_t)len;
	}
	for (w = 0; w < m->nw; w++) {
		if (next[w] != atomic_load(&m->sh->appended[w])) {
			bad = st_fail(NULL,
				      "%s: %s holds %u records of appender "
				      "%u, which appended %u",
				      where, ST_LOG, next[w], w,
				      atomic_load(&m->sh->appended[w]));
			goto out;
		}
	}
	st_say("%s: %s: %" PRIu64 " records, %zd bytes, all intact", where,
	       ST_LOG, nrec, n);
out:
	free(buf);
	free(next);
	if (fd >= 0)
		close(fd);
	return bad ? -1 : 0;
}

/* Compare a whole file with the bytes expected. */
static int verify_file(int dirfd, const char *name, const unsigned char *want,
		       size_t size, const char *where)
{
	unsigned char *got = malloc(size + 1);
	struct stat st;
	size_t i;
	ssize_t n;
	int fd, err = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !got) {
		free(got);
		return st_fail(NULL, "%s: open %s: %s", where, name,
			       strerror(errno));
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size) {
		err = st_fail(NULL, "%s: %s has size %lld, expected %zu", where,
			      name, (long long)st.st_size, size);
		goto out;
	}
	n = st_pread_full(fd, got, size + 1, 0);
	if (n != (ssize_t)size) {
		err = st_fail(NULL, "%s: read %s: %zd of %zu bytes (%s)", where,
			      name, n, size,
			      n < 0 ? strerror((int)-n) : "size");
		goto out;
	}
	if (memcmp(got, want, size) != 0) {
		for (i = 0; got[i] == want[i]; i++)
			;
		err = st_fail(NULL, "%s: %s differs first at offset %zu", where,
			      name, i);
		i &= ~(size_t)15;
		st_hexdump("expected", want + i, size - i < 32 ? size - i : 32,
			   i);
		st_hexdump("got", got + i, size - i < 32 ? size - i : 32, i);
	}
out:
	free(got);
	close(fd);
	return err;
}

/* The expected bytes of opener w's file i. */
static void opener_bytes(unsigned char *out, unsigned int w, unsigned int i,
			 uint32_t gen)
{
	unsigned int k;

	for (k = 0; k < ST_OSIZE / ST_BLOCK; k++)
		st_stamp(out + k * ST_BLOCK, w, i * (ST_OSIZE / ST_BLOCK) + k,
			 gen);
}

/* Every byte of every file the workers wrote, against the model. */
int st_verify(struct st_model *m, int dirfd, const char *where)
{
	unsigned char ob[ST_OSIZE];
	char name[64];
	unsigned int w, i;
	int bad = 0;

	if (verify_shared(m, dirfd, where) < 0)
		bad = -1;
	if (verify_log(m, dirfd, where) < 0)
		bad = -1;
	for (w = 0; w < m->nw; w++) {
		if (w % R_COUNT == R_TRUNCATER) {
			snprintf(name, sizeof(name), "trunc.%u", w);
			if (verify_file(
				    dirfd, name, m->tdata + (size_t)w * ST_TMAX,
				    atomic_load(&m->sh->tsize[w]), where) < 0)
				bad = -1;
		}
		if (w % R_COUNT != R_OPENER)
			continue;
		for (i = 0; i < m->sh->p.nopen; i++) {
			snprintf(name, sizeof(name), "open.%u.%u", w, i);
			opener_bytes(
				ob, w, i,
				atomic_load(
					&m->ogens[(size_t)w * m->sh->p.nopen +
						  i]));
			if (verify_file(dirfd, name, ob, sizeof(ob), where) <
			    0) {
				bad = -1;
				break;
			}
		}
	}
	if (!bad)
		st_say("%s: every byte checked: %u regions of %s, the log, "
		       "%u truncated and %u opener files",
		       where, m->nw, ST_SHARED,
		       (m->nw + R_COUNT - 1 - R_TRUNCATER) / R_COUNT,
		       m->sh->p.nopen *
			       ((m->nw + R_COUNT - 1 - R_OPENER) / R_COUNT));
	return bad;
}
