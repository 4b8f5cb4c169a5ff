/*
 * ioctl-spray.c - bad ioctls at a mounted mmapfs (t-ioctl-fuzz.sh): every
 * mmapfs command with garbage payloads, our command numbers with the wrong
 * size or direction, and thousands of random numbers with random payloads
 * and pointers, at each PATH (files and directories, the root included).
 * Every answer must be success or one of the errors a caller can expect;
 * anything else, or a hang, fails.  The daemon's survival is the caller's
 * to check.
 *
 * usage: ioctl-spray [-n RANDOM] [-g GARBAGE] [-s SEED] PATH...
 * Exit status 0 when every answer was acceptable, 1 otherwise, 2 on usage.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmapfs.h"

#define BUF_SIZE (32 * 1024) /* > the largest _IOC_SIZE, 16383 */

static const unsigned int ours[] = {
	MMAPFS_IOC_MADVISE, MMAPFS_IOC_FIND, MMAPFS_IOC_RFIND, MMAPFS_IOC_MOVE,
	MMAPFS_IOC_FLUSH,   MMAPFS_IOC_INFO, MMAPFS_IOC_STATS};
#define NOURS (sizeof(ours) / sizeof(ours[0]))

/*
 * Commands the kernel answers itself, or turns into other operations
 * (fallocate, clone, freeze...), before a FUSE file system sees them: not
 * what this test is about, and some would change the file on purpose.
 */
static const unsigned long vfs_cmds[] = {
	FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIONREAD, FIBMAP,
	FIGETBSZ, FIFREEZE, FITHAW, FS_IOC_FIEMAP, FICLONE, FICLONERANGE,
	FIDEDUPERANGE, FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IOC32_GETFLAGS,
	FS_IOC32_SETFLAGS, FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR,
	_IOW('X', 40, char[48]),  /* FS_IOC_RESVSP */
	_IOW('X', 41, char[48]),  /* FS_IOC_UNRESVSP */
	_IOW('X', 42, char[48]),  /* FS_IOC_RESVSP64 */
	_IOW('X', 43, char[48]),  /* FS_IOC_UNRESVSP64 */
	_IOW('X', 57, char[48]),  /* FS_IOC_ZERO_RANGE */
	_IOR(0x15, 0, char[16]),  /* FS_IOC_GETFSUUID */
	_IOR(0x15, 1, char[128]), /* FS_IOC_GETFSSYSFSPATH */
};

static uint64_t rng;
static unsigned long nbad, ncalls;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill(unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)rnd();
	/* often an extreme in the first int64 fields */
	if (rnd() % 2 && n >= 24) {
		static const int64_t ext[] = {0, -1, 1, INT64_MIN, INT64_MAX,
					      4096, 4095, 1 << 20};

		for (int k = 0; k < 3; k++) {
			int64_t v = ext[rnd() % 8];

			memcpy(buf + 8 * k, &v, 8);
		}
	}
}

static bool is_ours(unsigned long cmd)
{
	for (size_t i = 0; i < NOURS; i++)
		if (ours[i] == cmd)
			return true;
	return false;
}

static bool is_vfs(unsigned long cmd)
{
	for (size_t i = 0; i < sizeof(vfs_cmds) / sizeof(vfs_cmds[0]); i++)
		if (vfs_cmds[i] == cmd)
			return true;
	return false;
}

/* One ioctl; ok lists the acceptable errnos (0-terminated). */
static void one(int fd, const char *path, const char *phase, unsigned long cmd,
		void *arg, bool may_succeed, const int *ok)
{
	int rc, err;

	ncalls++;
	errno = 0;
	rc = ioctl(fd, cmd, arg);
	err = errno;
	if (rc >= 0) {
		if (may_succeed)
			return;
		fprintf(stderr, "%s: %s: ioctl %#lx succeeded\n", path, phase,
			cmd);
		nbad++;
		return;
	}
	for (; *ok; ok++)
		if (*ok == err)
			return;
	fprintf(stderr, "%s: %s: ioctl %#lx: unexpected errno %d (%s)\n", path,
		phase, cmd, err, strerror(err));
	nbad++;
}

/* One page read from the daemon itself (O_DIRECT: no page cache). */
static int read_back(const char *path)
{
	static unsigned char page[4096] __attribute__((aligned(4096)));
	int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: reopen: %s\n", path, strerror(errno));
		nbad++;
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	n = pread(fd, page, sizeof(page), 0);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "%s: read after madvise: %s\n", path,
			strerror(errno));
		nbad++;
		return -1;
	}
	return 0;
}

