/* cmdline.c - the daemon's command line: mmapfs's own options, the ones
 * handed on to libfuse and the ones accepted and dropped (an unknown one is
 * an error), each value checked before anything is mounted; and --help and
 * --version.  Nothing here looks at the system or exits, so that
 * tests/fuzz can run it on any input. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

#define MAX_NONOPTS 3

/* Parsed mmapfs options (fuse_opt fills them through the offsets). */
struct config {
	char *access;
	char *cache;
	char *spin;
	int anon;
	int writeback;
	int nonempty;
	int help;
	int version;
	int has_fsname;
	int has_subtype;
	int default_permissions;
	int allow_other;
	int noatime;	/* -o noatime (1), -o atime (0): the last one counts */
	int nodiratime; /* the same of -o nodiratime and -o diratime */
	unsigned int max_read; /* -o max_read=N, which init must repeat */
	char *nonopt[MAX_NONOPTS];
	int nnonopt;
	char *bad;    /* first option nobody knows */
	char *badval; /* first number libfuse would refuse, */
	const struct number_opt *badnum; /* and which option it is */
};

enum {
	KEY_HELP,
	KEY_VERSION,
};

#define CFG_OPT(t, p, v) {t, offsetof(struct config, p), v}

static const struct fuse_opt mmfs_opt_table[] = {
	CFG_OPT("access=%s", access, 0),
	CFG_OPT("cache=%s", cache, 0),
	CFG_OPT("anon", anon, 1),
	CFG_OPT("writeback", writeback, 1),
	CFG_OPT("nonempty", nonempty, 1),
	CFG_OPT("spin=%s", spin, 0),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_END,
};

/*
 * Options handed on to libfuse: those of fuse_parse_cmdline, of the
 * session, and the mount options libfuse 3.14 passes to the kernel.  A
 * trailing '=' means "with a value".
 */
static const char *const kept_opts[] = {
	"-d", "debug", "--debug", "-f", "-s", "clone_fd",
	"max_idle_threads=", "max_threads=",
	"allow_other", "allow_root", "auto_unmount", "default_permissions",
	"fsname=", "subtype=", "max_read=",
	"context=", "fscontext=", "defcontext=", "rootcontext=", "user=",
	"-n", "-r", "ro", "rw", "suid", "nosuid", "dev", "nodev", "exec",
	"noexec", "async", "sync", "dirsync", "atime", "noatime",
	NULL,
};

/* Options accepted and dropped: fstab and mount(8) bookkeeping, and atime
 * flags this libfuse does not pass on (FUSE mounts use relatime), but for
 * [no]diratime, which opt_proc notes (the kernel's own flag would change
 * nothing: the daemon's reads are what move the backing atimes). */
static const char *const dropped_opts[] = {
	"defaults", "auto", "noauto", "user", "nouser", "users", "owner",
	"group", "_netdev", "nofail", "comment=", "x-",
	"relatime", "norelatime", "strictatime", "nostrictatime",
	"lazytime", "nolazytime", "diratime", "nodiratime",
	NULL,
};

/* The numbers handed on to libfuse, checked here so that a bad one is
 * reported as mmapfs reports its own. */
struct number_opt {
	const char *name;
	unsigned long min, max;
};

static const struct number_opt number_opts[] = {
	{"max_read=", 1, 4294967295ul},
	{"max_threads=", 1, 100000},
	{"max_idle_threads=", 0, 100000},
	{NULL, 0, 0},
};

/* The number option arg is, if its value is out of range; else NULL. */
static const struct number_opt *bad_number(const char *arg)
{
	const struct number_opt *o;
	unsigned long v;
	const char *s;
	char *end;

	for (o = number_opts; o->name; o++) {
		if (strncmp(arg, o->name, strlen(o->name)) != 0)
			continue;
		s = arg + strlen(o->name);
		/* the kernel would read max_read=010 as octal */
		if (*s < '0' || *s > '9' || (s[0] == '0' && s[1]))
			return o;
		errno = 0;
		v = strtoul(s, &end, 10);
		return errno || *end || v < o->min || v > o->max ? o : NULL;
	}
	return NULL;
}

