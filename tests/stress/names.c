/* names.c - the stress test's namespace and opener roles: files created,
 * rewritten, renamed (onto new names and over each other), linked, given
 * modes, times and xattrs, removed and listed in the directory the other
 * workers share; and many files held open at once, read, rewritten and
 * reopened at random. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"

int st_ns_role(struct st_worker *w);
int st_opener_role(struct st_worker *w);

/* ---------------------------------------------------------------- namespace */

#define NS_FILES 16
#define NS_MAXLEN 8192

struct nsfile {
	bool live;
	uint32_t k;   /* its name: ns.<wid>.<k> */
	uint32_t ck;  /* its content: stamps of (wid, ck, gen), len bytes; */
	uint32_t gen; /* ck is the k it was created with (renames keep it) */
	uint32_t len;
};

static void ns_name(const struct st_worker *w, uint32_t k, const char *sfx,
		    char *out, size_t n)
{
	snprintf(out, n, "ns.%u.%u%s", w->wid, k, sfx);
}

/* The content of a namespace file: stamps cut to len bytes. */
static void ns_bytes(const struct st_worker *w, unsigned char *out,
		     const struct nsfile *f)
{
	uint32_t i;

	for (i = 0; i * ST_BLOCK < f->len; i++) {
		unsigned char s[ST_BLOCK];
		uint32_t n = f->len - i * ST_BLOCK;

		st_stamp(s, w->wid, f->ck * 1024 + i, f->gen);
		memcpy(out + i * ST_BLOCK, s, n < ST_BLOCK ? n : ST_BLOCK);
	}
}

static int ns_write(struct st_worker *w, struct nsfile *f, int flags)
{
	char name[64];
	ssize_t got;
	int fd;

	ns_name(w, f->k, "", name, sizeof(name));
	st_op_begin(w, (flags & O_CREAT) ? OP_CREATE : OP_OPEN);
	fd = openat(w->dirfd, name, O_WRONLY | O_CLOEXEC | flags, 0644);
	st_op_end(w);
	if (fd < 0)
		return st_fail(w, "open %s (flags %#x): %s", name, flags,
			       strerror(errno));
	ns_bytes(w, w->buf, f);
	st_op_begin(w, OP_PWRITE);
	got = st_pwrite_full(fd, w->buf, f->len, 0);
	st_op_end(w);
	st_op_begin(w, OP_CLOSE);
	close(fd);
	st_op_end(w);
	if (got != f->len)
		return st_fail(w, "write %s: %s", name,
			       got < 0 ? strerror((int)-got) : "short");
	return 0;
}

/* Strict: the file under its current name holds exactly its content. */
static int ns_check(struct st_worker *w, const struct nsfile *f)
{
	char name[64];
	ssize_t got;
	int fd;

	ns_name(w, f->k, "", name, sizeof(name));
	st_op_begin(w, OP_OPEN);
	fd = openat(w->dirfd, name, O_RDONLY | O_CLOEXEC);
	st_op_end(w);
	if (fd < 0)
		return st_fail(w, "open %s: %s", name, strerror(errno));
	st_op_begin(w, OP_PREAD);
	got = st_pread_full(fd, w->buf2, NS_MAXLEN + 1, 0);
	st_op_end(w);
	close(fd);
	ns_bytes(w, w->buf, f);
	if (got != f->len || memcmp(w->buf, w->buf2, f->len) != 0)
		return st_fail(w,
			       "%s: read %zd bytes, expected %u bytes of "
			       "generation %u%s",
			       name, got, f->len, f->gen,
			       got == f->len ? " (contents differ)" : "");
	return 0;
}

/* Strict: a name that was removed or renamed away is gone. */
static int ns_gone(struct st_worker *w, uint32_t k, const char *sfx)
{
	char name[64];
	struct stat st;
	int r;

	ns_name(w, k, sfx, name, sizeof(name));
	st_op_begin(w, OP_STAT);
	r = fstatat(w->dirfd, name, &st, AT_SYMLINK_NOFOLLOW);
	st_op_end(w);
	if (r == 0 || errno != ENOENT)
		return st_fail(w, "%s should be gone, stat says %s", name,
			       r == 0 ? "it exists" : strerror(errno));
	return 0;
}

