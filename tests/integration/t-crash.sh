#!/bin/bash
# tests/integration/t-crash.sh - kill -9 of the daemon while writers run.
# Each writer logs a record only after the fsync (or msync) that covers it
# returned; after the kill, a lazy unmount and a remount, every logged
# record must be intact in the backing file and through the new mount,
# every created and fsynced file must exist with at least its fsynced
# length, and the backing tree may hold nothing else.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse

# The writers.  MODE is one of
#   append   records at seq * 64 of one growing file, fsync each
#   files    a new file per record in a subdirectory, fsync it and the dir
#   slots    records overwrite random slots of a 1 MiB file, fdatasync
#   mmap     records written into a MAP_SHARED map of the file, msync
#   grow     ftruncate far ahead (sparse), then a record there, fsync
# Each logs "seq [slot]" to LOG after the sync returned, and ends on the
# first error (the daemon is gone) with "ERR errno time" on stdout.
cat >"$T/writer.py" <<'EOF'
import errno, mmap, os, random, sys, time
mode, path, log = sys.argv[1:4]
R = 64
def rec(tag, seq, ver=0):
    head = b"%s:%08d:%06d:" % (tag.encode(), seq, ver)
    body = (b"%08x" % ((seq * 2654435761 + ver * 40503) & 0xffffffff)) * 8
    return (head + body)[:R - 1] + b"\n"
