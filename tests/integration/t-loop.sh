#!/bin/bash
# tests/integration/t-loop.sh - the request loop (src/loop.c).
#  1. A request that waits does not hold up the others: an fsync stuck in
#     the backing file system (itself a mount, stopped with SIGSTOP) leaves
#     stat and read of other files served, and so do a small write stuck
#     there and the fsync of a client that sent all the last requests
#     (neither hands off: the watchdog steps in); with -s they wait behind
#     it, as the man page says.
#  2. Polling between requests: a client's run of requests finds the
#     reading thread awake (few voluntary context switches with a long
#     -o spin; spin=0's count is printed beside it), and an idle mount
#     costs the daemon no CPU time.
#  3. -o spin takes 0 to 10000 and nothing else.
#  4. SIGTERM and SIGINT end a busy daemon, and SIGTERM an idle one and
#     one with a file held open, with status 0, and it unmounts.  (Built
#     with -fsanitize=address, the daemon's exit status also says that
#     the handle the kernel never released was freed.)
#  5. Order: a READ sent while a WRITE of the same pages is still being
#     served (a write over 64 KiB hands the lead on, and three clients on
#     two CPUs bring helpers) waits for it.  A writer reading
#     back its own 1 MiB writes, while readers fstat and read the file and
#     so make the kernel drop and fetch its pages again, always sees what
#     it wrote (readback.c).  cache=never fetches the attributes on every
#     read, which widens the window: without the wait, one read-back in
#     six to nine came back stale.
#  6. A client alone keeps one thread: its fsyncs do not hand the
#     reading on.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse

# ------------------------------------------------- 1. blocked, not stuck
# INNER serves X; the mount under test uses INNER's mount point as its
# backing directory.  cache=always on INNER: its names, attributes and
# pages stay in the kernel, so stat and read reach INNER's daemon only
# for the fsync (or the write).
X=$T/x
INNER=$T/inner
mkdir "$X" "$INNER"
head -c 100000 /dev/urandom >"$X/g"
printf 'data of f\n' >"$X/f"
mmfs_mount_at "$X" "$INNER" -o cache=always
inner_pid=$MMFS_PID
MMFS_CLEANUP_HOOKS+=("kill -CONT $inner_pid 2>/dev/null")
cat "$INNER/g" "$INNER/f" >/dev/null
# A helper keeps g's pages mapped through INNER until the section ends:
# drop_caches (t-fds, running beside this test, writes it) leaves mapped
# pages in the cache, so reading g never needs the stopped INNER.  (On a
# failure the harness's cleanup kills it, as every background job.)
"$PYTHON3" - "$INNER/g" "$T/pinned" <<'EOF' &
import mmap, sys, time
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
sum(m[i] for i in range(0, len(m), mmap.PAGESIZE))
open(sys.argv[2], "w").close()
while True:
    time.sleep(60)
EOF
pin_pid=$!
wait_until 10 test -e "$T/pinned" || fail "g's pages were not mapped"

