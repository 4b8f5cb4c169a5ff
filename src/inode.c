/* inode.c - the inode table (backing (dev, ino) -> struct mmfs_inode, with
 * the kernel's lookup counts), each inode's descriptor and attributes.
 * The life of an inode's mapping is in mapping.c, acting as the caller in
 * creds.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"

#define TABLE_MIN_BUCKETS 1024

const char *mmfs_procpath(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return buf;
}

/* The daemon's /proc/self/fd, or -1: reopening by a name in it spares
 * the walk through /proc and self (about a fifth of the cost). */
static int proc_fd_dir = -1;

void mmfs_procdir_open(void)
{
	if (proc_fd_dir < 0)
		proc_fd_dir =
			open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* openat(2), and again without O_NOATIME where that flag was refused (it
 * needs the file's owner or CAP_FOWNER; the open had no effect then). */
int mmfs_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	int fd = openat(dirfd, name, flags, mode);

	if (fd < 0 && errno == EPERM && (flags & O_NOATIME))
		fd = openat(dirfd, name, flags & ~O_NOATIME, mode);
	return fd;
}

/* open(2) the object behind our descriptor fd again, by /proc
 * (mmfs_openat). */
static int open_proc(int fd, int flags)
{
	char name[64];

	if (proc_fd_dir >= 0) {
		snprintf(name, sizeof(name), "%d", fd);
		return mmfs_openat(proc_fd_dir, name, flags, 0);
	}
	return mmfs_openat(AT_FDCWD, mmfs_procpath(fd, name, sizeof(name)),
			   flags, 0);
}

/* Open the backing object again with real access (the inode holds only an
 * O_PATH descriptor, or one with other access).  O_NOATIME in flags is
 * dropped where the daemon may not use it.  Returns the new fd or
 * -errno. */
int mmfs_reopen(struct mmfs_inode *inode, int flags)
{
	int fd;

	flags = (flags & ~(O_CREAT | O_EXCL | O_NOCTTY)) | O_CLOEXEC;
	fd = open_proc(inode->fd, flags);
	return fd < 0 ? -errno : fd;
}

/* MMFS_FD_READ/WRITE for the access mode of open(2) flags. */
int mmfs_fd_access(int flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		return MMFS_FD_READ;
	case O_WRONLY:
		return MMFS_FD_WRITE;
	default:
		return MMFS_FD_READ | MMFS_FD_WRITE;
	}
}

/* May inode->fd, as it is now, do access (MMFS_FD_*, lock held)? */
bool mmfs_fd_serves(const struct mmfs_inode *inode, int access)
{
	return inode->fd_access != 0 && (inode->fd_access & access) == access;
}

/*
 * One descriptor per open file: make inode->fd's number hold fd's open
 * description, which may do access (lock exclusive).  The number stays
 * the same and names the same file before and after, so the threads that
 * use it without the lock (stat, xattrs, /proc paths) are not disturbed.
 * Consumes fd on success; returns -errno, fd still the caller's, if not.
 */
int mmfs_fd_attach(struct mmfs_inode *inode, int fd, int access)
{
	if (dup3(fd, inode->fd, O_CLOEXEC) < 0)
		return -errno;
	close(fd);
	inode->fd_access = (unsigned char)access;
	return 0;
}

/*
 * The last handle is gone and the map closed (lock exclusive): put an
 * O_PATH description back, so that a closed file is not held open for
 * writing (execve(2) of it would fail with ETXTBSY).  If no descriptor is
 * free for that, the open one stays until the next open or the forget.
 *
 * A regular file with no name left (unlinked, or renamed over) would
 * then be kept alive by the daemon alone until the kernel's FORGET, which
 * comes after the reply to the unlink or the release: a client that
 * writes at once could find the space it freed still taken (a full disk
 * gave ENOSPC one time in ten), and the inode it takes held where the
 * backing file system is out of inodes.  So its description is given up
 * now for the stand-in's (fs->standin, an empty memfd), as the number
 * must still name something (threads use it without the lock).  The
 * inode is marked gone first: the backing file system may give its
 * number to a new file as soon as it is let go, and a lookup of that file
 * must not find this inode.  Requests for it can still come where the
 * file was deleted behind the mount and the kernel has its name cached,
 * or through an O_PATH descriptor a client holds: they are answered
 * ESTALE (mmfs_stale).
 */
