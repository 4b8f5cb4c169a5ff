/* ioctl.c - decoding of the mmapfs ioctls (include/mmapfs.h): fixed-size
 * payloads checked before use, then one engine call on the inode's map.
 * Those that drop the kernel's cached pages run on a thread of their own
 * (see the ioctl thread below).  Also the inode flags of chattr(1) and
 * lsattr(1), passed to the backing object. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/fs.h>

#include "fs.h"
#include "mmapfs.h"

#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

/* Payload sizes of a command: 0 when it has none in that direction. */
static int payload_sizes(unsigned int cmd, size_t *in, size_t *out)
{
	*in = *out = 0;
	switch (cmd) {
	case MMAPFS_IOC_MADVISE:
		*in = sizeof(struct mmapfs_madvise);
		return 0;
	case MMAPFS_IOC_FIND:
	case MMAPFS_IOC_RFIND:
		*in = *out = sizeof(struct mmapfs_find);
		return 0;
	case MMAPFS_IOC_MOVE:
		*in = sizeof(struct mmapfs_move);
		return 0;
	case MMAPFS_IOC_FLUSH:
		*in = sizeof(struct mmapfs_flush);
		return 0;
	case MMAPFS_IOC_INFO:
		*out = sizeof(struct mmapfs_info);
		return 0;
	case MMAPFS_IOC_STATS:
		*out = sizeof(struct mmapfs_stats);
		return 0;
	}
	/* One of ours with another size or direction encoded: bad argument;
	 * anything else is not ours. */
	if (_IOC_TYPE(cmd) == MMAPFS_IOC_MAGIC && _IOC_NR(cmd) >= 1 &&
	    _IOC_NR(cmd) <= 7)
		return -EINVAL;
	return -ENOTTY;
}

/* An ioctl's success carries an (empty) ioctl reply, not a bare status. */
static void reply_status(fuse_req_t req, int err)
{
	if (err)
		mmfs_reply_err(req, -err);
	else
		fuse_reply_ioctl(req, 0, NULL, 0);
}

/*
 * The bytes changed behind the kernel's page cache: drop its copy before
 * replying, so that the caller's next read sees them.  No lock is held:
 * the kernel may wait for reads of those pages, which we serve.
 */
static void inval_cache(struct mmfs_fs *fs, struct mmfs_inode *inode,
			int64_t off, int64_t len)
{
	if (fs->se && off >= 0 && len > 0)
		fuse_lowlevel_notify_inval_inode(fs->se, mmfs_ino_of(fs, inode),
						 off, len);
}

/*
 * Before a MOVE or an advice that drops pages: a client's stores through
 * its own mapping of the file wait in the kernel's cache until written
 * back, and the invalidation after the change would write them back over
 * it (a move lost, a removed page back).  Have the kernel write the range
 * back (and drop it) first.  len 0: to the end.  Under -o writeback,
 * run_ioctl has done so for the whole file.
 */
static void write_back(struct mmfs_fs *fs, struct mmfs_inode *inode,
		       int64_t off, int64_t len)
{
	if (off < 0 || len < 0)
		return; /* the engine refuses the range */
	if (len > INT64_MAX - off)
		len = 0;
	if (fs->se && !fs->writeback)
		fuse_lowlevel_notify_inval_inode(fs->se, mmfs_ino_of(fs, inode),
						 off, len);
}

/* After -EIO from the engine: the backing file was cut under the map. */
static void after_fault(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	pthread_rwlock_wrlock(&inode->lock);
	mmfs_map_resync(fs, inode);
	pthread_rwlock_unlock(&inode->lock);
}

/*
 * A read that reaches the map's end brings the map in line with a backing
 * file that changed size outside the mount; an ioctl looks first too, so
 * that a find covers the file as stat(2) and read(2) show it, not the
 * length it had when last read to its end.
 */
