/*
 * check_io.c - the data path (lib/io.c): position I/O (read, write,
 * readline, the byte calls, seek and tell), access modes, move,
 * pread/pwrite, and the fault guard over all of it.  Items and slices
 * are in check_subscript.c.  The tests named test_rowN are twins of row N
 * of the reference's test_mmap inventory; the rest pin down edge cases of
 * reference §5, §7.3 and §8.
 */
#include "unit.h"

#include <sys/mman.h>

#define RW (MMFS_PROT_READ | MMFS_PROT_WRITE)
#define RO_MSG "mmap can't modify a readonly memory map."
#define RESIZE_MSG "mmap can't resize a readonly or copy-on-write memory map."

static void assert_file_eq(int fd, const void *want, size_t len)
{
	size_t got_len;
	unsigned char *got = unit_read_file(fd, &got_len);

	ck_assert_uint_eq(got_len, len);
	ck_assert_mem_eq(got, want, len);
	free(got);
}

/* ------------------------------------------------------------------ */
/* Rows of the reference inventory                                      */

START_TEST(test_row1_basic)
{
	size_t ps = unit_pagesize();
	unsigned char *data = calloc(2, ps);
	unsigned char buf[16];
	struct mmfs_map *map;
	int64_t at, sz;
	int fd;

	ck_assert_ptr_nonnull(data);
	memcpy(data + ps, "foo", 3);
	map = unit_file_map(data, 2 * ps, MMFS_ACCESS_DEFAULT, &fd);

	ck_assert_ok(mmfs_find(map, "foo", 3, 0, INT64_MAX, &at));
	ck_assert_int_eq(at, (int64_t)ps);
	ck_assert_int_eq(mmfs_len(map), (ssize_t)(2 * ps));
	ck_assert_int_eq(mmfs_getitem(map, 0), 0);
	ck_assert_int_eq(mmfs_getslice(map, 0, 3, MMFS_NONE, buf, 3), 3);
	ck_assert_mem_eq(buf, "\0\0\0", 3);
	ck_assert_err(mmfs_getitem(map, (int64_t)(2 * ps)), -ERANGE,
		      "mmap index out of range");
	ck_assert_err(mmfs_setitem(map, (int64_t)(2 * ps), 0), -ERANGE,
		      "mmap index out of range");

	ck_assert_ok(mmfs_setitem(map, 0, '3'));
	ck_assert_ok(mmfs_setslice(map, (int64_t)ps + 3, (int64_t)ps + 6,
				   MMFS_NONE, "bar", 3));
	ck_assert_int_eq(mmfs_getslice(map, 0, 3, MMFS_NONE, buf, 3), 3);
	ck_assert_mem_eq(buf, "3\0\0", 3);
	ck_assert_int_eq(mmfs_getslice(map, (int64_t)ps - 1, (int64_t)ps + 7,
				       MMFS_NONE, buf, sizeof(buf)),
			 8);
	ck_assert_mem_eq(buf, "\0foobar\0", 8);
	ck_assert_ok(mmfs_flush(map, 0, (int64_t)(2 * ps)));
	memcpy(data, "3", 1);
	memcpy(data + ps, "foobar", 6);
	assert_file_eq(fd, data, 2 * ps);

	/* seek (3.13 returns the new position) */
	ck_assert(mmfs_seekable(map));
	ck_assert_ok(mmfs_seek(map, 0, 0, &at));
	ck_assert_int_eq(at, 0);
	ck_assert_ok(mmfs_seek(map, 42, 1, &at));
	ck_assert_int_eq(at, 42);
	ck_assert_ok(mmfs_seek(map, 0, 2, &at));
	ck_assert_int_eq(at, (int64_t)(2 * ps));
	ck_assert_int_eq(mmfs_tell(map), (int64_t)(2 * ps));
	ck_assert_err(mmfs_seek(map, -1, 0, NULL), -EINVAL,
		      "seek out of range");
	ck_assert_err(mmfs_seek(map, 1, 2, NULL), -EINVAL,
		      "seek out of range");
	ck_assert_err(mmfs_seek(map, -(int64_t)(2 * ps) - 1, 2, NULL),
		      -EINVAL, "seek out of range");
	ck_assert_int_eq(mmfs_tell(map), (int64_t)(2 * ps));

	/* resize */
	ck_assert_ok(mmfs_resize(map, 512));
	ck_assert_int_eq(mmfs_len(map), 512);
	ck_assert_err(mmfs_seek(map, 513, 0, NULL), -EINVAL,
		      "seek out of range");
	ck_assert_int_eq(unit_file_size(fd), 512);
	ck_assert_ok(mmfs_size(map, &sz));
	ck_assert_int_eq(sz, 512);
	unit_assert_map_eq(map, data, 512);

	mmfs_free(map);
	close(fd);
	free(data);
}
END_TEST

