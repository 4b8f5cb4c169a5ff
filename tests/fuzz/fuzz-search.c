/*
 * fuzz-search.c - the substring searches behind find and rfind
 * (mmfs_memmem, mmfs_memrmem in lib/search.c) against glibc's memmem on the
 * same bytes (reversed for the backward search), on every code path: the
 * widest vector filter or the portable one, and an eager hand-over to
 * Two-Way.  The haystack and needle are heap copies of their exact size,
 * so a vector load that strays past either is an ASan report: the search
 * must never read outside the range it was given.
 */
#include "config.h"

#include "fuzz.h"
#include "mmfs-int.h"

#define HAY_MAX (16 * 1024)
#define NEEDLE_MAX 600

static void reverse(unsigned char *dst, const unsigned char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char alpha[] = "ab\0\n";
	struct fz z = {data, size};
	uint8_t mode = fz_u8(&z), shape = fz_u8(&z);
	size_t nlen = fz_below(&z, NEEDLE_MAX + 1), hlen, i;
	unsigned char *needle, *hay, *rn, *rh;
	const unsigned char *got, *want;
	size_t repeat;

	mmfs_search_tune(mode & 1, mode & 2);
	needle = malloc(nlen ? nlen : 1);
	fz_bytes(&z, needle, nlen);
	/* the haystack: the input's bytes, or a run of the needle with
	 * changes, which is where searches go quadratic or wrong */
	hlen = z.n < HAY_MAX ? z.n : HAY_MAX;
	repeat = (shape & 4) && nlen ? fz_below(&z, 40) : 0;
	if (repeat * nlen > hlen)
		hlen = repeat * nlen < HAY_MAX ? repeat * nlen : HAY_MAX;
	hay = malloc(hlen ? hlen : 1);
	for (i = 0; i < hlen; i++)
		hay[i] = repeat ? needle[i % nlen] : 0;
	if (!repeat)
		fz_bytes(&z, hay, hlen);
	else
		for (i = 0; i < hlen && !fz_empty(&z); i++)
			hay[fz_below(&z, hlen)] = fz_u8(&z);
	if (shape & 8) { /* a tiny alphabet: many near matches */
		for (i = 0; i < nlen; i++)
			needle[i] = alpha[needle[i] % ((shape >> 4) % 4 + 1)];
		for (i = 0; i < hlen; i++)
			hay[i] = alpha[hay[i] % ((shape >> 4) % 4 + 1)];
	}

	got = mmfs_memmem(hay, hlen, needle, nlen);
	want = nlen == 0 ? hay : memmem(hay, hlen, needle, nlen);
	FZ_CHECK(got == want, "memmem(hlen %zu, nlen %zu, mode %u): %td, "
		 "glibc %td", hlen, nlen, mode & 3, got ? got - hay : -1,
		 want ? want - hay : -1);

	rh = malloc(hlen ? hlen : 1);
	rn = malloc(nlen ? nlen : 1);
	reverse(rh, hay, hlen);
	reverse(rn, needle, nlen);
	got = mmfs_memrmem(hay, hlen, needle, nlen);
	want = nlen == 0 ? rh : memmem(rh, hlen, rn, nlen);
	/* the last match in hay is the first in the reversed hay */
	want = want ? hay + (hlen - (size_t)(want - rh) - nlen) : NULL;
	FZ_CHECK(got == want, "memrmem(hlen %zu, nlen %zu, mode %u): %td, "
		 "expected %td", hlen, nlen, mode & 3, got ? got - hay : -1,
		 want ? want - hay : -1);

	free(rn);
	free(rh);
	free(hay);
	free(needle);
	return 0;
}
