/* check_map.c - map.c: open (reference §3), access resolution, anonymous
 * maps, close, size, pinning and slice normalisation (resize: check_resize.c).
 * Test names carry the row of reference/test_mmap-cases.md they mirror. */
#include "unit.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define RW (PROT_READ | PROT_WRITE)


/* mmfs_open must fail with err and msg, leave *mapp NULL and leak no fd. */
static void open_fails(int fd, int64_t length, int flags, int prot,
		       int access, int64_t offset, unsigned int opts, int err,
		       const char *msg)
{
	struct mmfs_map *map = (struct mmfs_map *)&map;
	int probe = dup(0);

	ck_assert_int_ge(probe, 0);
	close(probe);
	ck_assert_err(mmfs_open(&map, fd, length, flags, prot, access,
				offset, opts),
		      err, msg);
	ck_assert_ptr_null(map);
	ck_assert_int_eq(dup(0), probe);
	close(probe);
}

static void open_fails_os(int fd, int64_t length, int flags, int prot,
			  int access, int64_t offset, int err)
{
	open_fails(fd, length, flags, prot, access, offset, 0, err,
		   strerror(-err));
}

/* ---- open: validation order and messages (§3.2) ---- */

START_TEST(test_open_negative_length)
{
	int fd = unit_tmpfile_fill('a', 10);

	open_fails(fd, -1, MAP_SHARED, RW, 0, 0, 0, -EOVERFLOW,
		   "memory mapped length must be positive");
	/* length is checked before offset and everything after */
	open_fails(fd, -1, MAP_PRIVATE, PROT_READ, 9, -1, 0, -EOVERFLOW,
		   "memory mapped length must be positive");
	close(fd);
}
END_TEST

/* row 22: negative offsets */
START_TEST(test_row22_open_negative_offset)
{
	int fd = unit_tmpfile_fill('a', 10);

	open_fails(fd, 0, MAP_SHARED, RW, 0, -1, 0, -EOVERFLOW,
		   "memory mapped offset must be positive");
	open_fails(fd, 0, MAP_SHARED, RW, 0, -2, 0, -EOVERFLOW,
		   "memory mapped offset must be positive");
	open_fails(fd, 0, MAP_PRIVATE, PROT_READ, 9, INT64_MIN, 0, -EOVERFLOW,
		   "memory mapped offset must be positive");
	close(fd);
}
END_TEST

/* row 2: access together with flags or prot */
START_TEST(test_row2_open_access_and_flags)
{
	const char *both = "mmap can't specify both access and flags, prot.";
	int fd = unit_tmpfile_fill('a', 10);
	struct mmfs_map *map;

	open_fails(fd, 0, MAP_PRIVATE, PROT_READ, MMFS_ACCESS_WRITE, 0, 0,
		   -EINVAL, both);
	open_fails(fd, 0, MAP_SHARED, PROT_READ, MMFS_ACCESS_READ, 0, 0,
		   -EINVAL, both);
	open_fails(fd, 0, MAP_PRIVATE, RW, MMFS_ACCESS_COPY, 0, 0, -EINVAL,
		   both);
	open_fails(fd, 0, MAP_SHARED | MAP_POPULATE, RW, MMFS_ACCESS_READ, 0,
		   0, -EINVAL, both);
	/* "both" is checked before the access value itself */
	open_fails(fd, 0, MAP_PRIVATE, RW, 9, 0, 0, -EINVAL, both);
	/* the default flags and prot given explicitly are fine */
	map = unit_open_ok(fd, 0, MAP_SHARED, RW, MMFS_ACCESS_READ, 0, 0);
	ck_assert_int_eq(mmfs_access(map), MMFS_ACCESS_READ);
	mmfs_free(map);
	close(fd);
}
END_TEST

START_TEST(test_row2_open_invalid_access)
{
	const char *msg = "mmap invalid access parameter.";
	int fd = unit_tmpfile(NULL, 0);

	open_fails(fd, 0, MAP_SHARED, RW, 4, 0, 0, -EINVAL, msg);
	open_fails(fd, 0, MAP_SHARED, RW, -1, 0, 0, -EINVAL, msg);
	/* before the file is looked at: an empty file is not reported */
	open_fails(fd, 0, MAP_SHARED, RW, 100, 0, 0, -EINVAL, msg);
	open_fails(-1, 0, MAP_SHARED, RW, 4, 0, 0, -EINVAL, msg);
	close(fd);
}
END_TEST

/* row 21 */
START_TEST(test_row21_empty_file)
{
	int fd = unit_tmpfile(NULL, 0);

	open_fails(fd, 0, MAP_SHARED, RW, MMFS_ACCESS_READ, 0, 0, -EINVAL,
		   "cannot mmap an empty file");
	open_fails(fd, 0, MAP_SHARED, RW, 0, 0, 0, -EINVAL,
		   "cannot mmap an empty file");
	/* a length on an empty file is a length error */
	open_fails(fd, 5, MAP_SHARED, RW, 0, 0, 0, -EINVAL,
		   "mmap length is greater than file size");
	close(fd);
}
END_TEST

