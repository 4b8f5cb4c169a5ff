/* loop.c - the request loop: one thread leads the reading, the others
 * wait their turn or, while clients are many, read beside it.
 *
 * libfuse's multithreaded loop keeps every worker blocked in read(2) on
 * /dev/fuse, and the kernel hands each request to the one that has waited
 * longest: with a client that sends one request at a time, every request
 * wakes a different thread, often on the other CPU.  Here one thread at a
 * time (the leader) reads requests and serves them itself, so a run of
 * requests stays on one warm thread.  A handler about to do something that
 * may wait (an fsync, a read from the disk, a long copy) first calls
 * mmfs_loop_yield(): the leader's role passes to an idle thread (one is
 * started if none waits and max_threads allows), which goes on reading
 * while this one finishes its request and then waits to lead again; not
 * while the client that sent it is the only one of late (sole_client()).
 *
 * A request that waits where no handler expected it (a small write to a
 * backing file system that hangs, say) would hold up the others all the
 * same; a watchdog thread deposes a leader that has been on one request
 * for WATCH_MS, and another thread takes over.  It ticks only while
 * requests come, and sleeps while the mount is idle.
 *
 * After serving a request the leader polls the device for the next one
 * for up to spin_ns before it sleeps, as long as the last request came
 * within that time: a client that sends its next request within
 * microseconds then finds the leader awake.  Waking a sleeping thread
 * costs more than that on these guests.  Not while the last requests came
 * from as many clients as there are CPUs (crowded): the clients then need
 * the CPUs, and the leader has idle threads help it (help()): they read
 * and serve requests beside it, a reader per CPU, so that the clients'
 * requests are served in parallel, as libfuse's loop serves them.
 *
 * Requests are then served side by side, and one reordering matters: a
 * READ of pages that a WRITE read before it is still changing (see
 * note_write()).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/fuse.h>

#include "fs.h"

#define WATCH_MS 10

struct worker;

struct loop {
	struct fuse_session *se;
	pthread_mutex_t lock;
	pthread_cond_t follow; /* idle threads wait here to lead */
	pthread_cond_t gone;   /* the last thread has ended */
	pthread_cond_t watch;  /* the watchdog, when the mount is idle */
	pthread_cond_t wdone;  /* a write in flight was applied */
	sem_t finish;	       /* a thread saw the session end */
	int wake;	       /* eventfd, readable once the loop stops, or -1 */
	struct worker *all;    /* every worker thread */
	struct worker *lw;     /* the leader, if one leads */
	bool stop;
	bool has_watchdog;
	pthread_t watchdog;
	_Atomic uint64_t begun;	   /* requests a leader has begun */
	_Atomic bool watch_parked; /* the watchdog sleeps until woken */
	_Atomic unsigned int writing; /* workers with a write in flight */
	_Atomic unsigned int wwaiters; /* reads waiting for one */
	_Atomic unsigned int nreading; /* workers in a read of the device */
	_Atomic unsigned int helpers; /* threads reading beside the leader */
	unsigned int help_asked;      /* idle threads told to help */
	unsigned int threads, idle, max_threads, max_idle, max_helpers;
	int error;
};

struct worker {
	struct loop *lp;
	struct worker *next, **pprev; /* in lp->all */
	pthread_t tid;
	struct fuse_buf buf;
	_Atomic bool leads; /* changed with lp->lock held */
	_Atomic bool in_request;
	bool spin; /* the last request came within spin_ns */
	/* the WRITE this worker read and is serving: node id (0: none),
	 * and the bytes [wr_off, wr_end) it changes */
	_Atomic uint64_t wr_ino, wr_off, wr_end;
	_Atomic uint64_t rseq; /* odd while in a read of the device */
};

static __thread struct worker *self;
static uint64_t spin_ns;

/*
 * Who sent the last requests.  Polling pays while one client waits on
 * each reply; once the last RECENT requests came from as many clients as
 * the daemon has CPUs, the clients alone keep them busy, and a polling
 * thread holds a CPU that one of them needs to send its next request.
 * Written and read by the leader of the moment; a stale slot only makes
 * one decision wrong.
 */
