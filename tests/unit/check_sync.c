/* check_sync.c - sync.c: flush (reference §7.1, row 38) and madvise
 * (§7.2, row 40): range rules, messages, and the kernel's errors. */
#include "unit.h"

#include <sys/mman.h>

#define RW (PROT_READ | PROT_WRITE)

static struct mmfs_map *open_ok(int fd, int64_t length, int flags, int access)
{
	struct mmfs_map *map = NULL;

	ck_assert_ok(mmfs_open(&map, fd, length, flags, RW, access, 0, 0));
	return map;
}

/* ---- flush ---- */

/* row 38 */
START_TEST(test_row38_flush_return_value)
{
	struct mmfs_map *map = open_ok(-1, 16, MAP_SHARED, 0);

	memcpy(unit_data(map, NULL), "python", 6);
	ck_assert_ok(mmfs_flush(map, 0, 16));
	/* Linux: an offset off the page boundary is the kernel's EINVAL */
	ck_assert_os_err(mmfs_flush(map, 1, 6), -EINVAL);
	mmfs_free(map);
}
END_TEST

START_TEST(test_flush_range)
{
	const char *msg = "flush values out of range";
	size_t ps = unit_pagesize();
	int64_t len = (int64_t)(2 * ps);
	int fd = unit_tmpfile_fill('f', 2 * ps);
	struct mmfs_map *map = open_ok(fd, 0, MAP_SHARED, 0);

	ck_assert_err(mmfs_flush(map, 0, -1), -EINVAL, msg);
	ck_assert_err(mmfs_flush(map, -1, 0), -EINVAL, msg);
	ck_assert_err(mmfs_flush(map, 0, len + 1), -EINVAL, msg);
	ck_assert_err(mmfs_flush(map, len, 1), -EINVAL, msg);
	ck_assert_err(mmfs_flush(map, len + 1, 0), -EINVAL, msg);
	/* no addition that could overflow */
	ck_assert_err(mmfs_flush(map, INT64_MAX, 1), -EINVAL, msg);
	ck_assert_err(mmfs_flush(map, (int64_t)ps, INT64_MAX), -EINVAL, msg);
	ck_assert_err(mmfs_flush(map, INT64_MIN, INT64_MAX), -EINVAL, msg);
	/* the edges are valid */
	ck_assert_ok(mmfs_flush(map, 0, 0));
	ck_assert_ok(mmfs_flush(map, len, 0));
	ck_assert_ok(mmfs_flush(map, 0, len));
	ck_assert_ok(mmfs_flush(map, (int64_t)ps, (int64_t)ps));
	ck_assert_ok(mmfs_flush(map, (int64_t)ps, 1));
	ck_assert_os_err(mmfs_flush(map, 100, 1), -EINVAL);
	ck_assert_uint_eq(map->pos, 0);
	mmfs_free(map);
	close(fd);
}
END_TEST

START_TEST(test_flush_writes_file)
{
	size_t ps = unit_pagesize();
	int fd = unit_tmpfile_fill('f', 2 * ps);
	struct mmfs_map *map = open_ok(fd, 0, MAP_SHARED, MMFS_ACCESS_WRITE);
	unsigned char *file;
	size_t len;

	memcpy(unit_data(map, NULL) + ps + 3, "synced", 6);
	ck_assert_ok(mmfs_flush(map, (int64_t)ps, (int64_t)ps));
	file = unit_read_file(fd, &len);
	ck_assert_uint_eq(len, 2 * ps);
	ck_assert_mem_eq(file + ps + 3, "synced", 6);
	free(file);
	mmfs_free(map);
	close(fd);
}
END_TEST

