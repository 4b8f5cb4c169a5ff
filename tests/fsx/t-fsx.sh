#!/bin/bash
# tests/fsx/t-fsx.sh - short seeded fsx runs for make check: the engine
# alone (on a file and on an anonymous map), a native directory as the
# control, then fresh mmapfs mounts (with the ioctls: default, cache=never,
# -o writeback and access=copy) and anon mounts (with and without
# -o writeback).
# Fixed seeds, so a failure replays with the command fsx prints.
# FSX_OPTS (environment) adds options to every run, e.g. FSX_OPTS=-v.
# shellcheck source=../integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

FSX=${top_builddir:?}/tests/fsx/fsx
[ -x "$FSX" ] || fail "fsx not built: $FSX"

# run_fsx WHAT ARGS... - one fsx run; on failure show its report.  Its
# output stays in $T/fsx.out for the checks that follow.
run_fsx()
{
	local what=$1 rc=0
	shift
	# shellcheck disable=SC2086 # FSX_OPTS is a list of words
	deadline 120 "$FSX" -p 0 ${FSX_OPTS:-} "$@" >"$T/fsx.out" 2>&1 ||
		rc=$?
	if [ "$rc" -ne 0 ]; then
		cat "$T/fsx.out" >&2
		fail "$what: fsx $* exited $rc"
	fi
	grep -q '^fsx: [0-9]* ops, seed [0-9]*, OK$' "$T/fsx.out" ||
		fail "$what: no summary line: $(tail -n 5 "$T/fsx.out")"
	ok "$what: $(tail -n 1 "$T/fsx.out")"
}

# ran OP... - each op was done at least once in the last run (so a target
# that quietly refused it cannot pass).
ran()
{
	local op line
	line=$(grep '^fsx: ops done:' "$T/fsx.out") ||
		fail "no 'ops done' line in the fsx output"
	for op in "$@"; do
		case "$line " in
		*" $op "[1-9]*) ;;
		*) fail "op '$op' never ran: $line" ;;
		esac
	done
	ok "ran: $*"
}

DATA_OPS=(read write trunc otrunc mapread mapwrite fsync fdatasync reopen)
IOCTL_OPS=(find rfind move madvise flush)

# Scratch space in RAM when there is some: on a disk every fsync and msync
# waits for a journal commit, and the long runs would take minutes.
S=$T/scratch
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
   [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
	S=$(mktemp -d /dev/shm/mmfs-t-fsx.XXXXXX)
	MMFS_CLEANUP_HOOKS+=("rm -rf '$S'")
else
	mkdir "$S"
fi

# The engine, no kernel in between: a file under the engine, then an
# anonymous (memfd) map.
TMPDIR=$S run_fsx "engine, file" -E -N 20000 -S 20240611
ran "${DATA_OPS[@]}" "${IOCTL_OPS[@]}"
run_fsx "engine, anonymous" -A -N 10000 -S 20240612
ran read write trunc mapread mapwrite "${IOCTL_OPS[@]}"

# The control: a native directory, where fsx's own model is what is tested.
mkdir "$T/native"
run_fsx "native" -N 2000 -S 20240613 "$T/native/f"
ran "${DATA_OPS[@]}"

mmfs_require_fuse

# mount_run WHAT BACKING OPS SEED [OPT...] - fsx on a fresh mount of
# BACKING; after the unmount the backing file must hold exactly fsx's model.
mount_run()
{
	local what=$1 back=$2 ops=$3 seed=$4
	shift 4
	mmfs_mount_at "$back" "$M" "$@"
	run_fsx "$what" -N "$ops" -S "$seed" -M "$T/model" "$M/f"
	ran "${DATA_OPS[@]}" "${IOCTL_OPS[@]}"
	mmfs_alive "$what: daemon alive after fsx"
	mmfs_umount
	assert_file_eq "$T/model" "$back/f" "$what: backing file == model"
}

# A short run with the backing directory on disk, the long one on the
# scratch directory (the temporary file of the engine run is gone).
mount_run "mount on disk" "$B" 3000 20240614
mount_run "mount" "$S" 20000 20240615
# Every read from the mapping, none from the kernel's cache.
mkdir "$S/never"
mount_run "cache=never" "$S/never" 5000 20240617 cache=never
# Writes merged in the kernel's cache, written back to the mapping later.
mkdir "$S/wb"
mount_run "writeback" "$S/wb" 5000 20240618 writeback

# access=copy: the same model through the mount, and the backing file
# never changes (punch and zero are refused there: EOPNOTSUPP).
mkdir "$S/copy"
head -c 100000 /dev/urandom >"$S/copy/f"
cp "$S/copy/f" "$T/copy.orig"
mmfs_mount_at "$S/copy" "$M" access=copy
run_fsx "access=copy" -N 5000 -S 20240620 "$M/f"
ran "${DATA_OPS[@]}" "${IOCTL_OPS[@]}"
mmfs_alive "access=copy: daemon alive after fsx"
mmfs_umount
assert_file_eq "$T/copy.orig" "$S/copy/f" "access=copy: backing file unchanged"

mmfs_anon_mount
run_fsx "anon mount" -N 5000 -S 20240616 "$M/f"
ran read write mapread mapwrite "${IOCTL_OPS[@]}"
mmfs_umount
mmfs_anon_mount writeback
run_fsx "anon mount, writeback" -N 5000 -S 20240619 "$M/f"
ran read write mapread mapwrite "${IOCTL_OPS[@]}"
mmfs_done
