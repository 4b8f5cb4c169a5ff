/*
 * check_errors.c - the error catalogue of reference §13, row by row: each
 * row provokes one error of one call on a fresh map and checks the negative
 * errno (the mapping at the top of lib/mmfs.h), the exact mmfs_errmsg()
 * text, and that the failed call changed nothing.
 *
 * Not provoked, because a C engine cannot have them:
 *   "mmap length is too large" - the file size minus the offset is at most
 *	INT64_MAX, which is SSIZE_MAX on the 64-bit targets we build for;
 *   "can't get size with trackfd=False" - 3.15 wording; the engine keeps
 *	3.13's OSError EBADF (its row is below);
 *   "mmap: can't expand a shared anonymous mapping on Linux" - the engine
 *	backs shared anonymous maps by a memfd so they grow (reachable only
 *	where memfd_create is missing);
 *   SystemError "mmap: resizing not available--no mremap()" - Linux has
 *	mremap;
 *   "cannot fit 'int' into an index-sized integer", "mmap indices must be
 *	integers"/"integer", "mmap item value must be an int", "argument
 *	should be integer or None, not ...", "a bytes-like object is required,
 *	not ...", "'bytes' object cannot be interpreted as an integer" -
 *	Python's type errors: C arguments are typed (int64_t, int, buffers);
 *   "cannot pickle 'mmap.mmap' object", tagname errors - Python and
 *	Windows only.
 */
#include "unit.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define RW (MMFS_PROT_READ | MMFS_PROT_WRITE)
#define NONE MMFS_NONE
#define RO_MSG "mmap can't modify a readonly memory map."
#define CLOSED_MSG "mmap closed or invalid"

/* What map a row runs on; each row gets a fresh one. */
enum target {
	T_NONE,       /* no map: the row opens one */
	T_FILE,       /* two pages of 'a', shared, default access */
	T_READ,       /* the same with ACCESS_READ */
	T_COPY,       /* ACCESS_COPY */
	T_PROT_READ,  /* default access, PROT_READ: resolved to READ */
	T_ANON,       /* shared anonymous, two pages */
	T_CLOSED,     /* T_FILE, closed */
	T_NOTRACK,    /* T_FILE opened with MMFS_OPEN_NOTRACKFD */
	T_PINNED,     /* T_FILE with one pin outstanding */
	T_OFFSET,     /* one page at offset PAGESIZE of a three-page file */
	T_TRUNCATED,  /* T_FILE whose file was cut to one page */
	T_EMPTIED,    /* T_FILE whose file was cut to nothing */
};

enum op {
	OP_OPEN, /* a[] = fd kind, length, flags, prot, access, offset */
	OP_CLOSE,
	OP_LEN,
	OP_SIZE,
	OP_READ,       /* a[0] = n */
	OP_READ_BYTE,
	OP_READLINE,
	OP_WRITE,      /* a[0] = len */
	OP_WRITE_BYTE, /* a[0] = value */
	OP_SEEK,       /* a[0] = pos, a[1] = whence */
	OP_TELL,
	OP_FIND,       /* a[0] = start, a[1] = end */
	OP_RFIND,
	OP_MOVE,       /* a[0..2] = dest, src, count */
	OP_FLUSH,      /* a[0..1] = offset, size */
	OP_MADVISE,    /* a[0..2] = option, start, length */
	OP_RESIZE,     /* a[0] = newsize */
	OP_RESIZE_FSIZE, /* resize(a[0]) under RLIMIT_FSIZE = a[1] */
	OP_GETITEM,    /* a[0] = i */
	OP_SETITEM,    /* a[0] = i, a[1] = value */
	OP_DELITEM,
	OP_GETSLICE,   /* a[0..2] = start, stop, step, a[3] = cap */
	OP_SETSLICE,   /* a[0..2], a[3] = len */
	OP_DELSLICE,
	OP_PIN,
	OP_PREAD,      /* a[0] = n, a[1] = off */
	OP_PWRITE,
	OP_SYNC_LENGTH,
	OP_EXTEND,     /* a[0] = newsize */
};

/* The descriptor an OP_OPEN row passes. */
enum fd_kind {
	FD_FILE,   /* a two-page regular file, read-write */
	FD_EMPTY,  /* an empty regular file */
	FD_RDONLY, /* the two-page file opened O_RDONLY */
	FD_WRONLY, /* ... O_WRONLY */
	FD_DIR,    /* a directory */
	FD_BAD,    /* -2 */
	FD_ANON,   /* -1 */
};

struct row {
	const char *what; /* the call, in Python's words */
	enum target target;
	enum op op;
	int64_t a[6];
	int64_t pos; /* seek here first (open targets) */
	int err;
	const char *msg; /* NULL: an OSError, strerror(err) */
};

/*
 * Sizes in pages are resolved at run time (PAGESIZE varies): P(n) + k
 * stands for n * PAGESIZE + k, for |n| < 32 and |k| < 512.
 */
#define PAGES_BIAS (INT64_MIN / 2)
#define PAGES_UNIT 1024
#define P(n) (PAGES_BIAS + (int64_t)(n) * PAGES_UNIT)

