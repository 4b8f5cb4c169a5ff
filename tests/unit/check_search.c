/* check_search.c - find/rfind (reference §6; test_mmap rows #7 to #10) and
 * the search primitives behind them, checked against naive references,
 * with guard pages on both sides, and with both vector filters. */
#include "unit.h"

#include <stdatomic.h>
#include <sys/mman.h>

#define ONE_TWO "one two ones"

/* ------------------------------------------------------------------ */
/* References */

/*
 * Python's bytes.find/rfind(sub, start, end) (ADJUST_INDICES, then the
 * search).  With mmap_clamp, start is also clamped to n first: the one
 * place where mmap.find differs (reference §6).
 */
static int64_t ref_find(const unsigned char *d, int64_t n,
			const unsigned char *p, int64_t m, int64_t start,
			int64_t end, bool rev, bool mmap_clamp)
{
	if (end > n) {
		end = n;
	} else if (end < 0) {
		end += n;
		if (end < 0)
			end = 0;
	}
	if (start < 0) {
		start += n;
		if (start < 0)
			start = 0;
	}
	if (mmap_clamp && start > n)
		start = n;
	if (end < start || end - start < m)
		return -1;
	if (m == 0)
		return rev ? end : start;
	if (!rev) {
		for (int64_t i = start; i <= end - m; i++)
			if (memcmp(d + i, p, (size_t)m) == 0)
				return i;
	} else {
		for (int64_t i = end - m; i >= start; i--)
			if (memcmp(d + i, p, (size_t)m) == 0)
				return i;
	}
	return -1;
}

static const unsigned char *naive(const unsigned char *h, size_t n,
				  const unsigned char *p, size_t m, bool rev)
{
	int64_t i = ref_find(h, (int64_t)n, p, (int64_t)m, 0, (int64_t)n, rev,
			     true);

	return i < 0 ? NULL : h + i;
}

/* xorshift64: fixed seeds, so a failure replays. */
static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* ------------------------------------------------------------------ */
/* Maps */

/* A file-backed map of the given bytes, pos 0. */
static struct mmfs_map *map_of(const void *data, size_t len)
{
	struct mmfs_map *map = NULL;
	int fd = unit_tmpfile(data, len);

	ck_assert_ok(mmfs_open(&map, fd, 0, MAP_SHARED, PROT_READ | PROT_WRITE,
			       MMFS_ACCESS_DEFAULT, 0, 0));
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(mmfs_len(map), (ssize_t)len);
	return map;
}

static int64_t find_s(struct mmfs_map *map, const char *s, int64_t start,
		      int64_t end)
{
	int64_t r = -2;

	ck_assert_ok(mmfs_find(map, s, strlen(s), start, end, &r));
	return r;
}

static int64_t rfind_s(struct mmfs_map *map, const char *s, int64_t start,
		       int64_t end)
{
	int64_t r = -2;

	ck_assert_ok(mmfs_rfind(map, s, strlen(s), start, end, &r));
	return r;
}

/* Tests of the search paths run once per mode (_i of a loop test, 0 to
 * MODES - 1): bit 0 forces the portable vector filter, bit 1 hands over to
 * Two-Way at the first failed comparison.  Mode 0 is production's. */
#define MODES 4

static void search_mode(int i)
{
	mmfs_search_tune(i & 1, i & 2);
}

/* ------------------------------------------------------------------ */
/* CPython's cases */

START_TEST(test_find_end)
{
	struct mmfs_map *map = map_of(ONE_TWO, 12);

	/* Row #8's fixed values. */
	ck_assert_int_eq(find_s(map, "one", 0, INT64_MAX), 0);
	ck_assert_int_eq(find_s(map, "ones", 0, INT64_MAX), 8);
	ck_assert_int_eq(find_s(map, "one", 0, -1), 0);
	ck_assert_int_eq(find_s(map, "one", 1, INT64_MAX), 8);
	ck_assert_int_eq(find_s(map, "one", 1, -1), 8);
	ck_assert_int_eq(find_s(map, "one", 1, -2), -1);
	ck_assert_int_eq(find_s(map, "two", 0, INT64_MAX), 4);
	ck_assert_int_eq(find_s(map, "twos", 0, INT64_MAX), -1);
	mmfs_free(map);
}
END_TEST

START_TEST(test_rfind)
{
	struct mmfs_map *map = map_of(ONE_TWO, 12);

	/* Row #10. */
	ck_assert_int_eq(rfind_s(map, "one", 0, INT64_MAX), 8);
	ck_assert_int_eq(rfind_s(map, "one ", 0, INT64_MAX), 0);
	ck_assert_int_eq(rfind_s(map, "one", 0, -1), 8);
	ck_assert_int_eq(rfind_s(map, "one", 0, -2), 0);
	ck_assert_int_eq(rfind_s(map, "one", 1, -1), 8);
	ck_assert_int_eq(rfind_s(map, "one", 1, -2), -1);
	ck_assert_int_eq(rfind_s(map, "s", 0, INT64_MAX), 11);
	ck_assert_int_eq(rfind_s(map, "x", 0, INT64_MAX), -1);
	mmfs_free(map);
}
END_TEST