void mmfs_fd_detach(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	struct stat st;
	int fd;

	if (S_ISREG(inode->type) && fs->standin >= 0 &&
	    fstat(inode->fd, &st) == 0 && st.st_nlink == 0 &&
	    !mmfs_stale(inode, st.st_dev, st.st_ino)) {
		pthread_mutex_lock(&fs->table_lock);
		inode->gone = true;
		pthread_mutex_unlock(&fs->table_lock);
		if (dup3(fs->standin, inode->fd, O_CLOEXEC) >= 0)
			inode->fd_access = 0;
		return;
	}
	if (inode->fd_access == 0)
		return;
	fd = open_proc(inode->fd, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return;
	if (dup3(fd, inode->fd, O_CLOEXEC) >= 0)
		inode->fd_access = 0;
	close(fd);
}

/* The file's attributes changed where the kernel does not see it: it
 * takes them again at the next stat.  Attributes only (offset -1): no
 * page is dropped or waited for, so any thread may call this. */
void mmfs_attrs_changed(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	mmfs_entry_stale(inode);
	if (fs->se)
		fuse_lowlevel_notify_inval_inode(fs->se, mmfs_ino_of(fs, inode),
						 -1, 0);
}

static size_t bucket_of(dev_t dev, ino_t ino, size_t nbuckets)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull;

	h ^= (uint64_t)dev * 0xC2B2AE3D27D4EB4Full;
	h ^= h >> 31;
	return (size_t)h & (nbuckets - 1);
}

/* table_lock held.  An inode that let its backing file go (gone, see
 * mmfs_fd_detach) is passed by: its number may name a new file now. */
static struct mmfs_inode *table_find(struct mmfs_fs *fs, dev_t dev, ino_t ino)
{
	struct mmfs_inode *p;

	for (p = fs->buckets[bucket_of(dev, ino, fs->nbuckets)]; p; p = p->next)
		if (p->ino == ino && p->dev == dev && !p->gone)
			return p;
	return NULL;
}

/* table_lock held.  Growing is best effort: a failed allocation only
 * leaves longer chains. */
static void table_insert(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	size_t b;

	if (fs->count >= fs->nbuckets && fs->nbuckets < SIZE_MAX / 4) {
		size_t n = fs->nbuckets * 2, i;
		struct mmfs_inode **nb = calloc(n, sizeof(*nb));

		if (nb) {
			for (i = 0; i < fs->nbuckets; i++) {
				struct mmfs_inode *p = fs->buckets[i], *next;

				for (; p; p = next) {
					next = p->next;
					b = bucket_of(p->dev, p->ino, n);
					p->next = nb[b];
					nb[b] = p;
				}
			}
			free(fs->buckets);
			fs->buckets = nb;
			fs->nbuckets = n;
		}
	}
	b = bucket_of(inode->dev, inode->ino, fs->nbuckets);
	inode->next = fs->buckets[b];
	fs->buckets[b] = inode;
	inode->hashed = true;
	fs->count++;
}

/* table_lock held. */
static void table_remove(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	struct mmfs_inode **pp;

	pp = &fs->buckets[bucket_of(inode->dev, inode->ino, fs->nbuckets)];
	for (; *pp; pp = &(*pp)->next) {
		if (*pp == inode) {
			*pp = inode->next;
			inode->next = NULL;
			inode->hashed = false;
			fs->count--;
			return;
		}
	}
}

/* Free an inode nobody can reach any more (out of the table), and the
 * handles the kernel never released (at unmount). */
static void inode_free(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	struct mmfs_handle *h, *next;

	for (h = inode->handles; h; h = next) {
		next = h->next;
		if (h->fd >= 0)
			close(h->fd);
		free(h);
	}
	inode->handles = NULL;
	mmfs_map_drop(fs, inode);
	if (inode->noatime_fd >= 0)
		close(inode->noatime_fd);
	if (inode->fd >= 0)
		close(inode->fd);
	pthread_rwlock_destroy(&inode->lock);
	pthread_mutex_destroy(&inode->sync_lock);
	if (inode != &fs->root)
		free(inode);
}

/* What the number of an inode that gave up its backing file names: an
 * O_PATH descriptor of an empty memfd, so that nothing can be written to
 * it through that number.  -1 if there is none (inodes then keep their
 * files until the kernel forgets them). */
static int standin_open(void)
{
	int fd = memfd_create("mmapfs-gone", MFD_CLOEXEC), path;

	if (fd < 0)
		return -1;
	path = open_proc(fd, O_PATH | O_CLOEXEC);
	close(fd);
	return path;
}

