/* error.c - the engine's error reporting: a per-thread "last message" that
 * stands in for the text of the Python exception, and the two policy checks
 * (CPython's is_writable / is_resizeable) every module shares. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mmfs-int.h"

/* Per thread, so that parallel calls on different maps (which the contract
 * allows) never see each other's message. */
static __thread const char *mmfs_last_msg;

/* strerror text must outlive the call that produced it, and strerror() itself
 * is not thread-safe, so each thread keeps its own copy. */
static __thread char mmfs_os_msg[128];

const char *mmfs_errmsg(void)
{
	return mmfs_last_msg != NULL ? mmfs_last_msg : "";
}

int mmfs_fail(int err, const char *msg)
{
	mmfs_last_msg = msg;
	return -err;
}

int mmfs_fail_os(int err)
{
	/* The GNU strerror_r returns either our buffer or a static string;
	 * copying the latter keeps one rule: the message lives in the
	 * thread's buffer until the next failure. */
	const char *text = strerror_r(err, mmfs_os_msg, sizeof(mmfs_os_msg));

	if (text != mmfs_os_msg)
		snprintf(mmfs_os_msg, sizeof(mmfs_os_msg), "%s", text);
	mmfs_last_msg = mmfs_os_msg;
	return -err;
}

void mmfs_clear_error(void)
{
	mmfs_last_msg = NULL;
}

int mmfs_check_writable(const struct mmfs_map *map)
{
	if (map->access == MMFS_ACCESS_READ)
		return mmfs_fail(EACCES,
				 "mmap can't modify a readonly memory map.");
	return 0;
}

/* Python's order (reference §7.4): exports, trackfd, then the access mode.
 * The newsize range is the caller's to check, after these. */
int mmfs_check_resizeable(const struct mmfs_map *map)
{
	if (map->exports > 0)
		return mmfs_fail(EBUSY, "mmap can't resize with extant "
					"buffers exported.");
	if (!map->trackfd)
		return mmfs_fail(EINVAL,
				 "mmap can't resize with trackfd=False.");
	if (map->access != MMFS_ACCESS_DEFAULT &&
	    map->access != MMFS_ACCESS_WRITE)
		return mmfs_fail(EPERM, "mmap can't resize a readonly or "
					"copy-on-write memory map.");
	return 0;
}
