/* mmapfsctl.c - the command-line face of the ioctl ABI in include/mmapfs.h:
 * one subcommand per ioctl, so a shell script can drive the mapping behind
 * a file of an mmapfs mount.  The tool validates only what it must parse
 * (numbers, names, hex); range rules belong to the daemon, whose errno is
 * printed as it comes, so the tool and a C caller of the ABI see the same
 * behaviour.  Exit status: 0 ok, 1 not found or failed, 2 usage error. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "mmapfs.h"

#define PROG "mmapfsctl"

/* f_type of every FUSE mount (fs/fuse/inode.c); not in <linux/magic.h>. */
#define MMFS_FUSE_SUPER_MAGIC 0x65735546
/* MADV_POPULATE_WRITE (Linux 5.14) and MADV_DONTNEED_LOCKED (5.18),
 * which older headers lack */
#define MMFS_POPULATE_WRITE 23
#define MMFS_DONTNEED_LOCKED 24

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Options a subcommand may take, as bits. */
enum { OPT_HEX = 0x1, OPT_JSON = 0x2 };

struct command {
	const char *name;
	const char *synopsis;
	const char *summary;
	unsigned int options; /* OPT_* the command accepts */
	int (*run)(const struct command *cmd, int argc, char **argv,
		   unsigned int opts);
};

struct advice_name {
	const char *name;
	int value;
};