/* row 14, and offset == size */
START_TEST(test_row14_length_0_large_offset)
{
	const char *msg = "mmap offset is greater than file size";
	int fd = unit_tmpfile_fill('x', 115699);
	int fd2 = unit_tmpfile_fill('y', 4096);

	open_fails(fd, 0, MAP_SHARED, RW, 0, 2147418112, 0, -EINVAL, msg);
	open_fails(fd2, 0, MAP_SHARED, RW, 0, 4096, 0, -EINVAL, msg);
	open_fails(fd2, 0, MAP_SHARED, RW, MMFS_ACCESS_READ, 8192, 0, -EINVAL,
		   msg);
	close(fd);
	close(fd2);
}
END_TEST

/* row 2 (Unix): a length past the end never extends the file */
START_TEST(test_row2_length_greater_than_file)
{
	const char *msg = "mmap length is greater than file size";
	int fd = unit_tmpfile_fill('a', 10);
	int fd2 = unit_tmpfile_fill('b', 8192);

	open_fails(fd, 11, MAP_SHARED, RW, MMFS_ACCESS_READ, 0, 0, -EINVAL,
		   msg);
	open_fails(fd2, 4097, MAP_SHARED, RW, 0, 4096, 0, -EINVAL, msg);
	open_fails(fd2, 1, MAP_SHARED, RW, 0, 12288, 0, -EINVAL, msg);
	open_fails(fd2, INT64_MAX, MAP_SHARED, RW, 0, 4096, 0, -EINVAL, msg);
	ck_assert_int_eq(unit_file_size(fd), 10);
	close(fd);
	close(fd2);
}
END_TEST

/* row 6 */
START_TEST(test_row6_bad_file_desc)
{
	int fd = unit_tmpfile_fill('a', 4096);

	open_fails_os(-2, 4096, MAP_SHARED, RW, 0, 0, -EBADF);
	close(fd);
	open_fails_os(fd, 4096, MAP_SHARED, RW, 0, 0, -EBADF);
	/* trackfd=False: no dup, mmap itself reports the descriptor */
	open_fails(-2, 4096, MAP_SHARED, RW, 0, 0, MMFS_OPEN_NOTRACKFD,
		   -EBADF, strerror(EBADF));
}
END_TEST

START_TEST(test_open_kernel_errors)
{
	size_t ps = unit_pagesize();
	int fd = unit_tmpfile_fill('a', 3 * ps);
	int dirfd, pfd[2];
	char path[64];

	/* no alignment check of our own: the kernel's EINVAL */
	open_fails_os(fd, 10, MAP_SHARED, RW, 0, 1, -EINVAL);
	open_fails_os(fd, 10, MAP_SHARED, RW, 0, (int64_t)ps + 1, -EINVAL);
	/* neither shared nor private */
	open_fails_os(fd, 10, 0, RW, 0, 0, -EINVAL);

	/* the descriptor's mode decides */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	{
		int ro = open(path, O_RDONLY);
		int wo = open(path, O_WRONLY);
		struct mmfs_map *map;

		ck_assert_int_ge(ro, 0);
		ck_assert_int_ge(wo, 0);
		open_fails_os(ro, 0, MAP_SHARED, RW, 0, 0, -EACCES);
		open_fails_os(wo, 0, MAP_SHARED, RW, MMFS_ACCESS_READ, 0,
			      -EACCES);
		map = unit_open_ok(ro, 0, MAP_SHARED, RW, MMFS_ACCESS_READ, 0, 0);
		mmfs_free(map);
		map = unit_open_ok(ro, 0, MAP_SHARED, RW, MMFS_ACCESS_COPY, 0, 0);
		mmfs_free(map);
		map = unit_open_ok(ro, 0, MAP_PRIVATE, RW, 0, 0, 0);
		ck_assert_int_eq(mmfs_access(map), MMFS_ACCESS_DEFAULT);
		mmfs_free(map);
		close(ro);
		close(wo);
	}

	/* not regular files: no size checks, the kernel decides */
	dirfd = open("/", O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dirfd, 0);
	open_fails_os(dirfd, 4096, MAP_SHARED, PROT_READ, 0, 0, -ENODEV);
	close(dirfd);
	/* a pipe: EACCES on older kernels, ENODEV on newer ones */
	ck_assert_int_eq(pipe(pfd), 0);
	{
		struct mmfs_map *map = NULL;
		int r = mmfs_open(&map, pfd[0], 4096, MAP_SHARED, PROT_READ, 0,
				  0, 0);

		ck_assert_msg(r == -EACCES || r == -ENODEV, "pipe: %d", r);
		ck_assert_str_eq(mmfs_errmsg(), strerror(-r));
		ck_assert_ptr_null(map);
	}
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
}
END_TEST

