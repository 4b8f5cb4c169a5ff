/* unit.h - helpers shared by the engine's Check suites: temporary files,
 * error assertions, forked children and a main() for each suite. */
#ifndef MMFS_UNIT_H
#define MMFS_UNIT_H

#include <config.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmfs-int.h"

/*
 * ck_assert_err(expr, -EXXX, "message"): expr (evaluated once) returned the
 * negative errno and mmfs_errmsg() is exactly the message.
 * ck_assert_os_err(expr, -EXXX): the same for an OSError, whose message is
 * strerror(EXXX).
 */
#define ck_assert_err(expr, err, msg)                                          \
	do {                                                                   \
		int64_t unit_r_ = (int64_t)(expr);                             \
		int64_t unit_e_ = (int64_t)(err);                              \
		ck_assert_msg(unit_r_ == unit_e_,                              \
			      "%s returned %lld, expected %lld (%s)", #expr,   \
			      (long long)unit_r_, (long long)unit_e_,          \
			      mmfs_errmsg());                                  \
		ck_assert_str_eq(mmfs_errmsg(), (msg));                        \
	} while (0)

#define ck_assert_os_err(expr, err)                                            \
	ck_assert_err(expr, err, strerror(-(err)))

/* expr returned exactly 0 (prints the engine's message if not). */
#define ck_assert_ok(expr)                                                     \
	do {                                                                   \
		int64_t unit_r_ = (int64_t)(expr);                             \
		ck_assert_msg(unit_r_ == 0, "%s returned %lld (%s)", #expr,    \
			      (long long)unit_r_, mmfs_errmsg());              \
	} while (0)

static inline size_t unit_pagesize(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* An unlinked temporary file holding len bytes of data (NULL: zeros), open
 * read-write at offset 0.  The caller closes it. */
static inline int unit_tmpfile(const void *data, size_t len)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/mmfs-unit-XXXXXX", dir);
	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp(%s): %s", path, strerror(errno));
	ck_assert_int_eq(unlink(path), 0);
	if (data == NULL) {
		ck_assert_int_eq(ftruncate(fd, (off_t)len), 0);
		return fd;
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = write(fd, (const char *)data + done, len - done);

		ck_assert_msg(w > 0, "write: %s", strerror(errno));
		done += (size_t)w;
	}
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* A temporary file of len copies of one byte. */
static inline int unit_tmpfile_fill(int byte, size_t len)
{
	char *buf = malloc(len > 0 ? len : 1);
	int fd;

	ck_assert_ptr_nonnull(buf);
	memset(buf, byte, len);
	fd = unit_tmpfile(buf, len);
	free(buf);
	return fd;
}

static inline int64_t unit_file_size(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	return (int64_t)st.st_size;
}

/* The whole file, malloc'ed (at least one byte); its size goes to *lenp. */
static inline unsigned char *unit_read_file(int fd, size_t *lenp)
{
	size_t len = (size_t)unit_file_size(fd);
	unsigned char *buf = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(buf);
	for (size_t done = 0; done < len;) {
		ssize_t r = pread(fd, buf + done, len - done, (off_t)done);

		ck_assert_msg(r > 0, "pread: %s", strerror(errno));
		done += (size_t)r;
	}
	*lenp = len;
	return buf;
}

/* True iff n bytes at p all equal byte. */
static inline int unit_all(const void *p, int byte, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != (unsigned char)byte)
			return 0;
	return 1;
}

/* The map's base address and length through a pin (released at once). */
static inline unsigned char *unit_data(struct mmfs_map *map, size_t *lenp)
{
	void *data = NULL;
	size_t len = 0;

	ck_assert_ok(mmfs_pin(map, &data, &len));
	mmfs_unpin(map);
	if (lenp != NULL)
		*lenp = len;
	return data;
}