/* The names Python's mmap module exports, in its order. */
static const struct advice_name advice_names[] = {
	{"normal", MADV_NORMAL},
	{"random", MADV_RANDOM},
	{"sequential", MADV_SEQUENTIAL},
	{"willneed", MADV_WILLNEED},
	{"dontneed", MADV_DONTNEED},
#ifdef MADV_FREE
	{"free", MADV_FREE},
#endif
#ifdef MADV_REMOVE
	{"remove", MADV_REMOVE},
#endif
#ifdef MADV_DONTFORK
	{"dontfork", MADV_DONTFORK},
#endif
#ifdef MADV_DOFORK
	{"dofork", MADV_DOFORK},
#endif
#ifdef MADV_MERGEABLE
	{"mergeable", MADV_MERGEABLE},
#endif
#ifdef MADV_UNMERGEABLE
	{"unmergeable", MADV_UNMERGEABLE},
#endif
#ifdef MADV_HUGEPAGE
	{"hugepage", MADV_HUGEPAGE},
#endif
#ifdef MADV_NOHUGEPAGE
	{"nohugepage", MADV_NOHUGEPAGE},
#endif
#ifdef MADV_DONTDUMP
	{"dontdump", MADV_DONTDUMP},
#endif
#ifdef MADV_DODUMP
	{"dodump", MADV_DODUMP},
#endif
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void usage_hint(void)
{
	fprintf(stderr, "Try '" PROG " --help' for more information.\n");
}

/* A usage error of one subcommand: the message, its synopsis, exit 2. */
static int cmd_usage(const struct command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int cmd_usage(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: " PROG " %s %s\n", cmd->name, cmd->synopsis);
	usage_hint();
	return EXIT_USAGE;
}

/* Decimal or 0x-prefixed hex, optionally signed, the whole string, in range.
 * Base 0 of strtoll is avoided on purpose: it reads "010" as octal 8. */
static int parse_i64(const char *s, int64_t *out)
{
	const char *p = s;
	char *end;
	long long v;
	int base = 10;

	if (*p == '+' || *p == '-')
		p++;
	/* strtoll would skip leading blanks and take a second sign. */
	if (*p < '0' || *p > '9')
		return -EINVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16;
	errno = 0;
	v = strtoll(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno != 0 || end == s || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

/* Parse the numeric argument WHAT of CMD; a usage error when it is bad. */
static int get_i64(const struct command *cmd, const char *what, const char *s,
		   int64_t *out)
{
	int rc = parse_i64(s, out);

	if (rc == -ERANGE)
		return cmd_usage(cmd, "%s '%s' is out of range", what, s);
	if (rc < 0)
		return cmd_usage(cmd,
				 "%s '%s' is not a number (decimal or 0x hex)",
				 what, s);
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Fill the needle of FIND from the command line, as text or hex digits. */
static int get_needle(const struct command *cmd, const char *s, bool hex,
		      struct mmapfs_find *find)
{
	size_t len = strlen(s);
	size_t i;

	if (!hex) {
		if (len > MMAPFS_NEEDLE_MAX)
			return cmd_usage(cmd,
					 "NEEDLE is %zu bytes long; at most "
					 "%d are allowed",
					 len, MMAPFS_NEEDLE_MAX);
		memcpy(find->needle, s, len);
		find->needle_len = (uint32_t)len;
		return 0;
	}
	for (i = 0; i < len; i++)
		if (hex_digit(s[i]) < 0)
			return cmd_usage(cmd,
					 "hex NEEDLE '%s': '%c' is not a hex "
					 "digit",
					 s, s[i]);
	if (len % 2 != 0)
		return cmd_usage(
			cmd, "hex NEEDLE '%s' has an odd number of digits", s);
	if (len / 2 > MMAPFS_NEEDLE_MAX)
		return cmd_usage(cmd,
				 "NEEDLE is %zu bytes long; at most %d are "
				 "allowed",
				 len / 2, MMAPFS_NEEDLE_MAX);
	for (i = 0; i < len / 2; i++)
		find->needle[i] = (uint8_t)(hex_digit(s[2 * i]) << 4 |
					    hex_digit(s[2 * i + 1]));
	find->needle_len = (uint32_t)(len / 2);
	return 0;
}

/* A name of advice_names (any case, MADV_ prefix allowed) or a number. */
static int get_advice(const struct command *cmd, const char *s, int32_t *out)
{
	const char *name = s;
	int64_t v;
	size_t i;

	if (strncasecmp(name, "madv_", 5) == 0)
		name += 5;
	for (i = 0; i < ARRAY_SIZE(advice_names); i++) {
		if (strcasecmp(name, advice_names[i].name) == 0) {
			*out = advice_names[i].value;
			return 0;
		}
	}
	if (parse_i64(s, &v) == 0 && v >= INT32_MIN && v <= INT32_MAX) {
		*out = (int32_t)v;
		return 0;
	}
	return cmd_usage(cmd,
			 "unknown ADVICE '%s' (see '" PROG " --help' for the "
			 "names)",
			 s);
}

/* Open PATH for CMD after checking it lies on a FUSE mount.  With WRITABLE
 * the file is opened read-write when allowed, else read-only with the reason
 * kept in *RO_ERRNO for the error message.  Returns EXIT_OK or EXIT_FAIL
 * (message printed). */
static int open_target(const struct command *cmd, const char *path,
		       bool writable, bool any_type, int *fd_out, int *ro_errno)
{
	struct statfs sfs;
	struct stat st;
	int fd;

	*ro_errno = 0;
	if (stat(path, &st) < 0 || statfs(path, &sfs) < 0) {
		fprintf(stderr, PROG ": %s: %s: %s\n", cmd->name, path,
			strerror(errno));
		return EXIT_FAIL;
	}
	if (sfs.f_type != MMFS_FUSE_SUPER_MAGIC) {
		fprintf(stderr, PROG ": %s: %s: not on an mmapfs mount\n",
			cmd->name, path);
		return EXIT_FAIL;
	}
	if (!S_ISREG(st.st_mode) && !(any_type && S_ISDIR(st.st_mode))) {
		/* Opening a FIFO or a device could block or act on it. */
		fprintf(stderr, PROG ": %s: %s: %s\n", cmd->name, path,
			S_ISDIR(st.st_mode) ? strerror(EISDIR)
					    : "not a regular file");
		return EXIT_FAIL;
	}
	fd = -1;
	if (writable) {
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 && errno != EACCES && errno != EROFS &&
		    errno != EPERM)
			goto fail;
		if (fd < 0)
			*ro_errno = errno;
	}
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		goto fail;
	*fd_out = fd;
	return EXIT_OK;

fail:
	fprintf(stderr, PROG ": %s: %s: %s\n", cmd->name, path,
		strerror(errno));
	return EXIT_FAIL;
}

/* Print why the ioctl of CMD on PATH failed with ERR; returns EXIT_FAIL. */
static int ioctl_failed(const struct command *cmd, const char *path, int err,
			int ro_errno)
{
	/* ENOTTY: a FUSE file system that does not know our commands. */
	if (err == ENOTTY)
		fprintf(stderr, PROG ": %s: %s: not on an mmapfs mount\n",
			cmd->name, path);
	else if (ro_errno != 0 && (err == EACCES || err == EROFS ||
				   err == EPERM || err == EBADF))
		fprintf(stderr,
			PROG ": %s: %s: %s (opened read-only: "
			     "read-write open refused: %s)\n",
			cmd->name, path, strerror(err), strerror(ro_errno));
	else
		fprintf(stderr, PROG ": %s: %s: %s\n", cmd->name, path,
			strerror(err));
	return EXIT_FAIL;
}

/* Open PATH, issue REQUEST with ARG, close.  EXIT_OK or EXIT_FAIL. */
static int do_ioctl(const struct command *cmd, const char *path, bool writable,
		    bool any_type, unsigned long request, void *arg)
{
	int fd, ro_errno, rc, err;

	rc = open_target(cmd, path, writable, any_type, &fd, &ro_errno);
	if (rc != EXIT_OK)
		return rc;
	rc = ioctl(fd, request, arg);
	err = errno;
	close(fd);
	if (rc < 0)
		return ioctl_failed(cmd, path, err, ro_errno);
	return EXIT_OK;
}

static int run_find(const struct command *cmd, int argc, char **argv,
		    unsigned int opts)
{
	struct mmapfs_find find;
	unsigned long request;
	int rc;

	if (argc < 2)
		return cmd_usage(cmd, "missing %s",
				 argc < 1 ? "FILE" : "NEEDLE");
	if (argc > 4)
		return cmd_usage(cmd, "too many arguments");
	memset(&find, 0, sizeof(find));
	find.start = 0;
	find.end = INT64_MAX;
	rc = get_needle(cmd, argv[1], opts & OPT_HEX, &find);
	if (rc == 0 && argc > 2)
		rc = get_i64(cmd, "START", argv[2], &find.start);
	if (rc == 0 && argc > 3)
		rc = get_i64(cmd, "END", argv[3], &find.end);
	if (rc != 0)
		return rc;
	request = strcmp(cmd->name, "rfind") == 0 ? MMAPFS_IOC_RFIND
						  : MMAPFS_IOC_FIND;
	rc = do_ioctl(cmd, argv[0], false, false, request, &find);
	if (rc != EXIT_OK)
		return rc;
	if (find.result < 0)
		return EXIT_FAIL; /* absent: silent, like grep */
	printf("%" PRId64 "\n", find.result);
	return EXIT_OK;
}

static int run_madvise(const struct command *cmd, int argc, char **argv,
		       unsigned int opts)
{
	struct mmapfs_madvise adv;
	bool writable;
	int rc;

	(void)opts;
	if (argc < 2)
		return cmd_usage(cmd, "missing %s",
				 argc < 1 ? "FILE" : "ADVICE");
	if (argc > 4)
		return cmd_usage(cmd, "too many arguments");
	memset(&adv, 0, sizeof(adv));
	adv.flags = MMAPFS_ARG_DEFAULT_LENGTH;
	rc = get_advice(cmd, argv[1], &adv.advice);
	if (rc == 0 && argc > 2)
		rc = get_i64(cmd, "START", argv[2], &adv.start);
	if (rc == 0 && argc > 3) {
		rc = get_i64(cmd, "LENGTH", argv[3], &adv.length);
		adv.flags = 0;
	}
	if (rc != 0)
		return rc;
	/* The daemon refuses advice that may change the bytes through a
	 * read-only handle (EACCES): open read-write where allowed. */
	writable = adv.advice == MADV_REMOVE || adv.advice == MADV_DONTNEED ||
		   adv.advice == MMFS_DONTNEED_LOCKED ||
		   adv.advice == MADV_FREE || adv.advice == MMFS_POPULATE_WRITE;
	return do_ioctl(cmd, argv[0], writable, false, MMAPFS_IOC_MADVISE,
			&adv);
}

static int run_move(const struct command *cmd, int argc, char **argv,
		    unsigned int opts)
{
	static const char *const names[] = {"FILE", "DEST", "SRC", "COUNT"};
	struct mmapfs_move mv;
	int rc;

	(void)opts;
	if (argc < 4)
		return cmd_usage(cmd, "missing %s", names[argc]);
	if (argc > 4)
		return cmd_usage(cmd, "too many arguments");
	memset(&mv, 0, sizeof(mv));
	rc = get_i64(cmd, "DEST", argv[1], &mv.dest);
	if (rc == 0)
		rc = get_i64(cmd, "SRC", argv[2], &mv.src);
	if (rc == 0)
		rc = get_i64(cmd, "COUNT", argv[3], &mv.count);
	if (rc != 0)
		return rc;
	return do_ioctl(cmd, argv[0], true, false, MMAPFS_IOC_MOVE, &mv);
}

static int run_flush(const struct command *cmd, int argc, char **argv,
		     unsigned int opts)
{
	struct mmapfs_flush fl;
	int rc = 0;

	(void)opts;
	if (argc < 1)
		return cmd_usage(cmd, "missing FILE");
	if (argc > 3)
		return cmd_usage(cmd, "too many arguments");
	memset(&fl, 0, sizeof(fl));
	fl.flags = MMAPFS_ARG_DEFAULT_SIZE;
	if (argc > 1)
		rc = get_i64(cmd, "OFFSET", argv[1], &fl.offset);
	if (rc == 0 && argc > 2) {
		rc = get_i64(cmd, "SIZE", argv[2], &fl.size);
		fl.flags = 0;
	}
	if (rc != 0)
		return rc;
	return do_ioctl(cmd, argv[0], true, false, MMAPFS_IOC_FLUSH, &fl);
}

static const char *access_name(uint32_t access)
{
	switch (access) {
	case 0:
		return "default";
	case 1:
		return "read";
	case 2:
		return "write";
	case 3:
		return "copy";
	}
	return "unknown";
}

struct bit_name {
	uint32_t bit;
	const char *name;
};

/* BITS as NAME|NAME|0xREST, or ZERO when no bit is set. */
static void print_bits(uint32_t bits, const struct bit_name *names,
		       size_t count, const char *zero)
{
	const char *sep = "";
	size_t i;

	if (bits == 0) {
		fputs(zero, stdout);
		return;
	}
	for (i = 0; i < count; i++) {
		if ((bits & names[i].bit) == names[i].bit) {
			printf("%s%s", sep, names[i].name);
			bits &= ~names[i].bit;
			sep = "|";
		}
	}
	if (bits != 0)
		printf("%s0x%" PRIx32, sep, bits);
}

static void print_map_flags(uint32_t flags)
{
	/* The mapping type is a 4-bit field, not a set of bits. */
	static const struct bit_name types[] = {
		{MAP_SHARED, "MAP_SHARED"},
		{MAP_PRIVATE, "MAP_PRIVATE"},
#ifdef MAP_SHARED_VALIDATE
		{MAP_SHARED_VALIDATE, "MAP_SHARED_VALIDATE"},
#endif
	};
	static const struct bit_name bits[] = {
		{MAP_FIXED, "MAP_FIXED"},
		{MAP_ANONYMOUS, "MAP_ANONYMOUS"},
		{MAP_NORESERVE, "MAP_NORESERVE"},
		{MAP_POPULATE, "MAP_POPULATE"},
		{MAP_HUGETLB, "MAP_HUGETLB"},
	};
	uint32_t type = flags & 0xf;
	const char *sep = "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		if (type == types[i].bit) {
			fputs(types[i].name, stdout);
			flags &= ~0xfu;
			sep = "|";
			break;
		}
	}
	if (flags != 0 || *sep == '\0') {
		fputs(sep, stdout);
		print_bits(flags, bits, ARRAY_SIZE(bits), "0");
	}
}

static void print_prot(uint32_t prot)
{
	static const struct bit_name bits[] = {
		{PROT_READ, "PROT_READ"},
		{PROT_WRITE, "PROT_WRITE"},
		{PROT_EXEC, "PROT_EXEC"},
	};

	print_bits(prot, bits, ARRAY_SIZE(bits), "PROT_NONE");
}

static int run_info(const struct command *cmd, int argc, char **argv,
		    unsigned int opts)
{
	struct mmapfs_info info;
	int rc;

	if (argc < 1)
		return cmd_usage(cmd, "missing FILE");
	if (argc > 1)
		return cmd_usage(cmd, "too many arguments");
	memset(&info, 0, sizeof(info));
	rc = do_ioctl(cmd, argv[0], false, false, MMAPFS_IOC_INFO, &info);
	if (rc != EXIT_OK)
		return rc;
	if (opts & OPT_JSON) {
		printf("{\"length\": %" PRIu64 ", \"file_size\": %" PRIu64
		       ", \"offset\": %" PRId64 ", \"access\": \"%s\""
		       ", \"flags\": %" PRIu32 ", \"prot\": %" PRIu32
		       ", \"page_size\": %" PRIu32 ", \"mapped\": %s"
		       ", \"anonymous\": %s}\n",
		       info.length, info.file_size, info.offset,
		       access_name(info.access), info.flags, info.prot,
		       info.page_size, info.mapped ? "true" : "false",
		       info.anonymous ? "true" : "false");
		return EXIT_OK;
	}
	printf("length: %" PRIu64 "\n", info.length);
	printf("file_size: %" PRIu64 "\n", info.file_size);
	printf("offset: %" PRId64 "\n", info.offset);
	printf("access: %s\n", access_name(info.access));
	fputs("flags: ", stdout);
	print_map_flags(info.flags);
	fputs("\nprot: ", stdout);
	print_prot(info.prot);
	printf("\npage_size: %" PRIu32 "\n", info.page_size);
	printf("mapped: %s\n", info.mapped ? "yes" : "no");
	printf("anonymous: %s\n", info.anonymous ? "yes" : "no");
	return EXIT_OK;
}

static int run_stats(const struct command *cmd, int argc, char **argv,
		     unsigned int opts)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
		{"live_mappings", offsetof(struct mmapfs_stats, live_mappings)},
		{"bytes_mapped", offsetof(struct mmapfs_stats, bytes_mapped)},
		{"requests", offsetof(struct mmapfs_stats, requests)},
		{"faults", offsetof(struct mmapfs_stats, faults)},
		{"bytes_read", offsetof(struct mmapfs_stats, bytes_read)},
		{"bytes_written", offsetof(struct mmapfs_stats, bytes_written)},
		{"maps_created", offsetof(struct mmapfs_stats, maps_created)},
		{"maps_released", offsetof(struct mmapfs_stats, maps_released)},
	};
	struct mmapfs_stats st;
	uint64_t value;
	size_t i;
	int rc;

	if (argc < 1)
		return cmd_usage(cmd, "missing MOUNTPOINT");
	if (argc > 1)
		return cmd_usage(cmd, "too many arguments");
	memset(&st, 0, sizeof(st));
	rc = do_ioctl(cmd, argv[0], false, true, MMAPFS_IOC_STATS, &st);
	if (rc != EXIT_OK)
		return rc;
	if (opts & OPT_JSON)
		putchar('{');
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		memcpy(&value, (const char *)&st + fields[i].offset,
		       sizeof(value));
		if (opts & OPT_JSON)
			printf("%s\"%s\": %" PRIu64, i ? ", " : "",
			       fields[i].name, value);
		else
			printf("%s: %" PRIu64 "\n", fields[i].name, value);
	}
	if (opts & OPT_JSON)
		puts("}");
	return EXIT_OK;
}

