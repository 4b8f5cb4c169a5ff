/* readback - a writer reads back its own writes while other processes
 * read the same pages, for t-loop.sh.
 *
 *	readback FILE SECONDS READERS
 *
 * The writer writes 1 MiB at offset 0, each time filled with one 8-byte
 * generation number, and reads the 1 MiB back.  READERS processes fstat
 * the file and read a 4 KiB page of it at random meanwhile: the fstat
 * makes the kernel fetch the attributes, see the new mtime of a write
 * that is still being served and drop the file's cached pages, and the
 * read then asks for one of them again.  Exit status 1 when a read-back
 * did not show what was written, 2 on an error.  Prints how many writes
 * were made and how many read-backs were stale. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIZE (1u << 20)
#define PAGE 4096u

static uint64_t wbuf[SIZE / 8], rbuf[SIZE / 8];

static int reader(const char *path, time_t end, unsigned int seed)
{
	char page[PAGE];
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "readback: open %s: %s\n", path,
			strerror(errno));
		return 2;
	}
	while (time(NULL) < end) {
		seed = seed * 1103515245u + 12345u;
		if (fstat(fd, &st) < 0 ||
		    pread(fd, page, PAGE,
			  (off_t)((seed >> 8) % (SIZE / PAGE)) * PAGE) < 0) {
			fprintf(stderr, "readback: reader: %s\n",
				strerror(errno));
			return 2;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	long writes = 0, stale = 0;
	int fd, i, nr, status, rc = 0;
	uint64_t gen;
	size_t k;
	time_t end;
	pid_t pid;

	if (argc != 4) {
		fprintf(stderr, "usage: readback FILE SECONDS READERS\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_CREAT, 0644);
	if (fd < 0 || pwrite(fd, wbuf, SIZE, 0) != SIZE) {
		fprintf(stderr, "readback: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	end = time(NULL) + atoi(argv[2]);
	nr = atoi(argv[3]);
	for (i = 0; i < nr; i++) {
		pid = fork();
		if (pid < 0) {
			perror("readback: fork");
			return 2;
		}
		if (pid == 0)
			_exit(reader(argv[1], end, (unsigned int)i * 7919u + 1));
	}
	for (gen = 1; time(NULL) < end; gen++) {
		for (k = 0; k < SIZE / 8; k++)
			wbuf[k] = gen;
		if (pwrite(fd, wbuf, SIZE, 0) != SIZE ||
		    pread(fd, rbuf, SIZE, 0) != SIZE) {
			fprintf(stderr, "readback: writer: %s\n",
				strerror(errno));
			rc = 2;
			break;
		}
		writes++;
		if (memcmp(wbuf, rbuf, SIZE) == 0)
			continue;
		for (k = 0; k < SIZE / 8 && rbuf[k] == gen; k++)
			;
		if (stale++ < 3)
			printf("readback: generation %" PRIu64 " read back as "
			       "%" PRIu64 " at offset %zu\n",
			       gen, rbuf[k], k * 8);
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			rc = 2;
	printf("readback: %ld writes, %ld stale read-backs\n", writes, stale);
	return rc ? rc : stale ? 1 : 0;
}