static int64_t arg(int64_t v)
{
	int64_t d, pages;

	if (v < PAGES_BIAS - 32 * PAGES_UNIT ||
	    v > PAGES_BIAS + 32 * PAGES_UNIT)
		return v;
	d = v - PAGES_BIAS;
	pages = d >= 0 ? (d + PAGES_UNIT / 2) / PAGES_UNIT
		       : -((-d + PAGES_UNIT / 2) / PAGES_UNIT);
	return pages * (int64_t)unit_pagesize() + (d - pages * PAGES_UNIT);
}

static const struct row rows[] = {
	/* ValueError "mmap closed or invalid": every method of a closed
	 * map, before any argument is looked at (3.10 order). */
	{"len(m)", T_CLOSED, OP_LEN, {0}, 0, EBADF, CLOSED_MSG},
	{"m.size()", T_CLOSED, OP_SIZE, {0}, 0, EBADF, CLOSED_MSG},
	{"m.read()", T_CLOSED, OP_READ, {-1}, 0, EBADF, CLOSED_MSG},
	{"m.read_byte()", T_CLOSED, OP_READ_BYTE, {0}, 0, EBADF, CLOSED_MSG},
	{"m.readline()", T_CLOSED, OP_READLINE, {0}, 0, EBADF, CLOSED_MSG},
	{"m.write(b'x')", T_CLOSED, OP_WRITE, {1}, 0, EBADF, CLOSED_MSG},
	{"m.write_byte(-1)", T_CLOSED, OP_WRITE_BYTE, {-1}, 0, EBADF,
	 CLOSED_MSG},
	{"m.seek(0, 7)", T_CLOSED, OP_SEEK, {0, 7}, 0, EBADF, CLOSED_MSG},
	{"m.tell()", T_CLOSED, OP_TELL, {0}, 0, EBADF, CLOSED_MSG},
	{"m.find(b'a')", T_CLOSED, OP_FIND, {0, INT64_MAX}, 0, EBADF,
	 CLOSED_MSG},
	{"m.rfind(b'a')", T_CLOSED, OP_RFIND, {0, INT64_MAX}, 0, EBADF,
	 CLOSED_MSG},
	{"m.move(0, 0, 1)", T_CLOSED, OP_MOVE, {0, 0, 1}, 0, EBADF,
	 CLOSED_MSG},
	{"m.flush()", T_CLOSED, OP_FLUSH, {0, 0}, 0, EBADF, CLOSED_MSG},
	{"m.madvise(MADV_NORMAL)", T_CLOSED, OP_MADVISE, {MADV_NORMAL, 0, 1},
	 0, EBADF, CLOSED_MSG},
	{"m.resize(10)", T_CLOSED, OP_RESIZE, {10}, 0, EBADF, CLOSED_MSG},
	{"m[0]", T_CLOSED, OP_GETITEM, {0}, 0, EBADF, CLOSED_MSG},
	{"m[0] = 1", T_CLOSED, OP_SETITEM, {0, 1}, 0, EBADF, CLOSED_MSG},
	{"del m[0]", T_CLOSED, OP_DELITEM, {0}, 0, EBADF, CLOSED_MSG},
	{"m[0:1]", T_CLOSED, OP_GETSLICE, {0, 1, NONE, 16}, 0, EBADF,
	 CLOSED_MSG},
	{"m[0:1:0] = b'x'", T_CLOSED, OP_SETSLICE, {0, 1, 0, 1}, 0, EBADF,
	 CLOSED_MSG},
	{"del m[0:1]", T_CLOSED, OP_DELSLICE, {0, 1, NONE}, 0, EBADF,
	 CLOSED_MSG},
	{"memoryview(m)", T_CLOSED, OP_PIN, {0}, 0, EBADF, CLOSED_MSG},
	{"pread", T_CLOSED, OP_PREAD, {1, 0}, 0, EBADF, CLOSED_MSG},
	{"pwrite", T_CLOSED, OP_PWRITE, {1, 0}, 0, EBADF, CLOSED_MSG},
	{"sync_length", T_CLOSED, OP_SYNC_LENGTH, {0}, 0, EBADF, CLOSED_MSG},
	{"extend", T_CLOSED, OP_EXTEND, {P(3)}, 0, EBADF, CLOSED_MSG},

	/* The constructor, in Python's order of checks. */
	{"mmap(f, -1)", T_NONE, OP_OPEN, {FD_FILE, -1, MAP_SHARED, RW, 0, 0},
	 0, EOVERFLOW, "memory mapped length must be positive"},
	{"mmap(f, -1, offset=-1)", T_NONE, OP_OPEN,
	 {FD_FILE, -1, MAP_SHARED, RW, 0, -1}, 0, EOVERFLOW,
	 "memory mapped length must be positive"},
	{"mmap(f, 0, offset=-1)", T_NONE, OP_OPEN,
	 {FD_FILE, 0, MAP_SHARED, RW, 0, -1}, 0, EOVERFLOW,
	 "memory mapped offset must be positive"},
	{"mmap(f, 0, flags=MAP_PRIVATE, access=READ)", T_NONE, OP_OPEN,
	 {FD_FILE, 0, MAP_PRIVATE, RW, MMFS_ACCESS_READ, 0}, 0, EINVAL,
	 "mmap can't specify both access and flags, prot."},
	{"mmap(f, 0, prot=PROT_READ, access=WRITE)", T_NONE, OP_OPEN,
	 {FD_FILE, 0, MAP_SHARED, PROT_READ, MMFS_ACCESS_WRITE, 0}, 0, EINVAL,
	 "mmap can't specify both access and flags, prot."},
	{"mmap(f, 0, flags=MAP_PRIVATE, access=9)", T_NONE, OP_OPEN,
	 {FD_FILE, 0, MAP_PRIVATE, RW, 9, 0}, 0, EINVAL,
	 "mmap can't specify both access and flags, prot."},
	{"mmap(f, 0, access=4)", T_NONE, OP_OPEN,
	 {FD_FILE, 0, MAP_SHARED, RW, 4, 0}, 0, EINVAL,
	 "mmap invalid access parameter."},
	{"mmap(f, 0, access=-1)", T_NONE, OP_OPEN,
	 {FD_FILE, 0, MAP_SHARED, RW, -1, 0}, 0, EINVAL,
	 "mmap invalid access parameter."},
	{"mmap(empty, 0)", T_NONE, OP_OPEN,
	 {FD_EMPTY, 0, MAP_SHARED, RW, 0, 0}, 0, EINVAL,
	 "cannot mmap an empty file"},
	{"mmap(f, 0, offset=len(f))", T_NONE, OP_OPEN,
	 {FD_FILE, 0, MAP_SHARED, RW, 0, P(2)}, 0, EINVAL,
	 "mmap offset is greater than file size"},
	{"mmap(f, 0, offset=2**40)", T_NONE, OP_OPEN,
	 {FD_FILE, 0, MAP_SHARED, RW, 0, 1LL << 40}, 0, EINVAL,
	 "mmap offset is greater than file size"},
	{"mmap(f, len(f) + 1)", T_NONE, OP_OPEN,
	 {FD_FILE, P(2) + 1, MAP_SHARED, RW, 0, 0}, 0, EINVAL,
	 "mmap length is greater than file size"},
	{"mmap(f, 1, offset=3 pages)", T_NONE, OP_OPEN,
	 {FD_FILE, 1, MAP_SHARED, RW, 0, P(3)}, 0, EINVAL,
	 "mmap length is greater than file size"},
	{"mmap(f, INT64_MAX, offset=1 page)", T_NONE, OP_OPEN,
	 {FD_FILE, INT64_MAX, MAP_SHARED, RW, 0, P(1)}, 0, EINVAL,
	 "mmap length is greater than file size"},
	{"mmap(empty, 1)", T_NONE, OP_OPEN,
	 {FD_EMPTY, 1, MAP_SHARED, RW, 0, 0}, 0, EINVAL,
	 "mmap length is greater than file size"},
	/* OSError from dup(2) and mmap(2). */
	{"mmap(-2, 4096)", T_NONE, OP_OPEN,
	 {FD_BAD, 4096, MAP_SHARED, RW, 0, 0}, 0, EBADF, NULL},
	{"mmap(-1, 0)", T_NONE, OP_OPEN, {FD_ANON, 0, MAP_SHARED, RW, 0, 0},
	 0, EINVAL, NULL},
	{"mmap(-1, 0, flags=MAP_PRIVATE)", T_NONE, OP_OPEN,
	 {FD_ANON, 0, MAP_PRIVATE, RW, 0, 0}, 0, EINVAL, NULL},
	{"mmap(-1, 4096, offset=1)", T_NONE, OP_OPEN,
	 {FD_ANON, 4096, MAP_SHARED, RW, 0, 1}, 0, EINVAL, NULL},
	{"mmap(-1, 4096, MAP_PRIVATE, offset=1)", T_NONE, OP_OPEN,
	 {FD_ANON, 4096, MAP_PRIVATE, RW, 0, 1}, 0, EINVAL, NULL},
	{"mmap(f, 10, offset=1)", T_NONE, OP_OPEN,
	 {FD_FILE, 10, MAP_SHARED, RW, 0, 1}, 0, EINVAL, NULL},
	{"mmap(f, 10, flags=0)", T_NONE, OP_OPEN,
	 {FD_FILE, 10, 0, RW, 0, 0}, 0, EINVAL, NULL},
	{"mmap(rdonly, 0)", T_NONE, OP_OPEN,
	 {FD_RDONLY, 0, MAP_SHARED, RW, 0, 0}, 0, EACCES, NULL},
	{"mmap(rdonly, 0, access=WRITE)", T_NONE, OP_OPEN,
	 {FD_RDONLY, 0, MAP_SHARED, RW, MMFS_ACCESS_WRITE, 0}, 0, EACCES,
	 NULL},
	{"mmap(wronly, 0, access=READ)", T_NONE, OP_OPEN,
	 {FD_WRONLY, 0, MAP_SHARED, RW, MMFS_ACCESS_READ, 0}, 0, EACCES, NULL},
	{"mmap(directory, 4096, access=READ)", T_NONE, OP_OPEN,
	 {FD_DIR, 4096, MAP_SHARED, RW, MMFS_ACCESS_READ, 0}, 0, ENODEV, NULL},

	/* TypeError "mmap can't modify a readonly memory map.", before any
	 * range check. */
	{"write", T_READ, OP_WRITE, {1}, 0, EACCES, RO_MSG},
	{"write(b'')", T_READ, OP_WRITE, {0}, 0, EACCES, RO_MSG},
	{"write(too much)", T_READ, OP_WRITE, {P(3)}, 0, EACCES, RO_MSG},
	{"write, PROT_READ", T_PROT_READ, OP_WRITE, {3}, 0, EACCES, RO_MSG},
	{"write_byte(1)", T_READ, OP_WRITE_BYTE, {1}, 0, EACCES, RO_MSG},
	{"write_byte(1) at end", T_READ, OP_WRITE_BYTE, {1}, P(2), EACCES,
	 RO_MSG},
	{"write_byte, PROT_READ", T_PROT_READ, OP_WRITE_BYTE, {1}, 0, EACCES,
	 RO_MSG},
	{"move(0, 1, 1)", T_READ, OP_MOVE, {0, 1, 1}, 0, EACCES, RO_MSG},
	{"move(-1, -1, -1)", T_READ, OP_MOVE, {-1, -1, -1}, 0, EACCES, RO_MSG},
	{"m[0] = 1", T_READ, OP_SETITEM, {0, 1}, 0, EACCES, RO_MSG},
	{"m[len] = 300", T_READ, OP_SETITEM, {P(2), 300}, 0, EACCES, RO_MSG},
	{"m[0:1] = b'x'", T_READ, OP_SETSLICE, {0, 1, NONE, 1}, 0, EACCES,
	 RO_MSG},
	{"m[::0] = b'x' (wrong size too)", T_READ, OP_SETSLICE,
	 {NONE, NONE, 0, 5}, 0, EACCES, RO_MSG},
	{"del m[0]", T_READ, OP_DELITEM, {0}, 0, EACCES, RO_MSG},
	{"del m[len]", T_READ, OP_DELITEM, {P(2)}, 0, EACCES, RO_MSG},
	{"del m[0:1]", T_READ, OP_DELSLICE, {0, 1, NONE}, 0, EACCES, RO_MSG},
	{"pwrite", T_READ, OP_PWRITE, {1, 0}, 0, EACCES, RO_MSG},
	{"pwrite past the end", T_READ, OP_PWRITE, {1, P(5)}, 0, EACCES,
	 RO_MSG},

	/* resize refusals, in Python's order. */
	{"resize, READ", T_READ, OP_RESIZE, {10}, 0, EPERM,
	 "mmap can't resize a readonly or copy-on-write memory map."},
	{"resize(-1), READ", T_READ, OP_RESIZE, {-1}, 0, EPERM,
	 "mmap can't resize a readonly or copy-on-write memory map."},
	{"resize, COPY", T_COPY, OP_RESIZE, {10}, 0, EPERM,
	 "mmap can't resize a readonly or copy-on-write memory map."},
	{"resize, PROT_READ", T_PROT_READ, OP_RESIZE, {10}, 0, EPERM,
	 "mmap can't resize a readonly or copy-on-write memory map."},
	{"resize, pinned", T_PINNED, OP_RESIZE, {10}, 0, EBUSY,
	 "mmap can't resize with extant buffers exported."},
	{"resize(-1), pinned", T_PINNED, OP_RESIZE, {-1}, 0, EBUSY,
	 "mmap can't resize with extant buffers exported."},
	{"close, pinned", T_PINNED, OP_CLOSE, {0}, 0, EBUSY,
	 "cannot close exported pointers exist"},
	{"resize, trackfd=False", T_NOTRACK, OP_RESIZE, {10}, 0, EINVAL,
	 "mmap can't resize with trackfd=False."},
	{"resize(-1)", T_FILE, OP_RESIZE, {-1}, 0, EINVAL,
	 "new size out of range"},
	{"resize(INT64_MIN)", T_ANON, OP_RESIZE, {INT64_MIN}, 0, EINVAL,
	 "new size out of range"},
	{"resize(INT64_MAX) at offset 1 page", T_OFFSET, OP_RESIZE,
	 {INT64_MAX}, 0, EINVAL, "new size out of range"},
	/* extend: resize's refusals, then only a shared map of a file may
	 * grow without its file, and never shrink. */
	{"extend, READ", T_READ, OP_EXTEND, {P(3)}, 0, EPERM,
	 "mmap can't resize a readonly or copy-on-write memory map."},
	{"extend, COPY", T_COPY, OP_EXTEND, {P(3)}, 0, EPERM,
	 "mmap can't resize a readonly or copy-on-write memory map."},
	{"extend, pinned", T_PINNED, OP_EXTEND, {P(3)}, 0, EBUSY,
	 "mmap can't resize with extant buffers exported."},
	{"extend, trackfd=False", T_NOTRACK, OP_EXTEND, {P(3)}, 0, EINVAL,
	 "mmap can't resize with trackfd=False."},
	{"extend, anonymous", T_ANON, OP_EXTEND, {P(3)}, 0, EINVAL,
	 "only a shared map of a file extends"},
	{"extend to less", T_FILE, OP_EXTEND, {P(1)}, 0, EINVAL,
	 "new size out of range"},
	{"extend(INT64_MAX) at offset 1 page", T_OFFSET, OP_EXTEND,
	 {INT64_MAX}, 0, EINVAL, "new size out of range"},
	/* OSError: 0 is refused before anything changes (mremap would). */
	{"resize(0)", T_FILE, OP_RESIZE, {0}, 0, EINVAL, NULL},
	{"resize(0), anonymous", T_ANON, OP_RESIZE, {0}, 0, EINVAL, NULL},
	{"resize past RLIMIT_FSIZE", T_FILE, OP_RESIZE_FSIZE, {P(4), P(3)}, 0,
	 EFBIG, NULL},
	{"size(), trackfd=False", T_NOTRACK, OP_SIZE, {0}, 0, EBADF, NULL},

	/* Position I/O. */
	{"write(len + 1 bytes)", T_FILE, OP_WRITE, {P(2) + 1}, 0, EINVAL,
	 "data out of range"},
	{"write(b'x') at end", T_FILE, OP_WRITE, {1}, P(2), EINVAL,
	 "data out of range"},
	{"write(2 bytes) at len - 1", T_ANON, OP_WRITE, {2}, P(2) - 1, EINVAL,
	 "data out of range"},
	{"pwrite at len", T_FILE, OP_PWRITE, {1, P(2)}, 0, EINVAL,
	 "data out of range"},
	{"pwrite(b'') past len", T_FILE, OP_PWRITE, {0, P(2) + 1}, 0, EINVAL,
	 "data out of range"},
	{"pwrite across the end", T_FILE, OP_PWRITE, {2, P(2) - 1}, 0, EINVAL,
	 "data out of range"},
	{"pwrite at UINT64_MAX", T_FILE, OP_PWRITE, {1, -1}, 0, EINVAL,
	 "data out of range"},
	{"read_byte() at end", T_FILE, OP_READ_BYTE, {0}, P(2), EINVAL,
	 "read byte out of range"},
	{"write_byte(1) at end", T_FILE, OP_WRITE_BYTE, {1}, P(2), EINVAL,
	 "write byte out of range"},
	{"write_byte(-1)", T_FILE, OP_WRITE_BYTE, {-1}, 0, EOVERFLOW,
	 "unsigned byte integer is less than minimum"},
	{"write_byte(-1), READ", T_READ, OP_WRITE_BYTE, {-1}, 0, EOVERFLOW,
	 "unsigned byte integer is less than minimum"},
	{"write_byte(256)", T_FILE, OP_WRITE_BYTE, {256}, 0, EOVERFLOW,
	 "unsigned byte integer is greater than maximum"},
	{"write_byte(256) at end, READ", T_READ, OP_WRITE_BYTE, {256}, P(2),
	 EOVERFLOW, "unsigned byte integer is greater than maximum"},
	{"seek(-1)", T_FILE, OP_SEEK, {-1, 0}, 0, EINVAL, "seek out of range"},
	{"seek(len + 1)", T_FILE, OP_SEEK, {P(2) + 1, 0}, 0, EINVAL,
	 "seek out of range"},
	{"seek(1, 2)", T_FILE, OP_SEEK, {1, 2}, 0, EINVAL,
	 "seek out of range"},
	{"seek(INT64_MAX, 1) at 1", T_FILE, OP_SEEK, {INT64_MAX, 1}, 1, EINVAL,
	 "seek out of range"},
	{"seek(INT64_MIN, 2)", T_FILE, OP_SEEK, {INT64_MIN, 2}, 0, EINVAL,
	 "seek out of range"},
	{"seek(0, 3)", T_FILE, OP_SEEK, {0, 3}, 0, EINVAL,
	 "unknown seek type"},
	{"seek(-1, -1)", T_FILE, OP_SEEK, {-1, -1}, 0, EINVAL,
	 "unknown seek type"},

	/* Whole-map operations. */
	{"flush(-1, 1)", T_FILE, OP_FLUSH, {-1, 1}, 0, EINVAL,
	 "flush values out of range"},
	{"flush(0, -1)", T_FILE, OP_FLUSH, {0, -1}, 0, EINVAL,
	 "flush values out of range"},
	{"flush(0, len + 1)", T_FILE, OP_FLUSH, {0, P(2) + 1}, 0, EINVAL,
	 "flush values out of range"},
	{"flush(len + 1, 0)", T_FILE, OP_FLUSH, {P(2) + 1, 0}, 0, EINVAL,
	 "flush values out of range"},
	{"flush(1 page, INT64_MAX)", T_FILE, OP_FLUSH, {P(1), INT64_MAX}, 0,
	 EINVAL, "flush values out of range"},
	{"flush(0, len + 1), READ", T_READ, OP_FLUSH, {0, P(2) + 1}, 0, EINVAL,
	 "flush values out of range"},
	{"flush(1, 6)", T_FILE, OP_FLUSH, {1, 6}, 0, EINVAL, NULL},
	{"madvise(NORMAL, len)", T_FILE, OP_MADVISE, {MADV_NORMAL, P(2), 0},
	 0, EINVAL, "madvise start out of bounds"},
	{"madvise(NORMAL, -1)", T_FILE, OP_MADVISE, {MADV_NORMAL, -1, 1}, 0,
	 EINVAL, "madvise start out of bounds"},
	{"madvise(NORMAL, 0, -1)", T_FILE, OP_MADVISE, {MADV_NORMAL, 0, -1},
	 0, EINVAL, "madvise length invalid"},
	{"madvise(NORMAL, 1 page, INT64_MAX)", T_FILE, OP_MADVISE,
	 {MADV_NORMAL, P(1), INT64_MAX}, 0, EOVERFLOW,
	 "madvise length too large"},
	{"madvise(NORMAL, 1, 1)", T_FILE, OP_MADVISE, {MADV_NORMAL, 1, 1}, 0,
	 EINVAL, NULL},
	{"madvise(12345)", T_ANON, OP_MADVISE, {12345, 0, P(2)}, 0, EINVAL,
	 NULL},
	{"move(0, 0, len + 1)", T_FILE, OP_MOVE, {0, 0, P(2) + 1}, 0, EINVAL,
	 "source, destination, or count out of range"},
	{"move(-1, 0, 0)", T_FILE, OP_MOVE, {-1, 0, 0}, 0, EINVAL,
	 "source, destination, or count out of range"},
	{"move(0, len, 1)", T_ANON, OP_MOVE, {0, P(2), 1}, 0, EINVAL,
	 "source, destination, or count out of range"},
	{"move(INT64_MAX, 0, 1)", T_FILE, OP_MOVE, {INT64_MAX, 0, 1}, 0,
	 EINVAL, "source, destination, or count out of range"},

	/* Items and slices. */
	{"m[len]", T_FILE, OP_GETITEM, {P(2)}, 0, ERANGE,
	 "mmap index out of range"},
	{"m[-len - 1]", T_FILE, OP_GETITEM, {P(-2) - 1}, 0, ERANGE,
	 "mmap index out of range"},
	{"m[INT64_MIN]", T_ANON, OP_GETITEM, {INT64_MIN}, 0, ERANGE,
	 "mmap index out of range"},
	{"m[len] = 300", T_FILE, OP_SETITEM, {P(2), 300}, 0, ERANGE,
	 "mmap index out of range"},
	{"m[-len - 1] = 1", T_FILE, OP_SETITEM, {P(-2) - 1, 1}, 0, ERANGE,
	 "mmap index out of range"},
	{"del m[len]", T_FILE, OP_DELITEM, {P(2)}, 0, ERANGE,
	 "mmap index out of range"},
	{"m[0] = 256", T_FILE, OP_SETITEM, {0, 256}, 0, EINVAL,
	 "mmap item value must be in range(0, 256)"},
	{"m[-1] = -1", T_COPY, OP_SETITEM, {-1, -1}, 0, EINVAL,
	 "mmap item value must be in range(0, 256)"},
	{"m[0:10] = 9 bytes", T_FILE, OP_SETSLICE, {0, 10, NONE, 9}, 0,
	 ERANGE, "mmap slice assignment is wrong size"},
	{"m[::-1] = b''", T_ANON, OP_SETSLICE, {NONE, NONE, -1, 0}, 0, ERANGE,
	 "mmap slice assignment is wrong size"},
	{"m[5:2] = b'x'", T_FILE, OP_SETSLICE, {5, 2, NONE, 1}, 0, ERANGE,
	 "mmap slice assignment is wrong size"},
	{"del m[0]", T_FILE, OP_DELITEM, {0}, 0, EOPNOTSUPP,
	 "mmap doesn't support item deletion"},
	{"del m[-1]", T_COPY, OP_DELITEM, {-1}, 0, EOPNOTSUPP,
	 "mmap doesn't support item deletion"},
	{"del m[0:10]", T_FILE, OP_DELSLICE, {0, 10, NONE}, 0, EOPNOTSUPP,
	 "mmap object doesn't support slice deletion"},
	{"del m[5:2]", T_ANON, OP_DELSLICE, {5, 2, 3}, 0, EOPNOTSUPP,
	 "mmap object doesn't support slice deletion"},
	{"m[::0]", T_FILE, OP_GETSLICE, {NONE, NONE, 0, 16}, 0, EINVAL,
	 "slice step cannot be zero"},
	{"m[::0] = b''", T_FILE, OP_SETSLICE, {NONE, NONE, 0, 0}, 0, EINVAL,
	 "slice step cannot be zero"},
	{"del m[::0]", T_FILE, OP_DELSLICE, {NONE, NONE, 0}, 0, EINVAL,
	 "slice step cannot be zero"},

	/* The engine's own: a slice that does not fit the caller's buffer,
	 * and faults on a file cut short behind the map. */
	{"m[0:17] into 16 bytes", T_FILE, OP_GETSLICE, {0, 17, NONE, 16}, 0,
	 ERANGE, "buffer too small for the slice"},
	{"m[len(file)] after truncation", T_TRUNCATED, OP_GETITEM, {P(1)}, 0,
	 EIO, "mapping access faulted: the backing file is shorter than the "
	      "mapping"},
	{"move into the lost page", T_TRUNCATED, OP_MOVE, {P(1), 0, 1}, 0,
	 EIO, "mapping access faulted: the backing file is shorter than the "
	      "mapping"},
	{"sync_length after the file emptied", T_EMPTIED, OP_SYNC_LENGTH, {0},
	 0, ENODATA, "the backing file no longer reaches the mapping"},
};

