/* open.c - open, create (O_TMPFILE included), release and fsync of
 * regular files: the backing descriptor a handle uses, shared by the
 * inode's handles and its map while the file is open (see struct
 * mmfs_inode), and the map made at the first open. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"

/* Flags for our own descriptor of the backing file.  O_APPEND is dropped
 * because the descriptor serves every handle of the file (an O_APPEND
 * handle's writes append by themselves: write_append in file.c), and
 * O_NOATIME likewise (O_NOATIME handles read through another descriptor:
 * noatime_fd in file.c); O_TRUNC because truncation goes through the
 * mapping, O_NOFOLLOW because the /proc path is a link.  -o noatime adds
 * O_NOATIME: reads through the descriptor then leave the backing file's
 * atime alone, as the mount flag promises. */
static int backing_flags(struct mmfs_fs *fs, int flags)
{
	flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_DIRECT |
		   O_NOFOLLOW | O_SYNC | O_DSYNC | O_NOATIME);
	if (fs->access != MMFS_ACCESS_WRITE)
		flags = (flags & ~O_ACCMODE) | O_RDONLY;
	if (fs->noatime)
		flags |= O_NOATIME;
	return flags;
}

/* Refused read-write access: may the access the client asked for work? */
static bool narrower_may_work(int err)
{
	return err == -EACCES || err == -EPERM || err == -EROFS ||
	       err == -ETXTBSY;
}

/*
 * Open the backing file for a handle.  On a write mount a regular file
 * opened for writing is opened read-write, when that is allowed: the map
 * needs a read-write descriptor, and one that can do everything can serve
 * every handle of the file.  One opened only for reading is opened
 * read-only, and mapped read-only while no handle writes (see
 * mmfs_map_ensure): a read through the mount must not count as a write to
 * the backing file, which overlayfs would copy up, inotify report as
 * IN_CLOSE_WRITE, and a read-only remount of its file system or an
 * execve(2) of it (ETXTBSY) refuse.  Writes reach the daemon only through
 * handles the kernel opened for writing, and what a handle may do is
 * decided by h->flags.  Returns the descriptor or -errno, and in *access
 * what it may do (MMFS_FD_*).
 */
static int open_backing(struct mmfs_fs *fs, struct mmfs_inode *inode, int flags,
			int append, int *access)
{
	int fd;

	if (fs->access == MMFS_ACCESS_WRITE && S_ISREG(inode->type) &&
	    (flags & O_ACCMODE) == O_WRONLY) {
		fd = mmfs_reopen(inode, (flags & ~O_ACCMODE) | O_RDWR);
		*access = MMFS_FD_READ | MMFS_FD_WRITE;
		if (fd >= 0 || !narrower_may_work(fd))
			return fd;
	}
	*access = mmfs_fd_access(flags);
	fd = mmfs_reopen(inode, flags);
	/* An append-only file opens to write only with O_APPEND: such a
	 * descriptor is the handle's alone (MMFS_FD_APPEND), and the map
	 * reads through another (map_ensure). */
	if (fd == -EPERM && append && mmfs_is_writable(flags)) {
		fd = mmfs_reopen(inode, flags | O_APPEND);
		*access |= MMFS_FD_APPEND;
	}
	return fd;
}

/*
 * Give handle h its descriptor of the backing file (lock exclusive), so
 * that an open file costs the daemon one descriptor, not one per handle
 * and one for the map: the inode's own when that serves the access the
 * client asked for; otherwise fd (already opened by create, with access
 * access) or a new open, which becomes the inode's when it serves at least
 * what the inode's did (always so for the first handle), and the handle's
 * own if not.  opened: create opened the file just now (fd, or the one it
 * gave the inode).  Consumes fd, also on failure.  Sharing spares the
 * open(2) of every handle after the first, and with it what that open
 * would check: the permission bits (handle_open checks them where the
 * daemon relies on them, mmfs_may) and the immutable and append-only
 * flags (checked here, mmfs_flags_allow).
 */
