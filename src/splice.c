/*
 * splice.c - reply to a read of a file-backed map by splice(2) from the
 * backing file, whose page cache the map shows: the same bytes, moved
 * into the reply as page references and copied once, by the kernel, into
 * the FUSE request, without the daemon's page tables ever mapping them.
 *
 * /dev/fuse takes a reply in one piece, header first, and the header is
 * libfuse's to write.  So the read's data is loaded into a pipe of the
 * worker thread first (mmfs_splice_load), where a short count shows an
 * end of file moved from outside before anything is promised; then the
 * reply the read sends is caught on its way out (mmfs_splice_send, from
 * the session's writev hook): its header goes into a second pipe, the data
 * follows it from the first, and both go to /dev/fuse.  Whatever fails on
 * the way leaves the reply to be written from the map as before.
 *
 * A small read is loaded by pread(2) into a buffer of the thread instead,
 * and its reply written with that buffer in place of the map's bytes: two
 * system calls where splicing takes four, which on these paravirtualized
 * guests costs more than copying a few pages twice (random 4 KiB reads
 * ran 5-10% faster).
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fs.h"

struct pipe_pair {
	int rd, wr;
};

/* A worker thread's pipes, made on its first read. */
struct splice_state {
	struct pipe_pair data; /* the loaded bytes */
	struct pipe_pair msg;  /* header, then the data: the whole reply */
	size_t slots;	       /* pages a pipe holds */
	size_t loaded;	       /* bytes in data */
	const void *mem;       /* the map's bytes the loaded ones stand for */
	bool broken;	       /* pipes cannot be had: do not try again */
	char *copy;	       /* a small load, read into memory */
	bool copied;	       /* the load is in copy, not in data */
};

static __thread struct splice_state st = {
	{ -1, -1 }, { -1, -1 }, 0, 0, NULL, false, NULL, false
};

/* Loads up to this size are read into memory (see the top). */
#define COPY_MAX (16 * 1024)

/* Closes a worker's pipes when it exits (-o max_idle_threads lets libfuse
 * end idle workers). */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static bool exit_key_ok;

static void pair_close(struct pipe_pair *p)
{
	if (p->rd >= 0)
		close(p->rd);
	if (p->wr >= 0)
		close(p->wr);
	p->rd = p->wr = -1;
}

/* Drop both pipes with whatever they hold; the next load makes new ones. */
static void reset(struct splice_state *s)
{
	pair_close(&s->data);
	pair_close(&s->msg);
	s->loaded = 0;
	s->mem = NULL;
}

/* /dev/null, where a load the read cannot use is poured out. */
static int null_fd = -1;
static pthread_once_t null_once = PTHREAD_ONCE_INIT;

static void null_open(void)
{
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
}

/* Empty the data pipe of the n bytes a load left in it (the file changed
 * outside, or no reply took them): a file read while something outside
 * appends to it would otherwise pay for new pipes at every read of its
 * end.  Drops the pipes if they cannot be emptied.  The message pipe is
 * empty whenever data holds a load (a send that fails resets both). */
static void discard(struct splice_state *s, size_t n)
{
	ssize_t r;

	pthread_once(&null_once, null_open);
	s->loaded = 0;
	s->mem = NULL;
	while (n > 0 && null_fd >= 0) {
		r = splice(s->data.rd, NULL, null_fd, NULL, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n -= (size_t)r;
	}
	if (n > 0)
		reset(s);
}

/* One pipe, non-blocking (a splice into a full pipe then comes back short
 * instead of waiting for a reader), of the size a reply needs: one buffer
 * per page, one for the header.  Returns the pages it holds, or 0. */
static size_t pair_open(struct pipe_pair *p, struct splice_state *s)
{
	int fds[2], r;

	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		if (errno != EMFILE && errno != ENFILE)
			s->broken = true;
		return 0;
	}
	p->rd = fds[0];
	p->wr = fds[1];
	r = fcntl(p->wr, F_SETPIPE_SZ, MMFS_MAX_IO);
	if (r < 0)
		r = fcntl(p->wr, F_GETPIPE_SZ);
	if (r <= 0) {
		s->broken = true;
		return 0;
	}
	return (size_t)r / mmfs_pagesize();
}

static void on_exit_thread(void *p)
{
	struct splice_state *s = p;

	reset(s);
	free(s->copy);
	s->copy = NULL;
}

static void exit_key_make(void)
{
	exit_key_ok = pthread_key_create(&exit_key, on_exit_thread) == 0;
}

/* Arrange for the thread's pipes and buffer to go when it exits. */
static bool exit_hook(struct splice_state *s)
{
	pthread_once(&exit_once, exit_key_make);
	return exit_key_ok && pthread_setspecific(exit_key, s) == 0;
}

static bool pipes_ready(struct splice_state *s)
{
	size_t a, b;

	if (s->data.rd >= 0)
		return true;
	if (s->broken)
		return false;
	if (!exit_hook(s)) {
		s->broken = true; /* pipes would outlive the thread */
		return false;
	}
	a = pair_open(&s->data, s);
	b = a ? pair_open(&s->msg, s) : 0;
	if (!b) {
		reset(s);
		return false;
	}
	s->slots = a < b ? a : b;
	return true;
}