/* ------------------------------------------------------------------ */

struct fixture {
	struct mmfs_map *map;
	int fd;    /* the backing file, -1 for T_ANON / T_NONE */
	size_t ps;
	unsigned char *buf; /* a scratch of 8 pages */
};

static int open_fd(enum fd_kind kind, size_t ps)
{
	char path[64];
	int fd, other;

	switch (kind) {
	case FD_FILE:
		return unit_tmpfile_fill('a', 2 * ps);
	case FD_EMPTY:
		return unit_tmpfile(NULL, 0);
	case FD_RDONLY:
	case FD_WRONLY:
		other = unit_tmpfile_fill('a', 2 * ps);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", other);
		fd = open(path, kind == FD_RDONLY ? O_RDONLY : O_WRONLY);
		ck_assert_int_ge(fd, 0);
		close(other);
		return fd;
	case FD_DIR:
		fd = open("/", O_RDONLY | O_DIRECTORY);
		ck_assert_int_ge(fd, 0);
		return fd;
	case FD_BAD:
		return -2;
	case FD_ANON:
		return -1;
	}
	return -1;
}

static void setup_target(struct fixture *fx, enum target t)
{
	size_t ps = fx->ps;
	int access = MMFS_ACCESS_DEFAULT, prot = RW;
	unsigned int opts = 0;
	int64_t len = (int64_t)(2 * ps), offset = 0;

	fx->map = NULL;
	fx->fd = -1;
	switch (t) {
	case T_NONE:
		return;
	case T_ANON:
		ck_assert_ok(mmfs_open(&fx->map, -1, len, MAP_SHARED, RW,
				       MMFS_ACCESS_DEFAULT, 0, 0));
		return;
	case T_READ:
		access = MMFS_ACCESS_READ;
		break;
	case T_COPY:
		access = MMFS_ACCESS_COPY;
		break;
	case T_PROT_READ:
		prot = PROT_READ;
		break;
	case T_NOTRACK:
		opts = MMFS_OPEN_NOTRACKFD;
		break;
	case T_OFFSET:
		len = (int64_t)ps;
		offset = (int64_t)ps;
		break;
	default:
		break;
	}
	fx->fd = unit_tmpfile_fill('a', t == T_OFFSET ? 3 * ps : 2 * ps);
	ck_assert_ok(mmfs_open(&fx->map, fx->fd, len, MAP_SHARED, prot,
			       access, offset, opts));
	switch (t) {
	case T_CLOSED:
		ck_assert_ok(mmfs_close(fx->map));
		break;
	case T_PINNED:
		ck_assert_ok(mmfs_pin(fx->map, NULL, NULL));
		break;
	case T_TRUNCATED:
		ck_assert_int_eq(ftruncate(fx->fd, (off_t)ps), 0);
		break;
	case T_EMPTIED:
		ck_assert_int_eq(ftruncate(fx->fd, 0), 0);
		break;
	default:
		break;
	}
}

