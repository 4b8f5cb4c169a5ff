/* stress.h - the concurrency stress test's shared state: the run's
 * configuration, the model of what every worker wrote (in memory shared by
 * all its processes, so the parent can check every byte at the end), the
 * per-worker watchdog slots, and the helpers the roles share. */
#ifndef MMFS_STRESS_H
#define MMFS_STRESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Workers: processes x threads, at most this many. */
#define ST_MAXW 256

/* shared.dat: one region per worker, written only by its owner (writers
 * with pwrite, mappers through a MAP_SHARED mapping), in 16-byte stamps.
 * A region is page aligned for every page size up to 64 KiB. */
#define ST_BLOCK 16
#define ST_REGION (64 * 1024)
#define ST_RBLOCKS (ST_REGION / ST_BLOCK)

/* Truncaters' own files grow up to this size. */
#define ST_TMAX (192 * 1024)

/* Openers' files: one stamp each. */
#define ST_OSIZE 64
#define ST_MAXOPEN 16384

/* Append records: header, payload, checksum. */
#define ST_REC_HDR 24
#define ST_REC_MAX (64 * 1024)

/* File names in the test directory. */
#define ST_SHARED "shared.dat"
#define ST_LOG "append.log"

enum st_role {
	R_WRITER,
	R_READER,
	R_APPENDER,
	R_MAPPER,
	R_TRUNCATER,
	R_IOCTL,
	R_NAMESPACE,
	R_OPENER,
	R_COUNT
};

/* What a worker is doing, for the watchdog's report. */
enum st_op {
	OP_NONE,
	OP_PREAD,
	OP_PWRITE,
	OP_APPEND,
	OP_FSYNC,
	OP_OPEN,
	OP_CLOSE,
	OP_FTRUNCATE,
	OP_TRUNCATE,
	OP_STAT,
	OP_MMAP,
	OP_MUNMAP,
	OP_MSYNC,
	OP_MAPCOPY,
	OP_FIND,
	OP_RFIND,
	OP_INFO,
	OP_STATS,
	OP_MADVISE,
	OP_FLUSH,
	OP_BADIOCTL,
	OP_CREATE,
	OP_RENAME,
	OP_LINK,
	OP_UNLINK,
	OP_MKDIR,
	OP_RMDIR,
	OP_READDIR,
	OP_COUNT
};

/* One worker, as the watchdog sees it. */
struct st_slot {
	_Atomic int64_t op_start; /* CLOCK_MONOTONIC ns, 0 when between ops */
	_Atomic int op;		  /* enum st_op */
	_Atomic uint64_t ops;	  /* ops done */
	_Atomic uint64_t retries; /* transient views that settled on re-read */
	_Atomic int done;	  /* the worker returned */
};

/* What the run was, stored first in the shared area (and in an expect
 * file, so that a later -V run can check a directory against it). */
struct st_params {
	uint32_t magic;
	uint32_t version;
	uint32_t nprocs;
	uint32_t nthreads;
	uint32_t nopen; /* files per opener */
	uint32_t pad;
	uint64_t seed;
	uint64_t logmax;
};

/*
 * The memory every process of a run shares (MAP_SHARED | MAP_ANONYMOUS,
 * made before fork).  Each model entry is written by one worker only; the
 * parent reads the whole model after every worker process exited.
 */
struct st_shared {
	struct st_params p;
	_Atomic int stop;
	_Atomic int failed;
	_Atomic int log_full;
	struct st_slot slot[ST_MAXW];
	_Atomic uint32_t appended[ST_MAXW]; /* records appended by worker w */
	_Atomic uint32_t tsize[ST_MAXW];    /* truncater w's file size */
	/* then: gens[nw * ST_RBLOCKS], ogens[nw * nopen], tdata[nw * TMAX] */
};

