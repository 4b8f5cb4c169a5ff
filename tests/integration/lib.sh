# tests/integration/lib.sh - the harness every t-*.sh sources: a FUSE gate,
# a fresh temporary backing/ and mnt/ per test, a daemon started in the
# foreground and waited for with a deadline, a watchdog so nothing hangs
# `make check`, a cleanup trap that unmounts and keeps the daemon's log on
# failure, and assertions that print what was expected and what came.
#
# A test script:
#	. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
#	mmfs_require_fuse	exit 77 only if /dev/fuse or fusermount3 is
#				missing (exit 1 with MMAPFS_REQUIRE_FUSE=1)
#	mmfs_mount [OPT...]	mount $B on $M; OPT: access=read, -o a,b, -s
#	...checks...
#	mmfs_done		daemon alive?  unmount, summary, exit 0
#
# Mounting: mmfs_mount_at BACKING MNT [OPT...], mmfs_anon_mount [OPT...],
# mmfs_start MNT ARGS... (raw daemon arguments), mmfs_umount [MNT] (fails
# unless the daemon then exits 0), mmfs_end_by SIGNAL [WHAT] (the daemon
# must exit 0 and unmount), mmfs_alive [WHAT].
# Checks (each prints "ok N - ..." or fails saying expected and got):
# ok, fail, skip, assert_eq, assert_ne, assert_content, assert_size,
# assert_file_eq (cmp), assert_ok, assert_status, assert_fails_with
# ERRNO_TEXT CMD...  Helpers: deadline SECS CMD..., wait_until SECS CMD...,
# py ARGS... <<EOF (Python from stdin), tree_listing DIR.
#
# Set here: T (temp dir), B (backing dir), M (mount point), MMAPFS,
# MMAPFSCTL, PYTHON3, MMFS_PID / MMFS_LOG / MMFS_CUR_MNT (current daemon),
# MMFS_NAME; MMFS_CLEANUP_HOOKS+=("cmd") runs at exit after the unmounts.
# Knobs: MMAPFS_REQUIRE_FUSE=1, MMFS_DEBUG=1 (daemon gets -d),
# MMFS_TEST_TIMEOUT (whole script, default 240 s), MMFS_CMD_TIMEOUT (one
# asserted command, default 120 s), MMFS_KEEP=1 (keep the temp dir).

# Automake runs tests with $(SHELL), which may be dash: switch to bash.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi

set -eE -u -o pipefail
export LC_ALL=C

MMFS_NAME=$(basename "$0")
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${PYTHON3:=python3}"
if [ "$PYTHON3" = no ]; then
	PYTHON3=python3
fi
# Resolve wrappers (pyenv shims cost a second per start) to the interpreter.
if py_real=$("$PYTHON3" -c 'import sys; print(sys.executable)' 2>/dev/null) &&
   [ -x "$py_real" ]; then
	PYTHON3=$py_real
fi
MMAPFS=$top_builddir/src/mmapfs
MMAPFSCTL=$top_builddir/tools/mmapfsctl
export top_srcdir top_builddir PYTHON3 MMAPFS MMAPFSCTL

MMFS_NCHECK=0
MMFS_PID=
MMFS_LOG=
MMFS_CUR_MNT=
MMFS_MOUNTS=()		# every mount point we mounted, for the cleanup
MMFS_PIDS=()		# every daemon we started
MMFS_LOGS=()		# every daemon log
MMFS_AS=()		# a prefix that runs mmfs_alive's check as the mount's user
MMFS_CLEANUP_HOOKS=()	# commands (strings) run by the cleanup, last first
MMFS_WATCHDOG=

# ---------------------------------------------------------------- reporting

# fail MESSAGE... - the test failed; the EXIT trap cleans up.
fail()
{
	printf 'FAIL: %s: %s\n' "$MMFS_NAME" "$*" >&2
	exit 1
}

skip()
{
	printf 'SKIP: %s: %s\n' "$MMFS_NAME" "$*" >&2
	exit 77
}

# ok DESCRIPTION - one passed check.
ok()
{
	MMFS_NCHECK=$((MMFS_NCHECK + 1))
	printf 'ok %d - %s\n' "$MMFS_NCHECK" "$*"
}

# An unchecked command failed: name it with its call chain (innermost
# first), e.g. "lib.sh:230 t-data.sh:87".
mmfs__on_err()
{
	local rc=$1 cmd=$2 i where=
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		where+=" ${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]}"
	done
	printf 'FAIL: %s: command exited %s at%s: %s\n' \
		"$MMFS_NAME" "$rc" "$where" "$cmd" >&2
	exit 1
}
trap 'mmfs__on_err $? "$BASH_COMMAND"' ERR

