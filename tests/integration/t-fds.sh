#!/bin/bash
# tests/integration/t-fds.sh - an open file costs the daemon one descriptor:
# the inode's own number, which holds an open description while handles
# exist (shared by them and by the map) and an O_PATH one again after the
# last close.  The daemon runs with a hard limit of 400 descriptors, and a
# client holds 300 files open through the mount at once, with every byte
# checked (at two or three descriptors per file, as the handles and maps
# once took, the opens failed after some 130-200 files).
# After the close no backing file is held open for writing (execve of it
# works), and a client that goes past the limit gets ENFILE, not a dead
# daemon, which serves again once the files are removed, and unmounts
# cleanly with every descriptor in use.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse

# Large reads are spliced through two pipes of the worker thread that
# serves them.  With -o max_idle_threads=1 the loop ends and starts threads
# all the time: each must close its pipes as it ends.
head -c $((8 << 20)) /dev/urandom >"$B/big"
mmfs_mount -o max_idle_threads=1,max_threads=6
daemon_fds() { find "/proc/$MMFS_PID/fd" -mindepth 1 | wc -l; }
before=$(daemon_fds)
# The descriptor table is grown at the start, for up to 65,536
# descriptors or the limit: grown later, with the threads sharing it,
# every doubling would wait for an RCU grace period (prune.c).
hard=$(ulimit -Hn)
want=$((hard < 65536 ? hard : 65536))
fdsize=$(awk '$1 == "FDSize:" { print $2 }' "/proc/$MMFS_PID/status")
[ "$fdsize" -ge "$want" ] ||
	fail "descriptor table for $fdsize at the start, not $want"
ok "descriptor table grown at the start ($fdsize slots, limit $hard)"
for round in 1 2 3 4 5; do
	pids=()
	for j in 1 2 3 4 5 6; do
		cmp -s "$B/big" "$M/big" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || fail "round $round: a read differs from BACKING"
	done
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
done
threads=$(find "/proc/$MMFS_PID/task" -mindepth 1 -maxdepth 1 | wc -l)
after=$(daemon_fds)
[ "$after" -le $((before + 4 * threads)) ] ||
	fail "descriptors: $before before 30 parallel reads, $after after," \
		"with $threads threads left (4 each at most)"
ok "ended workers closed their pipes ($before descriptors, then $after" \
	"with $threads threads)"
mmfs_umount
rm "$B/big"

# The daemon raises its soft limit to the hard one: lower the hard one.
real_daemon=$MMAPFS
cat >"$T/mmapfs-400" <<EOF
#!/bin/bash
ulimit -n 400 && exec "$real_daemon" "\$@"
EOF
chmod +x "$T/mmapfs-400"
MMAPFS=$T/mmapfs-400
mmfs_mount

# fdcount.py, put before the scripts that take MNT PID: daemon_fds()
cat >"$T/fdcount.py" <<'EOF'
import os, sys, time
mnt, pid = sys.argv[1], sys.argv[2]
def daemon_fds():
    # releases are asynchronous, and each one opens a descriptor for a
    # moment: wait until the count holds still for 0.1 s
    last = -1
    for _ in range(100):
        n = len(os.listdir("/proc/%s/fd" % pid))
        if n == last:
            return n
        last = n
        time.sleep(0.1)
    return last
EOF

# fds.py MNT PID: 300 files made, then all held open at once
cat >"$T/fds.py" <<'EOF'
N = 300
def content(i):
    return (b"file-%d;" % i) * (1 + i % 700)   # 7 bytes to 7 KiB
for i in range(N):
    with open(os.path.join(mnt, "f%d" % i), "wb") as f:
        f.write(content(i))
# O_PATH descriptors (no open reaches the daemon) keep the kernel from
# forgetting the inodes, say when something drops the caches meanwhile
pins = [os.open(os.path.join(mnt, "f%d" % i), os.O_PATH) for i in range(N)]
closed = daemon_fds()
modes = [os.O_RDONLY, os.O_RDWR, os.O_WRONLY]
fds = [os.open(os.path.join(mnt, "f%d" % i), modes[i % 3]) for i in range(N)]
held = daemon_fds()
assert held == closed, "daemon fds: %d with the files closed, %d open" % (
    closed, held)
