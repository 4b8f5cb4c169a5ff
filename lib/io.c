/*
 * io.c - the data path: Python's position-based I/O (read, readline,
 * read_byte, write, write_byte, seek, tell), move, item and slice access,
 * and the positional pread/pwrite the filesystem uses.  Checks run in the
 * order CPython makes them (reference §5, §7.3, §8) so that the first error
 * reported is Python's.  Every touch of mapped bytes goes through fault.c's
 * guarded helpers, once per call, so a file truncated behind our back gives
 * -EIO or a short count instead of SIGBUS.
 */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "mmfs-int.h"

/* The bytes left between pos and the end; 0 when pos is past a shrink. */
static size_t remaining(const struct mmfs_map *map)
{
	return map->pos < map->size ? map->size - map->pos : 0;
}

/*
 * A guarded copy that must be whole, for calls that cannot say "some of
 * it" (single bytes, slices): a fault anywhere is -EIO.  guarded_move
 * serves any two buffers and skips guarded_copy's retry for a count.
 */
static int copy_all(void *dst, const void *src, size_t n)
{
	if (n == 0)
		return 0;
	return mmfs_guarded_move(dst, src, n);
}

/* Python's index rule: a negative index gets len added once. */
static int item_index(const struct mmfs_map *map, int64_t i, size_t *idxp)
{
	if (i < 0)
		i += (int64_t)map->size;
	if (i < 0 || (uint64_t)i >= map->size)
		return mmfs_fail(ERANGE, "mmap index out of range");
	*idxp = (size_t)i;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Position-based I/O (reference §5)                                    */

ssize_t mmfs_read(struct mmfs_map *map, void *buf, size_t cap, int64_t n)
{
	size_t want;
	ssize_t got;

	MMFS_CHECK_VALID(map);
	want = remaining(map);
	if (n >= 0 && (uint64_t)n < want)
		want = (size_t)n;
	if (want > cap)
		want = cap;
	if (want == 0)
		return 0;
	got = mmfs_guarded_copy(buf, map->data + map->pos, want);
	if (got > 0)
		map->pos += (size_t)got;
	return got;
}

int mmfs_read_byte(struct mmfs_map *map)
{
	unsigned char byte;
	int ret;

	MMFS_CHECK_VALID(map);
	if (map->pos >= map->size)
		return mmfs_fail(EINVAL, "read byte out of range");
	ret = copy_all(&byte, map->data + map->pos, 1);
	if (ret < 0)
		return ret;
	map->pos++;
	return byte;
}

struct line_job {
	const unsigned char *src;
	unsigned char *dst;
	size_t avail; /* bytes we may look at: min(remaining, cap) */
	size_t len;   /* out: the line's length */
};

/* The newline search and the copy under one guard. */
static void line_fn(void *arg)
{
	struct line_job *job = arg;
	const unsigned char *nl = memchr(job->src, '\n', job->avail);

	job->len = nl ? (size_t)(nl - job->src) + 1 : job->avail;
	memcpy(job->dst, job->src, job->len);
}

ssize_t mmfs_readline(struct mmfs_map *map, void *buf, size_t cap)
{
	struct line_job job;
	int ret;

	MMFS_CHECK_VALID(map);
	job.avail = remaining(map);
	if (job.avail > cap)
		job.avail = cap;
	if (job.avail == 0)
		return 0;
	job.src = map->data + map->pos;
	job.dst = buf;
	job.len = 0;
	ret = mmfs_guarded_call(line_fn, &job);
	if (ret < 0)
		return ret;
	map->pos += job.len;
	return (ssize_t)job.len;
}

ssize_t mmfs_write(struct mmfs_map *map, const void *buf, size_t len)
{
	ssize_t got;
	int ret;

	MMFS_CHECK_VALID(map);
	ret = mmfs_check_writable(map);
	if (ret < 0)
		return ret;
	/* No partial write: it fits whole or nothing happens. */
	if (map->pos > map->size || map->size - map->pos < len)
		return mmfs_fail(EINVAL, "data out of range");
	if (len == 0)
		return 0;
	got = mmfs_guarded_copy(map->data + map->pos, buf, len);
	if (got > 0)
		map->pos += (size_t)got;
	return got;
}

int mmfs_write_byte(struct mmfs_map *map, int value)
{
	unsigned char byte;
	int ret;

	MMFS_CHECK_VALID(map);
	/* Python converts the argument (an unsigned char) before anything. */
	if (value < 0)
		return mmfs_fail(EOVERFLOW,
			"unsigned byte integer is less than minimum");
	if (value > UINT8_MAX)
		return mmfs_fail(EOVERFLOW,
			"unsigned byte integer is greater than maximum");
	ret = mmfs_check_writable(map);
	if (ret < 0)
		return ret;
	if (map->pos >= map->size)
		return mmfs_fail(EINVAL, "write byte out of range");
	byte = (unsigned char)value;
	ret = copy_all(map->data + map->pos, &byte, 1);
	if (ret < 0)
		return ret;
	map->pos++;
	return 0;
}

int mmfs_seek(struct mmfs_map *map, int64_t pos, int whence, int64_t *newpos)
{
	uint64_t base;
	int64_t where;

	MMFS_CHECK_VALID(map);
	/* Python's whence values, whatever the platform's SEEK_* are. */
	switch (whence) {
	case 0:
		base = 0;
		break;
	case 1:
		base = map->pos;
		break;
	case 2:
		base = map->size;
		break;
	default:
		return mmfs_fail(EINVAL, "unknown seek type");
	}
	/* base + pos without overflow: both sides stay within int64_t. */
	if (base > INT64_MAX)
		goto out_of_range;
	if (pos < 0 ? pos < -(int64_t)base : pos > INT64_MAX - (int64_t)base)
		goto out_of_range;
	where = (int64_t)base + pos;
	if (where < 0 || (uint64_t)where > map->size)
		goto out_of_range;
	map->pos = (size_t)where;
	if (newpos)
		*newpos = where;
	return 0;

out_of_range:
	return mmfs_fail(EINVAL, "seek out of range");
}

int64_t mmfs_tell(const struct mmfs_map *map)
{
	MMFS_CHECK_VALID(map);
	return (int64_t)map->pos;
}

bool mmfs_seekable(const struct mmfs_map *map)
{
	/* 3.13's seekable() answers even on a closed map. */
	(void)map;
	return true;
}

/* ------------------------------------------------------------------ */
/* move (reference §7.3)                                                */

int mmfs_move(struct mmfs_map *map, int64_t dest, int64_t src, int64_t count)
{
	int ret;

	MMFS_CHECK_VALID(map);
	ret = mmfs_check_writable(map);
	if (ret < 0)
		return ret;
	if (dest < 0 || src < 0 || count < 0)
		goto out_of_range;
	if ((uint64_t)dest > map->size || (uint64_t)src > map->size)
		goto out_of_range;
	if (map->size - (uint64_t)dest < (uint64_t)count ||
	    map->size - (uint64_t)src < (uint64_t)count)
		goto out_of_range;
	if (count == 0)
		return 0;
	return mmfs_guarded_move(map->data + dest, map->data + src,
				 (size_t)count);

out_of_range:
	return mmfs_fail(EINVAL, "source, destination, or count out of range");
}

/* ------------------------------------------------------------------ */
/* Items (reference §8.2, §8.5, §8.7)                                   */

int mmfs_getitem(struct mmfs_map *map, int64_t i)
{
	unsigned char byte;
	size_t idx = 0;
	int ret;

	MMFS_CHECK_VALID(map);
	ret = item_index(map, i, &idx);
	if (ret < 0)
		return ret;
	ret = copy_all(&byte, map->data + idx, 1);
	if (ret < 0)
		return ret;
	return byte;
}

int mmfs_setitem(struct mmfs_map *map, int64_t i, int value)
{
	unsigned char byte;
	size_t idx = 0;
	int ret;

	MMFS_CHECK_VALID(map);
	/* Writability first: a readonly map refuses even a bad index. */
	ret = mmfs_check_writable(map);
	if (ret < 0)
		return ret;
	ret = item_index(map, i, &idx);
	if (ret < 0)
		return ret;
	if (value < 0 || value > UINT8_MAX)
		return mmfs_fail(EINVAL,
				 "mmap item value must be in range(0, 256)");
	byte = (unsigned char)value;
	return copy_all(map->data + idx, &byte, 1);
}

int mmfs_delitem(struct mmfs_map *map, int64_t i)
{
	size_t idx = 0;
	int ret;

	MMFS_CHECK_VALID(map);
	ret = mmfs_check_writable(map);
	if (ret < 0)
		return ret;
	ret = item_index(map, i, &idx);
	if (ret < 0)
		return ret;
	return mmfs_fail(EOPNOTSUPP, "mmap doesn't support item deletion");
}

/* ------------------------------------------------------------------ */
/* Slices (reference §8.3, §8.6)                                        */

/*
 * A stepped slice gathered or scattered under one guard: setting the
 * guard up per byte would cost more than the copy itself.
 */
struct stride_job {
	unsigned char *map_base; /* mapping + start */
	unsigned char *buf;      /* the caller's contiguous bytes */
	int64_t step;
	size_t count;
	bool to_map; /* true: buf -> mapping (assignment) */
};

static void stride_fn(void *arg)
{
	struct stride_job *job = arg;
	unsigned char *p;
	size_t k;

	/* Every visited index lies inside the mapping, so k * step cannot
	 * overflow; stepping a pointer past the last one could. */
	for (k = 0; k < job->count; k++) {
		p = job->map_base + (int64_t)k * job->step;
		if (job->to_map)
			*p = job->buf[k];
		else
			job->buf[k] = *p;
	}
}

static int stride_copy(struct mmfs_map *map, int64_t start, int64_t step,
		       void *buf, size_t count, bool to_map)
{
	struct stride_job job;

	if (count == 0)
		return 0;
	if (step == 1) {
		if (to_map)
			return copy_all(map->data + start, buf, count);
		return copy_all(buf, map->data + start, count);
	}
	job.map_base = map->data + start;
	job.buf = buf;
	job.step = step;
	job.count = count;
	job.to_map = to_map;
	return mmfs_guarded_call(stride_fn, &job);
}

ssize_t mmfs_getslice(struct mmfs_map *map, int64_t start, int64_t stop,
		      int64_t step, void *buf, size_t cap)
{
	size_t slen;
	int ret;

	MMFS_CHECK_VALID(map);
	ret = mmfs_slice_adjust(map->size, &start, &stop, &step, &slen);
	if (ret < 0)
		return ret;
	if (buf == NULL)
		return (ssize_t)slen;
	if (cap < slen)
		return mmfs_fail(ERANGE, "buffer too small for the slice");
	ret = stride_copy(map, start, step, buf, slen, false);
	if (ret < 0)
		return ret;
	return (ssize_t)slen;
}

int mmfs_setslice(struct mmfs_map *map, int64_t start, int64_t stop,
		  int64_t step, const void *data, size_t len)
{
	size_t slen;
	int ret;

	MMFS_CHECK_VALID(map);
	ret = mmfs_check_writable(map);
	if (ret < 0)
		return ret;
	ret = mmfs_slice_adjust(map->size, &start, &stop, &step, &slen);
	if (ret < 0)
		return ret;
	if (len != slen)
		return mmfs_fail(ERANGE, "mmap slice assignment is wrong size");
	/* stride_copy only reads from buf when writing to the map. */
	return stride_copy(map, start, step, (void *)(uintptr_t)data, slen,
			   true);
}

int mmfs_delslice(struct mmfs_map *map, int64_t start, int64_t stop,
		  int64_t step)
{
	size_t slen;
	int ret;

	MMFS_CHECK_VALID(map);
	ret = mmfs_check_writable(map);
	if (ret < 0)
		return ret;
	/* Python unpacks the slice (step 0 is refused) before it notices
	 * that this is a deletion. */
	ret = mmfs_slice_adjust(map->size, &start, &stop, &step, &slen);
	if (ret < 0)
		return ret;
	return mmfs_fail(EOPNOTSUPP,
			 "mmap object doesn't support slice deletion");
}

/* ------------------------------------------------------------------ */
/* Positional I/O for the filesystem                                    */

/*
 * The kernel hands the driver absolute offsets, so these neither read nor
 * move pos (one map is shared by every open handle).  pread clamps at the
 * end like read(); pwrite is all or nothing like write(), after the same
 * writability check, and never grows the map: the driver resizes first.
 */
ssize_t mmfs_pread(struct mmfs_map *map, void *buf, size_t n, uint64_t off)
{
	MMFS_CHECK_VALID(map);
	if (off >= map->size || n == 0)
		return 0;
	if (map->size - off < n)
		n = map->size - off;
	return mmfs_guarded_copy(buf, map->data + off, n);
}

ssize_t mmfs_pwrite(struct mmfs_map *map, const void *buf, size_t n,
		    uint64_t off)
{
	int ret;

	MMFS_CHECK_VALID(map);
	ret = mmfs_check_writable(map);
	if (ret < 0)
		return ret;
	if (off > map->size || map->size - off < n)
		return mmfs_fail(EINVAL, "data out of range");
	if (n == 0)
		return 0;
	return mmfs_guarded_copy(map->data + off, buf, n);
}