/* resize under a file size limit: EFBIG on any filesystem. */
static int64_t resize_limited(struct mmfs_map *map, int64_t newsize,
			      int64_t limit)
{
	struct rlimit old, lim;
	struct sigaction ign, oldsa;
	int64_t ret;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	ck_assert_int_eq(sigaction(SIGXFSZ, &ign, &oldsa), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)limit;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	ret = mmfs_resize(map, newsize);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(sigaction(SIGXFSZ, &oldsa, NULL), 0);
	return ret;
}

static int64_t run(const struct row *r, struct fixture *fx)
{
	struct mmfs_map *m = fx->map;
	unsigned char *buf = fx->buf;
	int64_t a0 = arg(r->a[0]), a1 = arg(r->a[1]), a2 = arg(r->a[2]);
	int64_t a3 = arg(r->a[3]), out = 0;
	struct mmfs_map *opened = NULL;
	int64_t ret;
	int fd;

	switch (r->op) {
	case OP_OPEN:
		fd = open_fd((enum fd_kind)r->a[0], fx->ps);
		ret = mmfs_open(&opened, fd, a1, (int)a2, (int)a3,
				(int)arg(r->a[4]), arg(r->a[5]), 0);
		ck_assert_msg(ret < 0 || opened != NULL, "%s", r->what);
		mmfs_free(opened);
		if (fd >= 0)
			close(fd);
		return ret;
	case OP_CLOSE:
		return mmfs_close(m);
	case OP_LEN:
		return mmfs_len(m);
	case OP_SIZE:
		return mmfs_size(m, &out);
	case OP_READ:
		return mmfs_read(m, buf, 8 * fx->ps, a0);
	case OP_READ_BYTE:
		return mmfs_read_byte(m);
	case OP_READLINE:
		return mmfs_readline(m, buf, 8 * fx->ps);
	case OP_WRITE:
		return mmfs_write(m, buf, (size_t)a0);
	case OP_WRITE_BYTE:
		return mmfs_write_byte(m, (int)a0);
	case OP_SEEK:
		return mmfs_seek(m, a0, (int)a1, &out);
	case OP_TELL:
		return mmfs_tell(m);
	case OP_FIND:
		return mmfs_find(m, "a", 1, a0, a1, &out);
	case OP_RFIND:
		return mmfs_rfind(m, "a", 1, a0, a1, &out);
	case OP_MOVE:
		return mmfs_move(m, a0, a1, a2);
	case OP_FLUSH:
		return mmfs_flush(m, a0, a1);
	case OP_MADVISE:
		return mmfs_madvise(m, (int)a0, a1, a2);
	case OP_RESIZE:
		return mmfs_resize(m, a0);
	case OP_RESIZE_FSIZE:
		return resize_limited(m, a0, a1);
	case OP_GETITEM:
		return mmfs_getitem(m, a0);
	case OP_SETITEM:
		return mmfs_setitem(m, a0, (int)a1);
	case OP_DELITEM:
		return mmfs_delitem(m, a0);
	case OP_GETSLICE:
		return mmfs_getslice(m, a0, a1, a2, buf, (size_t)a3);
	case OP_SETSLICE:
		return mmfs_setslice(m, a0, a1, a2, buf, (size_t)a3);
	case OP_DELSLICE:
		return mmfs_delslice(m, a0, a1, a2);
	case OP_PIN:
		return mmfs_pin(m, NULL, NULL);
	case OP_PREAD:
		return mmfs_pread(m, buf, (size_t)a0, (uint64_t)a1);
	case OP_PWRITE:
		return mmfs_pwrite(m, buf, (size_t)a0, (uint64_t)a1);
	case OP_SYNC_LENGTH:
		return mmfs_sync_length(m);
	case OP_EXTEND:
		return mmfs_extend(m, (size_t)a0);
	}
	ck_abort_msg("unknown op in row %s", r->what);
	return 0;
}

