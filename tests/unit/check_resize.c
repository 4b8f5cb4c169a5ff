/* check_resize.c - map.c's resize (reference §7.4): growth, shrink, prefix
 * and offset maps, check order, and the atomicity CPython lacks (rollback
 * of a failed mremap or ftruncate, resize(0) refused before any change,
 * growable shared anonymous maps), and extend, the growth without the
 * file that the file system writes through.  Test names carry the
 * reference row. */
#include "unit.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define RW (PROT_READ | PROT_WRITE)
/* ---- resize (§7.4) ---- */

/* row 1, resize part */
START_TEST(test_row1_resize)
{
	size_t ps = unit_pagesize();
	unsigned char *buf = calloc(1, 2 * ps);
	struct mmfs_map *map;
	unsigned char *data;
	int64_t size = 0;
	int fd;

	memcpy(buf + ps, "foo", 3);
	fd = unit_tmpfile(buf, 2 * ps);
	map = unit_open_ok(fd, (int64_t)(2 * ps), MAP_SHARED, RW, 0, 0, 0);
	data = unit_data(map, NULL);
	data[0] = '3';
	ck_assert_ok(mmfs_resize(map, 512));
	ck_assert_int_eq(mmfs_len(map), 512);
	ck_assert_int_eq(unit_file_size(fd), 512);
	ck_assert_ok(mmfs_size(map, &size));
	ck_assert_int_eq(size, 512);
	data = unit_data(map, NULL);
	ck_assert_uint_eq(data[0], '3');
	ck_assert(unit_all(data + 1, 0, 511));
	mmfs_free(map);
	free(buf);
	close(fd);
}
END_TEST

START_TEST(test_resize_grow_file)
{
	size_t ps = unit_pagesize();
	int fd = unit_tmpfile("0123456789", 10);
	struct mmfs_map *map = unit_open_ok(fd, 0, MAP_SHARED, RW, 0, 0, 0);
	unsigned char *data, *file;
	size_t len;

	map->pos = 7;
	ck_assert_ok(mmfs_resize(map, (int64_t)(3 * ps)));
	ck_assert_uint_eq(map->pos, 7);
	data = unit_data(map, &len);
	ck_assert_uint_eq(len, 3 * ps);
	ck_assert_mem_eq(data, "0123456789", 10);
	ck_assert(unit_all(data + 10, 0, 3 * ps - 10));
	memcpy(data + 2 * ps, "tail", 4);
	file = unit_read_file(fd, &len);
	ck_assert_uint_eq(len, 3 * ps);
	ck_assert_mem_eq(file, "0123456789", 10);
	ck_assert_mem_eq(file + 2 * ps, "tail", 4);
	free(file);
	/* the same size again is fine and changes nothing */
	ck_assert_ok(mmfs_resize(map, (int64_t)(3 * ps)));
	ck_assert_int_eq(unit_file_size(fd), (int64_t)(3 * ps));
	mmfs_free(map);
	close(fd);
}
END_TEST

/* A map of a prefix: the file follows the map, in both directions. */
START_TEST(test_resize_prefix_map)
{
	size_t ps = unit_pagesize();
	unsigned char *buf = malloc(3 * ps);
	struct mmfs_map *map;
	unsigned char *data;
	int fd;

	for (size_t i = 0; i < 3 * ps; i++)
		buf[i] = (unsigned char)(i * 7);
	fd = unit_tmpfile(buf, 3 * ps);
	map = unit_open_ok(fd, (int64_t)ps, MAP_SHARED, RW, 0, 0, 0);
	/* the mapping grows, the file shrinks: page 1 must survive */
	ck_assert_ok(mmfs_resize(map, (int64_t)(2 * ps)));
	ck_assert_int_eq(unit_file_size(fd), (int64_t)(2 * ps));
	data = unit_data(map, NULL);
	ck_assert_mem_eq(data, buf, 2 * ps);
	/* the mapping shrinks, the file too */
	ck_assert_ok(mmfs_resize(map, 100));
	ck_assert_int_eq(unit_file_size(fd), 100);
	ck_assert_mem_eq(unit_data(map, NULL), buf, 100);
	mmfs_free(map);
	free(buf);
	close(fd);
}
END_TEST

