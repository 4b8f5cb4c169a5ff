#!/bin/bash
# tests/integration/t-apps.sh - real applications on the mount: git,
# sqlite3 (rollback journal and WAL, whose -shm file is mmap'ed through the
# mount), Python mmap shared between processes, flock and fcntl locks,
# overlayfs with its upper directory on the mount.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
N=$T/native
mkdir "$N"
mmfs_mount

# ---------------------------------------------------------------- git
if command -v git >/dev/null 2>&1; then
	export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org
	export GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
	export GIT_AUTHOR_DATE='2020-01-01T00:00:00Z'
	export GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'
	export GIT_CONFIG_NOSYSTEM=1 HOME=$T
	for d in "$N" "$M"; do
		mkdir -p "$d/repo/src"
		for ((i = 0; i < 80; i++)); do
			printf 'line %d of file %d\n' $(seq 1 $((i % 17 + 1))) \
				"$i" >"$d/repo/src/f$i.txt"
		done
		head -c 500000 /dev/zero | tr '\0' 'z' >"$d/repo/big"
		(
			cd "$d/repo" || exit 1
			deadline 60 git init -q -b main .
			deadline 60 git add -A
			deadline 60 git commit -q -m first
			sed -i 's/line 1 /LINE 1 /' src/f1*.txt
			rm src/f5.txt
			deadline 60 git commit -q -a -m second
		)
	done
	r=$M/repo
	assert_ok git -C "$r" fsck --full --strict
	assert_eq "$(git -C "$N/repo" rev-parse HEAD)" \
		"$(git -C "$r" rev-parse HEAD)" "commit id equals native"
	assert_eq 2 "$(git -C "$r" rev-list --count HEAD)" "commit count"
	assert_eq "" "$(git -C "$r" status --porcelain)" "clean work tree"
	assert_ok git -C "$r" gc -q
	assert_ok git -C "$r" fsck --full --strict
	assert_ok git clone -q "$r" "$M/clone"
	assert_ok diff -r -x .git "$r" "$M/clone"
	assert_eq "$(git -C "$N/repo" rev-parse HEAD)" \
		"$(git -C "$M/clone" rev-parse HEAD)" "clone HEAD"
	assert_ok git -C "$B/repo" fsck --full --strict
	ok "git repository valid in the backing directory too"
else
	echo "# git missing: git checks skipped"
fi

# ---------------------------------------------------------------- overlayfs
# The mount as overlayfs's upper and work directories, as container
# engines use it: copy-up, whiteouts (RENAME_WHITEOUT in the work
# directory, then a rename), an opaque directory (trusted.* xattrs).
# Tried on the native directory first: without overlayfs, skipped.
ovl_try()
{
	mount -t overlay overlay \
		-o "lowerdir=$T/lower,upperdir=$1/up,workdir=$1/wk" "$T/ovl"
}
mkdir -p "$T/lower/d" "$T/ovl" "$N/up" "$N/wk" "$M/up" "$M/wk"
echo low1 >"$T/lower/l1"
echo low2 >"$T/lower/l2"
echo x >"$T/lower/d/x"
if ovl_try "$N" 2>"$T/ovl.err" && umount "$T/ovl"; then
	MMFS_MOUNTS+=("$T/ovl") # unmounted first if a check fails
	assert_ok ovl_try "$M"
	O=$T/ovl
	echo new >"$O/n"
	rm "$O/l1"
	echo more >>"$O/l2"
	rm -r "$O/d"
	mkdir "$O/d"
	echo y >"$O/d/y"
	assert_ok umount "$O"
	assert_ok ovl_try "$M"
	assert_eq "d l2 n" "$(cd "$O" && echo *)" "overlay: names after remount"
	assert_content "$O/l2" "low2
more" "overlay: copied-up file"
	assert_eq "y" "$(cd "$O/d" && echo *)" "overlay: opaque directory"
	assert_ok umount "$O"
	assert_eq "c 0:0" "$(stat -c '%F %t:%T' "$M/up/l1" |
		sed 's/character special file/c/')" "overlay: whiteout in upper"
	assert_eq "y" "$(getfattr --absolute-names --only-values \
		-n trusted.overlay.opaque "$M/up/d" 2>&1)" \
		"overlay: upper directory marked opaque"
	assert_content "$B/up/l2" "low2
