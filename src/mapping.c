/* mapping.c - the life of each inode's mapping: created at the first open
 * (or use) of a regular file, kept in line with the backing file's size,
 * re-synced after a change from outside, resized for truncate and growing
 * writes, moved to anonymous memory for a copy mount's private data, and
 * closed after the last handle.  Callers hold the inode's lock as fs.h
 * says. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"

/* Errors of the engine as a client should see them (EMFILE becomes
 * ENFILE in mmfs_reply_err, with every other one of ours). */
int mmfs_map_errno(int err)
{
	switch (err) {
	case -EOVERFLOW:
		return -EFBIG;
	case -EBADF:
		return -EIO;
	default:
		return err < 0 ? err : -EIO;
	}
}

/* Has the address space room for a map of len bytes?  Also true where not
 * even a page can be mapped: then the limit is not the length's. */
static bool map_room(uint64_t len)
{
	size_t page = mmfs_pagesize();
	void *p;

	if (len > SIZE_MAX)
		return false;
	p = mmap(NULL, (size_t)len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != MAP_FAILED) {
		munmap(p, (size_t)len);
		return true;
	}
	if (errno != ENOMEM)
		return true;
	p = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return true;
	munmap(p, page);
	return false;
}

/*
 * Errors of a change of the map's length to len.  A length past the
 * address space (mmap and mremap say EINVAL), or one it has no room for in
 * one piece (ENOMEM, where a map of that length cannot be placed at all),
 * is a size this file system cannot hold: EFBIG, as the backing one says
 * of sizes past its own limit (ext4: 16 TiB).  ENOMEM stays for the
 * kernel's limits on mappings (vm.max_map_count), which refuse a page too.
 */
int mmfs_size_errno(int err, uint64_t len)
{
	if (err == -EINVAL || (err == -ENOMEM && !map_room(len)))
		return -EFBIG;
	return mmfs_map_errno(err);
}

/* Record the map's address and length after a change (lock exclusive). */
void mmfs_map_refresh(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	void *base = NULL;
	size_t len = 0;

	if (inode->map && !mmfs_closed(inode->map) &&
	    mmfs_pin(inode->map, &base, &len) == 0)
		mmfs_unpin(inode->map);
	else
		base = NULL, len = 0;
	atomic_fetch_add_explicit(&fs->stats.bytes_mapped,
				  (int64_t)len - (int64_t)inode->maplen,
				  memory_order_relaxed);
	inode->base = base;
	inode->maplen = len;
}

/* Install a new map in inode (lock exclusive, none installed). */
static void map_install(struct mmfs_fs *fs, struct mmfs_inode *inode,
			struct mmfs_map *map)
{
	inode->map = map;
	mmfs_count(&fs->stats.maps_created, 1);
	mmfs_count(&fs->stats.live_mappings, 1);
	mmfs_map_refresh(fs, inode);
}

void mmfs_map_drop(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	if (!inode->map)
		return;
	mmfs_free(inode->map);
	inode->map = NULL;
	inode->map_ro = false;
	inode->map_readers = false;
	inode->priv_anon = false;
	atomic_fetch_sub_explicit(&fs->stats.live_mappings, 1,
				  memory_order_relaxed);
	mmfs_count(&fs->stats.maps_released, 1);
	mmfs_map_refresh(fs, inode);
}

/* The backing file's size. */
static int backing_size(struct mmfs_inode *inode, uint64_t *sizep)
{
	struct stat st;

	if (fstatat(inode->fd, "", &st, AT_EMPTY_PATH) < 0)
		return -errno;
	*sizep = (uint64_t)st.st_size;
	return 0;
}

/* The size of the file's data as the mount shows it (lock held). */
int mmfs_data_size(struct mmfs_inode *inode, uint64_t *sizep)
{
	if (inode->priv) {
		*sizep = inode->maplen;
		return 0;
	}
	return backing_size(inode, sizep);
}