static bool opt_in(const char *const *list, const char *arg)
{
	size_t n;

	for (; *list; list++) {
		n = strlen(*list);
		if ((*list)[n - 1] == '=' || strcmp(*list, "x-") == 0) {
			if (strncmp(arg, *list, n) == 0)
				return true;
		} else if (strcmp(arg, *list) == 0) {
			return true;
		}
	}
	return false;
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct config *cfg = data;
	const struct number_opt *bad;

	switch (key) {
	case KEY_HELP:
		cfg->help = 1;
		return 0;
	case KEY_VERSION:
		cfg->version = 1;
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		/* BACKING and MOUNTPOINT are sorted out after parsing, when
		 * it is known whether -o anon was given. */
		if (cfg->nnonopt < MAX_NONOPTS) {
			cfg->nonopt[cfg->nnonopt] = strdup(arg);
			if (!cfg->nonopt[cfg->nnonopt])
				return -1;
		}
		cfg->nnonopt++;
		return 0;
	case FUSE_OPT_KEY_OPT:
		/* libfuse's --debug leaves the daemon in the background,
		 * where its output is lost: make it -d, which implies -f */
		if (strcmp(arg, "--debug") == 0)
			return fuse_opt_add_arg(outargs, "-d");
		if (opt_in(kept_opts, arg)) {
			bad = cfg->badval ? NULL : bad_number(arg);
			if (bad) {
				cfg->badnum = bad;
				cfg->badval = strdup(arg);
				return cfg->badval ? 0 : -1;
			}
			if (strncmp(arg, "fsname=", 7) == 0)
				cfg->has_fsname = 1;
			if (strncmp(arg, "subtype=", 8) == 0)
				cfg->has_subtype = 1;
			if (strcmp(arg, "default_permissions") == 0)
				cfg->default_permissions = 1;
			if (strcmp(arg, "allow_other") == 0)
				cfg->allow_other = 1;
			if (strcmp(arg, "noatime") == 0 ||
			    strcmp(arg, "atime") == 0)
				cfg->noatime = arg[0] == 'n';
			if (strncmp(arg, "max_read=", 9) == 0)
				cfg->max_read = (unsigned int)strtoul(
					arg + 9, NULL, 10);
			return 1;
		}
		if (opt_in(dropped_opts, arg)) {
			if (strcmp(arg, "nodiratime") == 0 ||
			    strcmp(arg, "diratime") == 0)
				cfg->nodiratime = arg[0] == 'n';
			return 0;
		}
		if (!cfg->bad)
			cfg->bad = strdup(arg);
		return 0;
	}
	return 1;
}

