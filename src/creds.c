/* creds.c - the caller's credentials: its supplementary groups, acting
 * as it when creating files (allow_other), the permission checks the
 * daemon makes where it serves an open by a descriptor it holds, and the
 * set-user-ID and set-group-ID bits a change by another user clears. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs.h"

/* The daemon's own supplementary groups, restored after acting as a
 * caller.  Written once in mmfs_creds_init, before any thread exists. */
static gid_t *saved_groups;
static int nsaved_groups;

/* Room for the supplementary groups of most callers, on the stack. */
#define FEW_GROUPS 64

/*
 * The supplementary groups of req's caller: in buf (FEW_GROUPS of them),
 * or past that in an array of their own in *list, which the caller frees
 * where it is not buf.  Returns the count, or -errno where they cannot be
 * known (a caller in another PID namespace has pid 0 here, or its
 * process is gone).  The caller may join groups between two reads of
 * them: the count is then read again into room for it.
 */
static int caller_groups(fuse_req_t req, gid_t *buf, gid_t **list)
{
	gid_t *more;
	int n, room = FEW_GROUPS;

	*list = buf;
	n = fuse_req_getgroups(req, room, buf);
	while (n > room) {
		room = n;
		more = realloc(*list == buf ? NULL : *list,
			       (size_t)room * sizeof(*more));
		if (!more) {
			n = -ENOMEM;
			break;
		}
		*list = more;
		n = fuse_req_getgroups(req, room, more);
	}
	if (n < 0 && *list != buf) {
		free(*list);
		*list = buf;
	}
	return n;
}

/* Is gid the fs group of req's caller, or one of its groups?  Where the
 * groups cannot be known: yes, which keeps setgid as the FUSE protocol's
 * rule and Linux before 6.2 do. */
static bool caller_in_group(fuse_req_t req, gid_t gid)
{
	gid_t buf[FEW_GROUPS], *list;
	int n, i;
	bool in = false;

	if (fuse_req_ctx(req)->gid == gid)
		return true;
	n = caller_groups(req, buf, &list);
	if (n < 0)
		in = true;
	for (i = 0; i < n && !in; i++)
		in = list[i] == gid;
	if (list != buf)
		free(list);
	return in;
}

/*
 * A caller without CAP_FSETID wrote or truncated the file (see
 * MMFS_O_KILL_SUIDGID): clear setuid, and setgid when the file is
 * group-executable or the caller is not in its group, as the kernel does
 * natively (the FUSE protocol's own rule, group-executable only, is the
 * one Linux followed before 6.2).  fd is an open descriptor of the file,
 * or -1.
 */
void mmfs_kill_suidgid(struct mmfs_fs *fs, fuse_req_t req,
		       struct mmfs_inode *inode, int fd)
{
	struct stat st;
	char path[64];
	mode_t m;

	if (fstatat(inode->fd, "", &st, AT_EMPTY_PATH) < 0 ||
	    !S_ISREG(st.st_mode))
		return;
	m = st.st_mode & 07777;
	if (m & S_ISUID)
		m &= ~(mode_t)S_ISUID;
	if ((m & S_ISGID) &&
	    ((m & S_IXGRP) || !caller_in_group(req, st.st_gid)))
		m &= ~(mode_t)S_ISGID;
	if (m == (st.st_mode & 07777))
		return;
	if ((fd < 0 || fchmod(fd, m) < 0) &&
	    fchmodat(AT_FDCWD, mmfs_procpath(inode->fd, path, sizeof(path)), m,
		     0) < 0)
		return;
	mmfs_attrs_changed(fs, inode); /* the kernel's cached mode */
}

/* At start (from mmfs_table_init): a root daemon keeps its own groups to
 * come back to. */
void mmfs_creds_init(bool as_root)
{
	int n;

	if (!as_root)
		return;
	n = getgroups(0, NULL);
	if (n > 0) {
		saved_groups = calloc((size_t)n, sizeof(gid_t));
		if (saved_groups)
			nsaved_groups = getgroups(n, saved_groups);
		if (nsaved_groups < 0)
			nsaved_groups = 0;
	}
}

