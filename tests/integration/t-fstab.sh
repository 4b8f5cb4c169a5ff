#!/bin/bash
# tests/integration/t-fstab.sh - mounting through mount(8): "mount -t
# fuse.mmapfs" via mount.fuse3, and an fstab line (from an alternative
# fstab given with -T, so /etc/fstab is never touched); umount(8) unmounts
# and the daemon then exits.

# mount(8) starts mount.fuse3 with no PATH (libmount drops it), so the
# helper's /bin/sh finds "mmapfs" only in its default path.  Run in a private
# mount namespace and bind a directory holding a link to the built daemon
# over /usr/local/sbin there: nothing outside the test is touched, and the
# test's mounts are invisible to the rest of the system.
if [ -z "${MMFS_FSTAB_NS:-}" ] && [ "$(id -u)" = 0 ] &&
   unshare -m --propagation private true 2>/dev/null; then
	MMFS_FSTAB_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
helper=
for d in /sbin /usr/sbin /bin /usr/bin; do
	if [ -x "$d/mount.fuse3" ]; then
		helper=$d/mount.fuse3
		break
	fi
done
[ -n "$helper" ] || skip "mount.fuse3 is missing"
if [ "$(id -u)" != 0 ]; then
	skip "mount(8) of a fuse type needs root here"
fi

# mount.fuse3 runs "mmapfs BACKING MOUNTPOINT -o ..." through $PATH.
mkdir "$T/bin"
ln -s "$MMAPFS" "$T/bin/mmapfs"
export PATH="$T/bin:$PATH"
if [ "${MMFS_FSTAB_NS:-}" = 1 ]; then
	mount --bind "$T/bin" /usr/local/sbin ||
		fail "cannot bind $T/bin over /usr/local/sbin in the namespace"
	ok "private mount namespace, mmapfs on the helper's default path"
else
	fail "no private mount namespace (unshare -m) for the helper's PATH"
fi

printf 'fstab data\n' >"$B/file"
snap()
{
	(cd "$B" && find . -printf '%y %m %s %T@ %C@ %p\n' | sort &&
		sha256sum file)
}
snap >"$T/before"

# daemon_pid MOUNTPOINT - the mmapfs process serving MOUNTPOINT.
daemon_pid()
{
	local p arg
	for p in /proc/[0-9]*; do
		[ "$(basename "$(readlink "$p/exe" 2>/dev/null)")" = mmapfs ] ||
			continue
		while IFS= read -r -d '' arg; do
			if [ "$arg" = "$1" ]; then
				basename "$p"
				return 0
			fi
		done <"$p/cmdline" 2>/dev/null
	done
	return 1
}

# checks_read_only TAG - the mount serves BACKING read-only.
checks_read_only()
{
	local tag=$1 pid
	mountpoint -q "$M" || fail "$tag: $M is not mounted"
	assert_eq fuse.mmapfs "$(findmnt -n -o FSTYPE --target "$M")" \
		"$tag: file system type"
	assert_content "$M/file" "fstab data" "$tag: read"
	assert_fails_with "Read-only file system" sh -c "echo x >>'$M/file'"
	assert_fails_with "Read-only file system" touch "$M/new"
	pid=$(daemon_pid "$M") || fail "$tag: no mmapfs process serves $M"
	ok "$tag: daemon $pid serves the mount"
	assert_ok umount "$M"
	mountpoint -q "$M" && fail "$tag: still mounted after umount"
	wait_until 10 eval '! mmfs__pid_alive "$pid"' ||
		fail "$tag: daemon $pid still running after umount"
	ok "$tag: daemon exited after umount"
}

# 1. mount -t fuse.mmapfs
MMFS_MOUNTS+=("$M")
echo "$M" >>"$T/.mnts"
assert_ok mount -t fuse.mmapfs "$B" "$M" -o access=read
checks_read_only "mount -t"

# 2. an fstab line, from a private fstab
printf '# test fstab\n%s %s fuse.mmapfs access=read,cache=never,noauto 0 0\n' \
	"$B" "$M" >"$T/fstab"
assert_ok mount -T "$T/fstab" "$M"
checks_read_only "fstab line"

# an unknown option in the fstab line is refused, nothing mounted
printf '%s %s fuse.mmapfs access=read,bogus_opt,noauto 0 0\n' "$B" "$M" \
	>"$T/fstab.bad"
rc=0
out=$(timeout -k 5 20 mount -T "$T/fstab.bad" "$M" 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "an fstab line with an unknown option mounted"
mountpoint -q "$M" && fail "bad fstab line: $M is mounted"
case $out in
*bogus_opt*) ok "bad fstab option refused: ${out%%$'\n'*}" ;;
*) fail "bad fstab option: message does not name it: $out" ;;
esac

snap >"$T/after"
assert_file_eq "$T/before" "$T/after" "BACKING unchanged by the ro mounts"

printf '# %s: %d checks passed\n' "$MMFS_NAME" "$MMFS_NCHECK"
exit 0
