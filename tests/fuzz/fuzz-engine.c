/*
 * fuzz-engine.c - the engine's argument checks under fuzzing.  A map of a
 * few pages (a memfd file mapped in any access mode, or anonymous, or one
 * made with raw mmfs_open arguments) gets a stream of calls with extreme
 * arguments (INT64_MIN, INT64_MAX, SIZE_MAX, 0, -1, len, len + 1, ...).
 * After each call the result must be what an independent model of Python's
 * rules predicts (a count >= 0, or that -errno with a message), and the
 * map's length, position and every byte must match the model.  Nothing
 * outside the mapping may be touched: the pages around it are PROT_NONE
 * guards where they can be placed, and the rest of its last page is
 * compared after every call.  This file opens the map and checks the
 * state; the calls and their model are in fuzz-engine-ops.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-engine.h"

#define MAX_OPS 128

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* ------------------------------------------------------------------ */
/* Guards and the state check */

static void *guard_at(struct fze *s, void *at)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
	void *p = mmap(at, s->page, PROT_NONE, flags, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (p != at) { /* a kernel that ignores the flag */
		munmap(p, s->page);
		return NULL;
	}
	return p;
}

void fze_guards_drop(struct fze *s)
{
	for (int i = 0; i < 2; i++) {
		if (s->guard[i])
			munmap(s->guard[i], s->page);
		s->guard[i] = NULL;
	}
}

void fze_guards_put(struct fze *s)
{
	fze_guards_drop(s);
	s->guard[0] = guard_at(s, s->base - s->page);
	s->guard[1] = guard_at(s, s->base + page_round(s, s->len));
}

/*
 * Make the next mmap(NULL, span) likely to land between two guards: map
 * span plus two pages, then free the middle.  Returns the reservation (the
 * guards stay ours whether or not the engine's map lands there).
 */
static unsigned char *reserve(struct fze *s, size_t span)
{
	unsigned char *r = mmap(NULL, span + 2 * s->page, PROT_NONE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				-1, 0);

	if (r == MAP_FAILED)
		return NULL;
	munmap(r + s->page, span);
	return r;
}

static void reserve_done(struct fze *s, unsigned char *r, size_t span)
{
	if (!r)
		return;
	if (!s->closed && s->base == r + s->page &&
	    page_round(s, s->len) == span) {
		fze_guards_drop(s);
		s->guard[0] = r;
		s->guard[1] = r + s->page + span;
		return;
	}
	munmap(r, s->page);
	munmap(r + s->page + span, s->page);
	if (!s->closed)
		fze_guards_put(s);
}

void fze_snap_tail(struct fze *s)
{
	s->tail_len = page_round(s, s->len) - s->len;
	memcpy(s->tail, s->base + s->len, s->tail_len);
}

static void check_state(struct fze *s, const char *after)
{
	void *data = NULL;
	size_t plen = 0, i;

	if (s->closed) {
		FZ_CHECK(mmfs_closed(s->map), "%s: map not closed", after);
		FZ_CHECK(mmfs_len(s->map) == -EBADF, "%s: len of closed map",
			 after);
		return;
	}
	FZ_CHECK(!mmfs_closed(s->map), "%s: map closed", after);
	FZ_CHECK(mmfs_len(s->map) == (ssize_t)s->len,
		 "%s: len %zd, model %zu", after, mmfs_len(s->map), s->len);
	FZ_CHECK(mmfs_tell(s->map) == (int64_t)s->pos,
		 "%s: tell %lld, model %zu", after,
		 (long long)mmfs_tell(s->map), s->pos);
	FZ_CHECK(mmfs_pin(s->map, &data, &plen) == 0, "%s: pin", after);
	mmfs_unpin(s->map);
	FZ_CHECK(data == s->base && plen == s->len,
		 "%s: pin gives %p+%zu, expected %p+%zu", after, data, plen,
		 (void *)s->base, s->len);
	if (memcmp(s->base, s->model, s->len) != 0) {
		for (i = 0; s->base[i] == s->model[i]; i++)
			;
		fz_fail(__FILE__, __LINE__,
			"%s: byte %zu is %#x, model %#x (len %zu)", after, i,
			s->base[i], s->model[i], s->len);
	}
	FZ_CHECK(memcmp(s->base + s->len, s->tail, s->tail_len) == 0,
		 "%s: a byte past the end of the map changed", after);
}

/* ------------------------------------------------------------------ */
/* Opening */

/* The backing file: size bytes of a small alphabet, so that needles
 * taken at random often match, and lines are short. */
