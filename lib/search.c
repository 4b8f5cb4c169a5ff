/*
 * search.c - find/rfind (reference §6) and the substring searches behind
 * them, forward (mmfs_memmem) and backward (mmfs_memrmem).
 *
 * Three demands shape the code: memmem's speed or better, linear time on
 * any input, and no read outside the searched range (a guard page or a
 * truncated file may lie just beside it).  A vector filter tests two
 * needle bytes at every candidate position at once (the "packed pair"
 * idea); each position that passes is compared in full, and that work is
 * charged to a budget.  When comparing costs more than scanning, the rest
 * of the range goes to Two-Way (Crochemore-Perrin 1991), which is linear
 * in O(1) space.  The backward search is the same algorithm read over the
 * reversed strings, so it has the same guarantees.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "mmfs-int.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define MMFS_HAVE_AVX2 1
#endif

/* Candidate positions the vector filter tests per step (bits of a mask). */
#define BLOCK 64

/* Verification work allowed before Two-Way takes over: this much, plus
 * BUDGET_RATE bytes compared for every byte scanned. */
#define BUDGET_BASE 1024
#define BUDGET_RATE 2

/*
 * The two needle bytes the filter tests: the rarest one, and the rarest of
 * those with a different value.  Rarer bytes let fewer positions through;
 * two different values mean a run of one byte value (the classic worst
 * case "aaa...ab" in "aaaa...") lets none through, in either direction.
 */
struct pair {
	size_t i1, i2;
	unsigned char c1, c2;
};

/* How common a byte is in everyday files (text, source, binaries): a
 * rough guess, higher for more common. */
static unsigned int commonness(unsigned char c)
{
	static const char letters[] = "etaoinsrhldcumfpgwybvkxjqz";

	if (c == ' ' || c == 0)
		return 255;
	if (c >= 'a' && c <= 'z')
		return 250 - 4 * (unsigned int)(strchr(letters, c) - letters);
	if (c == '\n' || c == '\t' || c == 0xff)
		return 160;
	if (c >= '0' && c <= '9')
		return 140;
	if (c >= 'A' && c <= 'Z')
		return 120;
	if (c > ' ' && c < 0x7f)
		return 100; /* punctuation */
	return 50;
}

static void pick_pair(const unsigned char *p, size_t m, struct pair *pr)
{
	unsigned int best1 = UINT_MAX, best2 = UINT_MAX;
	size_t i1 = 0, i2 = m - 1;

	for (size_t i = 0; i < m; i++) {
		unsigned int c = commonness(p[i]);

		if (c < best1) {
			best1 = c;
			i1 = i;
		}
	}
	for (size_t i = 0; i < m; i++) {
		unsigned int c = commonness(p[i]);

		if (p[i] != p[i1] && c < best2) {
			best2 = c;
			i2 = i;
		}
	}
	if (best2 == UINT_MAX) /* one value throughout */
		i1 = 0;
	pr->i1 = i1;
	pr->i2 = i2;
	pr->c1 = p[i1];
	pr->c2 = p[i2];
}

/* ------------------------------------------------------------------ */
/* Vector filters.  Each looks at the BLOCK candidate positions
 * [b, b + BLOCK) of a haystack with cnt candidates (cnt = n - m + 1) and
 * sets bit k of the mask when position b + k passes.  They read
 * h[b + i1 .. b + i1 + BLOCK) and h[b + i2 .. b + i2 + BLOCK), inside
 * [0, n) because i1, i2 <= m - 1 and b + BLOCK <= cnt. */

typedef unsigned char v16u8 __attribute__((vector_size(16)));