/* Row #8's loop: every start and end in [-n-1, n] equals bytes.find. */
START_TEST(test_find_end_grid)
{
	static const char *const subs[] = {"o", "on", "two", "ones", "s"};
	const unsigned char *d = (const unsigned char *)ONE_TWO;
	struct mmfs_map *map = map_of(ONE_TWO, 12);
	const int64_t n = 12;

	for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
		const unsigned char *p = (const unsigned char *)subs[k];
		int64_t m = (int64_t)strlen(subs[k]);

		for (int64_t i = -n - 1; i <= n; i++) {
			for (int64_t j = -n - 1; j <= n; j++) {
				int64_t f = ref_find(d, n, p, m, i, j, false,
						     false);
				int64_t r =
					ref_find(d, n, p, m, i, j, true, false);

				ck_assert_int_eq(find_s(map, subs[k], i, j), f);
				ck_assert_int_eq(rfind_s(map, subs[k], i, j),
						 r);
			}
		}
	}
	mmfs_free(map);
}
END_TEST

/* Outside [-n-1, n], and for the empty needle, mmap clamps start before
 * anything else (the §6 divergence from bytes.find). */
/* clang-format off */
static const int64_t wide[] = {INT64_MIN, INT64_MIN + 1, -1000, -15, -14,
			       -13, -12, -11, -6, -1, 0, 1, 5, 11, 12, 13,
			       20, 100, INT64_MAX - 1, INT64_MAX};
/* clang-format on */

START_TEST(test_find_wide_bounds)
{
	static const char *const subs[] = {"", "o", "one", "ones", "s", "x"};
	const unsigned char *d = (const unsigned char *)ONE_TWO;
	struct mmfs_map *map = map_of(ONE_TWO, 12);
	const size_t nw = sizeof(wide) / sizeof(wide[0]);

	for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
		const unsigned char *p = (const unsigned char *)subs[k];
		int64_t m = (int64_t)strlen(subs[k]);

		for (size_t a = 0; a < nw; a++) {
			for (size_t b = 0; b < nw; b++) {
				int64_t i = wide[a], j = wide[b];

				ck_assert_int_eq(find_s(map, subs[k], i, j),
						 ref_find(d, 12, p, m, i, j,
							  false, true));
				ck_assert_int_eq(rfind_s(map, subs[k], i, j),
						 ref_find(d, 12, p, m, i, j,
							  true, true));
			}
		}
	}
	mmfs_free(map);
}
END_TEST

START_TEST(test_empty_needle)
{
	const unsigned char *d = (const unsigned char *)ONE_TWO;
	struct mmfs_map *map = map_of(ONE_TWO, 12);

	/* Reference §6, observed values. */
	ck_assert_int_eq(find_s(map, "", 0, INT64_MAX), 0);
	ck_assert_int_eq(rfind_s(map, "", 0, INT64_MAX), 12);
	ck_assert_int_eq(find_s(map, "", 100, INT64_MAX), 12);
	ck_assert_int_eq(rfind_s(map, "", 100, INT64_MAX), 12);
	ck_assert_int_eq(find_s(map, "", 13, 20), 12);
	ck_assert_int_eq(rfind_s(map, "", 13, 20), 12);
	/* ... where bytes.find says -1. */
	ck_assert_int_eq(ref_find(d, 12, d, 0, 100, INT64_MAX, false, false),
			 -1);
	ck_assert_int_eq(ref_find(d, 12, d, 0, 13, 20, true, false), -1);
	ck_assert_int_eq(find_s(map, "", 4, INT64_MAX), 4);
	ck_assert_int_eq(rfind_s(map, "", 0, 4), 4);
	ck_assert_int_eq(find_s(map, "", -3, INT64_MAX), 9);
	ck_assert_int_eq(rfind_s(map, "", 0, -3), 9);
	ck_assert_int_eq(find_s(map, "", -100, INT64_MAX), 0);
	ck_assert_int_eq(rfind_s(map, "", -100, -100), 0);
	/* end < start: -1 even for the empty needle. */
	ck_assert_int_eq(find_s(map, "", 5, 3), -1);
	ck_assert_int_eq(rfind_s(map, "", 5, 3), -1);
	ck_assert_int_eq(find_s(map, "", -1, -2), -1);
	ck_assert_int_eq(rfind_s(map, "", 20, 11), -1);
	/* start == end: the empty needle is there, nothing else is. */
	ck_assert_int_eq(find_s(map, "", 7, 7), 7);
	ck_assert_int_eq(rfind_s(map, "", 7, 7), 7);
	ck_assert_int_eq(find_s(map, "t", 4, 4), -1);
	/* A NULL needle of length 0 is the empty needle. */
	{
		int64_t r = -2;

		ck_assert_ok(mmfs_find(map, NULL, 0, 3, INT64_MAX, &r));
		ck_assert_int_eq(r, 3);
	}
	mmfs_free(map);
}
END_TEST