START_TEST(test_row2_access_parameter)
{
	static const char a10[] = "aaaaaaaaaa", c10[] = "cccccccccc",
			  d10[] = "dddddddddd";
	struct mmfs_map *map = NULL;
	int fd = unit_tmpfile(a10, 10);
	int64_t pos;

	/* ACCESS_READ refuses every change, and the file stays as it was. */
	ck_assert_ok(mmfs_open(&map, fd, 10, MMFS_MAP_SHARED, RW,
			       MMFS_ACCESS_READ, 0, 0));
	unit_assert_map_eq(map, a10, 10);
	ck_assert_err(mmfs_setslice(map, MMFS_NONE, MMFS_NONE, MMFS_NONE,
				    "bbbbbbbbbb", 10),
		      -EACCES, RO_MSG);
	ck_assert_err(mmfs_setitem(map, 0, 'b'), -EACCES, RO_MSG);
	ck_assert_err(mmfs_write(map, "abc", 3), -EACCES, RO_MSG);
	ck_assert_err(mmfs_write_byte(map, 'd'), -EACCES, RO_MSG);
	ck_assert_err(mmfs_pwrite(map, "abc", 3, 0), -EACCES, RO_MSG);
	ck_assert_err(mmfs_move(map, 0, 1, 1), -EACCES, RO_MSG);
	ck_assert_err(mmfs_resize(map, 20), -EPERM, RESIZE_MSG);
	ck_assert_int_eq(mmfs_tell(map), 0);
	unit_assert_map_eq(map, a10, 10);
	assert_file_eq(fd, a10, 10);
	mmfs_free(map);
	map = NULL;

	/* Unix never extends the file to the length asked for. */
	ck_assert_err(mmfs_open(&map, fd, 11, MMFS_MAP_SHARED, RW,
				MMFS_ACCESS_DEFAULT, 0, 0),
		      -EINVAL, "mmap length is greater than file size");
	assert_file_eq(fd, a10, 10);

	/* ACCESS_WRITE reaches the file. */
	ck_assert_ok(mmfs_open(&map, fd, 10, MMFS_MAP_SHARED, RW,
			       MMFS_ACCESS_WRITE, 0, 0));
	ck_assert_ok(mmfs_setslice(map, MMFS_NONE, MMFS_NONE, MMFS_NONE, c10,
				   10));
	unit_assert_map_eq(map, c10, 10);
	ck_assert_ok(mmfs_flush(map, 0, 10));
	assert_file_eq(fd, c10, 10);
	mmfs_free(map);
	map = NULL;

	/* ACCESS_COPY: private, the file keeps the old bytes. */
	ck_assert_ok(mmfs_open(&map, fd, 10, MMFS_MAP_SHARED, RW,
			       MMFS_ACCESS_COPY, 0, 0));
	ck_assert_ok(mmfs_setslice(map, MMFS_NONE, MMFS_NONE, MMFS_NONE, d10,
				   10));
	unit_assert_map_eq(map, d10, 10);
	ck_assert_ok(mmfs_flush(map, 0, 10));
	assert_file_eq(fd, c10, 10);
	ck_assert_int_eq(mmfs_write(map, "xy", 2), 2);
	ck_assert_ok(mmfs_write_byte(map, 'z'));
	ck_assert_ok(mmfs_move(map, 5, 0, 3));
	unit_assert_map_eq(map, "xyzddxyzdd", 10);
	assert_file_eq(fd, c10, 10);
	ck_assert_err(mmfs_resize(map, 20), -EPERM, RESIZE_MSG);
	mmfs_free(map);
	map = NULL;

	ck_assert_err(mmfs_open(&map, fd, 10, MMFS_MAP_SHARED, RW, 4, 0, 0),
		      -EINVAL, "mmap invalid access parameter.");
	ck_assert_err(mmfs_open(&map, fd, 10, MMFS_MAP_PRIVATE,
				MMFS_PROT_READ, MMFS_ACCESS_WRITE, 0, 0),
		      -EINVAL,
		      "mmap can't specify both access and flags, prot.");

	/* PROT_READ|PROT_EXEC with the default access is read-only. */
	ck_assert_ok(mmfs_open(&map, fd, 10, MMFS_MAP_SHARED,
			       MMFS_PROT_READ | MMFS_PROT_EXEC,
			       MMFS_ACCESS_DEFAULT, 0, 0));
	ck_assert_err(mmfs_write(map, "abc", 3), -EACCES, RO_MSG);
	ck_assert_err(mmfs_write_byte(map, 'd'), -EACCES, RO_MSG);
	ck_assert_ok(mmfs_seek(map, 0, 1, &pos));
	ck_assert_int_eq(pos, 0);
	mmfs_free(map);
	assert_file_eq(fd, c10, 10);
	close(fd);
}
END_TEST

