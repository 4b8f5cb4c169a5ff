#!/bin/bash
# tests/integration/t-options.sh - the command line: --help, --version,
# every bad option or path refused with exit status 1, a message naming the
# problem and nothing mounted; every valid option mounts.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse

# bad_usage "WORD|WORD..." ARGS... - "mmapfs ARGS" exits 1, says "mmapfs"
# and one of the words, and leaves $M unmounted.  Run without -f, the way a
# user would: if it wrongly mounts, it daemonizes and the cleanup unmounts.
bad_usage()
{
	local words=$1 out rc=0 w found=
	shift
	MMFS_MOUNTS+=("$M")
	out=$(timeout -k 5 20 "$MMAPFS" "$@" 2>&1 </dev/null) || rc=$?
	if mountpoint -q "$M"; then
		fail "mmapfs $*: mounted $M, expected a refusal"
	fi
	if [ "$rc" -ne 1 ]; then
		fail "mmapfs $*: expected exit status 1, got $rc: $out"
	fi
	# mmapfs(1), EXIT STATUS: every refusal has a line of mmapfs's own
	printf '%s\n' "$out" | grep -q '^mmapfs: ' ||
		fail "mmapfs $*: no line starts with 'mmapfs:': '$out'"
	local alts
	IFS='|' read -ra alts <<<"$words"
	for w in "${alts[@]}"; do
		case $out in
		*"$w"*) found=$w ;;
		esac
	done
	if [ -z "$found" ]; then
		fail "mmapfs $*: message should name one of '$words': '$out'"
	fi
	ok "mmapfs $* -> exit 1: ${out%%$'\n'*}"
}

# --help: exit 0 and the mmapfs options are listed.
rc=0
out=$(timeout 10 "$MMAPFS" --help 2>&1) || rc=$?
assert_eq 0 "$rc" "--help exit status"
for w in access= cache= anon; do
	case $out in
	*"$w"*) ok "--help lists $w" ;;
	*) fail "--help does not mention '$w': $out" ;;
	esac
done
# Every option --help lists has its entry in mmapfs(1), in the same
# order, and the reverse (an entry: a .B, .BI or .BR line right after .TP).
help_opts=$(printf '%s\n' "$out" | sed -n 's/^ *-o \([a-z_]*\).*/\1/p' |
	awk '!seen[$0]++')
man_opts=$(awk 'tp && /^\.B[IR]? "?\\-o [a-z_]/ {
		sub(/^\.B[IR]? "?\\-o /, ""); sub(/[^a-z_].*/, ""); print }
	{ tp = $0 == ".TP" }' "$top_srcdir/man/mmapfs.1")
[ "$(echo "$help_opts" | wc -l)" -ge 15 ] ||
	fail "--help lists only: $help_opts"
assert_eq "$help_opts" "$man_opts" \
	"--help and mmapfs(1) list the same -o options in the same order"
out=$(timeout 10 "$MMAPFS" -h 2>&1) || fail "-h failed: $out"
case $out in *access=*) ok "-h lists access=" ;; *) fail "-h: $out" ;; esac

# --version: exit 0, names the package and the configured version.
rc=0
out=$(timeout 10 "$MMAPFS" --version 2>&1) || rc=$?
assert_eq 0 "$rc" "--version exit status"
ver=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
	"$top_builddir/config.h" 2>/dev/null || true)
case $out in
*mmapfs*"$ver"*) ok "--version prints 'mmapfs ... $ver'" ;;
*) fail "--version: expected 'mmapfs' and '$ver', got: $out" ;;
esac

# Output that cannot be written (a full disk) is an error, not a silent
# exit 0: --help and --version of both programs to /dev/full.
if [ -w /dev/full ]; then
	for prog in "$MMAPFS" "$MMAPFSCTL"; do
		for opt in --help --version; do
			rc=0
			out=$(timeout 10 "$prog" "$opt" 2>&1 >/dev/full) || rc=$?
			assert_eq 1 "$rc" "${prog##*/} $opt to a full disk: status"
			case $out in
			*"write error"*) ok "${prog##*/} $opt: says write error" ;;
			*) fail "${prog##*/} $opt to a full disk: '$out'" ;;
			esac
		done
	done
