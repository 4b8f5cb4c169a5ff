/*
 * check_subscript.c - the data path's index protocol (lib/io.c): items
 * and extended slices, m[i] and m[start:stop:step] with Python's clamping
 * of negative and out-of-range bounds.  Split from check_io.c, which
 * keeps the position-based I/O, move and pread/pwrite; the test_rowN
 * tests are twins of row N of the reference's test_mmap inventory.
 */
#include "unit.h"

#define RO_MSG "mmap can't modify a readonly memory map."

/* ------------------------------------------------------------------ */
/* Python's slice rules, written out here independently of the engine:  */
/* slice.indices(len) followed by the walk over range(start, stop, step) */

static int64_t ref_bound(int64_t v, int64_t len, int64_t step)
{
	if (v < 0) {
		v += len;
		if (v < 0)
			v = step < 0 ? -1 : 0;
	} else if (v >= len) {
		v = step < 0 ? len - 1 : len;
	}
	return v;
}

/* The indices m[start:stop:step] visits, in order; returns their count. */
static size_t ref_slice(int64_t len, int64_t start, int64_t stop,
			int64_t step, int64_t *idx)
{
	size_t n = 0;
	int64_t i;

	if (step == MMFS_NONE)
		step = 1;
	if (start == MMFS_NONE)
		start = step < 0 ? len - 1 : 0;
	else
		start = ref_bound(start, len, step);
	if (stop == MMFS_NONE)
		stop = step < 0 ? -1 : len;
	else
		stop = ref_bound(stop, len, step);
	for (i = start; step > 0 ? i < stop : i > stop;) {
		idx[n++] = i;
		/* Stop before i + step could overflow. */
		if (step > 0 ? stop - i <= step : i - stop <= -step)
			break;
		i += step;
	}
	return n;
}

/* test_extended_getslice's grid; MMFS_NONE is Python's None. */
static const int64_t grid[] = {
	0, MMFS_NONE, 1, 3, 19, 300, INT64_MAX, -1, -2, -31, -300,
};
#define GRID_N (sizeof(grid) / sizeof(grid[0]))

/* ------------------------------------------------------------------ */
/* Items                                                                */

static void check_anonymous(int flags)
{
	size_t ps = unit_pagesize();
	struct mmfs_map *map = unit_anon_map(ps, flags);

	ck_assert_int_eq(mmfs_len(map), (ssize_t)ps);
	for (size_t x = 0; x < ps; x++)
		ck_assert_int_eq(mmfs_getitem(map, (int64_t)x), 0);
	for (size_t x = 0; x < ps; x++) {
		ck_assert_ok(mmfs_setitem(map, (int64_t)x, (int)(x & 0xff)));
		ck_assert_int_eq(mmfs_getitem(map, (int64_t)x),
				 (int)(x & 0xff));
	}
	ck_assert_int_eq(mmfs_getitem(map, -1), (int)((ps - 1) & 0xff));
	mmfs_free(map);
}

START_TEST(test_row16_anonymous)
{
	check_anonymous(MMFS_MAP_SHARED);
	check_anonymous(MMFS_MAP_PRIVATE);
}
END_TEST

