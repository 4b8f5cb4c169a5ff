/* mmfs-driver.c - differential test driver: runs a line-based op script
 * (stdin) on libmmfs and prints one line per op:
 *     <result> | <map state> | <file state>
 * The same script run by mmfs-oracle.py on CPython's mmap must print the
 * same lines.  Usage: mmfs-driver BACKING-FILE-PATH < script
 * Format details: see gen.py. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmfs.h"

static const char *path;
static struct mmfs_map *map;
static unsigned int pins;
static bool shared_anon; /* the open map is a shared anonymous one */
static char out[1 << 20];

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32_buf(const unsigned char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/* Same content generator as the oracle. */
static unsigned char gen_byte(uint64_t i, uint64_t seed)
{
	static const unsigned char alpha[8] = {'a', 'b', '\n', 'c',
					       'd', 0,	 'a',  0xff};
	uint64_t x = i * 0x9E3779B97F4A7C15ull + seed * 0xBF58476D1CE4E5B9ull;
	x ^= x >> 31;
	x *= 0x94D049BB133111EBull;
	x ^= x >> 29;
	return alpha[x % 8];
}

/* The errno names the oracle prints (Python's errno.errorcode). */
static const struct {
	int e;
	const char *name;
} errnames[] = {
	{EPERM, "EPERM"},
	{ENOENT, "ENOENT"},
	{EIO, "EIO"},
	{EBADF, "EBADF"},
	{ENOMEM, "ENOMEM"},
	{EACCES, "EACCES"},
	{EFAULT, "EFAULT"},
	{EBUSY, "EBUSY"},
	{EEXIST, "EEXIST"},
	{ENODEV, "ENODEV"},
	{EINVAL, "EINVAL"},
	{EFBIG, "EFBIG"},
	{ENOSPC, "ENOSPC"},
	{ERANGE, "ERANGE"},
	{ENOSYS, "ENOSYS"},
	{EOVERFLOW, "EOVERFLOW"},
	{EOPNOTSUPP, "EOPNOTSUPP"},
	{ENODATA, "ENODATA"},
	{EAGAIN, "EAGAIN"},
	{ETXTBSY, "ETXTBSY"},
	{ENXIO, "ENXIO"},
	{ENOTDIR, "ENOTDIR"},
	{EISDIR, "EISDIR"},
};

static const char *errname(int e)
{
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].e == e)
			return errnames[i].name;
	return "E?";
}

static int err(int rc)
{
	int n = snprintf(out, sizeof(out), "ERR %s %s", errname(-rc),
			 mmfs_errmsg());
	(void)n;
	return 0;
}

static void hexout(const unsigned char *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char *o = out;
	if (n == 0) {
		strcpy(out, "-");
		return;
	}
	if (n * 2 + 1 > sizeof(out)) {
		snprintf(out, sizeof(out), "len=%zu crc=%08x", n,
			 crc32_buf(p, n));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		*o++ = hx[p[i] >> 4];
		*o++ = hx[p[i] & 15];
	}
	*o = 0;
}

/* "-" is empty; "HEX" bytes; "HEX*K" the bytes repeated K times; "A+B"
 * concatenates parts. */
static size_t unhex(const char *s, unsigned char **bufp)
{
	size_t n = 0, cap = 64;
	unsigned char *b = malloc(cap);
	char *copy, *part, *save = NULL;

	if (s == NULL || strcmp(s, "-") == 0) {
		*bufp = b;
		return 0;
	}
	copy = strdup(s);
	for (part = strtok_r(copy, "+", &save); part != NULL;
	     part = strtok_r(NULL, "+", &save)) {
		char *star = strchr(part, '*');
		size_t k = star ? strtoull(star + 1, NULL, 10) : 1;
		size_t plen = (star ? (size_t)(star - part) : strlen(part)) / 2;
		for (size_t r = 0; r < k; r++) {
			for (size_t i = 0; i < plen; i++) {
				unsigned int v;
				if (n + 1 >= cap)
					b = realloc(b, cap *= 2);
				sscanf(part + 2 * i, "%2x", &v);
				b[n++] = (unsigned char)v;
			}
		}
	}
	free(copy);
	*bufp = b;
	return n;
}

