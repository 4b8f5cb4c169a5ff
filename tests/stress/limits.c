/* limits.c - the stress test's limit modes: thousands of files open on the
 * mount at once (-M), and the kernel's limit on mappings (-L): with
 * vm.max_map_count lowered to just above what the daemon holds, opening
 * more files must fail cleanly (ENOMEM or ENFILE), everything already open
 * must keep working, and closing files must make room again. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmapfs.h"
#include "stress.h"

#define MAX_MAP_COUNT "/proc/sys/vm/max_map_count"

/* What -L changed, for the restore from a signal handler. */
static volatile sig_atomic_t saved_valid;
static char saved_value[32];
static const char *volatile phase = "setup";
/* How the size changes at the limit went, for the summary. */
static const char *grow_result = "not tried", *empty_result = "not tried";

/* Async-signal-safe: open, write, close. */
static void restore_limit(void)
{
	int fd;

	if (!saved_valid)
		return;
	fd = open(MAX_MAP_COUNT, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, saved_value, strlen(saved_value)) < 0)
			saved_valid = 1; /* keep trying at exit */
		else
			saved_valid = 0;
		close(fd);
	}
}

static void on_alarm(int sig)
{
	static const char msg[] =
		"stress: FAIL: watchdog: a phase of the limit test took too "
		"long (a request was not answered); phase: ";
	const char *p = phase;

	(void)sig;
	restore_limit();
	if (write(2, msg, sizeof(msg) - 1) < 0 || write(2, p, strlen(p)) < 0 ||
	    write(2, "\n", 1) < 0)
		_exit(2);
	_exit(2);
}

static void on_signal(int sig)
{
	restore_limit();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* -M reports how long each phase took. */
static char phase_times[512];
static size_t phase_len;
static struct timespec phase_t0;

static void start_phase(const char *what, double watchdog)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (phase_t0.tv_sec && phase_len < sizeof(phase_times))
		phase_len += (size_t)snprintf(
			phase_times + phase_len,
			sizeof(phase_times) - phase_len, "%s%.2f",
			phase_len ? " " : "",
			(double)(t.tv_sec - phase_t0.tv_sec) +
				(double)(t.tv_nsec - phase_t0.tv_nsec) / 1e9);
	phase_t0 = t;
	phase = what;
	alarm((unsigned int)(watchdog + 0.999));
}

/* File i's bytes: len bytes of stamps of (owner, i). */
static void file_bytes(unsigned char *out, uint32_t owner, uint32_t i,
		       uint32_t gen, size_t len)
{
	unsigned char s[ST_BLOCK];
	size_t k;

	for (k = 0; k < len; k += ST_BLOCK) {
		st_stamp(s, owner, i * 4096 + (uint32_t)(k / ST_BLOCK), gen);
		memcpy(out + k, s, len - k < ST_BLOCK ? len - k : ST_BLOCK);
	}
}

static int write_file(int fd, const char *name, uint32_t owner, uint32_t i,
		      uint32_t gen, size_t len)
{
	unsigned char *buf = malloc(len);
	ssize_t n;

	if (!buf)
		return st_fail(NULL, "out of memory");
	file_bytes(buf, owner, i, gen, len);
	n = st_pwrite_full(fd, buf, len, 0);
	free(buf);
	if (n != (ssize_t)len)
		return st_fail(NULL, "write %s: %s", name,
			       n < 0 ? strerror((int)-n) : "short");
	return 0;
}

/* Strict: fd holds exactly len bytes of (owner, i, gen). */
static int check_file(int fd, const char *name, uint32_t owner, uint32_t i,
		      uint32_t gen, size_t len)
{
	unsigned char *want = malloc(len), *got = malloc(len + 1);
	ssize_t n;
	int rc = 0;

	if (!want || !got) {
		rc = st_fail(NULL, "out of memory");
		goto out;
	}
	file_bytes(want, owner, i, gen, len);
	n = st_pread_full(fd, got, len + 1, 0);
	if (n != (ssize_t)len || memcmp(want, got, len) != 0)
		rc = st_fail(NULL,
			     "%s (%s): read %zd bytes%s%s, expected %zu "
			     "bytes of generation %u",
			     name, phase, n, n < 0 ? ": " : "",
			     n < 0		 ? strerror((int)-n)
			     : n == (ssize_t)len ? " (contents differ)"
						 : "",
			     len, gen);
out:
	free(want);
	free(got);
	return rc;
}