more" "overlay: copied-up file in the backing directory"
	# An overlay as BACKING: reading a lower file through the mount,
	# mapping and searching it, copies nothing up (the daemon opens it
	# read-only); writing it does.
	mkdir "$T/ou" "$T/ow" "$T/ob" "$T/om"
	mount -t overlay overlay \
		-o "lowerdir=$T/lower,upperdir=$T/ou,workdir=$T/ow" "$T/ob"
	MMFS_MOUNTS+=("$T/ob")
	mmfs_mount_at "$T/ob" "$T/om"
	assert_content "$T/om/l2" "low2" "overlay as BACKING: a lower file read"
	assert_eq 1 "$("$MMAPFSCTL" find "$T/om/l2" ow2)" \
		"overlay as BACKING: a lower file searched in its map"
	assert_eq "" "$(ls -A "$T/ou")" "overlay as BACKING: nothing copied up"
	echo more >>"$T/om/l2"
	assert_content "$T/ou/l2" "low2
more" "overlay as BACKING: a written file copied up"
	mmfs_umount "$T/om"
	assert_ok umount "$T/ob"
else
	echo "# overlayfs unavailable natively, checks skipped: $(cat "$T/ovl.err")"
fi

# ---------------------------------------------------------------- sqlite3
if ! command -v sqlite3 >/dev/null 2>&1; then
	fail "sqlite3 is missing"
fi
sqlite_run()
{
	local db=$1 mode=$2 i j k
	{
		echo "PRAGMA journal_mode=$mode;"
		echo "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n INT);"
		echo "CREATE INDEX t_n ON t(n);"
		for ((i = 0; i < 50; i++)); do
			echo "BEGIN;"
			for ((j = 0; j < 20; j++)); do
				k=$((i * 20 + j))
				printf '%s (%s, %d);\n' \
					"INSERT INTO t(v, n) VALUES" \
					"printf('%0200d', $k)" $((k * 37 % 1000))
			done
			echo "COMMIT;"
		done
		echo "DELETE FROM t WHERE n % 10 = 0;"
		echo "UPDATE t SET v = upper(hex(randomblob(4))) || v" \
			"WHERE n % 7 = 0;"
	} | deadline 120 sqlite3 -batch "$db" >/dev/null
}
for mode in DELETE WAL; do
	sqlite_run "$M/$mode.db" "$mode"
	db=$M/$mode.db
	assert_eq "$(echo "$mode" | tr A-Z a-z)" \
		"$(sqlite3 "$db" 'PRAGMA journal_mode;')" "$mode: journal mode"
	assert_eq ok "$(deadline 60 sqlite3 "$db" 'PRAGMA integrity_check;')" \
		"$mode: integrity_check"
	assert_eq 900 "$(sqlite3 "$db" 'SELECT count(*) FROM t;')" \
		"$mode: row count after 1000 inserts and 100 deletes"
	# 1000 rows with n = i * 37 % 1000 (each value once), less n % 10 == 0
	assert_eq "450000|450900" \
		"$(sqlite3 "$db" 'SELECT sum(n), sum(id) FROM t;')" \
		"$mode: sums of the surviving rows"
	# The backing copy, read directly, is complete after the last close.
	cp "$B/$mode.db" "$T/copy.db"
	assert_eq "ok 900" \
		"$(sqlite3 "$T/copy.db" 'PRAGMA integrity_check;
			SELECT count(*) FROM t;' | paste -sd ' ')" \
		"$mode: the backing database file is complete"
	rm -f "$T"/copy.db*
done
# A WAL writer holding an open transaction while another process reads:
# both map the -shm file through the mount.
rm -f "$T/held" "$T/release"
deadline 60 sqlite3 -cmd '.timeout 10000' "$M/WAL.db" >"$T/w1" 2>&1 <<EOF &
BEGIN;
INSERT INTO t(v, n) VALUES ('x', 1);
SELECT count(*) FROM t;
.shell touch '$T/held'; while [ ! -e '$T/release' ]; do sleep 0.05; done
COMMIT;
EOF
writer=$!
wait_until 30 eval '[ -e "$T/held" ]' || fail "WAL writer never got going"
assert_eq 900 "$(deadline 60 sqlite3 -cmd '.timeout 10000' "$M/WAL.db" \
	'SELECT count(*) FROM t;')" \
	"WAL: a reader beside an open write transaction"
touch "$T/release"
wait "$writer" || fail "WAL writer failed: $(cat "$T/w1")"
assert_eq 901 "$(cat "$T/w1")" "WAL: the writer saw its own row"
assert_eq 901 "$(sqlite3 "$M/WAL.db" 'SELECT count(*) FROM t;')" \
	"WAL: the committed row is visible to a new reader"