/* "N" is None: INT64_MIN (MMFS_NONE); missing is def. */
static int64_t num(const char *s, int64_t def)
{
	if (s == NULL)
		return def;
	if (strcmp(s, "N") == 0)
		return MMFS_NONE;
	return strtoll(s, NULL, 10);
}

static void state(void)
{
	char *o = out + strlen(out);
	size_t room = sizeof(out) - (size_t)(o - out);
	struct stat st;

	if (map == NULL || mmfs_closed(map)) {
		o += snprintf(o, room, " | closed");
	} else if (mmfs_len(map) > (1 << 28)) {
		o += snprintf(o, room, " | p=%" PRId64 " l=%zd HUGE",
			      mmfs_tell(map), mmfs_len(map));
	} else {
		ssize_t len = mmfs_len(map);
		unsigned char *buf = malloc((size_t)len + 1);
		ssize_t got = mmfs_pread(map, buf, (size_t)len, 0);
		o += snprintf(o, room, " | p=%" PRId64 " l=%zd c=%08x",
			      mmfs_tell(map), len,
			      got == len ? crc32_buf(buf, (size_t)len) : 0u);
		if (got != len)
			o += sprintf(o, " PREAD-FAULT(%zd)", got);
		free(buf);
	}
	room = sizeof(out) - (size_t)(o - out);
	if (stat(path, &st) != 0) {
		snprintf(o, room, " | nofile");
	} else {
		int fd = open(path, O_RDONLY);
		unsigned char *buf = malloc((size_t)st.st_size + 1);
		ssize_t got = pread(fd, buf, (size_t)st.st_size, 0);
		snprintf(o, room, " | f=%lld:%08x", (long long)st.st_size,
			 got == st.st_size ? crc32_buf(buf, (size_t)got) : 0u);
		free(buf);
		close(fd);
	}
}

/* The result column: OK, a count or value, bytes in hex, or the error. */
static void put_ok(int rc)
{
	if (rc < 0)
		err(rc);
	else
		strcpy(out, "OK");
}

static void put_int(int64_t v)
{
	if (v < 0)
		err((int)v);
	else
		sprintf(out, "%" PRId64, v);
}

static void put_value(int rc, int64_t v)
{
	if (rc < 0)
		err(rc);
	else
		sprintf(out, "%" PRId64, v);
}

static void put_bytes(const void *buf, ssize_t n)
{
	if (n < 0)
		err((int)n);
	else
		hexout(buf, (size_t)n);
}

static void drop_map(void)
{
	while (pins > 0) {
		mmfs_unpin(map);
		pins--;
	}
	mmfs_free(map);
	map = NULL;
	shared_anon = false;
}

static int open_fd(const char *kind)
{
	if (strcmp(kind, "rw") == 0)
		return open(path, O_RDWR);
	if (strcmp(kind, "ro") == 0)
		return open(path, O_RDONLY);
	if (strcmp(kind, "wo") == 0)
		return open(path, O_WRONLY);
	if (strcmp(kind, "devzero") == 0)
		return open("/dev/zero", O_RDWR);
	if (strcmp(kind, "dir") == 0)
		return open("/", O_RDONLY | O_DIRECTORY);
	if (strcmp(kind, "bad") == 0)
		return 1000; /* never open */
	if (strcmp(kind, "neg2") == 0)
		return -2;
	return -1; /* anon */
}