/* Row #7: every substring of the data, with embedded NULs. */
START_TEST(test_tougher_find)
{
	static const unsigned char d[] = "aabaac\0deef\0\0aa\0";
	const size_t n = sizeof(d) - 1;
	struct mmfs_map *map = map_of(d, n);
	unsigned char sub[32];

	/* 16 bytes, as len() in Python says (the inventory's "n=17" is a
	 * miscount). */
	ck_assert_uint_eq(n, 16);
	for (size_t s = 0; s <= n; s++) {
		for (size_t f = s; f <= n; f++) {
			size_t m = f - s;
			int64_t r = -2;

			memcpy(sub, d + s, m);
			ck_assert_ok(mmfs_find(map, sub, m, 0, INT64_MAX, &r));
			ck_assert_int_eq(r, ref_find(d, (int64_t)n, sub,
						     (int64_t)m, 0, INT64_MAX,
						     false, true));
			ck_assert_int_le(r, (int64_t)s);
			ck_assert_int_eq(memcmp(d + r, sub, m), 0);
			ck_assert_ok(mmfs_rfind(map, sub, m, 0, INT64_MAX, &r));
			ck_assert_int_eq(r, ref_find(d, (int64_t)n, sub,
						     (int64_t)m, 0, INT64_MAX,
						     true, true));
			ck_assert_int_ge(r, (int64_t)s);
			sub[m] = 'x';
			ck_assert_ok(
				mmfs_find(map, sub, m + 1, 0, INT64_MAX, &r));
			ck_assert_int_eq(r, -1);
			ck_assert_ok(
				mmfs_rfind(map, sub, m + 1, 0, INT64_MAX, &r));
			ck_assert_int_eq(r, -1);
		}
	}
	mmfs_free(map);
}
END_TEST

/* Python's default start is the position, and a search never moves it. */
START_TEST(test_start_defaults_to_pos)
{
	struct mmfs_map *map = map_of(ONE_TWO, 12);
	int64_t pos = -1;

	ck_assert_ok(mmfs_seek(map, 9, 0, &pos));
	ck_assert_int_eq(pos, 9);
	/* "one" is at 8, before pos 9 (reference §6). */
	ck_assert_int_eq(rfind_s(map, "one", mmfs_tell(map), INT64_MAX), -1);
	ck_assert_int_eq(find_s(map, "one", mmfs_tell(map), INT64_MAX), -1);
	ck_assert_int_eq(find_s(map, "nes", mmfs_tell(map), INT64_MAX), 9);
	ck_assert_int_eq(rfind_s(map, "", mmfs_tell(map), INT64_MAX), 12);
	ck_assert_int_eq(find_s(map, "", mmfs_tell(map), INT64_MAX), 9);
	ck_assert_int_eq(mmfs_tell(map), 9);
	ck_assert_int_eq(find_s(map, "one", 0, INT64_MAX), 0);
	ck_assert_int_eq(rfind_s(map, "one", 0, INT64_MAX), 8);
	ck_assert_int_eq(mmfs_tell(map), 9);
	ck_assert_ok(mmfs_seek(map, 0, 2, &pos));
	ck_assert_int_eq(find_s(map, "s", mmfs_tell(map), INT64_MAX), -1);
	ck_assert_int_eq(mmfs_tell(map), 12);
	mmfs_free(map);
}
END_TEST

