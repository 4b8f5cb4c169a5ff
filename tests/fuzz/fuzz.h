/* fuzz.h - what the fuzz harnesses share: a cursor that turns the fuzzer's
 * bytes into arguments (extremes such as INT64_MIN and values around a
 * length come out often, because that is where range checks break), and a
 * check that aborts with a message, so that libFuzzer, and the replay
 * driver of make check, report a broken invariant as a crash. */
#ifndef MMFS_FUZZ_H
#define MMFS_FUZZ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The entry point every harness defines (libFuzzer's name). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A cursor over the input; past its end every read gives zeros. */
struct fz {
	const uint8_t *p;
	size_t n;
};

static inline bool fz_empty(const struct fz *z)
{
	return z->n == 0;
}

static inline uint8_t fz_u8(struct fz *z)
{
	if (z->n == 0)
		return 0;
	z->n--;
	return *z->p++;
}

static inline uint64_t fz_uint(struct fz *z, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)fz_u8(z) << (8 * i);
	return v;
}

static inline uint64_t fz_u64(struct fz *z)
{
	return fz_uint(z, 8);
}

/* Up to n bytes into dst; the rest of dst is zeroed.  Returns the count
 * taken from the input. */
static inline size_t fz_bytes(struct fz *z, void *dst, size_t n)
{
	size_t k = n < z->n ? n : z->n;

	memcpy(dst, z->p, k);
	memset((char *)dst + k, 0, n - k);
	z->p += k;
	z->n -= k;
	return k;
}

/* A value in [0, bound) (0 when bound is 0). */
static inline uint64_t fz_below(struct fz *z, uint64_t bound)
{
	if (bound == 0)
		return 0;
	return (bound <= 256 ? fz_u8(z) : fz_uint(z, 4)) % bound;
}

/*
 * An int64_t argument for a call on something len bytes long: an extreme,
 * a value at or around len (or -len: negative indices count from the end),
 * a small one, a multiple of the page, or raw bits.
 */
static inline int64_t fz_i64(struct fz *z, int64_t len, int64_t page)
{
	uint8_t sel = fz_u8(z);

	switch (sel % 24) {
	case 0:
		return 0;
	case 1:
		return -1;
	case 2:
		return 1;
	case 3:
		return len;
	case 4:
		return len + 1;
	case 5:
		return len - 1;
	case 6:
		return -len;
	case 7:
		return -len - 1;
	case 8:
		return INT64_MIN;
	case 9:
		return INT64_MAX;
	case 10:
		return INT64_MIN + 1;
	case 11:
		return INT64_MAX - 1;
	case 12:
		return (int64_t)(SIZE_MAX >> 1); /* SSIZE_MAX */
	case 13:
		return page * (int64_t)fz_below(z, 4);
	case 14:
		return page * (int64_t)fz_below(z, 4) + 1;
	case 15:
		return -(int64_t)fz_below(z, (uint64_t)len + 2);
	case 16:
		return INT64_MAX - len;
	case 17:
		return (int64_t)fz_u64(z);
	default:
		return (int64_t)fz_below(z, (uint64_t)len * 2 + 3);
	}
}

/* A uint64_t offset: the extremes of the unsigned range too. */
static inline uint64_t fz_off(struct fz *z, uint64_t len, uint64_t page)
{
	uint8_t sel = fz_u8(z);

	switch (sel % 10) {
	case 0:
		return UINT64_MAX;
	case 1:
		return UINT64_MAX - len;
	case 2:
		return (uint64_t)INT64_MAX + 1;
	case 3:
		return len;
	case 4:
		return len + 1;
	case 5:
		return page * fz_below(z, 4);
	case 6:
		return fz_u64(z);
	default:
		return fz_below(z, len + 2);
	}
}

/* An int argument (a byte value, an advice, a whence). */
static inline int fz_int(struct fz *z)
{
	uint8_t sel = fz_u8(z);

	switch (sel % 8) {
	case 0:
		return INT32_MIN;
	case 1:
		return INT32_MAX;
	case 2:
		return -1;
	case 3:
		return 256;
	case 4:
		return (int)(uint32_t)fz_uint(z, 4);
	default:
		return fz_u8(z);
	}
}

/* A broken invariant: say which and crash, so that the fuzzer keeps the
 * input and the replay run fails. */
__attribute__((format(printf, 3, 4), noreturn)) static inline void
fz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant broken: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define FZ_CHECK(cond, ...)                                                   \
	do {                                                                   \
		if (!(cond))                                                   \
			fz_fail(__FILE__, __LINE__, __VA_ARGS__);              \
	} while (0)

#endif /* MMFS_FUZZ_H */