static void do_op(char **t, int nt)
{
	const char *op = t[0];
	int64_t v;
	int rc;
	ssize_t n;
	unsigned char *buf = NULL;

	out[0] = 0;
	if (strcmp(op, "file") == 0) {
		int64_t size = num(t[1], 0);
		uint64_t seed = (uint64_t)num(t[2], 0);
		int fd;
		/* Truncating behind a map is an expected difference
		 * (SIGBUS vs -EIO): drop the map first. */
		drop_map();
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		buf = malloc((size_t)size + 1);
		for (int64_t i = 0; i < size; i++)
			buf[i] = gen_byte((uint64_t)i, seed);
		if (write(fd, buf, (size_t)size) != size)
			abort();
		close(fd);
		strcpy(out, "OK");
	} else if (strcmp(op, "extend") == 0) {
		struct stat st;
		int64_t size = num(t[1], 0);
		if (stat(path, &st) == 0 && st.st_size < size) {
			if (truncate(path, size) != 0)
				abort();
		}
		strcpy(out, "OK");
	} else if (strcmp(op, "open") == 0) {
		int fd;
		int64_t len = num(t[2], 0), off = num(t[6], 0);
		int flags = (int)num(t[3], 0), prot = (int)num(t[4], 0),
		    access = (int)num(t[5], 0);
		drop_map();
		fd = open_fd(t[1]);
		rc = mmfs_open(&map, fd, len, flags, prot, access, off, 0);
		if (fd >= 0 && fd != 1000)
			close(fd);
		if (rc < 0) {
			err(rc);
			map = NULL;
		} else {
			int type = flags & MAP_TYPE;
			strcpy(out, "OK");
			/* Python's mapping: access READ/WRITE -> SHARED */
			if (strcmp(t[1], "anon") == 0)
				shared_anon =
					access == 1 || access == 2 ||
					(access == 0 && type == MAP_SHARED);
		}
	} else if (map == NULL && strcmp(op, "unpin") != 0) {
		strcpy(out, "NOMAP");
	} else if (strcmp(op, "close") == 0) {
		rc = mmfs_close(map);
		put_ok(rc);
	} else if (strcmp(op, "closed") == 0) {
		sprintf(out, "%d", mmfs_closed(map));
	} else if (strcmp(op, "len") == 0) {
		n = mmfs_len(map);
		put_int(n);
	} else if (strcmp(op, "size") == 0) {
		int64_t s;
		rc = mmfs_size(map, &s);
		put_value(rc, s);
	} else if (strcmp(op, "tell") == 0) {
		v = mmfs_tell(map);
		put_int(v);
	} else if (strcmp(op, "seek") == 0) {
		int64_t np;
		rc = mmfs_seek(map, num(t[1], 0),
			       (int)num(nt > 2 ? t[2] : NULL, 0), &np);
		put_ok(rc);
	} else if (strcmp(op, "read") == 0) {
		int64_t want = num(nt > 1 ? t[1] : NULL, -1);
		ssize_t len = mmfs_closed(map) ? 0 : mmfs_len(map);
		if (want == MMFS_NONE)
			want = -1;
		buf = malloc((size_t)len + 1);
		n = mmfs_read(map, buf, (size_t)len, want);
		put_bytes(buf, n);
	} else if (strcmp(op, "read_byte") == 0) {
		rc = mmfs_read_byte(map);
		put_int(rc);
	} else if (strcmp(op, "readline") == 0) {
		ssize_t len = mmfs_closed(map) ? 0 : mmfs_len(map);
		buf = malloc((size_t)len + 1);
		n = mmfs_readline(map, buf, (size_t)len);
		put_bytes(buf, n);
	} else if (strcmp(op, "write") == 0) {
		size_t len = unhex(t[1], &buf);
		n = mmfs_write(map, buf, len);
		put_int(n);
	} else if (strcmp(op, "write_byte") == 0) {
		rc = mmfs_write_byte(map, (int)num(t[1], 0));
		put_ok(rc);
	} else if (strcmp(op, "find") == 0 || strcmp(op, "rfind") == 0) {
		size_t len = unhex(t[1], &buf);
		int64_t res, start, end;
		/* Python's defaults: start = pos, end = size. */
		start = nt > 2 ? num(t[2], 0)
			       : (mmfs_closed(map) ? 0 : mmfs_tell(map));
		end = num(nt > 3 ? t[3] : NULL, INT64_MAX);
		rc = op[0] == 'f' ? mmfs_find(map, buf, len, start, end, &res)
				  : mmfs_rfind(map, buf, len, start, end, &res);
		put_value(rc, res);
	} else if (strcmp(op, "move") == 0) {
		rc = mmfs_move(map, num(t[1], 0), num(t[2], 0), num(t[3], 0));
		put_ok(rc);
	} else if (strcmp(op, "flush") == 0) {
		int64_t len = mmfs_closed(map) ? 0 : mmfs_len(map);
		rc = mmfs_flush(map, num(nt > 1 ? t[1] : NULL, 0),
				num(nt > 2 ? t[2] : NULL, len));
		put_ok(rc);
	} else if (strcmp(op, "madvise") == 0) {
		int64_t len = mmfs_closed(map) ? 0 : mmfs_len(map);
		rc = mmfs_madvise(map, (int)num(t[1], 0),
				  num(nt > 2 ? t[2] : NULL, 0),
				  num(nt > 3 ? t[3] : NULL, len));
		put_ok(rc);
	} else if (strcmp(op, "resize") == 0) {
		int64_t ns = num(t[1], 0);
		int acc = mmfs_access(map);
		/* Filter: CPython 3.11 "grows" a shared anonymous map and
		 * then dies of SIGBUS; the engine grows it via a memfd. */
		if (!mmfs_closed(map) && shared_anon && pins == 0 &&
		    (acc == 0 || acc == 2) && ns > mmfs_len(map) &&
		    ns <= INT64_MAX - mmfs_offset(map)) {
			strcpy(out, "SKIP anon-grow");
		} else {
			rc = mmfs_resize(map, ns);
			put_ok(rc);
		}
	} else if (strcmp(op, "getitem") == 0) {
		rc = mmfs_getitem(map, num(t[1], 0));
		put_int(rc);
	} else if (strcmp(op, "setitem") == 0) {
		rc = mmfs_setitem(map, num(t[1], 0), (int)num(t[2], 0));
		put_ok(rc);
	} else if (strcmp(op, "delitem") == 0) {
		rc = mmfs_delitem(map, num(t[1], 0));
		put_ok(rc);
	} else if (strcmp(op, "getslice") == 0) {
		int64_t a = num(t[1], 0), b = num(t[2], 0), c = num(t[3], 0);
		ssize_t sl = mmfs_getslice(map, a, b, c, NULL, 0);
		if (sl < 0) {
			err((int)sl);
		} else {
			buf = malloc((size_t)sl + 1);
			n = mmfs_getslice(map, a, b, c, buf, (size_t)sl);
			put_bytes(buf, n);
		}
	} else if (strcmp(op, "setslice") == 0) {
		size_t len = unhex(t[4], &buf);
		rc = mmfs_setslice(map, num(t[1], 0), num(t[2], 0),
				   num(t[3], 0), buf, len);
		put_ok(rc);
	} else if (strcmp(op, "setslicefit") == 0) {
		int64_t a = num(t[1], 0), b = num(t[2], 0), c = num(t[3], 0);
		int64_t seed = num(t[4], 0);
		ssize_t sl = mmfs_getslice(map, a, b, c, NULL, 0);
		if (sl < 0)
			sl = 0;
		buf = malloc((size_t)sl + 1);
		for (ssize_t k = 0; k < sl; k++)
			buf[k] = (unsigned char)((k * 13 + seed) & 255);
		rc = mmfs_setslice(map, a, b, c, buf, (size_t)sl);
		put_ok(rc);
	} else if (strcmp(op, "delslice") == 0) {
		rc = mmfs_delslice(map, num(t[1], 0), num(t[2], 0),
				   num(t[3], 0));
		put_ok(rc);
	} else if (strcmp(op, "pin") == 0) {
		void *d;
		size_t l;
		rc = mmfs_pin(map, &d, &l);
		if (rc < 0) {
			err(rc);
		} else {
			pins++;
			strcpy(out, "OK");
		}
	} else if (strcmp(op, "unpin") == 0) {
		if (pins > 0) {
			mmfs_unpin(map);
			pins--;
		}
		strcpy(out, "OK");
	} else {
		snprintf(out, sizeof(out), "BADOP %s", op);
	}
	free(buf);
	state();
	puts(out);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	char line[1 << 16];

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE < script\n", argv[0]);
		return 2;
	}
	path = argv[1];
	crc_init();
	while (fgets(line, sizeof(line), stdin)) {
		char *t[16];
		int nt = 0;
		char *s = strtok(line, " \t\n");
		if (s == NULL || s[0] == '#')
			continue;
		while (s != NULL && nt < 15) {
			t[nt++] = s;
			s = strtok(NULL, " \t\n");
		}
		for (int k = nt; k < 16; k++)
			t[k] = NULL;
		do_op(t, nt);
	}
	drop_map();
	return 0;
}
