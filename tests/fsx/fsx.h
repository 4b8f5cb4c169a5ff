/* fsx.h - the fsx-style exerciser's shared state: the in-memory model of
 * one file, the target it is compared with (a file on any filesystem, or
 * the engine driven directly), and the log of recent ops for a report. */
#ifndef MMFS_FSX_H
#define MMFS_FSX_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mmfs_map;
struct mmapfs_info;

enum fsx_op {
	OP_READ,
	OP_WRITE,
	OP_TRUNC,
	OP_OTRUNC,
	OP_MAPREAD,
	OP_MAPWRITE,
	OP_FSYNC,
	OP_FDATASYNC,
	OP_REOPEN,
	OP_DROP,
	OP_FALLOC,
	OP_PUNCH,
	OP_ZERO,
	OP_CFR,
	OP_FIND,
	OP_RFIND,
	OP_MOVE,
	OP_MADVISE,
	OP_FLUSH,
	OP_COUNT
};

/* How many ops a failure report shows. */
#define FSX_RING 50

/* One op as it was applied; a, b, c and sub mean what the op's line in
 * fsx_print_rec says.  skipped: the op had nothing to do (empty file). */
struct fsx_rec {
	uint64_t num;
	int op;
	int sub;
	int64_t a, b, c;
	int64_t size0, size1;
	int64_t result;
	bool skipped;
};

struct fsx_target {
	const char *path;      /* NULL for an anonymous engine map */
	int fd;                /* -1 while closed or anonymous */
	bool engine;           /* drive lib/ directly, no kernel in between */
	bool anon;             /* engine on an anonymous (memfd) map */
	bool mmapfs;           /* the file is on an mmapfs mount */
	bool copy;             /* ... an access=copy one: flush writes nothing */
	struct mmfs_map *map;  /* engine: NULL while the file is empty */
};

struct fsx {
	struct fsx_target t;
	unsigned char *model;  /* maxlen bytes; zero from size on */
	uint64_t size;
	uint64_t maxlen;
	uint64_t maxop;
	unsigned char *buf;    /* scratch, maxlen + maxop + page */
	unsigned char *buf2;   /* scratch, same size */
	size_t pagesize;
	uint64_t seed;
	uint64_t rng;
	uint64_t num;          /* the op being done, from 1 */
	uint64_t nops;
	uint64_t check_every;
	uint64_t progress_every;
	bool quiet;
	bool verbose;
	bool drop_caches;
	bool enabled[OP_COUNT];
	uint64_t done[OP_COUNT];
	struct fsx_rec ring[FSX_RING];
	struct fsx_rec *cur;
	const char *dump_path; /* -M: the model goes there at the end */
	int argc;
	char **argv;
};

/* fsx.c: the random stream, reporting and checks.  fsx_bus_jmp: where a
 * SIGBUS on a mapping fsx touches itself goes (NULL: nowhere, die). */
extern sigjmp_buf *fsx_bus_jmp;
uint64_t fsx_rnd64(struct fsx *f);
uint64_t fsx_rnd(struct fsx *f, uint64_t n);
uint64_t fsx_pick_off(struct fsx *f, uint64_t limit);
uint64_t fsx_pick_len(struct fsx *f, uint64_t max);
void fsx_note(struct fsx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void fsx_fail(struct fsx *f, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
void fsx_mismatch(struct fsx *f, const char *what, uint64_t off,
		  const unsigned char *expect, const unsigned char *got,
		  size_t len) __attribute__((noreturn));
void fsx_check_bytes(struct fsx *f, const char *what, uint64_t off,
		     const unsigned char *got, size_t len);
void fsx_check_size(struct fsx *f);
void fsx_check_all(struct fsx *f);
void fsx_disable(struct fsx *f, int op, const char *why);
const char *fsx_op_name(int op);

/* ops.c: one function per op; each fills f->cur and checks its result. */
void fsx_do_op(struct fsx *f, int op);
void fsx_model_resize(struct fsx *f, uint64_t size);

/* target.c: the same calls on a file or on the engine.  Every call returns
 * 0 or a byte count, or -errno; a broken invariant of the engine fails the
 * run from inside. */
void tgt_init(struct fsx *f);
int tgt_open(struct fsx *f, bool trunc);
void tgt_close(struct fsx *f);
ssize_t tgt_pread(struct fsx *f, void *buf, size_t n, uint64_t off);
ssize_t tgt_pwrite(struct fsx *f, const void *buf, size_t n, uint64_t off);
int tgt_truncate(struct fsx *f, uint64_t size);
int tgt_size(struct fsx *f, uint64_t *sizep);
int tgt_sync(struct fsx *f, bool data_only);
int tgt_map(struct fsx *f, uint64_t off, size_t len, bool writable,
	    unsigned char **pp);
int tgt_unmap(struct fsx *f, bool dirty);
int tgt_find(struct fsx *f, bool rev, const void *needle, size_t nlen,
	     int64_t start, int64_t end, uint32_t flags, int64_t *resultp);
int tgt_move(struct fsx *f, int64_t dest, int64_t src, int64_t count);
int tgt_madvise(struct fsx *f, int advice, uint32_t flags, int64_t start,
		int64_t length);
int tgt_flush(struct fsx *f, int64_t offset, int64_t size, uint32_t flags);
int tgt_info(struct fsx *f, struct mmapfs_info *info);
int tgt_drop(struct fsx *f);

#endif /* MMFS_FSX_H */