static void spray(const char *path, int fd, bool reg, unsigned long nrandom,
		  unsigned long ngarbage, unsigned char *buf)
{
	/* A regular file: the engine's and the driver's refusals; EACCES
	 * for a change through a read-only handle, EPERM for advice that
	 * would act on the daemon's own memory.  A directory: only STATS. */
	static const int garbage_ok[] = {EINVAL, EOVERFLOW, EACCES, EPERM, 0};
	static const int dir_ok[] = {ENOTTY, 0};
	static const int twisted_ok[] = {ENOTTY, EINVAL, 0};
	static const int random_ok[] = {ENOTTY, EINVAL, EFAULT, ENOSYS, 0};
	unsigned long cmd, i;
	unsigned int dir, nr;
	void *arg;

	for (i = 0; i < ngarbage * NOURS; i++) {
		cmd = ours[i % NOURS];
		fill(buf, _IOC_SIZE(cmd));
		one(fd, path, "garbage payload", cmd, buf,
		    reg || cmd == MMAPFS_IOC_STATS, reg ? garbage_ok : dir_ok);
	}

	/* Every advice value near the kernel's, at a valid start: refused or
	 * harmless.  The read through the page cache that follows would
	 * kill a daemon whose mapping got a guard region or a poisoned
	 * page. */
	for (i = 0; reg && i < 140; i++) {
		static const int advice_ok[] = {EINVAL, EACCES, EPERM, 0};
		struct mmapfs_madvise m = {(int32_t)i - 4, 0, 0, 4096};

		if (i == 139)
			m.advice = INT32_MIN;
		one(fd, path, "advice", MMAPFS_IOC_MADVISE, &m, true,
		    advice_ok);
		if (read_back(path) < 0)
			return;
	}

	/* Our numbers, but with another size or direction. */
	for (dir = 0; dir < 4; dir++) {
		for (nr = 0; nr <= 8; nr++) {
			static const unsigned int sizes[] = {
				0, 1, 7, 8, 23, 24, 25, 31, 32, 33, 40, 63, 64,
				65, 72, 4120, 4127, 4128, 4129, 16383};

			for (size_t k = 0; k < sizeof(sizes) / sizeof(*sizes);
			     k++) {
				cmd = _IOC(dir, MMAPFS_IOC_MAGIC, nr, sizes[k]);
				if (is_ours(cmd))
					continue;
				fill(buf, sizes[k]);
				one(fd, path, "wrong size or direction", cmd,
				    buf, false, twisted_ok);
			}
		}
	}

	/* Random numbers, random payloads, now and then a bad pointer. */
	for (i = 0; i < nrandom; i++) {
		cmd = (unsigned int)rnd();
		if (rnd() % 4 == 0) /* more of them in our magic */
			cmd = (cmd & ~0xff00UL) | (MMAPFS_IOC_MAGIC << 8);
		if (is_ours(cmd) || is_vfs(cmd))
			continue;
		fill(buf, _IOC_SIZE(cmd));
		arg = buf;
		switch (rnd() % 32) {
		case 0:
			arg = NULL;
			break;
		case 1:
			arg = (void *)(uintptr_t)1;
			break;
		case 2:
			arg = (void *)(uintptr_t)-4096;
			break;
		}
		one(fd, path, "random number", cmd, arg, false, random_ok);
	}
}

int main(int argc, char **argv)
{
	unsigned long nrandom = 10000, ngarbage = 200;
	unsigned char *buf;
	struct stat st;
	int opt, fd, i;

	rng = 0x9e3779b97f4a7c15ULL;
	while ((opt = getopt(argc, argv, "n:g:s:")) != -1) {
		switch (opt) {
		case 'n':
			nrandom = strtoul(optarg, NULL, 0);
			break;
		case 'g':
			ngarbage = strtoul(optarg, NULL, 0);
			break;
		case 's':
			rng = strtoull(optarg, NULL, 0) | 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-n RANDOM] [-g GARBAGE] "
				"[-s SEED] PATH...\n", argv[0]);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no PATH\n", argv[0]);
		return 2;
	}
	/* Payloads end at a PROT_NONE page: the kernel reads at most
	 * _IOC_SIZE bytes of them, all inside. */
	buf = mmap(NULL, BUF_SIZE + 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || mprotect(buf + BUF_SIZE, 4096, PROT_NONE)) {
		perror("mmap");
		return 1;
	}
	for (i = optind; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			return 1;
		}
		if (S_ISREG(st.st_mode)) {
			/* through a writable and a read-only handle */
			fd = open(argv[i], O_RDWR | O_CLOEXEC);
			if (fd >= 0) {
				spray(argv[i], fd, true, nrandom / 2, ngarbage,
				      buf);
				close(fd);
			}
			fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		} else {
			fd = open(argv[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
		if (fd < 0) {
			perror(argv[i]);
			return 1;
		}
		spray(argv[i], fd, S_ISREG(st.st_mode),
		      S_ISREG(st.st_mode) ? nrandom - nrandom / 2 : nrandom,
		      ngarbage, buf);
		close(fd);
	}
	printf("ioctl-spray: %lu ioctls, %lu unexpected answers\n", ncalls,
	       nbad);
	return nbad ? 1 : 0;
}