/* The order of --help and of the COMMANDS section of mmapfsctl(1). */
static const struct command commands[] = {
	{"find", "[-x] FILE NEEDLE [START [END]]",
	 "print the lowest offset of NEEDLE in [START, END)", OPT_HEX,
	 run_find},
	{"rfind", "[-x] FILE NEEDLE [START [END]]",
	 "print the highest offset of NEEDLE in [START, END)", OPT_HEX,
	 run_find},
	{"madvise", "FILE ADVICE [START [LENGTH]]",
	 "advise the kernel about a range of the mapping", 0, run_madvise},
	{"move", "FILE DEST SRC COUNT",
	 "copy COUNT bytes from SRC to DEST (overlap-safe)", 0, run_move},
	{"flush", "FILE [OFFSET [SIZE]]",
	 "write a range of the mapping back to the backing file", 0, run_flush},
	{"info", "[--json] FILE", "show the mapping behind FILE", OPT_JSON,
	 run_info},
	{"stats", "[--json] MOUNTPOINT", "show the counters of the mount",
	 OPT_JSON, run_stats},
	{NULL, NULL, NULL, 0, NULL},
};

static void print_help(void)
{
	const struct command *cmd;
	size_t i;

	printf("Usage: " PROG " [-h|--help] [-V|--version] COMMAND [ARGS]\n"
	       "Drive the memory mapping behind a file of an mmapfs mount;\n"
	       "each COMMAND issues one ioctl (see mmapfsctl(1)).\n"
	       "\nCommands:\n");
	for (cmd = commands; cmd->name != NULL; cmd++)
		printf("  %s %s\n      %s\n", cmd->name, cmd->synopsis,
		       cmd->summary);
	printf("\nOptions (before FILE):\n"
	       "  -x, --hex      find, rfind: NEEDLE is hex digits, two per "
	       "byte (00ff10)\n"
	       "  -j, --json     info, stats: print one JSON object\n"
	       "  -h, --help     show this help (or a command's synopsis) "
	       "and exit\n"
	       "  -V, --version  show the version and exit\n"
	       "\nNumbers are decimal or 0x hex.  START and END of find and "
	       "rfind may be\nnegative and count from the end, as in Python's "
	       "mmap.find; START defaults\nto 0 and END to the end.  LENGTH "
	       "and SIZE default to the end.\n"
	       "\nADVICE is a number or one of:");
	for (i = 0; i < ARRAY_SIZE(advice_names); i++)
		printf("%s%s", i % 8 == 0 ? "\n  " : " ", advice_names[i].name);
	printf("\n\nExit status: 0 success, 1 needle absent or operation "
	       "failed, 2 usage error.\n");
}