START_TEST(test_row12_entire_file)
{
	size_t len = 65536;
	unsigned char *want = malloc(len), *buf = malloc(len + 1);
	struct mmfs_map *map = NULL;
	int fd;

	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(buf);
	memset(want, 'm', len);
	fd = unit_tmpfile(want, len);
	ck_assert_ok(mmfs_open(&map, fd, 0, MMFS_MAP_SHARED, RW,
			       MMFS_ACCESS_DEFAULT, 0, 0));
	ck_assert_int_eq(mmfs_len(map), (ssize_t)len);
	ck_assert_int_eq(mmfs_read(map, buf, len + 1, (int64_t)len),
			 (ssize_t)len);
	ck_assert_mem_eq(buf, want, len);
	ck_assert_int_eq(mmfs_tell(map), (int64_t)len);
	mmfs_free(map);
	close(fd);
	free(want);
	free(buf);
}
END_TEST

#define MOVE_RANGE_MSG "source, destination, or count out of range"

/* One move over "0123456789": the expected result is built the way
 * Python's test does, data[:dest] + data[src:src+count] +
 * data[dest+count:]; a count that does not fit fails and changes nothing. */
static void check_move10(struct mmfs_map *map, int dest, int src, int count)
{
	static const char data[] = "0123456789";
	int big = dest > src ? dest : src;
	unsigned char expect[10];
	int ret;

	ck_assert_ok(mmfs_setslice(map, MMFS_NONE, MMFS_NONE, MMFS_NONE, data,
				   10));
	ret = mmfs_move(map, dest, src, count);
	memcpy(expect, data, 10);
	if (count > 10 - big) {
		ck_assert_err(ret, -EINVAL, MOVE_RANGE_MSG);
	} else {
		ck_assert_msg(ret == 0, "move(%d, %d, %d): %d", dest, src,
			      count, ret);
		memcpy(expect + dest, data + src, (size_t)count);
	}
	unit_assert_map_eq(map, expect, 10);
}

