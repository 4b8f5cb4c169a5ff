/* file.c - the data path: read, write, fallocate and copy_file_range
 * through the inode's mapping, with pwrite(2) as the fallback that reports
 * the true errno when a page of the mapping cannot be dirtied (ENOSPC) or
 * was cut off (truncation); opening and closing are open.c's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fs.h"

/* The longest stretch copy_file_range moves in one request. */
#define COPY_RANGE_MAX (8 * MMFS_MAX_IO)

/* Re-sync the map after a fault or an outside change (takes the lock). */
static void resync(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	pthread_rwlock_wrlock(&inode->lock);
	mmfs_map_resync(fs, inode);
	pthread_rwlock_unlock(&inode->lock);
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

/* Are the pages of [pos, pos + n) there to be read?  Populating them is
 * also a probe: it fails with an error where touching them would raise
 * SIGBUS (lock held shared).  Kernels before 5.14 lack it: touch one byte
 * of each page under the engine's fault guard instead. */
static bool pages_present(struct mmfs_inode *inode, uint64_t pos, size_t n)
{
	uint64_t page = mmfs_pagesize(), p, end = pos + n;
	char c;
	int err;

	p = pos & ~(page - 1);
	err = mmfs_madvise(inode->map, MADV_POPULATE_READ, (int64_t)p,
			   (int64_t)(end - p));
	if (err != -EINVAL)
		return err == 0;
	for (p = pos; p < end; p = (p | (page - 1)) + 1)
		if (mmfs_pread(inode->map, &c, 1, p) != 1)
			return false;
	return true;
}

/* pread(2) until done or the end: the count read, or -errno if nothing
 * was; *stop (unless NULL) the errno a read failed with after others gave
 * bytes, 0 if none did (a read that stops at an error must not pass for
 * one that stops at the end). */
ssize_t mmfs_pread_all(int fd, char *buf, size_t n, uint64_t off, int *stop)
{
	size_t done = 0;
	ssize_t r;

	if (stop)
		*stop = 0;
	while (done < n) {
		r = pread(fd, buf + done, n - done, (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (done && stop)
				*stop = errno;
			return done ? (ssize_t)done : -errno;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* The descriptor O_NOATIME handles read the backing file through (the
 * inode's is not O_NOATIME: reading through it would move the atime):
 * one per file, opened at the first such read and closed with the file's
 * last handle; -errno if it cannot be had. */
static int noatime_fd(struct mmfs_inode *inode)
{
	int fd = atomic_load(&inode->noatime_fd), none = -1;

	if (fd >= 0)
		return fd;
	fd = mmfs_reopen(inode, O_RDONLY | O_NOATIME);
	if (fd < 0)
		return fd;
	if (!atomic_compare_exchange_strong(&inode->noatime_fd, &none, fd)) {
		close(fd); /* another read opened one first */
		fd = none;
	}
	return fd;
}

/* pread(2) of the backing file through handle h's descriptor, or, where
 * that one cannot read (write-only) or h is O_NOATIME (noatime_fd), one
 * opened to read as h would; as mmfs_pread_all. */
static ssize_t backing_pread(struct mmfs_inode *inode, struct mmfs_handle *h,
			     char *buf, size_t n, uint64_t pos, int *stop)
{
	ssize_t r = -EBADF;
	int fd;

	if (h->flags & O_NOATIME) {
		fd = noatime_fd(inode);
		return fd < 0 ? fd : mmfs_pread_all(fd, buf, n, pos, stop);
	}
	r = mmfs_pread_all(mmfs_handle_fd(inode, h), buf, n, pos, stop);
	if (r != -EBADF)
		return r;
	fd = mmfs_reopen(inode, O_RDONLY);
	if (fd < 0)
		return fd;
	r = mmfs_pread_all(fd, buf, n, pos, stop);
	close(fd);
	return r;
}

/*
 * A read whose pages fault: the backing file was truncated outside, or
 * (tmpfs) a hole cannot get a page on a full filesystem, or its disk
 * fails; or a read of a file without a map (empty, or grown outside past
 * what a map can reach).  Copy what the mapping still gives, let pread(2)
 * on the backing file do the rest (it reads holes without allocating, and
 * reports real errors), re-sync.  A read that stops at an error before
 * the file's end fails whole: the kernel takes a short reply for the end
 * of the file (and with -o writeback fills the rest with zeros), and asks
 * again page by page, so the client gets the bytes before the error and
 * then the error, as natively.
 */
static void read_fallback(fuse_req_t req, struct mmfs_fs *fs,
			  struct mmfs_inode *inode, struct mmfs_handle *h,
			  size_t size, uint64_t pos)
{
	ssize_t got = 0, r = 0;
	bool priv, eof = false;
	int stop = 0;
	struct stat st;
	size_t want;
	char *buf;

	buf = malloc(size);
	if (!buf) {
		mmfs_reply_err(req, ENOMEM);
		return;
	}
	pthread_rwlock_rdlock(&inode->lock);
	if (inode->map && pos < inode->maplen) {
		if (size > inode->maplen - pos)
			size = inode->maplen - pos;
		got = mmfs_pread(inode->map, buf, size, pos);
	}
	priv = inode->priv; /* private data has no other copy */
	pthread_rwlock_unlock(&inode->lock);
	if (got < 0)
		got = 0;
	want = size;
	if ((size_t)got < size && !priv) {
		r = backing_pread(inode, h, buf + got, size - (size_t)got,
				  pos + (uint64_t)got, &stop);
		if (r > 0)
			got += r;
		if (stop)
			r = -stop;
	}
	/* The mapping's old last page reads whole, zeros past the file's
	 * new end included: only the bytes the file still has count. */
	if (!priv && fstatat(inode->fd, "", &st, AT_EMPTY_PATH) == 0) {
		if ((uint64_t)st.st_size <= pos)
			got = 0, eof = true;
		else if ((uint64_t)got > (uint64_t)st.st_size - pos)
			got = (ssize_t)((uint64_t)st.st_size - pos);
	}
	resync(fs, inode);
	/* Private data that shrank with a file truncated behind the mount
	 * (mmfs_map_resync): only what it still has counts. */
	if (priv) {
		pthread_rwlock_rdlock(&inode->lock);
		if (pos >= inode->maplen) {
			got = 0, eof = true, want = 0;
		} else {
			if ((uint64_t)got > inode->maplen - pos)
				got = (ssize_t)(inode->maplen - pos);
			if (want > inode->maplen - pos)
				want = inode->maplen - pos;
		}
		pthread_rwlock_unlock(&inode->lock);
	}
	if (r < 0 || (priv && (size_t)got < want) ||
	    (got == 0 && size > 0 && !eof))
		mmfs_reply_err(req, r < 0 ? (int)-r : EIO);
	else if (fuse_reply_buf(req, buf, (size_t)got) == 0)
		mmfs_count(&fs->stats.bytes_read, (uint64_t)got);
	free(buf);
}

/* The descriptor a read through handle h may be spliced from (lock
 * held), or -1: the memfd a copy mount's private data moved to, or where
 * the map shows the backing file (not through a handle with its own
 * descriptor: the inode's cannot read) the inode's, or for an O_NOATIME
 * handle noatime_fd (a splice moves the backing file's atime as a read
 * does).  A copy from the map instead would, on tmpfs and in a memfd,
 * give every hole it reads a page of memory. */
static int splice_fd(struct mmfs_fs *fs, struct mmfs_inode *inode,
		     struct mmfs_handle *h)
{
	int fd;

	if (inode->priv && inode->priv_anon && inode->map)
		return mmfs_fd(inode->map); /* private data in a memfd */
	if (fs->access == MMFS_ACCESS_COPY || inode->priv || h->fd >= 0 ||
	    !inode->map)
		return -1;
	if (h->flags & O_NOATIME) {
		fd = noatime_fd(inode);
		return fd < 0 ? -1 : fd;
	}
	return mmfs_fd_serves(inode, MMFS_FD_READ) ? inode->fd : -1;
}

void mmfs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	struct mmfs_handle *h = mmfs_handle_of(fi);
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(0);
	uint64_t pos = (uint64_t)off;
	bool spliced = false;
	size_t len;
	int err, sfd;

	mmfs_entry_stale(inode);
	if (off < 0) {
		mmfs_reply_err(req, EINVAL);
		return;
	}
	mmfs_loop_wait_writes(ino, pos, size);
	pthread_rwlock_rdlock(&inode->lock);
	/*
	 * Reads are spliced from the backing file's page cache, the pages
	 * the map shows (splice.c): the bytes go into the reply as page
	 * references, without being mapped here.  A read that reaches the
	 * end of the map must first find out whether the file changed
	 * outside the mount: a spliced load can tell, as it comes back
	 * short when the file ends sooner and finds one byte more when it
	 * ends later.  Otherwise (or then) the map is brought in line.
	 */
	len = inode->maplen;
	if (!inode->priv && (pos >= len || size > len - pos)) {
		if (size > 0 && pos < len &&
		    (sfd = splice_fd(fs, inode, h)) >= 0)
			spliced = mmfs_splice_load(sfd, off, len - pos, true,
						   inode->base + pos);
		if (!spliced) {
			pthread_rwlock_unlock(&inode->lock);
			resync(fs, inode);
			pthread_rwlock_rdlock(&inode->lock);
		}
	}
	len = inode->maplen;
	if (!inode->map && !inode->priv && size > 0) {
		/* No map: the file is empty, or has grown outside past what
		 * a map can reach (mmfs_map_resync failed): pread(2) serves
		 * it, as it serves an empty file. */
		pthread_rwlock_unlock(&inode->lock);
		read_fallback(req, fs, inode, h, size, pos);
		return;
	}
	if (!inode->map || pos >= len || size == 0) {
		pthread_rwlock_unlock(&inode->lock);
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > len - pos)
		size = len - pos;
	/* The load comes back short where the file no longer has the
	 * bytes: then from the map, as where splicing is not for this
	 * file. */
	if (!spliced && (sfd = splice_fd(fs, inode, h)) >= 0)
		spliced = mmfs_splice_load(sfd, off, size, false,
					   inode->base + pos);
	/* Fault the pages in first, where a fault is survivable; this also
	 * spares the kernel's copy below the page faults. */
	if (!spliced && !pages_present(inode, pos, size)) {
		pthread_rwlock_unlock(&inode->lock);
		read_fallback(req, fs, inode, h, size, pos);
		return;
	}
	bv.buf[0].size = size;
	bv.buf[0].mem = inode->base + pos;
	/*
	 * Reply straight from the mapping, with the shared lock held: a
	 * concurrent resize or close (which need it exclusive) must not
	 * unmap these bytes while the kernel copies them.  If the copy
	 * faults all the same (a truncation from outside since the check
	 * above), the write to /dev/fuse fails with EFAULT, the kernel ends
	 * the request with EIO and nothing happens to the daemon.
	 */
	err = fuse_reply_data(req, &bv, FUSE_BUF_NO_SPLICE);
	if (spliced)
		mmfs_splice_drop();
	pthread_rwlock_unlock(&inode->lock);
	if (err == -EFAULT) {
		mmfs_count(&fs->stats.faults, 1);
		resync(fs, inode);
	} else if (err == 0) {
		mmfs_count(&fs->stats.bytes_read, size);
	}
}

/* One pwrite(2), or with append one that lands at the file's end as an
 * O_APPEND write does (RWF_APPEND; the offset is then only a fallback for
 * kernels before 4.16). */
static ssize_t pwrite_one(int fd, const char *buf, size_t n, uint64_t off,
			  bool append)
{
	struct iovec iov = {(void *)buf, n};
	ssize_t r;

	if (append) {
		r = pwritev2(fd, &iov, 1, (off_t)off, RWF_APPEND);
		if (r >= 0 ||
		    (errno != EOPNOTSUPP && errno != EINVAL && errno != ENOSYS))
			return r;
	}
	return pwrite(fd, buf, n, (off_t)off);
}

/* pwrite(2) until done: the count written, or -errno if nothing was. */
static ssize_t pwrite_all(int fd, const char *buf, size_t n, uint64_t off,
			  bool append)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = pwrite_one(fd, buf + done, n - done, off + done, append);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return done ? (ssize_t)done : -errno;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* From this size on, an append starts the backing file's disk writes
 * at once (file_write). */
#define LARGE_WRITE (64 * 1024)

/* Copy mount: writes land in the private data only (lock exclusive). */
static ssize_t write_private(struct mmfs_fs *fs, struct mmfs_inode *inode,
			     const char *buf, size_t size, uint64_t off)
{
	uint64_t end = off + size;
	ssize_t n;
	int err;

	/* the map in line with a backing file truncated behind the mount
	 * first, where the file is not private yet or its private data is
	 * in a copy-on-write map of it (mmfs_map_resync) */
	err = mmfs_map_resync(fs, inode);
	if (err < 0)
		return err;
	err = mmfs_map_ensure(fs, inode);
	if (err < 0)
		return err;
	if (!inode->map || end > inode->maplen ||
	    (!inode->priv && !inode->priv_anon)) {
		/* grow, or at least make the private state explicit */
		err = mmfs_set_size(fs, inode, -1,
				    end > inode->maplen ? end : inode->maplen);
		if (err < 0)
			return err;
	}
	if (!inode->map)
		return -EIO;
	n = mmfs_pwrite(inode->map, buf, size, off);
	if (n < 0)
		return mmfs_map_errno((int)n);
	mmfs_private_changed(inode);
	return n;
}

/* Grow the map of a file mapped read-write to end, ahead of the file,
 * which the pwrite or fallocate that follows grows (lock exclusive):
 * 0, or EFBIG for a length no map can reach, and the file as it was. */
static int map_extend(struct mmfs_fs *fs, struct mmfs_inode *inode,
		      uint64_t end)
{
	int err = mmfs_extend(inode->map, (size_t)end);

	mmfs_map_refresh(fs, inode);
	return err < 0 ? mmfs_size_errno(err, end) : 0;
}

/* Does the backing file reach end already?  So it is where it grew
 * outside past what any map can reach: a write within it goes to the
 * file alone (write_grow). */
static bool reaches(int fd, uint64_t end)
{
	struct stat st;

	return fstat(fd, &st) == 0 && end <= (uint64_t)st.st_size;
}

/*
 * A write that ends past the map (lock exclusive).  The map grows first,
 * so that a size it cannot take (ENOMEM or ENFILE at the mapping limit)
 * fails before any byte changes; then pwrite(2) fills it, as every write
 * (see file_write).  A write that fails part way gives back the growth it
 * did not use: one that wrote nothing leaves no hole up to off.  A file
 * grown outside past what any map can reach has none: a write within it
 * goes to the backing file alone, one past its end fails (EFBIG).
 *
 * A mapped file grows by its map alone (mmfs_extend), and the pwrite
 * itself grows the file: the engine's resize would ftruncate it first,
 * a second change of size for the file system to record, which made an
 * appending 4 KiB write + fsync take a third longer on ext4.
 */
static ssize_t write_grow(struct mmfs_fs *fs, struct mmfs_inode *inode, int fd,
			  const char *buf, size_t size, uint64_t off)
{
	uint64_t end = off + size, old, keep;
	bool grow;
	ssize_t r;
	int err;

	if (!inode->map) {
		err = mmfs_map_resync(fs, inode);
		if (err < 0 && reaches(fd, end))
			return pwrite_all(fd, buf, size, off, false);
		if (err < 0)
			return mmfs_size_errno(err, end);
	}
	old = inode->map ? inode->maplen : 0;
	grow = end > old && !inode->map_ro;
	if (grow && inode->map && end <= SIZE_MAX) {
		err = map_extend(fs, inode, end);
		if (err < 0 && reaches(fd, end))
			return pwrite_all(fd, buf, size, off, false);
		if (err < 0)
			return err;
		r = pwrite_all(fd, buf, size, off, false);
		if (r < (ssize_t)size) /* back to what the file now holds */
			mmfs_map_resync(fs, inode);
		return r;
	}
	if (grow) {
		err = mmfs_set_size(fs, inode, fd, end);
		/* an append-only file refuses ftruncate, not a write
		 * through a descriptor opened before (nor an append) */
		if (err == -EPERM)
			grow = false;
		else if (err < 0)
			return err;
	}
	r = pwrite_all(fd, buf, size, off, false);
	if (grow && r < (ssize_t)size) {
		keep = r > 0 && off + (uint64_t)r > old ? off + (uint64_t)r
							 : old;
		mmfs_set_size(fs, inode, fd, keep);
	}
	if (inode->map_ro || !inode->map || inode->maplen < end)
		mmfs_map_resync(fs, inode);
	return r;
}

/* A stream of appends: start the disk writes now, outside the lock, so
 * that they overlap the stream and the closing fsync finds little left
 * (an appending dd of 1 GiB with conv=fsync took 4-17% less time in three
 * interleaved A/B runs).  It waits for nothing and changes no byte.
 * Writes within the file are left alone, as they may well be rewritten
 * soon. */
static void start_disk_writes(struct mmfs_fs *fs, int fd, uint64_t pos,
			      ssize_t n)
{
	if (fs->access == MMFS_ACCESS_WRITE && n >= (ssize_t)LARGE_WRITE)
		(void)sync_file_range(fd, (off_t)pos, n, SYNC_FILE_RANGE_WRITE);
}

/*
 * An O_APPEND write (lock exclusive), at the backing file's end: the
 * kernel placed it at the size it had cached, which is stale when another
 * writer appended behind the mount or through another mount, and writing
 * there would overwrite what they appended.  As in write_grow, the map
 * grows first, but the file does not: the write must find the end where
 * it was.  *pos is where the file ended before the write.
 */
static ssize_t write_append(struct mmfs_fs *fs, struct mmfs_inode *inode,
			    int fd, const char *buf, size_t size, uint64_t *pos)
{
	struct stat st;
	uint64_t end;
	ssize_t r;
	int err;

	if (fstat(fd, &st) < 0)
		return -errno;
	*pos = (uint64_t)st.st_size;
	if ((uint64_t)INT64_MAX - *pos < size)
		return -EFBIG;
	end = *pos + size;
	if (inode->map && !inode->map_ro && end > inode->maplen &&
	    end <= SIZE_MAX) {
		err = map_extend(fs, inode, end);
		if (err < 0)
			return err;
	}
	r = pwrite_all(fd, buf, size, *pos, true);
	if (r < (ssize_t)size || inode->map_ro || !inode->map ||
	    inode->maplen < end)
		mmfs_map_resync(fs, inode);
	return r;
}

/* The write path, shared by write and copy_file_range; append: an
 * O_APPEND write (see write_append). */
static ssize_t file_write(struct mmfs_fs *fs, struct mmfs_inode *inode, int fd,
			  const char *buf, size_t size, off_t off, bool append)
{
	uint64_t pos = (uint64_t)off;
	ssize_t n;

	if (fs->access == MMFS_ACCESS_READ)
		return -EROFS;
	if (off < 0)
		return -EINVAL;
	if (size == 0)
		return 0;
	if ((uint64_t)INT64_MAX - pos < size)
		return -EFBIG;
	if (append && fs->access == MMFS_ACCESS_WRITE) {
		pthread_rwlock_wrlock(&inode->lock);
		n = write_append(fs, inode, fd, buf, size, &pos);
		pthread_rwlock_unlock(&inode->lock);
		start_disk_writes(fs, fd, pos, n);
		return n;
	}

	/*
	 * Within the map: the shared lock keeps a resize from running.  The
	 * bytes are written by pwrite(2) into the page cache the shared map
	 * shows, so the map sees them at once, and the file system reports
	 * its own errors (ENOSPC).  Copying them in through the map cost a
	 * page table entry per page touched, which on this project's
	 * paravirtualized guests costs more than the copy: overwriting
	 * 512 MiB in 1 MiB blocks took 2.2 s against 0.68 s, and random
	 * 4 KiB writes ran at half the rate or less (README).
	 */
	if (fs->access == MMFS_ACCESS_WRITE) {
		pthread_rwlock_rdlock(&inode->lock);
		if (inode->map && !inode->map_ro && pos < inode->maplen &&
		    size <= inode->maplen - pos) {
			n = pwrite_all(fd, buf, size, pos, false);
			pthread_rwlock_unlock(&inode->lock);
			return n;
		}
		pthread_rwlock_unlock(&inode->lock);
	}

	pthread_rwlock_wrlock(&inode->lock);
	if (fs->access == MMFS_ACCESS_COPY)
		n = write_private(fs, inode, buf, size, pos);
	else
		n = write_grow(fs, inode, fd, buf, size, pos);
	pthread_rwlock_unlock(&inode->lock);
	start_disk_writes(fs, fd, pos, n);
	return n;
}

void mmfs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		   off_t off, struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	int fd = mmfs_handle_fd(inode, mmfs_handle_of(fi));
	ssize_t n, more;
	bool append;

	mmfs_entry_stale(inode);
	if (fi->flags & MMFS_O_KILL_SUIDGID)
		mmfs_kill_suidgid(fs, req, inode, fd);
	if (size > MMFS_INLINE_MAX)
		mmfs_loop_yield();
	/* The writeback cache's own writes, and every write under it, carry
	 * the kernel's offsets: it owns the size then. */
	append = (fi->flags & O_APPEND) && !fi->writepage && !fs->writeback;
	/* An append-only file's O_APPEND descriptor would append what the
	 * kernel writes back at an offset (a client's mapping): refused,
	 * as natively such a file cannot be mapped to write. */
	if (mmfs_handle_of(fi)->appends && !append) {
		mmfs_reply_err(req, EPERM);
		return;
	}
	n = file_write(fs, inode, fd, buf, size, off, append);
	/* The kernel ignores the count of a write-back (a mapped write):
	 * a short one would lose the rest silently.  Finish it, or fail it
	 * with the error that stopped it so that msync/fsync report it. */
	while (fi->writepage && n > 0 && (size_t)n < size) {
		more = file_write(fs, inode, fd, buf + n, size - (size_t)n,
				  off + n, false);
		if (more <= 0) {
			n = more < 0 ? more : -EIO;
			break;
		}
		n += more;
	}
	if (n < 0) {
		mmfs_reply_err(req, (int)-n);
		return;
	}
	mmfs_count(&fs->stats.bytes_written, (uint64_t)n);
	fuse_reply_write(req, (size_t)n);
}

/*
 * truncate(2) by name (bypath) or ftruncate(2), through setattr (takes
 * the lock).  By name to the size the file has, truncate(2) of the
 * backing file does it: whether the times move is the backing file
 * system's choice there (tmpfs leaves them, ext4 moves them), where an
 * ftruncate(2), which set_size uses, moves them always.
 */
int mmfs_truncate(struct mmfs_fs *fs, struct mmfs_inode *inode, int fd,
		  uint64_t size, bool bypath)
{
	struct stat st;
	char path[64];
	int err;

	pthread_rwlock_wrlock(&inode->lock);
	if (bypath && fs->access == MMFS_ACCESS_WRITE && S_ISREG(inode->type) &&
	    fstat(inode->fd, &st) == 0 && (uint64_t)st.st_size == size &&
	    (inode->map ? inode->maplen == size : size == 0))
		err = truncate(mmfs_procpath(inode->fd, path, sizeof(path)),
			       (off_t)size) < 0
			      ? -errno
			      : 0;
	else
		err = mmfs_set_size(fs, inode, fd, size);
	pthread_rwlock_unlock(&inode->lock);
	return err;
}

/*
 * fallocate on the backing file, which does the work; the map follows its
 * size (lock exclusive).  A file it would make larger than a map can reach
 * is refused with EFBIG and left as it was: the map grows first, as for a
 * write (write_grow), and an empty file, which has no map yet, is cut
 * back to empty.  Otherwise the file would be larger than its map, and
 * every read of it empty.
 */
static int falloc_backing(struct mmfs_fs *fs, struct mmfs_inode *inode, int fd,
			  int mode, off_t offset, off_t length)
{
	uint64_t end = (uint64_t)offset + (uint64_t)length;
	bool grows = !(mode & FALLOC_FL_KEEP_SIZE);
	struct stat st;
	off_t was = -1; /* the size before, taken when there was no map */
	int err = 0, resync;

	if (grows && inode->map && !inode->map_ro && end > inode->maplen &&
	    end <= SIZE_MAX) {
		err = map_extend(fs, inode, end);
		if (err < 0)
			return err;
	}
	if (grows && !inode->map) {
		if (fstat(fd, &st) < 0)
			return -errno;
		was = st.st_size;
	}
	if (fallocate(fd, mode, offset, length) < 0)
		err = -errno;
	resync = mmfs_map_resync(fs, inode);
	if (!err && resync < 0 && was == 0 && !inode->map &&
	    ftruncate(fd, 0) == 0) {
		mmfs_map_resync(fs, inode);
		err = mmfs_size_errno(resync, end);
	}
	return err;
}

void mmfs_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		       off_t length, struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *inode = mmfs_inode_of(fs, ino);
	uint64_t end, cur;
	int err = 0;

	if (fs->access == MMFS_ACCESS_READ) {
		mmfs_reply_err(req, EROFS);
		return;
	}
	if (offset < 0 || length <= 0 || INT64_MAX - offset < length) {
		mmfs_reply_err(req, offset < 0 || length <= 0 ? EINVAL : EFBIG);
		return;
	}
	end = (uint64_t)offset + (uint64_t)length;
	mmfs_entry_stale(inode);
	mmfs_loop_yield();
	pthread_rwlock_wrlock(&inode->lock);
	if (fs->access == MMFS_ACCESS_COPY) {
		/* Private data: only plain allocation means anything.  The
		 * map first in line with a backing file truncated behind the
		 * mount (mmfs_map_resync), so that the size compared is the
		 * file's. */
		if (mode & ~FALLOC_FL_KEEP_SIZE)
			err = -EOPNOTSUPP;
		else if (!(mode & FALLOC_FL_KEEP_SIZE) &&
			 (err = mmfs_map_resync(fs, inode)) == 0) {
			err = mmfs_map_ensure(fs, inode);
			if (!err)
				err = mmfs_data_size(inode, &cur);
			if (!err && end > cur)
				err = mmfs_set_size(fs, inode, -1, end);
		}
	} else {
		err = falloc_backing(fs, inode,
				     mmfs_handle_fd(inode, mmfs_handle_of(fi)),
				     mode, offset, length);
	}
	pthread_rwlock_unlock(&inode->lock);
	mmfs_reply_err(req, -err);
}

/* Up to n bytes at pos out of what inode's map holds (lock held): a
 * memfd's by pread(2), which gives its holes no memory. */
static ssize_t map_read(struct mmfs_inode *inode, char *buf, size_t n,
			uint64_t pos)
{
	int fd;

	if (!inode->map || pos >= inode->maplen)
		return 0;
	if (n > inode->maplen - pos)
		n = inode->maplen - pos;
	fd = inode->priv_anon ? mmfs_fd(inode->map) : -1;
	return fd >= 0 ? mmfs_pread_all(fd, buf, n, pos, NULL)
		       : mmfs_pread(inode->map, buf, n, pos);
}

/* Read up to n bytes at pos: a copy mount's private data out of its
 * mapping (takes the lock), the rest out of the backing file, whose page
 * cache the map shows, through handle h, as read_fallback does; so the
 * backing file is marked read as its file system would (relatime and
 * all), and on tmpfs a hole read gets no page of memory, as one read out
 * of a shared map of it would. */
static ssize_t read_some(struct mmfs_fs *fs, struct mmfs_inode *inode,
			 struct mmfs_handle *h, char *buf, size_t n,
			 uint64_t pos)
{
	ssize_t got = 0;
	bool priv;

	pthread_rwlock_rdlock(&inode->lock);
	if (mmfs_private_cow(inode)) {
		/* in line with a backing file truncated behind the mount
		 * first: the copy ends where the private data now does */
		pthread_rwlock_unlock(&inode->lock);
		pthread_rwlock_wrlock(&inode->lock);
		mmfs_map_resync(fs, inode);
	}
	priv = inode->priv;
	if (priv)
		got = map_read(inode, buf, n, pos);
	pthread_rwlock_unlock(&inode->lock);
	if (priv)
		return got;
	got = backing_pread(inode, h, buf, n, pos, NULL);
	if (got == -EMFILE || got == -ENFILE) {
		/* no descriptor to be had (an O_NOATIME handle's, or one to
		 * read a write-only handle's file): out of the map */
		pthread_rwlock_rdlock(&inode->lock);
		got = inode->map ? map_read(inode, buf, n, pos) : -EIO;
		pthread_rwlock_unlock(&inode->lock);
	}
	return got;
}

void mmfs_op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			     struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			     off_t off_out, struct fuse_file_info *fi_out,
			     size_t len, int flags)
{
	struct mmfs_fs *fs = mmfs_req_fs(req);
	struct mmfs_inode *in = mmfs_inode_of(fs, ino_in);
	struct mmfs_inode *out = mmfs_inode_of(fs, ino_out);
	size_t total = 0, chunk;
	ssize_t got, w = 0;
	char *buf;

	if (fs->access == MMFS_ACCESS_READ) {
		mmfs_reply_err(req, EROFS);
		return;
	}
	if (flags != 0 || off_in < 0 || off_out < 0) {
		mmfs_reply_err(req, EINVAL);
		return;
	}
	if (mmfs_handle_of(fi_out)->appends) { /* as for any O_APPEND one */
		mmfs_reply_err(req, EBADF);
		return;
	}
	if (len > COPY_RANGE_MAX)
		len = COPY_RANGE_MAX;
	mmfs_entry_stale(in);
	mmfs_entry_stale(out);
	mmfs_loop_yield();
	chunk = len < MMFS_MAX_IO ? len : MMFS_MAX_IO;
	buf = malloc(chunk ? chunk : 1);
	if (!buf) {
		mmfs_reply_err(req, ENOMEM);
		return;
	}
	while (total < len) {
		size_t n = len - total < chunk ? len - total : chunk;

		got = read_some(fs, in, mmfs_handle_of(fi_in), buf, n,
				(uint64_t)off_in + total);
		if (got <= 0) {
			if (got < 0 && total == 0)
				w = -EIO;
			break;
		}
		w = file_write(fs, out,
			       mmfs_handle_fd(out, mmfs_handle_of(fi_out)), buf,
			       (size_t)got, off_out + (off_t)total, false);
		if (w <= 0)
			break;
		total += (size_t)w;
		mmfs_count(&fs->stats.bytes_read, (uint64_t)got);
		mmfs_count(&fs->stats.bytes_written, (uint64_t)w);
		if (w < got)
			break;
	}
	free(buf);
	/* the kernel takes the attributes again after a read, not after a
	 * copy: the backing file's atime may have moved */
	if (total > 0 && fs->access == MMFS_ACCESS_WRITE &&
	    !(mmfs_handle_of(fi_in)->flags & O_NOATIME))
		mmfs_attrs_changed(fs, in);
	if (total == 0 && w < 0)
		mmfs_reply_err(req, (int)-w);
	else
		fuse_reply_write(req, total);
}