/* The pages [off, off + len) spans. */
static size_t pages_spanned(off_t off, size_t len)
{
	uint64_t page = mmfs_pagesize();
	uint64_t a = (uint64_t)off & ~(page - 1);

	return (size_t)(((uint64_t)off + len - a + page - 1) / page);
}

/*
 * pread(2) until n bytes or the end, first of cached pages only
 * (RWF_NOWAIT): should that stop short of the end, the request loop passes
 * to another thread before this one waits for the disk.
 */
static ssize_t pread_cached_first(int fd, char *buf, size_t n, off_t off)
{
	static _Atomic bool no_nowait; /* EOPNOTSUPP: the file system cannot */
	struct iovec v;
	size_t done = 0;
	ssize_t r;

	while (done < n && !no_nowait) {
		v.iov_base = buf + done;
		v.iov_len = n - done;
		r = preadv2(fd, &v, 1, off + (off_t)done, RWF_NOWAIT);
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r == 0)
			return (ssize_t)done;
		if (errno == EINTR)
			continue;
		if (errno == EOPNOTSUPP)
			no_nowait = true;
		else if (errno == EAGAIN)
			mmfs_loop_yield();
		else
			return done ? (ssize_t)done : -errno;
		break;
	}
	r = mmfs_pread_all(fd, buf + done, n - done, (uint64_t)off + done,
			   NULL);
	if (r < 0)
		return done ? (ssize_t)done : r;
	return (ssize_t)(done + (size_t)r);
}

/* A small load: into the thread's buffer, by pread(2). */
static bool copy_load(struct splice_state *s, int fd, off_t off, size_t len,
		      size_t want, const void *mem)
{
	if (!s->copy) {
		if (!exit_hook(s))
			return false;
		s->copy = malloc(COPY_MAX + 1); /* + the end probe's byte */
		if (!s->copy)
			return false;
	}
	/* shorter: the file shrank; longer: it grew */
	if (pread_cached_first(fd, s->copy, want, off) != (ssize_t)len)
		return false;
	s->loaded = len;
	s->mem = mem;
	s->copied = true;
	return true;
}

bool mmfs_splice_load(int fd, off_t off, size_t len, bool at_end,
		      const void *mem)
{
	struct splice_state *s = &st;
	size_t want = at_end ? len + 1 : len, done = 0;
	ssize_t r;

	if (s->loaded)
		mmfs_splice_drop(); /* a reply that never went out */
	if (len <= COPY_MAX)
		return copy_load(s, fd, off, len, want, mem);
	/* a splice cannot tell cached pages from the disk's */
	mmfs_loop_yield();
	if (!pipes_ready(s) || pages_spanned(off, want) + 1 > s->slots)
		return false;
	while (done < len) {
		r = splice(fd, &off, s->data.wr, NULL, want - done, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* the file ends sooner than the map, or cannot be
			 * read this way (a write-only descriptor) */
			discard(s, done);
			return false;
		}
		done += (size_t)r;
	}
	if (done != len) { /* at_end: the file goes on past the map */
		discard(s, done);
		return false;
	}
	s->loaded = len;
	s->mem = mem;
	return true;
}

void mmfs_splice_drop(void)
{
	struct splice_state *s = &st;

	if (s->copied) {
		s->copied = false;
		s->loaded = 0;
		s->mem = NULL;
	} else if (s->loaded) {
		discard(s, s->loaded);
	}
}

bool mmfs_splice_send(int devfd, const struct iovec *iov, int count,
		      ssize_t *res)
{
	struct splice_state *s = &st;
	size_t hdr, total;
	ssize_t r;

	if (!s->loaded)
		return false;
	if (count != 2 || iov[1].iov_base != s->mem ||
	    iov[1].iov_len != s->loaded) {
		mmfs_splice_drop();
		return false;
	}
	if (s->copied) {
		struct iovec v[2] = {iov[0], {s->copy, s->loaded}};

		mmfs_splice_drop();
		*res = writev(devfd, v, 2);
		return true;
	}
	hdr = iov[0].iov_len;
	total = hdr + s->loaded;
	if (write(s->msg.wr, iov[0].iov_base, hdr) != (ssize_t)hdr)
		goto fail;
	/* pipe to pipe: the buffers move, the bytes stay where they are */
	do
		r = splice(s->data.rd, NULL, s->msg.wr, NULL, s->loaded, 0);
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)s->loaded)
		goto fail;
	/* The kernel takes the whole message or none of it.  If it refused
	 * (the request was interrupted meanwhile: ENOENT), writev from the
	 * map then gets the same answer. */
	do
		r = splice(s->msg.rd, NULL, devfd, NULL, total, 0);
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)total)
		goto fail;
	s->loaded = 0;
	s->mem = NULL;
	*res = r;
	return true;
fail:
	reset(s);
	return false;
}
