/* stress.c - the concurrency stress test: several processes and threads on
 * the same files of a mount for a bounded time (their roles: roles.c,
 * trunc.c, names.c), a watchdog that fails the run when any operation takes
 * too long, and a final check of every byte against the model the workers
 * kept (verify.c); also the many-files and mapping-limit modes (limits.c)
 * and a check of a directory against an expect file of an earlier run. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"

const char *const st_role_names[R_COUNT] = {
	"writer",    "reader", "appender",  "mapper",
	"truncater", "ioctl",  "namespace", "opener",
};

const char *const st_op_names[OP_COUNT] = {
	[OP_NONE] = "none",	     [OP_PREAD] = "pread",
	[OP_PWRITE] = "pwrite",	     [OP_APPEND] = "append",
	[OP_FSYNC] = "fsync",	     [OP_OPEN] = "open",
	[OP_CLOSE] = "close",	     [OP_FTRUNCATE] = "ftruncate",
	[OP_TRUNCATE] = "truncate",  [OP_STAT] = "stat",
	[OP_MMAP] = "mmap",	     [OP_MUNMAP] = "munmap",
	[OP_MSYNC] = "msync",	     [OP_MAPCOPY] = "mapcopy",
	[OP_FIND] = "FIND",	     [OP_RFIND] = "RFIND",
	[OP_INFO] = "INFO",	     [OP_STATS] = "STATS",
	[OP_MADVISE] = "MADVISE",    [OP_FLUSH] = "FLUSH",
	[OP_BADIOCTL] = "bad ioctl", [OP_CREATE] = "create",
	[OP_RENAME] = "rename",	     [OP_LINK] = "link",
	[OP_UNLINK] = "unlink",	     [OP_MKDIR] = "mkdir",
	[OP_RMDIR] = "rmdir",	     [OP_READDIR] = "readdir",
};

static struct st_model *g_model; /* for st_fail's stop flag */
static uint64_t g_seed;

int64_t st_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void st_sleep_us(unsigned int us)
{
	struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One write(2) per message, so lines of parallel workers do not mix. */
__attribute__((format(printf, 2, 0))) static void
st_vprint(const char *prefix, const char *fmt, va_list ap)
{
	char buf[2048];
	int n;

	n = snprintf(buf, sizeof(buf), "%s", prefix);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(2, buf, (size_t)n) < 0)
		return;
}

void st_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	st_vprint("stress: ", fmt, ap);
	va_end(ap);
}

/* A mismatch or an unexpected error: report it with who and the seed,
 * and stop the run.  Returns -1 for the role to return. */
int st_fail(struct st_worker *w, const char *fmt, ...)
{
	char prefix[256];
	va_list ap;

	if (w)
		snprintf(prefix, sizeof(prefix),
			 "stress: FAIL: %s worker %u (process %u, pid %d, "
			 "seed %" PRIu64 ", op %" PRIu64 "): ",
			 st_role_names[w->role], w->wid, w->proc, (int)getpid(),
			 g_seed, atomic_load(&w->slot->ops));
	else
		snprintf(prefix, sizeof(prefix),
			 "stress: FAIL (seed %" PRIu64 "): ", g_seed);
	va_start(ap, fmt);
	st_vprint(prefix, fmt, ap);
	va_end(ap);
	if (g_model) {
		atomic_store(&g_model->sh->failed, 1);
		atomic_store(&g_model->sh->stop, 1);
	}
	return -1;
}

void st_hexdump(const char *what, const unsigned char *p, size_t n,
		uint64_t off)
{
	char line[128];
	size_t i, j;
	int k;

	st_say("%s (%zu bytes at offset %" PRIu64 "):", what, n, off);
	for (i = 0; i < n; i += 16) {
		k = snprintf(line, sizeof(line), "  %08" PRIx64 ":",
			     off + (uint64_t)i);
		for (j = i; j < i + 16 && j < n; j++)
			k += snprintf(line + k, sizeof(line) - (size_t)k,
				      " %02x", p[j]);
		st_say("%s", line);
	}
}