int mmfs_table_init(struct mmfs_fs *fs, int root_fd)
{
	struct stat st;

	if (fstat(root_fd, &st) < 0)
		return -errno;
	fs->buckets = calloc(TABLE_MIN_BUCKETS, sizeof(*fs->buckets));
	if (!fs->buckets)
		return -ENOMEM;
	fs->nbuckets = TABLE_MIN_BUCKETS;
	fs->count = 0;
	pthread_mutex_init(&fs->table_lock, NULL);

	fs->standin = standin_open();
	memset(&fs->root, 0, sizeof(fs->root));
	fs->root.fd = root_fd;
	fs->root.dev = st.st_dev;
	fs->root.ino = st.st_ino;
	fs->root.type = st.st_mode & S_IFMT;
	fs->root.nlookup = 2; /* never reaches 0: the root is never freed */
	fs->root.noatime_fd = -1;
	pthread_rwlock_init(&fs->root.lock, NULL);
	pthread_mutex_init(&fs->root.sync_lock, NULL);
	table_insert(fs, &fs->root);
	mmfs_creds_init(fs->as_root);
	return 0;
}

/* At unmount, when no request is running any more. */
void mmfs_table_destroy(struct mmfs_fs *fs)
{
	size_t i;

	if (!fs->buckets)
		return;
	for (i = 0; i < fs->nbuckets; i++) {
		struct mmfs_inode *p = fs->buckets[i], *next;

		for (; p; p = next) {
			next = p->next;
			p->hashed = false;
			inode_free(fs, p);
		}
	}
	free(fs->buckets);
	fs->buckets = NULL;
	if (fs->standin >= 0)
		close(fs->standin);
	fs->standin = -1;
	mmfs_creds_fini();
	pthread_mutex_destroy(&fs->table_lock);
}

struct mmfs_fs *mmfs_req_fs(fuse_req_t req)
{
	struct mmfs_fs *fs = fuse_req_userdata(req);

	mmfs_count(&fs->stats.requests, 1);
	return fs;
}

/* The kernel only sends node ids we gave it (and has not forgotten). */
struct mmfs_inode *mmfs_inode_of(struct mmfs_fs *fs, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &fs->root;
	return (struct mmfs_inode *)(uintptr_t)ino;
}

fuse_ino_t mmfs_ino_of(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	if (inode == &fs->root)
		return FUSE_ROOT_ID;
	return (fuse_ino_t)(uintptr_t)inode;
}

/* What a copy mount's regular file whose data diverged shows of its
 * private data: size, blocks (-1: the backing file's) and, once it
 * changed through the mount, mtime and ctime. */
struct private_attr {
	uint64_t size;
	int64_t blocks;
	struct timespec time; /* 0: the backing file's */
};

static bool private_attr(struct mmfs_fs *fs, struct mmfs_inode *inode,
			 mode_t mode, struct private_attr *pa)
{
	struct stat mst;
	bool priv = false;
	int fd;

	if (fs->access != MMFS_ACCESS_COPY || !S_ISREG(mode))
		return false;
	pthread_rwlock_rdlock(&inode->lock);
	if (inode->priv) {
		priv = true;
		pa->size = inode->maplen;
		pa->time = inode->priv_time;
		/* the blocks a memfd holds (growth is sparse), or the
		 * backing file's where its map is copied on write */
		pa->blocks = -1;
		if (!inode->map) {
			pa->blocks = 0;
		} else if (inode->priv_anon) {
			fd = mmfs_fd(inode->map);
			pa->blocks =
				fd >= 0 && fstat(fd, &mst) == 0
					? (int64_t)mst.st_blocks
					: (int64_t)((pa->size + 511) / 512);
		}
	}
	pthread_rwlock_unlock(&inode->lock);
	return priv;
}

static bool private_time(const struct private_attr *pa)
{
	return pa->time.tv_sec != 0 || pa->time.tv_nsec != 0;
}

static void private_stat(struct mmfs_fs *fs, struct mmfs_inode *inode,
			 struct stat *st)
{
	struct private_attr pa;

	if (!private_attr(fs, inode, st->st_mode, &pa))
		return;
	st->st_size = (off_t)pa.size;
	if (pa.blocks >= 0)
		st->st_blocks = (blkcnt_t)pa.blocks;
	if (private_time(&pa)) {
		st->st_mtim = pa.time;
		st->st_ctim = pa.time;
	}
}