static double secs_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---------------------------------------------------------------- -M */

#define MANY_OWNER 0xFFFF0001u

static size_t many_len(uint32_t i)
{
	return 100 + (i * 37) % 400;
}

int st_many_files(const char *dir, unsigned int n, double watchdog)
{
	int *fds = calloc(n, sizeof(int)), dirfd, err, rc = -1;
	struct timespec t0;
	char name[64];
	struct stat st;
	unsigned int i, opened = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	signal(SIGALRM, on_alarm);
	err = st_raise_nofile((uint64_t)n + 64);
	if (err) {
		st_say("cannot raise RLIMIT_NOFILE to %u: %s", n + 64,
		       strerror(-err));
		return -1;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || !fds)
		return st_fail(NULL, "open %s: %s", dir, strerror(errno));
	start_phase("create and write every file, all kept open", watchdog);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "many.%u", i);
		fds[i] = openat(dirfd, name,
				O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fds[i] < 0) {
			st_fail(NULL, "create %s with %u files open: %s", name,
				i, strerror(errno));
			goto out;
		}
		opened++;
		if (write_file(fds[i], name, MANY_OWNER, i, 1, many_len(i)))
			goto out;
	}
	start_phase("read back and stat each, all open", watchdog);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "many.%u", i);
		if (check_file(fds[i], name, MANY_OWNER, i, 1, many_len(i)))
			goto out;
		if (fstat(fds[i], &st) < 0 ||
		    (size_t)st.st_size != many_len(i)) {
			st_fail(NULL, "%s: size %lld, expected %zu", name,
				(long long)st.st_size, many_len(i));
			goto out;
		}
	}
	start_phase("rewrite each, all open", watchdog);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "many.%u", i);
		if (write_file(fds[i], name, MANY_OWNER, i, 2, many_len(i)))
			goto out;
	}
	start_phase("read back in reverse, all open", watchdog);
	for (i = n; i-- > 0;) {
		snprintf(name, sizeof(name), "many.%u", i);
		if (check_file(fds[i], name, MANY_OWNER, i, 2, many_len(i)))
			goto out;
	}
	start_phase("close all", watchdog);
	for (i = 0; i < n; i++)
		close(fds[i]);
	opened = 0;
	start_phase("reopen each, read, close", watchdog);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "many.%u", i);
		fds[0] = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
		if (fds[0] < 0) {
			st_fail(NULL, "reopen %s: %s", name, strerror(errno));
			goto out;
		}
		err = check_file(fds[0], name, MANY_OWNER, i, 2, many_len(i));
		close(fds[0]);
		if (err)
			goto out;
	}
	start_phase("unlink all", watchdog);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "many.%u", i);
		if (unlinkat(dirfd, name, 0) < 0) {
			st_fail(NULL, "unlink %s: %s", name, strerror(errno));
			goto out;
		}
	}
	start_phase("done", watchdog);
	alarm(0);
	st_say("many files: %u open at once, written, read back, rewritten, "
	       "reopened and removed in %.1f s (phases: %s s)",
	       n, secs_since(&t0), phase_times);
	rc = 0;
out:
	for (i = 0; i < opened; i++)
		close(fds[i]);
	free(fds);
	close(dirfd);
	return rc;
}

/* ---------------------------------------------------------------- -L */

#define LIM_OWNER 0xFFFF0002u
#define PAD_OWNER 0xFFFF0003u
#define CTL_OWNER 0xFFFF0004u
#define LIM_LEN 8192
#define PAD_LEN 4096
#define CTL_LEN (64 * 1024)

/* The number of mappings (VMAs) of a process. */
static long map_count(pid_t pid)
{
	char path[64], line[512];
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strchr(line, '\n'))
			n++;
	fclose(f);
	return n;
}

static int set_limit(long value)
{
	char buf[32];
	int fd, n;

	n = snprintf(buf, sizeof(buf), "%ld\n", value);
	fd = open(MAX_MAP_COUNT, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)n) != n) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return 0;
}

