/*
 * find-bench.c - mmfs_find/mmfs_rfind against glibc's memmem, a simple
 * backward baseline and (through bench/find.sh) Python's mmap.find/rfind,
 * on one large anonymous map.  Every figure is the median of several
 * runs.  bench/README.md explains the cases and the columns.
 *
 *   find-bench [-s BYTES] [-r RUNS] [-p PYTHON_RESULTS]   print the table
 *   find-bench [-s BYTES] [-r RUNS] -w FILE               write the text
 *       haystack to FILE and the case list to stdout, for find.sh's Python
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmfs.h"

#define DEFAULT_SIZE ((size_t)256 << 20)
#define DEFAULT_RUNS 5
#define SEED 0x6d6d6673u /* "mmfs" */
/* A run of the quadratic baseline stops after this long (see README). */
#define BASELINE_DEADLINE 2.0

enum kind { TEXT, RUN_OF_A, AB };

static const char *const kind_names[] = {"text", "periodic", "ab-adversary"};

struct bcase {
	enum kind kind;
	size_t m;
	bool reverse;
	size_t plant;	       /* where the needle is written */
	unsigned char *needle; /* m bytes */
};

#define MAX_CASES 32

struct bench {
	size_t n;
	int runs;
	struct mmfs_map *map;
	unsigned char *data;
	struct bcase cases[MAX_CASES];
	int ncases;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "find-bench: %s: %s\n", what,
		err < 0 ? strerror(-err) : mmfs_errmsg());
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		die("malloc", -ENOMEM);
	return p;
}

/* ------------------------------------------------------------------ */
/* Haystacks and cases */

/* Lowercase words: 26 letters and a space in 32 (about 19% spaces). */
static void fill_text(unsigned char *d, size_t n)
{
	uint64_t x = SEED;

	for (size_t i = 0; i < n;) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		for (int k = 0; k < 12 && i < n; k++, i++) {
			unsigned int c = (unsigned int)(x >> (5 * k)) & 31;

			d[i] = c < 26 ? (unsigned char)('a' + c) : ' ';
		}
	}
}

static void fill_kind(unsigned char *d, size_t n, enum kind kind)
{
	switch (kind) {
	case TEXT:
		fill_text(d, n);
		break;
	case RUN_OF_A:
		memset(d, 'a', n);
		break;
	case AB:
		for (size_t i = 0; i < n; i++)
			d[i] = "ab"[i & 1];
		break;
	}
}

static void add_case(struct bench *b, enum kind kind, size_t m, bool rev,
		     size_t plant)
{
	struct bcase *c = &b->cases[b->ncases++];

	c->kind = kind;
	c->m = m;
	c->reverse = rev;
	c->plant = plant;
	c->needle = xmalloc(m);
}

/*
 * Text needles are cut from the text and made unique by one upper-case
 * byte in the middle (a different one for every case, all planted in the
 * same haystack).  find's needle sits near the end and rfind's near the
 * start, so each search crosses nearly the whole map.
 */
static void make_cases(struct bench *b)
{
	static const size_t text_m[] = {1, 4, 16, 64, 1024};
	const size_t n = b->n;
	unsigned char *text = xmalloc(n);
	char marker = 'A';

	fill_text(text, n);
	for (int dir = 0; dir < 2; dir++) {
		for (size_t q = 0; q < sizeof(text_m) / sizeof(text_m[0]);
		     q++) {
			size_t m = text_m[q];
			size_t at = dir ? 4096 * (q + 1) + 100
					: n - 4096 * (q + 1) - m;
			struct bcase *c;

			add_case(b, TEXT, m, dir, at);
			c = &b->cases[b->ncases - 1];
			memcpy(c->needle, text + at, m);
			c->needle[m / 2] = (unsigned char)marker++;
		}
	}
	free(text);
	/* The classic worst case "aaa...ab" in a sea of 'a' (and its mirror
	 * for rfind), and (ab)* against a needle that matches 1022 bytes at
	 * every even position before it fails. */
	for (int dir = 0; dir < 2; dir++) {
		for (size_t m = 16; m <= 1024; m *= 64) {
			struct bcase *c;

			add_case(b, RUN_OF_A, m, dir, dir ? 4096 : n - 4096);
			c = &b->cases[b->ncases - 1];
			memset(c->needle, 'a', m);
			c->needle[dir ? 0 : m - 1] = 'b';
		}
		add_case(b, AB, 1024, dir, dir ? 4096 : n - 4096);
		for (size_t i = 0; i < 1024; i++)
			b->cases[b->ncases - 1].needle[i] = "ab"[i & 1];
		b->cases[b->ncases - 1].needle[1022] = 'b';
	}
}