static int handle_attach(struct mmfs_fs *fs, struct mmfs_inode *inode,
			 struct mmfs_handle *h, int fd, int access, bool opened)
{
	int flags = backing_flags(fs, h->flags);

	if (mmfs_fd_serves(inode, mmfs_fd_access(flags))) {
		if (fd >= 0)
			close(fd);
		/* what open(2) checks, unless create's open just did */
		return fs->access == MMFS_ACCESS_WRITE && fd < 0 && !opened
			       ? mmfs_flags_allow(fs, inode, h->flags)
			       : 0;
	}
	if (fd < 0) {
		unsigned int tries = 0;

		do
			fd = open_backing(fs, inode, flags,
					  (h->flags & O_APPEND) &&
						  !fs->writeback,
					  &access);
		while (fd == -EMFILE && mmfs_prune_wait(fs, &tries));
	}
	if (fd < 0)
		return fd;
	if (!(access & MMFS_FD_APPEND) &&
	    (access & inode->fd_access) == inode->fd_access &&
	    mmfs_fd_attach(inode, fd, access) == 0)
		return 0;
	h->fd = fd;
	h->appends = access & MMFS_FD_APPEND;
	return 0;
}

/* The access an open with flags needs, for mmfs_may. */
static int open_mode(int flags)
{
	int mode = (flags & O_ACCMODE) == O_WRONLY ? 0 : R_OK;

	if (mmfs_is_writable(flags) || (flags & O_TRUNC))
		mode |= W_OK;
	return mode;
}

static void cache_stamp(struct mmfs_inode *inode, const struct stat *st)
{
	inode->cache_mtime = st->st_mtim;
	inode->cache_ctime = st->st_ctim;
	inode->cache_size = st->st_size;
	inode->cache_valid = true;
}

static bool same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* cache=auto: may the kernel keep its cached pages?  Only if the backing
 * file's size, mtime and ctime are those seen at the previous open (lock
 * exclusive).  Writes through the mount change them too, which costs a
 * re-read; stamping at release instead would hide an outside change made
 * while the file was open.  ctime: a read from the kernel's cache never
 * reaches the backing file, so moves no atime; after a change of times
 * or mode the next read does, as relatime would have it natively (an
 * atime set back, or made older than mtime). */
static bool cache_unchanged(struct mmfs_inode *inode, const struct stat *st)
{
	bool same;

	same = inode->cache_valid && st->st_size == inode->cache_size &&
	       same_time(st->st_mtim, inode->cache_mtime) &&
	       same_time(st->st_ctim, inode->cache_ctime);
	cache_stamp(inode, st);
	return same;
}

/* Drop one open handle from inode (lock exclusive): the mapping is closed
 * with the last one, unless it holds a copy mount's private data, and the
 * inode's descriptor goes back to O_PATH. */
static void handle_close_locked(struct mmfs_fs *fs, struct mmfs_inode *inode,
				struct mmfs_handle *h)
{
	bool last;

	pthread_mutex_lock(&fs->table_lock);
	if (h->pprev) {
		*h->pprev = h->next;
		if (h->next)
			h->next->pprev = h->pprev;
		h->pprev = NULL;
	}
	last = !inode->handles;
	if (last)
		mmfs_prune_may(fs);
	pthread_mutex_unlock(&fs->table_lock);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	if (last && inode->noatime_fd >= 0) {
		close(inode->noatime_fd);
		inode->noatime_fd = -1;
	}
	if (last && !inode->priv)
		mmfs_map_drop(fs, inode);
	if (last)
		mmfs_fd_detach(fs, inode);
}

static void handle_close(struct mmfs_fs *fs, struct mmfs_inode *inode,
			 struct mmfs_handle *h)
{
	pthread_rwlock_wrlock(&inode->lock);
	handle_close_locked(fs, inode, h);
	pthread_rwlock_unlock(&inode->lock);
	free(h);
	mmfs_release_done(fs, inode);
}