void mmfs_creds_fini(void)
{
	free(saved_groups);
	saved_groups = NULL;
}
/*
 * Can this thread set a umask of its own?  The umask belongs to the
 * filesystem context, which the threads share until one unshares it (cwd
 * and root go with it; the daemon uses neither).
 */
static bool own_umask(void)
{
	static __thread int state; /* 0: not tried, 1: own, -1: shared */

	if (state == 0)
		state = unshare(CLONE_FS) == 0 ? 1 : -1;
	return state > 0;
}

/*
 * Creating as the caller: with allow_other, a root daemon would otherwise
 * create every file as root.  fsuid, fsgid and the group list are
 * per-thread in Linux when set by the raw system calls (glibc's setgroups
 * would change every thread), so other requests are not affected.
 * With fs->dont_mask the caller's umask comes along: the backing file
 * system then applies it, or a directory's default ACL instead, as it
 * does natively.
 */
void mmfs_creds_enter(struct mmfs_fs *fs, fuse_req_t req, struct mmfs_creds *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t buf[FEW_GROUPS], *list;
	int n;

	c->switched = false;
	c->umask_set = false;
	c->mask = 0;
	if (fs->dont_mask) {
		if (own_umask()) {
			umask(ctx->umask);
			c->umask_set = true;
		} else {
			c->mask = ctx->umask; /* as the kernel would */
		}
	}
	if (!fs->as_root || (ctx->uid == 0 && ctx->gid == 0))
		return;
	n = caller_groups(req, buf, &list);
	if (n < 0) {
		buf[0] = ctx->gid;
		n = 1;
	}
	syscall(SYS_setgroups, n, list);
	if (list != buf)
		free(list);
	setfsgid(ctx->gid);
	setfsuid(ctx->uid);
	c->switched = true;
}

/*
 * May the daemon read or write (mode: R_OK, W_OK) inode where it would
 * otherwise skip the backing file system's check: an open served by a
 * descriptor it holds already, a copy mount's open to write (its
 * descriptors only read), a truncation by path.  Only a daemon that is
 * not root and has no default_permissions relies on that check: the
 * kernel checks nothing then, and the daemon's own rights are the
 * caller's (only the mounting user may come in).  0 or -errno.
 */
int mmfs_may(struct mmfs_fs *fs, struct mmfs_inode *inode, int mode)
{
	if (fs->as_root || fs->acl || mode == 0)
		return 0;
	return faccessat(inode->fd, "", mode, AT_EMPTY_PATH | AT_EACCESS) < 0
		       ? -errno
		       : 0;
}

/*
 * What open(2) with flags, or truncate(2), would refuse that the inode's
 * own descriptor serves instead (an open in handle_attach, a truncation
 * by path in setattr: tmpfs checks immutability only there): an
 * immutable file, and an append-only one but for an O_APPEND open
 * without O_TRUNC (and under the writeback cache, whose writes all come
 * at offsets, even that).  The backing file keeps the flags; a file
 * system without them says ENOTTY.  0 or -EPERM.
 */
int mmfs_flags_allow(struct mmfs_fs *fs, struct mmfs_inode *inode, int flags)
{
	int attr = 0;

	if (!mmfs_is_writable(flags) && !(flags & O_TRUNC))
		return 0;
	if (ioctl(inode->fd, FS_IOC_GETFLAGS, &attr) < 0)
		return 0;
	if ((attr & FS_IMMUTABLE_FL) ||
	    ((attr & FS_APPEND_FL) &&
	     (fs->writeback || !(flags & O_APPEND) || (flags & O_TRUNC))))
		return -EPERM;
	return 0;
}

/* The mode to create with, inside mmfs_creds_enter/leave. */
mode_t mmfs_creds_mode(const struct mmfs_creds *c, mode_t mode)
{
	return mode & ~c->mask;
}

void mmfs_creds_leave(struct mmfs_fs *fs, struct mmfs_creds *c)
{
	(void)fs;
	if (c->umask_set) {
		umask(0);
		c->umask_set = false;
	}
	if (!c->switched)
		return;
	setfsuid(0);
	setfsgid(0);
	syscall(SYS_setgroups, nsaved_groups, saved_groups);
	c->switched = false;
}