START_TEST(test_open_char_device)
{
	int fd = open("/dev/zero", O_RDWR);
	struct mmfs_map *map;
	unsigned char *data;
	size_t len;
	int64_t size = -1;

	ck_assert_int_ge(fd, 0);
	/* length 0 is not "the rest of the file" here: mmap says EINVAL */
	open_fails_os(fd, 0, MAP_SHARED, RW, 0, 0, -EINVAL);
	map = unit_open_ok(fd, 8192, MAP_PRIVATE, RW, 0, 0, 0);
	data = unit_data(map, &len);
	ck_assert_uint_eq(len, 8192);
	ck_assert(unit_all(data, 0, len));
	ck_assert_ok(mmfs_size(map, &size));
	ck_assert_int_eq(size, 0);
	ck_assert(!map->anonymous);
	mmfs_free(map);
	close(fd);
}
END_TEST

/* ---- access resolution (§3.3) ---- */

static const struct access_case {
	int access, flags, prot;
	int want_access, want_flags, want_prot;
} access_cases[] = {
	{MMFS_ACCESS_READ, MAP_SHARED, RW, MMFS_ACCESS_READ, MAP_SHARED,
	 PROT_READ},
	{MMFS_ACCESS_WRITE, MAP_SHARED, RW, MMFS_ACCESS_WRITE, MAP_SHARED, RW},
	{MMFS_ACCESS_COPY, MAP_SHARED, RW, MMFS_ACCESS_COPY, MAP_PRIVATE, RW},
	{0, MAP_SHARED, RW, MMFS_ACCESS_DEFAULT, MAP_SHARED, RW},
	{0, MAP_PRIVATE, RW, MMFS_ACCESS_DEFAULT, MAP_PRIVATE, RW},
	{0, MAP_SHARED, PROT_WRITE, MMFS_ACCESS_WRITE, MAP_SHARED, PROT_WRITE},
	{0, MAP_SHARED, PROT_READ, MMFS_ACCESS_READ, MAP_SHARED, PROT_READ},
	{0, MAP_PRIVATE, PROT_READ, MMFS_ACCESS_READ, MAP_PRIVATE, PROT_READ},
	{0, MAP_SHARED, 0, MMFS_ACCESS_READ, MAP_SHARED, 0},
	{0, MAP_SHARED, PROT_READ | PROT_EXEC, MMFS_ACCESS_READ, MAP_SHARED,
	 PROT_READ | PROT_EXEC},
};

START_TEST(test_access_resolution)
{
	const struct access_case *c = &access_cases[_i];
	int fd = unit_tmpfile_fill('a', 100);
	struct mmfs_map *map = unit_open_ok(fd, 0, c->flags, c->prot, c->access, 0,
				       0);
	bool ro = c->want_access == MMFS_ACCESS_READ;
	bool fixed = ro || c->want_access == MMFS_ACCESS_COPY;

	ck_assert_int_eq(mmfs_access(map), c->want_access);
	ck_assert_int_eq(mmfs_flags(map), c->want_flags);
	ck_assert_int_eq(mmfs_prot(map), c->want_prot);
	ck_assert_uint_eq(mmfs_len(map), 100);
	if (ro)
		ck_assert_err(mmfs_check_writable(map), -EACCES,
			      "mmap can't modify a readonly memory map.");
	else
		ck_assert_int_eq(mmfs_check_writable(map), 0);
	if (fixed)
		ck_assert_err(mmfs_resize(map, 200), -EPERM,
			      "mmap can't resize a readonly or copy-on-write "
			      "memory map.");
	else
		ck_assert_int_eq(mmfs_check_resizeable(map), 0);
	ck_assert_int_eq(unit_file_size(fd), 100);
	mmfs_free(map);
	close(fd);
}
END_TEST