/* flags=MAP_PRIVATE with the default access resizes the file (§3.3) */
START_TEST(test_resize_private_default_access)
{
	int fd = unit_tmpfile_fill('q', 100);
	struct mmfs_map *map = unit_open_ok(fd, 0, MAP_PRIVATE, RW, 0, 0, 0);

	ck_assert_int_eq(mmfs_access(map), MMFS_ACCESS_DEFAULT);
	ck_assert_ok(mmfs_resize(map, 50));
	ck_assert_int_eq(unit_file_size(fd), 50);
	ck_assert_ok(mmfs_resize(map, 5000));
	ck_assert_int_eq(unit_file_size(fd), 5000);
	ck_assert(unit_all(unit_data(map, NULL), 'q', 50));
	mmfs_free(map);
	close(fd);
}
END_TEST

/* A read-only fd cannot be truncated: refused before the mapping moves,
 * so a private map keeps its own changes. */
START_TEST(test_resize_readonly_fd)
{
	int fd = unit_tmpfile_fill('r', 8192);
	char path[64];
	int ro;
	struct mmfs_map *map;
	unsigned char *data;
	size_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY);
	ck_assert_int_ge(ro, 0);
	map = unit_open_ok(ro, 0, MAP_PRIVATE, RW, 0, 0, 0);
	data = unit_data(map, NULL);
	memset(data + 4096, 'p', 4096);
	ck_assert_os_err(mmfs_resize(map, 10), -EINVAL);
	ck_assert_os_err(mmfs_resize(map, 16384), -EINVAL);
	data = unit_data(map, &len);
	ck_assert_uint_eq(len, 8192);
	ck_assert(unit_all(data, 'r', 4096));
	ck_assert(unit_all(data + 4096, 'p', 4096));
	ck_assert_int_eq(unit_file_size(fd), 8192);
	mmfs_free(map);
	close(ro);
	close(fd);
}
END_TEST

/* row 36: pos is left alone by a shrink */
START_TEST(test_row36_resize_past_pos)
{
	struct mmfs_map *map = unit_open_ok(-1, 8192, MAP_SHARED, RW, 0, 0, 0);

	map->pos = 5000;
	ck_assert_ok(mmfs_resize(map, 4096));
	ck_assert_int_eq(mmfs_len(map), 4096);
	ck_assert_uint_eq(map->pos, 5000);
	mmfs_free(map);
}
END_TEST

START_TEST(test_resize_check_order)
{
	int fd = unit_tmpfile_fill('o', 100);
	struct mmfs_map *ro = unit_open_ok(fd, 0, MAP_SHARED, RW, MMFS_ACCESS_READ,
				      0, 0);
	struct mmfs_map *nt = unit_open_ok(fd, 0, MAP_SHARED, PROT_READ, 0, 0,
				      MMFS_OPEN_NOTRACKFD);
	struct mmfs_map *off = unit_open_ok(fd, 10, MAP_SHARED, RW, 0, 0, 0);
	const char *range = "new size out of range";

	/* access before range */
	ck_assert_err(mmfs_resize(ro, -1), -EPERM,
		      "mmap can't resize a readonly or copy-on-write memory "
		      "map.");
	/* trackfd before access (this map is prot-derived READ) */
	ck_assert_int_eq(mmfs_access(nt), MMFS_ACCESS_READ);
	ck_assert_err(mmfs_resize(nt, 10), -EINVAL,
		      "mmap can't resize with trackfd=False.");
	ck_assert_err(mmfs_resize(off, -1), -EINVAL, range);
	ck_assert_err(mmfs_resize(off, INT64_MIN), -EINVAL, range);
	mmfs_free(off);
	ck_assert_int_eq(unit_file_size(fd), 100);
	close(fd);
	fd = unit_tmpfile_fill('o', 8192);
	off = unit_open_ok(fd, 10, MAP_SHARED, RW, 0, 4096, 0);
	ck_assert_err(mmfs_resize(off, INT64_MAX), -EINVAL, range);
	ck_assert_err(mmfs_resize(off, INT64_MAX - 4095), -EINVAL, range);
	/* the largest size that does not overflow gets past the checks */
	ck_assert_int_lt(mmfs_resize(off, INT64_MAX - 4096), 0);
	ck_assert_str_ne(mmfs_errmsg(), range);
	ck_assert_int_eq(unit_file_size(fd), 8192);
	ck_assert_int_eq(mmfs_len(off), 10);
	mmfs_free(off);
	mmfs_free(nt);
	mmfs_free(ro);
	close(fd);
}
END_TEST