/* Attempts at mapping a file whose size changes under us (map_fd). */
#define MAP_TRIES 4

/*
 * Map fd, a descriptor of the backing file open with the access the map
 * needs (lock exclusive, inode not mapped).  The caller still owns fd.
 * The engine keeps a duplicate of it, except of inode->fd, which stays
 * open while the map does: the map is closed with the last handle, before
 * the number goes back to O_PATH (but a copy mount's private map may stay,
 * so it has its own).  An empty file stays unmapped.  known: fd's
 * attributes if the caller has just taken them, or NULL.
 */
static int map_fd(struct mmfs_fs *fs, struct mmfs_inode *inode, int fd,
		  int access, bool ro, const struct stat *known)
{
	struct mmfs_map *map = NULL;
	struct stat st;
	bool noatime;
	int err, fl, tries, oflags;

	if (known)
		st = *known;
	else if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size == 0)
		return 0; /* empty files stay unmapped until they grow */
	/* mmap(2) marks the file accessed, as a read would; an open reads
	 * nothing (natively, open + write leaves atime alone).  O_NOATIME
	 * needs the file's owner or CAP_FOWNER: without it, atime moves. */
	fl = fcntl(fd, F_GETFL);
	noatime = fl >= 0 && !(fl & O_NOATIME) &&
		  fcntl(fd, F_SETFL, fl | O_NOATIME) == 0;
	oflags = fd == inode->fd && fs->access != MMFS_ACCESS_COPY
			 ? MMFS_OPEN_BORROWFD
			 : 0;
	/* The engine takes the size again, and refuses an empty file with
	 * EINVAL: a file emptied under us stays unmapped, and one emptied
	 * and grown again meanwhile (truncated from outside) is tried again,
	 * so that a client's open or write does not fail for it. */
	for (tries = 0;; tries++) {
		err = mmfs_open(&map, fd, 0, MAP_SHARED, PROT_READ | PROT_WRITE,
				access, 0, oflags);
		if (err != -EINVAL || fstat(fd, &st) < 0 ||
		    tries == MAP_TRIES - 1)
			break;
		if (st.st_size == 0) {
			err = 0;
			break;
		}
	}
	if (noatime)
		(void)fcntl(fd, F_SETFL, fl);
	if (!map && err == 0)
		return 0; /* emptied under us */
	if (err < 0) {
		if (err != -EACCES) /* an append-only file: map_ensure */
			mmfs_log(FUSE_LOG_WARNING, "mapping inode %llu: %s\n",
				 (unsigned long long)inode->ino,
				 strerror(-err));
		return mmfs_map_errno(err);
	}
	map_install(fs, inode, map);
	inode->map_ro = ro;
	return 0;
}

/* Is one of inode's handles open for writing (lock held)? */
static bool has_writer(const struct mmfs_inode *inode)
{
	const struct mmfs_handle *h;

	for (h = inode->handles; h; h = h->next)
		if (mmfs_is_writable(h->flags))
			return true;
	return false;
}

/*
 * Map the backing file if it is a non-empty regular file and not mapped
 * yet (lock exclusive).  A write mount maps read-write once a handle
 * writes, and read-only while only readers have the file open (its
 * descriptor is then read-only too: see open_backing; the first writer's
 * open maps it again).  When the backing file cannot be opened for
 * writing (read-only backing fs, a running executable, mode bits for a
 * non-root daemon) it maps read-only and writes go through pwrite(2)
 * instead.  known: the file's attributes if the caller has just taken
 * them, or NULL.
 */