ssize_t st_pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = pread(fd, (char *)buf + done, n - done,
			  (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

ssize_t st_pwrite_full(int fd, const void *buf, size_t n, uint64_t off)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = pwrite(fd, (const char *)buf + done, n - done,
			   (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* ---------------------------------------------------------------- workers */

void *st_worker_main(void *arg)
{
	struct st_worker *w = arg;

	w->buf = malloc(ST_BUFSZ);
	w->buf2 = malloc(ST_BUFSZ);
	if (!w->buf || !w->buf2)
		st_fail(w, "out of memory");
	else
		st_role_run(w);
	free(w->buf);
	free(w->buf2);
	atomic_store(&w->slot->done, 1);
	return NULL;
}

/* One worker process: its threads share one shared.dat descriptor. */
static int process_main(const struct st_cfg *cfg, struct st_model *m, int dirfd,
			unsigned int proc)
{
	struct st_worker *ws = calloc(cfg->nthreads, sizeof(*ws));
	pthread_t *tids = calloc(cfg->nthreads, sizeof(*tids));
	unsigned int t, started = 0;
	int sfd, err;

	if (!ws || !tids)
		return st_fail(NULL, "out of memory");
	sfd = openat(dirfd, ST_SHARED, O_RDWR | O_CLOEXEC);
	if (sfd < 0)
		return st_fail(NULL, "process %u: open %s: %s", proc, ST_SHARED,
			       strerror(errno));
	for (t = 0; t < cfg->nthreads; t++) {
		struct st_worker *w = &ws[t];

		w->cfg = cfg;
		w->m = m;
		w->wid = proc * cfg->nthreads + t;
		w->proc = proc;
		w->role = (int)(w->wid % R_COUNT);
		w->slot = &m->sh->slot[w->wid];
		w->rng = cfg->seed ^ ((uint64_t)(w->wid + 1) << 40);
		st_rand(&w->rng);
		w->dirfd = dirfd;
		w->shared_fd = sfd;
		err = pthread_create(&tids[t], NULL, st_worker_main, w);
		if (err) {
			st_fail(w, "pthread_create: %s", strerror(err));
			break;
		}
		started++;
	}
	for (t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	close(sfd);
	free(ws);
	free(tids);
	return 0;
}

/* ---------------------------------------------------------------- setup */

int st_raise_nofile(uint64_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur >= want)
		return 0;
	if (rl.rlim_max < want) {
		rl.rlim_max = want; /* root may */
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -errno;
		return 0;
	}
	rl.rlim_cur = want;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}

static unsigned int count_role(unsigned int nw, int role)
{
	return nw > (unsigned int)role
		       ? (nw - (unsigned int)role + R_COUNT - 1) / R_COUNT
		       : 0;
}

static int setup_files(const struct st_cfg *cfg, int dirfd, unsigned int nw)
{
	int fd;

	fd = openat(dirfd, ST_SHARED, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return st_fail(NULL, "create %s in %s: %s", ST_SHARED, cfg->dir,
			       strerror(errno));
	if (ftruncate(fd, (off_t)nw * ST_REGION) < 0) {
		close(fd);
		return st_fail(NULL, "ftruncate %s: %s", ST_SHARED,
			       strerror(errno));
	}
	close(fd);
	fd = openat(dirfd, ST_LOG, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return st_fail(NULL, "create %s: %s", ST_LOG, strerror(errno));
	close(fd);
	return 0;
}

/* ---------------------------------------------------------------- run */

/* Kill every worker process and collect them (they may be stuck in a
 * request that never returns; give up after a while). */
static void kill_all(pid_t *pids, unsigned int n)
{
	unsigned int i, left;
	int k;

	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	for (k = 0; k < 100; k++) {
		left = 0;
		for (i = 0; i < n; i++) {
			if (pids[i] <= 0)
				continue;
			if (waitpid(pids[i], NULL, WNOHANG) == pids[i])
				pids[i] = 0;
			else
				left++;
		}
		if (!left)
			return;
		st_sleep_us(100000);
	}
	st_say("%u worker processes would not die (stuck in the kernel?)",
	       left);
}

/* The parent: start the clock, watch every op, stop the workers at the
 * deadline, collect them.  0, 1 (a worker failed) or 2 (watchdog). */
static int supervise(const struct st_cfg *cfg, struct st_model *m, pid_t *pids)
{
	int64_t start = st_now_ns(), now, t0, limit;
	int64_t wd = (int64_t)(cfg->watchdog * 1e9);
	int64_t end = start + (int64_t)(cfg->duration * 1e9);
	unsigned int i, alive;
	int status, rc = 0;
	pid_t p;

	for (;;) {
		st_sleep_us(50000);
		now = st_now_ns();
		if (now >= end)
			atomic_store(&m->sh->stop, 1);
		for (i = 0; i < m->nw; i++) {
			struct st_slot *s = &m->sh->slot[i];

			t0 = atomic_load_explicit(&s->op_start,
						  memory_order_acquire);
			if (t0 == 0 || now - t0 <= wd)
				continue;
			st_fail(NULL,
				"watchdog: %s worker %u (process %u) has "
				"waited %.1f s for %s: the request was not "
				"answered",
				st_role_names[i % R_COUNT], i,
				i / cfg->nthreads, (double)(now - t0) / 1e9,
				st_op_names[atomic_load(&s->op) % OP_COUNT]);
			kill_all(pids, cfg->nprocs);
			return 2;
		}
		alive = 0;
		for (i = 0; i < cfg->nprocs; i++) {
			if (pids[i] <= 0)
				continue;
			p = waitpid(pids[i], &status, WNOHANG);
			if (p != pids[i]) {
				alive++;
				continue;
			}
			pids[i] = 0;
			if (WIFSIGNALED(status)) {
				st_fail(NULL,
					"worker process %u killed by "
					"signal %d (%s)",
					i, WTERMSIG(status),
					strsignal(WTERMSIG(status)));
				rc = 1;
			} else if (WEXITSTATUS(status) != 0) {
				rc = 1;
			}
		}
		if (!alive)
			break;
		/* Workers stop within one op of the deadline; the watchdog
		 * covers a stuck op, this covers a worker that ignores the
		 * flag. */
		limit = end + wd + 30 * (int64_t)1000000000;
		if (now > limit) {
			st_fail(NULL,
				"worker processes still running %.0f s "
				"after the deadline",
				(double)(now - end) / 1e9);
			kill_all(pids, cfg->nprocs);
			return 2;
		}
	}
	if (atomic_load(&m->sh->failed))
		rc = 1;
	return rc;
}

static void summary(const struct st_cfg *cfg, struct st_model *m)
{
	uint64_t ops[R_COUNT] = {0}, retries = 0, total = 0;
	char line[512];
	unsigned int i;
	int r, k = 0;

	for (i = 0; i < m->nw; i++) {
		ops[i % R_COUNT] += atomic_load(&m->sh->slot[i].ops);
		retries += atomic_load(&m->sh->slot[i].retries);
	}
	for (r = 0; r < R_COUNT; r++) {
		total += ops[r];
		k += snprintf(line + k, sizeof(line) - (size_t)k,
			      " %s %" PRIu64, st_role_names[r], ops[r]);
	}
	st_say("%" PRIu64 " ops in %.0f s by %u processes x %u threads:%s; "
	       "%" PRIu64 " transient views re-read",
	       total, cfg->duration, cfg->nprocs, cfg->nthreads, line, retries);
}

static int write_expect(struct st_model *m, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return st_fail(NULL, "create %s: %s", path, strerror(errno));
	n = st_pwrite_full(fd, m->sh, m->total, 0);
	close(fd);
	if (n != (ssize_t)m->total)
		return st_fail(NULL, "write %s: %s", path,
			       n < 0 ? strerror((int)-n) : "short");
	return 0;
}

/* -V: check a directory (the backing one, after unmount) against the
 * state an earlier run left in an expect file. */
static int verify_only(const char *dir, const char *path)
{
	struct st_params p;
	struct st_model m;
	struct st_shared *sh;
	size_t total;
	int fd, dirfd, rc;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return st_fail(NULL, "open %s: %s", path, strerror(errno));
	n = st_pread_full(fd, &p, sizeof(p), 0);
	total = n == (ssize_t)sizeof(p) ? st_area_size(&p) : 0;
	sh = total ? calloc(1, total) : NULL;
	if (!sh || st_pread_full(fd, sh, total, 0) != (ssize_t)total) {
		close(fd);
		free(sh);
		return st_fail(NULL,
			       "%s is not an expect file of this "
			       "version",
			       path);
	}
	close(fd);
	st_model_layout(&m, sh, &sh->p);
	g_seed = sh->p.seed;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		free(sh);
		return st_fail(NULL, "open %s: %s", dir, strerror(errno));
	}
	rc = st_verify(&m, dirfd, dir) < 0 ? 1 : 0;
	close(dirfd);
	free(sh);
	return rc;
}

static int run(const struct st_cfg *cfg, const char *expect)
{
	struct st_params p = {
		.magic = ST_MAGIC,
		.version = ST_VERSION,
		.nprocs = cfg->nprocs,
		.nthreads = cfg->nthreads,
		.seed = cfg->seed,
		.logmax = cfg->logmax,
	};
	unsigned int nw = cfg->nprocs * cfg->nthreads, i, nopeners;
	struct st_model m;
	pid_t *pids;
	size_t total;
	void *area;
	int dirfd, rc, err;

	nopeners = count_role(nw, R_OPENER);
	p.nopen = nopeners ? cfg->nopen_total / nopeners : 0;
	if (p.nopen > ST_MAXOPEN)
		p.nopen = ST_MAXOPEN;
	/* the files of the openers one process can have, plus a few per
	 * thread */
	err = st_raise_nofile(
		(uint64_t)p.nopen * ((cfg->nthreads + R_COUNT - 1) / R_COUNT) +
		64 * cfg->nthreads + 64);
	if (err) {
		st_say("cannot raise RLIMIT_NOFILE for %u open files: %s",
		       p.nopen, strerror(-err));
		return 1;
	}
	total = st_area_size(&p);
	area = mmap(NULL, total, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		st_say("mmap of %zu bytes: %s", total, strerror(errno));
		return 1;
	}
	memcpy(area, &p, sizeof(p));
	st_model_layout(&m, area, &p);
	g_model = &m;

	dirfd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		st_say("open %s: %s", cfg->dir, strerror(errno));
		return 1;
	}
	if (setup_files(cfg, dirfd, nw) < 0)
		return 1;
	if (!cfg->quiet)
		st_say("seed %" PRIu64 ": %u processes x %u threads for %.0f s "
		       "in %s, %u files held open, watchdog %.0f s",
		       cfg->seed, cfg->nprocs, cfg->nthreads, cfg->duration,
		       cfg->dir, p.nopen * nopeners, cfg->watchdog);

	pids = calloc(cfg->nprocs, sizeof(*pids));
	if (!pids)
		return 1;
	fflush(NULL);
	for (i = 0; i < cfg->nprocs; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			st_fail(NULL, "fork: %s", strerror(errno));
			kill_all(pids, i);
			return 1;
		}
		if (pids[i] == 0)
			_exit(process_main(cfg, &m, dirfd, i) < 0 ? 1 : 0);
	}
	rc = supervise(cfg, &m, pids);
	summary(cfg, &m);
	if (rc == 0 && st_verify(&m, dirfd, cfg->dir) < 0)
		rc = 1;
	if (rc == 0 && expect && write_expect(&m, expect) < 0)
		rc = 1;
	close(dirfd);
	free(pids);
	munmap(area, total);
	if (rc == 0)
		st_say("PASS (seed %" PRIu64 ")", cfg->seed);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stress -d DIR [OPTIONS]      concurrent run\n"
		"       stress -d DIR -M N           N files open at once\n"
		"       stress -d DIR -L N -D PID    mapping limit "
		"(vm.max_map_count)\n"
		"       stress -d DIR -V EXPECT      check DIR against a run\n"
		"\n"
		"  -d DIR      directory on the mount (files are made there)\n"
		"  -t SECONDS  duration of the run (10)\n"
		"  -p N        worker processes (2)\n"
		"  -j N        threads per process (4); roles go round: "
		"writer,\n"
		"              reader, appender, mapper, truncater, ioctl,\n"
		"              namespace, opener\n"
		"  -S SEED     random seed (default: from the clock; printed)\n"
		"  -w SECONDS  watchdog: longest any one op may take (30)\n"
		"  -F N        files the openers hold open, in all (1000)\n"
		"  -A MIB      stop appending when the log reaches this (64)\n"
		"  -x FILE     at the end, save the expected state to FILE\n"
		"  -V FILE     only check DIR against FILE (from -x)\n"
		"  -M N        open N files at once, write, read, close\n"
		"  -L N        try to open N mapped files while the kernel's\n"
		"              mapping limit is lowered to the daemon's count\n"
		"              plus -m MARGIN (40) after -P PAD (1000) files\n"
		"              were opened; -D PID is the daemon\n"
		"  -q          quiet\n"
		"Exit: 0 all checks passed, 1 a mismatch or an unexpected "
		"error,\n"
		"2 the watchdog (an op was not answered in time).\n");
}

static double num_arg(const char *s, int opt)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0) {
		fprintf(stderr, "stress: -%c: bad number '%s'\n", opt, s);
		exit(1);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct st_cfg cfg = {
		.duration = 10,
		.nprocs = 2,
		.nthreads = 4,
		.nopen_total = 1000,
		.watchdog = 30,
		.logmax = 64 << 20,
	};
	const char *expect = NULL, *verify = NULL;
	unsigned int many = 0, lim = 0, pad = 1000, margin = 40;
	pid_t daemon = 0;
	bool seeded = false;
	int c;

	while ((c = getopt(argc, argv, "d:t:p:j:S:w:F:A:x:V:M:L:P:m:D:qh")) !=
	       -1) {
		switch (c) {
		case 'd':
			cfg.dir = optarg;
			break;
		case 't':
			cfg.duration = num_arg(optarg, c);
			break;
		case 'p':
			cfg.nprocs = (unsigned int)num_arg(optarg, c);
			break;
		case 'j':
			cfg.nthreads = (unsigned int)num_arg(optarg, c);
			break;
		case 'S':
			cfg.seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 'w':
			cfg.watchdog = num_arg(optarg, c);
			break;
		case 'F':
			cfg.nopen_total = (unsigned int)num_arg(optarg, c);
			break;
		case 'A':
			cfg.logmax = (uint64_t)num_arg(optarg, c) << 20;
			break;
		case 'x':
			expect = optarg;
			break;
		case 'V':
			verify = optarg;
			break;
		case 'M':
			many = (unsigned int)num_arg(optarg, c);
			break;
		case 'L':
			lim = (unsigned int)num_arg(optarg, c);
			break;
		case 'P':
			pad = (unsigned int)num_arg(optarg, c);
			break;
		case 'm':
			margin = (unsigned int)num_arg(optarg, c);
			break;
		case 'D':
			daemon = (pid_t)num_arg(optarg, c);
			break;
		case 'q':
			cfg.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (!cfg.dir || optind != argc) {
		usage(stderr);
		return 1;
	}
	if (verify)
		return verify_only(cfg.dir, verify);
	if (many)
		return st_many_files(cfg.dir, many, cfg.watchdog) ? 1 : 0;
	if (lim) {
		if (daemon <= 0) {
			fprintf(stderr, "stress: -L needs -D DAEMON_PID\n");
			return 1;
		}
		return st_map_limit(cfg.dir, lim, pad, daemon, margin,
				    cfg.watchdog);
	}
	if (cfg.nprocs < 1 || cfg.nthreads < 1 ||
	    cfg.nprocs * cfg.nthreads > ST_MAXW) {
		fprintf(stderr, "stress: 1 to %d workers (-p x -j)\n", ST_MAXW);
		return 1;
	}
	if (!seeded)
		cfg.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	g_seed = cfg.seed;
	signal(SIGPIPE, SIG_IGN);
	return run(&cfg, expect);
}