static void sync_length(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	uint64_t size;
	bool same;

	if (!S_ISREG(inode->type))
		return;
	pthread_rwlock_rdlock(&inode->lock);
	same = inode->priv || (mmfs_data_size(inode, &size) == 0 &&
			       size == inode->maplen && (inode->map || !size));
	pthread_rwlock_unlock(&inode->lock);
	if (!same)
		after_fault(fs, inode);
}

static void do_stats(fuse_req_t req, struct mmfs_fs *fs)
{
	struct mmfs_counters *c = &fs->stats;
	struct mmapfs_stats s;
	int64_t mapped;

	memset(&s, 0, sizeof(s));
	s.live_mappings = atomic_load(&c->live_mappings);
	mapped = atomic_load(&c->bytes_mapped);
	s.bytes_mapped = mapped > 0 ? (uint64_t)mapped : 0;
	s.requests = atomic_load(&c->requests);
	s.faults = mmfs_fault_count() + atomic_load(&c->faults);
	s.bytes_read = atomic_load(&c->bytes_read);
	s.bytes_written = atomic_load(&c->bytes_written);
	s.maps_created = atomic_load(&c->maps_created);
	s.maps_released = atomic_load(&c->maps_released);
	fuse_reply_ioctl(req, 0, &s, sizeof(s));
}

static void do_info(fuse_req_t req, struct mmfs_fs *fs,
		    struct mmfs_inode *inode)
{
	struct mmapfs_info info;
	uint64_t size = 0;
	int err;

	memset(&info, 0, sizeof(info));
	pthread_rwlock_rdlock(&inode->lock);
	err = mmfs_data_size(inode, &size);
	if (inode->map) {
		info.length = inode->maplen;
		info.offset = mmfs_offset(inode->map);
		info.access = (uint32_t)mmfs_access(inode->map);
		info.flags = (uint32_t)mmfs_flags(inode->map);
		info.prot = (uint32_t)mmfs_prot(inode->map);
		info.mapped = 1;
	} else {
		info.access = (uint32_t)fs->access;
		info.flags = fs->access == MMFS_ACCESS_COPY ? MAP_PRIVATE
							    : MAP_SHARED;
		info.prot = fs->access == MMFS_ACCESS_READ
				    ? PROT_READ
				    : PROT_READ | PROT_WRITE;
	}
	if (fs->access == MMFS_ACCESS_COPY)
		info.access = MMFS_ACCESS_COPY; /* the file is a copy even
						 * once its bytes moved */
	if (inode->map_readers) { /* the map a writer gets, as unmapped */
		info.access = (uint32_t)fs->access;
		info.prot = PROT_READ | PROT_WRITE;
	}
	info.anonymous = fs->anon || inode->priv_anon;
	pthread_rwlock_unlock(&inode->lock);
	if (err < 0) {
		mmfs_reply_err(req, -err);
		return;
	}
	info.file_size = size;
	info.page_size = (uint32_t)mmfs_pagesize();
	fuse_reply_ioctl(req, 0, &info, sizeof(info));
}

/* A client killed or interrupted while it waits for a find: the kernel
 * sent FUSE_INTERRUPT, and the search stops at its next chunk. */
static bool find_interrupted(void *req)
{
	return fuse_req_interrupted(req) != 0;
}

static void do_find(fuse_req_t req, struct mmfs_fs *fs,
		    struct mmfs_inode *inode, const void *in_buf, bool rev)
{
	struct mmapfs_find f;
	int64_t result = -1;
	int err = 0;

	memcpy(&f, in_buf, sizeof(f));
	if (f.needle_len > MMAPFS_NEEDLE_MAX || f.flags != 0) {
		mmfs_reply_err(req, EINVAL);
		return;
	}
	mmfs_search_stop(find_interrupted, req);
	pthread_rwlock_rdlock(&inode->lock);
	if (!inode->map)
		result = f.needle_len == 0 ? 0 : -1; /* empty, as Python's */
	else if (rev)
		err = mmfs_rfind(inode->map, f.needle, f.needle_len, f.start,
				 f.end, &result);
	else
		err = mmfs_find(inode->map, f.needle, f.needle_len, f.start,
				f.end, &result);
	pthread_rwlock_unlock(&inode->lock);
	mmfs_search_stop(NULL, NULL);
	if (err == -EIO)
		after_fault(fs, inode);
	if (err < 0) {
		mmfs_reply_err(req, -err);
		return;
	}
	f.result = result;
	fuse_reply_ioctl(req, 0, &f, sizeof(f));
}