START_TEST(test_closed_map)
{
	struct mmfs_map *map = map_of(ONE_TWO, 12);
	int64_t r = 1234;

	ck_assert_ok(mmfs_close(map));
	ck_assert_err(mmfs_find(map, "one", 3, 0, INT64_MAX, &r), -EBADF,
		      "mmap closed or invalid");
	ck_assert_err(mmfs_rfind(map, "one", 3, 0, INT64_MAX, &r), -EBADF,
		      "mmap closed or invalid");
	/* Also for the empty needle: the closed check comes first. */
	ck_assert_err(mmfs_find(map, "", 0, 0, INT64_MAX, &r), -EBADF,
		      "mmap closed or invalid");
	ck_assert_err(mmfs_find(NULL, "", 0, 0, INT64_MAX, &r), -EBADF,
		      "mmap closed or invalid");
	ck_assert_int_eq(r, 1234);
	mmfs_free(map);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct mmfs_map *map = map_of(ONE_TWO, 12);
	int64_t r = 1234;

	ck_assert_err(mmfs_find(map, NULL, 3, 0, INT64_MAX, &r), -EINVAL,
		      "find: bad argument");
	ck_assert_err(mmfs_rfind(map, NULL, 1, 0, INT64_MAX, &r), -EINVAL,
		      "find: bad argument");
	ck_assert_err(mmfs_find(map, "one", 3, 0, INT64_MAX, NULL), -EINVAL,
		      "find: bad argument");
	ck_assert_int_eq(r, 1234);
	mmfs_free(map);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Row #9: no access outside [start, end).  The searched bytes sit
 * between two PROT_NONE pages, so any stray read kills the test. */

struct guarded {
	void *reserve;
	size_t reserve_len;
	unsigned char *area; /* first byte after the lower guard page */
};

/* A reservation of len (a page multiple) + two guard pages; the middle is
 * left PROT_NONE for the caller to map into. */
static void guarded_reserve(struct guarded *g, size_t len)
{
	size_t pg = unit_pagesize();

	g->reserve_len = len + 2 * pg;
	g->reserve = mmap(NULL, g->reserve_len, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(g->reserve, MAP_FAILED);
	g->area = (unsigned char *)g->reserve + pg;
}

static void guarded_release(struct guarded *g)
{
	ck_assert_int_eq(munmap(g->reserve, g->reserve_len), 0);
}

/* An anonymous map of pages pages of random bytes, moved between two
 * guard pages (white box: the map's data pointer follows the move). */
static struct mmfs_map *guarded_map(struct guarded *g, size_t pages)
{
	size_t len = pages * unit_pagesize();
	struct mmfs_map *map = NULL;
	void *moved;

	guarded_reserve(g, len);
	ck_assert_ok(mmfs_open(&map, -1, (int64_t)len, MAP_PRIVATE,
			       PROT_READ | PROT_WRITE, MMFS_ACCESS_DEFAULT, 0,
			       0));
	for (size_t i = 0; i < len; i++)
		map->data[i] = (unsigned char)('a' + rnd() % 4);
	moved = mremap(map->data, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
		       g->area);
	ck_assert_ptr_eq(moved, g->area);
	map->data = moved;
	return map;
}

START_TEST(test_find_does_not_access_beyond_buffer)
{
	struct guarded g;

	search_mode(_i);
	rnd_state = 0x9e3779b97f4a7c15ULL;
	for (size_t pages = 1; pages <= 6; pages++) {
		struct mmfs_map *map = guarded_map(&g, pages);
		size_t n = pages * unit_pagesize();
		unsigned char *d = map->data;
		unsigned char p[300];
		int64_t r;

		/* CPython's case: the last two bytes, negative start. */
		memcpy(d + n - 2, "fo", 2);
		ck_assert_int_eq(find_s(map, "fo", -2, INT64_MAX),
				 (int64_t)n - 2);
		ck_assert_int_eq(find_s(map, "fo", -1, INT64_MAX), -1);
		ck_assert_int_eq(rfind_s(map, "fo", -2, INT64_MAX),
				 (int64_t)n - 2);
		ck_assert_int_eq(find_s(map, "o", -1, INT64_MAX),
				 (int64_t)n - 1);
		ck_assert_int_eq(rfind_s(map, "fox", -3, INT64_MAX), -1);
		for (size_t m = 1; m <= sizeof(p); m += (m < 80 ? 1 : 37)) {
			/* The last m bytes, from a negative start ... */
			memcpy(p, d + n - m, m);
			ck_assert_ok(mmfs_find(map, p, m, -(int64_t)m,
					       INT64_MAX, &r));
			ck_assert_int_eq(r, (int64_t)(n - m));
			ck_assert_ok(mmfs_rfind(map, p, m, -(int64_t)m - 5,
						INT64_MAX, &r));
			ck_assert_int_eq(r, (int64_t)(n - m));
			/* ... the first m bytes, up to end m ... */
			memcpy(p, d, m);
			ck_assert_ok(mmfs_rfind(map, p, m, 0, (int64_t)m, &r));
			ck_assert_int_eq(r, 0);
			ck_assert_ok(mmfs_find(map, p, m, -(int64_t)n - 9,
					       (int64_t)m, &r));
			ck_assert_int_eq(r, 0);
			/* ... and an absent needle over the whole map. */
			memset(p, 'z', m);
			ck_assert_ok(mmfs_find(map, p, m, 0, INT64_MAX, &r));
			ck_assert_int_eq(r, -1);
			ck_assert_ok(mmfs_rfind(map, p, m, -(int64_t)n - 1,
						INT64_MAX, &r));
			ck_assert_int_eq(r, -1);
		}
		mmfs_free(map);
		guarded_release(&g);
	}
	search_mode(0);
}
END_TEST

/* The primitives alone, on every range length up to three vector blocks
 * placed right after the lower guard and right before the upper one. */
START_TEST(test_memmem_guard_pages)
{
	size_t pg = unit_pagesize();
	struct guarded g;
	unsigned char p[80];

	search_mode(_i);
	rnd_state = 0x2545f4914f6cdd1dULL;
	guarded_reserve(&g, pg);
	ck_assert_ptr_eq(mmap(g.area, pg, PROT_READ | PROT_WRITE,
			      MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
			 g.area);
	for (size_t i = 0; i < pg; i++)
		g.area[i] = (unsigned char)('a' + rnd() % 3);
	for (size_t n = 0; n <= 200; n++) {
		for (size_t m = 1; m <= 70; m += 3) {
			for (int k = 0; k < 6; k++) {
				/* The range ends at the upper guard or starts
				 * at the lower one; the needle is its first m
				 * bytes, its last m, or absent ('d'). */
				const unsigned char *h =
					k % 2 ? g.area + pg - n : g.area;

				if (k < 4 && m <= n)
					memcpy(p, k < 2 ? h : h + n - m, m);
				else
					memset(p, 'd', m);
				ck_assert_ptr_eq(mmfs_memmem(h, n, p, m),
						 naive(h, n, p, m, false));
				ck_assert_ptr_eq(mmfs_memrmem(h, n, p, m),
						 naive(h, n, p, m, true));
			}
		}
	}
	guarded_release(&g);
	search_mode(0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The primitives against the naive search */

START_TEST(test_memmem_edges)
{
	static const unsigned char h[] = "abcabc";

	ck_assert_ptr_eq(mmfs_memmem(h, 6, "", 0), h);
	ck_assert_ptr_eq(mmfs_memrmem(h, 6, "", 0), h + 6);
	ck_assert_ptr_eq(mmfs_memmem(h, 0, "", 0), h);
	ck_assert_ptr_eq(mmfs_memrmem(h, 0, "", 0), h);
	ck_assert_ptr_eq(mmfs_memmem(h, 2, "abc", 3), NULL);
	ck_assert_ptr_eq(mmfs_memrmem(h, 2, "abc", 3), NULL);
	ck_assert_ptr_eq(mmfs_memmem(h, 6, "abc", 3), h);
	ck_assert_ptr_eq(mmfs_memrmem(h, 6, "abc", 3), h + 3);
	ck_assert_ptr_eq(mmfs_memmem(h, 6, "c", 1), h + 2);
	ck_assert_ptr_eq(mmfs_memrmem(h, 6, "c", 1), h + 5);
	ck_assert_ptr_eq(mmfs_memmem(h, 6, "abcabc", 6), h);
	ck_assert_ptr_eq(mmfs_memrmem(h, 6, "abcabc", 6), h);
	ck_assert_ptr_eq(mmfs_memmem(h, 6, "abcabd", 6), NULL);
	ck_assert_ptr_eq(mmfs_memrmem(h, 6, "bcabc", 5), h + 1);
}
END_TEST

#define RAND_HAY 4096

/*
 * Random cases over alphabets of 1 to 4 letters, in two shapes: plain
 * random text, and a short random word repeated with a few bytes changed
 * (many near-matches, the input that sends the search to Two-Way).
 * Needles are mostly cut from the haystack, sometimes with one byte
 * changed.  The seed is fixed.
 */
START_TEST(test_random_differential)
{
	static unsigned char h[RAND_HAY], p[1100];
	unsigned char word[8];

	search_mode(_i);
	rnd_state = 0x853c49e6748fea9bULL;
	for (int t = 0; t < 6000; t++) {
		/* Mostly 1 to 4 letters; one case in 8 draws from all 256
		 * byte values, from 'a' on (wrapping past 0xff). */
		unsigned int alpha =
			t % 8 == 7 ? 256 : 1 + (unsigned int)(rnd() % 4);
		size_t wl = 1 + rnd() % 7;
		size_t n = rnd() % (t % 4 == 0 ? RAND_HAY : 300);
		size_t m = 1 + rnd() % (t % 3 == 0 ? sizeof(p) : 40);
		bool periodic = t % 2 == 0;

		for (size_t i = 0; i < wl; i++)
			word[i] = (unsigned char)('a' + rnd() % alpha);
		for (size_t i = 0; i < n; i++)
			h[i] = periodic ? word[i % wl]
					: (unsigned char)('a' + rnd() % alpha);
		for (int k = (int)(rnd() % 4); periodic && n > 0 && k > 0; k--)
			h[rnd() % n] = (unsigned char)('a' + rnd() % alpha);
		if (n >= m && rnd() % 4 != 0) {
			memcpy(p, h + rnd() % (n - m + 1), m);
			if (rnd() % 3 == 0)
				p[rnd() % m] =
					(unsigned char)('a' + rnd() % alpha);
		} else {
			for (size_t i = 0; i < m; i++)
				p[i] = periodic
					       ? word[i % wl]
					       : (unsigned char)('a' +
								 rnd() % alpha);
		}
		ck_assert_msg(mmfs_memmem(h, n, p, m) ==
				      naive(h, n, p, m, false),
			      "case %d: memmem n=%zu m=%zu", t, n, m);
		ck_assert_msg(mmfs_memrmem(h, n, p, m) ==
				      naive(h, n, p, m, true),
			      "case %d: memrmem n=%zu m=%zu", t, n, m);
	}
	search_mode(0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Worst cases on a 16 MiB map: correctness only (no timing here; the
 * benchmark shows the speed), but a quadratic search would not finish. */

#define BIG (16u << 20)

static struct mmfs_map *big_map(void)
{
	struct mmfs_map *map = NULL;

	ck_assert_ok(mmfs_open(&map, -1, BIG, MAP_PRIVATE,
			       PROT_READ | PROT_WRITE, MMFS_ACCESS_DEFAULT, 0,
			       0));
	return map;
}

START_TEST(test_periodic_16mib)
{
	struct mmfs_map *map = big_map();
	unsigned char *d = map->data;
	static unsigned char p[1024];
	int64_t r;

	search_mode(_i);
	/* "aaa...ab" in a sea of 'a', absent and then present. */
	memset(d, 'a', BIG);
	memset(p, 'a', sizeof(p));
	p[sizeof(p) - 1] = 'b';
	ck_assert_ok(mmfs_find(map, p, sizeof(p), 0, INT64_MAX, &r));
	ck_assert_int_eq(r, -1);
	ck_assert_ok(mmfs_rfind(map, p, sizeof(p), 0, INT64_MAX, &r));
	ck_assert_int_eq(r, -1);
	d[BIG - 5] = 'b';
	ck_assert_ok(mmfs_find(map, p, sizeof(p), 0, INT64_MAX, &r));
	ck_assert_int_eq(r, BIG - 5 - 1023);
	ck_assert_ok(mmfs_rfind(map, p, sizeof(p), 0, INT64_MAX, &r));
	ck_assert_int_eq(r, BIG - 5 - 1023);
	ck_assert_ok(mmfs_find(map, p + 1000, 24, 0, INT64_MAX, &r));
	ck_assert_int_eq(r, BIG - 5 - 23);
	/* Its mirror "baaa...a" for rfind, near the start. */
	d[7] = 'b';
	p[0] = 'b';
	p[sizeof(p) - 1] = 'a';
	ck_assert_ok(mmfs_rfind(map, p, sizeof(p), 0, INT64_MAX, &r));
	ck_assert_int_eq(r, 7);
	ck_assert_ok(mmfs_find(map, p, sizeof(p), 0, INT64_MAX, &r));
	ck_assert_int_eq(r, 7);
	ck_assert_ok(mmfs_rfind(map, p, 24, 0, INT64_MAX, &r));
	ck_assert_int_eq(r, 7);
	ck_assert_ok(mmfs_rfind(map, p, sizeof(p), 8, INT64_MAX, &r));
	ck_assert_int_eq(r, -1);
	search_mode(0);
	mmfs_free(map);
}
END_TEST

/* (ab)* with a needle that matches 1022 bytes at every even position
 * before it fails: the case that defeats the filter and needs Two-Way. */
START_TEST(test_adversarial_16mib)
{
	struct mmfs_map *map = big_map();
	unsigned char *d = map->data;
	static unsigned char p[1024];
	const size_t at = BIG - 2000;
	int64_t r;

	search_mode(_i);
	for (size_t i = 0; i < BIG; i++)
		d[i] = "ab"[i & 1];
	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = "ab"[i & 1];
	p[1022] = 'b';
	ck_assert_ok(mmfs_find(map, p, sizeof(p), 0, INT64_MAX, &r));
	ck_assert_int_eq(r, -1);
	ck_assert_ok(mmfs_rfind(map, p, sizeof(p), 0, INT64_MAX, &r));
	ck_assert_int_eq(r, -1);
	memcpy(d + at, p, sizeof(p));
	ck_assert_ok(mmfs_find(map, p, sizeof(p), 0, INT64_MAX, &r));
	ck_assert_int_eq(r, (int64_t)at);
	ck_assert_ok(mmfs_rfind(map, p, sizeof(p), 0, INT64_MAX, &r));
	ck_assert_int_eq(r, (int64_t)at);
	/* Moved near the start, for the backward search to walk to. */
	for (size_t i = at; i < at + sizeof(p); i++)
		d[i] = "ab"[i & 1];
	memcpy(d + 1000, p, sizeof(p));
	ck_assert_ok(mmfs_rfind(map, p, sizeof(p), 0, INT64_MAX, &r));
	ck_assert_int_eq(r, 1000);
	ck_assert_ok(mmfs_rfind(map, p, sizeof(p), 0, 1000 + 1023, &r));
	ck_assert_int_eq(r, -1);
	ck_assert_ok(mmfs_find(map, p, sizeof(p), 1001, INT64_MAX, &r));
	ck_assert_int_eq(r, -1);
	search_mode(0);
	mmfs_free(map);
}
END_TEST

/* The same needle planted at every position near where the search gives
 * up on the filter and hands over to Two-Way: no start may fall in the
 * gap between the two. */
START_TEST(test_handover_sweep)
{
	static unsigned char h[8192], p[1024];
	const size_t n = sizeof(h), m = sizeof(p);

	search_mode(_i);
	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = "ab"[i & 1];
	p[1022] = 'b';
	for (size_t at = 0; at < 300; at++) {
		size_t rat = n - m - at;

		for (size_t i = 0; i < n; i++)
			h[i] = "ab"[i & 1];
		memcpy(h + at, p, m);
		ck_assert_ptr_eq(mmfs_memmem(h, n, p, m), h + at);
		for (size_t i = 0; i < n; i++)
			h[i] = "ab"[i & 1];
		memcpy(h + rat, p, m);
		ck_assert_ptr_eq(mmfs_memrmem(h, n, p, m), h + rat);
	}
	search_mode(0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A file truncated behind the map's back: -EIO, not SIGBUS. */

START_TEST(test_truncated_file_eio)
{
	size_t pg = unit_pagesize();
	int fd = unit_tmpfile_fill('x', 4 * pg);
	struct mmfs_map *map = NULL;
	uint64_t faults = mmfs_fault_count();
	int64_t r = 1234;

	ck_assert_ok(mmfs_open(&map, fd, 0, MAP_SHARED, PROT_READ | PROT_WRITE,
			       MMFS_ACCESS_DEFAULT, 0, 0));
	ck_assert_int_eq(ftruncate(fd, (off_t)pg), 0);
	/* Found in the first page: the missing pages are never touched. */
	ck_assert_int_eq(find_s(map, "xx", 0, INT64_MAX), 0);
	ck_assert_int_eq(rfind_s(map, "xx", 0, (int64_t)pg), (int64_t)pg - 2);
	/* A search that reaches them fails cleanly. */
	ck_assert_int_eq(mmfs_find(map, "yy", 2, 0, INT64_MAX, &r), -EIO);
	ck_assert_str_ne(mmfs_errmsg(), "");
	ck_assert_int_eq(mmfs_rfind(map, "x", 1, 0, INT64_MAX, &r), -EIO);
	ck_assert_int_eq(r, 1234);
	ck_assert_uint_eq(mmfs_fault_count(), faults + 2);
	mmfs_free(map);
	ck_assert_int_eq(close(fd), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* find/rfind shared out between threads (mmfs_search_threads), made to
 * share out even tiny ranges in tiny chunks: the same results as one
 * pass, bounds, overlaps between chunks and faults included. */

static void parallel_on(unsigned int threads, size_t chunk)
{
	mmfs_search_threads(threads);
	mmfs_search_parallel_tune(0, chunk);
}

static void parallel_off(void)
{
	mmfs_search_threads(1);
	mmfs_search_parallel_tune((size_t)32 << 20, (size_t)8 << 20);
}

START_TEST(test_parallel_differential)
{
	static unsigned char p[40];
	const int64_t n = 3000;
	struct mmfs_map *map = map_of(NULL, 3000);
	unsigned char *h = unit_data(map, NULL);

	rnd_state = 0x2545f4914f6cdd1dULL + (uint64_t)_i;
	for (int t = 0; t < 1500; t++) {
		unsigned int alpha = 1 + (unsigned int)(rnd() % 3);
		size_t m = 1 + rnd() % (t % 5 == 0 ? sizeof(p) : 6);
		int64_t start = (int64_t)(rnd() % (n + 40)) - 20;
		int64_t end = (int64_t)(rnd() % (n + 40)) - 20;
		int64_t r = -2, want;

		if (t % 100 == 0)
			for (int64_t i = 0; i < n; i++)
				h[i] = (unsigned char)('a' + rnd() % alpha);
		if (rnd() % 4 != 0) {
			memcpy(p, h + rnd() % ((size_t)n - m + 1), m);
		} else {
			for (size_t i = 0; i < m; i++)
				p[i] = (unsigned char)('a' +
						       rnd() % (alpha + 1));
		}
		if (t % 7 == 0)
			end = INT64_MAX;
		parallel_on(2 + (unsigned int)(rnd() % 3), 1 + rnd() % 80);
		for (int rev = 0; rev < 2; rev++) {
			want = ref_find(h, n, p, (int64_t)m, start, end, rev,
					true);
			ck_assert_ok(
				rev ? mmfs_rfind(map, p, m, start, end, &r)
				    : mmfs_find(map, p, m, start, end, &r));
			ck_assert_msg(r == want,
				      "case %d: %s m=%zu [%lld, %lld): %lld, "
				      "one pass %lld",
				      t, rev ? "rfind" : "find", m,
				      (long long)start, (long long)end,
				      (long long)r, (long long)want);
		}
	}
	parallel_off();
	mmfs_free(map);
}
END_TEST

/* Every chunk holds a match near its far end, so that the threads find
 * theirs at about the same time: the first chunk's must win each race. */
START_TEST(test_parallel_race)
{
	const size_t chunk = 64 << 10, n = 64 * chunk;
	struct mmfs_map *map = NULL;
	unsigned char *d;
	int64_t r;

	ck_assert_ok(mmfs_open(&map, -1, (int64_t)n, MAP_PRIVATE,
			       PROT_READ | PROT_WRITE, MMFS_ACCESS_DEFAULT, 0,
			       0));
	d = unit_data(map, NULL);
	memset(d, 'a', n);
	for (size_t c = 0; c < n; c += chunk) {
		memcpy(d + c + chunk - 100, "bc", 2); /* for find */
		memcpy(d + c + 100, "bc", 2);	      /* for rfind */
	}
	for (int t = 0; t < 40; t++) {
		parallel_on(2 + (unsigned int)(t % 3), chunk);
		ck_assert_ok(mmfs_find(map, "bc", 2, 50, INT64_MAX, &r));
		ck_assert_int_eq(r, 100);
		ck_assert_ok(mmfs_find(map, "bc", 2, 101, INT64_MAX, &r));
		ck_assert_int_eq(r, (int64_t)(chunk - 100));
		ck_assert_ok(mmfs_rfind(map, "bc", 2, 0, INT64_MAX, &r));
		ck_assert_int_eq(r, (int64_t)(n - 100));
		ck_assert_ok(
			mmfs_rfind(map, "bc", 2, 0, (int64_t)(n - 99), &r));
		ck_assert_int_eq(r, (int64_t)(n - chunk + 100));
	}
	parallel_off();
	mmfs_free(map);
}
END_TEST

START_TEST(test_parallel_fault)
{
	size_t pg = unit_pagesize();
	int fd = unit_tmpfile_fill('x', 8 * pg);
	struct mmfs_map *map = NULL;
	uint64_t faults = mmfs_fault_count();
	unsigned char *d;
	int64_t r = 1234;

	ck_assert_ok(mmfs_open(&map, fd, 0, MAP_SHARED, PROT_READ | PROT_WRITE,
			       MMFS_ACCESS_DEFAULT, 0, 0));
	d = unit_data(map, NULL);
	memcpy(d + 2 * pg + 100, "yy", 2);
	ck_assert_int_eq(ftruncate(fd, (off_t)(3 * pg)), 0);
	parallel_on(3, pg);
	/* The chunk that decides comes before the missing pages, whatever
	 * the other threads met there. */
	ck_assert_int_eq(find_s(map, "xx", 0, INT64_MAX), 0);
	ck_assert_int_eq(find_s(map, "yy", 0, INT64_MAX),
			 (int64_t)(2 * pg + 100));
	ck_assert_int_eq(rfind_s(map, "yy", 0, (int64_t)(3 * pg)),
			 (int64_t)(2 * pg + 100));
	/* One pass would meet the missing pages first: -EIO and its
	 * message, in this thread. */
	ck_assert_int_eq(mmfs_find(map, "zz", 2, 0, INT64_MAX, &r), -EIO);
	ck_assert_str_ne(mmfs_errmsg(), "");
	ck_assert_int_eq(mmfs_rfind(map, "yy", 2, 0, INT64_MAX, &r), -EIO);
	ck_assert_str_ne(mmfs_errmsg(), "");
	ck_assert_int_eq(r, 1234);
	ck_assert_uint_ge(mmfs_fault_count(), faults + 2);
	parallel_off();
	mmfs_free(map);
	ck_assert_int_eq(close(fd), 0);
}
END_TEST

/* mmfs_search_stop: the test is asked before each chunk, from whichever
 * thread takes it, and once it says true no chunk is taken: a search not
 * yet decided fails with EINTR, a decided one keeps its result. */
static atomic_int stop_calls;

static bool stop_after(void *arg)
{
	return atomic_fetch_add(&stop_calls, 1) >= *(const int *)arg;
}

static int stopped_search(struct mmfs_map *map, const char *needle, bool rev,
			  int after, unsigned int threads, int64_t *r)
{
	size_t m = strlen(needle);
	int rc;

	atomic_store(&stop_calls, 0);
	parallel_on(threads, 4096);
	mmfs_search_stop(stop_after, &after);
	rc = rev ? mmfs_rfind(map, needle, m, 0, INT64_MAX, r)
		 : mmfs_find(map, needle, m, 0, INT64_MAX, r);
	mmfs_search_stop(NULL, NULL);
	parallel_off();
	return rc;
}

static int stopped_find(struct mmfs_map *map, bool rev, int after,
			unsigned int threads, int64_t *r)
{
	return stopped_search(map, "bc", rev, after, threads, r);
}

START_TEST(test_search_stop)
{
	const size_t chunk = 4096, n = 64 * chunk;
	struct mmfs_map *map = map_of(NULL, n);
	unsigned char *d = unit_data(map, NULL);
	int64_t r = 1234;

	memset(d, 'a', n);
	memcpy(d + 10 * chunk + 5, "bc", 2);
	/* one thread: three chunks, then stopped short of the match */
	ck_assert_int_eq(stopped_find(map, false, 3, 1, &r), -EINTR);
	ck_assert_str_eq(mmfs_errmsg(), "find: stopped");
	ck_assert_int_eq(r, 1234);
	ck_assert_int_eq(atomic_load(&stop_calls), 4);
	/* stopped at once: even a match in the first chunk is not looked
	 * for */
	ck_assert_int_eq(stopped_find(map, false, 0, 1, &r), -EINTR);
	ck_assert_int_eq(atomic_load(&stop_calls), 1);
	/* the match's chunk was taken before the test said true: it stands,
	 * and no chunk after it is asked for */
	ck_assert_int_eq(stopped_find(map, false, 20, 1, &r), 0);
	ck_assert_int_eq(r, (int64_t)(10 * chunk + 5));
	ck_assert_int_eq(atomic_load(&stop_calls), 12);
	/* several threads: at most five chunks are taken, all before the
	 * match */
	r = 1234;
	ck_assert_int_eq(stopped_find(map, false, 5, 3, &r), -EINTR);
	ck_assert_int_eq(r, 1234);
	/* rfind counts chunks from the end */
	memcpy(d + 62 * chunk + 7, "bc", 2);
	ck_assert_int_eq(stopped_find(map, true, 3, 1, &r), 0);
	ck_assert_int_eq(r, (int64_t)(62 * chunk + 7));
	ck_assert_int_eq(stopped_find(map, true, 1, 1, &r), -EINTR);
	/* every chunk taken before the test would say true: no stop, and
	 * the answer (absent) stands */
	ck_assert_int_eq(stopped_search(map, "zz", false, 64, 1, &r), 0);
	ck_assert_int_eq(r, -1);
	ck_assert_int_eq(atomic_load(&stop_calls), 64);
	/* no test: one pass, whole */
	ck_assert_int_eq(find_s(map, "bc", 0, INT64_MAX),
			 (int64_t)(10 * chunk + 5));
	mmfs_free(map);
}
END_TEST

static Suite *search_suite(void)
{
	Suite *s = suite_create("search");
	TCase *tc = tcase_create("find");
	TCase *prim = tcase_create("primitives");
	TCase *big = tcase_create("worst cases");
	TCase *par = tcase_create("parallel");

	tcase_add_test(tc, test_find_end);
	tcase_add_test(tc, test_rfind);
	tcase_add_test(tc, test_find_end_grid);
	tcase_add_test(tc, test_find_wide_bounds);
	tcase_add_test(tc, test_empty_needle);
	tcase_add_test(tc, test_tougher_find);
	tcase_add_test(tc, test_start_defaults_to_pos);
	tcase_add_test(tc, test_closed_map);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_loop_test(tc, test_find_does_not_access_beyond_buffer, 0,
			    MODES);
	tcase_add_test(tc, test_truncated_file_eio);
	suite_add_tcase(s, tc);

	/* thousands of searches, each starting its threads: slow under
	 * the sanitizers */
	tcase_add_loop_test(par, test_parallel_differential, 0, 3);
	tcase_add_test(par, test_parallel_race);
	tcase_add_test(par, test_parallel_fault);
	tcase_add_test(par, test_search_stop);
	tcase_set_timeout(par, 120);
	suite_add_tcase(s, par);

	tcase_add_test(prim, test_memmem_edges);
	tcase_add_loop_test(prim, test_memmem_guard_pages, 0, MODES);
	tcase_add_loop_test(prim, test_random_differential, 0, MODES);
	tcase_set_timeout(prim, 60);
	suite_add_tcase(s, prim);

	tcase_add_loop_test(big, test_periodic_16mib, 0, MODES);
	tcase_add_loop_test(big, test_adversarial_16mib, 0, MODES);
	tcase_add_loop_test(big, test_handover_sweep, 0, MODES);
	tcase_set_timeout(big, 60);
	suite_add_tcase(s, big);
	return s;
}

UNIT_MAIN(search_suite)