/* SAFETY: resize(0) changes nothing (CPython truncates, then faults). */
START_TEST(test_resize_zero_is_atomic)
{
	int fd = unit_tmpfile_fill('z', 100);
	struct mmfs_map *map = unit_open_ok(fd, 0, MAP_SHARED, RW, 0, 0, 0);
	struct mmfs_map *anon = unit_open_ok(-1, 100, MAP_SHARED, RW, 0, 0, 0);
	struct mmfs_map *priv = unit_open_ok(-1, 100, MAP_PRIVATE, RW, 0, 0, 0);
	unsigned char *file;
	size_t len;

	ck_assert_os_err(mmfs_resize(map, 0), -EINVAL);
	ck_assert_int_eq(unit_file_size(fd), 100);
	ck_assert_int_eq(mmfs_len(map), 100);
	/* touching it does not fault */
	ck_assert(unit_all(unit_data(map, NULL), 'z', 100));
	file = unit_read_file(fd, &len);
	ck_assert(unit_all(file, 'z', 100));
	free(file);
	ck_assert_os_err(mmfs_resize(anon, 0), -EINVAL);
	ck_assert_int_eq(unit_file_size(mmfs_fd(anon)), 100);
	ck_assert_int_eq(mmfs_len(anon), 100);
	ck_assert_os_err(mmfs_resize(priv, 0), -EINVAL);
	ck_assert_int_eq(mmfs_len(priv), 100);
	mmfs_free(priv);
	mmfs_free(anon);
	mmfs_free(map);
	close(fd);
}
END_TEST

static size_t vm_size(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu", &pages) != 1)
		pages = 0;
	fclose(f);
	return pages * unit_pagesize();
}

struct rollback_arg {
	struct mmfs_map *map;
	int fd;
	size_t len;
};

/* In a child: an address-space limit makes mremap fail after the growing
 * ftruncate, which must be undone. */
static void grow_rollback_child(void *arg)
{
	struct rollback_arg *a = arg;
	size_t vm = vm_size();
	struct rlimit rl;
	struct stat st;
	int r;

	UNIT_CHILD_CHECK(vm > 0);
	rl.rlim_cur = rl.rlim_max = vm + (4 << 20);
	UNIT_CHILD_CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
	r = mmfs_resize(a->map, (int64_t)1 << 32);
	UNIT_CHILD_CHECK(r == -ENOMEM);
	UNIT_CHILD_CHECK(strcmp(mmfs_errmsg(), strerror(ENOMEM)) == 0);
	UNIT_CHILD_CHECK(fstat(a->fd, &st) == 0);
	UNIT_CHILD_CHECK(st.st_size == (off_t)a->len);
	UNIT_CHILD_CHECK(mmfs_len(a->map) == (ssize_t)a->len);
	UNIT_CHILD_CHECK(unit_all(a->map->data, 'g', a->len));
}

START_TEST(test_resize_grow_rollback)
{
	size_t ps = unit_pagesize();
	int fd = unit_tmpfile_fill('g', 2 * ps);
	struct rollback_arg a = {unit_open_ok(fd, 0, MAP_SHARED, RW, 0, 0, 0), fd,
				 2 * ps};

	if (getenv("LD_PRELOAD") != NULL &&
	    strstr(getenv("LD_PRELOAD"), "vgpreload") != NULL) {
		/* valgrind manages the address space itself */
		mmfs_free(a.map);
		close(fd);
		return;
	}
	ck_assert_exited_ok(unit_fork(grow_rollback_child, &a));
	ck_assert_int_eq(unit_file_size(fd), (int64_t)(2 * ps));
	mmfs_free(a.map);
	close(fd);
}
END_TEST

/* A memfd with seals stands in for a file whose ftruncate fails. */
static int sealed_file(size_t len, unsigned char **contentp)
{
	int fd = memfd_create("mmfs-unit", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	unsigned char *buf = malloc(len);

	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 13 + 1);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	*contentp = buf;
	return fd;
}

START_TEST(test_resize_shrink_rollback)
{
	size_t ps = unit_pagesize();
	unsigned char *buf;
	int fd = sealed_file(3 * ps, &buf);
	struct mmfs_map *map = unit_open_ok(fd, 0, MAP_SHARED, RW, 0, 0, 0);
	size_t len;
	unsigned char *data;

	ck_assert(!map->anonymous);
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	/* the mremap came first and is undone */
	ck_assert_os_err(mmfs_resize(map, (int64_t)ps), -EPERM);
	data = unit_data(map, &len);
	ck_assert_uint_eq(len, 3 * ps);
	ck_assert_int_eq(unit_file_size(fd), (int64_t)(3 * ps));
	ck_assert_mem_eq(data, buf, 3 * ps);
	/* growth is still allowed under F_SEAL_SHRINK */
	ck_assert_ok(mmfs_resize(map, (int64_t)(4 * ps)));
	ck_assert_int_eq(unit_file_size(fd), (int64_t)(4 * ps));
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0);
	/* the ftruncate comes first and fails: nothing changed */
	ck_assert_os_err(mmfs_resize(map, (int64_t)(5 * ps)), -EPERM);
	data = unit_data(map, &len);
	ck_assert_uint_eq(len, 4 * ps);
	ck_assert_mem_eq(data, buf, 3 * ps);
	ck_assert(unit_all(data + 3 * ps, 0, ps));
	ck_assert_int_eq(unit_file_size(fd), (int64_t)(4 * ps));
	mmfs_free(map);
	free(buf);
	close(fd);
}
END_TEST

