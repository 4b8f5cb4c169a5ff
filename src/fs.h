/* fs.h - the FUSE driver's shared state: the mount, its inode table, open
 * handles, and the functions the op files (ops.c, open.c, file.c, ioctl.c)
 * share. */
#ifndef MMFS_FS_H
#define MMFS_FS_H

#define FUSE_USE_VERSION 312

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "mmfs.h"

struct mmfs_ioctl_job;

/* cache= option. */
enum mmfs_cache_mode {
	MMFS_CACHE_AUTO,
	MMFS_CACHE_ALWAYS,
	MMFS_CACHE_NEVER,
};

/* Largest read or write request we ask the kernel for. */
#define MMFS_MAX_IO (1024 * 1024)

/* Largest read request, unless -o max_read says otherwise: a page less,
 * so that a spliced reply (a pipe buffer per page, one for the header)
 * fits the 1 MiB pipe an unprivileged process may have (splice.c). */
#define MMFS_MAX_READ (MMFS_MAX_IO - 4096)

/*
 * In fi->flags of open, create and write: the caller lacks CAP_FSETID,
 * and we clear setuid and setgid as the kernel would
 * (FUSE_HANDLE_KILLPRIV_V2, which main.c's session hooks negotiate and
 * carry over; no open flag uses this bit).  Strip it before the flags go
 * anywhere else.
 */
#define MMFS_O_KILL_SUIDGID ((int)0x40000000)

/*
 * FUSE_STATX (FUSE 7.39, Linux 6.6), which libfuse 3.14 predates: the
 * kernel sends it for a statx(2) that asks for more than stat(2) gives,
 * the birth time.  main.c's read hook hands it to libfuse as the GETATTR
 * whose arguments begin its own and notes it for the thread
 * (mmfs_statx_taken); op_getattr then answers with struct
 * mmfs_statx_out.  The layout is the kernel's (include/uapi/linux/fuse.h).
 */
#define MMFS_FUSE_STATX 52

struct mmfs_sx_time {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};

struct mmfs_fuse_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, spare0;
	uint64_t ino, size, blocks, attributes_mask;
	struct mmfs_sx_time atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare2[14];
};

struct mmfs_statx_in {
	uint32_t getattr_flags, reserved;
	uint64_t fh;
	uint32_t sx_flags, sx_mask;
};

struct mmfs_statx_out {
	uint64_t attr_valid;
	uint32_t attr_valid_nsec, flags;
	uint64_t spare[2];
	struct mmfs_fuse_statx stat;
};

_Static_assert(sizeof(struct mmfs_statx_in) == 24, "fuse_statx_in");
_Static_assert(sizeof(struct mmfs_statx_out) == 288, "fuse_statx_out");

/* main.c: whether the request this thread is serving came as FUSE_STATX,
 * with its statx(2) sync flags (AT_STATX_*); true once per request. */
bool mmfs_statx_taken(unsigned int *sync);


/*
 * One backing object (file, directory, symlink, ...), keyed by its (dev,
 * ino).  The FUSE node id is the struct's address (FUSE_ROOT_ID for root).
 *
 * Lock order: an inode's lock, then fs->table_lock.  table_lock is a leaf:
 * nothing else is taken while it is held, and no syscall that can block for
 * long runs under it.  Two inodes' locks are never held at the same time.
 *
 * The mapping is shared by every handle and hard link of the inode.  Users
 * of the map (read, write within the length, find, move, flush, madvise,
 * info) hold lock shared; anything that creates, resizes or closes the map,
 * or changes the fields below it, holds lock exclusive.
 */
struct mmfs_inode {
	/* Immutable after creation.  fd's number never changes, and names
	 * the backing object (an empty stand-in once gone); while a regular
	 * file is open, the number holds an open description of it instead
	 * of an O_PATH one, which the handles and the map share (see
	 * fd_access). */
	int fd;
	dev_t dev; /* table key, with ino */
	ino_t ino;
	mode_t type; /* S_IFMT bits */

