/* map.c - the mapping object's life: open (Python's constructor, reference
 * §3), close, state, pinning, the atomic resize, re-syncing the length after
 * an outside truncation, and Python's slice normalisation. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmfs-int.h"

/*
 * ThreadSanitizer does not see mremap(2): the addresses a mapping moves or
 * grows to keep the access history of whatever was mapped there before,
 * and it then reports races between unrelated files.  Built with it, the
 * engine resizes by mmap(2) and munmap(2), which it does see.
 */
#if defined(__SANITIZE_THREAD__)
#define MMFS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MMFS_TSAN 1
#endif
#endif
#ifdef MMFS_TSAN
#define MMFS_USE_MREMAP 0
#else
#define MMFS_USE_MREMAP 1
#endif

size_t mmfs_pagesize(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

size_t mmfs_allocation_granularity(void)
{
	return mmfs_pagesize();
}

/* Reference §3.3: what access a map gets, and which flags/prot it uses. */
static void mmfs_resolve_access(int *access, int *flags, int *prot)
{
	switch (*access) {
	case MMFS_ACCESS_READ:
		*flags = MAP_SHARED;
		*prot = PROT_READ;
		break;
	case MMFS_ACCESS_WRITE:
		*flags = MAP_SHARED;
		*prot = PROT_READ | PROT_WRITE;
		break;
	case MMFS_ACCESS_COPY:
		*flags = MAP_PRIVATE;
		*prot = PROT_READ | PROT_WRITE;
		break;
	default:
		if ((*prot & PROT_READ) && (*prot & PROT_WRITE))
			break;
		*access = (*prot & PROT_WRITE) ? MMFS_ACCESS_WRITE
					       : MMFS_ACCESS_READ;
		break;
	}
}

/* Reference §3.2 step 8: only a regular file's size is checked. */
static int mmfs_check_file_size(int fd, int64_t *length, int64_t offset)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if (*length == 0) {
		if (st.st_size == 0)
			return mmfs_fail(EINVAL, "cannot mmap an empty file");
		if (offset >= st.st_size)
			return mmfs_fail(EINVAL, "mmap offset is greater than "
						 "file size");
		if (st.st_size - offset > SSIZE_MAX)
			return mmfs_fail(EINVAL, "mmap length is too large");
		*length = st.st_size - offset;
	} else if (offset > st.st_size || st.st_size - offset < *length) {
		return mmfs_fail(EINVAL,
				 "mmap length is greater than file size");
	}
	return 0;
}

static bool mmfs_is_shared(int flags)
{
	int type = flags & MAP_TYPE;

	return type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
}

/*
 * A shared anonymous map lives in a memfd, so that resize can grow it (the
 * kernel cannot grow MAP_SHARED|MAP_ANONYMOUS: the new pages fault).  The
 * memfd is mapped from its start; offset is only checked for alignment, as
 * the kernel would for an anonymous map, and reported.
 */
static int mmfs_open_memfd(struct mmfs_map *map, size_t length,
			   int64_t offset)
{
	int fd;
	void *data;
	int err;

	if ((uint64_t)offset % mmfs_pagesize() != 0)
		return mmfs_fail_os(EINVAL);
	fd = memfd_create("mmfs-anon", MFD_CLOEXEC);
	if (fd < 0)
		return errno == ENOSYS ? -ENOSYS : mmfs_fail_os(errno);
	if (ftruncate(fd, (off_t)length) != 0) {
		err = errno;
		goto fail_fd;
	}
	data = mmap(NULL, length, map->prot, map->flags & ~MAP_ANONYMOUS, fd,
		    0);
	if (data == MAP_FAILED) {
		err = errno;
		goto fail_fd;
	}
	map->data = data;
	map->fd = fd;
	return 0;

fail_fd:
	close(fd);
	return mmfs_fail_os(err);
}

