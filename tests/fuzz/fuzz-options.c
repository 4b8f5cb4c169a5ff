/*
 * fuzz-options.c - the daemon's command line under fuzzing: the input is
 * split at NUL bytes into argv, src/cmdline.c's option step
 * (mmfs_parse_cmdline) parses it, and libfuse then parses what was kept, as
 * main() does before it mounts.  Nothing may exit or crash; a refusal has a
 * message; an acceptance has a valid access and cache mode and the right
 * positional arguments; and no option reaches libfuse unless it is one
 * cmdline.c passes on, whatever the escaping and comma tricks.
 *
 * cmdline.c is compiled into this file, so that its tables are at hand;
 * the session's operations are a stand-in below (nothing here serves).
 */
#include "cmdline.c"

#include <stdarg.h>

#include "fuzz.h"

#define MAX_ARGS 24

const struct fuse_lowlevel_ops mmfs_ops;

static void fz_quiet(enum fuse_log_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
}

/* One element of a -o list as libfuse will see it: "\," is a comma that
 * does not split, "\\" a backslash. */
static void check_kept(const char *opt)
{
	FZ_CHECK(opt_in(kept_opts, opt),
		 "option '%s' reaches libfuse but mmapfs does not pass it on",
		 opt);
	FZ_CHECK(strncmp(opt, "access=", 7) != 0 &&
			 strncmp(opt, "cache=", 6) != 0 &&
			 strncmp(opt, "spin=", 5) != 0 &&
			 strcmp(opt, "anon") != 0,
		 "mmapfs's own option '%s' reaches libfuse", opt);
}

static void check_list(const char *list)
{
	size_t n = strlen(list), k = 0;
	char *one = malloc(n + 1);

	for (size_t i = 0; i <= n; i++) {
		if (list[i] == '\\' && list[i + 1]) {
			one[k++] = list[++i];
		} else if (list[i] == ',' || list[i] == '\0') {
			one[k] = '\0';
			check_kept(one);
			k = 0;
		} else {
			one[k++] = list[i];
		}
	}
	free(one);
}

/* What main() hands libfuse: only options, each one it passes on. */
static void check_args(const struct fuse_args *args)
{
	for (int i = 1; i < args->argc; i++) {
		const char *a = args->argv[i];

		if (strcmp(a, "-o") == 0) {
			FZ_CHECK(i + 1 < args->argc, "-o at the end");
			check_list(args->argv[++i]);
		} else if (strncmp(a, "-o", 2) == 0) {
			check_list(a + 2);
		} else if (strcmp(a, "--") != 0) { /* fuse_opt keeps "--" */
			FZ_CHECK(a[0] == '-', "argument '%s' reaches libfuse",
				 a);
			check_kept(a);
		}
	}
}

/* libfuse's part, as main() runs it, short of mounting. */
static void libfuse_step(struct fuse_args *args, const char *mnt)
{
	struct fuse_cmdline_opts opts;
	struct fuse_session *se;

	memset(&opts, 0, sizeof(opts));
	if (fuse_opt_add_arg(args, mnt) < 0)
		return;
	if (fuse_parse_cmdline(args, &opts) != 0)
		return;
	if (!opts.show_help && !opts.show_version) {
		se = fuse_session_new(args, &mmfs_ops, sizeof(mmfs_ops), NULL);
		if (se)
			fuse_session_destroy(se);
	}
	free(opts.mountpoint);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	char *argv[MAX_ARGS + 2], *buf, msg[512];
	struct mmfs_cmdline cl;
	struct fuse_args args;
	int argc = 1, ret;
	size_t i;

	if (!quiet) {
		fuse_set_log_func(fz_quiet);
		quiet = true;
	}
	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = (char *)"mmapfs";
	for (i = 0; i < size && argc <= MAX_ARGS; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;

	args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
	memset(msg, 0, sizeof(msg));
	ret = mmfs_parse_cmdline(&args, &cl, msg, sizeof(msg));
	if (ret < 0) {
		FZ_CHECK(ret == -EINVAL, "parse returned %d", ret);
		FZ_CHECK(msg[0] != '\0', "refused without a message");
		FZ_CHECK(!cl.backing && !cl.mountpoint,
			 "refused but kept arguments");
	} else {
		FZ_CHECK(ret == 0, "parse returned %d", ret);
		if (!cl.help && !cl.version) {
			FZ_CHECK(cl.access == MMFS_ACCESS_WRITE ||
					 cl.access == MMFS_ACCESS_READ ||
					 cl.access == MMFS_ACCESS_COPY,
				 "access %d", cl.access);
			FZ_CHECK(cl.cache >= MMFS_CACHE_AUTO &&
					 cl.cache <= MMFS_CACHE_NEVER,
				 "cache %d", cl.cache);
			FZ_CHECK(cl.mountpoint != NULL, "no mount point");
			FZ_CHECK((cl.backing == NULL) == cl.anon,
				 "backing %s with anon %d",
				 cl.backing ? cl.backing : "(none)", cl.anon);
			check_args(&args);
			libfuse_step(&args, cl.mountpoint);
		}
	}
	mmfs_cmdline_free(&cl);
	fuse_opt_free_args(&args);
	free(buf);
	return 0;
}