# all_stopped PID: every thread of PID is stopped.  kill -STOP returns
# once the signal is queued; the group stop begins only when the thread
# chosen for it runs, and until then the others go on serving (seen when
# a test running beside this one kept a CPU busy in drop_caches).
all_stopped()
{
	local f st
	for f in /proc/"$1"/task/*/stat; do
		read -r st <"$f" || return 1
		st=${st##*) } # the state follows "(comm) "
		[ "${st:0:1}" = T ] || return 1
	done
}

# blocked OP OPTS...: mount INNER at $M with OPTS; a client writes to f,
# INNER stops, and the client's OP (fsync; solefsync, an fsync after ten
# fstats of its own; or a second write) waits in it; meanwhile stat and
# read g, with a 3 s deadline each.  g is held open, so its opens need
# nothing of INNER.  Sets STAT_RC and READ_RC (124: timed out), then lets
# INNER go on and checks the client's end.
blocked()
{
	local op=$1
	shift
	mmfs_mount_at "$INNER" "$M" -o cache=never "$@"
	exec 3<"$M/g"
	cat "$M/g" >/dev/null
	stat "$M/g" >/dev/null
	rm -f "$T/written" "$T/go"
	py "$M/f" "$T" "$op" >"$T/op.out" 2>&1 <<'EOF' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_APPEND)
os.write(fd, b"more\n")
if sys.argv[3] == "solefsync":
    for i in range(10):  # GETATTRs (cache=never): the last requests
        os.fstat(fd)     # are all this client's
open(sys.argv[2] + "/written", "w").close()
while not os.path.exists(sys.argv[2] + "/go"):
    time.sleep(0.01)
if sys.argv[3] in ("fsync", "solefsync"):
    os.fsync(fd)
else:
    os.write(fd, b"again\n")
print("done")
EOF
	op_pid=$!
	wait_until 10 test -e "$T/written" || fail "the first write did not end"
	kill -STOP "$inner_pid"
	wait_until 10 all_stopped "$inner_pid" ||
		fail "INNER's threads did not all stop"
	: >"$T/go"
	# the op is in INNER's queue once the client sleeps in it
	sleep 0.5
	kill -0 "$op_pid" 2>/dev/null ||
		fail "the $op did not wait for the stopped INNER:" \
			"$(cat "$T/op.out")"
	STAT_RC=0
	timeout -k 1 3 stat -c %s "$M/g" >"$T/stat.out" 2>&1 || STAT_RC=$?
	READ_RC=0
	timeout -k 1 3 cmp "$M/g" "$X/g" >"$T/read.out" 2>&1 || READ_RC=$?
	kill -CONT "$inner_pid"
	wait "$op_pid" || fail "the $op failed once INNER went on:" \
		"$(cat "$T/op.out")"
	assert_content "$T/op.out" "done"
	exec 3<&-
	mmfs_umount "$M"
}

# an fsync hands the reading on before it calls fsync(2)
blocked fsync
assert_eq 0 "$STAT_RC" "stat while an fsync waits: exit status"
assert_content "$T/stat.out" "100000"
assert_eq 0 "$READ_RC" "read of another file while an fsync waits: exit status"
# a small write does not, and the watchdog has another thread read on
blocked write
assert_eq 0 "$STAT_RC" "stat while a small write waits: exit status"
assert_eq 0 "$READ_RC" "read while a small write waits: exit status"
assert_content "$X/f" "data of f
more
more
again"
# the fsync of a client that sent all the last requests does not hand
# off (section 6); the watchdog has another thread read on
blocked solefsync
assert_eq 0 "$STAT_RC" "stat while a lone client's fsync waits: exit status"
assert_eq 0 "$READ_RC" "read while a lone client's fsync waits: exit status"
# -s: one thread, so the same stat waits for the fsync (this is what
# shows that the cases above would catch a loop that does not hand off)
blocked fsync -s
assert_eq 124 "$STAT_RC" "with -s, stat waits behind the fsync (timeout's status)"
kill "$pin_pid"
wait "$pin_pid" 2>/dev/null || true
mmfs_umount "$INNER"

# ------------------------------------------------- 2. polling
for i in $(seq 1 50); do : >"$B/s$i"; done
# vcsw: voluntary context switches of all the daemon's threads
vcsw()
{
	cat /proc/"$MMFS_PID"/task/*/status |
		awk '/^voluntary_ctxt_switches/ { n += $2 } END { print n }'
}
# run_stats N: N stat(2) calls, each a GETATTR (cache=never)
run_stats()
{
	py "$M" "$1" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    os.stat("%s/s%d" % (d, i % 50 + 1))
EOF
}
N=3000
mmfs_mount -o cache=never,spin=10000
run_stats 100
before=$(vcsw)
run_stats $N
spin_sw=$(($(vcsw) - before))
# idle: no polling once requests stop
sleep 0.2
read -r -a st <"/proc/$MMFS_PID/stat"
t0=$((st[13] + st[14]))
sleep 2
read -r -a st <"/proc/$MMFS_PID/stat"
idle_ticks=$((st[13] + st[14] - t0))
mmfs_umount

mmfs_mount -o cache=never,spin=0
run_stats 100
before=$(vcsw)
run_stats $N
sleep_sw=$(($(vcsw) - before))
mmfs_umount

# With spin=0 the thread sleeps whenever no request waits as it reads:
# about once for each of the 2 N requests on a quiet machine, less on a
# busy one (the client may send its next while the daemon is preempted).
[ "$spin_sw" -le $((N / 4)) ] ||
	fail "spin=10000: $spin_sw voluntary switches for $N stats" \
		"(spin=0: $sleep_sw), want a quarter of the requests or fewer"
ok "the reading thread stays awake between requests: $spin_sw voluntary" \
	"switches for $N stats, $sleep_sw with spin=0"
[ "$idle_ticks" -le 10 ] ||
	fail "an idle mount used $idle_ticks clock ticks of CPU in 2 s"
ok "an idle mount uses no CPU ($idle_ticks ticks in 2 s)"

# ------------------------------------------------- 3. the option
for bad in x -1 10001 5us ""; do
	assert_status 1 "$MMAPFS" -f -o "spin=$bad" "$B" "$M"
	out=$("$MMAPFS" -f -o "spin=$bad" "$B" "$M" 2>&1 || true)
	assert_eq \
		"mmapfs: bad value for spin: '$bad' (expected microseconds, 0 to 10000)" \
		"$out" "message for spin=$bad"
done
mountpoint -q "$M" && fail "a bad spin= mounted"
mmfs_mount -o spin=10000
echo x >"$M/ok"
assert_content "$B/ok" "x"
mmfs_umount