static int ns_rename(struct st_worker *w, struct nsfile *fs, uint32_t *next)
{
	struct nsfile *a = &fs[st_below(&w->rng, NS_FILES)], *b;
	char from[64], to[64];
	uint32_t old;
	int r;

	if (!a->live)
		return 0;
	b = &fs[st_below(&w->rng, NS_FILES)];
	if (b == a || !b->live)
		b = NULL;
	ns_name(w, a->k, "", from, sizeof(from));
	ns_name(w, b ? b->k : *next, "", to, sizeof(to));
	st_op_begin(w, OP_RENAME);
	r = renameat(w->dirfd, from, w->dirfd, to);
	st_op_end(w);
	if (r < 0)
		return st_fail(w, "rename %s to %s: %s", from, to,
			       strerror(errno));
	old = a->k;
	if (b) {
		/* over an existing file: its name now has a's content */
		b->ck = a->ck;
		b->gen = a->gen;
		b->len = a->len;
		a->live = false;
		a = b;
	} else {
		a->k = (*next)++;
	}
	if (ns_gone(w, old, "") < 0)
		return -1;
	return ns_check(w, a);
}

static int ns_link(struct st_worker *w, struct nsfile *f)
{
	char name[64], link[64];
	struct stat st, st2;
	int r;

	ns_name(w, f->k, "", name, sizeof(name));
	ns_name(w, f->k, ".l", link, sizeof(link));
	st_op_begin(w, OP_LINK);
	r = linkat(w->dirfd, name, w->dirfd, link, 0);
	st_op_end(w);
	if (r < 0)
		return st_fail(w, "link %s to %s: %s", name, link,
			       strerror(errno));
	st_op_begin(w, OP_STAT);
	r = fstatat(w->dirfd, name, &st, 0) | fstatat(w->dirfd, link, &st2, 0);
	st_op_end(w);
	if (r < 0 || st.st_ino != st2.st_ino || st.st_nlink != 2 ||
	    st2.st_size != f->len)
		return st_fail(w,
			       "after link: %s ino %llu links %lu, %s ino "
			       "%llu size %lld (expected %u)",
			       name, (unsigned long long)st.st_ino,
			       (unsigned long)st.st_nlink, link,
			       (unsigned long long)st2.st_ino,
			       (long long)st2.st_size, f->len);
	st_op_begin(w, OP_UNLINK);
	r = unlinkat(w->dirfd, link, 0);
	st_op_end(w);
	if (r < 0)
		return st_fail(w, "unlink %s: %s", link, strerror(errno));
	if (ns_gone(w, f->k, ".l") < 0)
		return -1;
	st_op_begin(w, OP_STAT);
	r = fstatat(w->dirfd, name, &st, 0);
	st_op_end(w);
	if (r < 0 || st.st_nlink != 1)
		return st_fail(w, "%s has %lu links after the other went", name,
			       (unsigned long)st.st_nlink);
	return 0;
}

/* Strict: mode, times and an extended attribute set on a file read back
 * as set (a backing file system without user xattrs is let off those). */
