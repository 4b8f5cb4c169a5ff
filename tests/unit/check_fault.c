/* check_fault.c - fault.c and mmfs_sync_length: a file truncated behind a
 * mapping's back must give -EIO or a short count, never kill the process,
 * while a SIGBUS outside guarded code still does (or reaches the handler
 * that was there before ours).  The chaining cases run in a fresh process
 * (this binary re-executed) so that their handler predates ours. */
#include "unit.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/mman.h>

#define RW (PROT_READ | PROT_WRITE)
#define FAULT_MSG                                                              \
	"mapping access faulted: the backing file is shorter than the mapping"

/* A 4-page file of 'x' mapped whole, then cut to one page + 10 bytes
 * through the test's own descriptor. */
struct cut {
	int fd;
	struct mmfs_map *map;
	unsigned char *data;
	size_t ps;
};

static void cut_setup(struct cut *c)
{
	c->ps = unit_pagesize();
	c->fd = unit_tmpfile_fill('x', 4 * c->ps);
	c->map = NULL;
	ck_assert_ok(mmfs_open(&c->map, c->fd, 0, MAP_SHARED, RW, 0, 0, 0));
	c->data = unit_data(c->map, NULL);
	ck_assert_int_eq(ftruncate(c->fd, (off_t)(c->ps + 10)), 0);
}

static void cut_teardown(struct cut *c)
{
	mmfs_free(c->map);
	close(c->fd);
}

START_TEST(test_guarded_plain_memory)
{
	char src[100], dst[100], buf[8] = "abcdefg";

	memset(src, 'a', sizeof(src));
	memset(dst, 0, sizeof(dst));
	ck_assert_int_eq(mmfs_guarded_copy(dst, src, sizeof(src)), 100);
	ck_assert_mem_eq(dst, src, 100);
	ck_assert_int_eq(mmfs_guarded_copy(dst, src, 0), 0);
	ck_assert_ok(mmfs_guarded_move(buf + 1, buf, 6));
	ck_assert_mem_eq(buf, "aabcdef", 7);
	ck_assert_ok(mmfs_guarded_move(buf, buf, 0));
}
END_TEST

/* The reads: exact to the page, or -EIO when nothing could be read. */
static void reads_body(struct cut *c)
{
	size_t ps = c->ps;
	unsigned char *buf = malloc(4 * ps);
	uint64_t before = mmfs_fault_count();

	memset(buf, '?', 4 * ps);
	/* page 1 holds 10 bytes of file and zeros up to its end */
	ck_assert_int_eq(mmfs_guarded_copy(buf, c->data, 4 * ps),
			 (ssize_t)(2 * ps));
	ck_assert(unit_all(buf, 'x', ps + 10));
	ck_assert(unit_all(buf + ps + 10, 0, ps - 10));
	ck_assert(unit_all(buf + 2 * ps, '?', 2 * ps));
	ck_assert_err(mmfs_guarded_copy(buf, c->data + 3 * ps, 100), -EIO,
		      FAULT_MSG);
	ck_assert_err(mmfs_guarded_copy(buf, c->data + 2 * ps, 1), -EIO,
		      FAULT_MSG);
	ck_assert_int_eq(mmfs_guarded_copy(buf, c->data + 2 * ps - 5, 100), 5);
	ck_assert_uint_ge(mmfs_fault_count() - before, 4);
	free(buf);
}

/* The writes: the mapping is the destination. */
static void writes_body(struct cut *c)
{
	size_t ps = c->ps;
	unsigned char *src = malloc(3 * ps);

	memset(src, 'w', 3 * ps);
	ck_assert_int_eq(mmfs_guarded_copy(c->data + ps, src, 3 * ps),
			 (ssize_t)ps);
	ck_assert(unit_all(c->data + ps, 'w', ps));
	ck_assert_err(mmfs_guarded_copy(c->data + 3 * ps, src, 1), -EIO,
		      FAULT_MSG);
	ck_assert_err(mmfs_guarded_move(c->data, c->data + 3 * ps, 10), -EIO,
		      FAULT_MSG);
	ck_assert_err(mmfs_guarded_move(c->data + 2 * ps, c->data, 10), -EIO,
		      FAULT_MSG);
	ck_assert_ok(mmfs_guarded_move(c->data + 1, c->data + ps, 10));
	ck_assert(unit_all(c->data + 1, 'w', 10));
	ck_assert_uint_eq(c->data[0], 'x');
	free(src);
}

START_TEST(test_truncated_reads)
{
	struct cut c;

	cut_setup(&c);
	reads_body(&c);
	cut_teardown(&c);
}
END_TEST

START_TEST(test_truncated_writes)
{
	struct cut c;

	cut_setup(&c);
	writes_body(&c);
	cut_teardown(&c);
}
END_TEST