START_TEST(test_items)
{
	struct mmfs_map *map =
		unit_file_map("0123456789", 10, MMFS_ACCESS_DEFAULT, NULL);
	struct mmfs_map *ro =
		unit_file_map("0123456789", 10, MMFS_ACCESS_READ, NULL);

	ck_assert_int_eq(mmfs_getitem(map, 0), '0');
	ck_assert_int_eq(mmfs_getitem(map, 9), '9');
	ck_assert_int_eq(mmfs_getitem(map, -1), '9');
	ck_assert_int_eq(mmfs_getitem(map, -10), '0');
	static const int64_t out[] = {10, -11, 11, INT64_MAX, INT64_MIN, -20};
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		ck_assert_err(mmfs_getitem(map, out[i]), -ERANGE,
			      "mmap index out of range");
		ck_assert_err(mmfs_setitem(map, out[i], 300), -ERANGE,
			      "mmap index out of range");
		ck_assert_err(mmfs_delitem(map, out[i]), -ERANGE,
			      "mmap index out of range");
		/* The readonly refusal comes before the index. */
		ck_assert_err(mmfs_setitem(ro, out[i], 1), -EACCES, RO_MSG);
		ck_assert_err(mmfs_delitem(ro, out[i]), -EACCES, RO_MSG);
	}
	ck_assert_ok(mmfs_setitem(map, -1, 0));
	ck_assert_ok(mmfs_setitem(map, -10, 255));
	ck_assert_ok(mmfs_setitem(map, 4, 'x'));
	ck_assert_err(mmfs_setitem(map, 0, 256), -EINVAL,
		      "mmap item value must be in range(0, 256)");
	ck_assert_err(mmfs_setitem(map, 0, -1), -EINVAL,
		      "mmap item value must be in range(0, 256)");
	ck_assert_err(mmfs_delitem(map, 0), -EOPNOTSUPP,
		      "mmap doesn't support item deletion");
	ck_assert_err(mmfs_delitem(map, -10), -EOPNOTSUPP,
		      "mmap doesn't support item deletion");
	ck_assert_err(mmfs_delitem(ro, 0), -EACCES, RO_MSG);
	unit_assert_map_eq(map, "\xff" "123x5678\0", 10);
	unit_assert_map_eq(ro, "0123456789", 10);
	ck_assert_int_eq(mmfs_tell(map), 0);
	mmfs_free(map);
	mmfs_free(ro);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Extended slices                                                      */

/* m[start:stop:step] against the reference walk over s. */
static void check_getslice(struct mmfs_map *map, const unsigned char *s,
			   int64_t start, int64_t stop, int64_t step)
{
	unsigned char buf[256], want[256];
	int64_t idx[256];
	size_t n = ref_slice(256, start, stop, step, idx);

	for (size_t k = 0; k < n; k++)
		want[k] = s[idx[k]];
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(mmfs_getslice(map, start, stop, step, NULL, 0),
			 (ssize_t)n);
	ck_assert_msg(mmfs_getslice(map, start, stop, step, buf,
				    sizeof(buf)) == (ssize_t)n,
		      "m[%lld:%lld:%lld]", (long long)start, (long long)stop,
		      (long long)step);
	ck_assert_mem_eq(buf, want, n);
}

/* m[:] = s; L = list(s); data = reversed(L[start:stop:step]);
 * L[start:stop:step] = data; m[start:stop:step] = data; m[:] == L. */
static void check_setslice(struct mmfs_map *map, const unsigned char *s,
			   int64_t start, int64_t stop, int64_t step)
{
	unsigned char l[256], data[257], got[256];
	int64_t idx[256];
	size_t n = ref_slice(256, start, stop, step, idx);

	ck_assert_ok(mmfs_setslice(map, MMFS_NONE, MMFS_NONE, MMFS_NONE, s,
				   256));
	memcpy(l, s, 256);
	for (size_t k = 0; k < n; k++)
		data[k] = s[idx[n - 1 - k]];
	for (size_t k = 0; k < n; k++)
		l[idx[k]] = data[k];
	/* A wrong size changes nothing. */
	data[n] = 0x5a;
	ck_assert_err(mmfs_setslice(map, start, stop, step, data, n + 1),
		      -ERANGE, "mmap slice assignment is wrong size");
	ck_assert_msg(mmfs_setslice(map, start, stop, step, data, n) == 0,
		      "m[%lld:%lld:%lld] = ...", (long long)start,
		      (long long)stop, (long long)step);
	ck_assert_int_eq(mmfs_getslice(map, MMFS_NONE, MMFS_NONE, MMFS_NONE,
				       got, 256),
			 256);
	ck_assert_mem_eq(got, l, 256);
	ck_assert_err(mmfs_delslice(map, start, stop, step), -EOPNOTSUPP,
		      "mmap object doesn't support slice deletion");
}

