#!/bin/bash
# tests/integration/t-lazy.sh - a lazy unmount (fusermount3 -u -z) while
# clients still hold files open, mapped (dirty pages included) and a
# directory as their cwd: the unmount returns at once, the clients keep
# working on the detached tree, the daemon exits (status 0) once the last
# of them is gone, and nothing fsynced or written is lost.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse

# client.py MNT T MODE
#   keep: opens a (writes, fsyncs), maps b (one half msynced, one half
#         only dirty), maps c read-only, cds into dir; waits for T/go;
#         then writes and fsyncs more, creates a file relative to its cwd,
#         dirties b again, closes everything and exits 0.
#   dirty: maps d, dirties it, never syncs; waits to be killed.
cat >"$T/client.py" <<'EOF'
import mmap, os, sys, time
mnt, t, mode = sys.argv[1:4]
MB = 1 << 20
def pat(tag, n):
    return (tag * (n // len(tag) + 1))[:n]
def wait_for(name):
    p = os.path.join(t, name)
    for _ in range(1200):
        if os.path.exists(p):
            return
        time.sleep(0.05)
    sys.exit("no %s after 60 s" % name)
def ready(name):
    with open(os.path.join(t, name + ".tmp"), "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(os.path.join(t, name + ".tmp"), os.path.join(t, name))
if mode == "dirty":
    fd = os.open(os.path.join(mnt, "d"), os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, MB)
    m = mmap.mmap(fd, MB)
    m[:] = pat(b"dirty-pages;", MB)
    ready("ready-dirty")
    while True:
        time.sleep(1)
a = os.open(os.path.join(mnt, "a"), os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(a, pat(b"A-first;", MB), 0)
os.fsync(a)
b = os.open(os.path.join(mnt, "b"), os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(b, MB)
mb = mmap.mmap(b, MB)
mb[:MB // 2] = pat(b"B-synced;", MB // 2)
mb.flush()
mb[MB // 2:] = pat(b"B-dirty;", MB // 2)
c = os.open(os.path.join(mnt, "c"), os.O_RDONLY)
mc = mmap.mmap(c, 0, prot=mmap.PROT_READ)
orig_c = open(os.path.join(t, "c.orig"), "rb").read()
assert mc[:] == orig_c, "c: mapped bytes differ"
os.chdir(os.path.join(mnt, "dir"))
ready("ready-keep")
wait_for("go")
# the tree is detached now: everything still works through the handles
assert not os.path.ismount(mnt), "still mounted"
os.pwrite(a, pat(b"A-second;", MB), MB)
os.fsync(a)
assert os.pread(a, 2 * MB, 0) == pat(b"A-first;", MB) + pat(b"A-second;", MB)
assert mc[:] == orig_c, "c: mapped bytes after the unmount"
assert open("inside", "rb").read() == b"inside\n", "reading via the cwd"
fd = os.open("made-after", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, b"created on the detached tree\n")
os.fsync(fd)
os.close(fd)
mb[:16] = b"B-after-unmount;"
mb.flush()
mb[16:32] = b"B-dirty-at-exit;"
ready("phase2")
wait_for("finish")
mc.close()
mb.close()
for fd in (a, b, c):
    os.close(fd)
EOF

# not_mounted / daemon_gone - for wait_until
not_mounted()
{
	! mmfs__is_mounted "$M"
}
daemon_gone()
{
	! mmfs__pid_alive "$MMFS_PID"
}
exists()
{
	[ -e "$1" ]
}

# scenario [OPT...]
scenario()
{
	local tag="[lazy${1:+ $*}]" keep dirty rc MB=$((1 << 20))
	rm -rf "${B:?}"/* "$T"/ready-* "$T/go" "$T/phase2" "$T/finish"
	mkdir "$B/dir"
	printf 'inside\n' >"$B/dir/inside"
	head -c 300000 /dev/urandom >"$T/c.orig"
	cp "$T/c.orig" "$B/c"
	mmfs_mount "$@"

	timeout -k 5 90 "$PYTHON3" "$T/client.py" "$M" "$T" keep \
		>"$T/keep.out" 2>&1 &
	keep=$!
	timeout -k 5 90 "$PYTHON3" "$T/client.py" "$M" "$T" dirty \
		>"$T/dirty.out" 2>&1 &
	dirty=$!
	wait_until 30 exists "$T/ready-keep" ||
		fail "$tag client not ready: $(cat "$T/keep.out")"
	wait_until 30 exists "$T/ready-dirty" ||
		fail "$tag dirty client not ready: $(cat "$T/dirty.out")"

	# The unmount must not wait for the clients.
	assert_ok deadline 10 fusermount3 -u -z "$M"
	wait_until 5 not_mounted || fail "$tag $M still in the mount table"
	ok "$tag detached from the namespace"
	mmfs__pid_alive "$MMFS_PID" ||
		fail "$tag the daemon quit while clients still use the tree"
	ok "$tag daemon still serving the open files"

	touch "$T/go"
	wait_until 30 exists "$T/phase2" ||
		fail "$tag client stuck after the unmount: $(cat "$T/keep.out")"
	ok "$tag writes, fsync, create and reads work on the detached tree"
	# the Python process itself, not the timeout(1) around it
	kill -KILL "$(cat "$T/ready-dirty")"
	rc=0
	wait "$dirty" || rc=$?
	assert_eq 137 "$rc" "$tag dirty client status"
	ok "$tag the client with dirty mapped pages killed"
	touch "$T/finish"
	rc=0
	wait "$keep" || rc=$?
	[ "$rc" -eq 0 ] || fail "$tag client failed: $(cat "$T/keep.out")"
	ok "$tag the last client closed its files"

	# The daemon sees the last reference go and exits by itself.
	wait_until 15 daemon_gone ||
		fail "$tag daemon still running 15 s after the last close"
	mmfs__reap "$MMFS_PID"
	assert_eq 0 "$MMFS_REAP_RC" "$tag daemon exit status"
	mmfs__forget_pid "$MMFS_PID"
	MMFS_PID=

	# Nothing lost: fsynced, msynced, and dirty-at-exit bytes.
	py "$B" "$T" <<'EOF'
import os, sys
b, t = sys.argv[1:3]
MB = 1 << 20
def pat(tag, n):
    return (tag * (n // len(tag) + 1))[:n]
def rd(n):
    return open(os.path.join(b, n), "rb").read()
a = rd("a")
assert a == pat(b"A-first;", MB) + pat(b"A-second;", MB), \
    "a: %d bytes, first diff at %s" % (len(a), next((i for i in range(min(len(a), 2 * MB)) if a[i:i+1] != (pat(b"A-first;", MB) + pat(b"A-second;", MB))[i:i+1]), None))
want = bytearray(pat(b"B-synced;", MB // 2) + pat(b"B-dirty;", MB // 2))
want[:32] = b"B-after-unmount;B-dirty-at-exit;"
got = rd("b")
assert len(got) == MB, "b: size %d" % len(got)
assert got[:MB // 2] == want[:MB // 2], "b: the msynced half"
assert got == bytes(want), "b: dirty mapped pages lost at close"
assert rd("c") == open(os.path.join(t, "c.orig"), "rb").read(), "c changed"
assert rd("dir/made-after") == b"created on the detached tree\n"
d = rd("d")
assert d == pat(b"dirty-pages;", MB), \
    "d: dirty pages of a killed client lost (%d bytes)" % len(d)
EOF
	ok "$tag BACKING holds every byte written (fsynced, msynced, dirty)"

	# And a new mount works on the same tree.
	mmfs_mount "$@"
	assert_content "$M/dir/made-after" "created on the detached tree" \
		"$tag the file made after the unmount, remounted"
	assert_size "$M/a" $((2 * MB)) "$tag a, remounted"
	mmfs_umount
}

scenario
scenario cache=never
scenario -s

mmfs_done