static int make_file(struct fz *z, size_t size, unsigned char *keep)
{
	unsigned int nalpha = 1 + fz_below(z, 6), x = (uint32_t)fz_uint(z, 4);
	static const char alpha[] = "a\nb\0cd";
	unsigned char *buf = keep;
	int fd;

	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)alpha[x % nalpha];
	}
	fd = memfd_create("fuzz-engine", MFD_CLOEXEC);
	FZ_CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
	FZ_CHECK(pwrite(fd, buf, size, 0) == (ssize_t)size, "pwrite: %s",
		 strerror(errno));
	return fd;
}

/* mmfs_open's own checks, in Python's order (reference 3.2). */
static int open_expect(int64_t length, int64_t offset, int flags, int prot,
		       int access)
{
	if (length < 0 || offset < 0)
		return EOVERFLOW;
	if (access != MMFS_ACCESS_DEFAULT &&
	    (flags != MAP_SHARED || prot != (PROT_READ | PROT_WRITE)))
		return EINVAL;
	if (access < MMFS_ACCESS_DEFAULT || access > MMFS_ACCESS_COPY)
		return EINVAL;
	return 0;
}

/*
 * The map of this run.  kind: 0 a file mapped whole (WRITE); 1 at an offset
 * of a page, with more file after the map; 2 READ; 3 COPY; 4 DEFAULT
 * shared; 5 DEFAULT private; 6 anonymous shared (a memfd); 7 anonymous
 * private; 8 anonymous shared without trackfd; 9 a file without trackfd;
 * 10 raw arguments, mostly refused.  Returns false when there is no map.
 */
static bool open_map(struct fze *s, struct fz *z)
{
	static const int kind_access[] = {2, 2, 1, 3, 0, 0, 0, 0, 0, 2};
	static const int flag_set[] = {
		MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE,
		MAP_SHARED | MAP_POPULATE, MAP_PRIVATE | MAP_NORESERVE, 0};
	static const int prot_set[] = {
		PROT_READ | PROT_WRITE, PROT_READ, PROT_READ | PROT_EXEC};
	static const int access_set[] = {0, 1, 2, 3, -1, 4, INT32_MIN,
					 INT32_MAX};
	unsigned int kind = fz_u8(z) % 11, opts = 0;
	size_t flen = 1 + fz_below(z, 3 * s->page + 1), extra = 0, span;
	int64_t length = (int64_t)flen, offset = 0;
	int flags = MAP_SHARED, prot = PROT_READ | PROT_WRITE;
	int access = 0, fd = -1, want = 0, ret, rofd = -1;
	char path[64];
	unsigned char *r;
	void *data;

	if (kind <= 5 || kind == 9 || (kind == 10 && fz_u8(z) % 4 != 0)) {
		s->file = true;
		if (kind == 1 && flen > s->page)
			offset = (int64_t)s->page;
		if (kind == 1 || fz_u8(z) % 3 == 0)
			extra = fz_below(z, s->page + 1);
		s->file0_len = (size_t)offset + flen + extra;
		s->fd = make_file(z, s->file0_len, s->file0);
		fd = s->fd;
		if (kind == 0)
			length = 0; /* the whole file */
	}
	if (kind < 10)
		access = kind_access[kind];
	if (kind == 5 || kind == 7)
		flags = MAP_PRIVATE;
	if (kind == 8 || kind == 9)
		opts = MMFS_OPEN_NOTRACKFD;
	if (kind == 10) {
		length = fz_i64(z, (int64_t)flen, (int64_t)s->page);
		offset = fz_i64(z, (int64_t)flen, (int64_t)s->page);
		flags = flag_set[fz_below(z, 6)];
		prot = prot_set[fz_below(z, 3)];
		access = access_set[fz_below(z, 8)];
		opts = fz_u8(z) & MMFS_OPEN_NOTRACKFD;
		if (s->file && fz_u8(z) % 4 == 0) {
			/* a read-only descriptor: write maps are refused */
			snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
			rofd = open(path, O_RDONLY | O_CLOEXEC);
			if (rofd >= 0)
				fd = rofd;
		}
		/* MAP_POPULATE of a huge anonymous map would fill gigabytes
		 * and trip libFuzzer's RSS limit; the flag is not what is
		 * tested past MODEL_MAX. */
		if ((flags & MAP_POPULATE) && length > MODEL_MAX)
			flags &= ~MAP_POPULATE;
		want = open_expect(length, offset, flags, prot, access);
	}

	span = page_round(s, length > 0 && length < MODEL_MAX ? (size_t)length
							       : flen);
	r = reserve(s, span);
	mmfs_clear_error();
	ret = mmfs_open(&s->map, fd, length, flags, prot, access, offset,
			opts);
	if (rofd >= 0)
		close(rofd);
	if (want) {
		expect_err(ret, want, "open");
		FZ_CHECK(s->map == NULL, "open failed but gave a map");
	} else if (kind != 10) {
		FZ_CHECK(ret == 0, "open kind %u: %d (%s)", kind, ret,
			 mmfs_errmsg());
	} else if (!ok_or_err(ret, "open")) {
		FZ_CHECK(s->map == NULL, "open failed but gave a map");
	}
	if (ret < 0) {
		s->closed = true;
		reserve_done(s, r, span);
		return false;
	}
	s->len = (size_t)mmfs_len(s->map);
	FZ_CHECK(mmfs_pin(s->map, &data, NULL) == 0, "pin after open");
	mmfs_unpin(s->map);
	s->base = data;
	s->offset = mmfs_offset(s->map);
	s->shared = (mmfs_flags(s->map) & MAP_TYPE) != MAP_PRIVATE;
	s->writable = mmfs_access(s->map) != MMFS_ACCESS_READ;
	s->resizeable = !(opts & MMFS_OPEN_NOTRACKFD) &&
			(mmfs_access(s->map) == MMFS_ACCESS_DEFAULT ||
			 mmfs_access(s->map) == MMFS_ACCESS_WRITE);
	if (kind != 10) {
		FZ_CHECK(s->len == (kind == 0 ? s->file0_len : flen),
			 "open kind %u: len %zu", kind, s->len);
		FZ_CHECK(s->offset == offset, "open: offset");
	}
	if (s->len > MODEL_MAX) { /* a raw open of a huge anonymous map */
		FZ_CHECK(mmfs_close(s->map) == 0, "close of a big map");
		s->closed = true;
		reserve_done(s, r, span);
		return false;
	}
	if (s->file)
		FZ_CHECK(memcmp(s->base, s->file0 + s->offset, s->len) == 0,
			 "open: the map does not show the file");
	else
		for (size_t i = 0; i < s->len; i++)
			FZ_CHECK(s->base[i] == 0, "open: anonymous byte %zu",
				 i);
	memcpy(s->model, s->base, s->len);
	reserve_done(s, r, span);
	fze_snap_tail(s);
	return true;
}

