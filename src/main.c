/* main.c - the mmapfs daemon's front: the checks of BACKING and
 * MOUNTPOINT after the options (cmdline.c), the private directory of
 * -o anon, logging that follows the daemon to syslog, the session's I/O
 * hooks, and the FUSE session's life. */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <linux/fuse.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include "fs.h"

#define ANON_PREFIX "mmapfs-anon."

static bool daemonized;

/* Messages: stderr in the foreground, syslog once daemonised. */
static void log_v(enum fuse_log_level level, const char *fmt, va_list ap)
{
	if (daemonized)
		vsyslog((int)level, fmt, ap);
	else
		vfprintf(stderr, fmt, ap);
}

void mmfs_log(enum fuse_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!daemonized)
		fputs("mmapfs: ", stderr);
	va_start(ap, fmt);
	log_v(level, fmt, ap);
	va_end(ap);
}

static void fuse_log_func(enum fuse_log_level level, const char *fmt,
			  va_list ap)
{
	log_v(level, fmt, ap);
}

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("mmapfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Remove name in dirfd and everything below it (no symlink followed). */
static void remove_tree(int dirfd, const char *name)
{
	struct dirent *de;
	DIR *dp;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);
	if (fd < 0) {
		unlinkat(dirfd, name, 0);
		return;
	}
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR ||
		    (de->d_type == DT_UNKNOWN &&
		     fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		     S_ISDIR(st.st_mode)))
			remove_tree(fd, de->d_name);
		else
			unlinkat(fd, de->d_name, 0);
	}
	closedir(dp);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* Where anonymous mounts keep their tree: tmpfs when there is one. */
static const char *anon_base(void)
{
	const char *t = getenv("TMPDIR");
	struct stat st;

	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	if (t && *t && stat(t, &st) == 0 && S_ISDIR(st.st_mode))
		return t;
	return "/tmp";
}

/*
 * Remove the private directories of anonymous mounts that died without
 * cleaning up: the PID in the name is gone and nobody holds the flock a
 * live daemon keeps on its directory.
 */
static void sweep_stale(const char *base)
{
	struct dirent *de;
	DIR *dp;
	int bfd, fd;
	long pid;
	char *end;

	dp = opendir(base);
	if (!dp)
		return;
	bfd = dirfd(dp);
	while ((de = readdir(dp)) != NULL) {
		if (strncmp(de->d_name, ANON_PREFIX, strlen(ANON_PREFIX)) != 0)
			continue;
		pid = strtol(de->d_name + strlen(ANON_PREFIX), &end, 10);
		if (*end != '.' || pid <= 0 || pid > INT_MAX)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		fd = openat(bfd, de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			remove_tree(bfd, de->d_name);
		close(fd);
	}
	closedir(dp);
}

/* The private directory of an anonymous mount.  The outer directory is
 * 0700 so that nobody reaches the files around the mount; its "root"
 * holds the tree. */
struct anon_dir {
	char path[PATH_MAX];
	int lock_fd; /* flock held for the daemon's life */
};

static int anon_create(struct anon_dir *ad)
{
	const char *base = anon_base();
	char root[PATH_MAX + 8];

	sweep_stale(base);
	if (snprintf(ad->path, sizeof(ad->path), "%s/" ANON_PREFIX "%d.XXXXXX",
		     base, (int)getpid()) >= (int)sizeof(ad->path))
		return -ENAMETOOLONG;
	if (!mkdtemp(ad->path))
		return -errno;
	ad->lock_fd = open(ad->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ad->lock_fd < 0 || flock(ad->lock_fd, LOCK_EX | LOCK_NB) < 0)
		goto fail;
	snprintf(root, sizeof(root), "%s/root", ad->path);
	if (mkdir(root, 0755) < 0)
		goto fail;
	return 0;
fail:
	remove_tree(AT_FDCWD, ad->path);
	return -errno;
}

/* After fuse_daemonize the PID in the name is the daemon's. */
static void anon_rename(struct anon_dir *ad)
{
	char np[PATH_MAX];
	const char *suffix = strrchr(ad->path, '.');
	char *slash;
	size_t dlen;

	slash = strrchr(ad->path, '/');
	if (!suffix || !slash)
		return;
	dlen = (size_t)(slash - ad->path);
	if (snprintf(np, sizeof(np), "%.*s/" ANON_PREFIX "%d%s", (int)dlen,
		     ad->path, (int)getpid(), suffix) >= (int)sizeof(np))
		return;
	if (rename(ad->path, np) == 0)
		memcpy(ad->path, np, sizeof(np));
}

static bool dir_is_empty(const char *path)
{
	struct dirent *de;
	bool empty = true;
	DIR *dp = opendir(path);

	if (!dp)
		return true; /* unreadable: let the mount decide */
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			empty = false;
			break;
		}
	}
	closedir(dp);
	return empty;
}