# ------------------------------------------------- 4. the end by a signal
# The threads leave the signals to the main thread, which cancels the
# reading thread(s): SIGTERM and SIGINT end the daemon with status 0 and
# unmount, while clients keep reading or when none sends anything (then
# only the cancel wakes the reading thread).
head -c $((4 << 20)) /dev/urandom >"$B/r"
# a background job starts with SIGINT ignored, which libfuse leaves so
real_daemon=$MMAPFS
cat >"$T/mmapfs-int" <<EOF
#!/bin/bash
exec env --default-signal=INT "$real_daemon" "\$@"
EOF
chmod +x "$T/mmapfs-int"
for c in TERM:busy INT:busy TERM:idle TERM:held; do
	sig=${c%:*} how=${c#*:}
	MMAPFS=$real_daemon
	[ "$sig" = INT ] && MMAPFS=$T/mmapfs-int
	mmfs_mount
	busy=
	if [ "$how" = busy ]; then
		(
			set +eE
			trap - ERR
			while :; do
				cat "$M/r" >/dev/null 2>&1
				stat "$M/r" >/dev/null 2>&1
			done
		) &
		busy=$!
	elif [ "$how" = held ]; then
		exec 7<"$M/r"
	else
		cat "$M/r" >/dev/null # then the reading thread sleeps
	fi
	sleep 0.3
	mmfs_end_by "$sig" "$how"
	[ "$how" = held ] && exec 7<&-
	if [ -n "$busy" ]; then
		kill "$busy" 2>/dev/null || true
		wait "$busy" 2>/dev/null || true
	fi
done
MMAPFS=$real_daemon

# ------------------------------------------------- 5. reads after writes
for cache in never auto; do
	mmfs_mount -o cache=$cache
	out=$("$top_builddir/tests/integration/readback" "$M/rb" 3 2) ||
		fail "cache=$cache: a write read back stale: $out"
	writes=${out##*: }
	writes=${writes%% writes*}
	[ "$writes" -ge 50 ] ||
		fail "cache=$cache: only $writes writes in 3 s: $out"
	ok "cache=$cache: $out"
	mmfs_umount
done

# ------------------------------------------------- 6. one client
# A client alone, appending 4 KiB and fsyncing 300 times: each fsync
# would hand the reading on, and the next write wake the other thread;
# while the last requests all came from that client, one thread serves
# them all.  Counted: the daemon's threads whose voluntary context
# switches rose by 150 or more meanwhile (an fsync waits for the disk
# once), but for the watchdog, which ticks every 10 ms however slow the
# disk.  Handing off made it two.  An fsync that takes longer than the
# watchdog's 10 ms (a disk busy with other writers) is deposed as any
# long request is, and the next thread may serve the rest: then one more
# busy thread per such fsync is allowed, and the count is printed.
# switches: each thread of the daemon but the watchdog, and its voluntary
# context switches
switches()
{
	local t
	for t in /proc/"$MMFS_PID"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = mmapfs-watchdog ] && continue
		awk -v t="${t##*/}" \
			'/^voluntary_ctxt_switches/ { print t, $2 }' \
			"$t/status" 2>/dev/null || true
	done
}
mmfs_mount
rm -f "$T/go" "$T/went"
py "$M/sole" "$T" <<'EOF' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(20):
    os.pwrite(fd, b"a" * 4096, i * 4096)
    os.fsync(fd)
open(sys.argv[2] + "/went", "w").close()
while not os.path.exists(sys.argv[2] + "/go"):
    time.sleep(0.01)
slow = 0
for i in range(300):
    os.pwrite(fd, b"b" * 4096, i * 4096)
    t = time.monotonic()
    os.fsync(fd)
    slow += time.monotonic() - t >= 0.008
os.close(fd)
with open(sys.argv[2] + "/slow", "w") as f:
    f.write("%d\n" % slow)
EOF
sole_pid=$!
wait_until 10 test -e "$T/went" || fail "the client's first fsyncs did not end"
switches >"$T/sw.before"
: >"$T/go"
wait "$sole_pid" || fail "the client's fsyncs failed"
switches >"$T/sw.after"
busy=$(awk 'NR == FNR { b[$1] = $2; next }
	$2 - b[$1] >= 150 { n++ } END { print n + 0 }' \
	"$T/sw.before" "$T/sw.after")
slow=$(cat "$T/slow")
if [ "$slow" -eq 0 ]; then
	assert_eq 1 "$busy" "one client's 300 fsyncs: threads busy with them"
else
	[ "$busy" -ge 1 ] && [ "$busy" -le $((1 + slow)) ] ||
		fail "one client's 300 fsyncs ($slow over 8 ms): $busy threads" \
			"busy with them, want 1 to $((1 + slow))"
	ok "one client's 300 fsyncs: $busy threads busy with them" \
		"($slow fsyncs over 8 ms, which the watchdog may pass on)"
fi
assert_size "$M/sole" $((300 * 4096)) "size after the fsyncs"
mmfs_umount

mmfs_done