/* row 2: what each mode does to the file */
START_TEST(test_row2_access_effects)
{
	int fd = unit_tmpfile_fill('a', 10);
	struct mmfs_map *map;
	unsigned char *data, *file;
	size_t len;

	map = unit_open_ok(fd, 10, MAP_SHARED, RW, MMFS_ACCESS_READ, 0, 0);
	data = unit_data(map, &len);
	ck_assert(unit_all(data, 'a', 10));
	mmfs_free(map);

	map = unit_open_ok(fd, 10, MAP_SHARED, RW, MMFS_ACCESS_WRITE, 0, 0);
	data = unit_data(map, NULL);
	memset(data, 'c', 10);
	ck_assert_ok(mmfs_flush(map, 0, 10));
	mmfs_free(map);
	file = unit_read_file(fd, &len);
	ck_assert_uint_eq(len, 10);
	ck_assert(unit_all(file, 'c', 10));
	free(file);

	map = unit_open_ok(fd, 10, MAP_SHARED, RW, MMFS_ACCESS_COPY, 0, 0);
	data = unit_data(map, NULL);
	memset(data, 'd', 10);
	ck_assert_ok(mmfs_flush(map, 0, 10));
	ck_assert(unit_all(data, 'd', 10));
	file = unit_read_file(fd, &len);
	ck_assert(unit_all(file, 'c', 10));
	free(file);
	ck_assert_err(mmfs_resize(map, 20), -EPERM,
		      "mmap can't resize a readonly or copy-on-write memory "
		      "map.");
	mmfs_free(map);
	close(fd);
}
END_TEST

/* ---- anonymous maps (§3.4) ---- */

/* row 16 */
START_TEST(test_row16_anonymous)
{
	size_t ps = unit_pagesize();
	struct mmfs_map *map = unit_open_ok(-1, (int64_t)ps, MAP_SHARED, RW, 0, 0,
				       0);
	unsigned char *data;
	size_t len;
	int64_t size = 0;

	data = unit_data(map, &len);
	ck_assert_uint_eq(len, ps);
	ck_assert(unit_all(data, 0, ps));
	for (size_t i = 0; i < ps; i++)
		data[i] = (unsigned char)(i & 0xff);
	for (size_t i = 0; i < ps; i++)
		ck_assert_uint_eq(data[i], i & 0xff);
	ck_assert(map->anonymous);
	ck_assert_int_eq(mmfs_flags(map), MAP_SHARED | MAP_ANONYMOUS);
	ck_assert_int_eq(mmfs_access(map), MMFS_ACCESS_DEFAULT);
	/* the memfd behind a shared anonymous map */
	ck_assert_int_ge(mmfs_fd(map), 0);
	ck_assert_int_eq(unit_file_size(mmfs_fd(map)), (int64_t)ps);
	/* size() of an anonymous map is its length (3.15) */
	ck_assert_ok(mmfs_size(map, &size));
	ck_assert_int_eq(size, (int64_t)ps);
	mmfs_free(map);

	map = unit_open_ok(-1, 100, MAP_PRIVATE, RW, 0, 0, 0);
	ck_assert_int_eq(mmfs_fd(map), -1);
	ck_assert_int_eq(mmfs_flags(map), MAP_PRIVATE | MAP_ANONYMOUS);
	data = unit_data(map, &len);
	ck_assert_uint_eq(len, 100);
	ck_assert(unit_all(data, 0, 100));
	ck_assert_ok(mmfs_size(map, &size));
	ck_assert_int_eq(size, 100);
	mmfs_free(map);
}
END_TEST

START_TEST(test_anonymous_errors_and_offset)
{
	size_t ps = unit_pagesize();
	struct mmfs_map *map;

	open_fails_os(-1, 0, MAP_SHARED, RW, 0, 0, -EINVAL);
	open_fails_os(-1, 0, MAP_PRIVATE, RW, 0, 0, -EINVAL);
	open_fails_os(-1, 10, MAP_SHARED, RW, 0, 1, -EINVAL);
	open_fails_os(-1, 10, MAP_PRIVATE, RW, 0, 1, -EINVAL);
	/* MAP_SHARED | MAP_PRIVATE is MAP_SHARED_VALIDATE, which the kernel
	 * takes for a file but refuses for an anonymous map (Python passes
	 * flags unchecked); the engine's memfd must not make it a file */
	open_fails_os(-1, 10, MAP_SHARED | MAP_PRIVATE, RW, 0, 0, -EINVAL);
	/* an aligned offset is accepted and merely reported */
	map = unit_open_ok(-1, 10, MAP_SHARED, RW, 0, (int64_t)ps, 0);
	ck_assert_int_eq(mmfs_offset(map), (int64_t)ps);
	ck_assert(unit_all(unit_data(map, NULL), 0, 10));
	mmfs_free(map);
	map = unit_open_ok(-1, 10, MAP_PRIVATE, RW, MMFS_ACCESS_DEFAULT,
		      (int64_t)ps, 0);
	ck_assert_int_eq(mmfs_offset(map), (int64_t)ps);
	mmfs_free(map);
}
END_TEST

static void write_marker(void *arg)
{
	struct unit_child_arg *a = arg;

	memcpy(a->data + a->off, "child", 5);
}