/* What a failed call must leave alone. */
struct snapshot {
	ssize_t len;
	int64_t pos;
	ssize_t got; /* bytes pread could read (short on a cut file) */
	int64_t file_size;
	unsigned char *bytes;
};

static void take(struct fixture *fx, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	if (fx->map == NULL || mmfs_closed(fx->map))
		return;
	s->len = mmfs_len(fx->map);
	s->pos = mmfs_tell(fx->map);
	s->bytes = malloc((size_t)s->len);
	ck_assert_ptr_nonnull(s->bytes);
	s->got = mmfs_pread(fx->map, s->bytes, (size_t)s->len, 0);
	s->file_size = fx->fd >= 0 ? unit_file_size(fx->fd) : -1;
}

static void same(const char *what, struct fixture *fx, struct snapshot *s)
{
	struct snapshot now;

	take(fx, &now);
	ck_assert_msg(now.len == s->len && now.pos == s->pos &&
			      now.got == s->got &&
			      now.file_size == s->file_size,
		      "%s changed the map: len %zd -> %zd, pos %lld -> %lld, "
		      "file %lld -> %lld",
		      what, s->len, now.len, (long long)s->pos,
		      (long long)now.pos, (long long)s->file_size,
		      (long long)now.file_size);
	if (s->got > 0)
		ck_assert_msg(memcmp(now.bytes, s->bytes, (size_t)s->got) == 0,
			      "%s changed the bytes", what);
	free(now.bytes);
	free(s->bytes);
}

