#!/bin/bash
# tests/stress/t-stress.sh - concurrency and limits on one mount: the stress
# program's processes and threads on the same files for a bounded time
# (every byte checked through the mount, then again in the backing files
# after unmount), thousands of files open at once, and vm.max_map_count
# lowered so that the daemon cannot map every file (as root only).  The
# daemon must stay alive, answer everything and log no error.
#
# Knobs (make check-stress and tsan.sh set them): STRESS_DURATION (s),
# STRESS_PROCS, STRESS_THREADS, STRESS_OPEN (files the openers hold),
# STRESS_SEED, STRESS_MANY (files of the many-files part), STRESS_PARTS
# (any of: run many limit), STRESS_MMAPFS (another daemon binary),
# STRESS_KEEP_LOG (copy the daemon's log there at the end),
# STRESS_LOG_ALLOW (daemon log lines that are no error, an ERE).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

: "${STRESS_DURATION:=8}"
: "${STRESS_PROCS:=2}"
: "${STRESS_THREADS:=4}"
: "${STRESS_OPEN:=600}"
: "${STRESS_MANY:=5000}"
: "${STRESS_PARTS:=run many limit}"
: "${STRESS_SEED:=$(( (RANDOM << 15 | RANDOM) ))}"
STRESS=$top_builddir/tests/stress/stress
MMAPFS=${STRESS_MMAPFS:-$MMAPFS}

mmfs_require_fuse
[ -x "$STRESS" ] || fail "not built: $STRESS"

part()
{
	case " $STRESS_PARTS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# Every open file costs the daemon three descriptors (the inode's, the
# handle's, the mapping's): give it room for the many-files part.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
nofile=$(ulimit -n)
if [ "$nofile" != unlimited ] && [ $((STRESS_MANY * 3 + 2000)) -gt "$nofile" ]
then
	STRESS_MANY=$(((nofile - 2000) / 3))
	echo "# RLIMIT_NOFILE is $nofile: the many-files part opens" \
		"$STRESS_MANY files"
fi

if [ -n "${STRESS_KEEP_LOG:-}" ]; then
	MMFS_CLEANUP_HOOKS+=('cp "$MMFS_LOG" "$STRESS_KEEP_LOG" 2>/dev/null')
fi

mmfs_mount

# ---------------------------------------------------------------- run

if part run; then
	mkdir "$M/run"
	echo "# stress -d \$M/run -t $STRESS_DURATION -p $STRESS_PROCS" \
		"-j $STRESS_THREADS -F $STRESS_OPEN -S $STRESS_SEED"
	rc=0
	deadline $((${STRESS_DURATION%.*} + 180)) "$STRESS" -d "$M/run" \
		-t "$STRESS_DURATION" -p "$STRESS_PROCS" -j "$STRESS_THREADS" \
		-F "$STRESS_OPEN" -S "$STRESS_SEED" -x "$T/expect" || rc=$?
	[ "$rc" -eq 0 ] ||
		fail "stress run failed (status $rc, seed $STRESS_SEED)"
	ok "stress run: every byte written is there, through the mount"
	mmfs_alive "daemon alive after the stress run"
fi

# ---------------------------------------------------------------- many

if part many; then
	mkdir "$M/many"
	rc=0
	deadline 300 "$STRESS" -d "$M/many" -M "$STRESS_MANY" -w 60 || rc=$?
	[ "$rc" -eq 0 ] || fail "many-files part failed (status $rc)"
	ok "$STRESS_MANY files open at once: every byte read back"
	mmfs_alive "daemon alive after $STRESS_MANY files open at once"
	assert_eq "" "$(ls -A "$M/many")" "many-files directory empty again"
fi

# ---------------------------------------------------------------- limit

MAPS=/proc/sys/vm/max_map_count
limit_refusals=0
if part limit; then
	if [ "$(id -u)" -ne 0 ] || ! [ -w "$MAPS" ] ||
	   ! orig=$(cat "$MAPS") || ! echo "$orig" >"$MAPS" 2>/dev/null; then
		echo "# skipped the mapping-limit part: $MAPS is not writable"
	else
		# The stress program lowers and restores the limit itself;
		# this is the safety net if it dies in between.
		MMFS_CLEANUP_HOOKS+=("echo $orig >$MAPS")
		mkdir "$M/lim"
		rc=0
		deadline 240 "$STRESS" -d "$M/lim" -L 300 -P 1000 -m 40 \
			-D "$MMFS_PID" -w 60 || rc=$?
		assert_eq "$orig" "$(cat "$MAPS")" "$MAPS restored"
		[ "$rc" -eq 0 ] || fail "mapping-limit part failed (status $rc)"
		ok "mapping limit: ENOMEM/ENFILE, no crash, room after close"
		mmfs_alive "daemon alive after the mapping limit"
		limit_refusals=$(grep -c \
			'mapping inode .*: Cannot allocate memory' \
			"$MMFS_LOG" || true)
	fi
fi

# ---------------------------------------------------------------- the log

# The only thing the daemon may have said: that it could not map a file
# while the mapping limit was lowered (and what STRESS_LOG_ALLOW, an
# extended regular expression, allows: tsan.sh's symbolizer notes).
noise=$(grep -v 'mapping inode [0-9]*: Cannot allocate memory$' "$MMFS_LOG" |
	grep -Ev "${STRESS_LOG_ALLOW:-^\$}" | head -n 40 || true)
if [ -n "$noise" ]; then
	fail "the daemon logged:"$'\n'"$noise"
fi
ok "daemon log free of errors ($limit_refusals refused mappings logged)"

mmfs_umount

# ---------------------------------------------------------------- backing

if part run; then
	rc=0
	deadline 120 "$STRESS" -d "$B/run" -V "$T/expect" || rc=$?
	[ "$rc" -eq 0 ] || fail "the backing files differ from the model"
	ok "every byte of the stress run is in the backing files"
fi
if [ -n "${STRESS_KEEP_LOG:-}" ]; then
	cp "$MMFS_LOG" "$STRESS_KEEP_LOG"
fi
mmfs_done