static void do_move(fuse_req_t req, struct mmfs_fs *fs,
		    struct mmfs_inode *inode, const void *in_buf)
{
	bool copy = fs->access == MMFS_ACCESS_COPY;
	struct mmapfs_move m;
	int err;

	memcpy(&m, in_buf, sizeof(m));
	if (m.count > 0) {
		write_back(fs, inode, m.src, m.count);
		write_back(fs, inode, m.dest, m.count);
	}
	/* A copy mount's move changes the private data: exclusive, so the
	 * inode can be marked as holding it. */
	if (copy)
		pthread_rwlock_wrlock(&inode->lock);
	else
		pthread_rwlock_rdlock(&inode->lock);
	if (!inode->map) {
		/* Python's checks on an empty map: writability, then range */
		if (fs->access == MMFS_ACCESS_READ)
			err = -EACCES;
		else if (m.dest == 0 && m.src == 0 && m.count == 0)
			err = 0;
		else
			err = -EINVAL;
	} else {
		err = mmfs_move(inode->map, m.dest, m.src, m.count);
		if (err == 0 && copy) {
			mmfs_mark_private(fs, inode);
			if (m.count > 0)
				mmfs_private_changed(inode);
		}
	}
	pthread_rwlock_unlock(&inode->lock);
	if (err == -EIO)
		after_fault(fs, inode);
	if (err == 0 && m.count > 0)
		inval_cache(fs, inode, m.dest, m.count);
	reply_status(req, err);
}

static void do_flush(fuse_req_t req, struct mmfs_fs *fs,
		     struct mmfs_inode *inode, const void *in_buf)
{
	struct mmapfs_flush fl;
	int64_t len, size;
	int err;

	memcpy(&fl, in_buf, sizeof(fl));
	if (fl.flags & ~(uint32_t)MMAPFS_ARG_DEFAULT_SIZE) {
		mmfs_reply_err(req, EINVAL);
		return;
	}
	pthread_rwlock_rdlock(&inode->lock);
	len = inode->map ? (int64_t)inode->maplen : 0;
	size = fl.size;
	if (fl.flags & MMAPFS_ARG_DEFAULT_SIZE)
		size = fl.offset >= 0 && fl.offset <= len ? len - fl.offset
							  : -1;
	/* A copy mount writes nothing back, as Python's ACCESS_COPY: only
	 * the range is checked.  Its map is the engine's copy map, or,
	 * once the file changed size, a shared memfd (private_resize),
	 * whose msync would want an aligned offset.  A write mount's file
	 * that only readers hold has a read-only map, which the engine
	 * would treat as ACCESS_READ: the mount's rule is ACCESS_WRITE's,
	 * whoever holds the file, and msync(2) wants an aligned offset. */
	if (inode->map && fs->access != MMFS_ACCESS_COPY && !inode->map_ro) {
		/* msync(2) syncs the file through the map's description,
		 * the inode's: its error is the handles' too */
		pthread_mutex_lock(&inode->sync_lock);
		err = mmfs_flush(inode->map, fl.offset, size);
		mmfs_sync_keep(inode, -err);
		pthread_mutex_unlock(&inode->sync_lock);
	} else if (size < 0 || fl.offset < 0 || len - fl.offset < size)
		err = -EINVAL;
	else if (inode->map && fs->access == MMFS_ACCESS_WRITE &&
		 fl.offset % (int64_t)sysconf(_SC_PAGESIZE) != 0)
		err = -EINVAL;
	else
		err = 0;
	pthread_rwlock_unlock(&inode->lock);
	if (err == -EIO)
		after_fault(fs, inode);
	reply_status(req, err);
}