fi

echo data >"$B/file"
mkdir "$T/full"
echo x >"$T/full/occupied"

bad_usage "bogus" -o bogus "$B" "$M"
bad_usage "bogus" -o access=write,bogus=1 "$B" "$M"
bad_usage "access|foo" -o access=foo "$B" "$M"
bad_usage "access|WRITE" -o access=WRITE "$B" "$M"
bad_usage "cache|sometimes" -o cache=sometimes "$B" "$M"
bad_usage "bogus" --bogus "$B" "$M"
# The numbers handed on to libfuse are checked as mmapfs's own are (they
# gave libfuse's line alone).
bad_usage "bad value for max_read: 'abc'" -o max_read=abc "$B" "$M"
bad_usage "bad value for max_read: '0'" -o max_read=0 "$B" "$M"
bad_usage "bad value for max_read: '010'" -o max_read=010 "$B" "$M"
bad_usage "bad value for max_read: '4294967296'" -o max_read=4294967296 \
	"$B" "$M"
bad_usage "bad value for max_threads: '2x'" -o max_threads=2x "$B" "$M"
bad_usage "bad value for max_threads: '0'" -o max_threads=0 "$B" "$M"
bad_usage "bad value for max_idle_threads: '-1'" -o max_idle_threads=-1 \
	"$B" "$M"
bad_usage "-o writeback needs the multithreaded loop" -s -o writeback \
	"$B" "$M"
bad_usage "-o writeback needs the multithreaded loop" \
	-o writeback,max_threads=1 "$B" "$M"
bad_usage "$T/nonexistent|No such file" "$T/nonexistent" "$M"
bad_usage "$B/file|Not a directory" "$B/file" "$M"
bad_usage "$T/nomnt|No such file" "$B" "$T/nomnt"
bad_usage "$T/full|not empty" "$B" "$T/full"
bad_usage "$B/file|Not a directory" "$B" "$B/file"
bad_usage "usage|Usage|BACKING|missing|argument" "$M"
bad_usage "usage|Usage|MOUNTPOINT|missing|argument"
bad_usage "usage|Usage|argument|too many|$T" "$B" "$M" "$T/extra"
# A mount the kernel refuses (a SELinux context, with SELinux off): after
# libfuse's reason, a line of mmapfs's own.
if [ ! -d /sys/fs/selinux ]; then
	bad_usage "mmapfs: cannot mount on $M" \
		-o rootcontext=system_u:object_r:tmp_t:s0 "$B" "$M"
fi

# Nothing leaked into the paths the refusals named.
assert_eq "occupied" "$(ls -A "$T/full")" "non-empty mountpoint untouched"
assert_eq "data" "$(cat "$B/file")" "backing file untouched"

# -o nonempty: a mount over entries hides them until the unmount, and
# BACKING can be its own mount point, its files then served in place.
mmfs_mount_at "$B" "$T/full" nonempty
assert_content "$T/full/file" data "-o nonempty: BACKING served over entries"
assert_eq "file" "$(ls -A "$T/full")" "-o nonempty: covered entries hidden"
mmfs_umount "$T/full"
assert_eq "occupied" "$(ls -A "$T/full")" "-o nonempty: entries back at unmount"
S=$T/self
mkdir -p "$S/dir"
printf 'in place\n' >"$S/dir/f"
mmfs_mount_at "$S" "$S" nonempty
grep -q " $S fuse.mmapfs " /proc/mounts ||
	fail "-o nonempty: $S is not an mmapfs mount over itself"
printf 'more\n' >>"$S/dir/f"
assert_eq 9 "$("$MMAPFSCTL" find "$S/dir/f" more)" \
	"-o nonempty over BACKING: find through the mount's ioctl"
mv "$S/dir/f" "$S/g"
mmfs_umount "$S"
assert_content "$S/g" "$(printf 'in place\nmore')" \
	"-o nonempty over BACKING: appended and renamed in place"
assert_eq "dir g" "$(cd "$S" && echo *)" "-o nonempty over BACKING: tree"