/*
 * The common tail of open and create: count the handle, give it its
 * descriptor (fd, opened by create with access access, or -1: see
 * handle_attach), apply O_TRUNC, map the file (or bring an existing map
 * in line with a file changed outside the mount) and decide about the
 * kernel's page cache.  known: the file's attributes as create just took
 * them (no O_TRUNC), or NULL.  kill: the request, if the kernel asked
 * for MMFS_O_KILL_SUIDGID, or NULL.  Consumes fd; on failure the handle
 * is undone.  -ESTALE for a file given up (mmfs_stale).
 */
static int handle_open(struct mmfs_fs *fs, struct mmfs_inode *inode,
		       struct mmfs_handle *h, struct fuse_file_info *fi,
		       fuse_req_t kill, int fd, int access,
		       const struct stat *known)
{
	bool trunc = (fi->flags & O_TRUNC) && S_ISREG(inode->type);
	uint64_t was;
	bool keep = false, have_st = false, shrank;
	struct stat st;
	int err;

	pthread_rwlock_wrlock(&inode->lock);
	/* A file that was there (create passes known for a new one): not
	 * one given up since it was deleted or renamed over behind the
	 * mount (mmfs_stale), looked at under the lock, which the last close
	 * that gives it up takes too.  The look serves the map and the
	 * cache below as well. */
	if (!known && S_ISREG(inode->type)) {
		have_st = fstat(inode->fd, &st) == 0;
		if (have_st && mmfs_stale(inode, st.st_dev, st.st_ino)) {
			pthread_rwlock_unlock(&inode->lock);
			return -ESTALE;
		}
	}
	if (!known) {
		err = mmfs_may(fs, inode, open_mode(h->flags));
		if (err) {
			pthread_rwlock_unlock(&inode->lock);
			return err;
		}
	}
	pthread_mutex_lock(&fs->table_lock);
	inode->used = true;
	h->wb_seen = atomic_load(&inode->wb_err_seq);
	h->next = inode->handles;
	if (h->next)
		h->next->pprev = &h->next;
	h->pprev = &inode->handles;
	inode->handles = h;
	pthread_mutex_unlock(&fs->table_lock);

	err = handle_attach(fs, inode, h, fd, access, known != NULL);
	fd = mmfs_handle_fd(inode, h);
	/* the first writer of a file mapped for its readers alone: map it
	 * again, read-write (below) */
	if (!err && inode->map && inode->map_readers &&
	    mmfs_is_writable(h->flags))
		mmfs_map_drop(fs, inode);
	/* a map needs a descriptor that reads: without one (a file the
	 * daemon may write but not read), fail before the truncation */
	if (!err && trunc && !inode->map && !h->appends &&
	    (h->fd < 0 ? !(inode->fd_access & MMFS_FD_READ)
		       : (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY))
		err = -EACCES;
	if (!err && trunc && kill)
		mmfs_kill_suidgid(fs, kill, inode, fd);
	if (!err && trunc)
		err = mmfs_set_size(fs, inode,
				    mmfs_is_writable(h->flags) ? fd : -1, 0);
	/* one look at the file, after the truncation, for both the map
	 * and the cache (neither step below changes size or mtime) */
	if (trunc)
		have_st = false;
	if (!err && known && !trunc) {
		st = *known;
		have_st = true;
	} else if (!err && !have_st &&
		   (!inode->map || fs->cache == MMFS_CACHE_AUTO)) {
		have_st = fstat(fd, &st) == 0;
	}
	was = inode->maplen;
	if (!err)
		err = inode->map ? mmfs_map_resync(fs, inode)
				 : mmfs_map_ensure_fd(fs, inode, fd,
						      have_st ? &st : NULL);
	if (err) {
		handle_close_locked(fs, inode, h);
		pthread_rwlock_unlock(&inode->lock);
		return err;
	}
	/* Private data that shrank with its file truncated behind the
	 * mount (mmfs_map_resync) drops the kernel's cache, and its
	 * attributes. */
	shrank = inode->priv && inode->maplen != was;
	if (fs->cache == MMFS_CACHE_ALWAYS || (inode->priv && !shrank))
		keep = true;
	else if (fs->cache == MMFS_CACHE_AUTO)
		keep = have_st && cache_unchanged(inode, &st) && !trunc;
	pthread_rwlock_unlock(&inode->lock);
	if (shrank)
		mmfs_attrs_changed(fs, inode);

	fi->keep_cache = keep;
	fi->direct_io = 0;
	fi->fh = (uintptr_t)h;
	return 0;
}

void mmfs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	fuse_req_t kill = (fi->flags & MMFS_O_KILL_SUIDGID) ? req : NULL;
	struct mmfs_handle *h;
	int err;

	fi->flags &= ~MMFS_O_KILL_SUIDGID;
	if (S_ISDIR(inode->type)) {
		mmfs_reply_err(req, EISDIR);
		return;
	}
	if (fs->access == MMFS_ACCESS_READ &&
	    (mmfs_is_writable(fi->flags) || (fi->flags & O_TRUNC))) {
		mmfs_reply_err(req, EROFS);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		mmfs_reply_err(req, ENOMEM);
		return;
	}
	h->fd = -1;
	h->flags = fi->flags;
	err = handle_open(fs, inode, h, fi, kill, -1, 0, NULL);
	if (err) {
		free(h);
		mmfs_reply_err(req, -err);
		return;
	}
	if (fuse_reply_open(req, fi) != 0) /* interrupted: nobody owns h */
		handle_close(fs, inode, h);
}

