/* sync.c - flush (msync) and madvise: whole-map operations that hand a
 * range of the mapping to the kernel (reference §7.1 and §7.2). */
#include <config.h>

#include <errno.h>
#include <sys/mman.h>

#include "mmfs-int.h"

/*
 * Python 3.10's rules.  msync reports a truncated file's missing pages as an
 * error instead of faulting on them, so it needs no guard.
 */
int mmfs_flush(struct mmfs_map *map, int64_t offset, int64_t size)
{
	int64_t len;

	MMFS_CHECK_VALID(map);
	len = (int64_t)map->size;
	if (size < 0 || offset < 0 || len - offset < size)
		return mmfs_fail(EINVAL, "flush values out of range");
	if (map->access == MMFS_ACCESS_READ || map->access == MMFS_ACCESS_COPY)
		return 0;
	if (msync(map->data + offset, (size_t)size, MS_SYNC) != 0)
		return mmfs_fail_os(errno);
	return 0;
}

int mmfs_madvise_check(struct mmfs_map *map, int64_t start,
		       int64_t *lengthp)
{
	int64_t len;

	MMFS_CHECK_VALID(map);
	len = (int64_t)map->size;
	if (start < 0 || start >= len)
		return mmfs_fail(EINVAL, "madvise start out of bounds");
	if (*lengthp < 0)
		return mmfs_fail(EINVAL, "madvise length invalid");
	if (INT64_MAX - start < *lengthp)
		return mmfs_fail(EOVERFLOW, "madvise length too large");
	if (len - start < *lengthp)
		*lengthp = len - start;
	return 0;
}

int mmfs_madvise(struct mmfs_map *map, int option, int64_t start,
		 int64_t length)
{
	int err = mmfs_madvise_check(map, start, &length);

	if (err != 0)
		return err;
	if (madvise(map->data + start, (size_t)length, option) != 0)
		return mmfs_fail_os(errno);
	return 0;
}