#define RECENT 8
static _Atomic uint32_t recent_pid[RECENT];
static _Atomic unsigned int recent_at;
static unsigned int ncpus = 1;

/* The sender of the request in buf (n bytes): fuse_in_header's pid, after
 * len, opcode, unique, nodeid, uid and gid.  0 for the kernel's own
 * (FORGET, RELEASE, write-back), which no client waits on. */
#define IN_PID_AT 32
static void note_sender(const void *buf, ssize_t n)
{
	unsigned int at;
	uint32_t pid;

	if (n < IN_PID_AT + (ssize_t)sizeof(pid))
		return;
	memcpy(&pid, (const char *)buf + IN_PID_AT, sizeof(pid));
	if (!pid)
		return;
	at = atomic_fetch_add_explicit(&recent_at, 1, memory_order_relaxed);
	atomic_store_explicit(&recent_pid[at % RECENT], pid,
			      memory_order_relaxed);
}

/* Whether the device is non-blocking: where more than one thread serves,
 * or the reading thread polls (set once, by mmfs_loop_run). */
static bool dev_nb;

/* Did the last requests come from ncpus clients or more? */
static bool crowded(void)
{
	uint32_t seen[RECENT];
	unsigned int i, j, k = 0;

	for (i = 0; i < RECENT && k < ncpus; i++) {
		uint32_t pid = atomic_load_explicit(&recent_pid[i],
						    memory_order_relaxed);

		for (j = 0; j < k && seen[j] != pid; j++)
			;
		if (pid && j == k)
			seen[k++] = pid;
	}
	return k >= ncpus;
}

static void hand_off(struct loop *lp, struct worker *w);

/*
 * A WRITE in write-through mode leaves the pages it changes in the
 * kernel's cache unlocked while it is out, and the kernel may drop them
 * meanwhile (a GETATTR reply shows a new mtime).  A READ of them then
 * goes out after the WRITE; answered before the WRITE is applied, it
 * leaves the old bytes in the cache as the page, where the writer reads
 * them back after its write returned.  A single thread serving in order
 * never does that, but requests are served side by side: after a yield,
 * the watchdog's hand-off, and by helpers.  So a thread that reads a
 * WRITE notes it in its slot before its read is over, and a READ waits
 * for the noted writes that overlap it (mmfs_loop_wait_writes), and first
 * for the reads of the device still going on in other threads, which may
 * hold a WRITE sent before it, not yet noted.  Such a read never blocks:
 * where more than one thread may read, the device is non-blocking and
 * threads wait for requests in poll(2).  No other request needs this: the
 * kernel drops its cache after a truncation, fallocate or copy returns.
 */
static void note_write(struct loop *lp, struct worker *w, const void *buf,
		       ssize_t n)
{
	const struct fuse_in_header *in = buf;
	const struct fuse_write_in *a = (const void *)(in + 1);
	uint64_t off;
	uint32_t size;

	if (n < (ssize_t)(sizeof(*in) + offsetof(struct fuse_write_in,
						  write_flags)) ||
	    in->opcode != FUSE_WRITE)
		return;
	memcpy(&off, (const char *)a + offsetof(struct fuse_write_in, offset),
	       sizeof(off));
	memcpy(&size, (const char *)a + offsetof(struct fuse_write_in, size),
	       sizeof(size));
	atomic_store(&w->wr_off, off);
	atomic_store(&w->wr_end, off + size < off ? UINT64_MAX : off + size);
	atomic_fetch_add(&lp->writing, 1);
	atomic_store(&w->wr_ino, in->nodeid);
}

/* Is w serving a write?  Writes to one file wait for each other in the
 * backing file system (4 clients writing 4 KiB at random: 4% slower
 * served two at a time), so they neither call for help nor keep a helper
 * on. */
static bool serves_write(struct worker *w)
{
	return atomic_load_explicit(&w->wr_ino, memory_order_relaxed) != 0;
}

