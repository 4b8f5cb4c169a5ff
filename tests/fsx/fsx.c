/*
 * fsx.c - an fsx-style exerciser: a seeded random stream of operations is
 * applied both to an in-memory model of one file and to the target (a file
 * on any filesystem, or the engine directly), and every byte read and every
 * size is checked against the model.  This file holds the driver loop, the
 * options, the random stream and the failure report; ops.c the operations,
 * target.c the target.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsx.h"
#include "mmapfs.h"
#include "mmfs.h"

/* Names for -O, in enum order, and how often each op is drawn. */
static const struct {
	const char *name;
	unsigned int weight;
} op_table[OP_COUNT] = {
	[OP_READ] = {"read", 20},       [OP_WRITE] = {"write", 20},
	[OP_TRUNC] = {"trunc", 6},      [OP_OTRUNC] = {"otrunc", 1},
	[OP_MAPREAD] = {"mapread", 8},  [OP_MAPWRITE] = {"mapwrite", 8},
	[OP_FSYNC] = {"fsync", 2},      [OP_FDATASYNC] = {"fdatasync", 2},
	[OP_REOPEN] = {"reopen", 3},    [OP_DROP] = {"drop", 2},
	[OP_FALLOC] = {"prealloc", 3},  [OP_PUNCH] = {"punch", 3},
	[OP_ZERO] = {"zero", 3},        [OP_CFR] = {"cfr", 4},
	[OP_FIND] = {"find", 6},        [OP_RFIND] = {"rfind", 6},
	[OP_MOVE] = {"move", 5},        [OP_MADVISE] = {"madvise", 3},
	[OP_FLUSH] = {"flush", 2},
};

/* Groups -O accepts besides the single names. */
static const struct {
	const char *name;
	int ops[6];
} op_groups[] = {
	{"map", {OP_MAPREAD, OP_MAPWRITE, -1}},
	{"sync", {OP_FSYNC, OP_FDATASYNC, -1}},
	{"falloc", {OP_FALLOC, OP_PUNCH, OP_ZERO, -1}},
	{"ioctl", {OP_FIND, OP_RFIND, OP_MOVE, OP_MADVISE, OP_FLUSH, -1}},
	{"search", {OP_FIND, OP_RFIND, -1}},
};

/* A fault on a mapping fsx touches itself ends the run with a report
 * instead of a bare "Bus error". */
sigjmp_buf *fsx_bus_jmp;

const char *fsx_op_name(int op)
{
	return op >= 0 && op < OP_COUNT ? op_table[op].name : "?";
}

