/* mmapfs.h - the public ioctl ABI of an mmapfs mount.
 *
 * Every command takes a fixed-size payload of fixed-width fields, so the
 * kernel copies it without a retry and 32- and 64-bit callers agree.  Every
 * command except MMAPFS_IOC_STATS works on a regular file of the mount;
 * MMAPFS_IOC_STATS works on any file or directory of it, the root included.
 *
 * Errors (errno of ioctl(2)):
 *   ENOTTY  not an mmapfs command (or not on an mmapfs mount)
 *   EINVAL  an argument out of range, by the engine's rules (Python's mmap):
 *           madvise start out of bounds, move out of range, needle too long
 *   EACCES  a change refused by a read-only mapping (access=read), or
 *           MOVE / a destructive madvise through a read-only handle
 *   EINVAL  also madvise advice the daemon does not know (26 to 99, 104 up)
 *   EPERM   madvise advice that would harm the daemon (100 to 103:
 *           HWPOISON, SOFT_OFFLINE, GUARD_INSTALL, GUARD_REMOVE)
 *   EOVERFLOW  madvise start + length overflows
 *   EIO     the backing file was truncated under the mapping
 *
 * C programs may include this header; mmapfsctl(1) is its command-line face.
 */
#ifndef MMFS_MMAPFS_H
#define MMFS_MMAPFS_H

#include <stdint.h>
#include <linux/ioctl.h>

#define MMAPFS_IOC_MAGIC 0xB7

/* The longest needle FIND and RFIND accept. */
#define MMAPFS_NEEDLE_MAX 4096

/* flags bits of the payloads below: take a field's Python default. */
#define MMAPFS_ARG_DEFAULT_LENGTH 0x1 /* madvise: length = to the end */
#define MMAPFS_ARG_DEFAULT_SIZE 0x2   /* flush: size = to the end */

/* madvise(advice, start, length) on the file's mapping. */
struct mmapfs_madvise {
	int32_t advice;  /* an MADV_* value of <sys/mman.h> */
	uint32_t flags;  /* MMAPFS_ARG_DEFAULT_LENGTH */
	int64_t start;   /* 0 <= start < length of the mapping */
	int64_t length;  /* >= 0, clamped to the end of the mapping */
};

/* find / rfind(needle, start, end): Python's rules for the bounds (negative
 * ones count from the end, both clamped to the length).  result is the
 * offset of the match in the file, or -1. */
struct mmapfs_find {
	int64_t start;       /* 0 for Python's default on a fresh map */
	int64_t end;         /* INT64_MAX for Python's default */
	int64_t result;      /* out */
	uint32_t needle_len; /* 0 .. MMAPFS_NEEDLE_MAX */
	uint32_t flags;      /* must be 0 */
	uint8_t needle[MMAPFS_NEEDLE_MAX];
};

/* move(dest, src, count): memmove within the mapping. */
struct mmapfs_move {
	int64_t dest;
	int64_t src;
	int64_t count;
};

/* flush(offset, size): msync of the range; offset must be page aligned. */
struct mmapfs_flush {
	int64_t offset;
	int64_t size;    /* ignored with MMAPFS_ARG_DEFAULT_SIZE */
	uint32_t flags;  /* MMAPFS_ARG_DEFAULT_SIZE */
	uint32_t pad;
};

/* The mapping behind a file. */
struct mmapfs_info {
	uint64_t length;    /* length of the mapping, 0 when unmapped */
	uint64_t file_size; /* size of the file */
	int64_t offset;     /* file offset of the mapping */
	uint32_t access;    /* Python's ACCESS_*: 1 read, 2 write, 3 copy */
	uint32_t flags;     /* mmap(2) flags of the mapping */
	uint32_t prot;      /* mmap(2) protection of the mapping */
	uint32_t page_size;
	uint32_t mapped;    /* 1 if a mapping exists now (empty files have none) */
	uint32_t anonymous; /* 1 if the mapping has no backing file (-o anon) */
};

/* Counters of the whole mount, since it was mounted. */
struct mmapfs_stats {
	uint64_t live_mappings;  /* mappings open now */
	uint64_t bytes_mapped;   /* total length of those mappings */
	uint64_t requests;       /* FUSE requests served */
	uint64_t faults;         /* faults on a mapping survived */
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t maps_created;
	uint64_t maps_released;
};

#define MMAPFS_IOC_MADVISE _IOW(MMAPFS_IOC_MAGIC, 1, struct mmapfs_madvise)
#define MMAPFS_IOC_FIND _IOWR(MMAPFS_IOC_MAGIC, 2, struct mmapfs_find)
#define MMAPFS_IOC_RFIND _IOWR(MMAPFS_IOC_MAGIC, 3, struct mmapfs_find)
#define MMAPFS_IOC_MOVE _IOW(MMAPFS_IOC_MAGIC, 4, struct mmapfs_move)
#define MMAPFS_IOC_FLUSH _IOW(MMAPFS_IOC_MAGIC, 5, struct mmapfs_flush)
#define MMAPFS_IOC_INFO _IOR(MMAPFS_IOC_MAGIC, 6, struct mmapfs_info)
#define MMAPFS_IOC_STATS _IOR(MMAPFS_IOC_MAGIC, 7, struct mmapfs_stats)

#endif /* MMFS_MMAPFS_H */