/* ------------------------------------------------------------------ */
/* The end of the run */

static void check_file(struct fze *s)
{
	unsigned char *now;
	struct stat st;

	if (!s->file || s->fd < 0 || fstat(s->fd, &st) != 0)
		return;
	now = malloc((size_t)st.st_size + 1);
	FZ_CHECK(pread(s->fd, now, (size_t)st.st_size, 0) == st.st_size,
		 "pread of the file");
	/* Nobody writes the file below the map's offset. */
	FZ_CHECK((size_t)st.st_size >= (size_t)s->offset &&
			 memcmp(now, s->file0, (size_t)s->offset) == 0,
		 "the file changed below the map");
	if (!s->resized && !s->holed && (!s->shared || !s->writable))
		FZ_CHECK((size_t)st.st_size == s->file0_len &&
				 memcmp(now, s->file0, s->file0_len) == 0,
			 "a read-only or private map changed its file");
	if (!s->closed && s->shared && s->writable)
		FZ_CHECK(memcmp(now + s->offset, s->model, s->len) == 0,
			 "the file differs from its shared map");
	free(now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fze s;
	static unsigned char *model, *file0, *tail;
	static bool trace;
	struct fz z = {data, size};
	unsigned int op, nops = 0;

	if (!model) {
		trace = getenv("FUZZ_TRACE") != NULL;
		model = malloc(MODEL_MAX);
		/* a file is at most a page, 3 pages + 1 and a page */
		file0 = malloc((size_t)sysconf(_SC_PAGESIZE) * 6);
		tail = malloc((size_t)sysconf(_SC_PAGESIZE));
	}
	memset(&s, 0, sizeof(s));
	s.model = model;
	s.file0 = file0;
	s.tail = tail;
	s.fd = -1;
	s.page = (size_t)sysconf(_SC_PAGESIZE);
	if (!open_map(&s, &z))
		goto out;
	check_state(&s, "open");
	if (trace)
		fprintf(stderr, "open: len %zu offset %lld access %d shared %d "
			"file %d resizeable %d guards %d%d\n", s.len,
			(long long)s.offset,
			mmfs_access(s.map), s.shared, s.file, s.resizeable,
			s.guard[0] != NULL, s.guard[1] != NULL);
	while (!fz_empty(&z) && nops++ < MAX_OPS) {
		op = fz_u8(&z) % FZE_NOPS;
		if (trace)
			fprintf(stderr, "%u: %s (len %zu pos %zu)\n", nops,
				fze_op_names[op], s.len, s.pos);
		fze_op(&s, &z, op);
		check_state(&s, fze_op_names[op]);
	}
	check_file(&s);
out:
	while (s.pins--)
		mmfs_unpin(s.map);
	mmfs_free(s.map);
	fze_guards_drop(&s);
	if (s.fd >= 0)
		close(s.fd);
	return 0;
}