static int map_ensure(struct mmfs_fs *fs, struct mmfs_inode *inode,
		      const struct stat *known)
{
	int fd = -1, access = fs->access, err;
	bool ro = false, readers = false, appends = false, have = known != NULL;
	struct stat st;

	if (inode->map || inode->priv || !S_ISREG(inode->type))
		return 0;
	/* An empty file stays unmapped: find out before opening it again
	 * (a new file, in create, is the common case). */
	if (known)
		st = *known;
	else
		have = fstatat(inode->fd, "", &st, AT_EMPTY_PATH) == 0;
	if (have && st.st_size == 0)
		return 0;
	/* The inode's own descriptor, when open with the access needed.  No
	 * descriptor open to write maps an append-only file, even to read
	 * (EACCES): one of its own, read-only, then. */
	if (access == MMFS_ACCESS_WRITE) {
		if (mmfs_fd_serves(inode, MMFS_FD_READ | MMFS_FD_WRITE)) {
			err = map_fd(fs, inode, inode->fd, access, false,
				     have ? &st : NULL);
			if (err != -EACCES)
				return err;
			appends = true;
		} else if (has_writer(inode)) {
			fd = mmfs_reopen(inode, O_RDWR);
		} else {
			readers = true;
		}
		if (readers || appends || fd == -EACCES || fd == -EROFS ||
		    fd == -ETXTBSY || fd == -EPERM) {
			access = MMFS_ACCESS_READ;
			ro = true;
		}
	}
	if (access != MMFS_ACCESS_WRITE && !appends &&
	    mmfs_fd_serves(inode, MMFS_FD_READ)) {
		err = map_fd(fs, inode, inode->fd, access, ro,
			     have ? &st : NULL);
	} else {
		if (access != MMFS_ACCESS_WRITE)
			fd = mmfs_reopen(inode, O_RDONLY);
		if (fd < 0)
			return mmfs_map_errno(fd);
		err = map_fd(fs, inode, fd, access, ro, NULL);
		close(fd);
	}
	inode->map_readers = readers && inode->map;
	return err;
}

int mmfs_map_ensure(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	return map_ensure(fs, inode, NULL);
}

/*
 * mmfs_map_ensure through fd, an open descriptor of the backing file (or
 * -1), when its access mode is the one the map needs: that spares opening
 * the file again by its /proc path.  Otherwise as mmfs_map_ensure.
 * known: fd's attributes if the caller has just taken them, or NULL.
 */
int mmfs_map_ensure_fd(struct mmfs_fs *fs, struct mmfs_inode *inode, int fd,
		       const struct stat *known)
{
	struct stat st;
	int mode, access;

	if (inode->map || inode->priv || !S_ISREG(inode->type))
		return 0;
	if (fd < 0)
		return mmfs_map_ensure(fs, inode);
	if (known)
		st = *known;
	else if (fstat(fd, &st) < 0)
		return mmfs_map_ensure(fs, inode);
	if (st.st_size == 0)
		return 0;
	if (fd == inode->fd) {
		access = inode->fd_access;
	} else {
		/* not an O_APPEND one (of an append-only file): that maps
		 * nothing, not even to read */
		mode = fcntl(fd, F_GETFL);
		access = mode < 0 || (mode & O_APPEND) ? 0
						       : mmfs_fd_access(mode);
	}
	if (access == (MMFS_FD_READ | MMFS_FD_WRITE) ||
	    (fs->access != MMFS_ACCESS_WRITE && access == MMFS_FD_READ))
		return map_fd(fs, inode, fd, fs->access, false, &st);
	return map_ensure(fs, inode, &st);
}

static int private_set(struct mmfs_fs *fs, struct mmfs_inode *inode,
		       uint64_t size);

/*
 * Bring the map back in line with the backing file's size after a fault
 * or a change made outside the mount (lock exclusive).  Never touches the
 * file's size (a copy mount's private data may shrink: below).
 */