/* Where the variable parts of the shared area live. */
struct st_model {
	struct st_shared *sh;
	size_t total; /* bytes of the whole area */
	/* shared.dat: the generation of each block */
	_Atomic uint32_t *gens;
	/* openers' files: the generation of each */
	_Atomic uint32_t *ogens;
	/* truncaters' files: their bytes */
	unsigned char *tdata;
	unsigned int nw;
};

struct st_cfg {
	const char *dir;
	double duration;
	unsigned int nprocs;
	unsigned int nthreads;
	unsigned int nopen_total; /* files the openers hold, in all */
	uint64_t seed;
	double watchdog; /* longest op allowed, seconds */
	uint64_t logmax;
	bool quiet;
};

/* A worker thread. */
struct st_worker {
	const struct st_cfg *cfg;
	struct st_model *m;
	struct st_slot *slot;
	unsigned int wid;
	unsigned int proc;
	int role;
	uint64_t rng;
	int dirfd;
	int shared_fd; /* the process's shared.dat descriptor (all threads) */
	unsigned char *buf; /* scratch, ST_BUFSZ bytes */
	unsigned char *buf2;
};

#define ST_BUFSZ (1024 * 1024)

/* Expect files and the shared area start with these. */
#define ST_MAGIC 0x6D6D5354u /* "mmST" */
#define ST_VERSION 1

/* stress.c, verify.c */
extern const char *const st_role_names[R_COUNT];
extern const char *const st_op_names[OP_COUNT];
int64_t st_now_ns(void);
int st_fail(struct st_worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void st_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int st_model_layout(struct st_model *m, struct st_shared *sh,
		    const struct st_params *p);
size_t st_area_size(const struct st_params *p);
int st_verify(struct st_model *m, int dirfd, const char *where);
void *st_worker_main(void *arg);

/* roles.c */
int st_role_run(struct st_worker *w);

/* limits.c */
int st_many_files(const char *dir, unsigned int n, double watchdog);
int st_map_limit(const char *dir, unsigned int n, unsigned int pad,
		 pid_t daemon, unsigned int margin, double watchdog);
int st_raise_nofile(uint64_t want);

/* Shared helpers (stress.c). */
static inline uint64_t st_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform enough below n (n > 0). */
static inline uint64_t st_below(uint64_t *s, uint64_t n)
{
	return n ? st_rand(s) % n : 0;
}

static inline void st_op_begin(struct st_worker *w, int op)
{
	atomic_store_explicit(&w->slot->op, op, memory_order_relaxed);
	atomic_store_explicit(&w->slot->op_start, st_now_ns(),
			      memory_order_release);
}

static inline void st_op_end(struct st_worker *w)
{
	atomic_store_explicit(&w->slot->op_start, 0, memory_order_release);
	atomic_fetch_add_explicit(&w->slot->ops, 1, memory_order_relaxed);
}

static inline bool st_stopping(const struct st_worker *w)
{
	return atomic_load_explicit(&w->m->sh->stop, memory_order_relaxed);
}

uint32_t st_hash3(uint32_t a, uint32_t b, uint32_t c);
void st_stamp(unsigned char *out, uint32_t id, uint32_t idx, uint32_t gen);
/* 0 zero block, 1 valid stamp (its gen in *gen), -1 neither. */
int st_stamp_check(const unsigned char *p, uint32_t id, uint32_t idx,
		   uint32_t *gen);
size_t st_record(unsigned char *out, uint32_t id, uint32_t seq, size_t len);
/* > 0 a whole valid record's length; 0 too few bytes to tell; -1 bad. */
long st_record_parse(const unsigned char *p, size_t avail, uint32_t *id,
		     uint32_t *seq);
void st_hexdump(const char *what, const unsigned char *p, size_t n,
		uint64_t off);
ssize_t st_pread_full(int fd, void *buf, size_t n, uint64_t off);
ssize_t st_pwrite_full(int fd, const void *buf, size_t n, uint64_t off);
void st_sleep_us(unsigned int us);

#endif /* MMFS_STRESS_H */