	/* Protected by fs->table_lock. */
	struct mmfs_inode *next; /* hash chain */
	uint64_t nlookup;	 /* the kernel's references */
	/* The open handles (NULL: not open); also changed only with lock
	 * held exclusive, so either lock suffices to read it.  At unmount
	 * the kernel may still hold some it will never release. */
	struct mmfs_handle *handles;
	bool hashed;	    /* in the table (false once being destroyed) */
	bool gone;	    /* let its backing file go: lookups pass it by */
	bool keep;	    /* copy mount: private data, keep until unmount */
	bool used;	    /* looked up or opened since the prune clock's
			     * hand last passed (prune.c) */

	/* When an entry reply last gave the kernel this inode under a name
	 * with its attributes (CLOCK_MONOTONIC_COARSE, ns), or 0 once they
	 * may be stale there, and a hash of that directory and name and of
	 * the directory's names_moved then (see mmfs_entry_fresh). */
	_Atomic int64_t entry_sent;
	_Atomic uint64_t entry_name;
	/* A directory's: unlinks, rmdirs and renames in it served. */
	_Atomic uint64_t names_moved;

	/* Protected by lock. */
	pthread_rwlock_t lock;
	unsigned char fd_access; /* MMFS_FD_READ | MMFS_FD_WRITE of fd's
				  * description; 0: O_PATH */
	struct mmfs_map *map; /* NULL when unmapped (empty file, or closed) */
	unsigned char *base;  /* address of the map's first byte */
	size_t maplen;	      /* the map's length as last recorded */
	bool map_ro; /* write mount, but the map is read-only: no writable
		      * descriptor could be had, or map_readers */
	bool map_readers; /* read-only as only readers have the file open */
	bool priv;   /* copy mount: data diverged from the backing file; the
		      * map (NULL meaning empty) is the file's data */
	bool priv_anon; /* the map is anonymous (memfd), not the backing file */
	_Atomic int noatime_fd;	     /* for O_NOATIME handles' reads of the
				      * backing file: opened at the first, closed
				      * with the last handle; or -1 */
	struct timespec priv_time;   /* when the private data last changed
				      * (its mtime and ctime); 0: not yet */
	bool cache_valid;	     /* cache_mtime/ctime/size hold a stamp */
	struct timespec cache_mtime; /* backing stamp at last open/release */
	struct timespec cache_ctime;
	off_t cache_size;

	/* The errors of written data that syncs through fd returned.  fd
	 * is one open description, which most handles share, and the
	 * kernel reports such an error once per description: each handle's
	 * next fsync must report it too (mmfs_op_fsync).  sync_lock is
	 * held across every sync of fd, so that no sync can return 0 for
	 * an error another one is about to keep. */
	pthread_mutex_t sync_lock;
	_Atomic unsigned int wb_err_seq; /* errors kept so far */
	int wb_errno;			 /* the last one (sync_lock) */
};

/* Is err, from a sync, an error of the written data (what a file system
 * records against a file's pages)? */
static inline bool mmfs_written_error(int err)
{
	return err == EIO || err == ENOSPC || err == EDQUOT;
}

/* A sync of inode->fd (sync_lock held) returned err: keep an error of
 * the written data for the handles to report. */
static inline void mmfs_sync_keep(struct mmfs_inode *inode, int err)
{
	if (mmfs_written_error(err)) {
		inode->wb_errno = err;
		atomic_fetch_add(&inode->wb_err_seq, 1);
	}
}

/* Does inode hold private data in a copy-on-write map of its backing
 * file (a copy mount's file written within its size; lock held)? */
static inline bool mmfs_private_cow(const struct mmfs_inode *inode)
{
	return inode->priv && inode->map && !inode->priv_anon;
}

/* What an inode's descriptor may do (struct mmfs_inode, fd_access). */
#define MMFS_FD_READ 0x1
#define MMFS_FD_WRITE 0x2
/* Not kept in fd_access: a descriptor open with O_APPEND (of an
 * append-only file), which serves its own handle alone. */
#define MMFS_FD_APPEND 0x4