/* splitmix64: small, fast, and the same stream on every platform. */
uint64_t fsx_rnd64(struct fsx *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t fsx_rnd(struct fsx *f, uint64_t n)
{
	return n == 0 ? 0 : fsx_rnd64(f) % n;
}

/* An offset in [0, limit), drawn towards page boundaries now and then:
 * that is where caches and mappings split requests. */
uint64_t fsx_pick_off(struct fsx *f, uint64_t limit)
{
	uint64_t off;

	if (limit == 0)
		return 0;
	off = fsx_rnd(f, limit);
	switch (fsx_rnd(f, 8)) {
	case 0:
		off -= off % f->pagesize;
		break;
	case 1:
		off -= off % f->pagesize;
		off = off > 0 ? off - 1 : 0;
		break;
	case 2:
		off = off - off % f->pagesize + 1;
		break;
	}
	return off < limit ? off : limit - 1;
}

/* A length in [0, max]: mostly random, sometimes tiny or whole pages. */
uint64_t fsx_pick_len(struct fsx *f, uint64_t max)
{
	uint64_t len;

	switch (fsx_rnd(f, 16)) {
	case 0:
		len = 0;
		break;
	case 1:
	case 2:
		len = 1 + fsx_rnd(f, 16);
		break;
	case 3:
		len = f->pagesize * (1 + fsx_rnd(f, 4));
		break;
	default:
		len = 1 + fsx_rnd(f, max);
		break;
	}
	return len < max ? len : max;
}

void fsx_note(struct fsx *f, const char *fmt, ...)
{
	va_list ap;

	if (f->quiet)
		return;
	va_start(ap, fmt);
	fputs("fsx: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
}

static void print_rec(const struct fsx_rec *r)
{
	long long a = r->a, b = r->b, c = r->c;

	printf("%8" PRIu64 " %-9s ", r->num, fsx_op_name(r->op));
	switch (r->op) {
	case OP_READ:
	case OP_WRITE:
	case OP_MAPREAD:
	case OP_MAPWRITE:
	case OP_FALLOC:
	case OP_PUNCH:
	case OP_ZERO:
		printf("0x%llx thru 0x%llx (0x%llx bytes) mode %d", a,
		       a + b - (b > 0), b, r->sub);
		break;
	case OP_TRUNC:
		printf("to 0x%llx", a);
		break;
	case OP_CFR:
		printf("src 0x%llx dst 0x%llx len 0x%llx", a, b, c);
		break;
	case OP_FIND:
	case OP_RFIND:
		printf("needle@%lld len %d start %lld end %lld", c, r->sub, a,
		       b);
		break;
	case OP_MOVE:
		printf("dest %lld src %lld count %lld kind %d", a, b, c,
		       r->sub);
		break;
	case OP_MADVISE:
		printf("advice %d start %lld length %lld flags %lld", r->sub,
		       a, b, c);
		break;
	case OP_FLUSH:
		printf("offset %lld size %lld flags %lld kind %d", a, b, c,
		       r->sub);
		break;
	default:
		break;
	}
	printf(" size 0x%llx->0x%llx = %lld%s\n", (long long)r->size0,
	       (long long)r->size1, (long long)r->result,
	       r->skipped ? " (skipped)" : "");
}

static void report_header(struct fsx *f)
{
	int i;

	fflush(stdout);
	printf("fsx: FAILED at op %" PRIu64 ", seed %" PRIu64 "\n", f->num,
	       f->seed);
	printf("fsx: replay: ");
	for (i = 0; i < f->argc; i++) {
		/* Drop the run's own -S and -N: the ones below replace them. */
		if (strncmp(f->argv[i], "-S", 2) == 0 ||
		    strncmp(f->argv[i], "-N", 2) == 0) {
			i += f->argv[i][2] == '\0';
			continue;
		}
		printf("%s ", f->argv[i]);
	}
	printf("-S %" PRIu64 " -N %" PRIu64 "\n", f->seed, f->num);
}

static void report_ring(struct fsx *f)
{
	uint64_t first = f->num > FSX_RING ? f->num - FSX_RING + 1 : 1;
	uint64_t n;

	printf("fsx: the last %" PRIu64 " ops (the failing one last):\n",
	       f->num - first + 1);
	for (n = first; n <= f->num; n++)
		print_rec(&f->ring[n % FSX_RING]);
	fflush(stdout);
}

/* -M: the model as a file, to compare with what reached the disk, or to
 * look at after a failure. */
static void dump_model(struct fsx *f)
{
	FILE *out;

	if (f->dump_path == NULL)
		return;
	out = fopen(f->dump_path, "w");
	if (out == NULL || fwrite(f->model, 1, f->size, out) != f->size ||
	    fclose(out) != 0) {
		fprintf(stderr, "fsx: %s: %s\n", f->dump_path,
			strerror(errno));
		exit(2);
	}
}

void fsx_fail(struct fsx *f, const char *fmt, ...)
{
	va_list ap;

	report_header(f);
	va_start(ap, fmt);
	printf("fsx: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	report_ring(f);
	dump_model(f);
	exit(1);
}

static void hexdump(const char *label, uint64_t base,
		    const unsigned char *p, const unsigned char *other,
		    size_t from, size_t to)
{
	size_t i;

	printf("%s:\n", label);
	for (i = from; i < to; i++) {
		if ((i - from) % 16 == 0)
			printf("  %08llx ", (unsigned long long)(base + i));
		printf(p[i] != other[i] ? "*%02x" : " %02x", p[i]);
		if ((i - from) % 16 == 15 || i + 1 == to)
			printf("\n");
	}
}

void fsx_mismatch(struct fsx *f, const char *what, uint64_t off,
		  const unsigned char *expect, const unsigned char *got,
		  size_t len)
{
	size_t i, bad = 0, first = len, from, to;

	for (i = 0; i < len; i++) {
		if (expect[i] != got[i]) {
			if (first == len)
				first = i;
			bad++;
		}
	}
	report_header(f);
	printf("fsx: %s: %zu of %zu bytes differ; first bad byte at file "
	       "offset 0x%llx\n", what, bad, len,
	       (unsigned long long)(off + first));
	from = first > 32 ? (first - 32) & ~(size_t)15 : 0;
	to = len - first > 48 ? first + 48 : len;
	hexdump("expected", off, expect, got, from, to);
	hexdump("actual", off, got, expect, from, to);
	report_ring(f);
	dump_model(f);
	exit(1);
}

void fsx_check_bytes(struct fsx *f, const char *what, uint64_t off,
		     const unsigned char *got, size_t len)
{
	if (memcmp(f->model + off, got, len) != 0)
		fsx_mismatch(f, what, off, f->model + off, got, len);
}

void fsx_check_size(struct fsx *f)
{
	struct mmapfs_info info;
	uint64_t size;
	int ret;

	ret = tgt_size(f, &size);
	if (ret < 0)
		fsx_fail(f, "stat: %s", strerror(-ret));
	if (size != f->size)
		fsx_fail(f, "size is 0x%llx, expected 0x%llx",
			 (unsigned long long)size,
			 (unsigned long long)f->size);
	if (!f->t.mmapfs)
		return;
	ret = tgt_info(f, &info);
	if (ret < 0)
		fsx_fail(f, "MMAPFS_IOC_INFO: %s", strerror(-ret));
	if (info.file_size != f->size ||
	    (info.mapped && (info.length != f->size || info.offset != 0)) ||
	    (!info.mapped && info.length != 0) ||
	    (f->size == 0 && info.mapped))
		fsx_fail(f, "MMAPFS_IOC_INFO: length %llu file_size %llu "
			 "offset %lld mapped %u; expected size %llu",
			 (unsigned long long)info.length,
			 (unsigned long long)info.file_size,
			 (long long)info.offset, info.mapped,
			 (unsigned long long)f->size);
}

/* Every byte of the file, and on a file under the engine the same bytes
 * once more through the file (MAP_SHARED must be coherent with read). */
void fsx_check_all(struct fsx *f)
{
	ssize_t r;

	fsx_check_size(f);
	memset(f->buf2, 0xa5, f->size + 1);
	r = tgt_pread(f, f->buf2, f->size + 1, 0);
	if (r < 0)
		fsx_fail(f, "full read: %s", strerror(-r));
	if ((uint64_t)r != f->size)
		fsx_fail(f, "full read returned %zd, expected %llu", r,
			 (unsigned long long)f->size);
	fsx_check_bytes(f, "full check", 0, f->buf2, f->size);
	if (!f->t.engine || f->t.anon)
		return;
	r = pread(f->t.fd, f->buf2, f->size + 1, 0);
	if (r < 0 || (uint64_t)r != f->size)
		fsx_fail(f, "full read of the file under the engine "
			 "returned %zd (%s), expected %llu", r,
			 r < 0 ? strerror(errno) : "short",
			 (unsigned long long)f->size);
	fsx_check_bytes(f, "file under the engine", 0, f->buf2, f->size);
}

void fsx_disable(struct fsx *f, int op, const char *why)
{
	if (!f->enabled[op])
		return;
	f->enabled[op] = false;
	fsx_note(f, "%s disabled: %s", fsx_op_name(op), why);
}

static void bus_handler(int sig)
{
	if (fsx_bus_jmp != NULL)
		siglongjmp(*fsx_bus_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int lookup_op(const char *name, bool *set)
{
	size_t g;
	int op, i;

	if (strcmp(name, "all") == 0) {
		for (op = 0; op < OP_COUNT; op++)
			set[op] = true;
		return 0;
	}
	for (op = 0; op < OP_COUNT; op++) {
		if (strcmp(name, op_table[op].name) == 0) {
			set[op] = true;
			if (op == OP_TRUNC) /* "trunc" covers O_TRUNC too */
				set[OP_OTRUNC] = true;
			if (op == OP_FSYNC)
				set[OP_FDATASYNC] = true;
			return 0;
		}
	}
	for (g = 0; g < sizeof(op_groups) / sizeof(op_groups[0]); g++) {
		if (strcmp(name, op_groups[g].name) != 0)
			continue;
		for (i = 0; op_groups[g].ops[i] >= 0; i++)
			set[op_groups[g].ops[i]] = true;
		return 0;
	}
	return -EINVAL;
}

/* -O read,write,map: only those; -O -map,-cfr (or no-map): all but
 * those.  Both forms may be mixed; the first item decides the start. */
static int parse_ops(struct fsx *f, const char *arg)
{
	char *copy = strdup(arg), *item, *save = NULL;
	bool set[OP_COUNT];
	bool first = true, off;
	const char *name;
	int op, ret = 0;

	if (copy == NULL)
		return -ENOMEM;
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		off = item[0] == '-' || strncmp(item, "no", 2) == 0;
		name = item[0] == '-' ? item + 1 : off ? item + 2 : item;
		if (first)
			for (op = 0; op < OP_COUNT; op++)
				f->enabled[op] = off;
		first = false;
		memset(set, 0, sizeof(set));
		if (lookup_op(name, set) < 0) {
			fprintf(stderr, "fsx: unknown op '%s'\n", name);
			ret = -EINVAL;
			break;
		}
		for (op = 0; op < OP_COUNT; op++)
			if (set[op])
				f->enabled[op] = !off;
	}
	free(copy);
	return ret;
}

static uint64_t parse_num(const char *s, const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == 0 && end != s) {
		switch (*end) {
		case 'k': case 'K': v <<= 10; end++; break;
		case 'm': case 'M': v <<= 20; end++; break;
		case 'g': case 'G': v <<= 30; end++; break;
		}
	}
	if (errno != 0 || end == s || *end != '\0') {
		fprintf(stderr, "fsx: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static void usage(FILE *out)
{
	int op;

	fprintf(out,
		"usage: fsx [options] FILE\n"
		"       fsx -E [options] [FILE]   (the engine, no kernel)\n"
		"       fsx -A [options]          (the engine, anonymous map)\n"
		"  -N n      number of ops (default 10000)\n"
		"  -S seed   random seed (default: from the clock; printed)\n"
		"  -l size   maximum file size (default 256k)\n"
		"  -o size   maximum size of one op (default 64k)\n"
		"  -O list   ops to enable: a,b,c; or -a,-b to disable\n"
		"  -c n      check the whole file every n ops (default 200)\n"
		"  -p n      a progress line every n ops (default 10000)\n"
		"  -D        also write /proc/sys/vm/drop_caches (root)\n"
		"  -M path   write the model there at the end, or on failure\n"
		"  -E        drive the engine (lib/) on FILE or a temp file\n"
		"  -A        drive the engine on an anonymous map\n"
		"  -q        quiet: only the seed, the summary and failures\n"
		"  -v        verbose: print every op\n"
		"ops:");
	for (op = 0; op < OP_COUNT; op++)
		fprintf(out, " %s", op_table[op].name);
	fprintf(out, "\ngroups: all map sync falloc ioctl search\n");
}

static int pick_op(struct fsx *f)
{
	unsigned int total = 0, r;
	int op;

	for (op = 0; op < OP_COUNT; op++)
		if (f->enabled[op])
			total += op_table[op].weight;
	if (total == 0)
		return -1;
	r = fsx_rnd(f, total);
	for (op = 0; op < OP_COUNT; op++) {
		if (!f->enabled[op])
			continue;
		if (r < op_table[op].weight)
			return op;
		r -= op_table[op].weight;
	}
	return -1;
}

static void setup(struct fsx *f, char *tmpl)
{
	int c;
	size_t alloc = f->maxlen + f->maxop + f->pagesize + 1;

	f->model = calloc(1, f->maxlen + f->maxop + 1);
	f->buf = malloc(alloc);
	f->buf2 = malloc(alloc);
	if (f->model == NULL || f->buf == NULL || f->buf2 == NULL) {
		fprintf(stderr, "fsx: out of memory\n");
		exit(2);
	}
	if (tmpl != NULL) {
		int fd = mkstemp(tmpl);

		if (fd < 0) {
			perror("fsx: mkstemp");
			exit(2);
		}
		close(fd);
		f->t.path = tmpl;
	}
	c = tgt_open(f, true);
	if (c < 0) {
		fprintf(stderr, "fsx: %s: %s\n", f->t.path, strerror(-c));
		exit(2);
	}
	tgt_init(f);
	if (!f->t.engine && !f->t.mmapfs) {
		fsx_disable(f, OP_FIND, "not an mmapfs file");
		fsx_disable(f, OP_RFIND, "not an mmapfs file");
		fsx_disable(f, OP_MOVE, "not an mmapfs file");
		fsx_disable(f, OP_MADVISE, "not an mmapfs file");
		fsx_disable(f, OP_FLUSH, "not an mmapfs file");
	}
	if (f->t.engine) {
		fsx_disable(f, OP_FALLOC, "not an engine call");
		fsx_disable(f, OP_PUNCH, "not an engine call");
		fsx_disable(f, OP_ZERO, "not an engine call");
		fsx_disable(f, OP_CFR, "not an engine call");
	}
	if (f->t.anon)
		fsx_disable(f, OP_DROP, "no file");
}

int main(int argc, char **argv)
{
	static struct fsx fsx;
	struct fsx *f = &fsx;
	struct sigaction sa;
	bool seeded = false;
	char *tmpl = NULL;
	int c, op;

	f->argc = argc;
	f->argv = argv;
	f->t.fd = -1;
	f->nops = 10000;
	f->maxlen = 256 * 1024;
	f->maxop = 64 * 1024;
	f->check_every = 200;
	f->progress_every = 10000;
	f->pagesize = sysconf(_SC_PAGESIZE);
	for (op = 0; op < OP_COUNT; op++)
		f->enabled[op] = true;
	while ((c = getopt(argc, argv, "N:S:l:o:O:c:p:M:DEAqvh")) != -1) {
		switch (c) {
		case 'N': f->nops = parse_num(optarg, "-N"); break;
		case 'S':
			f->seed = parse_num(optarg, "-S");
			seeded = true;
			break;
		case 'l': f->maxlen = parse_num(optarg, "-l"); break;
		case 'o': f->maxop = parse_num(optarg, "-o"); break;
		case 'O':
			if (parse_ops(f, optarg) < 0)
				return 2;
			break;
		case 'c': f->check_every = parse_num(optarg, "-c"); break;
		case 'p': f->progress_every = parse_num(optarg, "-p"); break;
		case 'D': f->drop_caches = true; break;
		case 'M': f->dump_path = optarg; break;
		case 'E': f->t.engine = true; break;
		case 'A': f->t.engine = f->t.anon = true; break;
		case 'q': f->quiet = true; break;
		case 'v': f->verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (f->maxlen == 0 || f->maxop == 0 || f->maxlen > (1ULL << 32) ||
	    f->maxop > f->maxlen) {
		fprintf(stderr, "fsx: need 0 < -o <= -l <= 4G\n");
		return 2;
	}
	if (optind + 1 == argc && !f->t.anon) {
		f->t.path = argv[optind];
	} else if (optind == argc && f->t.engine && !f->t.anon) {
		const char *dir = getenv("TMPDIR");

		if (asprintf(&tmpl, "%s/fsx.XXXXXX", dir ? dir : "/tmp") < 0)
			return 2;
	} else if (!(optind == argc && f->t.anon)) {
		usage(stderr);
		return 2;
	}
	if (!seeded)
		f->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	f->rng = f->seed;
	/* Before the engine's first open, so that its handler passes faults
	 * outside its own calls on to this one. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bus_handler;
	sigaction(SIGBUS, &sa, NULL);
	printf("fsx: seed %" PRIu64 "\n", f->seed);
	fflush(stdout);
	setup(f, tmpl);
	for (f->num = 1; f->num <= f->nops; f->num++) {
		op = pick_op(f);
		if (op < 0) {
			fprintf(stderr, "fsx: no op enabled\n");
			return 2;
		}
		f->cur = &f->ring[f->num % FSX_RING];
		memset(f->cur, 0, sizeof(*f->cur));
		f->cur->num = f->num;
		f->cur->op = op;
		f->cur->size0 = f->cur->size1 = f->size;
		fsx_do_op(f, op);
		f->cur->size1 = f->size;
		f->done[op] += !f->cur->skipped;
		if (f->verbose)
			print_rec(f->cur);
		fsx_check_size(f);
		if (f->check_every && f->num % f->check_every == 0)
			fsx_check_all(f);
		if (f->progress_every && f->num % f->progress_every == 0)
			fsx_note(f, "%" PRIu64 " ops", f->num);
	}
	f->num = f->nops;
	fsx_check_all(f);
	tgt_close(f);
	dump_model(f);
	if (tmpl != NULL)
		unlink(tmpl);
	if (!f->quiet) {
		printf("fsx: ops done:");
		for (op = 0; op < OP_COUNT; op++)
			if (f->done[op])
				printf(" %s %" PRIu64, op_table[op].name,
				       f->done[op]);
		printf("\n");
	}
	printf("fsx: %" PRIu64 " ops, seed %" PRIu64 ", OK\n", f->nops,
	       f->seed);
	return 0;
}