static int ns_attrs(struct st_worker *w, const struct nsfile *f, bool *noxattr)
{
	static const mode_t modes[] = {0600, 0640, 0644, 0660};
	char name[64], path[4096], val[64], got[64];
	mode_t mode = modes[st_below(&w->rng, 4)];
	struct timespec ts[2];
	struct stat st;
	ssize_t n;
	int r, len;

	ns_name(w, f->k, "", name, sizeof(name));
	ts[0].tv_sec = ts[1].tv_sec =
		1000000000 + (time_t)st_below(&w->rng, 1 << 28);
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	st_op_begin(w, OP_STAT);
	r = fchmodat(w->dirfd, name, mode, 0);
	if (r == 0)
		r = utimensat(w->dirfd, name, ts, 0);
	if (r == 0)
		r = fstatat(w->dirfd, name, &st, 0);
	st_op_end(w);
	if (r < 0)
		return st_fail(w, "chmod/utimens/stat %s: %s", name,
			       strerror(errno));
	if ((st.st_mode & 07777) != mode || st.st_mtim.tv_sec != ts[1].tv_sec)
		return st_fail(w,
			       "%s: mode %#o mtime %lld after setting %#o "
			       "and %lld",
			       name, (unsigned int)(st.st_mode & 07777),
			       (long long)st.st_mtim.tv_sec, (unsigned int)mode,
			       (long long)ts[1].tv_sec);
	if (*noxattr)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", w->cfg->dir, name);
	len = snprintf(val, sizeof(val), "%u.%u.%u", w->wid, f->ck, f->gen);
	st_op_begin(w, OP_STAT);
	r = setxattr(path, "user.stress", val, (size_t)len, 0);
	st_op_end(w);
	if (r < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP)) {
		*noxattr = true;
		return 0;
	}
	st_op_begin(w, OP_STAT);
	n = r < 0 ? -1 : getxattr(path, "user.stress", got, sizeof(got));
	st_op_end(w);
	if (r < 0 || n != len || memcmp(got, val, (size_t)len) != 0)
		return st_fail(w, "%s: xattr set/get: %s (%zd bytes)", name,
			       r < 0 || n < 0 ? strerror(errno) : "differs", n);
	st_op_begin(w, OP_UNLINK);
	r = removexattr(path, "user.stress");
	n = r < 0 ? 0 : getxattr(path, "user.stress", got, sizeof(got));
	st_op_end(w);
	if (r < 0 || n >= 0 || errno != ENODATA)
		return st_fail(w, "%s: xattr remove: %s", name,
			       r < 0 ? strerror(errno) : "still there");
	return 0;
}

/* Strict: a listing names the shared files and all our live files,
 * whatever the other workers create and remove meanwhile. */
static int ns_list(struct st_worker *w, const struct nsfile *fs)
{
	bool seen[NS_FILES] = {false}, shared = false, log = false;
	char name[64], prefix[32];
	struct dirent *de;
	unsigned int i;
	size_t plen;
	DIR *d;
	int fd;

	snprintf(prefix, sizeof(prefix), "ns.%u.", w->wid);
	plen = strlen(prefix);
	st_op_begin(w, OP_READDIR);
	fd = openat(w->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		st_op_end(w);
		if (fd >= 0)
			close(fd);
		return st_fail(w, "opendir: %s", strerror(errno));
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ST_SHARED) == 0)
			shared = true;
		else if (strcmp(de->d_name, ST_LOG) == 0)
			log = true;
		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		for (i = 0; i < NS_FILES; i++) {
			ns_name(w, fs[i].k, "", name, sizeof(name));
			if (fs[i].live && strcmp(name, de->d_name) == 0) {
				if (seen[i]) {
					closedir(d);
					st_op_end(w);
					return st_fail(w,
						       "readdir returned "
						       "%s twice",
						       name);
				}
				seen[i] = true;
			}
		}
	}
	fd = errno;
	closedir(d);
	st_op_end(w);
	if (fd)
		return st_fail(w, "readdir: %s", strerror(fd));
	if (!shared || !log)
		return st_fail(w, "readdir did not return %s",
			       shared ? ST_LOG : ST_SHARED);
	for (i = 0; i < NS_FILES; i++) {
		if (fs[i].live && !seen[i]) {
			ns_name(w, fs[i].k, "", name, sizeof(name));
			return st_fail(w, "readdir did not return %s", name);
		}
	}
	return 0;
}