/* An open regular file. */
struct mmfs_handle {
	int fd;	   /* a descriptor of its own, or -1: it uses the inode's */
	int flags; /* the client's open flags */
	bool appends; /* fd is O_APPEND (MMFS_FD_APPEND): it only appends */
	unsigned int wb_seen; /* inode->wb_err_seq when it last reported */
	struct mmfs_handle *next, **pprev; /* inode->handles */
};

/* Every error reply: EMFILE from the daemon's own syscalls means that the
 * daemon, not the client, ran out of descriptors; the client is told
 * ENFILE, a limit outside itself, as when a map cannot be made. */
static inline int mmfs_reply_err(fuse_req_t req, int err)
{
	return fuse_reply_err(req, err == EMFILE ? ENFILE : err);
}

/* Do open(2) flags open for writing? */
static inline bool mmfs_is_writable(int flags)
{
	return (flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR;
}

/* The handle a request's fuse_file_info carries. */
static inline struct mmfs_handle *mmfs_handle_of(struct fuse_file_info *fi)
{
	return (struct mmfs_handle *)(uintptr_t)fi->fh;
}

/* The descriptor of the backing file that serves handle h of inode. */
static inline int mmfs_handle_fd(const struct mmfs_inode *inode,
				 const struct mmfs_handle *h)
{
	return h->fd >= 0 ? h->fd : inode->fd;
}

/* file.c: pread(2) until n bytes are read or the file ends; the count
 * read, or -errno if nothing was; *stop (unless NULL) the errno that
 * ended it short after some bytes, else 0. */
ssize_t mmfs_pread_all(int fd, char *buf, size_t n, uint64_t off, int *stop);

/* splice.c: mmfs_splice_load loads [off, off + len) of the backing file
 * fd into the calling thread's pipe, or its buffer for a small read
 * (false: could not, wholly; with at_end, also false unless the file ends
 * exactly at off + len); the next reply the thread sends that carries
 * exactly the map's bytes mem..len, the same bytes, is then sent from the
 * load by mmfs_splice_send, which the session's writev hook calls first
 * (false: write iov as usual).  mmfs_splice_drop discards a load no reply
 * took. */
bool mmfs_splice_load(int fd, off_t off, size_t len, bool at_end,
		      const void *mem);
void mmfs_splice_drop(void);
bool mmfs_splice_send(int devfd, const struct iovec *iov, int count,
		      ssize_t *res);

/* loop.c: the request loop (see there).  mmfs_loop_run serves se until
 * it ends, with at most max_threads threads (1: everything on one) and at
 * most max_idle of them idle; after a request the reading thread polls for
 * the next for up to spin_us microseconds.  0, or the error that ended
 * the session.  mmfs_loop_read is the session's read of /dev/fuse;
 * mmfs_loop_yield is for a handler about to do something that may wait,
 * so that another thread reads the next requests meanwhile. */
#define MMFS_SPIN_US 100
#define MMFS_INLINE_MAX (64 * 1024) /* larger writes yield */
#define MMFS_SPIN_MAX 10000u
int mmfs_loop_run(struct fuse_session *se, unsigned int max_threads,
		  unsigned int max_idle, unsigned int spin_us);
ssize_t mmfs_loop_read(int fd, void *buf, size_t len);
void mmfs_loop_yield(void);
/* A READ of [off, off + size) of node ino waits here for the WRITEs read
 * before it that change those bytes and are still being served. */
void mmfs_loop_wait_writes(uint64_t ino, uint64_t off, uint64_t size);
uint64_t mmfs_now_ns(void); /* CLOCK_MONOTONIC, in nanoseconds */

/* An open directory. */
struct mmfs_dirh {
	DIR *dp;
	off_t offset;
	struct dirent *entry; /* read but not yet returned to the kernel */
};

/* Mount-wide counters (struct mmapfs_stats); relaxed atomics. */
struct mmfs_counters {
	_Atomic uint64_t live_mappings;
	_Atomic int64_t bytes_mapped;
	_Atomic uint64_t requests;
	_Atomic uint64_t faults; /* seen by the driver (reply copy faults) */
	_Atomic uint64_t bytes_read;
	_Atomic uint64_t bytes_written;
	_Atomic uint64_t maps_created;
	_Atomic uint64_t maps_released;
};

struct mmfs_fs {
	/* Set before the session starts, read-only afterwards. */
	int access;   /* MMFS_ACCESS_WRITE, _READ or _COPY */
	int cache;    /* enum mmfs_cache_mode */
	bool anon;    /* -o anon: the tree lives in a private tmpfs dir */
	bool writeback; /* -o writeback, and the kernel caches writes */
	bool as_root; /* daemon runs as root: create files as the caller */
	bool noatime; /* -o noatime: reads leave backing files' atime alone */
	bool nodiratime; /* -o noatime or nodiratime, for directories */
	bool acl; /* -o default_permissions: ask the kernel to check ACLs */
	bool dont_mask; /* the kernel leaves the caller's umask to us */
	bool kernel_acl; /* the kernel reads ACLs itself (FUSE_POSIX_ACL) */
	unsigned int max_read;	 /* -o max_read=N, 0 if not given */
	double timeout;		 /* entry and attribute timeout, seconds */
	int64_t fresh_ns;	 /* half of it, in ns (mmfs_entry_fresh) */
	struct fuse_session *se; /* for cache invalidation notices */
	int standin; /* what a given-up inode's number names (inode.c) */
	struct mmfs_inode root;

	pthread_mutex_t table_lock;
	/* Protected by table_lock. */
	struct mmfs_inode **buckets;
	size_t nbuckets;
	size_t count;
	size_t prune_hand; /* prune.c: the clock's next bucket */

	/* prune.c: set by mmfs_prune_init, before the session starts */
	int prune_at_fd;     /* a new descriptor this high prunes; 0: never */
	int prune_urgent_fd; /* ... without waiting for the gap */
	size_t prune_batch;  /* inodes named in one pass, at most */
	_Atomic uint64_t prune_next_ns; /* no pass before this time */
	_Atomic bool prune_off;		/* the kernel refused one */
	/* The last pass went round the whole table and found no inode it
	 * could ever name (all open); cleared when one may have become
	 * nameable (table_lock, where set or cleared). */
	bool prune_none;

	struct mmfs_counters stats;

	/* ioctl.c: the ioctl thread and its queue (ioctl_lock). */
	pthread_mutex_t ioctl_lock;
	pthread_cond_t ioctl_cond;
	struct mmfs_ioctl_job *ioctl_head, **ioctl_tail;
	pthread_t ioctl_thread;
	bool ioctl_running; /* set before the session loop, cleared after */
	bool ioctl_stop;
};

/* inode.c: the table. */
int mmfs_table_init(struct mmfs_fs *fs, int root_fd);
void mmfs_table_destroy(struct mmfs_fs *fs);
struct mmfs_fs *mmfs_req_fs(fuse_req_t req); /* also counts the request */
struct mmfs_inode *mmfs_inode_of(struct mmfs_fs *fs, fuse_ino_t ino);
fuse_ino_t mmfs_ino_of(struct mmfs_fs *fs, struct mmfs_inode *inode);
int mmfs_do_lookup(struct mmfs_fs *fs, struct mmfs_inode *parent,
		   const char *name, struct fuse_entry_param *e);
int mmfs_do_lookup_open(struct mmfs_fs *fs, struct mmfs_inode *parent,
			const char *name, int *fdp, int access,
			struct fuse_entry_param *e);
void mmfs_forget_one(struct mmfs_fs *fs, struct mmfs_inode *inode, uint64_t n);
void mmfs_release_done(struct mmfs_fs *fs, struct mmfs_inode *inode);
bool mmfs_stale(const struct mmfs_inode *inode, dev_t dev, ino_t ino);
bool mmfs_entry_fresh(struct mmfs_fs *fs, struct mmfs_inode *parent,
		      const char *name, ino_t ino);
void mmfs_names_moved(struct mmfs_inode *dir);

/* The kernel marks the inode's attributes stale by itself (after a read,
 * a write, an xattr change...): an entry sent before no longer counts.
 * Stored only when set, so that readers of one file on several CPUs do
 * not pass its cache line between them at every read. */
static inline void mmfs_entry_stale(struct mmfs_inode *inode)
{
	if (atomic_load_explicit(&inode->entry_sent, memory_order_relaxed))
		atomic_store_explicit(&inode->entry_sent, 0,
				      memory_order_relaxed);
}
int mmfs_getattr_inode(struct mmfs_fs *fs, struct mmfs_inode *inode,
		       struct stat *st);
int mmfs_statx_inode(struct mmfs_fs *fs, struct mmfs_inode *inode,
		     unsigned int sync, struct mmfs_fuse_statx *sx);
void mmfs_procdir_open(void);
int mmfs_reopen(struct mmfs_inode *inode, int flags);
int mmfs_openat(int dirfd, const char *name, int flags, mode_t mode);
int mmfs_fd_access(int flags);
bool mmfs_fd_serves(const struct mmfs_inode *inode, int access);
int mmfs_fd_attach(struct mmfs_inode *inode, int fd, int access);
void mmfs_fd_detach(struct mmfs_fs *fs, struct mmfs_inode *inode);
struct mmfs_inode *mmfs_name_going(struct mmfs_fs *fs, struct mmfs_inode *dir,
				   const char *name);
void mmfs_name_gone(struct mmfs_fs *fs, struct mmfs_inode *inode);
void mmfs_attrs_changed(struct mmfs_fs *fs, struct mmfs_inode *inode);
const char *mmfs_procpath(int fd, char *buf, size_t len);

/* prune.c: asking the kernel to forget idle inodes as descriptors run
 * short.  mmfs_prune_init reads the descriptor limit; mmfs_prune is
 * called with a descriptor just opened for a new inode (it prunes when the
 * number is near the limit) or -1 after EMFILE, and no table_lock held. */
void mmfs_prune_init(struct mmfs_fs *fs);
void mmfs_prune(struct mmfs_fs *fs, int fd);
/* After an open(2) of the daemon's failed with EMFILE (*tries 0 at
 * first): true once the caller may try it again; false, to fail it. */
bool mmfs_prune_wait(struct mmfs_fs *fs, unsigned int *tries);
/* An inode may have become one a pass can name: a new one, or one
 * whose last handle closed (table_lock held). */
static inline void mmfs_prune_may(struct mmfs_fs *fs)
{
	fs->prune_none = false;
}
/* Does the table hold as many inodes as a pass starts at? */
bool mmfs_prune_short(struct mmfs_fs *fs);

/* creds.c: the caller's credentials: acting as it when creating files
 * (allow_other), the checks open(2) would make, the set-id bits. */
void mmfs_creds_init(bool as_root);
void mmfs_creds_fini(void);
struct mmfs_creds {
	bool switched;
	bool umask_set; /* this thread's umask is the caller's until leave */
	mode_t mask;	/* what mmfs_creds_mode still takes off a mode */
};
void mmfs_creds_enter(struct mmfs_fs *fs, fuse_req_t req, struct mmfs_creds *c);
void mmfs_creds_leave(struct mmfs_fs *fs, struct mmfs_creds *c);
mode_t mmfs_creds_mode(const struct mmfs_creds *c, mode_t mode);
int mmfs_may(struct mmfs_fs *fs, struct mmfs_inode *inode, int mode);
int mmfs_flags_allow(struct mmfs_fs *fs, struct mmfs_inode *inode, int flags);
void mmfs_kill_suidgid(struct mmfs_fs *fs, fuse_req_t req,
		       struct mmfs_inode *inode, int fd);

/* mapping.c: the mapping's life; all need inode->lock held exclusive. */
int mmfs_map_ensure(struct mmfs_fs *fs, struct mmfs_inode *inode);
int mmfs_map_ensure_fd(struct mmfs_fs *fs, struct mmfs_inode *inode, int fd,
		       const struct stat *known);
void mmfs_map_drop(struct mmfs_fs *fs, struct mmfs_inode *inode);
void mmfs_map_refresh(struct mmfs_fs *fs, struct mmfs_inode *inode);
int mmfs_map_resync(struct mmfs_fs *fs, struct mmfs_inode *inode);
int mmfs_set_size(struct mmfs_fs *fs, struct mmfs_inode *inode, int fd,
		  uint64_t size);
int mmfs_data_size(struct mmfs_inode *inode, uint64_t *sizep);
void mmfs_mark_private(struct mmfs_fs *fs, struct mmfs_inode *inode);
void mmfs_private_changed(struct mmfs_inode *inode);
int mmfs_map_errno(int err);
int mmfs_size_errno(int err, uint64_t len);

/* open.c: opening and closing regular files. */
void mmfs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		    mode_t mode, struct fuse_file_info *fi);
void mmfs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void mmfs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void mmfs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		   struct fuse_file_info *fi);