struct touch {
	const volatile unsigned char *p;
	int sum;
	struct cut *c;
	int inner;
};

static void touch_byte(void *arg)
{
	struct touch *t = arg;

	t->sum += t->p[0];
}

static void touch_nested(void *arg)
{
	struct touch *t = arg;
	unsigned char b;

	/* an inner guard catches its own fault, the outer one is back */
	t->inner = (int)mmfs_guarded_copy(&b, t->c->data + 3 * t->c->ps, 1);
	t->sum += t->p[0];
}

START_TEST(test_guarded_call)
{
	struct cut c;
	struct touch t = {NULL, 0, &c, 0};

	cut_setup(&c);
	t.p = c.data + 10;
	ck_assert_ok(mmfs_guarded_call(touch_byte, &t));
	ck_assert_int_eq(t.sum, 'x');
	t.p = c.data + 3 * c.ps;
	ck_assert_err(mmfs_guarded_call(touch_byte, &t), -EIO, FAULT_MSG);
	ck_assert_int_eq(t.sum, 'x');
	ck_assert_err(mmfs_guarded_call(touch_nested, &t), -EIO, FAULT_MSG);
	ck_assert_int_eq(t.inner, -EIO);
	t.p = c.data;
	t.inner = 0;
	ck_assert_ok(mmfs_guarded_call(touch_nested, &t));
	ck_assert_int_eq(t.inner, -EIO);
	ck_assert_int_eq(t.sum, 2 * 'x');
	cut_teardown(&c);
}
END_TEST

/* The same bodies in a child: it must exit normally, not by SIGBUS.  The
 * child's assertions report through Check in fork mode; the exit status
 * is what this test checks. */
static void survive_child(void *arg)
{
	struct cut c;
	unsigned char buf[16];

	(void)arg;
	c.ps = unit_pagesize();
	c.fd = unit_tmpfile_fill('x', 4 * c.ps);
	UNIT_CHILD_CHECK(mmfs_open(&c.map, c.fd, 0, MAP_SHARED, RW, 0, 0,
				   0) == 0);
	c.data = c.map->data;
	UNIT_CHILD_CHECK(ftruncate(c.fd, (off_t)(c.ps + 10)) == 0);
	for (int i = 0; i < 100; i++) {
		UNIT_CHILD_CHECK(mmfs_guarded_copy(buf, c.data + 3 * c.ps,
						   sizeof(buf)) == -EIO);
		UNIT_CHILD_CHECK(mmfs_guarded_copy(c.data + 2 * c.ps, buf,
						   sizeof(buf)) == -EIO);
	}
	UNIT_CHILD_CHECK(mmfs_guarded_copy(buf, c.data + c.ps, 16) == 16);
	UNIT_CHILD_CHECK(mmfs_sync_length(c.map) == 0);
	UNIT_CHILD_CHECK(mmfs_len(c.map) == (ssize_t)c.ps + 10);
	mmfs_free(c.map);
	close(c.fd);
}

START_TEST(test_child_survives)
{
	ck_assert_exited_ok(unit_fork(survive_child, NULL));
}
END_TEST

struct fault_thread {
	struct cut *c;
	int bad;
};

static void *fault_loop(void *arg)
{
	struct fault_thread *t = arg;
	unsigned char buf[64];

	for (int i = 0; i < 500; i++) {
		if (mmfs_guarded_copy(buf, t->c->data + 3 * t->c->ps, 64) !=
		    -EIO)
			t->bad++;
		if (mmfs_guarded_copy(buf, t->c->data, 64) != 64)
			t->bad++;
		if (strcmp(mmfs_errmsg(), FAULT_MSG) != 0)
			t->bad++;
	}
	return NULL;
}

/* Each thread has its own recovery point. */
START_TEST(test_faults_in_threads)
{
	struct cut c;
	struct fault_thread t[4];
	pthread_t tid[4];
	uint64_t before;

	cut_setup(&c);
	before = mmfs_fault_count();
	for (int i = 0; i < 4; i++) {
		t[i].c = &c;
		t[i].bad = 0;
		ck_assert_int_eq(pthread_create(&tid[i], NULL, fault_loop,
						&t[i]),
				 0);
	}
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
		ck_assert_int_eq(t[i].bad, 0);
	}
	ck_assert_uint_eq(mmfs_fault_count() - before, 4 * 500);
	cut_teardown(&c);
}
END_TEST

/* ---- mmfs_sync_length ---- */

