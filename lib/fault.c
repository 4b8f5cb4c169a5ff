/* fault.c - touching mapped bytes without dying of SIGBUS.
 *
 * A file-backed mapping whose file was truncated by someone else raises
 * SIGBUS on the pages past the new end.  One process-wide handler turns such
 * a fault inside a guarded section into a siglongjmp back to that section,
 * which then reports -EIO (or the bytes done before the fault).  A SIGBUS
 * anywhere else goes to whatever handler was installed before ours, or gets
 * the default action, so the process dies exactly as it would have. */
#include <config.h>

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "mmfs-int.h"

#define MMFS_FAULT_MSG                                                        \
	"mapping access faulted: the backing file is shorter than the mapping"

/* One guarded section: where to jump back to. */
struct mmfs_guard {
	sigjmp_buf env;
};

/*
 * The guard of the calling thread, NULL outside a guarded section.  The
 * handler reads it, so it lives in the static TLS block (initial-exec): no
 * lazy allocation can happen inside the signal handler.  volatile because
 * the handler reads it asynchronously.
 */
static __thread struct mmfs_guard *volatile mmfs_guard_cur
	__attribute__((tls_model("initial-exec")));

static pthread_once_t mmfs_fault_once = PTHREAD_ONCE_INIT;
static struct sigaction mmfs_prev_action;
static uint64_t mmfs_faults;

/* What would have happened to this SIGBUS without us. */
static void mmfs_pass_on(int sig, siginfo_t *info, void *uctx)
{
	const struct sigaction *prev = &mmfs_prev_action;
	/* A fault (si_code > 0) repeats when the handler returns; a signal
	 * sent with kill() or raise() does not. */
	bool fault = info != NULL && info->si_code > 0;
	struct sigaction dfl;

	if (prev->sa_flags & SA_SIGINFO) {
		prev->sa_sigaction(sig, info, uctx);
		return;
	}
	if (prev->sa_handler == SIG_IGN && !fault)
		return;
	if (prev->sa_handler != SIG_IGN && prev->sa_handler != SIG_DFL) {
		prev->sa_handler(sig);
		return;
	}
	/* SIG_DFL, or SIG_IGN for a real fault (the kernel kills a process
	 * that ignores one anyway): restore the default and let it act now.
	 * Raising it here (SIGBUS is not blocked: SA_NODEFER) rather than
	 * returning to re-fault also works under valgrind, which reports a
	 * repeated fault as a SIGSEGV.  Should raise return, the return from
	 * the handler repeats a real fault, which the default action ends. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGBUS, &dfl, NULL);
	raise(sig);
}

static void mmfs_bus_handler(int sig, siginfo_t *info, void *uctx)
{
	struct mmfs_guard *guard = mmfs_guard_cur;

	if (guard != NULL && info != NULL && info->si_code > 0) {
		mmfs_guard_cur = NULL;
		__atomic_fetch_add(&mmfs_faults, 1, __ATOMIC_RELAXED);
		siglongjmp(guard->env, 1);
	}
	mmfs_pass_on(sig, info, uctx);
}

/*
 * Built with ThreadSanitizer, our handler runs from the sanitizer's, which
 * blocks SIGBUS: leaving it by siglongjmp must restore the signal mask, or
 * the next fault kills the process.  That costs a system call per guarded
 * section, in that build only.
 */
#if defined(__SANITIZE_THREAD__)
#define MMFS_GUARD_SAVEMASK 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MMFS_GUARD_SAVEMASK 1
#endif
#endif
#ifndef MMFS_GUARD_SAVEMASK
#define MMFS_GUARD_SAVEMASK 0
#endif

/*
 * SA_NODEFER with an empty sa_mask: the handler runs with the interrupted
 * code's signal mask, so leaving it by siglongjmp needs no mask restore and
 * the guarded sections can use sigsetjmp(env, 0), which costs no system
 * call.  That keeps a guarded copy as cheap as a plain one.
 */
static void mmfs_fault_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = mmfs_bus_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
	sigaction(SIGBUS, &sa, &mmfs_prev_action);
}

void mmfs_fault_init(void)
{
	pthread_once(&mmfs_fault_once, mmfs_fault_install);
}

uint64_t mmfs_fault_count(void)
{
	return __atomic_load_n(&mmfs_faults, __ATOMIC_RELAXED);
}

static void mmfs_guard_enter(struct mmfs_guard *guard)
{
	mmfs_guard_cur = guard;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void mmfs_guard_leave(struct mmfs_guard *prev)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	mmfs_guard_cur = prev;
}

/* The length of the next piece of a copy at dst and src: up to the
 * nearer page boundary of the two, at most left. */
static size_t mmfs_piece(uintptr_t dst, uintptr_t src, size_t left)
{
	size_t page = mmfs_pagesize();
	size_t a = page - (dst & (page - 1)), b = page - (src & (page - 1));
	size_t n = a < b ? a : b;

	return n < left ? n : left;
}

/*
 * Copy in pieces that each lie within one page of either buffer, in
 * ascending order.  A fault then means exactly: every piece before the
 * faulting one is copied, and nothing after it, so a write into a map that
 * meets a page the file system cannot give (ENOSPC) or a truncated tail
 * changes no byte past the count it reports.  One memcpy for the whole
 * range would not: glibc's may store the range's head last (it aligns the
 * destination first), so a fault on the first page left later pages
 * written behind a count of zero.
 */
ssize_t mmfs_guarded_copy(void *dst, const void *src, size_t n)
{
	struct mmfs_guard guard;
	struct mmfs_guard *volatile prev;
	volatile size_t done = 0;
	size_t k;

	mmfs_fault_init();
	prev = mmfs_guard_cur;
	if (sigsetjmp(guard.env, MMFS_GUARD_SAVEMASK) == 0) {
		mmfs_guard_enter(&guard);
		while (done < n) {
			k = mmfs_piece((uintptr_t)dst + done,
				       (uintptr_t)src + done, n - done);
			memcpy((char *)dst + done, (const char *)src + done,
			       k);
			done += k;
		}
	}
	mmfs_guard_leave(prev);
	if (done == 0 && n > 0)
		return mmfs_fail(EIO, MMFS_FAULT_MSG);
	return (ssize_t)done;
}

int mmfs_guarded_move(void *dst, const void *src, size_t n)
{
	struct mmfs_guard guard;
	struct mmfs_guard *volatile prev;

	mmfs_fault_init();
	prev = mmfs_guard_cur;
	if (sigsetjmp(guard.env, MMFS_GUARD_SAVEMASK) != 0) {
		mmfs_guard_leave(prev);
		return mmfs_fail(EIO, MMFS_FAULT_MSG);
	}
	mmfs_guard_enter(&guard);
	memmove(dst, src, n);
	mmfs_guard_leave(prev);
	return 0;
}

int mmfs_guarded_call(void (*fn)(void *arg), void *arg)
{
	struct mmfs_guard guard;
	struct mmfs_guard *volatile prev;

	mmfs_fault_init();
	prev = mmfs_guard_cur;
	if (sigsetjmp(guard.env, MMFS_GUARD_SAVEMASK) != 0) {
		mmfs_guard_leave(prev);
		return mmfs_fail(EIO, MMFS_FAULT_MSG);
	}
	mmfs_guard_enter(&guard);
	fn(arg);
	mmfs_guard_leave(prev);
	return 0;
}