/* dir.c: open directories. */
void mmfs_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void mmfs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
		     struct fuse_file_info *fi);
void mmfs_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			 off_t offset, struct fuse_file_info *fi);
void mmfs_op_releasedir(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi);
void mmfs_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		      struct fuse_file_info *fi);

/* file.c: data ops (and the write path copy_file_range shares). */
void mmfs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi);
void mmfs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		   off_t off, struct fuse_file_info *fi);
void mmfs_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		       off_t length, struct fuse_file_info *fi);
void mmfs_op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			     struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			     off_t off_out, struct fuse_file_info *fi_out,
			     size_t len, int flags);
int mmfs_truncate(struct mmfs_fs *fs, struct mmfs_inode *inode, int fd,
		  uint64_t size, bool bypath);

/* ioctl.c; the ioctl thread runs from mmfs_ioctl_start (after the daemon
 * forked, before the session loop) to mmfs_ioctl_stop (after it). */
int mmfs_ioctl_start(struct mmfs_fs *fs);
void mmfs_ioctl_stop(struct mmfs_fs *fs);
void mmfs_op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
		   struct fuse_file_info *fi, unsigned flags,
		   const void *in_buf, size_t in_bufsz, size_t out_bufsz);

/* ops.c: the operation table (namespace ops live there). */
extern const struct fuse_lowlevel_ops mmfs_ops;

