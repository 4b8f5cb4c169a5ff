/*
 * target.c - the one file fsx exercises, behind one set of calls: either a
 * path on any filesystem (plain system calls, and the mmapfs ioctls when it
 * is on an mmapfs mount) or the engine driven directly, the way the driver
 * drives it: grow with resize, keep an empty file unmapped.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fsx.h"
#include "mmapfs.h"
#include "mmfs.h"

#define FUSE_SUPER_MAGIC 0x65735546

/* The mapping between tgt_map and tgt_unmap (one at a time). */
static unsigned char *map_base;
static size_t map_len;
static uint64_t map_off;
static size_t map_ulen;

/* The search payload is 4 KiB: keep one rather than one per call. */
static struct mmapfs_find *find_arg;

static int engine_open(struct fsx *f, int64_t length)
{
	int fd = f->t.anon ? -1 : f->t.fd;
	int ret;

	ret = mmfs_open(&f->t.map, fd, length, MMFS_MAP_SHARED,
			MMFS_PROT_READ | MMFS_PROT_WRITE, MMFS_ACCESS_DEFAULT,
			0, 0);
	if (ret < 0)
		f->t.map = NULL;
	return ret;
}

static void engine_drop_map(struct fsx *f)
{
	int ret;

	if (f->t.map == NULL)
		return;
	ret = mmfs_close(f->t.map);
	if (ret != 0)
		fsx_fail(f, "mmfs_close: %s (%s)", strerror(-ret),
			 mmfs_errmsg());
	if (!mmfs_closed(f->t.map))
		fsx_fail(f, "mmfs_closed is false after mmfs_close");
	mmfs_free(f->t.map);
	f->t.map = NULL;
}

/* Python refuses to map an empty file, and mmap(2) a zero length: the
 * engine must say EINVAL and leave nothing behind. */
static void engine_check_empty_refused(struct fsx *f)
{
	struct mmfs_map *m = NULL;
	int ret;

	ret = mmfs_open(&m, f->t.anon ? -1 : f->t.fd, 0, MMFS_MAP_SHARED,
			MMFS_PROT_READ | MMFS_PROT_WRITE, MMFS_ACCESS_DEFAULT,
			0, 0);
	if (ret != -EINVAL)
		fsx_fail(f, "mmfs_open of an empty %s returned %d, "
			 "expected -EINVAL", f->t.anon ? "anonymous map" :
			 "file", ret);
}

void tgt_init(struct fsx *f)
{
	struct mmapfs_info info;
	struct statfs sfs;

	find_arg = calloc(1, sizeof(*find_arg));
	if (find_arg == NULL)
		fsx_fail(f, "out of memory");
	f->t.mmapfs = false;
	if (f->t.engine || f->t.fd < 0)
		return;
	if (fstatfs(f->t.fd, &sfs) < 0 || sfs.f_type != FUSE_SUPER_MAGIC)
		return;
	if (ioctl(f->t.fd, MMAPFS_IOC_INFO, &info) < 0)
		return;
	f->t.mmapfs = true;
	f->t.copy = info.access == 3; /* Python's ACCESS_COPY */
}

int tgt_open(struct fsx *f, bool trunc)
{
	struct stat st;
	int ret;

	if (f->t.anon) {
		if (trunc)
			engine_drop_map(f);
		return 0;
	}
	f->t.fd = open(f->t.path, O_RDWR | O_CREAT | (trunc ? O_TRUNC : 0),
		       0644);
	if (f->t.fd < 0)
		return -errno;
	if (!f->t.engine)
		return 0;
	if (fstat(f->t.fd, &st) < 0)
		return -errno;
	if (st.st_size == 0) {
		engine_check_empty_refused(f);
		return 0;
	}
	/* length 0: map the whole file, as the driver does on open. */
	ret = engine_open(f, 0);
	if (ret < 0)
		fsx_fail(f, "mmfs_open of a %lld-byte file: %s (%s)",
			 (long long)st.st_size, strerror(-ret), mmfs_errmsg());
	return 0;
}

void tgt_close(struct fsx *f)
{
	if (f->t.anon)
		return;
	engine_drop_map(f);
	if (f->t.fd >= 0 && close(f->t.fd) < 0)
		fsx_fail(f, "close: %s", strerror(errno));
	f->t.fd = -1;
}

