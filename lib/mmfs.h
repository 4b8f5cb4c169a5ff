/* mmfs.h - the mapping engine: CPython's mmap object as a C library. */
#ifndef MMFS_MMFS_H
#define MMFS_MMFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/types.h>

/*
 * Return contract, for every function below unless it says otherwise:
 * 0 (or a byte count, for ssize_t results) on success, a negative errno on
 * failure.  After a failure mmfs_errmsg() gives the message Python would
 * print for the same error ("data out of range", "mmap closed or invalid").
 *
 * How Python's exceptions become errno values:
 *   ValueError "mmap closed or invalid"        -EBADF
 *   other ValueError                           -EINVAL
 *   OverflowError                              -EOVERFLOW
 *   IndexError                                 -ERANGE
 *   TypeError "... readonly memory map."       -EACCES
 *   TypeError "... readonly or copy-on-write"  -EPERM   (resize)
 *   TypeError (deletion refused)               -EOPNOTSUPP
 *   BufferError (pinned)                       -EBUSY
 *   OSError                                    -errno of the system call
 *   a fault while touching the mapping         -EIO     (see below)
 *
 * The engine has no locks: the caller serialises all calls on one map.
 * Calls on different maps may run in parallel.
 *
 * Faults: a file-backed mapping whose file was truncated by someone else
 * raises SIGBUS when touched.  Every engine call that touches mapped bytes
 * catches that fault (a process-wide SIGBUS handler is installed on the
 * first mmfs_open; a foreign SIGBUS is passed on to the handler that was
 * there before) and returns -EIO, or the count copied before the fault.
 * mmfs_sync_length() then brings the mapping back in line with the file.
 */

/* Access modes: the values of Python's mmap.ACCESS_* constants. */
#define MMFS_ACCESS_DEFAULT 0
#define MMFS_ACCESS_READ 1
#define MMFS_ACCESS_WRITE 2
#define MMFS_ACCESS_COPY 3

/* mmap(2) flags and protections, the platform's values, as Python exports. */
#define MMFS_MAP_SHARED MAP_SHARED
#define MMFS_MAP_PRIVATE MAP_PRIVATE
#define MMFS_MAP_ANONYMOUS MAP_ANONYMOUS
#define MMFS_MAP_ANON MAP_ANONYMOUS
#define MMFS_PROT_READ PROT_READ
#define MMFS_PROT_WRITE PROT_WRITE
#define MMFS_PROT_EXEC PROT_EXEC

/* madvise(2) advice, the platform's values (Python's mmap.MADV_*). */
#define MMFS_MADV_NORMAL MADV_NORMAL
#define MMFS_MADV_RANDOM MADV_RANDOM
#define MMFS_MADV_SEQUENTIAL MADV_SEQUENTIAL
#define MMFS_MADV_WILLNEED MADV_WILLNEED
#define MMFS_MADV_DONTNEED MADV_DONTNEED
#define MMFS_MADV_FREE MADV_FREE
#define MMFS_MADV_REMOVE MADV_REMOVE
#define MMFS_MADV_DONTFORK MADV_DONTFORK
#define MMFS_MADV_DOFORK MADV_DOFORK
#define MMFS_MADV_MERGEABLE MADV_MERGEABLE
#define MMFS_MADV_UNMERGEABLE MADV_UNMERGEABLE
#define MMFS_MADV_HUGEPAGE MADV_HUGEPAGE
#define MMFS_MADV_NOHUGEPAGE MADV_NOHUGEPAGE
#define MMFS_MADV_DONTDUMP MADV_DONTDUMP
#define MMFS_MADV_DODUMP MADV_DODUMP
#define MMFS_MADV_HWPOISON MADV_HWPOISON

/* Python's "None" for a slice bound or step (mmfs_getslice and friends).
 * No value is lost: every start or stop <= -len acts alike, and a step of
 * INT64_MIN is clamped to -INT64_MAX by Python itself. */
#define MMFS_NONE INT64_MIN

/* Options for mmfs_open (Python keyword arguments without a flags slot). */
#define MMFS_OPEN_NOTRACKFD 0x1 /* trackfd=False: do not dup the fd */
/* Not Python's: track the caller's fd itself instead of a duplicate.  The
 * caller keeps it open, on the same file, until the map is closed; the
 * engine never closes it.  Ignored with MMFS_OPEN_NOTRACKFD. */
#define MMFS_OPEN_BORROWFD 0x2

struct mmfs_map;

/* mmap.PAGESIZE and mmap.ALLOCATIONGRANULARITY (equal on Unix). */
size_t mmfs_pagesize(void);
size_t mmfs_allocation_granularity(void);