int mmfs_open(struct mmfs_map **mapp, int fd, int64_t length, int flags,
	      int prot, int access, int64_t offset, unsigned int opts)
{
	struct mmfs_map *map;
	void *data;
	int err;

	*mapp = NULL;
	if (length < 0)
		return mmfs_fail(EOVERFLOW,
				 "memory mapped length must be positive");
	if (offset < 0)
		return mmfs_fail(EOVERFLOW,
				 "memory mapped offset must be positive");
	if (access != MMFS_ACCESS_DEFAULT &&
	    (flags != MAP_SHARED || prot != (PROT_READ | PROT_WRITE)))
		return mmfs_fail(EINVAL,
				 "mmap can't specify both access and flags, "
				 "prot.");
	if (access < MMFS_ACCESS_DEFAULT || access > MMFS_ACCESS_COPY)
		return mmfs_fail(EINVAL, "mmap invalid access parameter.");
	mmfs_resolve_access(&access, &flags, &prot);
	if (fd != -1) {
		err = mmfs_check_file_size(fd, &length, offset);
		if (err != 0)
			return err;
	}

#if SIZE_MAX < INT64_MAX
	if ((uint64_t)length > SSIZE_MAX)
		return mmfs_fail(EOVERFLOW, "mmap length is too large");
#endif
	mmfs_fault_init();
	map = calloc(1, sizeof(*map));
	if (map == NULL)
		return mmfs_fail_os(ENOMEM);
	map->fd = -1;
	map->offset = offset;
	map->access = access;
	map->prot = prot;
	map->trackfd = !(opts & MMFS_OPEN_NOTRACKFD);
	map->size = (size_t)length;

	if (fd == -1) {
		map->anonymous = true;
		map->flags = flags | MAP_ANONYMOUS;
		if (length == 0) {
			err = mmfs_fail_os(EINVAL);
			goto fail;
		}
		/* Without trackfd a map can never be resized, so a plain
		 * shared anonymous mapping serves.  MAP_SHARED_VALIDATE
		 * goes to the kernel, which refuses it without a file. */
		if ((flags & MAP_TYPE) == MAP_SHARED && map->trackfd) {
			err = mmfs_open_memfd(map, map->size, offset);
			if (err == 0)
				goto done;
			if (err != -ENOSYS)
				goto fail;
		}
		data = mmap(NULL, map->size, prot, map->flags, -1,
			    (off_t)offset);
		if (data == MAP_FAILED) {
			err = mmfs_fail_os(errno);
			goto fail;
		}
		map->data = data;
		goto done;
	}

	map->flags = flags;
	if (map->trackfd && (opts & MMFS_OPEN_BORROWFD)) {
		map->fd = fd;
		map->borrowed = true;
	} else if (map->trackfd) {
		map->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (map->fd < 0) {
			err = mmfs_fail_os(errno);
			goto fail;
		}
	}
	data = mmap(NULL, map->size, prot, flags, fd, (off_t)offset);
	if (data == MAP_FAILED) {
		err = mmfs_fail_os(errno);
		goto fail_fd;
	}
	map->data = data;

done:
	*mapp = map;
	return 0;

fail_fd:
	if (map->fd >= 0 && !map->borrowed)
		close(map->fd);
fail:
	free(map);
	return err;
}

/* The one teardown: no msync (reference §4), the caller's fd untouched. */
static void mmfs_unmap(struct mmfs_map *map)
{
	if (map->data != NULL)
		munmap(map->data, map->size);
	map->data = NULL;
	if (map->fd >= 0 && !map->borrowed)
		close(map->fd);
	map->fd = -1;
}

int mmfs_close(struct mmfs_map *map)
{
	if (map == NULL)
		return 0;
	if (map->exports > 0)
		return mmfs_fail(EBUSY, "cannot close exported pointers exist");
	mmfs_unmap(map);
	return 0;
}

void mmfs_free(struct mmfs_map *map)
{
	if (map == NULL)
		return;
	mmfs_unmap(map);
	free(map);
}

bool mmfs_closed(const struct mmfs_map *map)
{
	return map == NULL || map->data == NULL;
}