/* Options of one subcommand: only those in its table entry are accepted. */
static int parse_cmd_options(const struct command *cmd, int argc, char **argv,
			     unsigned int *opts, int *first_arg)
{
	static const struct option longopts[] = {
		{"hex", no_argument, NULL, 'x'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	/* Stop at FILE, so "-100" later is a number, not an option; info
	 * and stats take no numbers, so "info FILE --json" works too. */
	const char *optstring = cmd->options & OPT_JSON ? "jh" : "+xh";
	int c;

	*opts = 0;
	optind = 0; /* glibc: start afresh at argv[1] */
	opterr = 0;
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("Usage: " PROG " %s %s\n  %s\n", cmd->name,
			       cmd->synopsis, cmd->summary);
			return -1;
		case 'x':
			if (!(cmd->options & OPT_HEX))
				goto unknown;
			*opts |= OPT_HEX;
			break;
		case 'j':
			if (!(cmd->options & OPT_JSON))
				goto unknown;
			*opts |= OPT_JSON;
			break;
		default:
			goto unknown;
		}
	}
	*first_arg = optind;
	return 0;

unknown:
	/* A long option of another command comes back as its letter. */
	if (c == '?' && optopt != 0)
		return cmd_usage(cmd, "unknown option '-%c'", optopt);
	return cmd_usage(cmd, "unknown option '%s'", argv[optind - 1]);
}

/* rc, unless what went to stdout could not be written (a full disk, a
 * closed pipe): then a message and EXIT_FAIL. */
static int flushed(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": write error: %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const struct command *cmd;
	unsigned int opts;
	int c, first = 0, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_help();
			return flushed(EXIT_OK);
		case 'V':
			printf(PROG " (" PACKAGE_NAME ") " PACKAGE_VERSION
				    "\n");
			return flushed(EXIT_OK);
		default:
			if (optopt != 0)
				fprintf(stderr, PROG ": unknown option '-%c'\n",
					optopt);
			else
				fprintf(stderr, PROG ": unknown option '%s'\n",
					argv[optind - 1]);
			usage_hint();
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, PROG ": missing COMMAND\n");
		usage_hint();
		return EXIT_USAGE;
	}
	for (cmd = commands; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[optind]) == 0)
			break;
	if (cmd->name == NULL) {
		fprintf(stderr, PROG ": unknown command '%s'\n", argv[optind]);
		usage_hint();
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	rc = parse_cmd_options(cmd, argc, argv, &opts, &first);
	if (rc != 0)
		return rc < 0 ? flushed(EXIT_OK) : rc;
	return flushed(cmd->run(cmd, argc - first, argv + first, opts));
}