/*
 * Has inode given its backing file up (mmfs_fd_detach: it had no name
 * left and nobody had it open), so that its descriptor names an empty
 * stand-in?  dev and ino: what the descriptor names.  The kernel may
 * still know a name for it from its cache, when the file was deleted or
 * renamed over behind the mount: such an inode answers ESTALE to
 * getattr, setattr, open and the xattr calls, and the kernel then looks
 * the name up again (the VFS retries a path walk once on ESTALE), so that
 * the client finds what BACKING has now, another file or none, as
 * natively, rather than an empty file.  One deleted behind the mount but
 * not given up yet still shows the old file, as a name cached for the
 * attribute timeout may.
 */
bool mmfs_stale(const struct mmfs_inode *inode, dev_t dev, ino_t ino)
{
	return S_ISREG(inode->type) && (dev != inode->dev || ino != inode->ino);
}

/* Attributes of the backing object; in a copy mount, a regular file whose
 * data diverged reports its private size. */
int mmfs_getattr_inode(struct mmfs_fs *fs, struct mmfs_inode *inode,
		       struct stat *st)
{
	if (fstatat(inode->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (mmfs_stale(inode, st->st_dev, st->st_ino))
		return -ESTALE;
	private_stat(fs, inode, st);
	return 0;
}

static struct mmfs_sx_time sx_time(struct statx_timestamp t)
{
	return (struct mmfs_sx_time){ .tv_sec = t.tv_sec,
				      .tv_nsec = t.tv_nsec };
}

/*
 * mmfs_getattr_inode for FUSE_STATX, with the birth time: statx(2) of the
 * backing object, with sync (AT_STATX_*) as the caller asked.  The file
 * flags statx reports (immutable, append-only, ...) pass on too.
 */
int mmfs_statx_inode(struct mmfs_fs *fs, struct mmfs_inode *inode,
		     unsigned int sync, struct mmfs_fuse_statx *sx)
{
	const uint64_t attrs = STATX_ATTR_COMPRESSED | STATX_ATTR_IMMUTABLE |
			       STATX_ATTR_APPEND | STATX_ATTR_NODUMP;
	struct statx x;
	struct private_attr pa;

	if (statx(inode->fd, "",
		  AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | (int)sync,
		  STATX_BASIC_STATS | STATX_BTIME, &x) < 0)
		return -errno;
	if (mmfs_stale(inode, makedev(x.stx_dev_major, x.stx_dev_minor),
		       x.stx_ino))
		return -ESTALE;
	memset(sx, 0, sizeof(*sx));
	sx->mask = x.stx_mask & (STATX_BASIC_STATS | STATX_BTIME);
	sx->blksize = x.stx_blksize;
	sx->attributes = x.stx_attributes & attrs;
	sx->attributes_mask = x.stx_attributes_mask & attrs;
	sx->nlink = x.stx_nlink;
	sx->uid = x.stx_uid;
	sx->gid = x.stx_gid;
	sx->mode = x.stx_mode;
	sx->ino = x.stx_ino;
	sx->size = x.stx_size;
	sx->blocks = x.stx_blocks;
	sx->atime = sx_time(x.stx_atime);
	sx->btime = sx_time(x.stx_btime);
	sx->ctime = sx_time(x.stx_ctime);
	sx->mtime = sx_time(x.stx_mtime);
	if (private_attr(fs, inode, x.stx_mode, &pa)) {
		sx->size = pa.size;
		if (pa.blocks >= 0)
			sx->blocks = (uint64_t)pa.blocks;
		if (private_time(&pa)) {
			sx->mtime.tv_sec = pa.time.tv_sec;
			sx->mtime.tv_nsec = (uint32_t)pa.time.tv_nsec;
			sx->ctime = sx->mtime;
		}
	}
	sx->rdev_major = x.stx_rdev_major;
	sx->rdev_minor = x.stx_rdev_minor;
	sx->dev_major = x.stx_dev_major;
	sx->dev_minor = x.stx_dev_minor;
	return 0;
}

/*
 * Look name up in parent and take one lookup reference on its inode,
 * creating the inode on first sight.  Fills e for fuse_reply_entry.
 */
int mmfs_do_lookup(struct mmfs_fs *fs, struct mmfs_inode *parent,
		   const char *name, struct fuse_entry_param *e)
{
	int fd = -1;

	return mmfs_do_lookup_open(fs, parent, name, &fd, 0, e);
}

static int64_t coarse_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A hash (FNV-1a, 64 bits, then mixed) of the directory and the name
 * an entry is sent under, and of the count of names moved in that
 * directory through the mount so far. */
static uint64_t name_key(struct mmfs_inode *parent, const char *name)
{
	uint64_t h = 14695981039346656037ull;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ull;
	h ^= (uint64_t)parent->ino * 0x9E3779B97F4A7C15ull;
	h ^= atomic_load_explicit(&parent->names_moved, memory_order_relaxed) *
	     0xC2B2AE3D27D4EB4Full;
	h ^= h >> 29;
	return h;
}

/* An unlink, rmdir or rename in dir served: the kernel moves or drops
 * its own entries there, with no entry reply, so no entry sent before
 * under a name in dir counts as fresh any more (mmfs_entry_fresh).
 * Called before the reply, while the kernel still holds dir locked. */
void mmfs_names_moved(struct mmfs_inode *dir)
{
	atomic_fetch_add_explicit(&dir->names_moved, 1, memory_order_relaxed);
}

/*
 * Does the kernel hold the inode (parent's device, ino) under this name
 * in parent, with an entry and attributes that a reply gave it less than
 * half their timeout ago?  A READDIRPLUS then sends the name without them
 * (node id 0): the kernel keeps what it has, and the daemon spares a
 * lookup per name.  The kernel asks for READDIRPLUS at every listing from
 * its start, so a listing repeated at once (a second `ls -l`, `git
 * status`, `find`) would otherwise look every name up again.  A name that
 * now names another inode (renamed over or linked behind the mount) is
 * looked up, and so is every name of a directory once a name in it has
 * moved through the mount (the kernel then changed its entries without a
 * reply from us).  Attributes changed behind the mount within that half
 * timeout are not refreshed by the listing, as they are not by a stat.
 */
bool mmfs_entry_fresh(struct mmfs_fs *fs, struct mmfs_inode *parent,
		      const char *name, ino_t ino)
{
	struct mmfs_inode *p;
	int64_t sent = 0;
	uint64_t key = 0;

	if (fs->fresh_ns <= 0)
		return false;
	pthread_mutex_lock(&fs->table_lock);
	p = table_find(fs, parent->dev, ino);
	if (p && p->nlookup > 0) {
		sent = atomic_load_explicit(&p->entry_sent,
					    memory_order_relaxed);
		key = atomic_load_explicit(&p->entry_name,
					   memory_order_relaxed);
	}
	pthread_mutex_unlock(&fs->table_lock);
	return sent > 0 && coarse_now() - sent < fs->fresh_ns &&
	       key == name_key(parent, name);
}

static void fill_entry(struct mmfs_fs *fs, struct mmfs_inode *parent,
		       const char *name, struct mmfs_inode *inode,
		       struct stat *st, struct fuse_entry_param *e)
{
	atomic_store_explicit(&inode->entry_name, name_key(parent, name),
			      memory_order_relaxed);
	atomic_store_explicit(&inode->entry_sent, coarse_now(),
			      memory_order_relaxed);
	private_stat(fs, inode, st);
	e->ino = mmfs_ino_of(fs, inode);
	e->attr = *st;
	e->attr_timeout = fs->timeout;
	e->entry_timeout = fs->timeout;
}

/*
 * A lookup with no descriptor left to open (err, after the prune): the
 * name can still be answered where it needs none, when it does not exist
 * or names an inode the table holds already (another name of a file held
 * open, say).  Otherwise err stands.
 */
static int lookup_without_fd(struct mmfs_fs *fs, struct mmfs_inode *parent,
			     const char *name, struct fuse_entry_param *e,
			     int err)
{
	struct mmfs_inode *inode;
	struct stat st;

	if (fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT || errno == ENOTDIR ? -errno : err;
	pthread_mutex_lock(&fs->table_lock);
	inode = table_find(fs, st.st_dev, st.st_ino);
	if (inode) {
		inode->nlookup++;
		inode->used = true;
	}
	pthread_mutex_unlock(&fs->table_lock);
	if (!inode)
		return err;
	fill_entry(fs, parent, name, inode, &st, e);
	return 0;
}

/*
 * mmfs_do_lookup, with *fdp a descriptor of the file just opened by that
 * name (by create, with access access), or -1.  A new inode takes the
 * descriptor as its own (*fdp becomes -1): create then needs neither an
 * O_PATH open nor a swap.  Otherwise *fdp stays the caller's.
 */
int mmfs_do_lookup_open(struct mmfs_fs *fs, struct mmfs_inode *parent,
			const char *name, int *fdp, int access,
			struct fuse_entry_param *e)
{
	struct mmfs_inode *inode, *fresh;
	unsigned int tries = 0;
	struct stat st;
	int fd = *fdp, err;

	memset(e, 0, sizeof(*e));
	if (fd >= 0) {
		if (fstat(fd, &st) < 0)
			return -errno;
	} else {
		access = 0;
		do
			fd = openat(parent->fd, name,
				    O_PATH | O_NOFOLLOW | O_CLOEXEC);
		while (fd < 0 && errno == EMFILE &&
		       mmfs_prune_wait(fs, &tries));
		if (fd < 0 && (errno == EMFILE || errno == ENFILE))
			return lookup_without_fd(fs, parent, name, e, -errno);
		if (fd < 0)
			return -errno;
		if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) <
		    0) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	/* Allocated before taking the table lock, dropped if not needed. */
	fresh = calloc(1, sizeof(*fresh));
	if (!fresh) {
		if (fd != *fdp)
			close(fd);
		return -ENOMEM;
	}

	pthread_mutex_lock(&fs->table_lock);
	inode = table_find(fs, st.st_dev, st.st_ino);
	if (inode) {
		inode->nlookup++;
		inode->used = true;
	} else {
		inode = fresh;
		fresh = NULL;
		inode->fd = fd;
		inode->fd_access = (unsigned char)access;
		if (fd == *fdp)
			*fdp = -1;
		fd = -1;
		inode->dev = st.st_dev;
		inode->ino = st.st_ino;
		inode->type = st.st_mode & S_IFMT;
		inode->nlookup = 1;
		inode->used = true;
		inode->noatime_fd = -1;
		pthread_rwlock_init(&inode->lock, NULL);
		pthread_mutex_init(&inode->sync_lock, NULL);
		table_insert(fs, inode);
		mmfs_prune_may(fs);
	}
	pthread_mutex_unlock(&fs->table_lock);
	free(fresh);
	if (fd >= 0 && fd != *fdp)
		close(fd);
	else if (fd < 0) /* a new inode took it */
		mmfs_prune(fs, inode->fd);

	fill_entry(fs, parent, name, inode, &st, e);
	return 0;
}

/* Free inode if the kernel holds no reference, no handle is open and it
 * carries no private data. */
static void maybe_free(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	bool gone = false;

	pthread_mutex_lock(&fs->table_lock);
	if (inode != &fs->root && inode->hashed && inode->nlookup == 0 &&
	    !inode->handles && !inode->keep) {
		table_remove(fs, inode);
		gone = true;
	}
	pthread_mutex_unlock(&fs->table_lock);
	if (gone)
		inode_free(fs, inode);
}

void mmfs_forget_one(struct mmfs_fs *fs, struct mmfs_inode *inode, uint64_t n)
{
	if (inode == &fs->root)
		return;
	pthread_mutex_lock(&fs->table_lock);
	inode->nlookup = n > inode->nlookup ? 0 : inode->nlookup - n;
	pthread_mutex_unlock(&fs->table_lock);
	maybe_free(fs, inode);
}

/* After a release left inode->handles (the kernel forgets an inode only
 * after its last release, but do not rely on it). */
void mmfs_release_done(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	maybe_free(fs, inode);
}

/*
 * name in dir is about to lose a link (unlink, or a rename over it): the
 * inode the table holds for it, with a reference taken for
 * mmfs_name_gone, or NULL when there is none or it is not a regular
 * file.
 */
struct mmfs_inode *mmfs_name_going(struct mmfs_fs *fs, struct mmfs_inode *dir,
				   const char *name)
{
	struct mmfs_inode *inode;
	struct stat st;

	if (fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode))
		return NULL;
	pthread_mutex_lock(&fs->table_lock);
	inode = table_find(fs, st.st_dev, st.st_ino);
	if (inode)
		inode->nlookup++;
	pthread_mutex_unlock(&fs->table_lock);
	return inode;
}

/* The link is gone (or stayed, on failure): a file nobody has open gives
 * up its backing file now if that was its last link (mmfs_fd_detach), and
 * the reference goes. */
void mmfs_name_gone(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	if (!inode)
		return;
	pthread_rwlock_wrlock(&inode->lock);
	if (!inode->handles && !inode->map)
		mmfs_fd_detach(fs, inode);
	pthread_rwlock_unlock(&inode->lock);
	mmfs_forget_one(fs, inode, 1);
}