# a second and third handle of a file share its descriptor too
more = [os.open(os.path.join(mnt, "f%d" % i), m)
        for i in range(20) for m in (os.O_RDONLY, os.O_WRONLY)]
assert daemon_fds() == closed, "second handles took descriptors"
for i, fd in enumerate(fds):
    want = content(i)
    if modes[i % 3] != os.O_WRONLY:
        got = os.pread(fd, len(want) + 10, 0)
        assert got == want, "f%d: read %r" % (i, got[:40])
    if modes[i % 3] != os.O_RDONLY:
        os.pwrite(fd, b"W%03d" % i, 1)
for fd in fds + more:
    os.close(fd)
for i in range(N):
    with open(os.path.join(mnt, "f%d" % i), "rb") as f:
        got = f.read()
    want = content(i)
    if modes[i % 3] != os.O_RDONLY:
        want = want[:1] + b"W%03d" % i + want[5:]
    assert got == want, "f%d after close: %r" % (i, got[:40])
print(closed, held)
EOF
out=$(cat "$T/fdcount.py" "$T/fds.py" | py "$M" "$MMFS_PID") ||
	fail "300 files open at once through a daemon limited to 400 fds"
ok "300 files open at once, daemon descriptors unchanged ($out)"

# Directories held open (a working directory, an fchdir target) cost the
# daemon nothing beyond the inode's descriptor either: a directory's stream
# is opened at its first readdir.  300 held at once under the same limit
# (at two descriptors each, as before, the opens failed with ENFILE); each
# one works as fchdir's target, 20 are listed while held, and after the
# close all 300 list.  A directory the daemon may not read still fails at
# open (t-access).
cat >"$T/dirs.py" <<'EOF'
N = 300
names = [os.path.join(mnt, "dir%d" % i) for i in range(N)]
for i, d in enumerate(names):
    os.mkdir(d)
    with open(os.path.join(d, "in%d" % i), "wb") as f:
        f.write(b"%d" % i)
pins = [os.open(d, os.O_PATH) for d in names]
known = daemon_fds()
fds = [os.open(d, os.O_RDONLY | os.O_DIRECTORY) for d in names]
held = daemon_fds()
assert held == known, "daemon fds: %d for the directories known, %d " \
    "with them open" % (known, held)
here = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
for i, fd in enumerate(fds):
    os.fchdir(fd)
    with open("in%d" % i, "rb") as f:
        assert f.read() == b"%d" % i, i
os.fchdir(here)
before = daemon_fds()  # the reads above may have given workers pipes
for i in range(20):
    assert os.listdir(fds[i]) == ["in%d" % i], i
listed = daemon_fds()
assert listed <= before + 20, "listing 20 open directories: %d fds, " \
    "then %d" % (before, listed)
for fd in fds + pins:
    os.close(fd)
for i, d in enumerate(names):
    assert os.listdir(d) == ["in%d" % i], d
print(known, held)
EOF
out=$(cat "$T/fdcount.py" "$T/dirs.py" | py "$M" "$MMFS_PID") ||
	fail "300 directories open at once through a daemon limited to 400 fds"
ok "300 directories open at once, daemon descriptors unchanged ($out)"
rm -rf "$M"/dir*

# After the last close every backing file is back to O_PATH in the daemon.
cat >"$T/opath.py" <<'EOF'
import os, sys
pid, back = sys.argv[1], os.path.realpath(sys.argv[2])
O_PATH = 0o10000000
bad = []
n = 0
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        target = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    except OSError:
        continue
    if not target.startswith(back + "/f"):
        continue
    n += 1
    with open("/proc/%s/fdinfo/%s" % (pid, fd)) as f:
        flags = int(f.read().split("flags:")[1].split()[0], 8)
    if not flags & O_PATH:
        bad.append("%s: %s flags %o" % (fd, target, flags))
assert n >= 300, "only %d descriptors of backing files" % n
assert not bad, "still open after close: " + "; ".join(bad[:5])
EOF
# (release is asynchronous: wait for the last ones)
wait_until 10 py "$MMFS_PID" "$B" <"$T/opath.py" 2>/dev/null ||
	fail "closed files still open in the daemon:" \
		"$(py "$MMFS_PID" "$B" <"$T/opath.py" 2>&1 | tail -n 1)"
ok "closed files are O_PATH again in the daemon"