START_TEST(test_sync_length_shrinks)
{
	struct cut c;
	unsigned char *buf;
	size_t len;

	cut_setup(&c);
	ck_assert_ok(mmfs_sync_length(c.map));
	ck_assert_int_eq(mmfs_len(c.map), (ssize_t)c.ps + 10);
	buf = malloc(4 * c.ps);
	c.data = unit_data(c.map, &len);
	ck_assert_uint_eq(len, c.ps + 10);
	ck_assert_int_eq(mmfs_guarded_copy(buf, c.data, len),
			 (ssize_t)c.ps + 10);
	ck_assert(unit_all(buf, 'x', c.ps + 10));
	free(buf);
	/* consistent now: nothing more to do */
	ck_assert_ok(mmfs_sync_length(c.map));
	ck_assert_int_eq(mmfs_len(c.map), (ssize_t)c.ps + 10);
	/* a file that grew again is not followed */
	ck_assert_int_eq(ftruncate(c.fd, (off_t)(8 * c.ps)), 0);
	ck_assert_ok(mmfs_sync_length(c.map));
	ck_assert_int_eq(mmfs_len(c.map), (ssize_t)c.ps + 10);
	/* nothing left to map */
	ck_assert_int_eq(ftruncate(c.fd, 0), 0);
	ck_assert_err(mmfs_sync_length(c.map), -ENODATA,
		      "the backing file no longer reaches the mapping");
	ck_assert_int_eq(mmfs_len(c.map), (ssize_t)c.ps + 10);
	cut_teardown(&c);
}
END_TEST

START_TEST(test_sync_length_offset_map)
{
	size_t ps = unit_pagesize();
	int fd = unit_tmpfile_fill('o', 3 * ps);
	struct mmfs_map *map = NULL;

	ck_assert_ok(mmfs_open(&map, fd, 0, MAP_SHARED, RW, 0, (int64_t)ps,
			       0));
	ck_assert_int_eq(mmfs_len(map), (ssize_t)(2 * ps));
	ck_assert_int_eq(ftruncate(fd, (off_t)(ps + 1)), 0);
	ck_assert_ok(mmfs_sync_length(map));
	ck_assert_int_eq(mmfs_len(map), 1);
	ck_assert_uint_eq(unit_data(map, NULL)[0], 'o');
	ck_assert_int_eq(ftruncate(fd, (off_t)ps), 0);
	ck_assert_err(mmfs_sync_length(map), -ENODATA,
		      "the backing file no longer reaches the mapping");
	mmfs_free(map);
	close(fd);
}
END_TEST

START_TEST(test_sync_length_other_maps)
{
	int fd = unit_tmpfile_fill('t', 8192);
	struct mmfs_map *anon = NULL, *priv = NULL, *nt = NULL, *pinned = NULL;

	ck_assert_ok(mmfs_open(&anon, -1, 100, MAP_SHARED, RW, 0, 0, 0));
	ck_assert_ok(mmfs_open(&priv, -1, 100, MAP_PRIVATE, RW, 0, 0, 0));
	ck_assert_ok(mmfs_open(&nt, fd, 0, MAP_SHARED, RW, 0, 0,
			       MMFS_OPEN_NOTRACKFD));
	ck_assert_ok(mmfs_open(&pinned, fd, 0, MAP_SHARED, RW, 0, 0, 0));
	ck_assert_ok(mmfs_sync_length(anon));
	ck_assert_ok(mmfs_sync_length(priv));
	ck_assert_int_eq(mmfs_len(anon), 100);
	ck_assert_os_err(mmfs_sync_length(nt), -EBADF);
	/* shrinking would pull pages from under a pin */
	ck_assert_int_eq(ftruncate(fd, 100), 0);
	ck_assert_ok(mmfs_pin(pinned, NULL, NULL));
	ck_assert_err(mmfs_sync_length(pinned), -EBUSY,
		      "mmap can't resize with extant buffers exported.");
	ck_assert_int_eq(mmfs_len(pinned), 8192);
	mmfs_unpin(pinned);
	ck_assert_ok(mmfs_sync_length(pinned));
	ck_assert_int_eq(mmfs_len(pinned), 100);
	mmfs_free(pinned);
	mmfs_free(nt);
	mmfs_free(priv);
	mmfs_free(anon);
	close(fd);
}
END_TEST

/* ---- SIGBUS outside a guard ---- */

static void unguarded_touch(void *arg)
{
	struct cut c;
	volatile unsigned char sink;

	(void)arg;
	c.ps = unit_pagesize();
	c.fd = unit_tmpfile_fill('x', 4 * c.ps);
	UNIT_CHILD_CHECK(mmfs_open(&c.map, c.fd, 0, MAP_SHARED, RW, 0, 0,
				   0) == 0);
	UNIT_CHILD_CHECK(ftruncate(c.fd, 10) == 0);
	sink = c.map->data[3 * c.ps];
	(void)sink;
	_exit(3);
}