ssize_t mmfs_len(const struct mmfs_map *map)
{
	MMFS_CHECK_VALID(map);
	return (ssize_t)map->size;
}

int mmfs_size(const struct mmfs_map *map, int64_t *sizep)
{
	struct stat st;

	MMFS_CHECK_VALID(map);
	if (!map->trackfd)
		return mmfs_fail_os(EBADF);
	if (map->anonymous) {
		*sizep = (int64_t)map->size;
		return 0;
	}
	if (fstat(map->fd, &st) != 0)
		return mmfs_fail_os(errno);
	*sizep = (int64_t)st.st_size;
	return 0;
}

int64_t mmfs_offset(const struct mmfs_map *map)
{
	return map != NULL ? map->offset : 0;
}

int mmfs_access(const struct mmfs_map *map)
{
	return map != NULL ? map->access : MMFS_ACCESS_DEFAULT;
}

int mmfs_flags(const struct mmfs_map *map)
{
	return map != NULL ? map->flags : 0;
}

int mmfs_prot(const struct mmfs_map *map)
{
	return map != NULL ? map->prot : 0;
}

int mmfs_fd(const struct mmfs_map *map)
{
	return map != NULL ? map->fd : -1;
}

int mmfs_pin(struct mmfs_map *map, void **datap, size_t *lenp)
{
	MMFS_CHECK_VALID(map);
	map->exports++;
	if (datap != NULL)
		*datap = map->data;
	if (lenp != NULL)
		*lenp = map->size;
	return 0;
}

void mmfs_unpin(struct mmfs_map *map)
{
	if (map != NULL && map->exports > 0)
		map->exports--;
}

/* Where the map's last byte sits in its fd: a memfd is mapped from 0. */
static int64_t mmfs_file_end(const struct mmfs_map *map, int64_t len)
{
	return map->anonymous ? len : map->offset + len;
}

/* Undo a growing ftruncate.  Should even that fail, the map is intact and
 * the file merely longer: nothing better can be done. */
static void mmfs_truncate_back(int fd, off_t size)
{
	int rc = ftruncate(fd, size);

	(void)rc;
}

static size_t mmfs_page_round(size_t len)
{
	size_t ps = mmfs_pagesize();

	return (len + ps - 1) / ps * ps;
}

/*
 * mremap(2) moves a single VMA, and a madvise over part of the map (RANDOM,
 * DONTDUMP, ...) splits it in the kernel: mremap then fails with EFAULT.
 * Do the same change another way: a shrink unmaps the tail; a growth maps
 * the new length afresh (a shared map shows the same file pages; a private
 * one gets its bytes copied) and drops the old mapping.  Per-range advice
 * is lost, as it is advisory anyway.
 */
static int mmfs_remap_fresh(struct mmfs_map *map, size_t newsize)
{
	size_t keep = mmfs_page_round(newsize), old = mmfs_page_round(map->size);
	int flags = map->flags, fd = map->fd;
	off_t off = (off_t)mmfs_file_end(map, 0);
	unsigned char *data;

	if (newsize <= map->size) {
		if (keep < old && munmap(map->data + keep, old - keep) != 0)
			return -errno;
		map->size = newsize;
		return 0;
	}
	if (fd < 0) {
		flags |= MAP_ANONYMOUS;
		off = 0;
	} else {
		flags &= ~MAP_ANONYMOUS; /* a memfd behind an anonymous map */
	}
	if (!mmfs_is_shared(map->flags) &&
	    (map->prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE))
		return -EFAULT;
	data = mmap(NULL, newsize, map->prot, flags, fd, off);
	if (data == MAP_FAILED)
		return -errno;
	if (!mmfs_is_shared(map->flags) &&
	    mmfs_guarded_copy(data, map->data, map->size) !=
		    (ssize_t)map->size) {
		munmap(data, newsize);
		return -EIO;
	}
	munmap(map->data, map->size);
	map->data = data;
	map->size = newsize;
	return 0;
}

