#!/bin/bash
# tests/integration/t-user.sh - mmapfs mounted by an ordinary user through
# fusermount3, without default_permissions: the kernel checks nothing, so
# the backing file system's checks, made as that user, are the only ones.
# Each case runs natively and on the mount, as that user: a directory it
# may read but not search lists its names; a file it may no longer write
# or read cannot be opened so even while it holds the file open (the
# daemon's descriptor must not stand in for the check), nor truncated by
# path; a copy mount refuses to write what the user may not write; a file
# it may write but not read, which no map can serve, is refused before an
# O_TRUNC open empties it (mmapfs(1), NOTES).

# The user must open /dev/fuse, which a machine may keep for root (0600):
# then the test runs in a mount namespace of its own, with a node it may
# open bound over /dev/fuse there (below).
if [ -z "${MMFS_USER_NS:-}" ] && [ "$(id -u)" = 0 ] && [ -e /dev/fuse ] &&
	command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 &&
	! setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" \
		--clear-groups -- test -w /dev/fuse; then
	MMFS_USER_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
[ "$(id -u)" = 0 ] || skip "needs root (to act as another user)"
command -v setpriv >/dev/null || skip "setpriv is missing"

# fusermount3 wants the user to have a name: nobody, which every system has.
U=$(id -u nobody 2>/dev/null) || skip "no user 'nobody'"
G=$(id -g nobody)
asuser() { setpriv --reuid="$U" --regid="$G" --clear-groups -- "$@"; }
# The user's mount refuses everyone else, root too (no allow_root).
MMFS_AS=(setpriv --reuid="$U" --regid="$G" --clear-groups --)

if [ -n "${MMFS_USER_NS:-}" ]; then
	mknod "$T/fuse" c 10 229
	chmod 666 "$T/fuse"
	mount --bind "$T/fuse" /dev/fuse
fi
asuser test -w /dev/fuse || fail "the user cannot open /dev/fuse"

chmod 755 "$T"
UB=$T/ub
UN=$T/un
UM=$T/um
mkdir "$UB" "$UN" "$UM"
chown "$U:$G" "$UB" "$UN" "$UM"
cat >"$T/mmapfs-user" <<EOF
#!/bin/bash
exec setpriv --reuid=$U --regid=$G --clear-groups -- "$MMAPFS" "\$@"
EOF
chmod +x "$T/mmapfs-user"
root_daemon=$MMAPFS
MMAPFS=$T/mmapfs-user
mmfs_mount_at "$UB" "$UM"

# case.py DIR - the cases, as the user, in DIR; one line of outcomes each.
cat >"$T/case.py" <<'EOF'
import errno, os, sys

os.chdir(sys.argv[1])
out = []

def tryit(what, fn):
    try:
        fn()
        out.append(what + ": ok")
    except OSError as e:
        out.append(what + ": " + errno.errorcode[e.errno])

def make(name, data, mode):
    with open(name, "wb") as f:
        f.write(data)
    os.chmod(name, mode)

# a directory it may read but not search
os.mkdir("d")
for n in "ab":
    open("d/" + n, "w").close()
os.chmod("d", 0o600)
try:
    out.append("list 0600 dir: " + repr(sorted(os.listdir("d"))))
except OSError as e:
    out.append("list 0600 dir: " + errno.errorcode[e.errno])
os.chmod("d", 0o700)

# held open to write, then made read-only, then unreadable
make("f", b"held\n", 0o644)
held = os.open("f", os.O_RDWR)
os.chmod("f", 0o444)
tryit("open 0444 O_WRONLY", lambda: os.close(os.open("f", os.O_WRONLY)))
tryit("open 0444 O_RDONLY|O_TRUNC",
      lambda: os.close(os.open("f", os.O_RDONLY | os.O_TRUNC)))
tryit("truncate 0444 by path", lambda: os.truncate("f", 1))
tryit("ftruncate held", lambda: os.ftruncate(held, 5))
os.chmod("f", 0o000)
tryit("open 0000 O_RDONLY", lambda: os.close(os.open("f", os.O_RDONLY)))
os.close(held)
os.chmod("f", 0o644)
out.append("f holds " + repr(open("f", "rb").read()))
sys.stdout.write("\n".join(out) + "\n")
EOF
asuser "$PYTHON3" "$T/case.py" "$UN" >"$T/native.out" 2>&1
asuser "$PYTHON3" "$T/case.py" "$UM" >"$T/mount.out" 2>&1
assert_file_eq "$T/native.out" "$T/mount.out" \
	"a user's daemon: listings, opens and truncations as native"
grep -q "list 0600 dir: \['a', 'b'\]" "$T/mount.out" ||
	fail "the 0600 directory was not listed: $(cat "$T/mount.out")"
assert_eq "$U" "$(stat -c %u "$UB/f")" "the user's files are the user's"

# A file the user may write but not read: natively writable; no map can
# serve it (a map needs a descriptor that reads), so opening it to write
# fails, and before an O_TRUNC open has emptied it.
printf 'keep me\n' >"$UB/wo"
chown "$U:$G" "$UB/wo"
chmod 200 "$UB/wo"
for flags in O_WRONLY "O_WRONLY | os.O_TRUNC"; do
	out=$(asuser "$PYTHON3" - "$UM/wo" <<EOF 2>&1
import errno, os, sys
try:
    os.close(os.open(sys.argv[1], os.$flags))
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
EOF
)
	assert_eq EACCES "$out" "a 0200 file opened $flags: EACCES"
done
assert_content "$UB/wo" "keep me" "the 0200 file keeps its bytes"
mmfs_alive "the user's daemon alive"
mmfs_umount

# A copy mount opens every file read-only: writing a file the user may not
# write is refused all the same, through an open or a truncation.
printf 'mine\n' >"$UB/ro"
chown "$U:$G" "$UB/ro"
chmod 444 "$UB/ro"
mmfs_mount_at "$UB" "$UM" access=copy
out=$(asuser "$PYTHON3" - "$UM/ro" <<'EOF' 2>&1
import errno, os, sys
for what, fn in (("open", lambda: os.close(os.open(sys.argv[1], os.O_WRONLY))),
                 ("truncate", lambda: os.truncate(sys.argv[1], 0))):
    try:
        fn()
        print(what, "ok")
    except OSError as e:
        print(what, errno.errorcode[e.errno])
EOF
)
assert_eq "open EACCES
truncate EACCES" "$out" "copy mount: a 0444 file is not written"
assert_eq "mine" "$(asuser cat "$UM/ro")" "copy mount: its bytes unchanged"
MMAPFS=$root_daemon
mmfs_done