START_TEST(test_error_catalogue)
{
	struct fixture fx;
	size_t nrows = sizeof(rows) / sizeof(rows[0]);

	fx.ps = unit_pagesize();
	fx.buf = malloc(8 * fx.ps);
	ck_assert_ptr_nonnull(fx.buf);
	memset(fx.buf, 'z', 8 * fx.ps);

	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		const char *want = r->msg ? r->msg : strerror(r->err);
		struct snapshot before;
		int64_t ret;

		setup_target(&fx, r->target);
		if (r->pos != 0)
			ck_assert_ok(mmfs_seek(fx.map, arg(r->pos), 0, NULL));
		take(&fx, &before);
		/* A stale message must not pass for the right one. */
		mmfs_clear_error();
		ret = run(r, &fx);
		ck_assert_msg(ret == -r->err, "row %zu %s: returned %lld, "
			      "expected %d (%s)", i, r->what, (long long)ret,
			      -r->err, mmfs_errmsg());
		ck_assert_msg(strcmp(mmfs_errmsg(), want) == 0,
			      "row %zu %s: message \"%s\", expected \"%s\"", i,
			      r->what, mmfs_errmsg(), want);
		same(r->what, &fx, &before);
		if (r->target == T_PINNED)
			mmfs_unpin(fx.map);
		mmfs_free(fx.map);
		if (fx.fd >= 0)
			close(fx.fd);
	}
	free(fx.buf);
}
END_TEST

/* mmfs_errmsg() is "" until something failed, and per thread. */
static void *other_thread(void *arg)
{
	(void)arg;
	return (void *)mmfs_errmsg();
}

START_TEST(test_errmsg_state)
{
	struct mmfs_map *map = NULL;
	pthread_t th;
	void *msg = NULL;

	mmfs_clear_error();
	ck_assert_str_eq(mmfs_errmsg(), "");
	ck_assert_ok(mmfs_open(&map, -1, 16, MAP_PRIVATE, RW,
			       MMFS_ACCESS_DEFAULT, 0, 0));
	ck_assert_err(mmfs_seek(map, 0, 9, NULL), -EINVAL,
		      "unknown seek type");
	ck_assert_int_eq(pthread_create(&th, NULL, other_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(th, &msg), 0);
	ck_assert_str_eq((const char *)msg, "");
	ck_assert_str_eq(mmfs_errmsg(), "unknown seek type");
	mmfs_free(map);
}
END_TEST

static Suite *errors_suite(void)
{
	Suite *s = suite_create("errors");
	TCase *tc = tcase_create("catalogue");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_error_catalogue);
	tcase_add_test(tc, test_errmsg_state);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(errors_suite)