static int mmfs_remap(struct mmfs_map *map, size_t newsize)
{
	void *data;

	if (!MMFS_USE_MREMAP)
		return mmfs_remap_fresh(map, newsize);
	data = mremap(map->data, map->size, newsize, MREMAP_MAYMOVE);
	if (data == MAP_FAILED)
		return errno == EFAULT ? mmfs_remap_fresh(map, newsize) : -errno;
	map->data = data;
	map->size = newsize;
	return 0;
}

/*
 * Resize with a file (or memfd) behind the map.  Whichever step could lose
 * data or leave pages that fault comes last, and the first is undone if the
 * second fails:
 *   file grows   (or stays): ftruncate, then mremap; undo = truncate back.
 *   file shrinks:            mremap, then ftruncate; undo = mremap back.
 * So a failure leaves file and mapping as they were (the undo of a shrink
 * can itself fail only if the address space ran out in between; the map is
 * then consistent at the new length and the file unchanged).
 */
static int mmfs_resize_file(struct mmfs_map *map, size_t newsize)
{
	size_t oldsize = map->size;
	int64_t target = mmfs_file_end(map, (int64_t)newsize);
	struct stat st;
	int mode, err;

	/* ftruncate would refuse a read-only fd (EINVAL) only after a
	 * shrinking mremap, whose undo cannot bring back a private map's
	 * own changes: refuse first. */
	mode = fcntl(map->fd, F_GETFL);
	if (mode < 0)
		return mmfs_fail_os(errno);
	if ((mode & O_ACCMODE) == O_RDONLY)
		return mmfs_fail_os(EINVAL);
	if (fstat(map->fd, &st) != 0)
		return mmfs_fail_os(errno);
	if (target >= st.st_size) {
		if (ftruncate(map->fd, (off_t)target) != 0)
			return mmfs_fail_os(errno);
		err = mmfs_remap(map, newsize);
		if (err != 0) {
			mmfs_truncate_back(map->fd, st.st_size);
			return mmfs_fail_os(-err);
		}
		return 0;
	}
	err = mmfs_remap(map, newsize);
	if (err != 0)
		return mmfs_fail_os(-err);
	if (ftruncate(map->fd, (off_t)target) != 0) {
		err = errno;
		(void)mmfs_remap(map, oldsize);
		return mmfs_fail_os(err);
	}
	return 0;
}

struct mmfs_tail_job {
	unsigned char *p;
	size_t n;
};

static void mmfs_tail_fn(void *arg)
{
	struct mmfs_tail_job *job = arg;

	memset(job->p, 0, job->n);
}

/*
 * After a resize the file (if any) ends exactly at the map's end, but a
 * private map's last page is its own copy: past the end it keeps what it
 * had there (bytes of a longer map, or of the file before resize cut it),
 * and the next growth would show them where new bytes must read as zero.
 * Clear them once the resize has succeeded.  Guarded: someone may have
 * cut the file below that page meanwhile, and then there is nothing to
 * clear.
 */
static void mmfs_clear_tail(struct mmfs_map *map)
{
	struct mmfs_tail_job job = {map->data + map->size,
				    mmfs_page_round(map->size) - map->size};

	if (job.n > 0 && mmfs_guarded_call(mmfs_tail_fn, &job) != 0)
		mmfs_clear_error();
}