/* The doc example: a shared anonymous map is shared with a forked child. */
START_TEST(test_anonymous_shared_with_child)
{
	size_t ps = unit_pagesize();
	struct mmfs_map *map = unit_open_ok(-1, (int64_t)ps, MAP_SHARED, RW, 0, 0,
				       0);
	struct mmfs_map *priv = unit_open_ok(-1, (int64_t)ps, MAP_PRIVATE, RW, 0,
					0, 0);
	struct unit_child_arg a = {map, unit_data(map, NULL), 10};
	struct unit_child_arg b = {priv, unit_data(priv, NULL), 10};

	ck_assert_exited_ok(unit_fork(write_marker, &a));
	ck_assert_mem_eq(a.data + 10, "child", 5);
	ck_assert_exited_ok(unit_fork(write_marker, &b));
	ck_assert(unit_all(b.data, 0, ps));
	mmfs_free(a.map);
	mmfs_free(b.map);
}
END_TEST

/* ---- close, closed, free (§4) ---- */

/* row 11 */
START_TEST(test_row11_double_close)
{
	int fd = unit_tmpfile_fill('a', 65536);
	struct mmfs_map *map = unit_open_ok(fd, 65536, MAP_SHARED, RW,
				       MMFS_ACCESS_READ, 0, 0);
	int own = mmfs_fd(map);
	int64_t size;

	ck_assert_int_ge(own, 0);
	ck_assert_int_ne(own, fd);
	ck_assert_int_eq(mmfs_close(map), 0);
	ck_assert(mmfs_closed(map));
	ck_assert_int_eq(mmfs_close(map), 0);
	ck_assert(mmfs_closed(map));
	/* our dup is gone, the caller's fd is not */
	ck_assert_int_eq(mmfs_fd(map), -1);
	ck_assert_int_eq(fcntl(own, F_GETFD), -1);
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
	/* the validity check of every method */
	ck_assert_err(mmfs_len(map), -EBADF, "mmap closed or invalid");
	ck_assert_err(mmfs_size(map, &size), -EBADF, "mmap closed or invalid");
	ck_assert_err(mmfs_resize(map, 10), -EBADF, "mmap closed or invalid");
	ck_assert_err(mmfs_pin(map, NULL, NULL), -EBADF,
		      "mmap closed or invalid");
	ck_assert_err(mmfs_sync_length(map), -EBADF, "mmap closed or invalid");
	ck_assert_err(mmfs_len(NULL), -EBADF, "mmap closed or invalid");
	ck_assert(mmfs_closed(NULL));
	ck_assert_int_eq(mmfs_close(NULL), 0);
	mmfs_free(map);
	mmfs_free(NULL);
	close(fd);
}
END_TEST

START_TEST(test_close_keeps_data_in_file)
{
	int fd = unit_tmpfile_fill('a', 4096);
	struct mmfs_map *map = unit_open_ok(fd, 0, MAP_SHARED, RW, 0, 0, 0);
	unsigned char *file;
	size_t len;

	memcpy(unit_data(map, NULL) + 100, "written", 7);
	ck_assert_ok(mmfs_close(map));
	file = unit_read_file(fd, &len);
	ck_assert_uint_eq(len, 4096);
	ck_assert_mem_eq(file + 100, "written", 7);
	free(file);
	mmfs_free(map);
	close(fd);
}
END_TEST

/* ---- whole files and offsets ---- */

/* row 12 */
START_TEST(test_row12_entire_file)
{
	int fd = unit_tmpfile_fill('m', 65536);
	struct mmfs_map *map = unit_open_ok(fd, 0, MAP_SHARED, RW, 0, 0, 0);
	size_t len;
	unsigned char *data = unit_data(map, &len);

	ck_assert_int_eq(mmfs_len(map), 65536);
	ck_assert_uint_eq(len, 65536);
	ck_assert(unit_all(data, 'm', 65536));
	mmfs_free(map);
	close(fd);
}
END_TEST

/* row 13 */
START_TEST(test_row13_length_0_offset)
{
	unsigned char *buf = malloc(131072);
	int fd;
	struct mmfs_map *map;
	unsigned char *data;

	for (size_t i = 0; i < 131072; i++)
		buf[i] = (unsigned char)(i / 4096);
	fd = unit_tmpfile(buf, 131072);
	map = unit_open_ok(fd, 0, MAP_SHARED, RW, MMFS_ACCESS_READ, 65536, 0);
	ck_assert_int_eq(mmfs_len(map), 65536);
	ck_assert_int_eq(mmfs_offset(map), 65536);
	data = unit_data(map, NULL);
	ck_assert_mem_eq(data, buf + 65536, 65536);
	mmfs_free(map);
	free(buf);
	close(fd);
}
END_TEST