/* w's request is answered: a write it noted is applied. */
static void done_write(struct loop *lp, struct worker *w)
{
	if (!atomic_load_explicit(&w->wr_ino, memory_order_relaxed))
		return;
	atomic_store(&w->wr_ino, 0);
	atomic_fetch_sub(&lp->writing, 1);
	/* a reader counts itself before it looks (both sides seq_cst) */
	if (atomic_load(&lp->wwaiters)) {
		pthread_mutex_lock(&lp->lock);
		pthread_cond_broadcast(&lp->wdone);
		pthread_mutex_unlock(&lp->lock);
	}
}

/* Does a worker other than self serve a write to ino that overlaps
 * [off, end)?  (lock held) */
static bool write_overlaps(struct loop *lp, uint64_t ino, uint64_t off,
			   uint64_t end)
{
	struct worker *o;

	for (o = lp->all; o; o = o->next)
		if (o != self && atomic_load(&o->wr_ino) == ino &&
		    atomic_load(&o->wr_off) < end &&
		    off < atomic_load(&o->wr_end))
			return true;
	return false;
}

void mmfs_loop_wait_writes(uint64_t ino, uint64_t off, uint64_t size)
{
	struct worker *w = self, *o;
	struct loop *lp;
	uint64_t end = off + size < off ? UINT64_MAX : off + size;

	if (!w || !size)
		return;
	lp = w->lp;
	/* a worker that leaves its read first notes its write (seq_cst) */
	if (!atomic_load(&lp->nreading) && !atomic_load(&lp->writing))
		return;
	pthread_mutex_lock(&lp->lock);
	/* a read of the device that is on ends within a system call; a
	 * worker leaves the list under the lock, so each one stays */
	for (o = lp->all; o; o = o->next) {
		uint64_t seq = atomic_load(&o->rseq);

		while (o != w && (seq & 1) && atomic_load(&o->rseq) == seq)
			sched_yield();
	}
	atomic_fetch_add(&lp->wwaiters, 1);
	while (write_overlaps(lp, ino, off, end)) {
		/* a leader lets another read on while it waits */
		if (atomic_load(&w->leads))
			hand_off(lp, w);
		pthread_cond_wait(&lp->wdone, &lp->lock);
	}
	atomic_fetch_sub(&lp->wwaiters, 1);
	pthread_mutex_unlock(&lp->lock);
}

uint64_t mmfs_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The mark of a read comes off (also when its thread is cancelled in
 * it). */
static void read_over(void *arg)
{
	struct worker *w = arg;

	atomic_fetch_add(&w->rseq, 1);
	atomic_fetch_sub(&w->lp->nreading, 1);
}

/* One read(2) of the device by w, marked as on (rseq odd) until a WRITE
 * it got is noted (see note_write()). */
static ssize_t read_once(struct worker *w, int fd, void *buf, size_t len)
{
	ssize_t n;
	int err;

	atomic_fetch_add(&w->lp->nreading, 1);
	atomic_fetch_add(&w->rseq, 1);
	pthread_cleanup_push(read_over, w);
	n = read(fd, buf, len);
	err = errno;
	note_write(w->lp, w, buf, n);
	pthread_cleanup_pop(1);
	errno = err;
	return n;
}

/*
 * Wait in poll(2) for a request.  At the loop's end the wake eventfd
 * brings a thread out (EINTR) instead of a cancellation there:
 * ThreadSanitizer does not follow a thread cancelled inside poll, and
 * reported the list update in its exit handler as a race.
 */
static int wait_device(struct loop *lp, int fd)
{
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
			      {.fd = lp->wake, .events = POLLIN}};
	int r, old;

	if (lp->wake < 0)
		return poll(p, 1, -1);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	r = poll(p, 2, -1);
	pthread_setcancelstate(old, NULL);
	if (r > 0 && p[1].revents) {
		errno = EINTR;
		return -1;
	}
	return r;
}

/*
 * The session's read of /dev/fuse.  The leader polls for up to spin_ns
 * while requests come quickly, and otherwise waits in poll(2); one thread
 * alone that does not poll waits in a blocking read.  Crowded: no
 * polling, as the clients need the CPUs.  A helper (see help()) waits
 * too, but returns EAGAIN once the clients are fewer.
 */