# ---------------------------------------------------------------- assertions

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq()
{
	local what=${3:-value}
	if [ "$1" != "$2" ]; then
		if [[ $1$2 == *$'\n'* ]]; then
			fail "$what: differs (- expected, + got):" \
				"$(diff -u <(echo "$1") <(echo "$2") |
					tail -n +3 || true)"
		fi
		fail "$what: expected '$1', got '$2'"
	fi
	if [[ $1 == *$'\n'* ]] || [ ${#1} -gt 100 ]; then
		ok "$what"
	else
		ok "$what = '$1'"
	fi
}

# assert_ne UNEXPECTED ACTUAL [WHAT]
assert_ne()
{
	local what=${3:-value}
	if [ "$1" = "$2" ]; then
		fail "$what: expected anything but '$1', got it"
	fi
	ok "$what != '$1'"
}

# assert_file_eq EXPECTED_FILE ACTUAL_FILE [WHAT] - same bytes (cmp).
assert_file_eq()
{
	local what=${3:-"$2 == $1"} out
	if ! out=$(timeout -k 5 120 cmp -- "$1" "$2" 2>&1); then
		fail "$what: contents differ: $out" \
			"(sizes: expected $(stat -c %s -- "$1" 2>&1)," \
			"got $(stat -c %s -- "$2" 2>&1))"
	fi
	ok "$what"
}

# assert_content FILE STRING [WHAT] - the file holds exactly STRING.
assert_content()
{
	local what=${3:-"content of $1"} got
	if ! got=$(timeout -k 5 60 cat -- "$1" 2>&1); then
		fail "$what: cannot read $1: $got"
	fi
	if [ "$got" != "$2" ]; then
		fail "$what: expected '$2', got '$got'"
	fi
	ok "$what = '$2'"
}

# assert_size FILE BYTES [WHAT] - st_size as stat(1) reports it.
assert_size()
{
	local what=${3:-"size of $1"} got
	got=$(stat -c %s -- "$1" 2>&1) || fail "$what: stat failed: $got"
	assert_eq "$2" "$got" "$what"
}

# mmfs__run CMD... - run a command under the per-command deadline; shell
# functions (py, ...) run directly: they apply their own deadlines.
mmfs__run()
{
	if declare -F "$1" >/dev/null; then
		"$@"
	else
		timeout -k 5 "${MMFS_CMD_TIMEOUT:-120}" "$@"
	fi
}

# assert_ok CMD... - the command succeeds (within a deadline).
assert_ok()
{
	local out rc=0
	out=$(mmfs__run "$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "'$*': expected success, got exit status $rc: $out"
	fi
	ok "$*"
}

# assert_status STATUS CMD... - the command exits with exactly STATUS.
assert_status()
{
	local want=$1 out rc=0
	shift
	out=$(mmfs__run "$@" 2>&1) || rc=$?
	if [ "$rc" != "$want" ]; then
		fail "'$*': expected exit status $want, got $rc: $out"
	fi
	ok "'$*' exits $want"
}

# assert_fails_with ERRNO_TEXT CMD... - the command fails and its stderr
# names the error, e.g. assert_fails_with "Read-only file system" touch f
assert_fails_with()
{
	local want=$1 out rc=0
	shift
	out=$(mmfs__run "$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		fail "'$*': expected failure with '$want', but it succeeded:" \
			"$out"
	fi
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail "'$*': expected failure with '$want', but it timed out"
	fi
	case $out in
	*"$want"*) ;;
	*) fail "'$*': expected error '$want', got (status $rc): $out" ;;
	esac
	ok "'$*' fails with '$want'"
}

# deadline SECONDS CMD... - run a command that could hang on a broken mount.
deadline()
{
	local secs=$1
	shift
	timeout -k 5 "$secs" "$@"
}

# wait_until SECONDS CMD... - poll CMD (every 50 ms) until it succeeds;
# returns 1 when the deadline passes first.
wait_until()
{
	local n=$(($1 * 20)) i
	shift
	for ((i = 0; i < n; i++)); do
		if "$@"; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# missing_then_made MNTPATH BACKPATH BYTES - have the kernel cache
# MNTPATH as missing (a stat that fails), then make its file behind the
# mount with BYTES: the next open(O_CREAT) of it is a CREATE of a name
# that is there.
missing_then_made()
{
	if stat "$1" >/dev/null 2>&1; then
		fail "missing_then_made: $1 is there already"
	fi
	printf '%s' "$3" >"$2"
}

# py [ARGS...] - run a Python program from stdin (a here-document).
py()
{
	timeout -k 5 "${MMFS_CMD_TIMEOUT:-120}" "$PYTHON3" - "$@"
}

# tree_listing DIR - a canonical listing of a tree: type, mode, size,
# link count, mtime, name, symlink target, sha256 of regular files.
tree_listing()
{
	(
		cd "$1" &&
		find . -printf '%y %m %s %n %u %g %T@ %p -> %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum
	)
}

# ---------------------------------------------------------------- gate

# mmfs_require_fuse - skip (77) only when FUSE is truly missing here; fail
# instead when MMAPFS_REQUIRE_FUSE=1.  Also checks the daemon was built.
mmfs_require_fuse()
{
	local why=
	if [ ! -c /dev/fuse ]; then
		why="/dev/fuse is missing"
	elif ! command -v fusermount3 >/dev/null 2>&1; then
		why="fusermount3 is missing"
	fi
	if [ -n "$why" ]; then
		if [ "${MMAPFS_REQUIRE_FUSE:-0}" = 1 ]; then
			fail "$why (and MMAPFS_REQUIRE_FUSE=1)"
		fi
		skip "$why"
	fi
	mmfs_require_daemon
}

# mmfs_require_daemon - the daemon binary must exist (make check builds it).
mmfs_require_daemon()
{
	if [ ! -x "$MMAPFS" ]; then
		fail "daemon not built: $MMAPFS"
	fi
}

# ---------------------------------------------------------------- temp dir

T=$(mktemp -d "${TMPDIR:-/tmp}/mmfs-${MMFS_NAME%.sh}.XXXXXX")
B=$T/backing
M=$T/mnt
mkdir "$B" "$M"
: >"$T/.pids"
: >"$T/.mnts"

# ---------------------------------------------------------------- mounting

# mmfs__conn MOUNTPOINT - the FUSE connection number (the minor device of
# the mount) read from mountinfo, which touches no file system.
mmfs__conn()
{
	awk -v m="$1" '$5 == m { split($3, d, ":"); print d[2] }' \
		/proc/self/mountinfo | tail -n 1
}

# mmfs__abort MOUNTPOINT - abort its FUSE connection (fusectl, mounted
# here if it is not yet): processes stuck on a hung daemon get ENOTCONN.
mmfs__abort()
{
	local conn ctl=/sys/fs/fuse/connections
	conn=$(mmfs__conn "$1")
	[ -n "$conn" ] || return 0
	[ -e "$ctl/$conn" ] || mount -t fusectl fusectl "$ctl" 2>/dev/null
	[ -w "$ctl/$conn/abort" ] && echo 1 >"$ctl/$conn/abort"
	return 0
}

mmfs__is_mounted()
{
	awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo
}

# mmfs__pid_alive PID - alive and not a zombie.
mmfs__pid_alive()
{
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$st" != Z ] && [ "$st" != X ]
}

# mmfs__wait_mounted PID MOUNTPOINT LOG - poll until mounted (10 s).
mmfs__wait_mounted()
{
	local pid=$1 mnt=$2 log=$3 i
	for ((i = 0; i < 200; i++)); do
		# the mount table, not stat(2): a user's mount refuses root
		if mmfs__is_mounted "$mnt"; then
			return 0
		fi
		if [ -n "$pid" ] && ! mmfs__pid_alive "$pid"; then
			fail "daemon exited before mounting $mnt; log:" \
				"$(cat "$log" 2>/dev/null)"
		fi
		sleep 0.05
	done
	fail "$mnt not mounted after 10 s; log: $(cat "$log" 2>/dev/null)"
}

# mmfs_start MOUNTPOINT ARGS... - run "$MMAPFS -f [-d] ARGS..." in the
# background and wait until MOUNTPOINT is mounted.  Sets MMFS_PID, MMFS_LOG.
mmfs_start()
{
	local mnt=$1 dbg=()
	shift
	mmfs_require_daemon
	if [ "${MMFS_DEBUG:-0}" = 1 ]; then
		dbg=(-d)
	fi
	MMFS_LOG=$T/daemon.${#MMFS_LOGS[@]}.log
	MMFS_LOGS+=("$MMFS_LOG")
	"$MMAPFS" -f "${dbg[@]}" "$@" >"$MMFS_LOG" 2>&1 &
	MMFS_PID=$!
	MMFS_PIDS+=("$MMFS_PID")
	MMFS_MOUNTS+=("$mnt")
	MMFS_CUR_MNT=$mnt
	echo "$MMFS_PID" >>"$T/.pids"
	echo "$mnt" >>"$T/.mnts"
	mmfs__wait_mounted "$MMFS_PID" "$mnt" "$MMFS_LOG"
}

# mmfs__opts OUT_ARRAY ARGS... - turn "access=read -s -o a,b" into daemon
# arguments: bare words join into one -o list, dashed ones pass through.
mmfs__opts()
{
	local -n out=$1
	local words=() a
	shift
	out=()
	while [ $# -gt 0 ]; do
		a=$1
		shift
		case $a in
		-o)	words+=("$1"); shift ;;
		-o*)	words+=("${a#-o}") ;;
		-*)	out+=("$a") ;;
		*)	words+=("$a") ;;
		esac
	done
	if [ ${#words[@]} -gt 0 ]; then
		local IFS=,
		out+=(-o "${words[*]}")
	fi
}

# mmfs_mount_at BACKING MOUNTPOINT [OPT...]
mmfs_mount_at()
{
	local back=$1 mnt=$2 args
	shift 2
	mmfs__opts args "$@"
	mmfs_start "$mnt" "${args[@]}" "$back" "$mnt"
}

# mmfs_mount [OPT...] - mount $B on $M.
mmfs_mount()
{
	mmfs_mount_at "$B" "$M" "$@"
}

# mmfs_anon_mount [OPT...] - an anonymous mount on $M.
mmfs_anon_mount()
{
	local args
	mmfs__opts args anon "$@"
	mmfs_start "$M" "${args[@]}" "$M"
}

# mmfs_alive [WHAT] - the current daemon still runs and still serves.
mmfs_alive()
{
	local what=${1:-daemon alive}
	if [ -z "$MMFS_PID" ]; then
		fail "$what: no daemon was started"
	fi
	if ! mmfs__pid_alive "$MMFS_PID"; then
		local rc=0
		wait "$MMFS_PID" 2>/dev/null || rc=$?
		fail "$what: daemon $MMFS_PID died (status $rc)"
	fi
	if ! timeout -k 2 10 "${MMFS_AS[@]}" stat -f "$MMFS_CUR_MNT" \
		>/dev/null 2>&1; then
		fail "$what: $MMFS_CUR_MNT no longer answers statfs"
	fi
	ok "$what"
}

# mmfs__unmount MOUNTPOINT - lazy as a last resort; returns 1 if it had to.
mmfs__unmount()
{
	local mnt=$1 i
	mmfs__is_mounted "$mnt" || return 0
	for ((i = 0; i < 50; i++)); do
		if fusermount3 -u "$mnt" 2>/dev/null ||
		   ! mmfs__is_mounted "$mnt"; then
			return 0
		fi
		sleep 0.1
	done
	fusermount3 -uz "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null ||
		true
	return 1
}

# mmfs__reap PID - wait up to 10 s for a daemon to exit, then kill it.
# Sets MMFS_REAP_RC to its exit status, or "timeout".  (Not usable in
# $(...): a subshell cannot wait for its parent's children.)
mmfs__reap()
{
	local pid=$1 i rc=0
	MMFS_REAP_RC=
	for ((i = 0; i < 100; i++)); do
		mmfs__pid_alive "$pid" || break
		sleep 0.1
	done
	if mmfs__pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 30; i++)); do
			mmfs__pid_alive "$pid" || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		MMFS_REAP_RC=timeout
		return
	fi
	wait "$pid" 2>/dev/null || rc=$?
	MMFS_REAP_RC=$rc
}