START_TEST(test_row15_move)
{
	static const int64_t vals[] = {-100, -1, 0, 1, 100};
	/* Python's list, and overflow-prone values that must never pass. */
	static const int64_t bad[][3] = {
		{-1, -1, -1}, {-1, -1, 0}, {-1, 0, -1}, {0, -1, -1},
		{-1, 0, 0}, {0, -1, 0}, {0, 0, -1}, {INT64_MAX, 0, 1},
		{0, INT64_MAX, 1}, {1, 0, INT64_MAX}, {0, 0, INT64_MIN},
	};
	struct mmfs_map *map = unit_file_map("ABCDEabcde", 10, MMFS_ACCESS_DEFAULT,
					NULL);

	ck_assert_ok(mmfs_move(map, 5, 0, 5));
	unit_assert_map_eq(map, "ABCDEABCDE", 10);
	mmfs_free(map);

	/* Every dest, src and count, past the fitting ones too. */
	map = unit_anon_map(10, MMFS_MAP_SHARED);
	for (int dest = 0; dest <= 10; dest++)
		for (int src = 0; src <= 10; src++)
			for (int count = 0; count <= 11; count++)
				check_move10(map, dest, src, count);
	ck_assert_int_eq(mmfs_tell(map), 0);
	mmfs_free(map);

	/* Issue 5387: no combination of these crashes; each works or fails
	 * with the bounds error exactly when Python's rule says. */
	map = unit_anon_map(100, MMFS_MAP_SHARED);
	for (size_t i = 0; i < 125; i++) {
		int64_t d = vals[i / 25], s = vals[i / 5 % 5], c = vals[i % 5];
		bool ok = s >= 0 && d >= 0 && c >= 0 && c <= 100 - s &&
			  c <= 100 - d;

		if (ok)
			ck_assert_ok(mmfs_move(map, d, s, c));
		else
			ck_assert_err(mmfs_move(map, d, s, c), -EINVAL,
				      MOVE_RANGE_MSG);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_err(mmfs_move(map, bad[i][0], bad[i][1], bad[i][2]),
			      -EINVAL, MOVE_RANGE_MSG);
	ck_assert_ok(mmfs_move(map, 100, 100, 0));
	ck_assert_err(mmfs_move(map, 101, 0, 0), -EINVAL, MOVE_RANGE_MSG);
	ck_assert_err(mmfs_move(map, 0, 101, 0), -EINVAL, MOVE_RANGE_MSG);
	mmfs_free(map);

	/* A single byte. */
	map = unit_anon_map(1, MMFS_MAP_SHARED);
	ck_assert_int_eq(mmfs_move(map, 0, 0, 2), -EINVAL);
	ck_assert_int_eq(mmfs_move(map, 1, 0, 1), -EINVAL);
	ck_assert_int_eq(mmfs_move(map, 0, 1, 1), -EINVAL);
	ck_assert_ok(mmfs_move(map, 0, 0, 1));
	ck_assert_ok(mmfs_move(map, 0, 0, 0));
	ck_assert_ok(mmfs_move(map, 1, 1, 0));
	ck_assert_ok(mmfs_move(map, 1, 0, 0));
	mmfs_free(map);

	/* memmove semantics: move(1, 0, 9) shifts right. */
	map = unit_file_map("0123456789", 10, MMFS_ACCESS_WRITE, NULL);
	ck_assert_ok(mmfs_move(map, 1, 0, 9));
	unit_assert_map_eq(map, "0012345678", 10);
	ck_assert_ok(mmfs_move(map, 0, 2, 8));
	unit_assert_map_eq(map, "1234567878", 10);
	mmfs_free(map);
}
END_TEST

START_TEST(test_row17_read_all)
{
	static const struct {
		int64_t from, n;
	} rest[] = {
		{0, -1}, {8, -1}, {3, MMFS_NONE}, {4, -1}, {5, -2}, {9, -42},
		{2, INT64_MAX}, {16, -1},
	};
	unsigned char data[16], buf[32];
	struct mmfs_map *map = unit_anon_map(16, MMFS_MAP_SHARED);

	for (int i = 0; i < 16; i++)
		data[i] = (unsigned char)i;
	ck_assert_int_eq(mmfs_write(map, data, 16), 16);
	for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++) {
		ssize_t want = 16 - rest[i].from;

		ck_assert_ok(mmfs_seek(map, rest[i].from, 0, NULL));
		memset(buf, 0xee, sizeof(buf));
		ck_assert_int_eq(mmfs_read(map, buf, sizeof(buf), rest[i].n),
				 want);
		ck_assert_mem_eq(buf, data + rest[i].from, (size_t)want);
		ck_assert_int_eq(buf[want], 0xee);
		ck_assert_int_eq(mmfs_tell(map), 16);
	}

	/* read(n) clamps to what remains, then to the caller's cap. */
	ck_assert_ok(mmfs_seek(map, 10, 0, NULL));
	ck_assert_int_eq(mmfs_read(map, buf, sizeof(buf), 3), 3);
	ck_assert_mem_eq(buf, data + 10, 3);
	ck_assert_int_eq(mmfs_tell(map), 13);
	ck_assert_int_eq(mmfs_read(map, buf, 2, -1), 2);
	ck_assert_mem_eq(buf, data + 13, 2);
	ck_assert_int_eq(mmfs_tell(map), 15);
	ck_assert_int_eq(mmfs_read(map, buf, 0, -1), 0);
	ck_assert_int_eq(mmfs_read(map, buf, sizeof(buf), 0), 0);
	ck_assert_int_eq(mmfs_tell(map), 15);
	ck_assert_int_eq(mmfs_read(map, NULL, 0, 5), 0);
	mmfs_free(map);
}
END_TEST

START_TEST(test_row24_prot_readonly)
{
	struct mmfs_map *map = NULL;
	int fd = unit_tmpfile("0123456789", 10);
	char buf[4];

	ck_assert_ok(mmfs_open(&map, fd, 10, MMFS_MAP_SHARED, MMFS_PROT_READ,
			       MMFS_ACCESS_DEFAULT, 0, 0));
	ck_assert_int_eq(mmfs_access(map), MMFS_ACCESS_READ);
	ck_assert_err(mmfs_write(map, "foo", 3), -EACCES, RO_MSG);
	/* Refused before the range check, even for nothing. */
	ck_assert_err(mmfs_write(map, "", 0), -EACCES, RO_MSG);
	ck_assert_err(mmfs_write(map, "0123456789abc", 13), -EACCES, RO_MSG);
	ck_assert_int_eq(mmfs_read(map, buf, sizeof(buf), -1), 4);
	ck_assert_mem_eq(buf, "0123", 4);
	mmfs_free(map);
	close(fd);
}
END_TEST