static void raise_bus(void *arg)
{
	struct mmfs_map *map = NULL;

	(void)arg;
	UNIT_CHILD_CHECK(mmfs_open(&map, -1, 10, MAP_PRIVATE, RW, 0, 0, 0) ==
			 0);
	raise(SIGBUS);
	_exit(3);
}

START_TEST(test_unguarded_fault_kills)
{
	int status = unit_fork(unguarded_touch, NULL);

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
		      "status %#x", status);
	status = unit_fork(raise_bus, NULL);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
		      "status %#x", status);
}
END_TEST

/*
 * The chaining cases, in a re-executed copy of this binary: a handler of
 * the test's own (or SIG_IGN) is installed first, then the engine's.
 * Exit codes: 42 = the test's handler ran, 0 = survived, 1 = check failed.
 */
static void chain_handler_info(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	_exit(sig == SIGBUS && info->si_code > 0 ? 42 : 43);
}

static void chain_handler_plain(int sig)
{
	_exit(sig == SIGBUS ? 42 : 43);
}

static int chain_tmpfile(size_t len)
{
	char path[] = "/tmp/mmfs-unit-chain-XXXXXX";
	int fd = mkstemp(path);

	UNIT_CHILD_CHECK(fd >= 0);
	UNIT_CHILD_CHECK(unlink(path) == 0);
	UNIT_CHILD_CHECK(ftruncate(fd, (off_t)len) == 0);
	return fd;
}

static int chain_main(const char *mode)
{
	struct sigaction sa;
	struct cut c;
	unsigned char buf[16];
	volatile unsigned char sink;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	if (strcmp(mode, "info") == 0) {
		sa.sa_sigaction = chain_handler_info;
		sa.sa_flags = SA_SIGINFO;
	} else if (strcmp(mode, "plain") == 0) {
		sa.sa_handler = chain_handler_plain;
	} else {
		sa.sa_handler = SIG_IGN;
	}
	UNIT_CHILD_CHECK(sigaction(SIGBUS, &sa, NULL) == 0);
	/* no Check assertions here: this process runs no suite */
	c.ps = unit_pagesize();
	c.fd = chain_tmpfile(4 * c.ps);
	UNIT_CHILD_CHECK(mmfs_open(&c.map, c.fd, 0, MAP_SHARED, RW, 0, 0,
				   0) == 0);
	UNIT_CHILD_CHECK(ftruncate(c.fd, 10) == 0);
	/* ours comes first inside a guard */
	UNIT_CHILD_CHECK(mmfs_guarded_copy(buf, c.map->data + 2 * c.ps, 16) ==
			 -EIO);
	if (strcmp(mode, "ignore-raise") == 0) {
		/* an ignored SIGBUS sent by kill() stays ignored */
		raise(SIGBUS);
		mmfs_free(c.map);
		close(c.fd);
		return 0;
	}
	sink = c.map->data[3 * c.ps];
	(void)sink;
	return 3;
}

static int chain_status(const char *mode)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int status = 0;
	pid_t pid;

	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl(self, self, "--chain", mode, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

START_TEST(test_chain_previous_handler)
{
	int status = chain_status("info");

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 42,
		      "info: status %#x", status);
	status = chain_status("plain");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 42,
		      "plain: status %#x", status);
	/* a real fault kills even a process that ignores SIGBUS */
	status = chain_status("ignore");
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
		      "ignore: status %#x", status);
	status = chain_status("ignore-raise");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "ignore-raise: status %#x", status);
}
END_TEST

static Suite *fault_suite(void)
{
	Suite *s = suite_create("fault");
	TCase *tc;

	tc = tcase_create("guarded");
	tcase_add_test(tc, test_guarded_plain_memory);
	tcase_add_test(tc, test_truncated_reads);
	tcase_add_test(tc, test_truncated_writes);
	tcase_add_test(tc, test_guarded_call);
	tcase_add_test(tc, test_child_survives);
	suite_add_tcase(s, tc);

	tc = tcase_create("sync_length");
	tcase_add_test(tc, test_sync_length_shrinks);
	tcase_add_test(tc, test_sync_length_offset_map);
	tcase_add_test(tc, test_sync_length_other_maps);
	suite_add_tcase(s, tc);

	tc = tcase_create("chaining");
	tcase_add_test(tc, test_unguarded_fault_kills);
	tcase_add_test(tc, test_chain_previous_handler);
	suite_add_tcase(s, tc);

	/* last: forked children after it would inherit glibc's cached thread
	 * stacks, which valgrind lists as possibly lost */
	tc = tcase_create("threads");
	tcase_add_test(tc, test_faults_in_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc == 3 && strcmp(argv[1], "--chain") == 0)
		return chain_main(argv[2]);
	sr = srunner_create(fault_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