lg = open(log, "w", buffering=1)
rnd = random.Random(mode)
seq = 0
try:
    if mode == "append":
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            os.pwrite(fd, rec("A", seq), seq * R)
            os.fsync(fd)
            lg.write("%d\n" % seq)
            seq += 1
    elif mode == "files":
        os.mkdir(path)
        dfd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        while True:
            fd = os.open(os.path.join(path, "f%06d" % seq),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            os.write(fd, rec("F", seq) * (1 + seq % 37))
            os.fsync(fd)
            os.close(fd)
            os.fsync(dfd)
            lg.write("%d\n" % seq)
            seq += 1
    elif mode == "slots":
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.ftruncate(fd, 1 << 20)
        os.fsync(fd)
        ver = {}
        while True:
            slot = rnd.randrange((1 << 20) // R)
            ver[slot] = ver.get(slot, 0) + 1
            os.pwrite(fd, rec("S", slot, ver[slot]), slot * R)
            os.fdatasync(fd)
            lg.write("%d %d\n" % (slot, ver[slot]))
            seq += 1
    elif mode == "mmap":
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.ftruncate(fd, 256 << 10)
        os.fsync(fd)
        m = mmap.mmap(fd, 256 << 10)
        while True:
            off = (seq * R) % (256 << 10)
            m[off:off + R] = rec("M", seq)
            m.flush()
            lg.write("%d\n" % seq)
            seq += 1
    elif mode == "grow":
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            off = seq * 65536 + rnd.randrange(65536 - R)
            os.ftruncate(fd, (seq + 1) * 65536)
            os.pwrite(fd, rec("G", seq), off)
            os.fsync(fd)
            lg.write("%d %d\n" % (seq, off))
            seq += 1
except OSError as e:
    print("ERR %s %.6f after %d records" % (errno.errorcode.get(e.errno, e.errno),
                                           time.time(), seq))
EOF

# The checker: every logged record is where the log says, whole.
cat >"$T/check.py" <<'EOF'
import os, sys
root, logs = sys.argv[1:3]
R = 64
def rec(tag, seq, ver=0):
    head = b"%s:%08d:%06d:" % (tag.encode(), seq, ver)
    body = (b"%08x" % ((seq * 2654435761 + ver * 40503) & 0xffffffff)) * 8
    return (head + body)[:R - 1] + b"\n"
def lines(name):
    with open(os.path.join(logs, name + ".log")) as f:
        return [l.split() for l in f.read().splitlines()]
def read(name):
    with open(os.path.join(root, name), "rb") as f:
        return f.read()
out = []
# append
L = lines("append"); d = read("append")
assert len(d) >= len(L) * R, "append: %d bytes < %d fsynced" % (len(d), len(L) * R)
for (s,) in L:
    s = int(s)
    assert d[s * R:(s + 1) * R] == rec("A", s), "append: record %d" % s
out.append("append %d" % len(L))
# files
L = lines("files")
names = sorted(os.listdir(os.path.join(root, "files")))
for (s,) in L:
    s = int(s)
    d = read("files/f%06d" % s)
    assert d == rec("F", s) * (1 + s % 37), "files: f%06d (%d bytes)" % (s, len(d))
extra = set(names) - set("f%06d" % int(s) for (s,) in L)
# at most the one file being written when the daemon died
assert len(extra) <= 1, "files: unexpected names %r" % sorted(extra)
for n in extra:
    assert n == "f%06d" % len(L), "files: stray %s" % n
out.append("files %d (+%d in flight)" % (len(L), len(extra)))
# slots: the last logged version, or the one after it (written, unlogged)
L = lines("slots"); d = read("slots")
assert len(d) == 1 << 20, "slots: size %d" % len(d)
last = {}
for slot, ver in L:
    last[int(slot)] = int(ver)
for slot, ver in last.items():
    got = d[slot * R:(slot + 1) * R]
    if got != rec("S", slot, ver) and got != rec("S", slot, ver + 1):
        raise AssertionError("slots: slot %d holds %r, want version %d"
                             % (slot, got[:24], ver))
out.append("slots %d" % len(L))
# mmap: later records may have overwritten earlier ones (it wraps)
L = lines("mmap"); d = read("mmap")
assert len(d) == 256 << 10, "mmap: size %d" % len(d)
n = (256 << 10) // R
for (s,) in L[-n:]:
    s = int(s)
    off = (s * R) % (256 << 10)
    got = d[off:off + R]
    if got != rec("M", s) and got != rec("M", s + n):
        raise AssertionError("mmap: record %d holds %r" % (s, got[:24]))
out.append("mmap %d" % len(L))
# grow
L = lines("grow"); d = read("grow")
if L:
    assert len(d) >= (int(L[-1][0]) + 1) * 65536, "grow: size %d" % len(d)
for s, off in L:
    s, off = int(s), int(off)
    assert d[off:off + R] == rec("G", s), "grow: record %d" % s
out.append("grow %d" % len(L))
# nothing else in the tree
top = sorted(os.listdir(root))
assert top == ["append", "files", "grow", "mmap", "slots"], "tree: %r" % top
print(", ".join(out))
EOF

MODES=(append files slots mmap grow)

logged()
{
	local m
	for m in "${MODES[@]}"; do
		[ "$(wc -l 2>/dev/null <"$T/logs/$m.log" || echo 0)" -ge "$1" ] ||
			return 1
	done
}

# round N [OPT...] - writers on a fresh subtree, kill -9, check, remount,
# check again through the mount.
round()
{
	local n=$1 m pid pids=() rc killed_at
	shift
	local D=$B/r$n tag="[round $n${1:+ $*}]"
	mkdir "$D"
	rm -rf "$T/logs"
	mkdir "$T/logs"
	mmfs_mount "$@"
	for m in "${MODES[@]}"; do
		timeout -k 5 60 "$PYTHON3" "$T/writer.py" "$m" "$M/r$n/$m" \
			"$T/logs/$m.log" >"$T/logs/$m.out" 2>&1 &
		pids+=($!)
	done
	wait_until 30 logged 30 ||
		fail "$tag writers made no progress: $(tail "$T"/logs/*.out)"
	sleep 1
	for pid in "${pids[@]}"; do
		mmfs__pid_alive "$pid" ||
			fail "$tag a writer ended before the kill:" \
				"$(tail "$T"/logs/*.out)"
	done
	killed_at=$(date +%s.%N)
	kill -KILL "$MMFS_PID"
	rc=0
	wait "$MMFS_PID" || rc=$?
	assert_eq 137 "$rc" "$tag daemon killed by SIGKILL"
	mmfs__forget_pid "$MMFS_PID"
	MMFS_PID=
	for ((i = 0; i < ${#pids[@]}; i++)); do
		rc=0
		wait "${pids[i]}" || rc=$?
		m=${MODES[i]}
		case $m:$rc in
		*:0) ;;
		mmap:135) ;; # SIGBUS touching the dead mount's map
		*) fail "$tag writer $m: status $rc: $(cat "$T/logs/$m.out")" ;;
		esac
		if grep -q ERR "$T/logs/$m.out"; then
			t=$(awk '{ print $3 }' "$T/logs/$m.out")
			awk -v a="$t" -v b="$killed_at" 'BEGIN { exit !(a >= b) }' ||
				fail "$tag writer $m failed before the kill:" \
					"$(cat "$T/logs/$m.out")"
		fi
	done
	ok "$tag writers ended after the kill: $(cat "$T"/logs/*.out |
		awk '{ print $2 }' | sort | uniq -c | xargs)"
	deadline 20 fusermount3 -uz "$M"
	ok "$tag lazily unmounted the dead mount"
	wait_until 10 eval '! mmfs__is_mounted "$M"' ||
		fail "$tag $M still mounted"

	res=$(py "$D" "$T/logs" <"$T/check.py" 2>&1) ||
		fail "$tag backing after the kill: $res"
	ok "$tag every fsynced record in BACKING: $res"
	mmfs_mount "$@"
	res=$(py "$M/r$n" "$T/logs" <"$T/check.py" 2>&1) ||
		fail "$tag through the new mount: $res"
	ok "$tag every fsynced record through the new mount"
	# the remounted tree is fully usable
	printf 'after\n' >>"$M/r$n/append"
	assert_eq "after" "$(tail -n 1 "$B/r$n/append")" \
		"$tag appending after the remount reaches BACKING"
	mmfs_umount
}

round 1
round 2 cache=never
mmfs_mount
mmfs_done