void mmfs_usage(const char *prog)
{
	printf("usage: %s [options] BACKING MOUNTPOINT\n"
	       "       %s -o anon [options] MOUNTPOINT\n"
	       "\n"
	       "Serve the tree under BACKING at MOUNTPOINT; every regular file "
	       "is a memory\nmapping of its backing file.\n"
	       "\n", prog, prog);
	fputs("mmapfs options:\n"
	      "    -o access=MODE         write: changes reach BACKING "
	      "(default)\n"
	      "                           read: every change fails with "
	      "EROFS\n"
	      "                           copy: data changes stay in the "
	      "mount, namespace\n"
	      "                           changes fail with EROFS\n"
	      "    -o cache=MODE          auto: keep cached data while the "
	      "backing file is\n"
	      "                           unchanged (default)\n"
	      "                           always: keep cached data, long "
	      "attribute timeouts\n"
	      "                           never: drop cached data at every "
	      "open, no\n"
	      "                           attribute caching\n"
	      "    -o anon                no BACKING: files live in memory "
	      "(tmpfs) and are\n"
	      "                           gone at unmount\n"
	      "    -o writeback           the kernel caches writes and owns "
	      "the file size;\n"
	      "                           changes made to BACKING behind the "
	      "mount are\n"
	      "                           not seen (ioctls write the cache "
	      "back first)\n"
	      "    -o spin=US             poll for the next request up to US "
	      "microseconds\n"
	      "                           before sleeping (default 100, 0 to "
	      "10000)\n"
	      "\n"
	      "Mount options:\n"
	      "    -o default_permissions let the kernel check permissions "
	      "(modes and\n"
	      "                           POSIX ACLs)\n"
	      "    -o nonempty            mount over a directory that is not "
	      "empty, BACKING\n"
	      "                           itself too (its entries are hidden "
	      "until unmount)\n"
	      "    -o ro, -o rw           read-only (access=read implies it) "
	      "or read-write\n"
	      "    -r, -n                 the same as -o ro, and nothing "
	      "(from mount(8))\n"
	      "    -o nosuid, suid, nodev, dev, noexec, exec, sync, async, "
	      "dirsync\n"
	      "                           the usual mount flags\n"
	      "    -o noatime, atime      reads leave the backing files' "
	      "access times alone,\n"
	      "                           or move them as the backing file "
	      "system does\n"
	      "                           (the default)\n"
	      "    -o nodiratime, diratime\n"
	      "                           the same for directories alone\n"
	      "    -o fsname=NAME         source shown in /proc/mounts "
	      "(default: BACKING,\n"
	      "                           or mmapfs-anon)\n"
	      "    -o subtype=TYPE        type shown as fuse.TYPE (default: "
	      "mmapfs)\n"
	      "    -o max_read=N          largest read request in bytes "
	      "(default: 1 MiB less a\n"
	      "                           page, 1044480)\n"
	      "    -o user=NAME, context=CTX, fscontext=CTX, "
	      "defcontext=CTX,\n"
	      "       rootcontext=CTX     passed to the kernel\n"
	      "    -o defaults, auto, noauto, user, nouser, users, owner, "
	      "group, nofail,\n"
	      "       _netdev, comment=TEXT, x-NAME, relatime, norelatime, "
	      "strictatime,\n"
	      "       nostrictatime, lazytime, nolazytime\n"
	      "                           accepted and ignored (fstab)\n"
	      "\n"
	      "FUSE options:\n"
	      "    -h   --help            print this help\n"
	      "    -V   --version         print the versions\n"
	      "    -d   --debug, -o debug print every request (implies -f)\n"
	      "    -f                     stay in the foreground\n"
	      "    -s                     serve every request on one thread "
	      "(not with\n"
	      "                           -o writeback)\n"
	      "    -o clone_fd            accepted, no effect (the threads "
	      "share one descriptor)\n"
	      "    -o max_idle_threads=N  the most idle threads (default: no "
	      "limit)\n"
	      "    -o max_threads=N       the most threads (default: one per "
	      "CPU, 2 to 10;\n"
	      "                           -o writeback needs 2 or more)\n"
	      "    -o allow_other         allow access by all users "
	      "(implies\n"
	      "                           default_permissions)\n"
	      "    -o allow_root          allow access by the mounting user "
	      "and root\n"
	      "    -o auto_unmount        unmount when the daemon exits, even "
	      "if killed\n",
	      stdout);
}

void mmfs_print_version(void)
{
	printf("mmapfs %s\n", PACKAGE_VERSION);
	printf("libfuse %s\n", fuse_pkgversion());
	fflush(stdout);
	fuse_lowlevel_version();
}

static int parse_access(const char *s)
{
	if (!s || strcmp(s, "write") == 0)
		return MMFS_ACCESS_WRITE;
	if (strcmp(s, "read") == 0)
		return MMFS_ACCESS_READ;
	if (strcmp(s, "copy") == 0)
		return MMFS_ACCESS_COPY;
	return -1;
}

static int parse_cache(const char *s)
{
	if (!s || strcmp(s, "auto") == 0)
		return MMFS_CACHE_AUTO;
	if (strcmp(s, "always") == 0)
		return MMFS_CACHE_ALWAYS;
	if (strcmp(s, "never") == 0)
		return MMFS_CACHE_NEVER;
	return -1;
}

static int parse_spin(const char *s, unsigned int *us)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > MMFS_SPIN_MAX)
		return -1;
	*us = (unsigned int)v;
	return 0;
}

static void config_free(struct config *cfg)
{
	int i;

	free(cfg->access);
	free(cfg->cache);
	free(cfg->spin);
	free(cfg->bad);
	free(cfg->badval);
	for (i = 0; i < cfg->nnonopt && i < MAX_NONOPTS; i++)
		free(cfg->nonopt[i]);
}

