/* errfs - a passthrough file system whose reads and writes fail where it
 * is told to, standing in for a failing disk under BACKING (t-ioerr.sh).
 *
 *	errfs SOURCE MOUNTPOINT RULES [FUSE options]
 *
 * Serves the tree under SOURCE.  RULES names a file of lines
 *
 *	read|write PATH FIRST LAST ERRNO
 *
 * each failing a read or write of PATH (as named in the mount: "/img")
 * that touches bytes FIRST to LAST with the errno of that number.  The
 * file is read again whenever it is replaced or changed; a missing or
 * empty one fails nothing.  Only what the tests need is served: files
 * and directories, no links, no special files. */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MAX_RULES 16

struct rule {
	bool write;
	char path[PATH_MAX];
	off_t first, last;
	int err;
};

static int src_fd;
static const char *rules_path;
static pthread_mutex_t rules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rule rules[MAX_RULES];
static int nrules;
static struct stat rules_st; /* the rules file as last read */

/* Read the rules again if their file changed (lock held). */
static void rules_load(void)
{
	char op[8], line[PATH_MAX + 64];
	struct stat st;
	struct rule r;
	FILE *f;

	if (stat(rules_path, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (st.st_ino == rules_st.st_ino && st.st_size == rules_st.st_size &&
	    st.st_mtim.tv_sec == rules_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == rules_st.st_mtim.tv_nsec)
		return;
	rules_st = st;
	nrules = 0;
	f = fopen(rules_path, "r");
	if (!f)
		return;
	while (nrules < MAX_RULES && fgets(line, sizeof(line), f)) {
		long long first, last;

		if (sscanf(line, "%7s %4095s %lld %lld %d", op, r.path, &first,
			   &last, &r.err) != 5)
			continue;
		r.write = strcmp(op, "write") == 0;
		r.first = (off_t)first;
		r.last = (off_t)last;
		rules[nrules++] = r;
	}
	fclose(f);
}

/* The errno a read or write of [off, off + n) of path must fail with. */
static int injected(const char *path, bool write, off_t off, size_t n)
{
	int i, err = 0;

	pthread_mutex_lock(&rules_lock);
	rules_load();
	for (i = 0; i < nrules && !err; i++)
		if (rules[i].write == write && strcmp(rules[i].path, path) == 0 &&
		    off <= rules[i].last && off + (off_t)n > rules[i].first)
			err = rules[i].err;
	pthread_mutex_unlock(&rules_lock);
	if (err)
		fprintf(stderr, "errfs: %s %s at %lld: errno %d\n",
			write ? "write" : "read", path, (long long)off, err);
	return err;
}

/* path relative to SOURCE ("/" is "."). */
static const char *rel(const char *path)
{
	return path[1] ? path + 1 : ".";
}

static int e_getattr(const char *path, struct stat *st,
		     struct fuse_file_info *fi)
{
	int r = fi ? fstat((int)fi->fh, st)
		   : fstatat(src_fd, rel(path), st, AT_SYMLINK_NOFOLLOW);

	return r < 0 ? -errno : 0;
}

static int e_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
		     off_t off, struct fuse_file_info *fi,
		     enum fuse_readdir_flags flags)
{
	struct dirent *de;
	DIR *d;
	int fd;

	(void)off, (void)fi, (void)flags;
	fd = openat(src_fd, rel(path), O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	while ((de = readdir(d)))
		if (fill(buf, de->d_name, NULL, 0, 0))
			break;
	closedir(d);
	return 0;
}

static int e_mkdir(const char *path, mode_t mode)
{
	return mkdirat(src_fd, rel(path), mode) < 0 ? -errno : 0;
}

static int e_unlink(const char *path)
{
	return unlinkat(src_fd, rel(path), 0) < 0 ? -errno : 0;
}

static int e_rmdir(const char *path)
{
	return unlinkat(src_fd, rel(path), AT_REMOVEDIR) < 0 ? -errno : 0;
}

static int e_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	int fd, r;

	if (fi)
		return ftruncate((int)fi->fh, size) < 0 ? -errno : 0;
	fd = openat(src_fd, rel(path), O_WRONLY);
	if (fd < 0)
		return -errno;
	r = ftruncate(fd, size) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int e_utimens(const char *path, const struct timespec tv[2],
		     struct fuse_file_info *fi)
{
	int r = fi ? futimens((int)fi->fh, tv)
		   : utimensat(src_fd, rel(path), tv, 0);

	return r < 0 ? -errno : 0;
}

static int e_open(const char *path, struct fuse_file_info *fi)
{
	int fd = openat(src_fd, rel(path), fi->flags & ~O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int e_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int fd = openat(src_fd, rel(path), fi->flags | O_CREAT, mode);

	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int e_read(const char *path, char *buf, size_t n, off_t off,
		  struct fuse_file_info *fi)
{
	int err = injected(path, false, off, n);
	ssize_t r;

	if (err)
		return -err;
	r = pread((int)fi->fh, buf, n, off);
	return r < 0 ? -errno : (int)r;
}

static int e_write(const char *path, const char *buf, size_t n, off_t off,
		   struct fuse_file_info *fi)
{
	int err = injected(path, true, off, n);
	ssize_t r;

	if (err)
		return -err;
	r = pwrite((int)fi->fh, buf, n, off);
	return r < 0 ? -errno : (int)r;
}

static int e_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	int fd = (int)fi->fh;

	(void)path;
	return (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
}

static int e_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	close((int)fi->fh);
	return 0;
}

static int e_statfs(const char *path, struct statvfs *sv)
{
	(void)path;
	return fstatvfs(src_fd, sv) < 0 ? -errno : 0;
}

static void *e_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->use_ino = 1;
	cfg->hard_remove = 1; /* an open file unlinked: no rename to hide it */
	cfg->entry_timeout = cfg->attr_timeout = cfg->negative_timeout = 0;
	return NULL;
}

static const struct fuse_operations e_ops = {
	.init = e_init,
	.getattr = e_getattr,
	.readdir = e_readdir,
	.mkdir = e_mkdir,
	.unlink = e_unlink,
	.rmdir = e_rmdir,
	.truncate = e_truncate,
	.utimens = e_utimens,
	.open = e_open,
	.create = e_create,
	.read = e_read,
	.write = e_write,
	.fsync = e_fsync,
	.release = e_release,
	.statfs = e_statfs,
};

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: errfs SOURCE MOUNTPOINT RULES "
				"[FUSE options]\n");
		return 2;
	}
	src_fd = open(argv[1], O_PATH | O_DIRECTORY);
	if (src_fd < 0) {
		perror(argv[1]);
		return 2;
	}
	rules_path = argv[3];
	/* fuse_main sees: errfs MOUNTPOINT [FUSE options] */
	argv[3] = argv[2];
	argv[2] = argv[0];
	return fuse_main(argc - 2, argv + 2, &e_ops, NULL);
}