/* Every start and stop of the grid, every step but 0. */
static void for_grid(struct mmfs_map *map, const unsigned char *s,
		     void (*check)(struct mmfs_map *, const unsigned char *,
				   int64_t, int64_t, int64_t))
{
	for (size_t a = 0; a < GRID_N; a++)
		for (size_t b = 0; b < GRID_N; b++)
			for (size_t c = 1; c < GRID_N; c++)
				check(map, s, grid[a], grid[b], grid[c]);
}

START_TEST(test_row19_extended_getslice)
{
	unsigned char s[256], buf[256];
	struct mmfs_map *map = unit_anon_map(256, MMFS_MAP_SHARED);

	for (int i = 0; i < 256; i++)
		s[i] = (unsigned char)(255 - i);
	ck_assert_int_eq(mmfs_write(map, s, 256), 256);
	for_grid(map, s, check_getslice);

	/* The clamps of a few well-known cases, spelled out. */
	ck_assert_int_eq(mmfs_getslice(map, MMFS_NONE, MMFS_NONE, -1, buf,
				       sizeof(buf)),
			 256);
	ck_assert_int_eq(buf[0], 0);
	ck_assert_int_eq(buf[255], 255);
	ck_assert_int_eq(mmfs_getslice(map, 250, 300, 3, buf, sizeof(buf)), 2);
	ck_assert_int_eq(buf[0], 5);
	ck_assert_int_eq(buf[1], 2);
	ck_assert_int_eq(mmfs_getslice(map, -300, 3, INT64_MAX, buf, 1), 1);
	ck_assert_int_eq(buf[0], 255);
	ck_assert_int_eq(mmfs_getslice(map, 5, 2, MMFS_NONE, buf, 0), 0);
	ck_assert_int_eq(mmfs_getslice(map, 0, MMFS_NONE, INT64_MIN + 1, buf,
				       sizeof(buf)),
			 1);
	ck_assert_err(mmfs_getslice(map, 0, 10, 0, buf, sizeof(buf)), -EINVAL,
		      "slice step cannot be zero");
	ck_assert_int_eq(mmfs_getslice(map, 0, 10, 1, buf, 9), -ERANGE);
	ck_assert_int_eq(mmfs_tell(map), 256);
	mmfs_free(map);
}
END_TEST

START_TEST(test_row20_extended_set_del_slice)
{
	unsigned char s[256];
	struct mmfs_map *map = unit_anon_map(256, MMFS_MAP_SHARED);

	for (int i = 0; i < 256; i++)
		s[i] = (unsigned char)(255 - i);
	for_grid(map, s, check_setslice);

	/* Empty slices take b'' (m[5:2] = b'', m[100:200] = b'' on 256). */
	ck_assert_ok(mmfs_setslice(map, 5, 2, MMFS_NONE, "", 0));
	ck_assert_ok(mmfs_setslice(map, 300, 400, MMFS_NONE, NULL, 0));
	ck_assert_err(mmfs_setslice(map, 0, 1, 0, "x", 1), -EINVAL,
		      "slice step cannot be zero");
	ck_assert_err(mmfs_delslice(map, 0, 1, 0), -EINVAL,
		      "slice step cannot be zero");
	ck_assert_int_eq(mmfs_tell(map), 0);
	mmfs_free(map);
}
END_TEST

static Suite *subscript_suite(void)
{
	Suite *s = suite_create("subscript");
	TCase *tc = tcase_create("subscript");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_row16_anonymous);
	tcase_add_test(tc, test_items);
	tcase_add_test(tc, test_row19_extended_getslice);
	tcase_add_test(tc, test_row20_extended_set_del_slice);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(subscript_suite)
