/* mmfs-int.h - the engine's private state and the helpers its modules share. */
#ifndef MMFS_MMFS_INT_H
#define MMFS_MMFS_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mmfs.h"

#ifdef FUSE_USE_VERSION
#error "the engine must not depend on FUSE"
#endif

/*
 * One mapping object, as CPython's mmap_object.  Invariants: closed iff
 * data == NULL; size >= 1 while open; pos <= size except after a shrinking
 * resize; fd is our own descriptor (a dup, or the memfd of a shared
 * anonymous map), the caller's (borrowed) or -1.
 */
struct mmfs_map {
	unsigned char *data; /* base of the mapping; NULL when closed */
	size_t size;         /* length of the mapping */
	size_t pos;          /* position for read/write/seek */
	int64_t offset;      /* file offset of the mapping's first byte */
	int fd;              /* the fd we track, -1 if none */
	bool borrowed;       /* fd is the caller's: never closed here */
	int access;          /* MMFS_ACCESS_*, resolved as reference §3.3 */
	int flags;           /* mmap(2) flags as used */
	int prot;            /* mmap(2) protection as used */
	bool anonymous;      /* no file behind it (a memfd counts as none) */
	bool trackfd;        /* false: trackfd=False was given */
	unsigned int exports; /* pins outstanding */
};

/* error.c: record a message for mmfs_errmsg() and return -err. */
int mmfs_fail(int err, const char *msg);
/* The same for an OSError: the message is strerror(err). */
int mmfs_fail_os(int err);
/* Forget the last message (on success paths that want a clean state). */
void mmfs_clear_error(void);

/* The closed check at the top of every method (reference §1.1). */
#define MMFS_CHECK_VALID(map)                                                 \
	do {                                                                   \
		if ((map) == NULL || (map)->data == NULL)                      \
			return mmfs_fail(EBADF, "mmap closed or invalid");     \
	} while (0)

/* The single places for policy (CPython's is_writable / is_resizeable):
 * 0 when allowed, else the Python error as -errno. */
int mmfs_check_writable(const struct mmfs_map *map);
int mmfs_check_resizeable(const struct mmfs_map *map);

/*
 * fault.c: touching mapped bytes without dying of SIGBUS.
 * mmfs_fault_init installs the process-wide handler once (idempotent,
 * thread-safe).  The guarded calls return the full count on success; when
 * the mapping faults they return the bytes done before the fault if any,
 * else -EIO (with the message set).  They may be used on any memory, but
 * only faults inside a guarded call are caught.
 */
void mmfs_fault_init(void);
ssize_t mmfs_guarded_copy(void *dst, const void *src, size_t n);
/* memmove inside one mapping; all or -EIO. */
int mmfs_guarded_move(void *dst, const void *src, size_t n);
/* Run fn(arg) with the guard up: 0, or -EIO if it faulted. fn must not
 * take locks or allocate (it may be abandoned half way). */
int mmfs_guarded_call(void (*fn)(void *arg), void *arg);

/* Python slice normalisation (PySlice_Unpack + PySlice_AdjustIndices):
 * MMFS_NONE for omitted values; -EINVAL "slice step cannot be zero".
 * Returns the slice length in *lenp. */
int mmfs_slice_adjust(size_t len, int64_t *start, int64_t *stop,
		      int64_t *step, size_t *lenp);

/* search.c, for the tests: portable forces the portable vector filter
 * where the CPU has a wider one; eager hands over to Two-Way at the first
 * failed comparison, so that every path and the hand-over between them
 * get exercised.  Both false by default. */
void mmfs_search_tune(bool portable, bool eager);
/* The tests' knobs for the shared-out search: the shortest range shared
 * out (32 MiB) and the chunk the threads take at a time (8 MiB). */
void mmfs_search_parallel_tune(size_t min_len, size_t chunk);

#endif /* MMFS_MMFS_INT_H */