/* row 22: offset map, then resize: the file becomes offset + newsize */
START_TEST(test_row22_offset)
{
	size_t ag = mmfs_allocation_granularity();
	unsigned char *buf = calloc(1, 2 * ag);
	struct mmfs_map *map;
	unsigned char *data;
	int64_t size = 0;
	int fd;

	ck_assert_uint_eq(ag, unit_pagesize());
	memcpy(buf + ag, "foo", 3);
	fd = unit_tmpfile(buf, 2 * ag);
	map = unit_open_ok(fd, (int64_t)ag, MAP_SHARED, RW, 0, (int64_t)ag, 0);
	ck_assert_mem_eq(unit_data(map, NULL), "foo", 3);
	ck_assert_ok(mmfs_size(map, &size));
	ck_assert_int_eq(size, (int64_t)(2 * ag));
	ck_assert_ok(mmfs_resize(map, 512));
	ck_assert_int_eq(mmfs_len(map), 512);
	data = unit_data(map, NULL);
	ck_assert_mem_eq(data, "foo", 3);
	ck_assert_int_eq(unit_file_size(fd), (int64_t)ag + 512);
	ck_assert_ok(mmfs_size(map, &size));
	ck_assert_int_eq(size, (int64_t)ag + 512);
	mmfs_free(map);
	free(buf);
	close(fd);
}
END_TEST

/* ---- trackfd (rows 3, 4) ---- */

static void row3_trackfd(bool close_caller)
{
	int keep = unit_tmpfile_fill('a', 64);
	int fd = dup(keep);
	struct mmfs_map *map;
	unsigned char *data, *file;
	int64_t size;
	size_t len;

	map = unit_open_ok(fd, 64, MAP_SHARED, RW, 0, 0, MMFS_OPEN_NOTRACKFD);
	if (close_caller)
		close(fd);
	ck_assert_int_eq(mmfs_len(map), 64);
	ck_assert_int_eq(mmfs_fd(map), -1);
	ck_assert_err(mmfs_size(map, &size), -EBADF, strerror(EBADF));
	ck_assert_err(mmfs_resize(map, 128), -EINVAL,
		      "mmap can't resize with trackfd=False.");
	ck_assert_err(mmfs_resize(map, 32), -EINVAL,
		      "mmap can't resize with trackfd=False.");
	ck_assert(!mmfs_closed(map));
	data = unit_data(map, NULL);
	data[0] = 'X';
	data[2] = 'Y';
	ck_assert_ok(mmfs_flush(map, 0, 64));
	ck_assert_ok(mmfs_close(map));
	ck_assert(mmfs_closed(map));
	file = unit_read_file(keep, &len);
	ck_assert_uint_eq(len, 64);
	ck_assert_mem_eq(file, "XaYa", 4);
	free(file);
	if (!close_caller)
		ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
	mmfs_free(map);
	if (!close_caller)
		close(fd);
	close(keep);
}

START_TEST(test_row3_trackfd_parameter)
{
	row3_trackfd(false);
	row3_trackfd(true);
}
END_TEST

/* MMFS_OPEN_BORROWFD: the map tracks the caller's fd (no duplicate),
 * resizes through it and leaves it open when closed. */
START_TEST(test_borrowfd)
{
	int fd = unit_tmpfile_fill('b', 64);
	int next = dup(fd), after;
	struct mmfs_map *map;
	unsigned char *file;
	int64_t size;
	size_t len;

	close(next); /* the lowest free descriptor number */
	map = unit_open_ok(fd, 0, MAP_SHARED, RW, 0, 0, MMFS_OPEN_BORROWFD);
	ck_assert_int_eq(mmfs_fd(map), fd);
	after = dup(fd); /* no descriptor was taken by the map */
	ck_assert_int_eq(after, next);
	close(after);
	ck_assert_ok(mmfs_size(map, &size));
	ck_assert_int_eq(size, 64);
	ck_assert_ok(mmfs_resize(map, 128));
	ck_assert_int_eq(mmfs_len(map), 128);
	unit_data(map, NULL)[100] = 'Z';
	ck_assert_ok(mmfs_close(map));
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0); /* still ours */
	file = unit_read_file(fd, &len);
	ck_assert_uint_eq(len, 128);
	ck_assert_uint_eq(file[63], 'b');
	ck_assert_uint_eq(file[64], 0);
	ck_assert_uint_eq(file[100], 'Z');
	free(file);
	mmfs_free(map);
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);

	/* with NOTRACKFD nothing is tracked at all */
	map = unit_open_ok(fd, 64, MAP_SHARED, RW, 0, 0,
			   MMFS_OPEN_NOTRACKFD | MMFS_OPEN_BORROWFD);
	ck_assert_int_eq(mmfs_fd(map), -1);
	ck_assert_err(mmfs_resize(map, 32), -EINVAL,
		      "mmap can't resize with trackfd=False.");
	mmfs_free(map);
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
	close(fd);
}
END_TEST