static void touch_grown(void *arg)
{
	struct unit_child_arg *a = arg;

	UNIT_CHILD_CHECK(unit_all(a->data + a->off, 0, 3 * a->off));
	memcpy(a->data + 3 * a->off, "grown", 5);
}

/* SAFETY: a grown shared anonymous map is usable (CPython's faults). */
START_TEST(test_resize_grow_shared_anonymous)
{
	size_t ps = unit_pagesize();
	struct mmfs_map *map = unit_open_ok(-1, (int64_t)ps, MAP_SHARED, RW, 0, 0,
				       0);
	struct unit_child_arg a;
	unsigned char *data = unit_data(map, NULL);
	size_t len;

	memset(data, 'a', ps);
	ck_assert_ok(mmfs_resize(map, (int64_t)(4 * ps)));
	data = unit_data(map, &len);
	ck_assert_uint_eq(len, 4 * ps);
	ck_assert(unit_all(data, 'a', ps));
	a.map = map;
	a.data = data;
	a.off = ps;
	/* a child touches the new pages first: no SIGBUS, still shared */
	ck_assert_exited_ok(unit_fork(touch_grown, &a));
	ck_assert_mem_eq(data + 3 * ps, "grown", 5);
	ck_assert_int_eq(unit_file_size(mmfs_fd(map)), (int64_t)(4 * ps));
	ck_assert_ok(mmfs_resize(map, 10));
	ck_assert_int_eq(unit_file_size(mmfs_fd(map)), 10);
	ck_assert(unit_all(unit_data(map, NULL), 'a', 10));
	mmfs_free(a.map);
}
END_TEST

START_TEST(test_resize_private_anonymous)
{
	size_t ps = unit_pagesize();
	struct mmfs_map *map = unit_open_ok(-1, 100, MAP_PRIVATE, RW, 0, 0, 0);
	unsigned char *data = unit_data(map, NULL);
	size_t len;

	memset(data, 'p', 100);
	ck_assert_ok(mmfs_resize(map, (int64_t)(8 * ps)));
	data = unit_data(map, &len);
	ck_assert_uint_eq(len, 8 * ps);
	ck_assert(unit_all(data, 'p', 100));
	ck_assert(unit_all(data + 100, 0, 8 * ps - 100));
	data[8 * ps - 1] = 1;
	ck_assert_ok(mmfs_resize(map, 50));
	ck_assert_int_eq(mmfs_len(map), 50);
	ck_assert(unit_all(unit_data(map, NULL), 'p', 50));
	mmfs_free(map);
}
END_TEST

/* ---- slice normalisation (PySlice_AdjustIndices) ---- */

/* madvise over part of a map splits it in the kernel, and mremap(2) then
 * refuses to move it (EFAULT): resize must still work, keeping the bytes
 * (found by the fsx exerciser). */