/* READ and COPY: no msync at all, but the range check stays. */
START_TEST(test_flush_noop_read_copy)
{
	int fd = unit_tmpfile_fill('f', 100);
	struct mmfs_map *ro = open_ok(fd, 0, MAP_SHARED, MMFS_ACCESS_READ);
	struct mmfs_map *cp = open_ok(fd, 0, MAP_SHARED, MMFS_ACCESS_COPY);
	struct mmfs_map *prot_ro = NULL;
	unsigned char *file;
	size_t len;

	ck_assert_ok(mmfs_open(&prot_ro, fd, 0, MAP_SHARED, PROT_READ, 0, 0,
			       0));
	ck_assert_ok(mmfs_flush(ro, 1, 6));
	ck_assert_ok(mmfs_flush(cp, 1, 6));
	ck_assert_ok(mmfs_flush(prot_ro, 1, 6));
	ck_assert_err(mmfs_flush(ro, 0, 101), -EINVAL,
		      "flush values out of range");
	ck_assert_err(mmfs_flush(cp, -1, 1), -EINVAL,
		      "flush values out of range");
	/* COPY's private changes never reach the file */
	memset(unit_data(cp, NULL), 'c', 100);
	ck_assert_ok(mmfs_flush(cp, 0, 100));
	file = unit_read_file(fd, &len);
	ck_assert(unit_all(file, 'f', 100));
	free(file);
	mmfs_free(prot_ro);
	mmfs_free(cp);
	mmfs_free(ro);
	close(fd);
}
END_TEST

START_TEST(test_flush_closed)
{
	struct mmfs_map *map = open_ok(-1, 16, MAP_PRIVATE, 0);

	ck_assert_ok(mmfs_flush(map, 0, 16));
	ck_assert_ok(mmfs_close(map));
	ck_assert_err(mmfs_flush(map, 0, 16), -EBADF, "mmap closed or invalid");
	ck_assert_err(mmfs_flush(NULL, 0, 0), -EBADF,
		      "mmap closed or invalid");
	mmfs_free(map);
}
END_TEST

/* ---- madvise ---- */

/* row 40 */
START_TEST(test_row40_madvise)
{
	size_t ps = unit_pagesize();
	int64_t size = (int64_t)(2 * ps);
	struct mmfs_map *map = open_ok(-1, size, MAP_SHARED, 0);

	ck_assert_err(mmfs_madvise(map, MADV_NORMAL, size, size), -EINVAL,
		      "madvise start out of bounds");
	ck_assert_err(mmfs_madvise(map, MADV_NORMAL, -1, size), -EINVAL,
		      "madvise start out of bounds");
	ck_assert_err(mmfs_madvise(map, MADV_NORMAL, 0, -1), -EINVAL,
		      "madvise length invalid");
	ck_assert_err(mmfs_madvise(map, MADV_NORMAL, (int64_t)ps, INT64_MAX),
		      -EOVERFLOW, "madvise length too large");
	/* madvise(NORMAL): defaults 0 and len */
	ck_assert_ok(mmfs_madvise(map, MADV_NORMAL, 0, size));
	/* madvise(NORMAL, PAGESIZE): the length is clamped */
	ck_assert_ok(mmfs_madvise(map, MADV_NORMAL, (int64_t)ps, size));
	ck_assert_ok(mmfs_madvise(map, MADV_NORMAL, 0, 2));
	ck_assert_ok(mmfs_madvise(map, MADV_NORMAL, 0, size));
	ck_assert_ok(mmfs_madvise(map, MADV_NORMAL, 0, 0));
	ck_assert_ok(mmfs_madvise(map, MADV_NORMAL, 0, INT64_MAX));
	mmfs_free(map);
}
END_TEST

START_TEST(test_madvise_check_order)
{
	struct mmfs_map *map = open_ok(-1, 4096, MAP_PRIVATE, 0);

	/* start before length, length before overflow */
	ck_assert_err(mmfs_madvise(map, 12345, -1, -1), -EINVAL,
		      "madvise start out of bounds");
	ck_assert_err(mmfs_madvise(map, 12345, 4096, INT64_MAX), -EINVAL,
		      "madvise start out of bounds");
	ck_assert_err(mmfs_madvise(map, 12345, 1, -1), -EINVAL,
		      "madvise length invalid");
	ck_assert_err(mmfs_madvise(map, 12345, 1, INT64_MAX), -EOVERFLOW,
		      "madvise length too large");
	/* the kernel's own errors */
	ck_assert_os_err(mmfs_madvise(map, MADV_NORMAL, 1, 10), -EINVAL);
	ck_assert_os_err(mmfs_madvise(map, 12345, 0, 10), -EINVAL);
	ck_assert_ok(mmfs_close(map));
	ck_assert_err(mmfs_madvise(map, MADV_NORMAL, 0, 1), -EBADF,
		      "mmap closed or invalid");
	mmfs_free(map);
}
END_TEST