START_TEST(test_row26_io_methods)
{
	static const char data[] = "0123456789";
	unsigned char buf[16];
	struct mmfs_map *map;
	int fd = unit_tmpfile_fill('x', 10);

	ck_assert_ok(mmfs_open(&map, fd, 10, MMFS_MAP_SHARED, RW,
			       MMFS_ACCESS_DEFAULT, 0, 0));
	ck_assert_int_eq(mmfs_tell(map), 0);
	for (int i = 0; i < 10; i++) {
		ck_assert_ok(mmfs_write_byte(map, data[i]));
		ck_assert_int_eq(mmfs_tell(map), i + 1);
	}
	ck_assert_err(mmfs_write_byte(map, data[0]), -EINVAL,
		      "write byte out of range");
	unit_assert_map_eq(map, data, 10);

	ck_assert_ok(mmfs_seek(map, 0, 0, NULL));
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(mmfs_read_byte(map), data[i]);
		ck_assert_int_eq(mmfs_tell(map), i + 1);
	}
	ck_assert_err(mmfs_read_byte(map), -EINVAL, "read byte out of range");
	ck_assert_int_eq(mmfs_tell(map), 10);

	ck_assert_ok(mmfs_seek(map, 3, 0, NULL));
	ck_assert_int_eq(mmfs_read(map, buf, sizeof(buf), 3), 3);
	ck_assert_mem_eq(buf, "345", 3);
	ck_assert_int_eq(mmfs_tell(map), 6);

	ck_assert_ok(mmfs_seek(map, 3, 0, NULL));
	ck_assert_int_eq(mmfs_write(map, "bar", 3), 3);
	ck_assert_int_eq(mmfs_tell(map), 6);
	unit_assert_map_eq(map, "012bar6789", 10);
	ck_assert_int_eq(mmfs_write(map, "baz", 3), 3);
	ck_assert_int_eq(mmfs_tell(map), 9);
	unit_assert_map_eq(map, "012barbaz9", 10);

	/* No partial write. */
	ck_assert_err(mmfs_write(map, "ba", 2), -EINVAL, "data out of range");
	ck_assert_int_eq(mmfs_tell(map), 9);
	unit_assert_map_eq(map, "012barbaz9", 10);
	ck_assert_ok(mmfs_flush(map, 0, 10));
	assert_file_eq(fd, "012barbaz9", 10);
	mmfs_free(map);
	close(fd);
}
END_TEST

START_TEST(test_row27_non_ascii_byte)
{
	static const int bytes[] = {129, 200, 255};

	for (size_t i = 0; i < 3; i++) {
		struct mmfs_map *map = unit_anon_map(1, MMFS_MAP_SHARED);

		ck_assert_ok(mmfs_write_byte(map, bytes[i]));
		ck_assert_int_eq(mmfs_getitem(map, 0), bytes[i]);
		ck_assert_ok(mmfs_seek(map, 0, 0, NULL));
		ck_assert_int_eq(mmfs_read_byte(map), bytes[i]);
		mmfs_free(map);
	}
}
END_TEST

START_TEST(test_row35_write_returning_count)
{
	struct mmfs_map *map = unit_anon_map(16, MMFS_MAP_SHARED);

	ck_assert_int_eq(mmfs_write(map, "", 0), 0);
	ck_assert_int_eq(mmfs_write(map, "x", 1), 1);
	ck_assert_int_eq(mmfs_write(map, "yz", 2), 2);
	ck_assert_int_eq(mmfs_write(map, "python", 6), 6);
	ck_assert_int_eq(mmfs_tell(map), 9);
	unit_assert_map_eq(map, "xyzpython\0\0\0\0\0\0\0", 16);
	/* b'' exactly at the end is fine. */
	ck_assert_ok(mmfs_seek(map, 0, 2, NULL));
	ck_assert_int_eq(mmfs_write(map, "", 0), 0);
	ck_assert_int_eq(mmfs_write(map, NULL, 0), 0);
	ck_assert_err(mmfs_write(map, "!", 1), -EINVAL, "data out of range");
	mmfs_free(map);
}
END_TEST

