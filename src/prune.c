/*
 * prune.c - asking the kernel to forget idle files before the daemon's
 * descriptors run out.
 *
 * Every inode the kernel knows of holds one descriptor in the daemon (see
 * struct mmfs_inode), and the kernel forgets an inode only when memory runs
 * short: a client that walks or creates more files than the daemon may
 * have descriptors would otherwise get ENFILE once the limit is reached,
 * whatever it still holds open.  So when a new inode's descriptor comes
 * close to the limit, the daemon names a batch of idle inodes to the
 * kernel (FUSE_NOTIFY_PRUNE, FUSE 7.45).  The kernel drops their dentries
 * where nothing uses them, and the FORGETs that follow close the
 * descriptors.  A file that is open, or a directory some process is in,
 * stays.  A pruned file costs one LOOKUP the next time it is used.
 *
 * Idle is decided by a clock over the inode table: a lookup or open marks
 * an inode used, the hand clears the mark, and an inode found unmarked on
 * the next turn is named.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fs.h"

/* The notification, as the kernel reads it (include/uapi/linux/fuse.h,
 * which libfuse 3.14 predates). */
#define NOTIFY_PRUNE 9
struct notify_header {
	uint32_t len;
	int32_t code;
	uint64_t unique; /* 0: a notification, not a reply */
};
struct notify_prune {
	uint32_t count;
	uint32_t padding;
	uint64_t spare;
};

/* Nodes named in one write; the kernel reads them 512 at a time. */
#define PRUNE_CHUNK 512
/* At most this many named in one pass, and one pass per PRUNE_GAP_NS:
 * the FORGETs take a moment to come back. */
#define PRUNE_MAX 4096
#define PRUNE_GAP_NS (10 * 1000 * 1000ull)

/*
 * Every inode holds a descriptor, so the daemon's descriptor table grows
 * as clients walk or create files.  The kernel grows it by doubling, and
 * while threads share it, each growth first waits for an RCU grace period
 * (expand_fdtable): 5 to 20 ms on these guests, with the CPUs idle, while
 * the lookup that opened the descriptor holds up its client.  A stat of
 * 10,000 new names paid about ten of them.  So the table is grown to hold
 * up to FD_RESERVE descriptors now, while the daemon has one thread, where
 * growing it waits for nothing: at most 512 KiB of kernel memory.
 */
#define FD_RESERVE 65536

static void reserve_fd_table(rlim_t limit)
{
	int top = limit < FD_RESERVE ? (int)limit - 1 : FD_RESERVE - 1;
	int fd = open("/", O_PATH | O_CLOEXEC), high;

	if (fd < 0)
		return;
	high = fcntl(fd, F_DUPFD_CLOEXEC, top);
	if (high >= 0)
		close(high);
	close(fd);
}

void mmfs_prune_init(struct mmfs_fs *fs)
{
	struct rlimit rl;
	rlim_t limit;

	fs->prune_at_fd = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	limit = rl.rlim_cur > INT32_MAX ? INT32_MAX : rl.rlim_cur;
	reserve_fd_table(limit);
	if (limit < 64) /* nothing to spare: leave it to ENFILE */
		return;
	/* Passes start at three quarters of the limit, at most one per
	 * PRUNE_GAP_NS, and at seven eighths come as fast as one finishes;
	 * the last eighth is for handles, directories and the loop's pipes.
	 * A pass names up to half the limit, so that a stream of new files
	 * does not start one at every lookup. */
	fs->prune_at_fd = (int)(limit - limit / 4);
	fs->prune_urgent_fd = (int)(limit - limit / 8);
	fs->prune_batch =
		limit / 2 < PRUNE_MAX ? (size_t)(limit / 2) : PRUNE_MAX;
}

/* Up to one turn of the clock (table_lock held): up to want idle nodes
 * into ids.  The root, open files and a copy mount's private data are
 * never idle, nor is a node looked up since the last pass: one that a
 * reply now being made (a readdirplus) has not yet given the kernel.
 * A whole turn that met no node a later pass could name sets
 * fs->prune_none. */
static size_t clock_sweep(struct mmfs_fs *fs, uint64_t *ids, size_t want)
{
	size_t n = 0, seen, b = fs->prune_hand & (fs->nbuckets - 1);
	struct mmfs_inode *p;
	bool some = false;

	for (seen = 0; n < want && seen < fs->nbuckets; seen++) {
		for (p = fs->buckets[b]; p && n < want; p = p->next) {
			if (p == &fs->root || p->handles || p->keep ||
			    p->nlookup == 0)
				continue;
			some = true;
			if (p->used)
				p->used = false;
			else
				ids[n++] = mmfs_ino_of(fs, p);
		}
		b = (b + 1) & (fs->nbuckets - 1);
	}
	fs->prune_hand = b;
	fs->prune_none = !some;
	return n;
}