int mmfs_map_resync(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	uint64_t size;
	int err;

	if (!S_ISREG(inode->type) || (inode->priv && !mmfs_private_cow(inode)))
		return 0;
	err = backing_size(inode, &size);
	if (err < 0)
		return err;
	/* A copy mount's private data in a copy-on-write map of a file
	 * truncated behind the mount: the kernel took the pages past the
	 * file's new end from the map, those copied on write too, so the
	 * private data shrinks to the file, into a memfd, where the next
	 * truncation cannot reach it. */
	if (inode->priv) {
		if (size >= inode->maplen)
			return 0;
		err = private_set(fs, inode, size);
		if (err == 0)
			mmfs_private_changed(inode);
		return err;
	}
	if (size == inode->maplen && (inode->map || size == 0))
		return 0;
	if (size == 0) {
		mmfs_map_drop(fs, inode);
		return 0;
	}
	if (!inode->map)
		return inode->handles ? mmfs_map_ensure(fs, inode) : 0;
	if (fs->access == MMFS_ACCESS_WRITE && !inode->map_ro) {
		if (size < inode->maplen)
			err = mmfs_sync_length(inode->map);
		else if (size > (uint64_t)INT64_MAX)
			err = -EFBIG;
		else /* the file has this size already: only the map grows,
		      * and the file is left alone (an ftruncate to the size
		      * it has would move its times, and undo a truncation
		      * made outside since it was measured) */
			err = mmfs_extend(inode->map, (size_t)size);
		mmfs_map_refresh(fs, inode);
		if (err == 0 && inode->maplen == size)
			return 0;
	}
	/* Read-only and copy maps cannot resize: map again. */
	mmfs_map_drop(fs, inode);
	return mmfs_map_ensure(fs, inode);
}

void mmfs_mark_private(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	if (inode->priv)
		return;
	inode->priv = true;
	pthread_mutex_lock(&fs->table_lock);
	inode->keep = true;
	pthread_mutex_unlock(&fs->table_lock);
}

/* Copy mount: the private data changed (lock exclusive).  Its times are
 * the file's mtime and ctime from now on, as the backing file's do not
 * move. */
void mmfs_private_changed(struct mmfs_inode *inode)
{
	clock_gettime(CLOCK_REALTIME, &inode->priv_time);
}

/* Bytes private_set copies at a time. */
#define COPY_CHUNK (64 * 1024)

/* Copy the first n bytes of from into to, a new memfd map, leaving what
 * reads as zeros unwritten, so that the memfd stays as sparse as the
 * file was (a write of zeros would give each of its pages memory).
 * 0 or -errno. */
static int copy_sparse(struct mmfs_map *to, struct mmfs_map *from, size_t n)
{
	char *buf = malloc(COPY_CHUNK);
	size_t off, c;
	ssize_t got;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (off = 0; off < n && !err; off += c) {
		c = n - off < COPY_CHUNK ? n - off : COPY_CHUNK;
		got = mmfs_pread(from, buf, c, off);
		if (got != (ssize_t)c)
			err = got < 0 ? (int)got : -EIO;
		else if ((buf[0] != 0 || memcmp(buf, buf + 1, c - 1) != 0) &&
			 mmfs_pwrite(to, buf, c, off) != (ssize_t)c)
			err = -EIO;
	}
	free(buf);
	return err;
}

/*
 * Copy mount: give the file's private data a new size.  A copy-on-write
 * map of the backing file cannot change size, so the bytes move into a
 * shared anonymous (memfd) map, which can; the file keeps that map until
 * the mount ends.
 */
