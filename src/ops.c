/* ops.c - the namespace passthrough (lookup, attributes, create/remove,
 * rename, links, xattrs, statfs, access), every call made relative to
 * the inode's O_PATH descriptor, and the operation table; directory
 * streams are dir.c's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct mmfs_fs *fs = userdata;

	if (conn->capable & FUSE_CAP_IOCTL_DIR)
		conn->want |= FUSE_CAP_IOCTL_DIR; /* STATS on the root */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	/*
	 * With default_permissions, POSIX ACLs: the kernel reads them
	 * (system.posix_acl_*, passed through) and checks them as a native
	 * file system does, instead of the mode bits alone.  It then leaves
	 * the umask to us (DONT_MASK), so that a directory's default ACL can
	 * replace it in the backing file system, as natively.
	 */
	if (fs->acl && (conn->capable & FUSE_CAP_POSIX_ACL)) {
		conn->want |= FUSE_CAP_POSIX_ACL;
		fs->kernel_acl = true;
		if (conn->capable & FUSE_CAP_DONT_MASK) {
			conn->want |= FUSE_CAP_DONT_MASK;
			fs->dont_mask = true;
		}
	}
	/*
	 * Writeback caching, only when asked for: the kernel then owns the
	 * size and mtime of a file it has cached, so a change made to the
	 * backing file behind the mount goes unseen, and ioctls act on what
	 * has been written back.  What it needs from us holds anyway: reads
	 * come from the map whatever a handle's access mode, and every write
	 * goes where the kernel placed it, O_APPEND ones too (mmfs_op_write).
	 */
	if (fs->writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	else {
		fs->writeback = false; /* from here on: the kernel's answer */
		conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	}
	conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
				  FUSE_CAP_SPLICE_MOVE);
	/* cache=auto/never: drop cached pages when the attributes say the
	 * backing file changed; cache=always trusts the cache. */
	if (fs->cache == MMFS_CACHE_ALWAYS) {
		conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
		if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
			conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	} else if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA) {
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	}
	conn->max_write = MMFS_MAX_IO; /* libfuse caps it to its buffer */
	conn->max_read = fs->max_read; /* libfuse wants the mount's value */
	/* as much as main.c's raise_readahead allowed (the kernel keeps
	 * the smaller of the two) */
	conn->max_readahead = MMFS_MAX_READ;
	if (conn->max_background < 64)
		conn->max_background = 64;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct fuse_entry_param e;
	int err;

	if (strlen(name) > NAME_MAX) {
		mmfs_reply_err(req, ENAMETOOLONG);
		return;
	}
	err = mmfs_do_lookup(fs, mmfs_inode_of(fs, parent), name, &e);
	if (err == -ENOENT && fs->timeout > 0) {
		/* a negative entry the kernel may cache */
		memset(&e, 0, sizeof(e));
		e.ino = 0;
		e.entry_timeout = fs->timeout;
		fuse_reply_entry(req, &e);
	} else if (err) {
		mmfs_reply_err(req, -err);
	} else if (fuse_reply_entry(req, &e) != 0) {
		mmfs_forget_one(fs, mmfs_inode_of(fs, e.ino), 1);
	}
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);

	mmfs_forget_one(fs, mmfs_inode_of(fs, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	size_t i;

	for (i = 0; i < count; i++)
		mmfs_forget_one(fs, mmfs_inode_of(fs, forgets[i].ino),
				forgets[i].nlookup);
	fuse_reply_none(req);
}

static void reply_attr(fuse_req_t req, struct mmfs_fs *fs,
		       struct mmfs_inode *inode)
{
	struct stat st;
	int err = mmfs_getattr_inode(fs, inode, &st);

	if (err)
		mmfs_reply_err(req, -err);
	else
		fuse_reply_attr(req, &st, fs->timeout);
}

/* A FUSE_STATX's reply (see MMFS_FUSE_STATX), with the attribute timeout
 * that fuse_reply_attr would give. */
static void reply_statx(fuse_req_t req, struct mmfs_fs *fs,
			struct mmfs_inode *inode, unsigned int sync)
{
	struct mmfs_statx_out out = { 0 };
	int err = mmfs_statx_inode(fs, inode, sync, &out.stat);
	double t = fs->timeout;

	if (err) {
		mmfs_reply_err(req, -err);
		return;
	}
	if (t > 0) {
		out.attr_valid = t >= (double)UINT32_MAX ? UINT32_MAX
							 : (uint64_t)t;
		out.attr_valid_nsec =
			(uint32_t)((t - (double)out.attr_valid) * 1e9);
	}
	fuse_reply_buf(req, (const char *)&out, sizeof(out));
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	unsigned int sync;

	(void)fi;
	if (mmfs_statx_taken(&sync))
		reply_statx(req, fs, mmfs_inode_of(fs, ino), sync);
	else
		reply_attr(req, fs, mmfs_inode_of(fs, ino));
}

/* utimensat on an inode without an open file.  AT_EMPTY_PATH works on
 * recent kernels; older ones take the /proc path (not for symlinks). */
static int utimens_inode(struct mmfs_inode *inode, const struct timespec *ts)
{
	char path[64];

	if (utimensat(inode->fd, "", ts, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOENT)
		return -errno;
	if (S_ISLNK(inode->type))
		return -EPERM;
	if (utimensat(AT_FDCWD, mmfs_procpath(inode->fd, path, sizeof(path)),
		      ts, 0) < 0)
		return -errno;
	return 0;
}

/* A request by a cached name of a file the daemon has given up: its
 * stand-in is shared (nothing may change it, and its xattrs are not the
 * file's), and ESTALE makes the kernel look the name up again
 * (mmfs_stale).  True when so answered. */
static bool given_up(fuse_req_t req, struct mmfs_inode *inode)
{
	struct stat st;

	if (!S_ISREG(inode->type) || fstat(inode->fd, &st) < 0 ||
	    !mmfs_stale(inode, st.st_dev, st.st_ino))
		return false;
	mmfs_reply_err(req, ESTALE);
	return true;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int valid, struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	const int meta = FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
			 FUSE_SET_ATTR_GID | FUSE_SET_ATTR_ATIME |
			 FUSE_SET_ATTR_MTIME;
	struct mmfs_handle *h = NULL;
	struct timespec ts[2];
	char path[64];
	int err = 0, fd = -1;

	/* -o writeback: the kernel owns mtime and ctime, and sends them as
	 * it writes the file back and with a truncation.  A copy mount
	 * leaves them to the kernel's cache instead of refusing them. */
	if (fs->access == MMFS_ACCESS_COPY && fs->writeback)
		valid &= ~(FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW |
			   FUSE_SET_ATTR_CTIME);
	if (fs->access == MMFS_ACCESS_READ ||
	    (fs->access == MMFS_ACCESS_COPY && (valid & meta))) {
		mmfs_reply_err(req, EROFS);
		return;
	}
	if (!fi && given_up(req, inode))
		return;
	/*
	 * chown(2) with owner and group both -1 reaches us with none of
	 * these attributes (a ctime at most).  Natively it still moves
	 * ctime and clears set-user-ID and set-group-ID-executable on a
	 * non-directory, which FUSE_HANDLE_KILLPRIV_V2 leaves to us: the
	 * same call on the backing object does both.  Never in a copy mount.
	 */
	if (!(valid & (meta | FUSE_SET_ATTR_SIZE))) {
		if (fs->access == MMFS_ACCESS_WRITE &&
		    fchownat(inode->fd, "", (uid_t)-1, (gid_t)-1,
			     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			err = -errno;
		goto out;
	}
	/* fi may be a directory's handle: only files carry a descriptor */
	if (fi && S_ISREG(inode->type)) {
		h = mmfs_handle_of(fi);
		fd = mmfs_handle_fd(inode, h);
	}
	if (valid & FUSE_SET_ATTR_MODE) {
		if (fd >= 0)
			err = fchmod(fd, attr->st_mode);
		else
			err = fchmodat(
				AT_FDCWD,
				mmfs_procpath(inode->fd, path, sizeof(path)),
				attr->st_mode, 0);
		if (err < 0) {
			err = -errno;
			goto out;
		}
	}
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid =
			(valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid =
			(valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;

		if (fchownat(inode->fd, "", uid, gid,
			     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
			err = -errno;
			goto out;
		}
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		if (S_ISDIR(inode->type)) {
			err = -EISDIR;
			goto out;
		}
		if (attr->st_size < 0) {
			err = -EINVAL;
			goto out;
		}
		/* truncate(2) needs write permission and a file neither
		 * immutable nor append-only, ftruncate(2) a descriptor open
		 * to write (which the kernel checked) */
		if (!fi) {
			err = mmfs_may(fs, inode, W_OK);
			if (!err && S_ISREG(inode->type))
				err = mmfs_flags_allow(fs, inode,
						       O_WRONLY | O_TRUNC);
			if (err)
				goto out;
		}
		if (valid & FUSE_SET_ATTR_KILL_SUID) /* FATTR_KILL_SUIDGID */
			mmfs_kill_suidgid(fs, req, inode, fd);
		if (h && (h->flags & O_ACCMODE) == O_RDONLY)
			fd = -1; /* ftruncate needs a writable descriptor */
		mmfs_loop_yield(); /* freeing a large file's blocks */
		err = mmfs_truncate(fs, inode, fd, (uint64_t)attr->st_size,
				    !fi);
		if (h)
			fd = mmfs_handle_fd(inode, h);
		if (err)
			goto out;
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		ts[0].tv_sec = 0;
		ts[0].tv_nsec = UTIME_OMIT;
		ts[1] = ts[0];
		if (valid & FUSE_SET_ATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_ATIME)
			ts[0] = attr->st_atim;
		if (valid & FUSE_SET_ATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_MTIME)
			ts[1] = attr->st_mtim;
		if (fd >= 0)
			err = futimens(fd, ts) < 0 ? -errno : 0;
		else
			err = utimens_inode(inode, ts);
	}
out:
	if (err)
		mmfs_reply_err(req, -err);
	else
		reply_attr(req, fs, inode);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	char buf[PATH_MAX + 1];
	ssize_t n;

	n = readlinkat(inode->fd, "", buf, sizeof(buf));
	if (n < 0) {
		mmfs_reply_err(req, errno);
		return;
	}
	if ((size_t)n >= sizeof(buf)) {
		mmfs_reply_err(req, ENAMETOOLONG);
		return;
	}
	buf[n] = '\0';
	fuse_reply_readlink(req, buf);
}

/* After a creation: reply with the new entry (err is the creation's). */
static void reply_created(fuse_req_t req, struct mmfs_fs *fs,
			  struct mmfs_inode *dir, const char *name, int err)
{
	struct fuse_entry_param e;

	if (!err)
		err = mmfs_do_lookup(fs, dir, name, &e);
	if (err)
		mmfs_reply_err(req, -err);
	else if (fuse_reply_entry(req, &e) != 0)
		mmfs_forget_one(fs, mmfs_inode_of(fs, e.ino), 1);
}

/* Namespace changes: allowed on write mounts only. */
static bool refuse_change(fuse_req_t req, struct mmfs_fs *fs)
{
	if (fs->access == MMFS_ACCESS_WRITE)
		return false;
	mmfs_reply_err(req, EROFS);
	return true;
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *dir = mmfs_inode_of(fs, parent);
	struct mmfs_creds c;
	int err;

	if (refuse_change(req, fs))
		return;
	mmfs_creds_enter(fs, req, &c);
	mode = mmfs_creds_mode(&c, mode);
	err = mknodat(dir->fd, name, mode, rdev) < 0 ? -errno : 0;
	mmfs_creds_leave(fs, &c);
	reply_created(req, fs, dir, name, err);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *dir = mmfs_inode_of(fs, parent);
	struct mmfs_creds c;
	int err;

	if (refuse_change(req, fs))
		return;
	mmfs_creds_enter(fs, req, &c);
	mode = mmfs_creds_mode(&c, mode);
	err = mkdirat(dir->fd, name, mode) < 0 ? -errno : 0;
	mmfs_creds_leave(fs, &c);
	reply_created(req, fs, dir, name, err);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *dir = mmfs_inode_of(fs, parent);
	struct mmfs_creds c;
	int err;

	if (refuse_change(req, fs))
		return;
	mmfs_creds_enter(fs, req, &c);
	err = symlinkat(link, dir->fd, name) < 0 ? -errno : 0;
	mmfs_creds_leave(fs, &c);
	reply_created(req, fs, dir, name, err);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	struct mmfs_inode *dir = mmfs_inode_of(fs, newparent);
	char path[64];
	int err = 0;

	if (refuse_change(req, fs) || given_up(req, inode))
		return;
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the /proc link does not */
	if (linkat(inode->fd, "", dir->fd, newname, AT_EMPTY_PATH) < 0) {
		err = -errno;
		if (err == -ENOENT || err == -EPERM || err == -EINVAL)
			err = linkat(AT_FDCWD,
				     mmfs_procpath(inode->fd, path,
						   sizeof(path)),
				     dir->fd, newname, AT_SYMLINK_FOLLOW) < 0
				      ? -errno
				      : 0;
	}
	reply_created(req, fs, dir, newname, err);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *dir = mmfs_inode_of(fs, parent);
	struct mmfs_inode *going;
	int err;

	if (refuse_change(req, fs))
		return;
	going = mmfs_name_going(fs, dir, name);
	err = unlinkat(dir->fd, name, 0) < 0 ? errno : 0;
	mmfs_name_gone(fs, going);
	mmfs_names_moved(dir);
	mmfs_reply_err(req, err);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *dir = mmfs_inode_of(fs, parent);
	int err;

	if (refuse_change(req, fs))
		return;
	err = unlinkat(dir->fd, name, AT_REMOVEDIR) < 0 ? errno : 0;
	mmfs_names_moved(dir);
	mmfs_reply_err(req, err);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *dir = mmfs_inode_of(fs, parent);
	struct mmfs_inode *ndir = mmfs_inode_of(fs, newparent);
	struct mmfs_inode *going;
	int err;

	if (refuse_change(req, fs))
		return;
	/* RENAME_WHITEOUT (overlayfs, with its upper directory on this
	 * mount): the kernel let only a caller with CAP_MKNOD send it */
	if (flags & ~(unsigned int)(RENAME_NOREPLACE | RENAME_EXCHANGE |
				    RENAME_WHITEOUT)) {
		mmfs_reply_err(req, EINVAL);
		return;
	}
	/* a file renamed over loses a link, as by unlink */
	going = flags & (RENAME_NOREPLACE | RENAME_EXCHANGE)
			? NULL
			: mmfs_name_going(fs, ndir, newname);
	if (flags)
		err = renameat2(dir->fd, name, ndir->fd, newname, flags);
	else
		err = renameat(dir->fd, name, ndir->fd, newname);
	err = err < 0 ? errno : 0;
	mmfs_name_gone(fs, going);
	mmfs_names_moved(dir);
	mmfs_names_moved(ndir);
	mmfs_reply_err(req, err);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	struct statvfs st;

	if (given_up(req, inode)) /* its stand-in is on another */
		return;
	if (fstatvfs(inode->fd, &st) < 0)
		mmfs_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &st);
}

/*
 * xattrs go through /proc/self/fd/N, which names the object itself.  A
 * symlink cannot be reached that way without following it, so symlinks
 * show no xattrs and refuse new ones.
 */
static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	char path[64], *buf = NULL;
	ssize_t n;

	if (S_ISLNK(inode->type)) {
		mmfs_reply_err(req, ENODATA);
		return;
	}
	if (given_up(req, inode))
		return;
	mmfs_procpath(inode->fd, path, sizeof(path));
	if (size) {
		buf = malloc(size);
		if (!buf) {
			mmfs_reply_err(req, ENOMEM);
			return;
		}
	}
	n = getxattr(path, name, buf, size);
	/* The kernel reads the ACLs for its permission checks (with
	 * default_permissions): a backing file system without them has
	 * none, where an error would refuse every access. */
	if (n < 0 && errno == EOPNOTSUPP &&
	    strncmp(name, "system.posix_acl_", 17) == 0)
		errno = ENODATA;
	if (n < 0)
		mmfs_reply_err(req, errno);
	else if (size)
		fuse_reply_buf(req, buf, (size_t)n);
	else
		fuse_reply_xattr(req, (size_t)n);
	free(buf);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	char path[64], *buf = NULL;
	ssize_t n;

	if (S_ISLNK(inode->type)) {
		if (size)
			fuse_reply_buf(req, NULL, 0);
		else
			fuse_reply_xattr(req, 0);
		return;
	}
	if (given_up(req, inode))
		return;
	mmfs_procpath(inode->fd, path, sizeof(path));
	if (size) {
		buf = malloc(size);
		if (!buf) {
			mmfs_reply_err(req, ENOMEM);
			return;
		}
	}
	n = listxattr(path, buf, size);
	if (n < 0)
		mmfs_reply_err(req, errno);
	else if (size)
		fuse_reply_buf(req, buf, (size_t)n);
	else
		fuse_reply_xattr(req, (size_t)n);
	free(buf);
}

/*
 * An access ACL carries the mode's permission bits: setting one (cp -a
 * sets the mode so, last) changes the mode, and removing one may.  Unless
 * it reads the ACLs itself (FUSE_POSIX_ACL, asked for with
 * default_permissions; it then drops its cached attributes on its own),
 * the kernel does not know that and would show the old mode until they
 * time out: drop them before replying, so that the caller's next stat
 * asks us.
 */
static void acl_changed(struct mmfs_fs *fs, struct mmfs_inode *inode,
			const char *name)
{
	if (!fs->kernel_acl && strcmp(name, "system.posix_acl_access") == 0)
		mmfs_attrs_changed(fs, inode);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	char path[64];

	if (refuse_change(req, fs))
		return;
	if (given_up(req, inode))
		return;
	if (S_ISLNK(inode->type)) {
		mmfs_reply_err(req, EPERM);
		return;
	}
	mmfs_procpath(inode->fd, path, sizeof(path));
	if (setxattr(path, name, value, size, flags) < 0) {
		mmfs_reply_err(req, errno);
		return;
	}
	mmfs_entry_stale(inode);
	acl_changed(fs, inode, name);
	mmfs_reply_err(req, 0);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	char path[64];

	if (refuse_change(req, fs))
		return;
	if (given_up(req, inode))
		return;
	if (S_ISLNK(inode->type)) {
		mmfs_reply_err(req, EPERM);
		return;
	}
	mmfs_procpath(inode->fd, path, sizeof(path));
	if (removexattr(path, name) < 0) {
		mmfs_reply_err(req, errno);
		return;
	}
	mmfs_entry_stale(inode);
	acl_changed(fs, inode, name);
	mmfs_reply_err(req, 0);
}

/* access(2), checked as the caller (the daemon may be root). */
static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	struct mmfs_creds c;
	int err;

	if ((mask & W_OK) &&
	    (fs->access == MMFS_ACCESS_READ ||
	     (fs->access == MMFS_ACCESS_COPY && !S_ISREG(inode->type)))) {
		mmfs_reply_err(req, EROFS);
		return;
	}
	mmfs_creds_enter(fs, req, &c);
	err = faccessat(inode->fd, "", mask, AT_EMPTY_PATH | AT_EACCESS) < 0
		      ? errno
		      : 0;
	mmfs_creds_leave(fs, &c);
	mmfs_reply_err(req, err);
}

/*
 * SEEK_DATA / SEEK_HOLE: the backing file knows (its page cache is the
 * mapping's), or the memfd a copy mount's private data moved to; private
 * data in a copy-on-write map of the backing file is all data.  Not under -o
 * writeback: the kernel holds written bytes, and the size, that the
 * backing file does not have yet (it writes nothing back before it asks),
 * so the file would look shorter than it is, or a hole where it was just
 * written.  ENOSYS there has the kernel answer from its own size, the
 * whole file data, for the rest of the mount.
 */
static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	struct mmfs_handle *h = mmfs_handle_of(fi);
	uint64_t size = 0;
	bool priv;
	off_t r = -1;
	int memfd, err = 0;

	if (fs->writeback) {
		mmfs_reply_err(req, ENOSYS);
		return;
	}
	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		mmfs_reply_err(req, EINVAL);
		return;
	}
	pthread_rwlock_rdlock(&inode->lock);
	priv = inode->priv;
	size = inode->maplen;
	/* private data in a memfd: it knows its holes */
	memfd = priv && inode->priv_anon && inode->map ? mmfs_fd(inode->map)
						       : -1;
	if (memfd >= 0 && (r = lseek(memfd, off, whence)) < 0)
		err = errno;
	pthread_rwlock_unlock(&inode->lock);
	if (memfd >= 0) {
		if (err)
			mmfs_reply_err(req, err);
		else
			fuse_reply_lseek(req, r);
		return;
	}
	if (priv) {
		if (off < 0 || (uint64_t)off >= size)
			mmfs_reply_err(req, ENXIO);
		else
			fuse_reply_lseek(
				req, whence == SEEK_DATA ? off : (off_t)size);
		return;
	}
	r = lseek(mmfs_handle_fd(inode, h), off, whence);
	if (r < 0)
		mmfs_reply_err(req, errno);
	else
		fuse_reply_lseek(req, r);
}

/* No getlk/setlk/flock: the kernel keeps POSIX and flock locks locally,
 * which is exact for everything that goes through this mount.  No flush:
 * writes reach the file before they are answered, so close(2) has nothing
 * to wait for, and without the op the kernel stops sending FLUSH (one
 * round trip less for every close). */
const struct fuse_lowlevel_ops mmfs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.symlink = op_symlink,
	.link = op_link,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.opendir = mmfs_op_opendir,
	.readdir = mmfs_op_readdir,
	.readdirplus = mmfs_op_readdirplus,
	.releasedir = mmfs_op_releasedir,
	.fsyncdir = mmfs_op_fsyncdir,
	.statfs = op_statfs,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
	.access = op_access,
	.lseek = op_lseek,
	.create = mmfs_op_create,
	.open = mmfs_op_open,
	.read = mmfs_op_read,
	.write = mmfs_op_write,
	.release = mmfs_op_release,
	.fsync = mmfs_op_fsync,
	.fallocate = mmfs_op_fallocate,
	.copy_file_range = mmfs_op_copy_file_range,
	.ioctl = mmfs_op_ioctl,
};