ssize_t mmfs_loop_read(int fd, void *buf, size_t len)
{
	struct worker *w = self;
	bool leads, spin;
	uint64_t t0;
	ssize_t n;

	if (!w)
		return read(fd, buf, len);
	if (!dev_nb)
		return read_once(w, fd, buf, len);
	leads = atomic_load(&w->leads);
	spin = spin_ns && leads && !crowded();
	t0 = mmfs_now_ns();
	for (;;) {
		n = read_once(w, fd, buf, len);
		if (n >= 0 || errno != EAGAIN)
			break;
		if (spin && w->spin && mmfs_now_ns() - t0 < spin_ns)
			continue;
		if (!leads && !crowded())
			return -1; /* errno is EAGAIN */
		/* EINTR goes back to the loop, which checks for the end */
		if (wait_device(w->lp, fd) < 0)
			return -1;
	}
	w->spin = spin && mmfs_now_ns() - t0 < spin_ns;
	note_sender(buf, n);
	return n;
}

static void *worker_main(void *arg);

/* Start a thread that leaves the signals to the main thread, whose
 * wait they interrupt; 0 or -errno. */
static int start_thread(pthread_t *t, bool detached, void *(*fn)(void *),
			void *arg)
{
	pthread_attr_t attr;
	sigset_t set, old;
	int err;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	err = pthread_attr_init(&attr);
	if (!err) {
		if (detached)
			pthread_attr_setdetachstate(&attr,
						    PTHREAD_CREATE_DETACHED);
		err = pthread_create(t, &attr, fn, arg);
		pthread_attr_destroy(&attr);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -err;
}

/* Start a worker (lock held). */
static int spawn(struct loop *lp)
{
	pthread_t t;
	int err = start_thread(&t, true, worker_main, lp);

	if (!err)
		lp->threads++;
	return err;
}

/* The lead passes from w to an idle thread, or a new one (lock held);
 * if neither can be had, w leads again when it is done. */
/* A thread that could not start: said once a minute at most, as every
 * hand-off tries again (a process at its thread limit would fill the log
 * with it). */
static void spawn_failed(int err)
{
	static _Atomic int64_t next_ns;
	struct timespec now;
	int64_t t, due;

	clock_gettime(CLOCK_MONOTONIC, &now);
	t = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	due = atomic_load(&next_ns);
	if (t >= due &&
	    atomic_compare_exchange_strong(&next_ns, &due, t + 60000000000))
		mmfs_log(FUSE_LOG_WARNING,
			 "cannot start a thread: %s (not logged again for a "
			 "minute)\n",
			 strerror(-err));
}

static void hand_off(struct loop *lp, struct worker *w)
{
	int err = 0;

	atomic_store(&w->leads, false);
	lp->lw = NULL;
	if (lp->idle)
		pthread_cond_signal(&lp->follow);
	else if (lp->threads < lp->max_threads && !lp->stop)
		err = spawn(lp);
	if (err)
		spawn_failed(err);
}

/*
 * Is the request in w->buf from the client that sent all the last ones?
 * A client thread waits for the answer to each request it sends, so
 * while it is the only one, handing the lead on only has the next
 * request wait for a thread to wake: with one client appending 4 KiB and
 * fsyncing, 224 us per fsync at p50 with the hand-off, 197 us without
 * (medians of 7, interleaved).  Should another client come, the watchdog
 * passes the lead on as for any long request.  A READ is never such a
 * request: the kernel's readahead has several out at once for one client.
 */
static bool sole_client(const struct worker *w)
{
	const struct fuse_in_header *in = w->buf.mem;
	unsigned int i;

	if (!in || (w->buf.flags & FUSE_BUF_IS_FD) ||
	    w->buf.size < sizeof(*in) || in->opcode == FUSE_READ || !in->pid)
		return false;
	for (i = 0; i < RECENT; i++)
		if (atomic_load_explicit(&recent_pid[i],
					 memory_order_relaxed) != in->pid)
			return false;
	return true;
}

void mmfs_loop_yield(void)
{
	struct worker *w = self;
	struct loop *lp;

	if (!w || !atomic_load(&w->leads) || w->lp->max_threads < 2 ||
	    sole_client(w))
		return;
	lp = w->lp;
	pthread_mutex_lock(&lp->lock);
	if (atomic_load(&w->leads)) /* not deposed meanwhile */
		hand_off(lp, w);
	pthread_mutex_unlock(&lp->lock);
}

/* Is the leader on a request (lock held)? */
static bool leader_busy(struct loop *lp)
{
	return lp->lw && atomic_load(&lp->lw->in_request);
}

/*
 * The watchdog: every WATCH_MS, a leader still on the request it was on
 * at the previous tick is deposed.  After two ticks without a request it
 * sleeps until a leader finds it so (watch_parked) and wakes it.
 */
static void *watchdog_main(void *arg)
{
	struct loop *lp = arg;
	uint64_t seen = 0, now;
	unsigned int quiet = 0;
	struct timespec ts;
	bool busy;

	pthread_mutex_lock(&lp->lock);
	while (!lp->stop) {
		if (quiet >= 2) {
			/* a request that began before the flag was seen
			 * by its leader shows here (both sides seq_cst) */
			atomic_store(&lp->watch_parked, true);
			if (leader_busy(lp) || atomic_load(&lp->begun) != seen)
				atomic_store(&lp->watch_parked, false);
			while (atomic_load(&lp->watch_parked) && !lp->stop)
				pthread_cond_wait(&lp->watch, &lp->lock);
			quiet = 0;
			seen = atomic_load(&lp->begun);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += WATCH_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!lp->stop &&
		       pthread_cond_timedwait(&lp->watch, &lp->lock, &ts) == 0)
			;
		now = atomic_load(&lp->begun);
		busy = leader_busy(lp);
		if (busy && now == seen)
			hand_off(lp, lp->lw);
		quiet = now == seen && !busy ? quiet + 1 : 0;
		seen = now;
	}
	pthread_mutex_unlock(&lp->lock);
	return NULL;
}

/* A request has come to w: count it, and wake a sleeping watchdog. */
static void begin_request(struct loop *lp, struct worker *w)
{
	atomic_fetch_add(&lp->begun, 1);
	atomic_store(&w->in_request, true);
	if (atomic_load(&lp->watch_parked)) {
		pthread_mutex_lock(&lp->lock);
		atomic_store(&lp->watch_parked, false);
		pthread_cond_signal(&lp->watch);
		pthread_mutex_unlock(&lp->lock);
	}
}

static void end(struct loop *lp, int res);

/* The next request into w->buf, cancellable only while it waits (the
 * session's end cancels the threads in their reads). */
static int receive(struct loop *lp, struct worker *w)
{
	int res;

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	res = fuse_session_receive_buf(lp->se, &w->buf);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	return res;
}

/* Serve the request in w->buf; a write it noted is applied after. */
static void serve(struct loop *lp, struct worker *w)
{
	fuse_session_process_buf(lp->se, &w->buf);
	done_write(lp, w);
}

/*
 * Help: while clients are as many as the CPUs, read and serve requests
 * beside the leader, so that the daemon serves as many at once as they
 * send (4 clients reading 4 KiB at random, medians of 7: 90k requests a
 * second with one thread at a time, 116k in libfuse's loop, where every
 * thread reads).  A helper neither leads nor yields; it stops once the
 * clients are fewer, or after a write.  False when the session ended.
 */
static bool help(struct loop *lp, struct worker *w)
{
	struct fuse_session *se = lp->se;
	bool write;
	int res;

	while (crowded() && !fuse_session_exited(se)) {
		res = receive(lp, w);
		if (res == -EINTR)
			continue;
		if (res == -EAGAIN)
			break;
		if (res <= 0) {
			end(lp, res);
			return false;
		}
		write = serves_write(w);
		serve(lp, w);
		if (write)
			break;
	}
	return true;
}

/* Crowded: have an idle thread, or a new one, help (see help()). */
static void ask_help(struct loop *lp)
{
	int err = 0;

	pthread_mutex_lock(&lp->lock);
	if (atomic_load(&lp->helpers) + lp->help_asked < lp->max_helpers &&
	    !lp->stop) {
		if (lp->idle > lp->help_asked) {
			lp->help_asked++;
			pthread_cond_signal(&lp->follow);
		} else if (lp->threads < lp->max_threads) {
			err = spawn(lp);
			if (!err)
				lp->help_asked++;
		}
	}
	pthread_mutex_unlock(&lp->lock);
	if (err)
		spawn_failed(err);
}

/* Wait for the lead, helping meanwhile when asked; false when the loop
 * ends or this thread is one idle thread too many. */
static bool take_lead(struct loop *lp, struct worker *w)
{
	bool ok;

	pthread_mutex_lock(&lp->lock);
	/* the lead passes on before a request that waits, and the client
	 * that sent it sends nothing more until it is answered: poll only
	 * once requests come quickly again */
	w->spin = false;
	while (lp->lw && !lp->stop) {
		if (lp->help_asked) {
			lp->help_asked--;
			atomic_fetch_add(&lp->helpers, 1);
			pthread_mutex_unlock(&lp->lock);
			ok = help(lp, w);
			pthread_mutex_lock(&lp->lock);
			atomic_fetch_sub(&lp->helpers, 1);
			if (!ok) {
				pthread_mutex_unlock(&lp->lock);
				return false;
			}
			continue;
		}
		if (lp->idle >= lp->max_idle) {
			pthread_mutex_unlock(&lp->lock);
			return false;
		}
		lp->idle++;
		pthread_cond_wait(&lp->follow, &lp->lock);
		lp->idle--;
	}
	ok = !lp->stop;
	if (ok) {
		lp->lw = w;
		atomic_store(&w->leads, true);
	}
	pthread_mutex_unlock(&lp->lock);
	return ok;
}

/* The session is over (res < 0: it failed); wake everyone. */
static void end(struct loop *lp, int res)
{
	pthread_mutex_lock(&lp->lock);
	if (res < 0 && !lp->error)
		lp->error = res;
	lp->stop = true;
	pthread_cond_broadcast(&lp->follow);
	pthread_mutex_unlock(&lp->lock);
	fuse_session_exit(lp->se);
	sem_post(&lp->finish);
}

/* Runs as the thread ends, also when it is cancelled in its read. */
static void worker_exit(void *arg)
{
	struct worker *w = arg;
	struct loop *lp = w->lp;

	free(w->buf.mem);
	w->buf.mem = NULL;
	self = NULL;
	pthread_mutex_lock(&lp->lock);
	if (atomic_load(&w->leads)) {
		lp->lw = NULL;
		pthread_cond_signal(&lp->follow);
	}
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	if (--lp->threads == 0)
		pthread_cond_signal(&lp->gone);
	pthread_mutex_unlock(&lp->lock);
}

static void *worker_main(void *arg)
{
	struct worker w = {.lp = arg};
	struct fuse_session *se = w.lp->se;
	int res;

	self = &w;
	w.tid = pthread_self();
	/* cancelled (when the session ends) only while reading */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_mutex_lock(&w.lp->lock);
	w.next = w.lp->all;
	if (w.next)
		w.next->pprev = &w.next;
	w.pprev = &w.lp->all;
	w.lp->all = &w;
	pthread_mutex_unlock(&w.lp->lock);
	pthread_cleanup_push(worker_exit, &w);
	while (take_lead(w.lp, &w)) {
		while (atomic_load(&w.leads)) {
			if (fuse_session_exited(se)) {
				end(w.lp, 0);
				goto out;
			}
			res = receive(w.lp, &w);
			if (res == -EINTR || res == -EAGAIN)
				continue;
			if (res <= 0) {
				end(w.lp, res);
				goto out;
			}
			begin_request(w.lp, &w);
			if (atomic_load(&w.lp->helpers) < w.lp->max_helpers &&
			    crowded() && !serves_write(&w))
				ask_help(w.lp);
			serve(w.lp, &w);
			atomic_store(&w.in_request, false);
		}
	}
out:
	pthread_cleanup_pop(1);
	return NULL;
}

/* The CPUs this daemon may run on. */
static unsigned int cpus(void)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n < 1)
		n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > RECENT ? RECENT : (unsigned int)n;
}