static inline v16u8 v16_load(const unsigned char *p)
{
	v16u8 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t v16_mask(v16u8 v)
{
#ifdef __SSE2__
	return (uint32_t)_mm_movemask_epi8((__m128i)v);
#else
	uint64_t mask = 0;

	for (int k = 0; k < 16; k++)
		mask |= (uint64_t)(v[k] >> 7) << k;
	return mask;
#endif
}

static inline bool v16_none(v16u8 v)
{
#ifdef __SSE2__
	return _mm_movemask_epi8((__m128i)v) == 0;
#else
	uint64_t w[2];

	memcpy(w, &v, sizeof(w));
	return (w[0] | w[1]) == 0;
#endif
}

/* Portable: GCC vector extensions (SSE2 on x86-64, NEON on arm64). */
static uint64_t block_generic(const unsigned char *a, const unsigned char *b,
			      unsigned char c1, unsigned char c2)
{
	const v16u8 v1 = (v16u8){0} + c1;
	const v16u8 v2 = (v16u8){0} + c2;
	v16u8 x[BLOCK / 16];
	v16u8 any = {0};
	uint64_t mask = 0;

	for (int q = 0; q < BLOCK / 16; q++) {
		x[q] = (v16u8)(v16_load(a + 16 * q) == v1) &
		       (v16u8)(v16_load(b + 16 * q) == v2);
		any |= x[q];
	}
	if (v16_none(any))
		return 0;
	for (int q = 0; q < BLOCK / 16; q++)
		mask |= v16_mask(x[q]) << (16 * q);
	return mask;
}

static size_t scan_fwd_generic(const unsigned char *h, size_t cnt, size_t i,
			       const struct pair *pr, uint64_t *maskp)
{
	for (; cnt - i >= BLOCK; i += BLOCK) {
		uint64_t mask = block_generic(h + i + pr->i1, h + i + pr->i2,
					      pr->c1, pr->c2);
		if (mask != 0) {
			*maskp = mask;
			return i;
		}
	}
	*maskp = 0;
	return i;
}

/* Backward: i is one past the highest position not yet tested. */
static size_t scan_rev_generic(const unsigned char *h, size_t i,
			       const struct pair *pr, uint64_t *maskp)
{
	for (; i >= BLOCK; i -= BLOCK) {
		size_t b = i - BLOCK;
		uint64_t mask = block_generic(h + b + pr->i1, h + b + pr->i2,
					      pr->c1, pr->c2);
		if (mask != 0) {
			*maskp = mask;
			return b;
		}
	}
	*maskp = 0;
	return i;
}

/* The tests' knobs (mmfs_search_tune); both false in production. */
static bool search_portable, search_eager;

void mmfs_search_tune(bool portable, bool eager)
{
	__atomic_store_n(&search_portable, portable, __ATOMIC_RELAXED);
	__atomic_store_n(&search_eager, eager, __ATOMIC_RELAXED);
}

#ifdef MMFS_HAVE_AVX2
/* The same with 32-byte vectors, for CPUs that have them: long haystacks
 * run at memory speed with these where 16-byte ones fall short. */
__attribute__((target("avx2"))) static inline uint64_t
block_avx2(const unsigned char *a, const unsigned char *b, __m256i v1,
	   __m256i v2)
{
	__m256i x0 = _mm256_and_si256(
		_mm256_cmpeq_epi8(_mm256_loadu_si256((const void *)a), v1),
		_mm256_cmpeq_epi8(_mm256_loadu_si256((const void *)b), v2));
	__m256i x1 = _mm256_and_si256(
		_mm256_cmpeq_epi8(_mm256_loadu_si256((const void *)(a + 32)),
				  v1),
		_mm256_cmpeq_epi8(_mm256_loadu_si256((const void *)(b + 32)),
				  v2));
	__m256i any = _mm256_or_si256(x0, x1);

	if (_mm256_testz_si256(any, any))
		return 0;
	return (uint32_t)_mm256_movemask_epi8(x0) |
	       (uint64_t)(uint32_t)_mm256_movemask_epi8(x1) << 32;
}

__attribute__((target("avx2"))) static size_t
scan_fwd_avx2(const unsigned char *h, size_t cnt, size_t i,
	      const struct pair *pr, uint64_t *maskp)
{
	const __m256i v1 = _mm256_set1_epi8((char)pr->c1);
	const __m256i v2 = _mm256_set1_epi8((char)pr->c2);
	const unsigned char *a = h + pr->i1, *b = h + pr->i2;

	for (; cnt - i >= BLOCK; i += BLOCK) {
		uint64_t mask = block_avx2(a + i, b + i, v1, v2);

		if (mask != 0) {
			*maskp = mask;
			return i;
		}
	}
	*maskp = 0;
	return i;
}

__attribute__((target("avx2"))) static size_t
scan_rev_avx2(const unsigned char *h, size_t i, const struct pair *pr,
	      uint64_t *maskp)
{
	const __m256i v1 = _mm256_set1_epi8((char)pr->c1);
	const __m256i v2 = _mm256_set1_epi8((char)pr->c2);
	const unsigned char *a = h + pr->i1, *b = h + pr->i2;

	for (; i >= BLOCK; i -= BLOCK) {
		uint64_t mask =
			block_avx2(a + i - BLOCK, b + i - BLOCK, v1, v2);

		if (mask != 0) {
			*maskp = mask;
			return i - BLOCK;
		}
	}
	*maskp = 0;
	return i;
}

/* Whether to use the AVX2 filters: the CPU has them and the tests have
 * not asked for the portable ones. */
static bool use_avx2(void)
{
	/* 0 unknown, 1 no, 2 yes; racing first callers store the same. */
	static int state;
	int s = __atomic_load_n(&state, __ATOMIC_RELAXED);

	if (s == 0) {
		__builtin_cpu_init();
		s = __builtin_cpu_supports("avx2") ? 2 : 1;
		__atomic_store_n(&state, s, __ATOMIC_RELAXED);
	}
	return s == 2 && !__atomic_load_n(&search_portable, __ATOMIC_RELAXED);
}
#endif /* MMFS_HAVE_AVX2 */

static size_t scan_fwd(const unsigned char *h, size_t cnt, size_t i,
		       const struct pair *pr, uint64_t *maskp)
{
#ifdef MMFS_HAVE_AVX2
	if (use_avx2())
		return scan_fwd_avx2(h, cnt, i, pr, maskp);
#endif
	return scan_fwd_generic(h, cnt, i, pr, maskp);
}

static size_t scan_rev(const unsigned char *h, size_t i, const struct pair *pr,
		       uint64_t *maskp)
{
#ifdef MMFS_HAVE_AVX2
	if (use_avx2())
		return scan_rev_avx2(h, i, pr, maskp);
#endif
	return scan_rev_generic(h, i, pr, maskp);
}

/* Of two words loaded from memory that differ (d = x ^ y != 0): how many
 * bytes at the low addresses agree, and how many at the high ones. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SAME_LOW(d) ((size_t)__builtin_ctzll(d) / 8)
#define SAME_HIGH(d) ((size_t)__builtin_clzll(d) / 8)
#else
#define SAME_LOW(d) ((size_t)__builtin_clzll(d) / 8)
#define SAME_HIGH(d) ((size_t)__builtin_ctzll(d) / 8)
#endif

/* How many of the len bytes at a and b agree, from the first on.  Reads
 * only a[0..len) and b[0..len). */
static inline size_t match_up(const unsigned char *a, const unsigned char *b,
			      size_t len)
{
	size_t k = 0;

	for (; len - k >= 8; k += 8) {
		uint64_t x, y;

		memcpy(&x, a + k, 8);
		memcpy(&y, b + k, 8);
		if (x != y)
			return k + SAME_LOW(x ^ y);
	}
	while (k < len && a[k] == b[k])
		k++;
	return k;
}

/* The same going down from a - 1 and b - 1: reads a[-len..0) only. */
static inline size_t match_down(const unsigned char *a, const unsigned char *b,
				size_t len)
{
	size_t k = 0;

	for (; len - k >= 8; k += 8) {
		uint64_t x, y;

		memcpy(&x, a - k - 8, 8);
		memcpy(&y, b - k - 8, 8);
		if (x != y)
			return k + SAME_HIGH(x ^ y);
	}
	while (k < len && *(a - k - 1) == *(b - k - 1))
		k++;
	return k;
}

/* Whether the m bytes at a and b are equal; the bytes compared are added
 * to *workp. */
static bool same(const unsigned char *a, const unsigned char *b, size_t m,
		 size_t *workp)
{
	size_t k = match_up(a, b, m);

	*workp += k + 1;
	return k == m;
}

/* ------------------------------------------------------------------ */
/* Two-Way.  Written once over "logical" strings: with rev set, byte k of
 * a string is the k-th from its end, so one body serves both directions
 * (each caller passes a constant and the compiler keeps two copies). */

static inline __attribute__((always_inline)) unsigned char
at(const unsigned char *s, size_t len, size_t k, bool rev)
{
	return rev ? s[len - 1 - k] : s[k];
}

/*
 * The maximal suffix of x for the byte order (flip: the opposite order):
 * returns its start minus one (-1 for the whole string) and its period in
 * *periodp.  The later of the two suffixes gives a critical factorisation.
 */
static inline __attribute__((always_inline)) ptrdiff_t
max_suffix(const unsigned char *x, size_t m, bool rev, bool flip,
	   size_t *periodp)
{
	ptrdiff_t ms = -1;
	size_t j = 0, k = 1, p = 1;

	while (m - j > k) {
		unsigned char a = at(x, m, j + k, rev);
		unsigned char b = at(x, m, (size_t)(ms + (ptrdiff_t)k), rev);

		if (a == b) {
			if (k == p) {
				j += p;
				k = 1;
			} else {
				k++;
			}
		} else if ((a < b) != flip) {
			j += k;
			k = 1;
			p = (size_t)((ptrdiff_t)j - ms);
		} else {
			ms = (ptrdiff_t)j;
			j++;
			k = p = 1;
		}
	}
	*periodp = p;
	return ms;
}

/* How many bytes of logical x from index i on (at most m - i) agree with
 * logical y from index i + j on: the scan of the right half, a word at a
 * time. */
static inline __attribute__((always_inline)) size_t
match_run(const unsigned char *y, size_t n, const unsigned char *x, size_t m,
	  size_t i, size_t j, bool rev)
{
	if (!rev)
		return match_up(x + i, y + i + j, m - i);
	return match_down(x + m - i, y + n - i - j, m - i);
}

/* The first match of x (length m) in logical y (length n >= m), as a
 * logical index, or -1. */
static inline __attribute__((always_inline)) ptrdiff_t
two_way(const unsigned char *y, size_t n, const unsigned char *x, size_t m,
	bool rev)
{
	size_t p1, p2, per;
	ptrdiff_t l1 = max_suffix(x, m, rev, false, &p1);
	ptrdiff_t l2 = max_suffix(x, m, rev, true, &p2);
	ptrdiff_t ell = l1 > l2 ? l1 : l2;
	ptrdiff_t mm = (ptrdiff_t)m;
	ptrdiff_t i;
	bool periodic = true;
	size_t j = 0;

	per = l1 > l2 ? p1 : p2;
	/* Is x[0..ell] repeated at x[per..per+ell]? Then per is the period
	 * of the whole needle and matched prefixes can be remembered. */
	for (i = 0; i <= ell; i++) {
		if (at(x, m, (size_t)i, rev) !=
		    at(x, m, (size_t)i + per, rev)) {
			periodic = false;
			break;
		}
	}
	if (periodic) {
		ptrdiff_t memory = -1;

		while (n - m >= j) {
			i = (ell > memory ? ell : memory) + 1;
			i += (ptrdiff_t)match_run(y, n, x, m, (size_t)i, j,
						  rev);
			if (i < mm) {
				j += (size_t)(i - ell);
				memory = -1;
				continue;
			}
			i = ell;
			while (i > memory &&
			       at(x, m, (size_t)i, rev) ==
				       at(y, n, (size_t)i + j, rev))
				i--;
			if (i <= memory)
				return (ptrdiff_t)j;
			j += per;
			memory = mm - (ptrdiff_t)per - 1;
		}
		return -1;
	}
	per = (size_t)((ell + 1 > mm - ell - 1 ? ell + 1 : mm - ell - 1) + 1);
	while (n - m >= j) {
		i = ell + 1;
		i += (ptrdiff_t)match_run(y, n, x, m, (size_t)i, j, rev);
		if (i < mm) {
			j += (size_t)(i - ell);
			continue;
		}
		i = ell;
		while (i >= 0 &&
		       at(x, m, (size_t)i, rev) == at(y, n, (size_t)i + j, rev))
			i--;
		if (i < 0)
			return (ptrdiff_t)j;
		j += per;
	}
	return -1;
}

static const unsigned char *two_way_fwd(const unsigned char *h, size_t n,
					const unsigned char *p, size_t m)
{
	ptrdiff_t j;

	if (n < m)
		return NULL;
	j = two_way(h, n, p, m, false);
	return j < 0 ? NULL : h + j;
}

static const unsigned char *two_way_rev(const unsigned char *h, size_t n,
					const unsigned char *p, size_t m)
{
	ptrdiff_t j;

	if (n < m)
		return NULL;
	j = two_way(h, n, p, m, true);
	return j < 0 ? NULL : h + (n - m - (size_t)j);
}

/* ------------------------------------------------------------------ */
/* The searches: filter, verify, and hand over to Two-Way when verifying
 * gets expensive.  Total work <= BUDGET_RATE * n + BUDGET_BASE + m for
 * the filter phase, plus Two-Way's linear bound on what is left. */

struct budget {
	size_t base, rate;
};

static void budget_init(struct budget *b)
{
	bool eager = __atomic_load_n(&search_eager, __ATOMIC_RELAXED);

	b->base = eager ? 0 : BUDGET_BASE;
	b->rate = eager ? 0 : BUDGET_RATE;
}

/* rate * scanned cannot overflow: scanned < SSIZE_MAX. */
static bool over_budget(const struct budget *b, size_t work, size_t scanned)
{
	return work > b->base && work - b->base > b->rate * scanned;
}

/* Forward, m >= 2, n >= m. */
static const unsigned char *search_fwd(const unsigned char *h, size_t n,
				       const unsigned char *p, size_t m)
{
	size_t cnt = n - m + 1;
	size_t i = 0, work = 0;
	struct budget bud;
	struct pair pr;

	budget_init(&bud);
	pick_pair(p, m, &pr);
	while (cnt - i >= BLOCK) {
		uint64_t mask;

		i = scan_fwd(h, cnt, i, &pr, &mask);
		if (mask == 0)
			break;
		do {
			size_t k = i + (size_t)__builtin_ctzll(mask);

			if (same(h + k, p, m, &work))
				return h + k;
			if (over_budget(&bud, work, k))
				return two_way_fwd(h + k + 1, n - k - 1, p, m);
			mask &= mask - 1;
		} while (mask != 0);
		i += BLOCK;
	}
	for (; i < cnt; i++) {
		if (h[i + pr.i1] != pr.c1 || h[i + pr.i2] != pr.c2)
			continue;
		if (same(h + i, p, m, &work))
			return h + i;
		if (over_budget(&bud, work, i))
			return two_way_fwd(h + i + 1, n - i - 1, p, m);
	}
	return NULL;
}

/* Backward, m >= 2, n >= m.  i is one past the highest untested start. */
static const unsigned char *search_rev(const unsigned char *h, size_t n,
				       const unsigned char *p, size_t m)
{
	size_t cnt = n - m + 1;
	size_t i = cnt, work = 0;
	struct budget bud;
	struct pair pr;

	budget_init(&bud);
	pick_pair(p, m, &pr);
	while (i >= BLOCK) {
		uint64_t mask;

		i = scan_rev(h, i, &pr, &mask);
		if (mask == 0)
			break;
		do {
			unsigned int top =
				63 - (unsigned int)__builtin_clzll(mask);
			size_t k = i + top;

			if (same(h + k, p, m, &work))
				return h + k;
			if (over_budget(&bud, work, cnt - k))
				return two_way_rev(h, k + m - 1, p, m);
			mask &= ~((uint64_t)1 << top);
		} while (mask != 0);
	}
	while (i > 0) {
		size_t k = --i;

		if (h[k + pr.i1] != pr.c1 || h[k + pr.i2] != pr.c2)
			continue;
		if (same(h + k, p, m, &work))
			return h + k;
		if (over_budget(&bud, work, cnt - k))
			return two_way_rev(h, k + m - 1, p, m);
	}
	return NULL;
}

/*
 * One-byte needles go to glibc's memchr/memrchr, the fastest there is.
 * Their vector loads are aligned, so any byte they look at outside the
 * range lies on a page that also holds a byte of the range: they can
 * neither fault on a guard page nor hit a truncated file's missing pages.
 */
const void *mmfs_memmem(const void *hay, size_t hlen, const void *needle,
			size_t nlen)
{
	const unsigned char *p = needle;

	if (nlen == 0)
		return hay;
	if (hlen < nlen)
		return NULL;
	if (nlen == 1)
		return memchr(hay, p[0], hlen);
	return search_fwd(hay, hlen, p, nlen);
}

const void *mmfs_memrmem(const void *hay, size_t hlen, const void *needle,
			 size_t nlen)
{
	const unsigned char *p = needle;

	if (nlen == 0)
		return (const unsigned char *)hay + hlen;
	if (hlen < nlen)
		return NULL;
	if (nlen == 1)
		return memrchr(hay, p[0], hlen);
	return search_rev(hay, hlen, p, nlen);
}

/* ------------------------------------------------------------------ */
/* find/rfind on a map */

/* Python's rule for each bound: negative counts from the end, then clamp
 * to [0, len]. */
static size_t clamp_bound(int64_t v, size_t len)
{
	if (v < 0) {
		v += (int64_t)len;
		if (v < 0)
			return 0;
	}
	return (uint64_t)v > len ? len : (size_t)v;
}

struct search_job {
	const unsigned char *hay;
	size_t hlen;
	const void *needle;
	size_t nlen;
	bool reverse;
	const void *found;
};

static void search_job_run(void *arg)
{
	struct search_job *job = arg;

	if (job->reverse)
		job->found = mmfs_memrmem(job->hay, job->hlen, job->needle,
					  job->nlen);
	else
		job->found = mmfs_memmem(job->hay, job->hlen, job->needle,
					 job->nlen);
}

/* ------------------------------------------------------------------ */
/* a long find shared out between threads */

/* Set at start (mmfs_search_threads), or by the tests. */
static unsigned int par_threads = 1;
/* The calling thread's stop test (mmfs_search_stop). */
static __thread bool (*search_stop)(void *arg);
static __thread void *search_stop_arg;
static size_t par_min = (size_t)32 << 20; /* shorter ranges: one thread */
static size_t par_chunk = (size_t)8 << 20;

#define PAR_THREADS_MAX 8

void mmfs_search_threads(unsigned int threads)
{
	if (threads < 1)
		threads = 1;
	if (threads > PAR_THREADS_MAX)
		threads = PAR_THREADS_MAX;
	__atomic_store_n(&par_threads, threads, __ATOMIC_RELAXED);
}

void mmfs_search_stop(bool (*stop)(void *arg), void *arg)
{
	search_stop = stop;
	search_stop_arg = arg;
}

void mmfs_search_parallel_tune(size_t min_len, size_t chunk)
{
	__atomic_store_n(&par_min, min_len, __ATOMIC_RELAXED);
	__atomic_store_n(&par_chunk, chunk > 0 ? chunk : 1, __ATOMIC_RELAXED);
}

/*
 * The range is cut into chunks, numbered from the end the search starts
 * at (the front for find, the back for rfind), which the threads take in
 * order.  Chunk i is searched for the matches that start in its own
 * bytes, so it reads nlen - 1 bytes into the next one.  The first chunk
 * with an outcome (a match, or a fault) decides, as in one front-to-back
 * pass: no thread takes a chunk past it.  A chunk is searched whole once
 * taken, so when stop ends the search, every chunk before the deciding
 * one has been searched and its outcome stands.
 */
struct par_search {
	const unsigned char *hay;
	size_t hlen;
	const void *needle;
	size_t nlen;
	bool reverse;
	size_t chunk, nchunks;
	atomic_size_t next; /* the next chunk to take */
	atomic_size_t best; /* lowest chunk with an outcome; nchunks: none */
	pthread_mutex_t lock;
	const unsigned char *found; /* chunk best's match, NULL if it faulted */
	bool (*stop)(void *arg);    /* mmfs_search_stop's test, or NULL */
	void *stop_arg;
	atomic_bool stopped; /* stop said true while chunks were left */
};

/* Chunk i as a search job: [a, b) to search. */
static void par_bounds(const struct par_search *ps, size_t i, size_t *a,
		       size_t *b)
{
	size_t lo, hi, over = ps->nlen - 1;

	if (!ps->reverse) {
		lo = i * ps->chunk;
		hi = ps->hlen - lo > ps->chunk ? lo + ps->chunk : ps->hlen;
	} else {
		hi = ps->hlen - i * ps->chunk;
		lo = hi > ps->chunk ? hi - ps->chunk : 0;
	}
	*a = lo;
	*b = ps->hlen - hi > over ? hi + over : ps->hlen;
}

static void *par_worker(void *arg)
{
	struct par_search *ps = arg;
	struct search_job job;
	size_t i, a, b;
	int rc;

	for (;;) {
		if (ps->stop && atomic_load(&ps->next) < ps->nchunks &&
		    ps->stop(ps->stop_arg)) {
			atomic_store(&ps->stopped, true);
			break;
		}
		i = atomic_fetch_add(&ps->next, 1);
		if (i >= ps->nchunks || i > atomic_load(&ps->best))
			break;
		par_bounds(ps, i, &a, &b);
		job.hay = ps->hay + a;
		job.hlen = b - a;
		job.needle = ps->needle;
		job.nlen = ps->nlen;
		job.reverse = ps->reverse;
		job.found = NULL;
		rc = mmfs_guarded_call(search_job_run, &job);
		if (rc == 0 && job.found == NULL)
			continue;
		pthread_mutex_lock(&ps->lock);
		if (i < atomic_load(&ps->best)) {
			ps->found = rc == 0 ? job.found : NULL;
			atomic_store(&ps->best, i);
		}
		pthread_mutex_unlock(&ps->lock);
	}
	return NULL;
}

/* job's search, shared out between par_threads threads (the caller's
 * included).  Returns what mmfs_guarded_call(search_job_run) would, or
 * -EINTR when the caller's stop test ended it undecided. */
static int par_search_run(struct search_job *job)
{
	struct par_search ps = {
		.hay = job->hay,
		.hlen = job->hlen,
		.needle = job->needle,
		.nlen = job->nlen,
		.reverse = job->reverse,
		.chunk = __atomic_load_n(&par_chunk, __ATOMIC_RELAXED),
		.stop = search_stop,
		.stop_arg = search_stop_arg,
	};
	pthread_t tid[PAR_THREADS_MAX];
	unsigned int n = __atomic_load_n(&par_threads, __ATOMIC_RELAXED), k,
		     started = 0;

	ps.nchunks = (ps.hlen + ps.chunk - 1) / ps.chunk;
	atomic_init(&ps.next, 0);
	atomic_init(&ps.best, ps.nchunks);
	atomic_init(&ps.stopped, false);
	pthread_mutex_init(&ps.lock, NULL);
	for (k = 1; k < n && k < ps.nchunks; k++)
		if (pthread_create(&tid[started], NULL, par_worker, &ps) == 0)
			started++;
	par_worker(&ps);
	for (k = 0; k < started; k++)
		pthread_join(tid[k], NULL);
	pthread_mutex_destroy(&ps.lock);
	if (atomic_load(&ps.best) == ps.nchunks) {
		job->found = NULL;
		return atomic_load(&ps.stopped)
			       ? mmfs_fail(EINTR, "find: stopped")
			       : 0;
	}
	if (ps.found) {
		job->found = ps.found;
		return 0;
	}
	/* The deciding chunk faulted, maybe in another thread: one pass
	 * here, so that the error (and its message) are this thread's, as
	 * they would be without the helpers.  Faults are rare (a file cut
	 * short behind the map); their cost does not matter. */
	job->found = NULL;
	return mmfs_guarded_call(search_job_run, job);
}

static int find_common(struct mmfs_map *map, const void *needle, size_t nlen,
		       int64_t start, int64_t end, bool reverse,
		       int64_t *resultp)
{
	struct search_job job;
	size_t s, e;
	int rc;

	MMFS_CHECK_VALID(map);
	if (resultp == NULL || (needle == NULL && nlen > 0))
		return mmfs_fail(EINVAL, "find: bad argument");
	s = clamp_bound(start, map->size);
	e = clamp_bound(end, map->size);
	/* The order matters: end < start is -1 even for the empty needle,
	 * and the empty needle is found at the clamped bound (reference §6,
	 * where mmap differs from bytes.find). */
	if (e < s || e - s < nlen) {
		*resultp = -1;
		return 0;
	}
	if (nlen == 0) {
		*resultp = (int64_t)(reverse ? e : s);
		return 0;
	}
	job.hay = map->data + s;
	job.hlen = e - s;
	job.needle = needle;
	job.nlen = nlen;
	job.reverse = reverse;
	job.found = NULL;
	if (job.hlen >= __atomic_load_n(&par_min, __ATOMIC_RELAXED) &&
	    (__atomic_load_n(&par_threads, __ATOMIC_RELAXED) > 1 ||
	     search_stop))
		rc = par_search_run(&job);
	else
		rc = mmfs_guarded_call(search_job_run, &job);
	if (rc < 0)
		return rc;
	*resultp = job.found == NULL
			   ? -1
			   : (int64_t)((const unsigned char *)job.found -
				       map->data);
	return 0;
}

int mmfs_find(struct mmfs_map *map, const void *needle, size_t nlen,
	      int64_t start, int64_t end, int64_t *resultp)
{
	return find_common(map, needle, nlen, start, end, false, resultp);
}

int mmfs_rfind(struct mmfs_map *map, const void *needle, size_t nlen,
	       int64_t start, int64_t end, int64_t *resultp)
{
	return find_common(map, needle, nlen, start, end, true, resultp);
}