# mmfs__forget_pid PID - a reaped daemon: the cleanup must not signal its
# (possibly reused) pid.
mmfs__forget_pid()
{
	local keep=() p
	for p in "${MMFS_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	MMFS_PIDS=("${keep[@]}")
}

# mmfs_umount [MOUNTPOINT] - unmount; the daemon must then exit with 0.
mmfs_umount()
{
	local mnt=${1:-$MMFS_CUR_MNT} rc
	if ! mmfs__unmount "$mnt"; then
		fail "$mnt busy: fusermount3 -u kept failing (lazily unmounted)"
	fi
	if [ "$mnt" = "$MMFS_CUR_MNT" ] && [ -n "$MMFS_PID" ]; then
		mmfs__reap "$MMFS_PID"
		rc=$MMFS_REAP_RC
		if [ "$rc" != 0 ]; then
			fail "daemon did not exit cleanly after unmount" \
				"(status $rc); log: $(tail -n 50 "$MMFS_LOG")"
		fi
		mmfs__forget_pid "$MMFS_PID"
		MMFS_PID=
	fi
	ok "unmounted $mnt"
}

# mmfs_end_by SIGNAL [WHAT] - send SIGNAL to the current daemon: it must
# end within 10 s with status 0, its mount point unmounted.
mmfs_end_by()
{
	local sig=$1 what=${2:+$2: } rc=0
	kill -"$sig" "$MMFS_PID"
	deadline 10 tail --pid="$MMFS_PID" -f /dev/null || rc=$?
	assert_eq 0 "$rc" "${what}daemon ended within 10 s of SIG$sig"
	rc=0
	wait "$MMFS_PID" || rc=$?
	assert_eq 0 "$rc" "${what}exit status after SIG$sig"
	mountpoint -q "$MMFS_CUR_MNT" &&
		fail "${what}still mounted after SIG$sig"
	ok "${what}SIG$sig unmounted $MMFS_CUR_MNT"
	mmfs__forget_pid "$MMFS_PID"
	MMFS_PID=
}

