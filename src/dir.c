/* dir.c - open directories: opendir, the stream opened at the first
 * readdir, READDIR and READDIRPLUS (which looks entries up, or sends
 * them without attributes), releasedir and fsyncdir. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"

/*
 * An open directory's stream is opened at its first readdir (or fsyncdir):
 * one opened only to be a working directory or an fchdir(2) target costs
 * the daemon no descriptor beyond the inode's, so a client may hold as
 * many open as the daemon has descriptors.  Whether it may be read is
 * asked at opendir, as open(2) asks it.
 */
void mmfs_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	struct mmfs_dirh *d;

	if (faccessat(inode->fd, "", R_OK, AT_EMPTY_PATH | AT_EACCESS) < 0 &&
	    errno != EINVAL && errno != ENOSYS) { /* kernels before 5.8 */
		mmfs_reply_err(req, errno);
		return;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		mmfs_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uintptr_t)d;
	if (fs->cache == MMFS_CACHE_ALWAYS) {
		fi->keep_cache = 1;
		fi->cache_readdir = 1;
	}
	if (fuse_reply_open(req, fi) != 0)
		free(d);
}

/* The stream of open directory d, opened now if this is its first use;
 * NULL with errno set if it cannot be. */
static DIR *dir_stream(struct mmfs_fs *fs, struct mmfs_inode *inode,
		       struct mmfs_dirh *d)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC |
			  (fs->nodiratime ? O_NOATIME : 0);
	unsigned int tries = 0;
	int fd, err;

	if (d->dp)
		return d->dp;
	do {
		fd = mmfs_openat(inode->fd, ".", flags, 0);
		/* "." needs search permission, which a daemon that is not
		 * root may lack where it may read (mode 0600): by /proc,
		 * reading is all it takes, as for opendir(3) natively */
		if (fd < 0 && errno == EACCES) {
			fd = mmfs_reopen(inode, flags);
			if (fd < 0)
				errno = -fd;
		}
	} while (fd < 0 && errno == EMFILE && mmfs_prune_wait(fs, &tries));
	if (fd < 0)
		return NULL;
	d->dp = fdopendir(fd);
	if (!d->dp) {
		err = errno;
		close(fd);
		errno = err;
	}
	return d->dp;
}

static bool is_dot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/*
 * Does a READDIRPLUS entry need a lookup (attributes and a node id)?  Not
 * "." and "..", which the kernel ignores; nor while descriptors are short:
 * a listing larger than the daemon's limit would take them all at once,
 * before the kernel can let go of any; nor for a name the kernel has
 * fresh (mmfs_entry_fresh), unless it may be a directory: a mount point
 * in BACKING shows the inode it covers.
 */
static bool needs_lookup(struct mmfs_fs *fs, struct mmfs_inode *dir,
			 const struct dirent *de)
{
	if (is_dot(de->d_name) || mmfs_prune_short(fs))
		return false;
	return de->d_type == DT_DIR || de->d_type == DT_UNKNOWN ||
	       !mmfs_entry_fresh(fs, dir, de->d_name, de->d_ino);
}

/* A listing's entry without attributes: the name's inode number and
 * type alone (node id 0). */
static void bare_entry(struct fuse_entry_param *e, const struct dirent *de)
{
	memset(e, 0, sizeof(*e));
	e->attr.st_ino = de->d_ino;
	e->attr.st_mode = (mode_t)de->d_type << 12;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t offset, struct fuse_file_info *fi, bool plus)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *dir = mmfs_inode_of(fs, ino);
	struct mmfs_dirh *d = (struct mmfs_dirh *)(uintptr_t)fi->fh;
	struct fuse_entry_param e;
	size_t rem = size, entsize;
	char *buf, *p;
	int err = 0;

	if (!dir_stream(fs, dir, d)) {
		mmfs_reply_err(req, errno);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		mmfs_reply_err(req, ENOMEM);
		return;
	}
	p = buf;
	if (offset != d->offset) {
		seekdir(d->dp, offset);
		d->entry = NULL;
		d->offset = offset;
	}
	for (;;) {
		const char *name;
		off_t next;

		if (!d->entry) {
			errno = 0;
			d->entry = readdir(d->dp);
			if (!d->entry) {
				err = errno;
				break;
			}
		}
		name = d->entry->d_name;
		next = d->entry->d_off;
		bare_entry(&e, d->entry);
		/* An entry not looked up goes without attributes (node id
		 * 0); so does one whose lookup fails otherwise than by its
		 * removal (EACCES in a directory a daemon that is not root
		 * may read but not search): the listing goes on, as natively,
		 * and a stat of it meets the error. */
		if (plus && needs_lookup(fs, dir, d->entry)) {
			err = -mmfs_do_lookup(fs, dir, name, &e);
			if (err == ENOENT) { /* removed meanwhile: skip it */
				err = 0;
				d->entry = NULL;
				continue;
			}
			if (err) {
				err = 0;
				bare_entry(&e, d->entry);
			}
		}
		if (plus)
			entsize = fuse_add_direntry_plus(req, p, rem, name, &e,
							 next);
		else
			entsize = fuse_add_direntry(req, p, rem, name, &e.attr,
						    next);
		if (entsize > rem) {
			if (e.ino) { /* not sent after all */
				mmfs_entry_stale(mmfs_inode_of(fs, e.ino));
				mmfs_forget_one(fs, mmfs_inode_of(fs, e.ino),
						1);
			}
			break;
		}
		p += entsize;
		rem -= entsize;
		d->entry = NULL;
		d->offset = next;
	}
	/* an error after some entries: return those, the next call sees it */
	if (err && rem == size)
		mmfs_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, size - rem);
	free(buf);
}

void mmfs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
		     struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, offset, fi, false);
}

void mmfs_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			 off_t offset, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, offset, fi, true);
}

void mmfs_op_releasedir(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct mmfs_dirh *d = (struct mmfs_dirh *)(uintptr_t)fi->fh;

	(void)ino;
	mmfs_req_fs(req);
	if (d->dp)
		closedir(d->dp);
	free(d);
	mmfs_reply_err(req, 0);
}

void mmfs_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		      struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_dirh *d = (struct mmfs_dirh *)(uintptr_t)fi->fh;
	int err;

	mmfs_loop_yield();
	if (!dir_stream(fs, mmfs_inode_of(fs, ino), d)) {
		mmfs_reply_err(req, errno);
		return;
	}
	err = datasync ? fdatasync(dirfd(d->dp)) : fsync(dirfd(d->dp));
	mmfs_reply_err(req, err < 0 ? errno : 0);
}