static ssize_t file_pread(int fd, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = pread(fd, (char *)buf + done, n - done, off + done);
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

ssize_t tgt_pread(struct fsx *f, void *buf, size_t n, uint64_t off)
{
	if (!f->t.engine)
		return file_pread(f->t.fd, buf, n, off);
	if (f->t.map == NULL)
		return 0;
	return mmfs_pread(f->t.map, buf, n, off);
}

ssize_t tgt_pwrite(struct fsx *f, const void *buf, size_t n, uint64_t off)
{
	size_t done = 0;
	ssize_t r;
	int ret;

	if (f->t.engine) {
		uint64_t len = f->t.map ? (uint64_t)mmfs_len(f->t.map) : 0;

		if (n == 0)
			return 0;
		if (off > len || len - off < n) {
			ret = tgt_truncate(f, off + n);
			if (ret < 0)
				return ret;
		}
		return mmfs_pwrite(f->t.map, buf, n, off);
	}
	while (done < n) {
		r = pwrite(f->t.fd, (const char *)buf + done, n - done,
			   off + done);
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		done += r;
	}
	return done;
}

int tgt_truncate(struct fsx *f, uint64_t size)
{
	ssize_t len;
	int ret;

	if (!f->t.engine)
		return ftruncate(f->t.fd, size) < 0 ? -errno : 0;
	if (size == 0) {
		if (f->t.map != NULL) {
			/* resize(0) must be refused and change nothing. */
			len = mmfs_len(f->t.map);
			ret = mmfs_resize(f->t.map, 0);
			if (ret >= 0 || mmfs_len(f->t.map) != len)
				fsx_fail(f, "mmfs_resize(0) returned %d, "
					 "length %zd -> %zd", ret, len,
					 mmfs_len(f->t.map));
		}
		engine_drop_map(f);
		if (!f->t.anon && ftruncate(f->t.fd, 0) < 0)
			return -errno;
		engine_check_empty_refused(f);
		return 0;
	}
	if (f->t.map != NULL)
		return mmfs_resize(f->t.map, size);
	if (!f->t.anon && ftruncate(f->t.fd, size) < 0)
		return -errno;
	return engine_open(f, size);
}

/* The file's size as the target reports it; on the engine, every view of
 * it (len, size(), fstat of the file) must agree. */
int tgt_size(struct fsx *f, uint64_t *sizep)
{
	struct stat st;
	int64_t msize;
	ssize_t len;
	int ret;

	if (!f->t.anon) {
		if (fstat(f->t.fd, &st) < 0)
			return -errno;
		*sizep = st.st_size;
	}
	if (!f->t.engine)
		return 0;
	if (f->t.map == NULL) {
		if (f->t.anon)
			*sizep = 0;
		else if (*sizep != 0)
			fsx_fail(f, "engine unmapped but the file has %llu "
				 "bytes", (unsigned long long)*sizep);
		return 0;
	}
	len = mmfs_len(f->t.map);
	ret = mmfs_size(f->t.map, &msize);
	if (len < 0 || ret < 0)
		fsx_fail(f, "mmfs_len %zd, mmfs_size %d (%s)", len, ret,
			 mmfs_errmsg());
	if (f->t.anon)
		*sizep = len;
	if ((uint64_t)len != *sizep || (uint64_t)msize != *sizep)
		fsx_fail(f, "sizes disagree: mmfs_len %zd, mmfs_size %lld, "
			 "file %llu", len, (long long)msize,
			 (unsigned long long)*sizep);
	return 0;
}

int tgt_sync(struct fsx *f, bool data_only)
{
	int ret;

	if (f->t.engine && f->t.map != NULL) {
		ret = mmfs_flush(f->t.map, 0, mmfs_len(f->t.map));
		if (ret < 0)
			return ret;
	}
	if (f->t.anon)
		return 0;
	ret = data_only ? fdatasync(f->t.fd) : fsync(f->t.fd);
	return ret < 0 ? -errno : 0;
}

int tgt_map(struct fsx *f, uint64_t off, size_t len, bool writable,
	    unsigned char **pp)
{
	uint64_t pg = off - off % f->pagesize;
	void *p;
	size_t plen;
	int ret;

	map_off = off;
	map_ulen = len;
	if (f->t.engine) {
		ret = mmfs_pin(f->t.map, &p, &plen);
		if (ret < 0)
			return ret;
		map_base = p;
		map_len = plen;
		if (plen < off || plen - off < len)
			fsx_fail(f, "mmfs_pin gave %zu bytes, need %llu",
				 plen, (unsigned long long)(off + len));
		*pp = map_base + off;
		return 0;
	}
	map_len = off + len - pg;
	if (map_len == 0)
		map_len = 1;
	p = mmap(NULL, map_len, PROT_READ | (writable ? PROT_WRITE : 0),
		 MAP_SHARED, f->t.fd, pg);
	if (p == MAP_FAILED)
		return -errno;
	map_base = p;
	*pp = map_base + (off - pg);
	return 0;
}

int tgt_unmap(struct fsx *f, bool dirty)
{
	uint64_t pg = map_off - map_off % f->pagesize;
	int ret = 0;

	if (f->t.engine) {
		/* A pinned map must refuse to move or go away. */
		if (mmfs_resize(f->t.map, map_len + 1) != -EBUSY ||
		    mmfs_close(f->t.map) != -EBUSY)
			fsx_fail(f, "a pinned map was resized or closed");
		mmfs_unpin(f->t.map);
		if (dirty)
			ret = mmfs_flush(f->t.map, pg, map_off + map_ulen - pg);
		return ret;
	}
	if (dirty && msync(map_base, map_len, MS_SYNC) < 0)
		ret = -errno;
	if (munmap(map_base, map_len) < 0 && ret == 0)
		ret = -errno;
	return ret;
}

static int do_ioctl(struct fsx *f, unsigned long cmd, void *arg)
{
	return ioctl(f->t.fd, cmd, arg) < 0 ? -errno : 0;
}

int tgt_find(struct fsx *f, bool rev, const void *needle, size_t nlen,
	     int64_t start, int64_t end, uint32_t flags, int64_t *resultp)
{
	int ret;

	if (f->t.engine) {
		if (rev)
			return mmfs_rfind(f->t.map, needle, nlen, start, end,
					  resultp);
		return mmfs_find(f->t.map, needle, nlen, start, end, resultp);
	}
	memset(find_arg, 0, sizeof(*find_arg));
	find_arg->start = start;
	find_arg->end = end;
	find_arg->result = -2;
	find_arg->needle_len = nlen;
	find_arg->flags = flags;
	memcpy(find_arg->needle, needle,
	       nlen < MMAPFS_NEEDLE_MAX ? nlen : MMAPFS_NEEDLE_MAX);
	ret = do_ioctl(f, rev ? MMAPFS_IOC_RFIND : MMAPFS_IOC_FIND, find_arg);
	*resultp = find_arg->result;
	return ret;
}

int tgt_move(struct fsx *f, int64_t dest, int64_t src, int64_t count)
{
	struct mmapfs_move mv = {.dest = dest, .src = src, .count = count};

	if (f->t.engine)
		return mmfs_move(f->t.map, dest, src, count);
	return do_ioctl(f, MMAPFS_IOC_MOVE, &mv);
}

int tgt_madvise(struct fsx *f, int advice, uint32_t flags, int64_t start,
		int64_t length)
{
	struct mmapfs_madvise ma = {
		.advice = advice, .flags = flags, .start = start,
		.length = length};

	if (f->t.engine) {
		if (flags & MMAPFS_ARG_DEFAULT_LENGTH)
			length = mmfs_len(f->t.map);
		return mmfs_madvise(f->t.map, advice, start, length);
	}
	return do_ioctl(f, MMAPFS_IOC_MADVISE, &ma);
}

int tgt_flush(struct fsx *f, int64_t offset, int64_t size, uint32_t flags)
{
	struct mmapfs_flush fl = {
		.offset = offset, .size = size, .flags = flags};

	if (f->t.engine) {
		if (flags & MMAPFS_ARG_DEFAULT_SIZE)
			size = mmfs_len(f->t.map) - offset;
		return mmfs_flush(f->t.map, offset, size);
	}
	return do_ioctl(f, MMAPFS_IOC_FLUSH, &fl);
}

int tgt_info(struct fsx *f, struct mmapfs_info *info)
{
	return do_ioctl(f, MMAPFS_IOC_INFO, info);
}

/* Make the next reads come from below the cache: the kernel's page cache
 * of the file (on FUSE: the mount's cache, so reads reach the daemon). */
int tgt_drop(struct fsx *f)
{
	int ret;

	if (f->t.anon)
		return 0;
	ret = posix_fadvise(f->t.fd, 0, 0, POSIX_FADV_DONTNEED);
	return -ret;
}