/* The haystack of a kind with its needles planted (all text needles at
 * once, so the text is made only once; a single one for the others). */
static void prepare(struct bench *b, enum kind kind, const struct bcase *only)
{
	static bool text_ready;

	if (kind == TEXT && text_ready)
		return;
	text_ready = kind == TEXT;
	fill_kind(b->data, b->n, kind);
	for (int i = 0; i < b->ncases; i++) {
		const struct bcase *c = &b->cases[i];

		if (c->kind == kind && (kind == TEXT || c == only))
			memcpy(b->data + c->plant, c->needle, c->m);
	}
}

/* ------------------------------------------------------------------ */
/* The contenders.  Each returns the index found (-1 if none) and the
 * bytes it had to cross to get there. */

static int64_t run_ours(struct bench *b, const struct bcase *c)
{
	int64_t r = -1;
	int err =
		c->reverse
			? mmfs_rfind(b->map, c->needle, c->m, 0, INT64_MAX, &r)
			: mmfs_find(b->map, c->needle, c->m, 0, INT64_MAX, &r);

	if (err < 0)
		die("mmfs_find", err);
	return r;
}

static int64_t run_memmem(struct bench *b, const struct bcase *c)
{
	const unsigned char *p = memmem(b->data, b->n, c->needle, c->m);

	return p == NULL ? -1 : p - b->data;
}

/*
 * The backward search one writes without a library: memrchr for the
 * needle's first byte, memcmp for the rest.  Quadratic in the worst case,
 * so a run gives up after BASELINE_DEADLINE seconds; *lowp then holds
 * the lowest start it reached.
 */
