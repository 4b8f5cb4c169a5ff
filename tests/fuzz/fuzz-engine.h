/* fuzz-engine.h - what the two halves of the engine harness share: the
 * state of one run (the map, the model of its bytes, the guards around
 * it), the checks of a call's result, and the calls each half makes into
 * the other.  fuzz-engine.c opens the map, drives the run and checks the
 * state after every call; fuzz-engine-ops.c makes the calls and predicts
 * their results. */
#ifndef MMFS_FUZZ_ENGINE_H
#define MMFS_FUZZ_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "mmfs-int.h"

#define MODEL_MAX (64 * 1024) /* bigger maps are shrunk back at once */

struct fze {
	struct mmfs_map *map;
	int fd;		/* our memfd behind a file map, -1 if anonymous */
	bool closed;
	bool file;	/* fd was given to mmfs_open */
	bool shared;	/* MAP_SHARED: the bytes are the file's */
	bool writable;	/* access is not READ */
	bool resizeable;
	bool resized;
	bool holed;	/* MADV_REMOVE succeeded: the file has a hole */
	unsigned int pins;
	int64_t offset;
	size_t len, pos, page;
	unsigned char *base;	/* the mapping's first byte */
	unsigned char *model;	/* MODEL_MAX bytes */
	unsigned char *file0;	/* the file as it was at open */
	size_t file0_len;
	unsigned char *tail;	/* the rest of the last page, as it was */
	size_t tail_len;
	void *guard[2];
};

static inline size_t page_round(const struct fze *s, size_t n)
{
	return (n + s->page - 1) / s->page * s->page;
}

/* ------------------------------------------------------------------ */
/* Results */

/*
 * The checks return 0 so that an op can end with "return expect_err(...)".
 * A failure: -want exactly, with a message.
 */
static inline int expect_err(long ret, int want, const char *what)
{
	FZ_CHECK(ret == -want, "%s: expected -%d (%s), got %ld", what, want,
		 strerror(want), ret);
	FZ_CHECK(*mmfs_errmsg() != '\0', "%s: -%d without a message", what,
		 want);
	return 0;
}

/* Some failure the system chose: a negative errno with a message. */
static inline int expect_some_err(long ret, const char *what)
{
	FZ_CHECK(ret < 0 && ret > -4096, "%s: expected -errno, got %ld", what,
		 ret);
	FZ_CHECK(*mmfs_errmsg() != '\0', "%s: %ld without a message", what,
		 ret);
	return 0;
}

/* Either, when the system decides (mmap, madvise, mremap...). */
static inline bool ok_or_err(long ret, const char *what)
{
	if (ret >= 0)
		return true;
	expect_some_err(ret, what);
	return false;
}

/* ------------------------------------------------------------------ */
/* fuzz-engine.c: after a call that moved or dropped the map's pages */

/* Unmap the guard pages (the map is going away or moving). */
void fze_guards_drop(struct fze *s);
/* Put PROT_NONE pages either side of the map where they fit. */
void fze_guards_put(struct fze *s);
/* Remember the rest of the last page, which no call may touch. */
void fze_snap_tail(struct fze *s);

/* ------------------------------------------------------------------ */
/* fuzz-engine-ops.c: the calls */

/* The input's op byte modulo FZE_NOPS picks the call: the numbering is
 * what the corpus was found with, so it must not change. */
#define FZE_NOPS 16

extern const char *const fze_op_names[FZE_NOPS];

/* One call with arguments from z: check its result against the model,
 * and update the model (s->model, len, pos, pins, closed...). */
void fze_op(struct fze *s, struct fz *z, unsigned int op);

#endif /* MMFS_FUZZ_ENGINE_H */