START_TEST(test_row4_trackfd_neg1)
{
	struct mmfs_map *map = unit_open_ok(-1, 64, MAP_SHARED, RW, 0, 0,
				       MMFS_OPEN_NOTRACKFD);
	unsigned char *data;
	int64_t size;

	ck_assert_err(mmfs_size(map, &size), -EBADF, strerror(EBADF));
	ck_assert_err(mmfs_resize(map, 32), -EINVAL,
		      "mmap can't resize with trackfd=False.");
	ck_assert_int_eq(mmfs_len(map), 64);
	data = unit_data(map, NULL);
	data[1] = 'x';
	ck_assert_uint_eq(data[1], 'x');
	ck_assert_int_eq(mmfs_fd(map), -1);
	mmfs_free(map);
}
END_TEST

/* ---- size() ---- */

START_TEST(test_size_reflects_outside_changes)
{
	size_t ps = unit_pagesize();
	int fd = unit_tmpfile_fill('s', 3 * ps);
	struct mmfs_map *map = unit_open_ok(fd, (int64_t)ps, MAP_SHARED, RW, 0,
				       (int64_t)ps, 0);
	struct mmfs_map *small;
	int64_t size = 0;

	ck_assert_int_eq(mmfs_len(map), (int64_t)ps);
	ck_assert_ok(mmfs_size(map, &size));
	ck_assert_int_eq(size, (int64_t)(3 * ps));
	/* the dup keeps working after the caller's fd is gone */
	small = unit_open_ok(fd, 10, MAP_SHARED, RW, 0, 0, 0);
	ck_assert_int_eq(ftruncate(fd, 20), 0);
	close(fd);
	ck_assert_ok(mmfs_size(small, &size));
	ck_assert_int_eq(size, 20);
	ck_assert_ok(mmfs_size(map, &size));
	ck_assert_int_eq(size, 20);
	mmfs_free(small);
	mmfs_free(map);
}
END_TEST

/* ---- pins ---- */

START_TEST(test_pin_blocks_close_and_resize)
{
	int fd = unit_tmpfile_fill('p', 100);
	struct mmfs_map *map = unit_open_ok(fd, 0, MAP_SHARED, RW, 0, 0, 0);
	struct mmfs_map *ro = unit_open_ok(fd, 0, MAP_SHARED, RW, MMFS_ACCESS_READ,
				      0, 0);
	void *data = NULL;
	size_t len = 0;

	ck_assert_ok(mmfs_pin(map, &data, &len));
	ck_assert_ptr_nonnull(data);
	ck_assert_uint_eq(len, 100);
	ck_assert_ok(mmfs_pin(map, NULL, NULL));
	ck_assert_err(mmfs_close(map), -EBUSY,
		      "cannot close exported pointers exist");
	ck_assert(!mmfs_closed(map));
	ck_assert_err(mmfs_resize(map, 200), -EBUSY,
		      "mmap can't resize with extant buffers exported.");
	/* exports are checked first, before range and access */
	ck_assert_err(mmfs_resize(map, -1), -EBUSY,
		      "mmap can't resize with extant buffers exported.");
	ck_assert_ok(mmfs_pin(ro, NULL, NULL));
	ck_assert_err(mmfs_resize(ro, 10), -EBUSY,
		      "mmap can't resize with extant buffers exported.");
	mmfs_unpin(ro);
	ck_assert_int_eq(unit_file_size(fd), 100);
	/* the pointer stays valid and coherent while pinned */
	ck_assert(unit_all(data, 'p', 100));
	mmfs_unpin(map);
	ck_assert_err(mmfs_close(map), -EBUSY,
		      "cannot close exported pointers exist");
	mmfs_unpin(map);
	mmfs_unpin(map); /* one too many: harmless */
	ck_assert_uint_eq(map->exports, 0);
	ck_assert_ok(mmfs_resize(map, 200));
	ck_assert_ok(mmfs_close(map));
	mmfs_free(map);
	/* mmfs_free does not care about pins */
	ck_assert_ok(mmfs_pin(ro, NULL, NULL));
	mmfs_free(ro);
	close(fd);
}
END_TEST

#define N MMFS_NONE
static const struct slice_case {
	size_t len;
	int64_t start, stop, step;
	int64_t want_start, want_stop, want_step;
	size_t want_len;
} slice_cases[] = {
	/* values from Python's slice(a, b, c).indices(n) and len(range) */
	{10, N, N, N, 0, 10, 1, 10},
	{10, N, N, -1, 9, -1, -1, 10},
	{10, 2, 8, 3, 2, 8, 3, 2},
	{10, -3, N, N, 7, 10, 1, 3},
	{10, -300, 300, N, 0, 10, 1, 10},
	{10, 300, -300, -1, 9, -1, -1, 10},
	{10, 5, 2, N, 5, 2, 1, 0},
	{10, N, N, INT64_MAX, 0, 10, INT64_MAX, 1},
	{10, 8, 1, -3, 8, 1, -3, 3},
	{10, N, N, -INT64_MAX, 9, -1, -INT64_MAX, 1},
	{10, -INT64_MAX, N, N, 0, 10, 1, 10},
	{10, -INT64_MAX, N, -1, -1, -1, -1, 0},
	{10, INT64_MAX, N, -2, 9, -1, -2, 5},
	{10, 3, -INT64_MAX, -1, 3, -1, -1, 4},
	{0, N, N, N, 0, 0, 1, 0},
	{0, N, N, -1, -1, -1, -1, 0},
	{0, 5, N, -1, -1, -1, -1, 0},
};
#undef N

