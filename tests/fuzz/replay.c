/* replay.c - a main() for the fuzz harnesses built without libFuzzer (the
 * ordinary build, make check): every file named, or found in a directory
 * named, goes once through LLVMFuzzerTestOneInput.  A broken invariant
 * aborts, so the run fails on the input that broke it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* Optional, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long nfiles;

static int run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* An exact-size copy on the heap: a harness reading past the input
	 * is caught by a sanitizer here as under libFuzzer. */
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			fprintf(stderr, "replay: %s: short read\n", path);
			err = -1;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (err == 0) {
		if (getenv("FUZZ_REPLAY_VERBOSE"))
			fprintf(stderr, "replay: %s\n", path);
		LLVMFuzzerTestOneInput(buf, got);
		nfiles++;
	}
	free(buf);
	return err;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of a directory in name order, so that runs are repeatable. */
static int run_dir(const char *dir)
{
	char **names = NULL, **grown, path[4096];
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *dp = opendir(dir);
	int err = 0;

	if (!dp) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(names, cap * sizeof(*names));
			if (!grown) {
				err = -1;
				break;
			}
			names = grown;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			err = -1;
			break;
		}
		n++;
	}
	closedir(dp);
	if (n == 0 && err == 0) {
		/* a corpus that went missing must not pass unnoticed */
		fprintf(stderr, "replay: %s: no inputs\n", dir);
		err = -1;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (err == 0 && run_file(path) < 0)
			err = -1;
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	struct stat st;
	int i, err = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			err = -1;
		} else if (S_ISDIR(st.st_mode)) {
			err |= run_dir(argv[i]);
		} else {
			err |= run_file(argv[i]);
		}
	}
	printf("%s: %lu inputs replayed\n", argv[0], nfiles);
	return err ? 1 : 0;
}