/* Message for the last failed engine call in this thread (a static string;
 * "" when there is none). */
const char *mmfs_errmsg(void);

/*
 * mmap(fileno, length, flags, prot, access, offset, trackfd=!NOTRACKFD).
 * fd -1 makes an anonymous map; a shared anonymous map is backed by a memfd
 * so that it can grow (CPython cannot).  length 0 maps the rest of the
 * file.  Validation and its order are those of Python (reference §3.2).
 * On success *mapp is an open map with pos 0.
 */
int mmfs_open(struct mmfs_map **mapp, int fd, int64_t length, int flags,
	      int prot, int access, int64_t offset, unsigned int opts);

/* close(): -EBUSY while pinned; otherwise unmaps, closes the map's own fd
 * and leaves a closed map.  Closing a closed map returns 0. */
int mmfs_close(struct mmfs_map *map);

/* Deallocation: unmaps if still open (no pin check) and frees. NULL ok. */
void mmfs_free(struct mmfs_map *map);

/* closed: true iff the map is closed. Never fails. */
bool mmfs_closed(const struct mmfs_map *map);

/* len(m): the mapping's length, or -EBADF. */
ssize_t mmfs_len(const struct mmfs_map *map);

/* size(): st_size of the whole file through the map's own fd; for an
 * anonymous map its length (3.15); -EBADF with trackfd=False. */
int mmfs_size(const struct mmfs_map *map, int64_t *sizep);

/* State, for a caller that reports it (repr, the driver's INFO). */
int64_t mmfs_offset(const struct mmfs_map *map);
int mmfs_access(const struct mmfs_map *map);
int mmfs_flags(const struct mmfs_map *map);
int mmfs_prot(const struct mmfs_map *map);
int mmfs_fd(const struct mmfs_map *map); /* the map's own fd or -1 */

/*
 * Position-based I/O, exactly as Python's methods.
 * mmfs_read: n < 0 reads the rest; at most cap bytes are copied, so a
 * caller that wants read(n) passes cap >= n (or >= len for n < 0).
 * mmfs_readline: up to and including the next '\n', at most cap bytes.
 * mmfs_read_byte: returns the byte (0..255).
 * mmfs_write: all or nothing, never grows; returns len.
 * mmfs_write_byte: value must be 0..255 (-EOVERFLOW otherwise).
 * mmfs_seek: whence 0, 1, 2; the new position goes to *newpos (may be NULL).
 * mmfs_tell: the position (may exceed len after a shrink), or -EBADF.
 * mmfs_seekable: always true, even when closed.
 */
ssize_t mmfs_read(struct mmfs_map *map, void *buf, size_t cap, int64_t n);
int mmfs_read_byte(struct mmfs_map *map);
ssize_t mmfs_readline(struct mmfs_map *map, void *buf, size_t cap);
ssize_t mmfs_write(struct mmfs_map *map, const void *buf, size_t len);
int mmfs_write_byte(struct mmfs_map *map, int value);
int mmfs_seek(struct mmfs_map *map, int64_t pos, int whence, int64_t *newpos);
int64_t mmfs_tell(const struct mmfs_map *map);
bool mmfs_seekable(const struct mmfs_map *map);

/*
 * find/rfind(sub, start, end).  Python's defaults are start = mmfs_tell(),
 * end = INT64_MAX.  Negative bounds count from the end, then both are
 * clamped to [0, len].  The result (an index into the mapping, or -1) goes
 * to *resultp.  Linear time, memmem speed, and no byte outside [start, end)
 * is read.
 */
int mmfs_find(struct mmfs_map *map, const void *needle, size_t nlen,
	      int64_t start, int64_t end, int64_t *resultp);
int mmfs_rfind(struct mmfs_map *map, const void *needle, size_t nlen,
	       int64_t start, int64_t end, int64_t *resultp);

/* Not Python's: find/rfind over a range of 32 MiB or more share it out
 * between up to threads threads, the caller's included (at most 8; 1, the
 * default, searches in the calling thread only).  The result, and the
 * error of a fault, are those of one front-to-back pass. */
void mmfs_search_threads(unsigned int threads);
/* Nor this: the calling thread's find/rfind over 32 MiB or more, searched
 * in 8 MiB chunks then even with one thread, asks stop(arg) before taking
 * each chunk (from whichever thread takes it) and, once it says true,
 * takes no more and fails with -EINTR unless a chunk already decided.
 * Applies to the calling thread until called again; NULL: never stop. */
void mmfs_search_stop(bool (*stop)(void *arg), void *arg);