/*
 * The option step of main, apart so that tests/fuzz can call it: nothing
 * on the system is looked at, nothing exits.  -h and -V end the checks
 * early (cl->help, cl->version).  args keeps what libfuse must see.
 */
int mmfs_parse_cmdline(struct fuse_args *args, struct mmfs_cmdline *cl,
		       char *msg, size_t msglen)
{
	struct config cfg;
	const char *prog;
	int err = -EINVAL;

	memset(cl, 0, sizeof(*cl));
	memset(&cfg, 0, sizeof(cfg));
	if (fuse_opt_parse(args, &cfg, mmfs_opt_table, opt_proc) < 0) {
		snprintf(msg, msglen, "cannot parse the command line");
		goto out;
	}
	prog = args->argc > 0 ? args->argv[0] : "mmapfs";
	cl->help = cfg.help;
	cl->version = !cfg.help && cfg.version;
	if (cl->help || cl->version) {
		err = 0;
		goto out;
	}
	if (cfg.bad) {
		snprintf(msg, msglen, "unknown option '%s' (see %s --help)",
			 cfg.bad, prog);
		goto out;
	}
	if (cfg.badval) {
		size_t n = strlen(cfg.badnum->name);

		snprintf(msg, msglen,
			 "bad value for %.*s: '%s' (expected a "
			 "whole number, %lu to %lu)",
			 (int)(n - 1), cfg.badval, cfg.badval + n,
			 cfg.badnum->min, cfg.badnum->max);
		goto out;
	}
	cl->access = parse_access(cfg.access);
	if (cl->access < 0) {
		snprintf(msg, msglen, "bad value for access: '%s' (expected "
			 "write, read or copy)", cfg.access);
		goto out;
	}
	cl->cache = parse_cache(cfg.cache);
	if (cl->cache < 0) {
		snprintf(msg, msglen, "bad value for cache: '%s' (expected "
			 "auto, always or never)", cfg.cache);
		goto out;
	}
	cl->spin_us = MMFS_SPIN_US;
	if (cfg.spin && parse_spin(cfg.spin, &cl->spin_us) < 0) {
		snprintf(msg, msglen, "bad value for spin: '%s' (expected "
			 "microseconds, 0 to %u)", cfg.spin, MMFS_SPIN_MAX);
		goto out;
	}
	cl->anon = cfg.anon;
	cl->writeback = cfg.writeback;
	cl->nonempty = cfg.nonempty;
	cl->has_fsname = cfg.has_fsname;
	cl->has_subtype = cfg.has_subtype;
	cl->default_permissions = cfg.default_permissions;
	cl->allow_other = cfg.allow_other;
	cl->noatime = cfg.noatime;
	cl->nodiratime = cfg.nodiratime;
	cl->max_read = cfg.max_read;

	/* With -o anon a leading source argument (mount(8) passes one) is
	 * ignored. */
	if (cfg.nnonopt > 2) {
		snprintf(msg, msglen, "too many arguments (see %s --help)",
			 prog);
		goto out;
	}
	if (cfg.anon && cfg.nnonopt < 1) {
		snprintf(msg, msglen, "missing MOUNTPOINT (usage: %s -o anon "
			 "MOUNTPOINT)", prog);
		goto out;
	}
	if (!cfg.anon && cfg.nnonopt < 2) {
		snprintf(msg, msglen, "missing %s (usage: %s [options] "
			 "BACKING MOUNTPOINT)",
			 cfg.nnonopt ? "MOUNTPOINT" : "BACKING and MOUNTPOINT",
			 prog);
		goto out;
	}
	/* The strings move from cfg to cl. */
	cl->mountpoint = cfg.nonopt[cfg.nnonopt - 1];
	cfg.nonopt[cfg.nnonopt - 1] = NULL;
	if (!cfg.anon) {
		cl->backing = cfg.nonopt[0];
		cfg.nonopt[0] = NULL;
	}
	err = 0;
out:
	config_free(&cfg);
	return err;
}

void mmfs_cmdline_free(struct mmfs_cmdline *cl)
{
	free(cl->backing);
	free(cl->mountpoint);
	cl->backing = cl->mountpoint = NULL;
}