START_TEST(test_row36_resize_past_pos)
{
	unsigned char *buf = malloc(8192);
	struct mmfs_map *map = unit_anon_map(8192, MMFS_MAP_SHARED);
	int64_t pos;

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(mmfs_read(map, buf, 8192, 5000), 5000);
	ck_assert_ok(mmfs_resize(map, 4096));
	ck_assert_int_eq(mmfs_len(map), 4096);
	ck_assert_int_eq(mmfs_tell(map), 5000);

	ck_assert_int_eq(mmfs_read(map, buf, 8192, 14), 0);
	ck_assert_int_eq(mmfs_read(map, buf, 8192, -1), 0);
	ck_assert_int_eq(mmfs_readline(map, buf, 8192), 0);
	ck_assert_err(mmfs_read_byte(map), -EINVAL, "read byte out of range");
	ck_assert_err(mmfs_write_byte(map, 42), -EINVAL,
		      "write byte out of range");
	ck_assert_err(mmfs_write(map, "abc", 3), -EINVAL, "data out of range");
	/* b'' fits at pos == len but not past it. */
	ck_assert_err(mmfs_write(map, "", 0), -EINVAL, "data out of range");
	ck_assert_err(mmfs_seek(map, 0, 1, NULL), -EINVAL,
		      "seek out of range");
	ck_assert_int_eq(mmfs_tell(map), 5000);

	/* Positional I/O does not care about pos. */
	ck_assert_int_eq(mmfs_pwrite(map, "abc", 3, 4093), 3);
	ck_assert_int_eq(mmfs_pread(map, buf, 10, 4090), 6);
	ck_assert_mem_eq(buf, "\0\0\0abc", 6);
	ck_assert_int_eq(mmfs_tell(map), 5000);

	/* seek(-1000, 1) lands inside again; seek(0, 2) resets to len. */
	ck_assert_ok(mmfs_seek(map, -1000, 1, &pos));
	ck_assert_int_eq(pos, 4000);
	ck_assert_err(mmfs_seek(map, 5000, 0, NULL), -EINVAL,
		      "seek out of range");
	ck_assert_ok(mmfs_seek(map, 0, 2, &pos));
	ck_assert_int_eq(pos, 4096);
	mmfs_free(map);
	free(buf);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Edge cases of single methods                                         */

START_TEST(test_readline)
{
	static const char text[] = "ab\ncd";
	struct mmfs_map *map = unit_anon_map(5, MMFS_MAP_SHARED);
	char buf[16];

	ck_assert_int_eq(mmfs_write(map, text, 5), 5);
	ck_assert_ok(mmfs_seek(map, 0, 0, NULL));
	ck_assert_int_eq(mmfs_readline(map, buf, sizeof(buf)), 3);
	ck_assert_mem_eq(buf, "ab\n", 3);
	ck_assert_int_eq(mmfs_readline(map, buf, sizeof(buf)), 2);
	ck_assert_mem_eq(buf, "cd", 2);
	ck_assert_int_eq(mmfs_readline(map, buf, sizeof(buf)), 0);
	ck_assert_int_eq(mmfs_tell(map), 5);

	/* On the newline itself. */
	ck_assert_ok(mmfs_seek(map, 2, 0, NULL));
	ck_assert_int_eq(mmfs_readline(map, buf, sizeof(buf)), 1);
	ck_assert_mem_eq(buf, "\n", 1);
	ck_assert_int_eq(mmfs_tell(map), 3);

	/* The cap cuts the line; the rest comes next. */
	ck_assert_ok(mmfs_seek(map, 0, 0, NULL));
	ck_assert_int_eq(mmfs_readline(map, buf, 1), 1);
	ck_assert_mem_eq(buf, "a", 1);
	ck_assert_int_eq(mmfs_readline(map, buf, 0), 0);
	ck_assert_int_eq(mmfs_tell(map), 1);
	ck_assert_int_eq(mmfs_readline(map, buf, 2), 2);
	ck_assert_mem_eq(buf, "b\n", 2);
	mmfs_free(map);

	/* Empty lines, and a map with no newline at all. */
	map = unit_anon_map(3, MMFS_MAP_SHARED);
	ck_assert_int_eq(mmfs_write(map, "\n\nx", 3), 3);
	ck_assert_ok(mmfs_seek(map, 0, 0, NULL));
	ck_assert_int_eq(mmfs_readline(map, buf, sizeof(buf)), 1);
	ck_assert_int_eq(mmfs_readline(map, buf, sizeof(buf)), 1);
	ck_assert_int_eq(mmfs_readline(map, buf, sizeof(buf)), 1);
	ck_assert_int_eq(buf[0], 'x');
	ck_assert_int_eq(mmfs_readline(map, buf, sizeof(buf)), 0);
	mmfs_free(map);

	map = unit_anon_map(4, MMFS_MAP_SHARED);
	ck_assert_int_eq(mmfs_readline(map, buf, sizeof(buf)), 4);
	ck_assert_mem_eq(buf, "\0\0\0\0", 4);
	mmfs_free(map);
}
END_TEST

START_TEST(test_seek_edges)
{
	struct mmfs_map *map = unit_anon_map(100, MMFS_MAP_SHARED);
	int64_t pos = -7;

	/* whence is checked before the range. */
	ck_assert_err(mmfs_seek(map, 0, 3, &pos), -EINVAL, "unknown seek type");
	ck_assert_err(mmfs_seek(map, -1, 3, &pos), -EINVAL,
		      "unknown seek type");
	ck_assert_err(mmfs_seek(map, 0, -1, &pos), -EINVAL,
		      "unknown seek type");
	ck_assert_int_eq(pos, -7);

	ck_assert_ok(mmfs_seek(map, 100, 0, &pos));
	ck_assert_int_eq(pos, 100);
	ck_assert_ok(mmfs_seek(map, -100, 2, &pos));
	ck_assert_int_eq(pos, 0);
	ck_assert_ok(mmfs_seek(map, 50, 0, NULL));
	ck_assert_ok(mmfs_seek(map, -50, 1, &pos));
	ck_assert_int_eq(pos, 0);
	ck_assert_ok(mmfs_seek(map, 50, 0, NULL));

	/* Overflowing targets are out of range; pos stays. */
	static const struct {
		int64_t off;
		int whence;
	} bad[] = {
		{101, 0},      {-1, 0},       {INT64_MAX, 0}, {INT64_MIN, 0},
		{51, 1},       {-51, 1},      {INT64_MAX, 1}, {INT64_MIN, 1},
		{1, 2},        {-101, 2},     {INT64_MAX, 2}, {INT64_MIN, 2},
		{INT64_MAX - 49, 1},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_err(mmfs_seek(map, bad[i].off, bad[i].whence, &pos),
			      -EINVAL, "seek out of range");
		ck_assert_int_eq(mmfs_tell(map), 50);
	}
	ck_assert_int_eq(pos, 0);
	ck_assert(mmfs_seekable(map));
	ck_assert_ok(mmfs_close(map));
	ck_assert(mmfs_seekable(map));
	ck_assert(mmfs_seekable(NULL));
	ck_assert_err(mmfs_seek(map, 0, 0, NULL), -EBADF,
		      "mmap closed or invalid");
	ck_assert_err(mmfs_seek(map, 0, 3, NULL), -EBADF,
		      "mmap closed or invalid");
	ck_assert_err(mmfs_tell(map), -EBADF, "mmap closed or invalid");
	mmfs_free(map);
}
END_TEST

START_TEST(test_pread_pwrite_bounds)
{
	struct mmfs_map *map = unit_file_map("0123456789", 10, MMFS_ACCESS_WRITE,
					NULL);
	struct mmfs_map *ro = unit_file_map("0123456789", 10, MMFS_ACCESS_READ,
				       NULL);
	char buf[32];

	ck_assert_ok(mmfs_seek(map, 4, 0, NULL));
	memset(buf, '#', sizeof(buf));
	ck_assert_int_eq(mmfs_pread(map, buf, 10, 0), 10);
	ck_assert_mem_eq(buf, "0123456789", 10);
	memset(buf, '#', sizeof(buf));
	ck_assert_int_eq(mmfs_pread(map, buf, 32, 7), 3);
	ck_assert_mem_eq(buf, "789", 3);
	ck_assert_int_eq(buf[3], '#');
	ck_assert_int_eq(mmfs_pread(map, buf, 32, 10), 0);
	ck_assert_int_eq(mmfs_pread(map, buf, 32, 11), 0);
	ck_assert_int_eq(mmfs_pread(map, buf, 32, UINT64_MAX), 0);
	ck_assert_int_eq(mmfs_pread(map, buf, 0, 0), 0);
	ck_assert_int_eq(mmfs_pread(map, buf, SIZE_MAX, 9), 1);
	ck_assert_int_eq(buf[0], '9');

	ck_assert_int_eq(mmfs_pwrite(map, "ab", 2, 8), 2);
	ck_assert_int_eq(mmfs_pwrite(map, "", 0, 10), 0);
	ck_assert_err(mmfs_pwrite(map, "", 0, 11), -EINVAL,
		      "data out of range");
	ck_assert_err(mmfs_pwrite(map, "x", 1, 10), -EINVAL,
		      "data out of range");
	ck_assert_err(mmfs_pwrite(map, "xyz", 3, 8), -EINVAL,
		      "data out of range");
	ck_assert_err(mmfs_pwrite(map, "xyz", 3, UINT64_MAX), -EINVAL,
		      "data out of range");
	ck_assert_err(mmfs_pwrite(map, "xyz", 3, UINT64_MAX - 1), -EINVAL,
		      "data out of range");
	ck_assert_int_eq(mmfs_pwrite(map, "ABCDEFGHIJ", 10, 0), 10);
	ck_assert_int_eq(mmfs_pwrite(map, "z", 1, 0), 1);
	unit_assert_map_eq(map, "zBCDEFGHIJ", 10);
	ck_assert_int_eq(mmfs_tell(map), 4);

	/* Writability before the range. */
	ck_assert_err(mmfs_pwrite(ro, "x", 1, 0), -EACCES, RO_MSG);
	ck_assert_err(mmfs_pwrite(ro, "xyz", 3, 100), -EACCES, RO_MSG);
	ck_assert_int_eq(mmfs_pread(ro, buf, 4, 6), 4);
	ck_assert_mem_eq(buf, "6789", 4);

	ck_assert_ok(mmfs_close(map));
	ck_assert_err(mmfs_pread(map, buf, 1, 0), -EBADF,
		      "mmap closed or invalid");
	ck_assert_err(mmfs_pwrite(map, "x", 1, 0), -EBADF,
		      "mmap closed or invalid");
	mmfs_free(map);
	mmfs_free(ro);
}
END_TEST

/*
 * The data path survives a backing file truncated behind the map: every
 * call that touches the vanished pages reports -EIO or a short count
 * instead of dying of SIGBUS.
 */
START_TEST(test_truncated_file_faults)
{
	size_t ps = unit_pagesize();
	size_t len = 3 * ps;
	unsigned char *buf = malloc(len);
	struct mmfs_map *map;
	uint64_t faults = mmfs_fault_count();
	int fd;

	ck_assert_ptr_nonnull(buf);
	fd = unit_tmpfile_fill('q', len);
	ck_assert_ok(mmfs_open(&map, fd, (int64_t)len, MMFS_MAP_SHARED, RW,
			       MMFS_ACCESS_DEFAULT, 0, 0));
	ck_assert_int_eq(ftruncate(fd, (off_t)ps), 0);

	/* Byte counts: the first page still answers. */
	ck_assert_int_eq(mmfs_pread(map, buf, len, 0), (ssize_t)ps);
	ck_assert(unit_all(buf, 'q', ps));
	ck_assert_int_eq(mmfs_read(map, buf, len, -1), (ssize_t)ps);
	ck_assert_int_eq(mmfs_tell(map), (int64_t)ps);
	ck_assert_int_eq(mmfs_read(map, buf, len, -1), -EIO);
	ck_assert_int_eq(mmfs_tell(map), (int64_t)ps);
	ck_assert_int_eq(mmfs_pwrite(map, buf, 2 * ps, 0), (ssize_t)ps);
	ck_assert_int_eq(mmfs_write(map, "x", 1), -EIO);
	ck_assert_int_eq(mmfs_tell(map), (int64_t)ps);

	/* All-or-nothing calls. */
	ck_assert_int_eq(mmfs_read_byte(map), -EIO);
	ck_assert_int_eq(mmfs_write_byte(map, 1), -EIO);
	ck_assert_int_eq(mmfs_readline(map, buf, len), -EIO);
	ck_assert_int_eq(mmfs_tell(map), (int64_t)ps);
	ck_assert_int_eq(mmfs_getitem(map, (int64_t)ps), -EIO);
	ck_assert_int_eq(mmfs_setitem(map, -1, 1), -EIO);
	ck_assert_int_eq(mmfs_getslice(map, 0, MMFS_NONE, 7, buf, len), -EIO);
	ck_assert_int_eq(mmfs_getslice(map, MMFS_NONE, MMFS_NONE, MMFS_NONE,
				       buf, len),
			 -EIO);
	ck_assert_int_eq(mmfs_setslice(map, -2, MMFS_NONE, MMFS_NONE, "ab",
				       2),
			 -EIO);
	ck_assert_int_eq(mmfs_setslice(map, MMFS_NONE, MMFS_NONE, -(int64_t)ps,
				       "abc", 3),
			 -EIO);
	ck_assert_int_eq(mmfs_move(map, 0, (int64_t)ps, 10), -EIO);
	ck_assert_str_ne(mmfs_errmsg(), "");

	/* The first page is intact and still works. */
	ck_assert_int_eq(mmfs_getitem(map, 0), 'q');
	ck_assert_int_eq(mmfs_getslice(map, 0, (int64_t)ps, 3, buf, len),
			 (ssize_t)((ps + 2) / 3));
	ck_assert(unit_all(buf, 'q', (ps + 2) / 3));
	ck_assert_int_gt(mmfs_fault_count(), faults);
	mmfs_free(map);
	close(fd);
	free(buf);
}
END_TEST

static Suite *io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *tc = tcase_create("io");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_row1_basic);
	tcase_add_test(tc, test_row2_access_parameter);
	tcase_add_test(tc, test_row12_entire_file);
	tcase_add_test(tc, test_row15_move);
	tcase_add_test(tc, test_row17_read_all);
	tcase_add_test(tc, test_row24_prot_readonly);
	tcase_add_test(tc, test_row26_io_methods);
	tcase_add_test(tc, test_row27_non_ascii_byte);
	tcase_add_test(tc, test_row35_write_returning_count);
	tcase_add_test(tc, test_row36_resize_past_pos);
	tcase_add_test(tc, test_readline);
	tcase_add_test(tc, test_seek_edges);
	tcase_add_test(tc, test_pread_pwrite_bounds);
	tcase_add_test(tc, test_truncated_file_faults);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(io_suite)
