/*
 * fsops.c - the metadata and latency rows of run.sh, timed inside one
 * process so that no fork or exec is measured: create, stat and unlink of
 * many empty files, 4 KiB write+fsync latency, and the daemon's memory
 * with many files held open.
 *
 *   fsops create DIR N     open(O_CREAT|O_EXCL) + close of DIR/f0..f{N-1}
 *   fsops stat DIR N       stat(2) of each
 *   fsops unlink DIR N     unlink(2) of each
 *       each prints the seconds taken
 *   fsops fsync FILE N     N times: pwrite 4 KiB at the next offset, fsync;
 *       prints the p50 and p99 latency in microseconds
 *   fsops hold DIR N CMD   write 4 KiB into each of N files, keep all of
 *       them open, run CMD with sh -c, close them; prints CMD's output
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "fsops: %s: %s\n", what, strerror(errno));
	exit(1);
}

static const char *name_of(char *buf, size_t len, const char *dir, long i)
{
	snprintf(buf, len, "%s/f%ld", dir, i);
	return buf;
}

static int many(const char *op, const char *dir, long n)
{
	char path[PATH_MAX];
	struct stat st;
	double t0;
	long i;
	int fd;

	t0 = now();
	for (i = 0; i < n; i++) {
		name_of(path, sizeof(path), dir, i);
		if (strcmp(op, "create") == 0) {
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				  0644);
			if (fd < 0 || close(fd) < 0)
				die(path);
		} else if (strcmp(op, "stat") == 0) {
			if (stat(path, &st) < 0)
				die(path);
			if (st.st_size != 0) {
				fprintf(stderr, "fsops: %s: size %lld\n", path,
					(long long)st.st_size);
				return 1;
			}
		} else if (unlink(path) < 0) {
			die(path);
		}
	}
	printf("%.6f\n", now() - t0);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int fsync_lat(const char *path, long n)
{
	char buf[4096];
	double *lat, t0;
	long i;
	int fd;

	lat = calloc((size_t)n, sizeof(*lat));
	if (!lat)
		die("calloc");
	memset(buf, 'f', sizeof(buf));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	for (i = 0; i < n; i++) {
		t0 = now();
		if (pwrite(fd, buf, sizeof(buf), (off_t)i * 4096) !=
		    (ssize_t)sizeof(buf))
			die("pwrite");
		if (fsync(fd) < 0)
			die("fsync");
		lat[i] = now() - t0;
	}
	if (close(fd) < 0)
		die("close");
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	/* nearest rank */
	printf("%.1f %.1f\n", lat[(n - 1) / 2] * 1e6,
	       lat[(size_t)((double)n * 0.99 + 0.999) - 1] * 1e6);
	free(lat);
	return 0;
}

static int hold(const char *dir, long n, const char *cmd)
{
	char path[PATH_MAX], buf[4096];
	struct rlimit rl;
	int *fds, rc;
	long i;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			die("setrlimit");
	}
	fds = calloc((size_t)n, sizeof(*fds));
	if (!fds)
		die("calloc");
	memset(buf, 'h', sizeof(buf));
	for (i = 0; i < n; i++) {
		name_of(path, sizeof(path), dir, i);
		fds[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fds[i] < 0)
			die(path);
		if (pwrite(fds[i], buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
			die("pwrite");
	}
	fflush(stdout);
	rc = system(cmd);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	long n = argc > 3 ? strtol(argv[3], NULL, 10) : 0;

	if (n <= 0 || n > 100000000)
		goto usage;
	if (argc == 4 && (strcmp(argv[1], "create") == 0 ||
			  strcmp(argv[1], "stat") == 0 ||
			  strcmp(argv[1], "unlink") == 0))
		return many(argv[1], argv[2], n);
	if (argc == 4 && strcmp(argv[1], "fsync") == 0)
		return fsync_lat(argv[2], n);
	if (argc == 5 && strcmp(argv[1], "hold") == 0)
		return hold(argv[2], n, argv[4]);
usage:
	fprintf(stderr, "usage: fsops create|stat|unlink DIR N\n"
			"       fsops fsync FILE N\n"
			"       fsops hold DIR N CMD\n");
	return 2;
}