/* mmfs_madvise_check: the same checks in the same order, the length
 * clamped, and no madvise(2): an advice the kernel refuses is not seen. */
START_TEST(test_madvise_check_alone)
{
	size_t ps = unit_pagesize();
	struct mmfs_map *map = open_ok(-1, (int64_t)(2 * ps), MAP_PRIVATE, 0);
	int64_t len;

	len = -1;
	ck_assert_err(mmfs_madvise_check(map, -1, &len), -EINVAL,
		      "madvise start out of bounds");
	len = -1;
	ck_assert_err(mmfs_madvise_check(map, 1, &len), -EINVAL,
		      "madvise length invalid");
	len = INT64_MAX;
	ck_assert_err(mmfs_madvise_check(map, 1, &len), -EOVERFLOW,
		      "madvise length too large");
	len = INT64_MAX - (int64_t)ps;
	ck_assert_ok(mmfs_madvise_check(map, (int64_t)ps, &len));
	ck_assert_int_eq(len, (int64_t)ps);
	len = 10; /* an unaligned start passes: only the kernel minds */
	ck_assert_ok(mmfs_madvise_check(map, 1, &len));
	ck_assert_int_eq(len, 10);
	ck_assert_ok(mmfs_close(map));
	ck_assert_err(mmfs_madvise_check(map, 0, &len), -EBADF,
		      "mmap closed or invalid");
	mmfs_free(map);
}
END_TEST

/* The kernel's semantics show through; no access check (READ works). */
START_TEST(test_madvise_effects)
{
	size_t ps = unit_pagesize();
	int fd = unit_tmpfile_fill('m', 2 * ps);
	struct mmfs_map *priv = open_ok(-1, (int64_t)(2 * ps), MAP_PRIVATE, 0);
	struct mmfs_map *shared = open_ok(-1, (int64_t)ps, MAP_SHARED, 0);
	struct mmfs_map *ro = open_ok(fd, 0, MAP_SHARED, MMFS_ACCESS_READ);
	unsigned char *data;

	data = unit_data(priv, NULL);
	memset(data, 'x', 2 * ps);
	/* DONTNEED over a clamped length drops a private map's pages */
	ck_assert_ok(mmfs_madvise(priv, MADV_DONTNEED, (int64_t)ps,
				  INT64_MAX - (int64_t)ps));
	ck_assert(unit_all(data, 'x', ps));
	ck_assert(unit_all(data + ps, 0, ps));
	/* a shared map keeps its data */
	data = unit_data(shared, NULL);
	memset(data, 'y', ps);
	ck_assert_ok(mmfs_madvise(shared, MADV_DONTNEED, 0, (int64_t)ps));
	ck_assert(unit_all(data, 'y', ps));
	ck_assert_ok(mmfs_madvise(ro, MADV_WILLNEED, 0, (int64_t)(2 * ps)));
	ck_assert_ok(mmfs_madvise(ro, MADV_SEQUENTIAL, (int64_t)ps, 1));
	ck_assert(unit_all(unit_data(ro, NULL), 'm', 2 * ps));
	ck_assert_uint_eq(ro->pos, 0);
	mmfs_free(ro);
	mmfs_free(shared);
	mmfs_free(priv);
	close(fd);
}
END_TEST

static Suite *sync_suite(void)
{
	Suite *s = suite_create("sync");
	TCase *tc;

	tc = tcase_create("flush");
	tcase_add_test(tc, test_row38_flush_return_value);
	tcase_add_test(tc, test_flush_range);
	tcase_add_test(tc, test_flush_writes_file);
	tcase_add_test(tc, test_flush_noop_read_copy);
	tcase_add_test(tc, test_flush_closed);
	suite_add_tcase(s, tc);

	tc = tcase_create("madvise");
	tcase_add_test(tc, test_row40_madvise);
	tcase_add_test(tc, test_madvise_check_order);
	tcase_add_test(tc, test_madvise_check_alone);
	tcase_add_test(tc, test_madvise_effects);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(sync_suite)