START_TEST(test_resize_after_partial_madvise)
{
	size_t ps = unit_pagesize();
	static const struct {
		int fd_kind; /* 0 file, 1 shared anonymous, 2 private anonymous */
		int flags;
	} kinds[] = {{0, MAP_SHARED}, {1, MAP_SHARED}, {2, MAP_PRIVATE}};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		int fd = kinds[k].fd_kind == 0 ? unit_tmpfile_fill('q', 3 * ps)
					       : -1;
		struct mmfs_map *map = unit_open_ok(fd, 3 * (int64_t)ps,
						    kinds[k].flags, RW, 0, 0,
						    0);
		unsigned char *data;
		size_t len;

		ck_assert_int_eq(mmfs_setitem(map, 0, 'a'), 0);
		ck_assert_int_eq(mmfs_setitem(map, 2 * (int64_t)ps, 'z'), 0);
		ck_assert_ok(mmfs_madvise(map, MADV_RANDOM, 0, (int64_t)ps));
		ck_assert_ok(mmfs_resize(map, 5 * (int64_t)ps));
		data = unit_data(map, &len);
		ck_assert_uint_eq(len, 5 * ps);
		ck_assert_int_eq(data[0], 'a');
		ck_assert_int_eq(data[2 * ps], 'z');
		ck_assert(unit_all(data + 3 * ps, 0, 2 * ps));
		if (fd >= 0)
			ck_assert_int_eq(unit_file_size(fd), 5 * (int64_t)ps);
		ck_assert_ok(mmfs_madvise(map, MADV_RANDOM, (int64_t)ps,
					  (int64_t)ps));
		ck_assert_ok(mmfs_resize(map, (int64_t)ps + 7));
		data = unit_data(map, &len);
		ck_assert_uint_eq(len, ps + 7);
		ck_assert_int_eq(data[0], 'a');
		if (fd >= 0) {
			ck_assert_int_eq(unit_file_size(fd), (int64_t)ps + 7);
			ck_assert_int_eq(data[ps], 'q');
		}
		mmfs_free(map);
		if (fd >= 0)
			close(fd);
	}
}
END_TEST

/* extend: the map grows and the file does not; a write to the file then
 * shows in the new pages, and sync_length gives back what it left. */
START_TEST(test_extend_then_pwrite)
{
	size_t ps = unit_pagesize();
	int fd = unit_tmpfile("0123456789", 10);
	struct mmfs_map *map = unit_open_ok(fd, 0, MAP_SHARED, RW, 0, 0, 0);
	unsigned char *data;
	size_t len;

	map->pos = 4;
	ck_assert_ok(mmfs_extend(map, 10)); /* the same size: nothing */
	ck_assert_ok(mmfs_extend(map, 3 * ps));
	ck_assert_int_eq(mmfs_len(map), (ssize_t)(3 * ps));
	ck_assert_uint_eq(map->pos, 4);
	ck_assert_int_eq(unit_file_size(fd), 10); /* the file is left alone */
	ck_assert_int_eq(pwrite(fd, "grown", 5, (off_t)(2 * ps)), 5);
	ck_assert_int_eq(unit_file_size(fd), (int64_t)(2 * ps + 5));
	data = unit_data(map, &len);
	ck_assert_uint_eq(len, 3 * ps);
	ck_assert_mem_eq(data, "0123456789", 10);
	ck_assert(unit_all(data + 10, 0, 2 * ps - 10)); /* the hole */
	ck_assert_mem_eq(data + 2 * ps, "grown", 5);
	/* the write stopped short of the map's end: give the rest back */
	ck_assert_ok(mmfs_sync_length(map));
	ck_assert_int_eq(mmfs_len(map), (ssize_t)(2 * ps + 5));
	ck_assert_mem_eq(unit_data(map, NULL) + 2 * ps, "grown", 5);
	/* a map a madvise split still extends (afresh, keeping its bytes) */
	ck_assert_ok(mmfs_madvise(map, MADV_RANDOM, 0, (int64_t)ps));
	ck_assert_ok(mmfs_extend(map, 5 * ps));
	ck_assert_int_eq(pwrite(fd, "far", 3, (off_t)(4 * ps)), 3);
	data = unit_data(map, &len);
	ck_assert_uint_eq(len, 5 * ps);
	ck_assert_mem_eq(data, "0123456789", 10);
	ck_assert_mem_eq(data + 2 * ps, "grown", 5);
	ck_assert_mem_eq(data + 4 * ps, "far", 3);
	mmfs_free(map);
	close(fd);
}
END_TEST

static Suite *resize_suite(void)
{
	Suite *s = suite_create("resize");
	TCase *tc = tcase_create("resize");

	tcase_add_test(tc, test_row1_resize);
	tcase_add_test(tc, test_resize_grow_file);
	tcase_add_test(tc, test_resize_prefix_map);
	tcase_add_test(tc, test_resize_private_default_access);
	tcase_add_test(tc, test_resize_readonly_fd);
	tcase_add_test(tc, test_row36_resize_past_pos);
	tcase_add_test(tc, test_resize_check_order);
	tcase_add_test(tc, test_resize_zero_is_atomic);
	tcase_add_test(tc, test_resize_grow_rollback);
	tcase_add_test(tc, test_resize_shrink_rollback);
	tcase_add_test(tc, test_resize_grow_shared_anonymous);
	tcase_add_test(tc, test_resize_private_anonymous);
	tcase_add_test(tc, test_resize_after_partial_madvise);
	tcase_add_test(tc, test_extend_then_pwrite);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(resize_suite)