/*
 * The advice a client may give: hints, and drops of pages the file still
 * holds.  The kernel's values from 100 on act on the daemon's memory
 * itself: poisoned pages, or guard regions (MADV_GUARD_INSTALL, Linux
 * 6.13) that kill the daemon with SIGSEGV at its next read of the file.
 * Those are EPERM; values this list does not know are EINVAL, so a new
 * kernel's advice is never passed on unseen.
 */
static int advice_allowed(int32_t advice)
{
	if (advice >= 0 && advice <= 25)
		return 0; /* MADV_NORMAL .. MADV_COLLAPSE */
	if (advice == MADV_HWPOISON || advice == MADV_SOFT_OFFLINE ||
	    advice == 102 || advice == 103) /* MADV_GUARD_INSTALL, _REMOVE */
		return -EPERM;
	return -EINVAL;
}

/* Advice that drops the mapping's pages: the file's bytes come back from
 * the backing file, or from a hole it punches (REMOVE); a copy map's
 * private bytes are lost. */
static bool advice_drops(int32_t advice)
{
	return advice == MADV_REMOVE || advice == MADV_DONTNEED ||
	       advice == MADV_DONTNEED_LOCKED || advice == MADV_FREE;
}

/*
 * Advice that only sets a flag on the mapping (readahead, fork, dump,
 * huge pages, KSM): given for part of it, the kernel splits the mapping
 * there, and a client that may only read one file could split the
 * daemon's map of it into tens of thousands of kernel mappings, up to
 * vm.max_map_count, after which every other file's map fails (ENOMEM).
 * The daemon gives such advice for the whole map, once the range has
 * been checked: it is a hint about its own accesses, and its answer to
 * the client is the same (a start off a page boundary still goes to the
 * kernel as it is, for its EINVAL).
 */
static bool advice_marks(int32_t advice)
{
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:
	case MADV_DODUMP:
	case MADV_WIPEONFORK:
	case MADV_KEEPONFORK:
		return true;
	default:
		return false;
	}
}

static void do_madvise(fuse_req_t req, struct mmfs_fs *fs,
		       struct mmfs_inode *inode, const void *in_buf)
{
	struct mmapfs_madvise m;
	int64_t length = 0;
	int err;

	memcpy(&m, in_buf, sizeof(m));
	if (m.flags & ~(uint32_t)MMAPFS_ARG_DEFAULT_LENGTH) {
		mmfs_reply_err(req, EINVAL);
		return;
	}
	length = (m.flags & MMAPFS_ARG_DEFAULT_LENGTH) ? 0 : m.length;
	if (advice_drops(m.advice) &&
	    ((m.flags & MMAPFS_ARG_DEFAULT_LENGTH) || length > 0))
		write_back(fs, inode, m.start, length);
	pthread_rwlock_rdlock(&inode->lock);
	if (!inode->map) {
		err = -EINVAL; /* start is out of bounds of an empty map */
	} else {
		length = m.length;
		if ((m.flags & MMAPFS_ARG_DEFAULT_LENGTH) && m.start >= 0 &&
		    (uint64_t)m.start <= inode->maplen)
			length = (int64_t)inode->maplen - m.start;
		else if (m.flags & MMAPFS_ARG_DEFAULT_LENGTH)
			length = 0; /* the engine reports the bad start */
		/* the range first, as Python checks it before the kernel
		 * sees the advice */
		err = mmfs_madvise_check(inode->map, m.start, &length);
		if (err == 0)
			err = advice_allowed(m.advice);
		if (err == 0 && advice_marks(m.advice) && length > 0 &&
		    m.start % (int64_t)mmfs_pagesize() == 0)
			err = mmfs_madvise(inode->map, m.advice, 0,
					   (int64_t)inode->maplen);
		else if (err == 0)
			err = mmfs_madvise(inode->map, m.advice, m.start,
					   length);
	}
	pthread_rwlock_unlock(&inode->lock);
	if (err == -EIO)
		after_fault(fs, inode);
	/* the kernel's cache may hold what the map no longer does */
	if (err == 0 && advice_drops(m.advice))
		inval_cache(fs, inode, m.start, length);
	/* filling the pages for writing allocates blocks and moves mtime:
	 * the kernel takes the attributes again */
	if (err == 0 && m.advice == MADV_POPULATE_WRITE && length > 0)
		mmfs_attrs_changed(fs, inode);
	reply_status(req, err);
}