/* create on a read or copy mount: only an existing file (a stale negative
 * entry in the kernel) may be opened; anything new is refused. */
static int create_existing(struct mmfs_fs *fs, struct mmfs_inode *dir,
			   const char *name, struct fuse_file_info *fi,
			   struct fuse_entry_param *e)
{
	int err;

	if (fi->flags & O_EXCL)
		return -EROFS;
	err = mmfs_do_lookup(fs, dir, name, e);
	if (err == -ENOENT)
		return -EROFS;
	return err;
}

/* create's open(2) of name in dir: read-write for a writer when allowed,
 * as in open_backing.  O_NOATIME is set once the file is open: the open
 * that creates it could otherwise create it and then fail, where the file
 * system gives it another owner than the caller (an O_EXCL create tried
 * again would then find it there).  Returns the descriptor or -errno, and
 * in *access what it may do. */
static int create_open(struct mmfs_inode *dir, const char *name, int flags,
		       int append, mode_t mode, int *access)
{
	bool noatime = flags & O_NOATIME;
	int fd, err;

	flags &= ~O_NOATIME;
	if ((flags & O_ACCMODE) == O_WRONLY) {
		fd = openat(dir->fd, name, (flags & ~O_ACCMODE) | O_RDWR, mode);
		*access = MMFS_FD_READ | MMFS_FD_WRITE;
		if (fd >= 0)
			goto opened;
		err = -errno;
		if (!narrower_may_work(err))
			return err;
	}
	*access = mmfs_fd_access(flags);
	fd = openat(dir->fd, name, flags, mode);
	if (fd < 0 && errno == EPERM && append && mmfs_is_writable(flags)) {
		/* an append-only file there already (open_backing) */
		fd = openat(dir->fd, name, flags | O_APPEND, mode);
		*access |= MMFS_FD_APPEND;
	}
	if (fd < 0)
		return -errno;
opened:
	if (noatime) /* EPERM where it may not: atime then moves */
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NOATIME);
	return fd;
}

/* An O_TRUNC create's open of what is there (create_open with O_EXCL
 * found it), as the caller (inside mmfs_creds_enter).  A regular file:
 * the truncation that follows needs write permission on it, which
 * open(2) checks only for an open to write (an O_RDONLY|O_TRUNC one
 * needs it all the same); the open keeps O_CREAT, so that the backing
 * file system applies what it applies to such an open of a file there
 * (fs.protected_regular in sticky directories).  Anything else: -ESTALE,
 * and the kernel opens it itself once it has looked it up (a directory:
 * EISDIR; a symlink: followed).  -ENOENT if it went meanwhile, or if the
 * open found another file than the one looked at (one made anew: the
 * caller tries again from O_EXCL). */
