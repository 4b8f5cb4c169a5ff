#!/bin/bash
# tests/integration/t-forget.sh - more files than the daemon may have
# descriptors.  Every inode the kernel knows holds one in the daemon, and
# the kernel forgets inodes only when memory runs short; near its limit the
# daemon asks it to forget idle ones (FUSE_NOTIFY_PRUNE).  A daemon limited
# to 256 descriptors serves 2,000 new files, a tree copied and archived
# within the mount, hard links, a directory a shell is in, 2,000 more
# files while 150 are held open, and four clients at once while find walks
# the mount, with every byte checked (without the prune, creating stopped
# with ENFILE after some 240 files).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse

LIMIT=256
# The daemon raises its soft limit to the hard one: lower the hard one.
real_daemon=$MMAPFS
cat >"$T/mmapfs-limited" <<EOF
#!/bin/bash
ulimit -n $LIMIT && exec "$real_daemon" "\$@"
EOF
chmod +x "$T/mmapfs-limited"
MMAPFS=$T/mmapfs-limited
mmfs_mount
daemon_fds() { find "/proc/$MMFS_PID/fd" -mindepth 1 | wc -l; }

# many.py DIR N PREFIX: create N files (each closed at once), then read
# every one back; prints the count read back intact.
cat >"$T/many.py" <<'EOF'
import os, sys
d, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def content(i):
    return b"%s-%d;" % (prefix.encode(), i) * (1 + i % 37)
for i in range(n):
    with open(os.path.join(d, "%s%d" % (prefix, i)), "wb") as f:
        f.write(content(i))
good = 0
for i in range(n):
    with open(os.path.join(d, "%s%d" % (prefix, i)), "rb") as f:
        got = f.read()
    assert got == content(i), "%s%d: %r" % (prefix, i, got[:40])
    good += 1
print(good)
EOF
mkdir "$M/flat"
assert_eq 2000 "$(py "$M/flat" 2000 f <"$T/many.py")" \
	"2,000 files created and read back through a daemon of $LIMIT descriptors"
assert_eq 2000 "$(find "$M/flat" -type f | wc -l)" "find sees all 2,000"
assert_eq 2000 "$(py "$B/flat" 2000 f <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
print(sum(open(os.path.join(d, "f%d" % i), "rb").read().startswith(
    b"f-%d;" % i) for i in range(n)))
EOF
)" "the 2,000 files are in BACKING"
fds=$(daemon_fds)
[ "$fds" -lt "$LIMIT" ] || fail "daemon descriptors: $fds of $LIMIT"
ok "the daemon holds $fds descriptors of $LIMIT"

# A tree of 20 directories x 60 files, copied within the mount and
# archived from it: 2,400 more files and 40 directories.
for d in $(seq 1 20); do
	mkdir -p "$M/tree/d$d"
	for f in $(seq 1 60); do
		echo "tree $d/$f" >"$M/tree/d$d/f$f"
	done
done
ln "$M/tree/d1/f1" "$M/tree/d2/hard"
assert_ok cp -a "$M/tree" "$M/copy"
assert_ok diff -r "$B/tree" "$M/copy"
assert_ok diff -r "$M/tree" "$B/copy"
assert_eq "$(tree_listing "$B/tree" | sha256sum)" \
	"$(tree_listing "$M/tree" | sha256sum)" \
	"the tree's listing through the mount is BACKING's"
assert_eq "$(tar cf - -C "$B" tree | tar tvf - | sha256sum)" \
	"$(tar cf - -C "$M" tree | tar tvf - | sha256sum)" \
	"tar of the tree through the mount lists as BACKING's"
echo "linked" >>"$M/tree/d2/hard"
assert_content "$M/tree/d1/f1" "tree 1/1
linked" "a hard link's other name sees the write"
assert_eq 2 "$(stat -c %h "$M/tree/d1/f1")" "its link count"

# A shell in a directory keeps it: the kernel does not forget it.
cd "$M/tree/d7"
py "$M/flat" 1500 g <"$T/many.py" >/dev/null
assert_eq 60 "$(ls | wc -l)" "a shell's directory after 1,500 more files"
assert_content f3 "tree 7/3" "a file read by a name relative to it"
cd "$T"

# 150 files held open while 2,000 more are made: the held ones keep their
# bytes, and writes through them land.
cat >"$T/held.py" <<'EOF'
import os, subprocess, sys
d, many = sys.argv[1], sys.argv[2]
os.mkdir(os.path.join(d, "held"))
fds = []
for i in range(150):
    fd = os.open(os.path.join(d, "held", "h%d" % i), os.O_RDWR | os.O_CREAT,
                 0o644)
    os.write(fd, b"held %d\n" % i)
    fds.append(fd)
os.mkdir(os.path.join(d, "more"))
out = subprocess.run([sys.executable, many, os.path.join(d, "more"), "2000",
                      "m"], capture_output=True, text=True)
assert out.returncode == 0, out.stderr[-300:]
for i, fd in enumerate(fds):
    got = os.pread(fd, 100, 0)
    assert got == b"held %d\n" % i, "h%d: %r" % (i, got)
    os.pwrite(fd, b"H", 0)
    os.close(fd)
print(out.stdout.strip())
EOF
assert_eq 2000 "$(py "$M" "$T/many.py" <"$T/held.py")" \
	"2,000 files made beside 150 held open"
assert_content "$B/held/h149" "Held 149" "a held file's write is in BACKING"

# Four clients at once, each making and reading back 800 files in a
# directory of its own while find walks the whole mount: prunes, lookups
# and FORGETs on every thread.
pids=()
for c in 1 2 3 4; do
	mkdir "$M/par$c"
	py "$M/par$c" 800 "p$c-" <"$T/many.py" >"$T/par$c.out" 2>&1 &
	pids+=($!)
done
walks=0
while kill -0 "${pids[0]}" 2>/dev/null; do
	find "$M" -name 'p*' >/dev/null || fail "find during the parallel run"
	walks=$((walks + 1))
done
for c in 1 2 3 4; do
	wait "${pids[$((c - 1))]}" || fail "client $c: $(tail -n 2 "$T/par$c.out")"
	assert_eq 800 "$(cat "$T/par$c.out")" "client $c read back its 800 files"
done
ok "find walked the mount $walks times meanwhile"

mmfs_done