# execve of a backing file: refused while it is open for writing through
# the mount (as natively: ETXTBSY), fine once it is closed.
printf '#!/bin/sh\necho ran\n' >"$M/script"
chmod +x "$M/script"
exec {w}>>"$M/script"
assert_fails_with "Text file busy" "$B/script"
exec {w}>&-
wait_until 10 "$B/script" >/dev/null 2>&1 ||
	fail "backing script: $("$B/script" 2>&1)"
assert_eq ran "$("$B/script")" "backing script runs after the close"

# Past the limit: ENFILE for the client (its own limit is not the one it
# reached), and the daemon lives on.
# over.py MNT PREFIX [HELD RELEASE]: create PREFIX0... and hold them open
# until ENFILE; with HELD, create it then, and close them once RELEASE
# exists
cat >"$T/over.py" <<'EOF'
import errno, os, sys, time
mnt, prefix = sys.argv[1], sys.argv[2]
fds = []
err = None
for i in range(600):
    try:
        fds.append(os.open(os.path.join(mnt, "%s%d" % (prefix, i)),
                           os.O_RDWR | os.O_CREAT, 0o644))
    except OSError as e:
        err = e.errno
        break
assert err == errno.ENFILE, "stopped at %d with %r" % (len(fds), err)
assert len(fds) >= 50, "only %d files before ENFILE" % len(fds)
os.pwrite(fds[0], b"still", 0)
assert os.pread(fds[0], 5, 0) == b"still"
if len(sys.argv) > 4:
    open(sys.argv[3], "w").close()
    while not os.path.exists(sys.argv[4]):
        time.sleep(0.05)
for fd in fds:
    os.close(fd)
print(len(fds))
EOF
out=$(py "$M" g <"$T/over.py") || fail "opening past the daemon's limit"
ok "ENFILE past the daemon's limit, after $out more files"
mmfs_alive "daemon alive after ENFILE"
# The kernel still holds the new files' inodes, and the daemon a descriptor
# for each: removing them gives the descriptors back (FORGET is async).
# Their names are in the kernel's cache, so unlink needs no descriptor.
for ((i = 0; i < out; i++)); do
	rm -f "$M/g$i"
done
wait_until 10 cat "$M/f7" >/dev/null 2>&1 ||
	fail "f7 after removing the files: $(cat "$M/f7" 2>&1)"
rm -f "$M"/g*
assert_eq 0 "$(find "$B" -maxdepth 1 -name "g[0-9]*" | wc -l)" \
	"no g files left in BACKING"
assert_content "$M/f7" "fW0077;file-7;file-7;file-7;file-7;file-7;file-7;file-7;" \
	"f7 read after the ENFILE burst"

# End by SIGTERM with every descriptor in use (the kernel holds the inodes
# of a second burst): the daemon must still exit 0 and unmount.  The main
# thread then cancels the reading thread, and glibc loads its unwinder at
# that first cancel; the daemon loads it at start, as the load needs a
# descriptor.  The count is taken while the client holds the files: once
# closed, their inodes stay only in the kernel's cache, which a drop_caches
# elsewhere may empty.
py "$M" h "$T/held" "$T/release" <"$T/over.py" >"$T/burst.out" &
burst=$!
wait_until 30 test -e "$T/held" ||
	fail "second burst past the limit: $(cat "$T/burst.out")"
n=$(daemon_fds)
[ "$n" -ge 400 ] || fail "the daemon's descriptors not all in use: $n"
# With every descriptor in use, a lookup that needs none is still
# answered: a name that does not exist, and another name (a hard link made
# in BACKING) of a file the daemon holds.  Both gave ENFILE.
assert_fails_with "No such file or directory" stat "$M/h-none"
ln "$B/h0" "$B/h0-link"
assert_eq "$(stat -c %i "$B/h0")" "$(stat -c %i "$M/h0-link")" \
	"a new name of a held file, with every descriptor in use"
assert_content "$M/h0-link" "still" "read through that name"
rm "$B/h0-link"
: >"$T/release"
wait "$burst" || fail "second burst past the limit: $(cat "$T/burst.out")"
ok "second burst: ENFILE after $(cat "$T/burst.out") files, $n descriptors"
mmfs_alive "daemon alive with every descriptor in use"
mmfs_end_by TERM "every descriptor in use"

mmfs_done