static int create_existing_trunc(struct mmfs_inode *dir, const char *name,
				 int flags, int append, mode_t mode,
				 int *access)
{
	struct stat st, now;
	int fd;

	if (fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ESTALE;
	if (faccessat(dir->fd, name, W_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW) <
	    0)
		return -errno;
	fd = create_open(dir, name, flags, append, mode, access);
	if (fd >= 0 && (fstat(fd, &now) < 0 || now.st_dev != st.st_dev ||
			now.st_ino != st.st_ino)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/* An open(O_TMPFILE), which main.c's io_read hands on as a CREATE: the
 * kernel names the unnamed file "/", which no directory entry can be. */
static bool is_tmpfile(const char *name)
{
	return strcmp(name, "/") == 0;
}

void mmfs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		    mode_t mode, struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *dir = mmfs_inode_of(fs, parent), *inode;
	struct fuse_entry_param e;
	struct mmfs_handle *h;
	fuse_req_t kill = (fi->flags & MMFS_O_KILL_SUIDGID) ? req : NULL;
	struct mmfs_creds c;
	int fd = -1, access = 0, err, flags;
	unsigned int tries = 0, n;
	bool tmpfile = is_tmpfile(name), excl;
	bool append = (fi->flags & O_APPEND) && !fs->writeback;

	fi->flags &= ~MMFS_O_KILL_SUIDGID;
	if (tmpfile) {
		/* the handle is an open of a regular file, as after create */
		fi->flags &= ~(O_TMPFILE | O_CREAT | O_EXCL | O_TRUNC);
		if (fs->access != MMFS_ACCESS_WRITE) {
			mmfs_reply_err(req, EROFS);
			return;
		}
	}
	if (fs->access != MMFS_ACCESS_WRITE) {
		err = create_existing(fs, dir, name, fi, &e);
		if (err) {
			mmfs_reply_err(req, -err);
			return;
		}
		inode = mmfs_inode_of(fs, e.ino);
		if (!S_ISREG(inode->type) ||
		    (fs->access == MMFS_ACCESS_READ &&
		     (mmfs_is_writable(fi->flags) || (fi->flags & O_TRUNC)))) {
			err = S_ISDIR(inode->type) ? EISDIR : EROFS;
			mmfs_forget_one(fs, inode, 1); /* may free it */
			mmfs_reply_err(req, err);
			return;
		}
		/* handle_open opens it, as for open */
	} else {
		/* O_NOFOLLOW: a symlink in the backing tree must not send the
		 * creation outside it (the kernel resolves links itself). */
		if (tmpfile) /* linkable: the kernel enforces O_EXCL itself */
			flags = backing_flags(fs, fi->flags) | O_TMPFILE |
				O_CLOEXEC;
		else
			flags = backing_flags(fs, fi->flags) | O_CREAT |
				O_NOFOLLOW | O_CLOEXEC | (fi->flags & O_EXCL);
		/* The kernel creates over a name it has as missing, which
		 * BACKING may have by now (made behind the mount).  An
		 * O_TRUNC create makes the file with O_EXCL, so that a file
		 * made here is neither truncated nor stripped of setuid and
		 * setgid, as natively; one that is there is opened as it is
		 * (create_existing_trunc), and one gone again meanwhile made
		 * anew. */
		excl = !tmpfile && (fi->flags & (O_TRUNC | O_EXCL)) == O_TRUNC;
		mmfs_creds_enter(fs, req, &c);
		mode = mmfs_creds_mode(&c, mode);
		do {
			fd = create_open(dir, tmpfile ? "." : name,
					 flags | (excl ? O_EXCL : 0), append,
					 mode, &access);
			for (n = 0; fd == -EEXIST && excl && n < 8; n++) {
				fd = create_existing_trunc(dir, name, flags,
							   append, mode,
							   &access);
				if (fd != -ENOENT)
					excl = false;
				else
					fd = create_open(dir, name,
							 flags | O_EXCL, append,
							 mode, &access);
			}
		} while (fd == -EMFILE && mmfs_prune_wait(fs, &tries));
		mmfs_creds_leave(fs, &c);
		/* one the kernel opens itself once it has looked the name
		 * up: a symlink there (open(2) follows it), a name made and
		 * removed behind the mount eight times over */
		if (fd == -ELOOP || (fd == -EEXIST && excl))
			fd = -ESTALE;
		if (fd < 0) {
			mmfs_reply_err(req, -fd);
			return;
		}
		if (excl || (fi->flags & O_EXCL)) { /* made just now */
			fi->flags &= ~O_TRUNC;
			kill = NULL;
		}
		/* a new inode takes fd as its own descriptor, but for an
		 * O_APPEND one, which serves its handle alone */
		if (access & MMFS_FD_APPEND)
			err = mmfs_do_lookup(fs, dir, name, &e);
		else
			err = mmfs_do_lookup_open(fs, dir, name, &fd, access,
						  &e);
		if (err) {
			if (fd >= 0)
				close(fd);
			mmfs_reply_err(req, -err);
			return;
		}
		inode = mmfs_inode_of(fs, e.ino);
		/* not a regular file (a fifo made behind the mount, which
		 * open(2) with O_CREAT opens): the kernel opens it itself
		 * once it has looked it up */
		if (!S_ISREG(inode->type)) {
			if (fd >= 0)
				close(fd);
			mmfs_forget_one(fs, inode, 1);
			mmfs_reply_err(req, ESTALE);
			return;
		}
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		if (fd >= 0)
			close(fd);
		mmfs_forget_one(fs, inode, 1);
		mmfs_reply_err(req, ENOMEM);
		return;
	}
	h->fd = -1;
	h->flags = fi->flags;
	err = handle_open(fs, inode, h, fi, kill, fd, access,
			  fs->access == MMFS_ACCESS_WRITE ? &e.attr : NULL);
	if (err) {
		free(h);
		mmfs_forget_one(fs, inode, 1);
		mmfs_reply_err(req, -err);
		return;
	}
	/* The entry may have changed size (O_TRUNC of an existing file). */
	if (fi->flags & O_TRUNC)
		mmfs_getattr_inode(fs, inode, &e.attr);
	if (fuse_reply_create(req, &e, fi) != 0) {
		handle_close(fs, inode, h);
		mmfs_forget_one(fs, inode, 1);
	}
}

void mmfs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);

	handle_close(fs, mmfs_inode_of(fs, ino), mmfs_handle_of(fi));
	mmfs_reply_err(req, 0);
}