START_TEST(test_slice_adjust)
{
	const struct slice_case *c = &slice_cases[_i];
	int64_t start = c->start, stop = c->stop, step = c->step;
	size_t len = 12345;

	ck_assert_ok(mmfs_slice_adjust(c->len, &start, &stop, &step, &len));
	ck_assert_int_eq(start, c->want_start);
	ck_assert_int_eq(stop, c->want_stop);
	ck_assert_int_eq(step, c->want_step);
	ck_assert_uint_eq(len, c->want_len);
}
END_TEST

START_TEST(test_slice_step_zero)
{
	int64_t start = 0, stop = 5, step = 0;
	size_t len;

	ck_assert_err(mmfs_slice_adjust(10, &start, &stop, &step, &len),
		      -EINVAL, "slice step cannot be zero");
}
END_TEST

/* ---- error.c ---- */

static void *errmsg_thread(void *arg)
{
	(void)arg;
	return (void *)mmfs_errmsg();
}

START_TEST(test_errmsg_per_thread)
{
	pthread_t t;
	void *other = NULL;

	mmfs_clear_error();
	ck_assert_str_eq(mmfs_errmsg(), "");
	ck_assert_int_eq(mmfs_fail(ERANGE, "mmap index out of range"),
			 -ERANGE);
	ck_assert_str_eq(mmfs_errmsg(), "mmap index out of range");
	ck_assert_int_eq(pthread_create(&t, NULL, errmsg_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(t, &other), 0);
	ck_assert_str_eq(other, "");
	ck_assert_int_eq(mmfs_fail_os(ENOSPC), -ENOSPC);
	ck_assert_str_eq(mmfs_errmsg(), strerror(ENOSPC));
	ck_assert_int_eq(mmfs_fail_os(12345), -12345);
	ck_assert_str_eq(mmfs_errmsg(), "Unknown error 12345");
	mmfs_clear_error();
	ck_assert_str_eq(mmfs_errmsg(), "");
	ck_assert_uint_eq(mmfs_pagesize(), (size_t)sysconf(_SC_PAGESIZE));
}
END_TEST

static Suite *map_suite(void)
{
	Suite *s = suite_create("map");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_test(tc, test_open_negative_length);
	tcase_add_test(tc, test_row22_open_negative_offset);
	tcase_add_test(tc, test_row2_open_access_and_flags);
	tcase_add_test(tc, test_row2_open_invalid_access);
	tcase_add_test(tc, test_row21_empty_file);
	tcase_add_test(tc, test_row14_length_0_large_offset);
	tcase_add_test(tc, test_row2_length_greater_than_file);
	tcase_add_test(tc, test_row6_bad_file_desc);
	tcase_add_test(tc, test_open_kernel_errors);
	tcase_add_test(tc, test_open_char_device);
	tcase_add_loop_test(tc, test_access_resolution, 0,
			    sizeof(access_cases) / sizeof(access_cases[0]));
	tcase_add_test(tc, test_row2_access_effects);
	suite_add_tcase(s, tc);

	tc = tcase_create("anonymous");
	tcase_add_test(tc, test_row16_anonymous);
	tcase_add_test(tc, test_anonymous_errors_and_offset);
	tcase_add_test(tc, test_anonymous_shared_with_child);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_add_test(tc, test_row11_double_close);
	tcase_add_test(tc, test_close_keeps_data_in_file);
	tcase_add_test(tc, test_row12_entire_file);
	tcase_add_test(tc, test_row13_length_0_offset);
	tcase_add_test(tc, test_row22_offset);
	tcase_add_test(tc, test_row3_trackfd_parameter);
	tcase_add_test(tc, test_borrowfd);
	tcase_add_test(tc, test_row4_trackfd_neg1);
	tcase_add_test(tc, test_size_reflects_outside_changes);
	tcase_add_test(tc, test_pin_blocks_close_and_resize);
	suite_add_tcase(s, tc);

	tc = tcase_create("slices");
	tcase_add_loop_test(tc, test_slice_adjust, 0,
			    sizeof(slice_cases) / sizeof(slice_cases[0]));
	tcase_add_test(tc, test_slice_step_zero);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_errmsg_per_thread);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(map_suite)