int mmfs_loop_run(struct fuse_session *se, unsigned int max_threads,
		  unsigned int max_idle, unsigned int spin_us)
{
	struct loop lp = {
		.se = se,
		.max_threads = max_threads ? max_threads : 1,
		.max_idle = max_idle,
		.wake = -1,
	};
	pthread_condattr_t ca;
	struct worker *w;
	int fd = fuse_session_fd(se), fl, err;

	spin_ns = (uint64_t)spin_us * 1000u;
	ncpus = cpus();
	/* helpers and the leader: a reader per CPU */
	lp.max_helpers = lp.max_threads > 1 ? ncpus - 1 : 0;
	dev_nb = spin_ns || lp.max_threads > 1;
	if (dev_nb) {
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			err = -errno;
			mmfs_log(FUSE_LOG_ERR, "cannot make /dev/fuse "
				 "non-blocking: %s\n", strerror(-err));
			return err;
		}
		lp.wake = eventfd(0, EFD_CLOEXEC);
	}
	if (sem_init(&lp.finish, 0, 0) != 0) {
		err = -errno;
		if (lp.wake >= 0)
			close(lp.wake);
		return err;
	}
	pthread_mutex_init(&lp.lock, NULL);
	pthread_cond_init(&lp.follow, NULL);
	pthread_cond_init(&lp.wdone, NULL);
	pthread_cond_init(&lp.gone, NULL);
	/* the watchdog's ticks are on the monotonic clock */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&lp.watch, &ca);
	pthread_condattr_destroy(&ca);

	pthread_mutex_lock(&lp.lock);
	err = spawn(&lp);
	pthread_mutex_unlock(&lp.lock);
	if (err)
		mmfs_log(FUSE_LOG_ERR, "cannot start a thread: %s\n",
			 strerror(-err));
	if (!err && lp.max_threads > 1) {
		lp.has_watchdog = start_thread(&lp.watchdog, false,
					       watchdog_main, &lp) == 0;
		if (!lp.has_watchdog)
			mmfs_log(FUSE_LOG_WARNING, "no watchdog thread: a "
				 "request that hangs holds up the others\n");
		else /* for top -H, gdb and t-loop */
			(void)pthread_setname_np(lp.watchdog,
						 "mmapfs-watchdog");
	}
	/* the threads block the signals; their handlers end the session
	 * and interrupt this wait */
	while (!err && !fuse_session_exited(se))
		sem_wait(&lp.finish);

	/*
	 * Out of their reads: the leader's, and a deposed leader's that
	 * finished its request just as the watchdog gave the lead away;
	 * one waiting in poll is woken (wake) rather than cancelled there.
	 * The others cannot be cancelled until they read again, and they do
	 * not: they see stop first.  A worker leaves the list (under the
	 * lock) before it ends, so each one here is still there.
	 */
	if (lp.wake >= 0)
		(void)eventfd_write(lp.wake, 1);
	pthread_mutex_lock(&lp.lock);
	lp.stop = true;
	pthread_cond_broadcast(&lp.follow);
	pthread_cond_signal(&lp.watch);
	for (w = lp.all; w; w = w->next)
		pthread_cancel(w->tid);
	while (lp.threads)
		pthread_cond_wait(&lp.gone, &lp.lock);
	pthread_mutex_unlock(&lp.lock);
	if (lp.has_watchdog)
		pthread_join(lp.watchdog, NULL);

	pthread_cond_destroy(&lp.watch);
	pthread_cond_destroy(&lp.gone);
	pthread_cond_destroy(&lp.wdone);
	pthread_cond_destroy(&lp.follow);
	pthread_mutex_destroy(&lp.lock);
	sem_destroy(&lp.finish);
	if (lp.wake >= 0)
		close(lp.wake);
	fuse_session_reset(se);
	return err ? err : lp.error;
}