/* Search primitives behind find/rfind, for any buffer (also the bench). */
const void *mmfs_memmem(const void *hay, size_t hlen, const void *needle,
			size_t nlen);
const void *mmfs_memrmem(const void *hay, size_t hlen, const void *needle,
			 size_t nlen);

/* move(dest, src, count): writability first, then bounds; overlap-safe. */
int mmfs_move(struct mmfs_map *map, int64_t dest, int64_t src, int64_t count);

/* flush(offset, size): Python 3.10's defaults are 0 and len.  A no-op on
 * READ and COPY maps after the range check; msync(MS_SYNC) otherwise. */
int mmfs_flush(struct mmfs_map *map, int64_t offset, int64_t size);

/* madvise(option, start, length): defaults 0 and len; length clamped. */
int mmfs_madvise(struct mmfs_map *map, int option, int64_t start,
		 int64_t length);
/* mmfs_madvise's checks of start and length alone, in its order, with
 * *lengthp clamped: for a caller that vets option after them, as Python
 * leaves it to the kernel after them. */
int mmfs_madvise_check(struct mmfs_map *map, int64_t start,
		       int64_t *lengthp);

/* resize(newsize): atomic.  On failure the file and the mapping are as
 * they were: resize(0) is refused before anything changes, a failed mremap
 * after a growing ftruncate truncates back, and a shrink remaps before it
 * truncates.  A file-backed file becomes offset + newsize bytes. */
int mmfs_resize(struct mmfs_map *map, int64_t newsize);

/*
 * m[i], m[i] = v, del m[i]; m[a:b:c], m[a:b:c] = data, del m[a:b:c].
 * Bounds and steps as Python, MMFS_NONE for an omitted one.
 * mmfs_getitem returns the byte.  mmfs_getslice returns the slice length
 * and copies it to buf when buf is not NULL (-ERANGE if cap is too small).
 * mmfs_setslice needs len equal to the slice length.
 * The deletions always fail, after the checks Python makes first.
 */
int mmfs_getitem(struct mmfs_map *map, int64_t i);
int mmfs_setitem(struct mmfs_map *map, int64_t i, int value);
int mmfs_delitem(struct mmfs_map *map, int64_t i);
ssize_t mmfs_getslice(struct mmfs_map *map, int64_t start, int64_t stop,
		      int64_t step, void *buf, size_t cap);
int mmfs_setslice(struct mmfs_map *map, int64_t start, int64_t stop,
		  int64_t step, const void *data, size_t len);
int mmfs_delslice(struct mmfs_map *map, int64_t start, int64_t stop,
		  int64_t step);

/*
 * Pinning, the C analogue of a buffer export: while pinned, close and
 * resize fail with -EBUSY.  mmfs_pin hands out the base address and length.
 */
int mmfs_pin(struct mmfs_map *map, void **datap, size_t *lenp);
void mmfs_unpin(struct mmfs_map *map);

/*
 * Positional variants for the filesystem: they neither read nor move pos.
 * mmfs_pread copies min(n, len - off) bytes (0 at or past the end).
 * mmfs_pwrite is all or nothing within the mapping (-EINVAL "data out of
 * range" past it); the caller grows the map first with mmfs_resize.
 * Both return the count copied before a fault if there was one, else -EIO.
 * (For a positional search, mmfs_find already takes explicit bounds.)
 */
ssize_t mmfs_pread(struct mmfs_map *map, void *buf, size_t n, uint64_t off);
ssize_t mmfs_pwrite(struct mmfs_map *map, const void *buf, size_t n,
		    uint64_t off);

/*
 * For a write that grows a file: the mapping grows to newsize bytes and
 * the file is left alone, for the caller to write it out that far
 * (pwrite(2) on the file, which then allocates as it writes, where
 * ftruncate first would cost the file system a second change of size).
 * Pages past the file's end fault until it reaches them.  If the write
 * falls short, mmfs_sync_length gives back what it did not use.  Only a
 * shared map of a file (-EINVAL otherwise, and for newsize below the
 * current size); nothing changes on failure.
 */
int mmfs_extend(struct mmfs_map *map, size_t newsize);

/*
 * After -EIO from a fault: compare the mapping with its file's size and
 * shrink the mapping to what the file still holds.  Returns 0 when the map
 * is consistent again, -ENODATA when the file no longer reaches past the
 * map's offset (nothing left to map: the caller should close it), or
 * another -errno.
 */
int mmfs_sync_length(struct mmfs_map *map);

/* Faults on mappings caught (and turned into -EIO) in this process. */
uint64_t mmfs_fault_count(void);

#endif /* MMFS_MMFS_H */