# Every valid option value mounts, and the mount answers.
for o in access=write access=read access=copy cache=auto cache=always \
	cache=never "access=read,cache=never" default_permissions; do
	mmfs_mount "$o"
	assert_content "$M/file" data "read under -o $o"
	mmfs_umount
done
mmfs_mount -s
assert_content "$M/file" data "read under -s (single-threaded)"
mmfs_umount
# -r and -n, which mount(8) may pass: read-only, and nothing.
mmfs_mount -r
assert_content "$M/file" data "read under -r"
assert_fails_with "Read-only file system" sh -c "echo x >>'$M/file'"
mmfs_umount
mmfs_mount -n
echo more >>"$M/file"
assert_content "$B/file" "$(printf 'data\nmore')" "a write under -n"
mmfs_umount
printf 'data\n' >"$B/file"

# --debug is -d: the daemon stays in the foreground and prints the
# requests (libfuse's --debug went into the background, its output lost).
"$MMAPFS" --debug "$B" "$M" >"$T/debug.log" 2>&1 &
dpid=$!
MMFS_MOUNTS+=("$M")
mmfs__wait_mounted "$dpid" "$M" "$T/debug.log"
stat "$M/file" >/dev/null
sleep 0.5
mmfs__pid_alive "$dpid" || fail "--debug: the daemon left the foreground"
grep -q 'opcode: LOOKUP' "$T/debug.log" ||
	fail "--debug: no request in its output: $(head -c 500 "$T/debug.log")"
kill -TERM "$dpid"
rc=0
wait "$dpid" || rc=$?
assert_eq 0 "$rc" "--debug: exit status at SIGTERM"
mountpoint -q "$M" && fail "--debug: still mounted after SIGTERM"
ok "--debug stays in the foreground and prints the requests"

# -o noatime: reads and listings through the mount leave the backing
# atimes alone, -o nodiratime those of directories; without either,
# relatime moves an atime older than the mtime, as natively.
for o in noatime nodiratime "noatime,atime" "nodiratime,diratime"; do
	printf 'data\n' >"$B/at"
	mkdir -p "$B/atd"
	touch -a -d @1000000000 "$B/at" "$B/atd"
	mmfs_mount "$o"
	assert_content "$M/at" data "read under -o $o"
	ls "$M/atd" >/dev/null
	case $o in
	noatime) want="1000000000 1000000000" ;;
	nodiratime) want="moved 1000000000" ;;
	*) want="moved moved" ;;
	esac
	assert_eq "$want" "$(stat -c %X "$B/at" "$B/atd" |
		sed 's/^1[1-9][0-9]\{8\}$/moved/' | paste -sd ' ')" \
		"-o $o: atimes of a file read and a directory listed"
	mmfs_umount
done
rm -r "$B/at" "$B/atd"
# A read moves an atime set back (relatime), also where the file was read
# before and the kernel kept its bytes across opens: its times changed
# since, so the next open drops the kernel's cache and the read reaches
# the backing file.
cat >"$T/reread.py" <<'EOF'
import os, sys
p = sys.argv[1]
with open(p, "wb") as f:
    f.write(b"read again\n" * 100)
def read():
    with open(p, "rb") as f:
        f.read()
read()
os.utime(p, ns=(3_000_000_000, 2_000_000_000))  # newer than mtime, but old
read()
print("moved" if os.stat(p).st_atime_ns > 3_000_000_000 else "kept")
EOF
assert_eq moved "$("$PYTHON3" "$T/reread.py" "$T/reread")" \
	"natively: a read moves an atime set back"
# An O_NOATIME descriptor reads without moving the atime, and another
# descriptor of the file open at the same time still moves it: the
# daemon's one descriptor of the file must carry neither's choice.
cat >"$T/noatime2.py" <<'EOF'
import os, sys
p = sys.argv[1]
with open(p, "wb") as f:
    f.write(b"x" * 10000)
res = []
for noatime_first in (False, True):
    os.utime(p, ns=(3_000_000_000, 2_000_000_000))
    a = os.open(p, os.O_RDONLY | (os.O_NOATIME if noatime_first else 0))
    b = os.open(p, os.O_RDONLY | (0 if noatime_first else os.O_NOATIME))
    os.read(b, 10000)
    res.append("moved" if os.stat(p).st_atime_ns > 3_000_000_000 else "kept")
    os.close(b)
    os.close(a)