/* Name ids to the kernel: false if it does not know the notification. */
static bool send_prune(struct mmfs_fs *fs, const uint64_t *ids, size_t n)
{
	struct notify_header h = {0};
	struct notify_prune np = {0};
	struct iovec iov[3];
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < PRUNE_CHUNK ? n - i : PRUNE_CHUNK;
		np.count = (uint32_t)k;
		h.len = (uint32_t)(sizeof(h) + sizeof(np) + k * sizeof(*ids));
		h.code = NOTIFY_PRUNE;
		iov[0] = (struct iovec){&h, sizeof(h)};
		iov[1] = (struct iovec){&np, sizeof(np)};
		iov[2] = (struct iovec){(void *)(ids + i), k * sizeof(*ids)};
		if (writev(fuse_session_fd(fs->se), iov, 3) < 0) {
			/* EINVAL: an older kernel; ENOENT, ENODEV: the
			 * mount is going, which ends this anyway */
			return errno != EINVAL;
		}
	}
	return true;
}

static bool can_prune(struct mmfs_fs *fs)
{
	return fs->prune_at_fd > 0 && fs->se &&
	       !atomic_load_explicit(&fs->prune_off, memory_order_relaxed);
}

void mmfs_prune(struct mmfs_fs *fs, int fd)
{
	uint64_t now, next;
	uint64_t *ids;
	size_t n;

	if (!can_prune(fs) || (fd >= 0 && fd < fs->prune_at_fd))
		return;
	/* one pass at a time; unless descriptors are short, one per gap */
	now = mmfs_now_ns();
	next = atomic_load(&fs->prune_next_ns);
	if ((fd >= 0 && fd < fs->prune_urgent_fd && now < next) ||
	    !atomic_compare_exchange_strong(&fs->prune_next_ns, &next,
					    now + PRUNE_GAP_NS))
		return;
	ids = malloc(fs->prune_batch * sizeof(*ids));
	if (!ids)
		return;
	/* the sweep and the kernel's eviction take a while: let another
	 * thread read the next requests (the FORGETs among them) */
	mmfs_loop_yield();
	pthread_mutex_lock(&fs->table_lock);
	n = clock_sweep(fs, ids, fs->prune_batch);
	pthread_mutex_unlock(&fs->table_lock);
	if (n > 0 && !send_prune(fs, ids, n)) {
		atomic_store(&fs->prune_off, true);
		mmfs_log(FUSE_LOG_WARNING,
			 "the kernel cannot be asked to forget files "
			 "(FUSE_NOTIFY_PRUNE needs Linux 6.18): past some %d "
			 "files known to it at once, lookups fail with "
			 "ENFILE\n",
			 fs->prune_at_fd);
	}
	free(ids);
}

/* Are descriptors short?  Then readdirplus leaves the entries' inodes
 * for the kernel to look up when it needs them. */
bool mmfs_prune_short(struct mmfs_fs *fs)
{
	bool shrt;

	if (fs->prune_at_fd <= 0)
		return false;
	pthread_mutex_lock(&fs->table_lock);
	shrt = fs->count >= (size_t)fs->prune_at_fd;
	pthread_mutex_unlock(&fs->table_lock);
	return shrt;
}

/*
 * An open(2) for the daemon failed with EMFILE: prune, then wait for the
 * FORGETs to give a descriptor back, 1 ms at a time for up to
 * PRUNE_WAIT_MS.  *tries starts at 0; true: try the open again.  Where
 * every file the kernel knows is open, no FORGET can come: then the open
 * fails at once (a client opening file after file at the limit waited
 * 130 ms for each ENFILE).
 */
#define PRUNE_WAIT_MS 50
bool mmfs_prune_wait(struct mmfs_fs *fs, unsigned int *tries)
{
	const struct timespec ms = {0, 1000 * 1000};
	bool none;

	if (!can_prune(fs) || *tries >= PRUNE_WAIT_MS)
		return false;
	if ((*tries)++ % 10 == 0)
		mmfs_prune(fs, -1);
	pthread_mutex_lock(&fs->table_lock);
	none = fs->prune_none;
	pthread_mutex_unlock(&fs->table_lock);
	if (none)
		return false;
	mmfs_loop_yield(); /* another thread reads the FORGETs */
	nanosleep(&ms, NULL);
	return true;
}