assert_eq ok "$(sqlite3 "$M/WAL.db" 'PRAGMA integrity_check;')" \
	"WAL: integrity_check after the concurrent phase"

# ---------------------------------------------------------------- mmap
py "$M/mm" "$B/mm" <<'EOF'
import mmap, os, subprocess, sys
p, back = sys.argv[1:3]
pattern = bytes(range(256)) * 64          # 16 KiB
with open(p, "wb") as f:
    f.write(pattern)
f = open(p, "r+b")
m = mmap.mmap(f.fileno(), 0)
assert len(m) == len(pattern)
assert m[:] == pattern, "mapped bytes differ from written bytes"
m[100:105] = b"HELLO"
m[8190:8200] = b"CROSSPAGE!"
# another process reading through the mount sees the stores at once
reader = """
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
a = os.pread(fd, 5, 100) + os.pread(fd, 10, 8190)
mm = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
b = mm[100:105] + mm[8190:8200]
sys.stdout.write(a.decode() + " " + b.decode())
"""
out = subprocess.run([sys.executable, "-c", reader, p], capture_output=True,
                     check=True, timeout=60).stdout.decode()
assert out == "HELLOCROSSPAGE! HELLOCROSSPAGE!", out
m.flush()
with open(back, "rb") as g:
    data = g.read()
want = bytearray(pattern)
want[100:105] = b"HELLO"
want[8190:8200] = b"CROSSPAGE!"
assert data == bytes(want), "backing file lacks the flushed stores"
# a write(2) from another process shows up in this mapping
writer = "import os,sys; fd=os.open(sys.argv[1], os.O_WRONLY); " \
         "os.pwrite(fd, b'WORLD', 200); os.fsync(fd)"
subprocess.run([sys.executable, "-c", writer, p], check=True, timeout=60)
assert m[200:205] == b"WORLD", m[200:205]
m.close()
f.close()
EOF
ok "mmap: stores seen by a second process, in the backing file after flush"

# ---------------------------------------------------------------- flock
held()
{
	[ -e "$T/held" ]
}
rm -f "$T/held" "$T/release"
deadline 60 flock -x "$M/lk" bash -c \
	'touch "$1/held"; while [ ! -e "$1/release" ]; do sleep 0.05; done' \
	_ "$T" &
holder=$!
wait_until 20 held || fail "flock holder never got the lock"
assert_status 1 flock -n "$M/lk" true
assert_status 1 flock -s -n "$M/lk" true
assert_status 1 flock -w 0.3 "$M/lk" true
touch "$T/release"
wait "$holder"
assert_ok flock -n "$M/lk" true
assert_ok flock -n "$M/lk" true

# ---------------------------------------------------------------- fcntl
rm -f "$T/held" "$T/release"
printf '%200s' '' >"$M/lk2"
py "$M/lk2" "$T" <<'EOF' &
import fcntl, os, sys, time
p, t = sys.argv[1:3]
f = open(p, "r+b")
fcntl.lockf(f, fcntl.LOCK_EX, 100, 0)       # bytes 0..99
open(os.path.join(t, "held"), "w").close()
deadline = time.time() + 50
while not os.path.exists(os.path.join(t, "release")):
    assert time.time() < deadline
    time.sleep(0.05)
fcntl.lockf(f, fcntl.LOCK_UN, 100, 0)
EOF
holder=$!
wait_until 20 held || fail "lockf holder never got the lock"
py "$M/lk2" <<'EOF'
import errno, fcntl, sys
f = open(sys.argv[1], "r+b")
for start, length, shared in ((0, 100, False), (50, 10, True), (99, 5, False)):
    try:
        fcntl.lockf(f, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
                    | fcntl.LOCK_NB, length, start)
    except OSError as e:
        assert e.errno in (errno.EAGAIN, errno.EACCES), e
    else:
        raise AssertionError("lock %d+%d granted over a held lock"
                             % (start, length))
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 100)   # bytes 100..199
EOF
ok "fcntl: conflicting ranges refused (EAGAIN), a disjoint range granted"
touch "$T/release"
wait "$holder"
py "$M/lk2" <<'EOF'
import fcntl, sys
f = open(sys.argv[1], "r+b")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
EOF
ok "fcntl: the whole file lockable after release"

mmfs_done