# a write past the end, then a read of the hole before it: pages the
# daemon reads from the backing file (the writeback cache's case)
os.truncate(p, 0)
os.utime(p, ns=(1_000_000_000, 2_000_000_000))
a = os.open(p, os.O_RDWR | os.O_NOATIME)
os.pwrite(a, b"y" * 100, 30000)
os.pread(a, 100, 0)
os.close(a)
res.append("moved" if os.stat(p).st_atime_ns > 1_000_000_000 else "kept")
print(" ".join(res))
EOF
assert_eq "kept moved kept" "$("$PYTHON3" "$T/noatime2.py" "$T/noatime2")" \
	"natively: O_NOATIME reads beside another descriptor"
for o in default writeback cache=never; do
	mmfs_mount ${o#default}
	assert_eq moved "$("$PYTHON3" "$T/reread.py" "$M/reread")" \
		"$o: a file read before, its atime set back, read again"
	assert_eq "kept moved kept" "$("$PYTHON3" "$T/noatime2.py" "$M/noatime2")" \
		"$o: O_NOATIME reads beside another descriptor of the file"
	if [ "$o" = cache=never ]; then
		# O_NOATIME descriptors of one file cost the daemon one
		# descriptor between them (each took one of its own, and
		# 100 of them took 100); a worker's first splice takes four
		# for its pipes
		n0=$(ls /proc/"$MMFS_PID"/fd | wc -l)
		n1=$(py "$M/nfds" "$MMFS_PID" <<'EOF'
import os, sys
data = os.urandom(100000)
with open(sys.argv[1], "wb") as f:
    f.write(data)
fds = []
for _ in range(100):
    fds.append(os.open(sys.argv[1], os.O_RDONLY | os.O_NOATIME))
    assert os.pread(fds[-1], 100000, 0) == data
print(len(os.listdir("/proc/%s/fd" % sys.argv[2])))
for fd in fds:
    os.close(fd)
EOF
)
		[ "$n1" -le $((n0 + 24)) ] ||
			fail "100 O_NOATIME descriptors: the daemon went from" \
				"$n0 descriptors to $n1"
		ok "100 O_NOATIME descriptors of a file: the daemon's went" \
			"from $n0 to $n1"
	fi
	mmfs_umount
done
# Where the backing file system gives a new file another owner than its
# creator (bindfs --force-user here; vfat with uid= does the same), the
# daemon may not have O_NOATIME on it: a create under -o noatime must
# still succeed, O_EXCL or not, as the caller.
if [ "$(id -u)" = 0 ] && command -v bindfs >/dev/null &&
	command -v setpriv >/dev/null; then
	chmod 755 "$T"
	mkdir -m 777 "$T/fu-src"
	mkdir "$T/fu"
	bindfs -o allow_other --force-user=5000 --perms=a+rwX "$T/fu-src" \
		"$T/fu" || fail "bindfs --force-user did not mount"
	MMFS_CLEANUP_HOOKS+=("! mountpoint -q '$T/fu' || fusermount3 -u '$T/fu' ||
		umount -l '$T/fu'")
	mmfs_mount_at "$T/fu" "$M" noatime allow_other
	assert_ok setpriv --reuid=52817 --regid=52817 --clear-groups -- \
		sh -c "set -C; echo new >'$M/excl' && echo again >>'$M/excl'"
	assert_content "$T/fu-src/excl" "new
again" "-o noatime: an O_EXCL create as another user, over bindfs --force-user"
	mmfs_umount
	fusermount3 -u "$T/fu"
else
	echo "# bindfs or root missing: create under -o noatime over a" \
		"file system of forced owners not checked"
fi
mmfs_anon_mount
assert_eq "" "$(ls -A "$M")" "-o anon starts empty"
mmfs_umount
mmfs_anon_mount cache=never
echo hi >"$M/f"
assert_content "$M/f" hi "-o anon,cache=never works"

mmfs_done