/* The mount point must be a directory that is not inside the backing tree
 * (the daemon would walk into its own mount), and empty unless -o nonempty
 * says that hiding its entries is meant.  BACKING itself may be the mount
 * point: the daemon's descriptor of it was opened before the mount and
 * still reaches the entries underneath. */
static char *check_mountpoint(const char *arg, const char *backing,
			      bool nonempty)
{
	struct stat st;
	char *mnt;
	size_t n;
	int fdnum;
	char c;

	if (sscanf(arg, "/dev/fd/%d%c", &fdnum, &c) == 1)
		return strdup(arg); /* a /dev/fuse descriptor passed in */
	mnt = realpath(arg, NULL);
	if (!mnt || stat(mnt, &st) < 0)
		die("mount point %s: %s", arg, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die("mount point %s is not a directory", arg);
	if (!nonempty && !dir_is_empty(mnt))
		die("mount point %s is not empty (see -o nonempty)", arg);
	if (backing) {
		n = strlen(backing);
		if (strcmp(backing, "/") == 0 ||
		    (strncmp(mnt, backing, n) == 0 && mnt[n] == '/'))
			die("mount point %s is inside the backing directory %s",
			    arg, backing);
	}
	return mnt;
}

static char *check_backing(const char *arg, int *fdp)
{
	struct stat st;
	char *path = realpath(arg, NULL);

	if (!path || stat(path, &st) < 0)
		die("backing directory %s: %s", arg, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die("backing directory %s is not a directory", arg);
	*fdp = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*fdp < 0)
		die("backing directory %s: %s", arg, strerror(errno));
	return path;
}

static void add_opt(struct fuse_args *args, const char *opt, const char *val)
{
	char *o = NULL, *s;

	if (val) {
		if (fuse_opt_add_opt_escaped(&o, val) < 0)
			die("out of memory");
		s = malloc(strlen(opt) + strlen(o) + 4);
		if (!s)
			die("out of memory");
		sprintf(s, "-o%s%s", opt, o);
		free(o);
	} else {
		s = malloc(strlen(opt) + 3);
		if (!s)
			die("out of memory");
		sprintf(s, "-o%s", opt);
	}
	if (fuse_opt_add_arg(args, s) < 0)
		die("out of memory");
	free(s);
}

/* Does a mountinfo field (spaces, tabs, newlines and backslashes
 * written as \ooo) name path? */
static bool mountinfo_path_is(const char *field, const char *path)
{
	unsigned int c;

	while (*field && *path) {
		if (field[0] == '\\' && sscanf(field + 1, "%3o", &c) == 1) {
			if ((unsigned char)*path != c)
				return false;
			field += 4;
		} else if (*field++ != *path) {
			return false;
		}
		path++;
	}
	return *field == '\0' && *path == '\0';
}

/*
 * The kernel gives a FUSE mount 128 KiB of readahead, so a streaming read
 * arrives as 128 KiB requests although one may carry 1 MiB less a page
 * (MMFS_MAX_READ).  Raise the mount's readahead to that before the kernel
 * reads INIT's reply, which may only lower it (op_init asks for the same):
 * eight times fewer round trips per byte read.  Needs root; without it
 * nothing changes.
 */
static void raise_readahead(const char *mnt)
{
	char line[4096], field[4096], dev[32], path[64];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	bool found = false;
	int fd;

	if (!f)
		return;
	/* the last entry for mnt is ours: it was mounted just now */
	while (fgets(line, sizeof(line), f)) {
		char d[32];

		if (sscanf(line, "%*s %*s %31s %*s %4095s", d, field) == 2 &&
		    mountinfo_path_is(field, mnt)) {
			memcpy(dev, d, sizeof(dev));
			found = true;
		}
	}
	fclose(f);
	if (!found)
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	snprintf(line, sizeof(line), "%d\n", MMFS_MAX_READ / 1024);
	if (write(fd, line, strlen(line)) < 0)
		mmfs_log(FUSE_LOG_DEBUG, "%s: %s\n", path, strerror(errno));
	close(fd);
}

/*
 * FUSE_HANDLE_KILLPRIV_V2, which libfuse 3.14 cannot ask for.  Without it
 * the kernel asks for security.capability (a GETXATTR round trip) before
 * every write(2) to the mount: two requests for each small write.  With
 * it the kernel skips that check while an inode is known to carry neither
 * setuid bits nor capabilities (S_NOSEC, until its attributes are fetched
 * again) and leaves one duty to us: clearing setuid and setgid (which,
 * see mmfs_kill_suidgid) when an unprivileged caller writes or truncates,
 * which it flags in the request.  These session I/O hooks add the flag
 * to INIT's reply when the kernel offers it, and copy a request's kill
 * flag into its open-flags field, which libfuse hands on as fi->flags
 * (MMFS_O_KILL_SUIDGID).  The read hook also hands an open(O_TMPFILE) on
 * to libfuse as a CREATE.
 */
static _Atomic uint64_t init_unique; /* INIT's request id, 0 once answered */
static _Atomic uint32_t init_offered; /* the flags the kernel offered */

/* The sync flags of the FUSE_STATX this thread read last, or -1: each
 * thread serves the request it read (loop.c). */
static __thread int64_t statx_sync = -1;

bool mmfs_statx_taken(unsigned int *sync)
{
	if (statx_sync < 0)
		return false;
	*sync = (unsigned int)statx_sync;
	statx_sync = -1;
	return true;
}

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	struct fuse_in_header *in = buf;
	ssize_t n = mmfs_loop_read(fd, buf, len);
	size_t have = n > 0 ? (size_t)n : 0;

	(void)userdata;
	statx_sync = -1;
	if (have < sizeof(*in))
		return n;
	have -= sizeof(*in);
	switch (in->opcode) {
	case MMFS_FUSE_STATX: {
		/* statx(2) asking for the birth time: libfuse 3.14 would
		 * answer ENOSYS, and the kernel then never asks again.  Its
		 * arguments begin as GETATTR's (flags, the handle), so it
		 * goes to libfuse as a GETATTR, which op_getattr answers
		 * in STATX's form (-d shows it as a GETATTR) */
		struct mmfs_statx_in *a = (void *)(in + 1);

		if (have >= sizeof(*a)) {
			statx_sync = a->sx_flags & AT_STATX_SYNC_TYPE;
			in->opcode = FUSE_GETATTR;
		}
		break;
	}
	case FUSE_INIT: {
		struct fuse_init_in *a = (void *)(in + 1);

		if (have >= offsetof(struct fuse_init_in, flags2)) {
			init_offered = a->flags;
			init_unique = in->unique;
		}
		break;
	}
	case FUSE_WRITE: {
		struct fuse_write_in *a = (void *)(in + 1);

		if (have >= sizeof(*a) &&
		    (a->write_flags & FUSE_WRITE_KILL_SUIDGID))
			a->flags |= (uint32_t)MMFS_O_KILL_SUIDGID;
		break;
	}
	case FUSE_OPEN: {
		struct fuse_open_in *a = (void *)(in + 1);

		if (have >= sizeof(*a) &&
		    (a->open_flags & FUSE_OPEN_KILL_SUIDGID))
			a->flags |= (uint32_t)MMFS_O_KILL_SUIDGID;
		break;
	}
	case FUSE_TMPFILE:
		/* open(O_TMPFILE): libfuse 3.14 has no operation for it, and
		 * it carries CREATE's arguments and takes CREATE's reply;
		 * the name is "/", which tells create (open.c) apart */
		in->opcode = FUSE_CREATE;
		/* fall through */
	case FUSE_CREATE: {
		struct fuse_create_in *a = (void *)(in + 1);

		if (have >= sizeof(*a) &&
		    (a->open_flags & FUSE_OPEN_KILL_SUIDGID))
			a->flags |= (uint32_t)MMFS_O_KILL_SUIDGID;
		break;
	}
	}
	return n;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct fuse_out_header *out = iov[0].iov_base;
	struct fuse_init_out *a;
	uint64_t u = init_unique;
	ssize_t r;

	(void)userdata;
	if (u && count >= 2 && iov[0].iov_len == sizeof(*out) &&
	    out->unique == u) {
		init_unique = 0;
		a = iov[1].iov_base;
		if (out->error == 0 &&
		    iov[1].iov_len >= offsetof(struct fuse_init_out,
					       max_background) &&
		    (init_offered & FUSE_HANDLE_KILLPRIV_V2))
			a->flags |= FUSE_HANDLE_KILLPRIV_V2;
	}
	if (mmfs_splice_send(fd, iov, count, &r))
		return r;
	return writev(fd, iov, count);
}