/* Strict: fd holds len bytes of (owner, 0, gen) then zeros up to size. */
static int check_grown(int fd, const char *name, uint32_t owner, uint32_t gen,
		       size_t len, size_t size)
{
	unsigned char *want = calloc(1, size + 1), *got = malloc(size + 1);
	struct stat st;
	ssize_t n;
	int rc = 0;

	if (!want || !got) {
		rc = st_fail(NULL, "out of memory");
		goto out;
	}
	file_bytes(want, owner, 0, gen, len);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	n = st_pread_full(fd, got, size + 1, 0);
	if (fstat(fd, &st) < 0 || (size_t)st.st_size != size ||
	    n != (ssize_t)size || memcmp(want, got, size) != 0)
		rc = st_fail(NULL,
			     "%s (%s): size %lld, read %zd bytes%s; "
			     "expected %zu",
			     name, phase, (long long)st.st_size, n,
			     n == (ssize_t)size ? " (contents differ)" : "",
			     size);
out:
	free(want);
	free(got);
	return rc;
}

/* At the limit, a size change that needs a new or moved mapping either
 * works or fails with ENOMEM/ENFILE, and the file is whole either way. */
static int at_limit_growth(int dirfd, int ctl)
{
	size_t size = CTL_LEN;
	unsigned char *buf;
	int fd, err;
	ssize_t n;

	phase = "at the limit: growing a mapped file";
	err = ftruncate(ctl, 4 * CTL_LEN) < 0 ? errno : 0;
	if (err && err != ENOMEM && err != ENFILE)
		return st_fail(NULL,
			       "growing the control file at the limit: "
			       "%s, expected success, ENOMEM or ENFILE",
			       strerror(err));
	if (!err)
		size = 4 * CTL_LEN;
	grow_result = err ? strerror(err) : "grew";
	if (check_grown(ctl, "ctl", CTL_OWNER, 2, CTL_LEN, size))
		return -1;
	if (!err && (ftruncate(ctl, CTL_LEN) < 0 ||
		     check_grown(ctl, "ctl", CTL_OWNER, 2, CTL_LEN, CTL_LEN)))
		return st_fail(NULL, "shrinking the control file back: %s",
			       strerror(errno));

	phase = "at the limit: writing into an empty file";
	fd = openat(dirfd, "empty", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return st_fail(NULL,
			       "creating an empty file at the limit (it "
			       "needs no mapping): %s",
			       strerror(errno));
	buf = malloc(LIM_LEN);
	if (!buf) {
		close(fd);
		return st_fail(NULL, "out of memory");
	}
	file_bytes(buf, CTL_OWNER, 0, 3, LIM_LEN);
	n = pwrite(fd, buf, LIM_LEN, 0);
	err = n < 0 ? errno : 0;
	free(buf);
	if (n != LIM_LEN && err != ENOMEM && err != ENFILE) {
		close(fd);
		return st_fail(NULL,
			       "writing into an empty file at the limit: "
			       "%zd (%s), expected %d bytes, ENOMEM or "
			       "ENFILE",
			       n, n < 0 ? strerror(err) : "short", LIM_LEN);
	}
	empty_result = n < 0 ? strerror(err) : "written";
	err = check_grown(fd, "empty", CTL_OWNER, 3, n < 0 ? 0 : LIM_LEN,
			  n < 0 ? 0 : LIM_LEN);
	close(fd);
	unlinkat(dirfd, "empty", 0);
	return err;
}

/* While at the limit: everything already open keeps working. */
static int at_limit_checks(int dirfd, int ctl, const int *lim, unsigned int n)
{
	unsigned char stamp[ST_BLOCK];
	struct mmapfs_find f;
	unsigned int i;
	struct stat st;
	char name[64];
	DIR *d;
	int fd;

	phase = "at the limit: the control file";
	if (write_file(ctl, "ctl", CTL_OWNER, 0, 2, CTL_LEN) ||
	    check_file(ctl, "ctl", CTL_OWNER, 0, 2, CTL_LEN))
		return -1;
	memset(&f, 0, offsetof(struct mmapfs_find, needle));
	st_stamp(stamp, CTL_OWNER, 1000, 2);
	memcpy(f.needle, stamp, ST_BLOCK);
	f.needle_len = ST_BLOCK;
	f.end = INT64_MAX;
	if (ioctl(ctl, MMAPFS_IOC_FIND, &f) < 0 || f.result != 1000 * ST_BLOCK)
		return st_fail(NULL,
			       "FIND in the control file at the limit: "
			       "%s, result %" PRId64 ", expected %d",
			       strerror(errno), f.result, 1000 * ST_BLOCK);
	phase = "at the limit: files opened before";
	for (i = 0; i < n; i++) {
		if (lim[i] < 0)
			continue;
		snprintf(name, sizeof(name), "lim.%u", i);
		if (check_file(lim[i], name, LIM_OWNER, i, 1, LIM_LEN))
			return -1;
	}
	phase = "at the limit: a second handle of a mapped file";
	fd = openat(dirfd, "pad.0", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return st_fail(NULL,
			       "a second open of the mapped pad.0 at "
			       "the limit: %s",
			       strerror(errno));
	i = (unsigned int)check_file(fd, "pad.0", PAD_OWNER, 0, 1, PAD_LEN);
	close(fd);
	if (i)
		return -1;
	if (at_limit_growth(dirfd, ctl))
		return -1;
	phase = "at the limit: metadata";
	if (fstatat(dirfd, "lim.0", &st, 0) < 0 || st.st_size != LIM_LEN)
		return st_fail(NULL, "stat at the limit: %s", strerror(errno));
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d)
		return st_fail(NULL, "opendir at the limit: %s",
			       strerror(errno));
	for (i = 0; readdir(d); i++)
		;
	closedir(d);
	if (i < n)
		return st_fail(NULL, "readdir at the limit: %u entries", i);
	return 0;
}

int st_map_limit(const char *dir, unsigned int n, unsigned int pad,
		 pid_t daemon, unsigned int margin, double watchdog)
{
	int *lim = malloc(n * sizeof(int)), *pads = malloc(pad * sizeof(int));
	unsigned int i, opened = 0, refused = 0, enomem = 0, enfile = 0;
	unsigned int closed, reopened = 0, first_refused = n;
	int dirfd, ctl = -1, fd, err, rc = 1;
	long before, limit;
	struct timespec t0;
	char name[64];
	FILE *f;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!lim || !pads)
		return 1;
	for (i = 0; i < n; i++)
		lim[i] = -1;
	for (i = 0; i < pad; i++)
		pads[i] = -1;
	f = fopen(MAX_MAP_COUNT, "re");
	if (!f || !fgets(saved_value, sizeof(saved_value), f) ||
	    access(MAX_MAP_COUNT, W_OK) < 0) {
		st_say("SKIP: %s cannot be read and written here",
		       MAX_MAP_COUNT);
		if (f)
			fclose(f);
		return 77;
	}
	fclose(f);
	err = st_raise_nofile((uint64_t)n + pad + 64);
	if (err) {
		st_say("cannot raise RLIMIT_NOFILE to %u: %s", n + pad + 64,
		       strerror(-err));
		return 1;
	}
	signal(SIGALRM, on_alarm);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	atexit(restore_limit);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		st_fail(NULL, "open %s: %s", dir, strerror(errno));
		return 1;
	}

	/* Before: a control file, pad files that fill the daemon's mapping
	 * count (so that the lowered limit stays far above what other
	 * processes on the machine need), files to try. */
	start_phase("setup", watchdog * 4);
	ctl = openat(dirfd, "ctl", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		     0644);
	if (ctl < 0 || write_file(ctl, "ctl", CTL_OWNER, 0, 1, CTL_LEN))
		goto out;
	for (i = 0; i < pad; i++) {
		snprintf(name, sizeof(name), "pad.%u", i);
		pads[i] = openat(dirfd, name,
				 O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (pads[i] < 0) {
			st_fail(NULL, "create %s: %s", name, strerror(errno));
			goto out;
		}
		if (write_file(pads[i], name, PAD_OWNER, i, 1, PAD_LEN))
			goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "lim.%u", i);
		fd = openat(dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			    0644);
		if (fd < 0) {
			st_fail(NULL, "create %s: %s", name, strerror(errno));
			goto out;
		}
		err = write_file(fd, name, LIM_OWNER, i, 1, LIM_LEN);
		close(fd);
		if (err)
			goto out;
	}
	before = map_count(daemon);
	if (before < 0) {
		st_fail(NULL, "cannot read /proc/%d/maps", (int)daemon);
		goto out;
	}
	limit = before + (long)margin;

	/* At the limit. */
	start_phase("opening files with the limit lowered", watchdog);
	saved_valid = 1;
	err = set_limit(limit);
	if (err) {
		saved_valid = 0;
		st_fail(NULL, "lowering %s to %ld: %s", MAX_MAP_COUNT, limit,
			strerror(-err));
		goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "lim.%u", i);
		lim[i] = openat(dirfd, name, O_RDWR | O_CLOEXEC);
		if (lim[i] < 0) {
			if (errno != ENOMEM && errno != ENFILE) {
				st_fail(NULL,
					"open %s beyond the mapping "
					"limit: %s, expected ENOMEM or "
					"ENFILE",
					name, strerror(errno));
				goto out;
			}
			enomem += errno == ENOMEM;
			enfile += errno == ENFILE;
			if (!refused++)
				first_refused = i;
			continue;
		}
		opened++;
		if (check_file(lim[i], name, LIM_OWNER, i, 1, LIM_LEN))
			goto out;
	}
	if (!refused) {
		st_fail(NULL,
			"all %u opens succeeded with %s at %ld (the "
			"daemon had %ld mappings): the limit was never "
			"reached",
			n, MAX_MAP_COUNT, limit, before);
		goto out;
	}
	if (at_limit_checks(dirfd, ctl, lim, n))
		goto out;

	/* Closing files gives their mappings back. */
	start_phase("after closing: opening again", watchdog);
	closed = 0;
	for (i = 0; i < n; i++) {
		if (lim[i] >= 0) {
			close(lim[i]);
			lim[i] = -1;
			closed++;
		}
	}
	for (i = first_refused; i < n && reopened < (closed + 1) / 2; i++) {
		if (lim[i] >= 0)
			continue;
		snprintf(name, sizeof(name), "lim.%u", i);
		lim[i] = openat(dirfd, name, O_RDWR | O_CLOEXEC);
		if (lim[i] < 0) {
			st_fail(NULL,
				"open %s after closing %u files: %s "
				"(%u reopened so far)",
				name, closed, strerror(errno), reopened);
			goto out;
		}
		if (check_file(lim[i], name, LIM_OWNER, i, 1, LIM_LEN))
			goto out;
		reopened++;
	}
	if (!reopened) {
		st_fail(NULL, "no file could be opened after closing %u",
			closed);
		goto out;
	}
	restore_limit();
	if (saved_valid) {
		st_fail(NULL, "could not restore %s", MAX_MAP_COUNT);
		goto out;
	}

	/* Back to normal: every file opens and holds its bytes. */
	start_phase("after restoring the limit", watchdog * 4);
	for (i = 0; i < n; i++) {
		if (lim[i] >= 0)
			close(lim[i]);
		lim[i] = -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "lim.%u", i);
		fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			st_fail(NULL, "open %s with the limit restored: %s",
				name, strerror(errno));
			goto out;
		}
		err = check_file(fd, name, LIM_OWNER, i, 1, LIM_LEN);
		close(fd);
		if (err)
			goto out;
	}
	phase = "after restoring the limit: pad files";
	for (i = 0; i < pad; i++) {
		snprintf(name, sizeof(name), "pad.%u", i);
		if (check_file(pads[i], name, PAD_OWNER, i, 1, PAD_LEN))
			goto out;
	}
	alarm(0);
	st_say("mapping limit: daemon at %ld mappings, limit lowered to %ld; "
	       "of %u files %u opened, %u refused (%u ENOMEM, %u ENFILE); "
	       "at the limit, growing a mapped file: %s, writing an empty "
	       "one: %s; after closing %u, %u of the refused opened; all "
	       "bytes intact (%.1f s)",
	       before, limit, n, opened, refused, enomem, enfile, grow_result,
	       empty_result, closed, reopened, secs_since(&t0));
	rc = 0;
out:
	restore_limit();
	alarm(0);
	for (i = 0; i < n; i++)
		if (lim[i] >= 0)
			close(lim[i]);
	for (i = 0; i < pad; i++) {
		if (pads[i] >= 0)
			close(pads[i]);
		snprintf(name, sizeof(name), "pad.%u", i);
		unlinkat(dirfd, name, 0);
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "lim.%u", i);
		unlinkat(dirfd, name, 0);
	}
	if (ctl >= 0)
		close(ctl);
	unlinkat(dirfd, "ctl", 0);
	close(dirfd);
	free(lim);
	free(pads);
	return rc;
}
