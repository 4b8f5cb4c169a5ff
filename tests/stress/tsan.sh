#!/bin/bash
# tests/stress/tsan.sh - the daemon built with ThreadSanitizer, in a build
# directory of its own, under the stress test (t-stress.sh, run part only)
# for TSAN_SECONDS; fails on any "WARNING: ThreadSanitizer" in the
# daemon's log and prints the reports' summaries.  Then five ends by
# SIGTERM under load, each to exit with status 0 and no report.  Run by make
# check-stress; by hand:
#	top_srcdir=SRC top_builddir=BUILD tests/stress/tsan.sh
# Knobs: TSAN_SECONDS (120), TSAN_CC (clang if present, else $CC),
# TSAN_DIR (BUILD/tsan-build), STRESS_PROCS/THREADS (2 x 6), STRESS_SEED.
set -eu -o pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
: "${TSAN_SECONDS:=120}"
if [ -z "${TSAN_CC:-}" ]; then
	if command -v clang >/dev/null 2>&1; then
		TSAN_CC=clang
	else
		TSAN_CC=${CC:-cc}
	fi
fi
TSAN_DIR=${TSAN_DIR:-$top_builddir/tsan-build}
LOG=$top_builddir/tsan-stress.log
CFLAGS_TSAN='-g -O1 -fsanitize=thread -fno-omit-frame-pointer'

echo "# ThreadSanitizer build of the daemon ($TSAN_CC) in $TSAN_DIR"
mkdir -p "$TSAN_DIR"
if [ ! -f "$TSAN_DIR/Makefile" ]; then
	(cd "$TSAN_DIR" &&
	 "$top_srcdir/configure" -q CC="$TSAN_CC" CFLAGS="$CFLAGS_TSAN" \
		LDFLAGS=-fsanitize=thread)
fi
make -s -C "$TSAN_DIR" -j2 src/mmapfs

rm -f "$LOG"
# Not errors: the symbolizer cannot read a mapped data file as an object
# when it names the location of a (suppressed) report; the suppression
# counts at exit.
allow='^(LLVMSymbolizer: error reading file|ThreadSanitizer: Matched '
allow+='[0-9]+ suppressions|[0-9]+ race:mmfs_guarded_[a-z]+$)'
tsan_opts="halt_on_error=0 second_deadlock_stack=1 print_suppressions=1"
tsan_opts+=" handle_sigbus=0"
tsan_opts+=" suppressions=$top_srcdir/tests/stress/tsan.supp"
rc=0
echo "# stress for ${TSAN_SECONDS} s against the ThreadSanitizer daemon"
TSAN_OPTIONS="$tsan_opts ${TSAN_OPTIONS:-}" \
STRESS_MMAPFS=$TSAN_DIR/src/mmapfs STRESS_PARTS=run \
STRESS_LOG_ALLOW="$allow" \
STRESS_DURATION=$TSAN_SECONDS STRESS_KEEP_LOG=$LOG \
STRESS_PROCS=${STRESS_PROCS:-2} STRESS_THREADS=${STRESS_THREADS:-6} \
STRESS_OPEN=${STRESS_OPEN:-300} \
MMFS_TEST_TIMEOUT=$((TSAN_SECONDS + 900)) \
	bash "$top_srcdir/tests/stress/t-stress.sh" || rc=$?

if [ ! -f "$LOG" ]; then
	echo "FAIL: tsan.sh: no daemon log was kept (t-stress.sh status $rc)"
	exit 1
fi
races=$(grep -c 'WARNING: ThreadSanitizer' "$LOG" || true)
if [ "$races" -gt 0 ]; then
	echo "FAIL: tsan.sh: $races ThreadSanitizer reports; the daemon's" \
		"log is $LOG; summaries:"
	grep '^SUMMARY: ThreadSanitizer' "$LOG" | sort | uniq -c | sort -rn
	exit 1
fi
if [ "$rc" -ne 0 ]; then
	echo "FAIL: tsan.sh: the stress test failed (status $rc)"
	exit 1
fi
echo "PASS: tsan.sh: no ThreadSanitizer report in ${TSAN_SECONDS} s of" \
	"stress"

# The end by SIGTERM while three clients keep the daemon's threads busy
# (helpers among them, waiting for requests in poll): five times, each
# must exit with status 0 and no report.  A thread cancelled inside poll
# once made every such end report a race in its exit handler.
T=$(mktemp -d /tmp/mmfs-tsan-term.XXXXXX)
trap 'fusermount3 -u "$T/mnt" 2>/dev/null || true; rm -rf "$T"' EXIT
mkdir "$T/back" "$T/mnt"
head -c $((8 << 20)) /dev/urandom >"$T/back/f"
for i in 1 2 3 4 5; do
	TSAN_OPTIONS="$tsan_opts ${TSAN_OPTIONS:-}" \
		"$TSAN_DIR/src/mmapfs" -f "$T/back" "$T/mnt" 2>"$T/log" &
	pid=$!
	for _ in $(seq 200); do
		mountpoint -q "$T/mnt" && break
		sleep 0.05
	done
	mountpoint -q "$T/mnt" || { echo "FAIL: tsan.sh: no mount"; exit 1; }
	clients=()
	for _ in 1 2 3; do
		(while :; do dd if="$T/mnt/f" of=/dev/null bs=64k \
			iflag=direct status=none 2>/dev/null || exit 0
		done) &
		clients+=($!)
	done
	sleep 1
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	kill "${clients[@]}" 2>/dev/null || true
	wait "${clients[@]}" 2>/dev/null || true
	fusermount3 -u "$T/mnt" 2>/dev/null || true
	if [ "$st" -ne 0 ] || grep -q 'WARNING: ThreadSanitizer' "$T/log"; then
		echo "FAIL: tsan.sh: SIGTERM under load, run $i: status $st"
		grep '^SUMMARY: ThreadSanitizer' "$T/log" || true
		exit 1
	fi
done
echo "PASS: tsan.sh: SIGTERM under load, 5 ends with status 0 and no report"
if grep -q '^ThreadSanitizer: Matched' "$LOG"; then
	echo "# suppressed (races on mapped file bytes, see tsan.supp):"
	sed -n '/^ThreadSanitizer: Matched/,$p' "$LOG" | grep ' race:'
fi