/* main.c: logging that follows the daemon to syslog. */
void mmfs_log(enum fuse_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* main.c: the command line, checked before anything is touched. */
struct mmfs_cmdline {
	int access;	  /* MMFS_ACCESS_WRITE, _READ or _COPY */
	int cache;	  /* enum mmfs_cache_mode */
	bool anon;	  /* -o anon */
	bool writeback;	  /* -o writeback */
	bool nonempty;	  /* -o nonempty: the mount point may hold entries */
	bool default_permissions; /* -o default_permissions */
	bool allow_other; /* -o allow_other, which implies the above */
	bool noatime;	  /* -o noatime */
	bool nodiratime;  /* -o nodiratime */
	bool help;	  /* -h: print the usage, nothing else is set */
	bool version;	  /* -V: print the versions, nothing else is set */
	bool has_fsname;  /* -o fsname= given */
	bool has_subtype; /* -o subtype= given */
	unsigned int max_read;
	unsigned int spin_us; /* -o spin=N, or MMFS_SPIN_US */
	char *backing;	  /* BACKING as given; NULL with -o anon */
	char *mountpoint; /* MOUNTPOINT as given */
};
/* cmdline.c: 0, or -EINVAL with the message (no "mmapfs: " prefix) in
 * msg; fills cl and leaves in args what libfuse must see.  Free cl with
 * mmfs_cmdline_free (also after a failure).  mmfs_usage and
 * mmfs_print_version print --help and --version. */
int mmfs_parse_cmdline(struct fuse_args *args, struct mmfs_cmdline *cl,
		       char *msg, size_t msglen);
void mmfs_cmdline_free(struct mmfs_cmdline *cl);
void mmfs_usage(const char *prog);
void mmfs_print_version(void);

static inline void mmfs_count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

#endif /* MMFS_FS_H */