static int64_t run_baseline(struct bench *b, const struct bcase *c,
			    size_t *lowp)
{
	const unsigned char *d = b->data;
	size_t limit = b->n - c->m + 1; /* starts below limit remain */
	double deadline = now() + BASELINE_DEADLINE;
	unsigned long tries = 0;

	while (limit > 0) {
		const unsigned char *q = memrchr(d, c->needle[0], limit);

		if (q == NULL)
			break;
		if (memcmp(q, c->needle, c->m) == 0)
			return q - d;
		limit = (size_t)(q - d);
		if (++tries % 4096 == 0 && now() > deadline) {
			*lowp = limit;
			return -2;
		}
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Timing */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int k)
{
	qsort(v, (size_t)k, sizeof(*v), cmp_double);
	return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

/* The bytes a search crossed: from the start up to the end of the match
 * (find), from the match to the end (rfind), all of them if absent. */
static double crossed(const struct bench *b, const struct bcase *c, int64_t r)
{
	if (r < 0)
		return (double)b->n;
	return c->reverse ? (double)(b->n - (size_t)r)
			  : (double)((size_t)r + c->m);
}

enum who { OURS, PEER };

/* One timed run in GB/s; *partialp set if the baseline gave up, and then
 * the figure covers the part it did. */
static double timed(struct bench *b, const struct bcase *c, enum who who,
		    bool *partialp)
{
	size_t low = 0;
	double t0 = now(), dt;
	int64_t r;

	if (who == OURS)
		r = run_ours(b, c);
	else if (!c->reverse)
		r = run_memmem(b, c);
	else
		r = run_baseline(b, c, &low);
	dt = now() - t0;
	if (r == -2) {
		*partialp = true;
		return (double)(b->n - low) / dt / 1e9;
	}
	if (r < 0 || (size_t)r != c->plant) {
		fprintf(stderr, "find-bench: %s m=%zu %s: got %lld, want %zu\n",
			kind_names[c->kind], c->m,
			c->reverse ? "rfind" : "find", (long long)r, c->plant);
		exit(1);
	}
	return crossed(b, c, r) / dt / 1e9;
}

/* Medians over the runs, ours and the peer's taking turns so that both
 * see the same machine.  A baseline that gave up runs only once. */
static void measure(struct bench *b, const struct bcase *c, double *oursp,
		    double *peerp, bool *partialp)
{
	double ours[64], peer[64];
	int k, kp = 0;

	*partialp = false;
	for (k = 0; k < b->runs; k++) {
		ours[k] = timed(b, c, OURS, partialp);
		if (!*partialp)
			peer[kp++] = timed(b, c, PEER, partialp);
	}
	*oursp = median(ours, k);
	*peerp = *partialp ? peer[kp - 1] : median(peer, kp);
}

/* Python's figure for case i from find.sh's results ("i gbps"), or -1. */
static double python_figure(FILE *py, int i)
{
	char line[128];
	int id;
	double v;

	if (py == NULL)
		return -1;
	rewind(py);
	while (fgets(line, sizeof(line), py) != NULL)
		if (sscanf(line, "%d %lf", &id, &v) == 2 && id == i)
			return v;
	return -1;
}

static void print_ratio(double ours, double other, bool partial)
{
	if (other <= 0)
		printf(" %10s", "-");
	else
		printf(" %9.2f%s", ours / other, partial ? ">" : "x");
}

static void print_table(struct bench *b, FILE *py)
{
	printf("haystack %zu MiB, median of %d runs, GB/s = bytes crossed "
	       "per second / 1e9\n\n",
	       b->n >> 20, b->runs);
	printf("%-13s %5s %-6s %8s  %-15s %8s %8s %11s %11s\n", "case", "m",
	       "call", "ours", "peer", "peer", "python", "ours/peer",
	       "ours/python");
	for (int kind = TEXT; kind <= AB; kind++) {
		for (int i = 0; i < b->ncases; i++) {
			struct bcase *c = &b->cases[i];
			double ours, peer, pyv;
			bool partial;

			if ((int)c->kind != kind)
				continue;
			prepare(b, c->kind, c);
			measure(b, c, &ours, &peer, &partial);
			pyv = python_figure(py, i);
			printf("%-13s %5zu %-6s %8.2f  %-15s %7.2f%s",
			       kind_names[c->kind], c->m,
			       c->reverse ? "rfind" : "find", ours,
			       c->reverse ? "memrchr+memcmp" : "glibc memmem",
			       peer, partial ? "~" : " ");
			if (pyv > 0)
				printf(" %8.2f", pyv);
			else
				printf(" %8s", "-");
			print_ratio(ours, peer, partial);
			print_ratio(ours, pyv, false);
			printf("\n");
			fflush(stdout);
		}
	}
}

/* For find.sh: the text haystack to a file, the cases to stdout. */
static void write_cases(struct bench *b, const char *path)
{
	FILE *f;

	prepare(b, TEXT, NULL);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(b->data, 1, b->n, f) != b->n || fclose(f))
		die(path, -errno);
	printf("size %zu runs %d\n", b->n, b->runs);
	for (int i = 0; i < b->ncases; i++) {
		const struct bcase *c = &b->cases[i];

		printf("%d %s %s %zu ", i, kind_names[c->kind],
		       c->reverse ? "rfind" : "find", c->plant);
		for (size_t k = 0; k < c->m; k++)
			printf("%02x", c->needle[k]);
		printf("\n");
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: find-bench [-s BYTES] [-r RUNS] "
			"[-p PYTHON_RESULTS | -w HAYSTACK_FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench b = {.n = DEFAULT_SIZE, .runs = DEFAULT_RUNS};
	const char *pyfile = NULL, *dump = NULL;
	FILE *py = NULL;
	int opt, err;

	while ((opt = getopt(argc, argv, "s:r:p:w:")) != -1) {
		switch (opt) {
		case 's':
			b.n = (size_t)strtoull(optarg, NULL, 0);
			break;
		case 'r':
			b.runs = atoi(optarg);
			break;
		case 'p':
			pyfile = optarg;
			break;
		case 'w':
			dump = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || b.runs < 1 || b.runs > 64 || b.n < (1u << 20))
		usage();
	err = mmfs_open(&b.map, -1, (int64_t)b.n, MMFS_MAP_PRIVATE,
			MMFS_PROT_READ | MMFS_PROT_WRITE, MMFS_ACCESS_DEFAULT,
			0, 0);
	if (err < 0)
		die("mmfs_open", err);
	err = mmfs_pin(b.map, (void **)&b.data, &b.n);
	if (err < 0)
		die("mmfs_pin", err);
	make_cases(&b);
	if (dump != NULL) {
		write_cases(&b, dump);
	} else {
		if (pyfile != NULL && (py = fopen(pyfile, "r")) == NULL)
			die(pyfile, -errno);
		print_table(&b, py);
		if (py != NULL)
			fclose(py);
	}
	mmfs_unpin(b.map);
	for (int i = 0; i < b.ncases; i++)
		free(b.cases[i].needle);
	mmfs_free(b.map);
	return 0;
}