/*
 * Does the command change the file's bytes?  Then it needs a handle open
 * for writing, as Python needs a writable map: without this, anyone who
 * may only read a file could rearrange it (MOVE) or punch holes in it
 * (MADV_REMOVE).  In a copy mount, dropping pages drops private data.
 */
static bool changes_bytes(struct mmfs_fs *fs, unsigned int cmd,
			  const void *in_buf)
{
	struct mmapfs_madvise m;

	if (cmd == MMAPFS_IOC_MOVE)
		return true;
	if (cmd != MMAPFS_IOC_MADVISE)
		return false;
	memcpy(&m, in_buf, sizeof(m));
	return m.advice == MADV_REMOVE || m.advice == MADV_POPULATE_WRITE ||
	       (fs->access == MMFS_ACCESS_COPY && advice_drops(m.advice));
}

/* Run a checked ioctl on inode and reply. */
static void run_ioctl(fuse_req_t req, struct mmfs_fs *fs, fuse_ino_t ino,
		      unsigned int cmd, const void *in_buf)
{
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);

	/* -o writeback: bytes written through the kernel's cache may not
	 * have reached the map yet.  Invalidating its pages writes the
	 * dirty ones back first, as WRITE requests that the session's
	 * threads serve, so no lock may be held here. */
	if (fs->writeback && fs->se)
		fuse_lowlevel_notify_inval_inode(fs->se, ino, 0, 0);
	sync_length(fs, inode);
	switch (cmd) {
	case MMAPFS_IOC_INFO:
		do_info(req, fs, inode);
		break;
	case MMAPFS_IOC_FIND:
		do_find(req, fs, inode, in_buf, false);
		break;
	case MMAPFS_IOC_RFIND:
		do_find(req, fs, inode, in_buf, true);
		break;
	case MMAPFS_IOC_MOVE:
		do_move(req, fs, inode, in_buf);
		break;
	case MMAPFS_IOC_FLUSH:
		do_flush(req, fs, inode, in_buf);
		break;
	case MMAPFS_IOC_MADVISE:
		do_madvise(req, fs, inode, in_buf);
		break;
	default:
		mmfs_reply_err(req, ENOTTY);
		break;
	}
}

/*
 * The ioctl thread.  Dropping cached pages of a file (inval_cache, and
 * every ioctl under -o writeback) waits while the kernel writes back the
 * pages that clients dirtied through their own mappings, and each of those
 * write-backs is a WRITE request that a session thread must serve.  Were
 * the session threads themselves to drop pages, all of them could end up
 * waiting so, none left to serve the writes: the mount would hang (the
 * stress test did, with the two threads of a 2-CPU machine).  So they only
 * queue such an ioctl, and this one thread runs it and replies; the
 * session threads stay free for the write-backs it waits on.
 */
struct mmfs_ioctl_job {
	struct mmfs_ioctl_job *next;
	fuse_req_t req;
	fuse_ino_t ino;
	unsigned int cmd;
	unsigned char in[]; /* the payload */
};

static bool drops_pages(struct mmfs_fs *fs, unsigned int cmd,
			const void *in_buf)
{
	struct mmapfs_madvise m;

	if (fs->writeback || cmd == MMAPFS_IOC_MOVE)
		return true;
	if (cmd != MMAPFS_IOC_MADVISE)
		return false;
	memcpy(&m, in_buf, sizeof(m));
	return advice_drops(m.advice);
}

