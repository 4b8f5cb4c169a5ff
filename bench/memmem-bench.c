/*
 * memmem-bench.c - the local side of run.sh's find rows: it writes the
 * haystack (lines of pseudo-random lowercase words with one needle planted
 * near the end) and searches it the way a local program would, mmap(2) of
 * the file and glibc's memmem, so that `mmapfsctl find` through the mount
 * has a baseline that never crosses FUSE.
 *
 *   memmem-bench gen FILE SIZE NEEDLE OFFSET   write the haystack
 *   memmem-bench search FILE NEEDLE            print the needle's offset
 *   memmem-bench warm FILE NEEDLE              search twice in one map and
 *                                              print the offset and the
 *                                              seconds of the second search
 *
 * search maps the file afresh on every call, as mmapfs maps it afresh on
 * every open, and prints -1 when the needle is absent (exit 1).  warm is
 * the baseline for a find on a file some client holds open, whose map
 * (page table entries included) the daemon keeps.
 */
#include "config.h" /* _GNU_SOURCE, for memmem */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK ((size_t)1 << 20)

static void die(const char *what)
{
	fprintf(stderr, "memmem-bench: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s) {
		fprintf(stderr, "memmem-bench: bad number '%s'\n", s);
		exit(2);
	}
	switch (*end) {
	case 'G':
		v <<= 10;
		/* fall through */
	case 'M':
		v <<= 10;
		/* fall through */
	case 'K':
		v <<= 10;
		break;
	case '\0':
		break;
	default:
		fprintf(stderr, "memmem-bench: bad suffix in '%s'\n", s);
		exit(2);
	}
	return v;
}

/* xorshift64: fixed seed, so every run searches the same bytes. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Words of 1-8 lowercase letters; a line ends after about 80 bytes, so
 * grep never holds a long line. */
static void fill_text(char *d, size_t n, uint64_t *seed, size_t *col)
{
	size_t i = 0, w;
	uint64_t r;

	while (i < n) {
		r = next_rand(seed);
		w = 1 + (r & 7);
		r >>= 3;
		while (w-- && i < n) {
			d[i++] = (char)('a' + (r & 31) % 26);
			r >>= 5;
		}
		if (i < n) {
			*col += 1 + (r & 7);
			d[i++] = *col >= 80 ? '\n' : ' ';
			if (*col >= 80)
				*col = 0;
		}
	}
}

static int gen(const char *path, uint64_t size, const char *needle,
	       uint64_t at)
{
	size_t m = strlen(needle), n, col = 0;
	uint64_t seed = 0x6d6d6673ull, done = 0;
	char *buf;
	int fd;

	if (size < m || size - m < at) {
		fprintf(stderr, "memmem-bench: the needle does not fit\n");
		return 2;
	}
	buf = malloc(CHUNK);
	if (!buf)
		die("malloc");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	while (done < size) {
		n = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
		fill_text(buf, n, &seed, &col);
		/* plant the needle where it falls in this chunk */
		for (size_t i = 0; i < m; i++)
			if (at + i >= done && at + i - done < n)
				buf[at + i - done] = needle[i];
		if (write(fd, buf, n) != (ssize_t)n)
			die("write");
		done += n;
	}
	if (close(fd) < 0)
		die("close");
	free(buf);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int search(const char *path, const char *needle, bool warm)
{
	struct stat st;
	const char *p;
	double t0 = 0, t1 = 0;
	void *map;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	if (st.st_size == 0) {
		puts("-1");
		return 1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	p = memmem(map, (size_t)st.st_size, needle, strlen(needle));
	if (warm) {
		t0 = now();
		p = memmem(map, (size_t)st.st_size, needle, strlen(needle));
		t1 = now();
	}
	printf("%lld", p ? (long long)(p - (const char *)map) : -1LL);
	if (warm)
		printf(" %.6f", t1 - t0);
	putchar('\n');
	munmap(map, (size_t)st.st_size);
	close(fd);
	return p ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], parse_size(argv[3]), argv[4],
			   parse_size(argv[5]));
	if (argc == 4 && strcmp(argv[1], "search") == 0)
		return search(argv[2], argv[3], false);
	if (argc == 4 && strcmp(argv[1], "warm") == 0)
		return search(argv[2], argv[3], true);
	fprintf(stderr, "usage: memmem-bench gen FILE SIZE NEEDLE OFFSET\n"
			"       memmem-bench search FILE NEEDLE\n"
			"       memmem-bench warm FILE NEEDLE\n");
	return 2;
}