static int ns_dir(struct st_worker *w, uint32_t k)
{
	char name[64], inner[96];
	int r, fd;

	snprintf(name, sizeof(name), "nsd.%u.%u", w->wid, k);
	snprintf(inner, sizeof(inner), "%s/f", name);
	st_op_begin(w, OP_MKDIR);
	r = mkdirat(w->dirfd, name, 0755);
	st_op_end(w);
	if (r < 0)
		return st_fail(w, "mkdir %s: %s", name, strerror(errno));
	st_op_begin(w, OP_CREATE);
	fd = openat(w->dirfd, inner, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
	st_op_end(w);
	if (fd < 0)
		return st_fail(w, "create %s: %s", inner, strerror(errno));
	close(fd);
	st_op_begin(w, OP_RMDIR);
	r = unlinkat(w->dirfd, name, AT_REMOVEDIR);
	st_op_end(w);
	if (r == 0 || (errno != ENOTEMPTY && errno != EEXIST))
		return st_fail(w, "rmdir of non-empty %s: %s", name,
			       r == 0 ? "succeeded" : strerror(errno));
	st_op_begin(w, OP_UNLINK);
	r = unlinkat(w->dirfd, inner, 0);
	st_op_end(w);
	st_op_begin(w, OP_RMDIR);
	if (r == 0)
		r = unlinkat(w->dirfd, name, AT_REMOVEDIR);
	st_op_end(w);
	if (r < 0)
		return st_fail(w, "removing %s: %s", name, strerror(errno));
	return 0;
}

int st_ns_role(struct st_worker *w)
{
	struct nsfile fs[NS_FILES];
	uint32_t next = 0, i;
	bool noxattr = false;
	char name[64];
	struct nsfile *f;
	int rc = 0;
	uint64_t r;

	memset(fs, 0, sizeof(fs));
	while (!st_stopping(w) && rc == 0) {
		r = st_below(&w->rng, 100);
		f = &fs[st_below(&w->rng, NS_FILES)];
		if (r < 25) {
			if (f->live)
				continue;
			f->k = next++;
			f->ck = f->k;
			f->gen = 1;
			f->len = (uint32_t)st_below(&w->rng, NS_MAXLEN + 1);
			rc = ns_write(w, f, O_CREAT | O_EXCL);
			f->live = rc == 0;
		} else if (r < 40) {
			if (f->live)
				rc = ns_check(w, f);
		} else if (r < 50) {
			if (!f->live)
				continue;
			f->gen++;
			f->len = (uint32_t)st_below(&w->rng, NS_MAXLEN + 1);
			rc = ns_write(w, f, O_TRUNC);
		} else if (r < 65) {
			rc = ns_rename(w, fs, &next);
		} else if (r < 68) {
			if (f->live)
				rc = ns_link(w, f);
		} else if (r < 72) {
			if (f->live)
				rc = ns_attrs(w, f, &noxattr);
		} else if (r < 85) {
			if (!f->live)
				continue;
			ns_name(w, f->k, "", name, sizeof(name));
			st_op_begin(w, OP_UNLINK);
			if (unlinkat(w->dirfd, name, 0) < 0)
				rc = st_fail(w, "unlink %s: %s", name,
					     strerror(errno));
			st_op_end(w);
			f->live = false;
			if (rc == 0)
				rc = ns_gone(w, f->k, "");
		} else if (r < 88) {
			rc = ns_list(w, fs);
		} else {
			rc = ns_dir(w, next++);
		}
	}
	for (i = 0; i < NS_FILES && rc == 0; i++) {
		if (!fs[i].live)
			continue;
		rc = ns_check(w, &fs[i]);
		ns_name(w, fs[i].k, "", name, sizeof(name));
		unlinkat(w->dirfd, name, 0);
	}
	return rc;
}

/* ---------------------------------------------------------------- opener */

static void opener_name(const struct st_worker *w, uint32_t i, char *out,
			size_t n)
{
	snprintf(out, n, "open.%u.%u", w->wid, i);
}

static void opener_bytes(const struct st_worker *w, unsigned char *out,
			 uint32_t i, uint32_t gen)
{
	uint32_t k;

	for (k = 0; k < ST_OSIZE / ST_BLOCK; k++)
		st_stamp(out + k * ST_BLOCK, w->wid,
			 i * (ST_OSIZE / ST_BLOCK) + k, gen);
}

static int opener_check(struct st_worker *w, int fd, uint32_t i, uint32_t gen)
{
	unsigned char want[ST_OSIZE], got[ST_OSIZE + 1];
	ssize_t n;

	opener_bytes(w, want, i, gen);
	st_op_begin(w, OP_PREAD);
	n = st_pread_full(fd, got, sizeof(got), 0);
	st_op_end(w);
	if (n != ST_OSIZE || memcmp(want, got, ST_OSIZE) != 0)
		return st_fail(w,
			       "open.%u.%u: read %zd bytes%s, expected "
			       "generation %u",
			       w->wid, i, n,
			       n == ST_OSIZE ? " (contents differ)" : "", gen);
	return 0;
}

int st_opener_role(struct st_worker *w)
{
	uint32_t n = w->m->sh->p.nopen, i, gen;
	_Atomic uint32_t *gens = w->m->ogens + (size_t)w->wid * n;
	unsigned char buf[ST_OSIZE];
	int *fds = malloc((n ? n : 1) * sizeof(int)), rc = 0;
	char name[64];
	struct stat st;
	ssize_t got;
	uint64_t r;

	if (!fds)
		return st_fail(w, "out of memory");
	/* all of them, even if the run ends meanwhile: the final check
	 * reads every one */
	for (i = 0; i < n; i++) {
		opener_name(w, i, name, sizeof(name));
		st_op_begin(w, OP_CREATE);
		fds[i] = openat(w->dirfd, name,
				O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		st_op_end(w);
		if (fds[i] < 0) {
			rc = st_fail(w, "create %s (%u open): %s", name, i,
				     strerror(errno));
			n = i;
			goto out;
		}
		opener_bytes(w, buf, i, 1);
		st_op_begin(w, OP_PWRITE);
		got = st_pwrite_full(fds[i], buf, ST_OSIZE, 0);
		st_op_end(w);
		if (got != ST_OSIZE) {
			rc = st_fail(w, "write %s: %s", name,
				     got < 0 ? strerror((int)-got) : "short");
			n = i + 1;
			goto out;
		}
		atomic_store(&gens[i], 1);
	}
	while (n && !st_stopping(w) && rc == 0) {
		i = (uint32_t)st_below(&w->rng, n);
		gen = atomic_load(&gens[i]);
		r = st_below(&w->rng, 100);
		if (r < 55) {
			rc = opener_check(w, fds[i], i, gen);
		} else if (r < 75) {
			opener_bytes(w, buf, i, ++gen);
			st_op_begin(w, OP_PWRITE);
			got = st_pwrite_full(fds[i], buf, ST_OSIZE, 0);
			st_op_end(w);
			if (got != ST_OSIZE)
				rc = st_fail(w, "rewrite open.%u.%u: %s",
					     w->wid, i,
					     got < 0 ? strerror((int)-got)
						     : "short");
			else
				atomic_store(&gens[i], gen);
		} else if (r < 92) {
			opener_name(w, i, name, sizeof(name));
			st_op_begin(w, OP_CLOSE);
			close(fds[i]);
			st_op_end(w);
			st_op_begin(w, OP_OPEN);
			fds[i] = openat(w->dirfd, name, O_RDWR | O_CLOEXEC);
			st_op_end(w);
			if (fds[i] < 0) {
				rc = st_fail(w, "reopen %s: %s", name,
					     strerror(errno));
				break;
			}
			rc = opener_check(w, fds[i], i, gen);
		} else if (r < 97) {
			st_op_begin(w, OP_STAT);
			if (fstat(fds[i], &st) < 0 || st.st_size != ST_OSIZE)
				rc = st_fail(w, "fstat open.%u.%u: size %lld",
					     w->wid, i, (long long)st.st_size);
			st_op_end(w);
		} else {
			st_op_begin(w, OP_FSYNC);
			if (fdatasync(fds[i]) < 0)
				rc = st_fail(w, "fdatasync open.%u.%u: %s",
					     w->wid, i, strerror(errno));
			st_op_end(w);
		}
	}
out:
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return rc;
}