/*
 * Forked children.  Check's assertions must not run in a child (without
 * CK_FORK they would longjmp into the runner's copy), so a child reports
 * with UNIT_CHILD_CHECK, which names the line and exits 1.  unit_fork runs
 * fn(arg) in a child that exits 0 when fn returns and gives back the raw
 * wait status.
 */
/* mmfs_open that must succeed. */
static inline struct mmfs_map *unit_open_ok(int fd, int64_t length, int flags,
					     int prot, int access, int64_t offset,
					     unsigned int opts)
{
	struct mmfs_map *map = NULL;

	ck_assert_ok(mmfs_open(&map, fd, length, flags, prot, access, offset,
			       opts));
	ck_assert_ptr_nonnull(map);
	ck_assert(!mmfs_closed(map));
	return map;
}

/* A read-write shared map of a temporary file holding data (NULL: zeros)
 * with the given access; with fdp the file stays open there for the test
 * to look at (the caller closes it), else it is closed at once. */
static inline struct mmfs_map *unit_file_map(const void *data, size_t len,
					     int access, int *fdp)
{
	int fd = unit_tmpfile(data, len);
	struct mmfs_map *map = unit_open_ok(fd, (int64_t)len, MMFS_MAP_SHARED,
					    MMFS_PROT_READ | MMFS_PROT_WRITE,
					    access, 0, 0);

	if (fdp != NULL)
		*fdp = fd;
	else
		close(fd);
	return map;
}

/* A read-write anonymous map of len bytes (flags MMFS_MAP_SHARED or
 * MMFS_MAP_PRIVATE). */
static inline struct mmfs_map *unit_anon_map(size_t len, int flags)
{
	return unit_open_ok(-1, (int64_t)len, flags,
			    MMFS_PROT_READ | MMFS_PROT_WRITE,
			    MMFS_ACCESS_DEFAULT, 0, 0);
}

/* m[:] == want, read through the engine. */
static inline void unit_assert_map_eq(struct mmfs_map *map, const void *want,
				      size_t len)
{
	unsigned char *got = malloc(len);

	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(mmfs_len(map), (ssize_t)len);
	ck_assert_int_eq(mmfs_getslice(map, MMFS_NONE, MMFS_NONE, MMFS_NONE,
				       got, len),
			 (ssize_t)len);
	ck_assert_mem_eq(got, want, len);
	free(got);
}

/* The map rides along so that it stays reachable in the child (valgrind's
 * leak check runs when the child exits). */
struct unit_child_arg {
	struct mmfs_map *map;
	unsigned char *data;
	size_t off;
};

#define UNIT_CHILD_CHECK(cond)                                                 \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: child check failed: %s\n",     \
				__FILE__, __LINE__, #cond);                    \
			_exit(1);                                              \
		}                                                              \
	} while (0)

static inline int unit_fork(void (*fn)(void *arg), void *arg)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

#define ck_assert_exited_ok(status)                                            \
	do {                                                                   \
		int unit_s_ = (status);                                        \
		ck_assert_msg(WIFEXITED(unit_s_) && WEXITSTATUS(unit_s_) == 0, \
			      "child: %s %d",                                  \
			      WIFSIGNALED(unit_s_) ? "signal" : "exit",        \
			      WIFSIGNALED(unit_s_) ? WTERMSIG(unit_s_)         \
						   : WEXITSTATUS(unit_s_));    \
	} while (0)

/* main() of a suite binary: suite_fn() returns the Suite *. */
#define UNIT_MAIN(suite_fn)                                                    \
	int main(void)                                                         \
	{                                                                      \
		SRunner *unit_sr_ = srunner_create(suite_fn());                \
		int unit_failed_;                                              \
                                                                               \
		srunner_run_all(unit_sr_, CK_NORMAL);                          \
		unit_failed_ = srunner_ntests_failed(unit_sr_);                \
		srunner_free(unit_sr_);                                        \
		return unit_failed_ ? EXIT_FAILURE : EXIT_SUCCESS;             \
	}

#endif /* MMFS_UNIT_H */