static void *ioctl_main(void *arg)
{
	struct mmfs_fs *fs = arg;
	struct mmfs_ioctl_job *job;

	pthread_mutex_lock(&fs->ioctl_lock);
	for (;;) {
		while (!fs->ioctl_head && !fs->ioctl_stop)
			pthread_cond_wait(&fs->ioctl_cond, &fs->ioctl_lock);
		job = fs->ioctl_head;
		if (!job)
			break; /* stopped, and nothing is left */
		fs->ioctl_head = job->next;
		if (!fs->ioctl_head)
			fs->ioctl_tail = &fs->ioctl_head;
		pthread_mutex_unlock(&fs->ioctl_lock);
		run_ioctl(job->req, fs, job->ino, job->cmd, job->in);
		free(job);
		pthread_mutex_lock(&fs->ioctl_lock);
	}
	pthread_mutex_unlock(&fs->ioctl_lock);
	return NULL;
}

int mmfs_ioctl_start(struct mmfs_fs *fs)
{
	int err;

	fs->ioctl_head = NULL;
	fs->ioctl_tail = &fs->ioctl_head;
	fs->ioctl_stop = false;
	err = pthread_mutex_init(&fs->ioctl_lock, NULL);
	if (err)
		return -err;
	err = pthread_cond_init(&fs->ioctl_cond, NULL);
	if (err) {
		pthread_mutex_destroy(&fs->ioctl_lock);
		return -err;
	}
	err = pthread_create(&fs->ioctl_thread, NULL, ioctl_main, fs);
	if (err) {
		pthread_cond_destroy(&fs->ioctl_cond);
		pthread_mutex_destroy(&fs->ioctl_lock);
		return -err;
	}
	fs->ioctl_running = true;
	return 0;
}

/* After the session loop: what is queued still runs (its replies go
 * nowhere if the kernel is gone), then the thread ends. */
void mmfs_ioctl_stop(struct mmfs_fs *fs)
{
	if (!fs->ioctl_running)
		return;
	pthread_mutex_lock(&fs->ioctl_lock);
	fs->ioctl_stop = true;
	pthread_cond_signal(&fs->ioctl_cond);
	pthread_mutex_unlock(&fs->ioctl_lock);
	pthread_join(fs->ioctl_thread, NULL);
	fs->ioctl_running = false;
	pthread_cond_destroy(&fs->ioctl_cond);
	pthread_mutex_destroy(&fs->ioctl_lock);
}

/* Queue a checked ioctl for the ioctl thread; -ENOMEM if it cannot. */
static int queue_ioctl(fuse_req_t req, struct mmfs_fs *fs, fuse_ino_t ino,
		       unsigned int cmd, const void *in_buf, size_t in_size)
{
	struct mmfs_ioctl_job *job = malloc(sizeof(*job) + in_size);

	if (!job)
		return -ENOMEM;
	job->next = NULL;
	job->req = req;
	job->ino = ino;
	job->cmd = cmd;
	if (in_size)
		memcpy(job->in, in_buf, in_size);
	pthread_mutex_lock(&fs->ioctl_lock);
	*fs->ioctl_tail = job;
	fs->ioctl_tail = &job->next;
	pthread_cond_signal(&fs->ioctl_cond);
	pthread_mutex_unlock(&fs->ioctl_lock);
	return 0;
}

/* The inode flags' commands: the read, the write, the payload's size. */
static const struct {
	unsigned int get, set;
	size_t size;
} fileattr_cmds[] = {
	{FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, sizeof(int)},
	{FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR, sizeof(struct fsxattr)},
};