void mmfs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		   struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	struct mmfs_handle *h = mmfs_handle_of(fi);
	unsigned int seq;
	int err = 0, fd;
	bool shared;

	if (fs->access == MMFS_ACCESS_COPY) { /* nothing reaches the file */
		mmfs_reply_err(req, 0);
		return;
	}
	/* The map is a MAP_SHARED view of the file's page cache, whose
	 * pages are marked dirty when first written through it: fsync(2)
	 * alone writes them.  An msync first would be a second flush of
	 * the device cache, twice the latency. */
	fd = mmfs_handle_fd(inode, h);
	shared = fd == inode->fd;
	mmfs_loop_yield();
	if (shared)
		pthread_mutex_lock(&inode->sync_lock);
	if ((datasync ? fdatasync(fd) : fsync(fd)) < 0)
		err = errno;
	if (shared) {
		/* the error of written data a sync through the shared
		 * description returns once, or one kept since this handle
		 * last reported */
		mmfs_sync_keep(inode, err);
		seq = atomic_load(&inode->wb_err_seq);
		if (!err && h->wb_seen != seq)
			err = inode->wb_errno;
		h->wb_seen = seq;
		pthread_mutex_unlock(&inode->sync_lock);
	} else if (mmfs_written_error(err)) {
		/* its own description reported an error of written data,
		 * seen now: taken from the shared description too, it goes
		 * to the handles open before, not to those opened after, as
		 * natively */
		pthread_mutex_lock(&inode->sync_lock);
		if (fdatasync(inode->fd) < 0)
			mmfs_sync_keep(inode, errno);
		pthread_mutex_unlock(&inode->sync_lock);
	}
	mmfs_reply_err(req, err);
}