static int private_set(struct mmfs_fs *fs, struct mmfs_inode *inode,
		       uint64_t size)
{
	struct mmfs_map *nm = NULL;
	uint64_t cur = 0;
	size_t n;
	int err;

	err = mmfs_map_ensure(fs, inode);
	if (err < 0)
		return err;
	err = mmfs_data_size(inode, &cur);
	if (err < 0)
		return err;
	if (!inode->priv && cur != inode->maplen)
		cur = inode->maplen; /* the map is what we copy from */
	if (size == cur && (inode->map || size == 0)) {
		mmfs_mark_private(fs, inode);
		return 0;
	}
	if (size == 0) {
		mmfs_map_drop(fs, inode);
		mmfs_mark_private(fs, inode);
		return 0;
	}
	if (size > (uint64_t)INT64_MAX || size > SIZE_MAX)
		return -EFBIG;
	if (inode->map && inode->priv_anon) {
		err = mmfs_resize(inode->map, (int64_t)size);
		mmfs_map_refresh(fs, inode);
		return err == 0 ? 0 : mmfs_size_errno(err, size);
	}
	err = mmfs_open(&nm, -1, (int64_t)size, MAP_SHARED,
			PROT_READ | PROT_WRITE, MMFS_ACCESS_DEFAULT, 0, 0);
	if (err < 0)
		return mmfs_size_errno(err, size);
	n = cur < size ? (size_t)cur : (size_t)size;
	if (n && inode->map) {
		err = copy_sparse(nm, inode->map, n);
		if (err < 0) {
			mmfs_free(nm);
			return mmfs_map_errno(err);
		}
	}
	mmfs_map_drop(fs, inode);
	map_install(fs, inode, nm);
	inode->priv_anon = true;
	mmfs_mark_private(fs, inode);
	return 0;
}

/* private_set, the map first in line with a backing file truncated
 * behind the mount where the data is not private yet or is in a
 * copy-on-write map of it: the private data starts from what the file
 * has (copying from the old map would fault past its new end). */
static int private_resize(struct mmfs_fs *fs, struct mmfs_inode *inode,
			  uint64_t size)
{
	int err;

	if (!inode->priv || mmfs_private_cow(inode)) {
		err = mmfs_map_resync(fs, inode);
		if (err < 0)
			return err;
	}
	return private_set(fs, inode, size);
}

/*
 * truncate/ftruncate/O_TRUNC and growth (lock exclusive).  fd is a
 * writable descriptor of the backing file or -1.  The mapping's length
 * stays equal to the file's size: empty files are unmapped, growth from
 * empty truncates the file first and maps it after, other sizes go through
 * the engine's atomic resize.
 */
int mmfs_set_size(struct mmfs_fs *fs, struct mmfs_inode *inode, int fd,
		  uint64_t size)
{
	int own = -1, err = 0;
	struct stat st, now;

	if (!S_ISREG(inode->type))
		return -EINVAL;
	if (fs->access == MMFS_ACCESS_READ)
		return -EROFS;
	if (fs->access == MMFS_ACCESS_COPY) {
		err = private_resize(fs, inode, size);
		if (err == 0)
			mmfs_private_changed(inode);
		return err;
	}
	if (size > (uint64_t)INT64_MAX)
		return -EFBIG;

	if (inode->map && !inode->map_ro && size > 0) {
		err = mmfs_resize(inode->map, (int64_t)size);
		mmfs_map_refresh(fs, inode);
		/* The engine's resize is atomic: on failure (EFBIG,
		 * ENOSPC, ENOMEM...) file and map are as they were. */
		return err == 0 ? 0 : mmfs_size_errno(err, size);
	}
	if (fd < 0) {
		own = mmfs_reopen(inode, O_WRONLY);
		if (own < 0)
			return own;
		fd = own;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	/* The bytes live in the page cache: the map can go first. */
	mmfs_map_drop(fs, inode);
	if (ftruncate(fd, (off_t)size) < 0) {
		err = -errno;
		goto remap;
	}
	if (size > 0 && inode->handles) {
		now = st; /* what the map step reads of it: the size */
		now.st_size = (off_t)size;
		err = mmfs_map_ensure_fd(fs, inode, fd, &now);
		if (err < 0)
			err = mmfs_size_errno(err, size);
		if (err < 0 && (uint64_t)st.st_size != size &&
		    ftruncate(fd, st.st_size) == 0)
			goto remap; /* could not map the new size: undo */
	}
	goto out;
remap:
	if (inode->handles)
		mmfs_map_ensure(fs, inode);
out:
	if (own >= 0)
		close(own);
	return err;
}