/*
 * The inode flags (FS_IOC_GETFLAGS/SETFLAGS, FS_IOC_FSGETXATTR/FSSETXATTR),
 * which the kernel asks for files and directories alike, with a payload
 * of the kernel's size: an int, or struct fsxattr.  It has checked the
 * caller (owner or CAP_FOWNER to set, CAP_LINUX_IMMUTABLE for immutable
 * and append-only); the backing object is opened again, as an O_PATH
 * descriptor takes no ioctl.
 *
 * The backing file keeps the flags, and its file system applies them to
 * what the daemon does there: immutable refuses writes and truncation
 * through every descriptor, append-only truncation and new opens to write
 * but with O_APPEND.  An open the daemon serves with a descriptor it holds
 * already checks them (flags_allow in open.c).  Returns false if cmd is
 * none of these.
 */
static bool fileattr_ioctl(fuse_req_t req, struct mmfs_fs *fs,
			   struct mmfs_inode *inode, unsigned int cmd,
			   const void *in_buf, size_t in_bufsz,
			   size_t out_bufsz)
{
	/* the flags are the payload's first 32 bits, in either form */
	unsigned char now[sizeof(struct fsxattr)];
	const size_t ncmds = sizeof(fileattr_cmds) / sizeof(fileattr_cmds[0]);
	size_t i, size;
	bool set;
	int fd, err;

	for (i = 0; i < ncmds; i++)
		if (cmd == fileattr_cmds[i].get || cmd == fileattr_cmds[i].set)
			break;
	if (i == ncmds)
		return false;
	size = fileattr_cmds[i].size;
	set = cmd == fileattr_cmds[i].set;
	if (set ? in_bufsz != size || !in_buf || out_bufsz
		: out_bufsz != size || in_bufsz) {
		mmfs_reply_err(req, EINVAL);
		return true;
	}
	if (set && fs->access != MMFS_ACCESS_WRITE) {
		mmfs_reply_err(req, EROFS);
		return true;
	}
	fd = mmfs_reopen(inode, O_RDONLY); /* a file or a directory */
	if (fd < 0) {
		mmfs_reply_err(req, -fd);
		return true;
	}
	memset(now, 0, sizeof(now));
	if (set)
		memcpy(now, in_buf, size);
	err = ioctl(fd, cmd, now) < 0 ? errno : 0;
	close(fd);
	if (set || err)
		reply_status(req, -err);
	else
		fuse_reply_ioctl(req, 0, now, size);
	return true;
}

void mmfs_op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
		   struct fuse_file_info *fi, unsigned flags,
		   const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	size_t need_in, need_out;
	int err;

	(void)arg;
	if (flags & FUSE_IOCTL_COMPAT) {
		mmfs_reply_err(req, ENOSYS);
		return;
	}
	if (fileattr_ioctl(req, fs, inode, cmd, in_buf, in_bufsz, out_bufsz))
		return;
	err = payload_sizes(cmd, &need_in, &need_out);
	if (err == 0 && (in_bufsz != need_in || out_bufsz != need_out ||
			 (need_in && !in_buf)))
		err = -EINVAL;
	if (err) {
		mmfs_reply_err(req, -err);
		return;
	}
	if (cmd == MMAPFS_IOC_STATS) {
		do_stats(req, fs);
		return;
	}
	if (!S_ISREG(inode->type)) {
		mmfs_reply_err(req, ENOTTY);
		return;
	}
	/* EACCES, as for a move on an ACCESS_READ map */
	if (changes_bytes(fs, cmd, in_buf) &&
	    (mmfs_handle_of(fi)->flags & O_ACCMODE) == O_RDONLY) {
		mmfs_reply_err(req, EACCES);
		return;
	}
	if (fs->ioctl_running && drops_pages(fs, cmd, in_buf)) {
		err = queue_ioctl(req, fs, ino, cmd, in_buf, need_in);
		if (err)
			mmfs_reply_err(req, -err);
		return;
	}
	mmfs_loop_yield(); /* a find may take a while */
	run_ioctl(req, fs, ino, cmd, in_buf);
}