# mmfs_done - end of a test: the daemon is alive, unmount, print a summary.
mmfs_done()
{
	if [ -n "$MMFS_PID" ]; then
		mmfs_alive "daemon alive at the end"
		mmfs_umount
	fi
	printf '# %s: %d checks passed\n' "$MMFS_NAME" "$MMFS_NCHECK"
	exit 0
}

# ---------------------------------------------------------------- cleanup

mmfs__cleanup()
{
	local rc=$? i mnt pid leftover
	trap - EXIT ERR
	set +e
	if [ -n "$MMFS_WATCHDOG" ]; then
		kill -TERM "$MMFS_WATCHDOG" 2>/dev/null
		wait "$MMFS_WATCHDOG" 2>/dev/null
	fi
	# Background helpers of the test (not the daemons) would keep the
	# mount busy.
	for pid in $(jobs -p); do
		case " ${MMFS_PIDS[*]} " in
		*" $pid "*) ;;
		*) kill -KILL "$pid" 2>/dev/null ;;
		esac
	done
	for ((i = ${#MMFS_MOUNTS[@]} - 1; i >= 0; i--)); do
		mmfs__unmount "${MMFS_MOUNTS[i]}"
	done
	for ((i = ${#MMFS_CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${MMFS_CLEANUP_HOOKS[i]}"
	done
	for pid in "${MMFS_PIDS[@]}"; do
		if mmfs__pid_alive "$pid"; then
			kill -TERM "$pid" 2>/dev/null
		fi
	done
	for pid in "${MMFS_PIDS[@]}"; do
		mmfs__reap "$pid"
		[ "$MMFS_REAP_RC" = timeout ] &&
			echo "# daemon $pid had to be killed" >&2
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for i in "${MMFS_LOGS[@]}"; do
			[ -s "$i" ] || continue
			echo "----- daemon log $i (last 200 lines) -----" >&2
			tail -n 200 "$i" >&2
		done
	fi
	leftover=$(awk -v t="$T/" 'index($5, t) == 1 { print $5 }' \
		/proc/self/mountinfo)
	if [ -n "$leftover" ]; then
		echo "# still mounted, keeping $T: $leftover" >&2
	elif [ "${MMFS_KEEP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf --one-file-system "$T"
	fi
	exit "$rc"
}
trap mmfs__cleanup EXIT
trap 'fail "terminated (watchdog or signal)"' TERM INT HUP

# ---------------------------------------------------------------- watchdog

# The watchdog aborts the FUSE connections, kills the daemons and this
# script's other children, then terminates the script: a hung mount can
# not hold up make check.
mmfs__watchdog()
{
	local secs=$1 main=$2 sp='' conn mnt pid
	trap '[ -n "$sp" ] && kill "$sp" 2>/dev/null; exit 0' TERM
	sleep "$secs" &
	sp=$!
	wait "$sp" 2>/dev/null
	echo "FAIL: $MMFS_NAME: watchdog: test ran longer than ${secs}s" >&2
	while read -r mnt; do
		mmfs__abort "$mnt"
	done <"$T/.mnts"
	while read -r pid; do
		kill -KILL "$pid" 2>/dev/null
	done <"$T/.pids"
	for pid in $(ps -o pid= --ppid "$main"); do
		[ "$pid" = "$BASHPID" ] || kill -KILL "$pid" 2>/dev/null
	done
	kill -TERM "$main"
	exit 0
}
(
	trap 'exit 0' TERM
	trap - EXIT ERR INT HUP
	set +e
	mmfs__watchdog "${MMFS_TEST_TIMEOUT:-240}" $$
) &
MMFS_WATCHDOG=$!