static const struct fuse_custom_io session_io = {
	.read = io_read,
	.writev = io_writev,
};

/*
 * libfuse's loop grows to 10 threads, and every request then wakes the
 * thread that has waited longest: on a small machine that costs more than
 * it gives (a serial workload such as tar ran 25% faster with 2), and each
 * CPU a thread has run on must take part in every TLB shootdown of munmap
 * and mremap.  Unless -o max_threads says otherwise: one per CPU, 2 to 10.
 */
static bool given_max_threads(const struct fuse_args *args)
{
	int i;

	for (i = 0; i < args->argc; i++)
		if (strstr(args->argv[i], "max_threads="))
			return true;
	return false;
}

static unsigned int default_max_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 2 ? 2 : n > 10 ? 10 : (unsigned int)n;
}

/*
 * glibc loads the unwinder (libgcc_s) at the first pthread_cancel, which
 * the request loop (loop.c) calls when the mount ends.  If every
 * descriptor is in use by then (clients held files open up to our limit),
 * that load fails and glibc aborts the daemon.  Load it now, while
 * descriptors are free; a failure here only leaves things as they were.
 */
static void load_unwinder(void)
{
	(void)dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE);
}

static void raise_nofile(void)
{
	struct rlimit rl;

	/* every inode holds a descriptor (an open file no more than that) */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct mmfs_cmdline cl;
	struct fuse_session *se;
	struct anon_dir ad = {.lock_fd = -1};
	static struct mmfs_fs fs;
	char *backing = NULL, *mnt;
	char root[PATH_MAX + 8], msg[PATH_MAX + 128];
	int root_fd = -1, ret = 1, err;
	bool given;
	long n;

	if (mmfs_parse_cmdline(&args, &cl, msg, sizeof(msg)) < 0)
		die("%s", msg);
	if (cl.help || cl.version) {
		if (cl.help)
			mmfs_usage(argv[0]);
		else
			mmfs_print_version();
		mmfs_cmdline_free(&cl);
		fuse_opt_free_args(&args);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "mmapfs: write error: %s\n",
				strerror(errno));
			return 1;
		}
		return 0;
	}
	fs.access = cl.access;
	fs.cache = cl.cache;
	fs.anon = cl.anon;
	fs.writeback = cl.writeback;
	fs.noatime = cl.noatime;
	fs.nodiratime = cl.noatime || cl.nodiratime;
	/* Every user of an allow_other mount would otherwise act with the
	 * daemon's rights (root's, as a rule): the daemon checks no
	 * permission itself, so the kernel must (as bindfs has it too). */
	if (cl.allow_other && !cl.default_permissions) {
		add_opt(&args, "default_permissions", NULL);
		cl.default_permissions = true;
	}
	fs.acl = cl.default_permissions;
	fs.max_read = cl.max_read;
	if (!cl.anon)
		backing = check_backing(cl.backing, &root_fd);
	mnt = check_mountpoint(cl.mountpoint, backing, cl.nonempty);
	if (!mnt)
		die("out of memory");

	if (fuse_opt_add_arg(&args, mnt) < 0)
		die("out of memory");
	if (fs.access == MMFS_ACCESS_READ)
		add_opt(&args, "ro", NULL);
	if (!cl.has_fsname)
		add_opt(&args, "fsname=", backing ? backing : "mmapfs-anon");
	if (!cl.has_subtype)
		add_opt(&args, "subtype=mmapfs", NULL);
	if (!fs.max_read) {
		char v[16];

		snprintf(v, sizeof(v), "%d", MMFS_MAX_READ);
		add_opt(&args, "max_read=", v);
		fs.max_read = MMFS_MAX_READ;
	}
	given = given_max_threads(&args); /* fuse_parse_cmdline eats it */
	if (fuse_parse_cmdline(&args, &opts) != 0) {
		/* after libfuse's own line saying why */
		fprintf(stderr, "mmapfs: libfuse refused the options\n");
		fuse_opt_free_args(&args);
		free(backing);
		free(mnt);
		mmfs_cmdline_free(&cl);
		return 1;
	}
	if (!given)
		opts.max_threads = default_max_threads();
	/* ioctls wait for the kernel's dirty pages, which other threads
	 * must be free to receive (see ioctl.c) */
	if (fs.writeback && (opts.singlethread || opts.max_threads < 2))
		die("-o writeback needs the multithreaded loop (no -s, "
		    "max_threads of 2 or more)");

	fs.timeout = fs.cache == MMFS_CACHE_ALWAYS  ? 86400.0
		     : fs.cache == MMFS_CACHE_NEVER ? 0.0
						    : 1.0;
	fs.fresh_ns = (int64_t)(fs.timeout * 1e9 / 2);
	fs.as_root = geteuid() == 0;
	raise_nofile();
	load_unwinder();
	/* a find over 32 MiB or more uses every CPU (up to 4) */
	n = sysconf(_SC_NPROCESSORS_ONLN);
	mmfs_search_threads(n < 1 ? 1 : n > 4 ? 4 : (unsigned int)n);
	/* the kernel applies the caller's umask, or (fs.dont_mask) hands it
	 * to mmfs_creds_enter */
	umask(0);
	fuse_set_log_func(fuse_log_func);

	if (fs.anon) {
		err = anon_create(&ad);
		if (err < 0)
			die("cannot create the private directory: %s",
			    strerror(-err));
		snprintf(root, sizeof(root), "%s/root", ad.path);
		root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root_fd < 0) {
			remove_tree(AT_FDCWD, ad.path);
			die("%s: %s", root, strerror(errno));
		}
	}
	err = mmfs_table_init(&fs, root_fd);
	if (err < 0) {
		fprintf(stderr, "mmapfs: %s\n", strerror(-err));
		goto out_anon;
	}

	se = fuse_session_new(&args, &mmfs_ops, sizeof(mmfs_ops), &fs);
	if (!se) {
		fprintf(stderr, "mmapfs: cannot start a FUSE session\n");
		goto out_table;
	}
	fs.se = se;
	if (fuse_set_signal_handlers(se) != 0) {
		fprintf(stderr, "mmapfs: cannot set the signal handlers\n");
		goto out_session;
	}
	/* Started under a file size limit (ulimit -f), a write or truncate
	 * past it would kill the daemon: it gets EFBIG instead, which the
	 * client is given, as a process ignoring SIGXFSZ gets it natively. */
	signal(SIGXFSZ, SIG_IGN);
	if (fuse_session_mount(se, opts.mountpoint) != 0) {
		/* after libfuse's or fusermount3's own reason */
		fprintf(stderr, "mmapfs: cannot mount on %s\n",
			opts.mountpoint);
		goto out_signals;
	}
	raise_readahead(opts.mountpoint);
	if (fuse_session_custom_io(se, &session_io, fuse_session_fd(se)) != 0)
		mmfs_log(FUSE_LOG_WARNING, "no session hooks: every write "
					   "costs a GETXATTR\n");

	if (!opts.foreground)
		openlog("mmapfs", LOG_PID, LOG_DAEMON);
	if (fuse_daemonize(opts.foreground) != 0) {
		fprintf(stderr, "mmapfs: cannot go into the background\n");
		goto out_unmount;
	}
	if (!opts.foreground) {
		daemonized = true;
		if (fs.anon)
			anon_rename(&ad);
	}

	/* after the fork of fuse_daemonize, which threads do not survive
	 * and which changes what /proc/self is */
	mmfs_procdir_open();
	mmfs_prune_init(&fs);
	err = mmfs_ioctl_start(&fs);
	if (err < 0)
		mmfs_log(FUSE_LOG_WARNING, "no ioctl thread (%s): ioctls "
			 "that drop cached pages run on the session's threads\n",
			 strerror(-err));
	/* -o clone_fd has nothing to do: the threads share one descriptor */
	ret = mmfs_loop_run(se, opts.singlethread ? 1 : opts.max_threads,
			    opts.max_idle_threads, cl.spin_us);
	ret = ret != 0 ? 1 : 0;
	mmfs_ioctl_stop(&fs);

out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_table:
	mmfs_table_destroy(&fs);
	root_fd = -1; /* closed with the root inode */
out_anon:
	if (root_fd >= 0)
		close(root_fd);
	if (fs.anon) {
		remove_tree(AT_FDCWD, ad.path);
		if (ad.lock_fd >= 0)
			close(ad.lock_fd);
	}
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	free(backing);
	free(mnt);
	mmfs_cmdline_free(&cl);
	if (daemonized)
		closelog();
	return ret;
}