int mmfs_resize(struct mmfs_map *map, int64_t newsize)
{
	int err;

	MMFS_CHECK_VALID(map);
	err = mmfs_check_resizeable(map);
	if (err != 0)
		return err;
	if (newsize < 0 || INT64_MAX - map->offset < newsize)
		return mmfs_fail(EINVAL, "new size out of range");
	/* mremap(2) refuses 0, and CPython's ftruncate-first order would
	 * then leave a mapping of an empty file: refuse before any change. */
	if (newsize == 0)
		return mmfs_fail_os(EINVAL);
#if SIZE_MAX < INT64_MAX
	if ((uint64_t)newsize > SIZE_MAX)
		return mmfs_fail_os(ENOMEM);
#endif
	if (map->fd >= 0) {
		err = mmfs_resize_file(map, (size_t)newsize);
	} else if (mmfs_is_shared(map->flags) && (size_t)newsize > map->size) {
		/* A shared anonymous map without a memfd (memfd_create
		 * missing) cannot grow: the new pages would fault.  CPython
		 * 3.15 says so. */
		return mmfs_fail(EINVAL, "mmap: can't expand a shared "
					 "anonymous mapping on Linux");
	} else {
		err = mmfs_remap(map, (size_t)newsize);
		if (err != 0)
			err = mmfs_fail_os(-err);
	}
	if (err == 0 && !mmfs_is_shared(map->flags))
		mmfs_clear_tail(map);
	return err;
}

int mmfs_extend(struct mmfs_map *map, size_t newsize)
{
	int err;

	MMFS_CHECK_VALID(map);
	err = mmfs_check_resizeable(map);
	if (err != 0)
		return err;
	/* Only a shared map of a file shows what a write to the file puts
	 * past its end. */
	if (map->fd < 0 || map->anonymous || !mmfs_is_shared(map->flags))
		return mmfs_fail(EINVAL, "only a shared map of a file extends");
	if (newsize < map->size ||
	    (uint64_t)newsize > (uint64_t)(INT64_MAX - map->offset))
		return mmfs_fail(EINVAL, "new size out of range");
	if (newsize == map->size)
		return 0;
	err = mmfs_remap(map, newsize);
	return err != 0 ? mmfs_fail_os(-err) : 0;
}

int mmfs_sync_length(struct mmfs_map *map)
{
	struct stat st;
	int64_t base;
	size_t avail;
	void *data;

	MMFS_CHECK_VALID(map);
	if (map->fd < 0) {
		/* No fd to ask (trackfd=False, or a plain anonymous map,
		 * which nobody else can truncate). */
		return map->anonymous ? 0 : mmfs_fail_os(EBADF);
	}
	if (fstat(map->fd, &st) != 0)
		return mmfs_fail_os(errno);
	base = mmfs_file_end(map, 0);
	if (st.st_size <= base)
		return mmfs_fail(ENODATA, "the backing file no longer reaches "
					  "the mapping");
	if ((uint64_t)(st.st_size - base) >= map->size)
		return 0;
	/* Shrinking unmaps pages a pin holder may still point at. */
	if (map->exports > 0)
		return mmfs_fail(EBUSY, "mmap can't resize with extant "
					"buffers exported.");
	avail = (size_t)(st.st_size - base);
	if (!MMFS_USE_MREMAP) {
		int err = mmfs_remap_fresh(map, avail); /* a shrink: munmap */

		return err ? mmfs_fail_os(-err) : 0;
	}
	data = mremap(map->data, map->size, avail, 0);
	if (data == MAP_FAILED)
		return mmfs_fail_os(errno);
	map->size = avail;
	return 0;
}

/* PySlice_Unpack + PySlice_AdjustIndices, with MMFS_NONE for None. */
int mmfs_slice_adjust(size_t len, int64_t *start, int64_t *stop,
		      int64_t *step, size_t *lenp)
{
	int64_t n = (int64_t)len;
	int64_t st = *step == MMFS_NONE ? 1 : *step;
	int64_t a, b;

	if (st == 0)
		return mmfs_fail(EINVAL, "slice step cannot be zero");
	a = *start != MMFS_NONE ? *start : st < 0 ? INT64_MAX : 0;
	b = *stop != MMFS_NONE ? *stop : st < 0 ? INT64_MIN : INT64_MAX;

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

	if (st < 0)
		*lenp = b < a ? (size_t)((a - b - 1) / -st + 1) : 0;
	else
		*lenp = a < b ? (size_t)((b - a - 1) / st + 1) : 0;
	*start = a;
	*stop = b;
	*step = st;
	return 0;
}
