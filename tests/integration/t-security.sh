#!/bin/bash
# tests/integration/t-security.sh - a root daemon mounted with
# allow_other,default_permissions.  Another user gets exactly what a
# native directory gives them (a 0600 file of root unreadable, no creation
# in a directory they may not write, what they create is theirs, no ioctl
# that changes a file they may only read).  Names with "..", symlinks to
# outside, a negative dentry raced by a planted symlink, and paths far
# deeper than PATH_MAX never make the daemon touch anything outside
# BACKING: two sentinel trees (an outside directory and BACKING's parent)
# stay identical, byte for byte and in metadata.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
[ "$(id -u)" = 0 ] || skip "needs root (allow_other as another user)"
command -v setpriv >/dev/null || skip "setpriv is missing"

# The other user: numeric ids, so no account needs to exist.
U=${MMFS_TEST_UID:-52817}
G=${MMFS_TEST_GID:-52817}
SG=4321 # the group of the setgid directory
EACCES="Permission denied"
EPERM="Operation not permitted"

chmod 755 "$T" # the other user must reach the mount point
OUT=$T/outside
BP=$T/bparent
BK=$BP/backing
N=$T/native
mkdir -p "$OUT/victimdir" "$BK"
printf 'do not touch\n' >"$OUT/victimdir/victim"
printf 'sentinel\n' >"$BP/sentinel"
mkdir "$BP/sub"

# snapshot DIR... - every name, type, mode, size, owner, m/ctime, link
# target, xattr and sha256 under DIR (BACKING itself left out).
snapshot()
{
	local d
	for d in "$@"; do
		find "$d" -path "$BK" -prune -o \
			-printf '%p %y %m %s %u:%g %T@ %C@ -> %l\n' | sort
		find "$d" -path "$BK" -prune -o -type f -print0 | sort -z |
			xargs -0 -r sha256sum
		find "$d" -path "$BK" -prune -o -print0 | sort -z |
			xargs -0 -r getfattr -h -d -m - 2>/dev/null || true
	done
}
snapshot "$OUT" "$BP" >"$T/sentinel.before"

# as_user CMD... - run as the other user, umask 022.
as_user()
{
	setpriv --reuid="$U" --regid="$G" --clear-groups -- \
		sh -c 'umask 022; exec "$@"' sh "$@"
}

# The same tree in BACKING and in a native directory.
make_tree()
{
	local d=$1
	mkdir -p "$d"
	printf 'top secret\n' >"$d/secret"
	chmod 600 "$d/secret"
	printf 'public\n%.0s' {1..500} >"$d/pub"
	chmod 644 "$d/pub"
	mkdir "$d/rootdir"
	printf 'in rootdir\n' >"$d/rootdir/f"
	mkdir -m 1777 "$d/shared"
	printf 'root in shared\n' >"$d/shared/rootfile"
	chmod 666 "$d/shared/rootfile"
	mkdir -m 2777 "$d/sgid"
	chgrp "$SG" "$d/sgid"
	chmod 2777 "$d/sgid"
	printf 'setuid\n' >"$d/suid"
	chmod 4777 "$d/suid"
	for f in sgidw sgidt sgido sgidmine sgidxmine; do
		printf 'setgid\n' >"$d/$f"
		chgrp "$SG" "$d/$f"
		chmod 2666 "$d/$f"
	done
	chgrp "$G" "$d/sgidmine" "$d/sgidxmine"
	chmod 2666 "$d/sgidmine"
	chmod 2676 "$d/sgidxmine"
	mkdir "$d/theirs"
	chown "$U:$G" "$d/theirs"
}
make_tree "$BK"
make_tree "$N"

# Programs the other user can run: the build tree (or a pyenv under /root)
# may be closed to them.
cp "$MMAPFSCTL" "$T/mmapfsctl"
chmod 755 "$T/mmapfsctl"
as_user "$T/mmapfsctl" --version >/dev/null 2>&1 ||
	fail "uid $U cannot run a copy of mmapfsctl in $T"
UPY=
for p in "$PYTHON3" /usr/bin/python3 /usr/local/bin/python3; do
	if as_user "$p" -c 'pass' >/dev/null 2>&1; then
		UPY=$p
		break
	fi
done

mmfs_mount_at "$BK" "$M" allow_other default_permissions

# both 'SNIPPET' [WHAT] - the snippet as the other user with D=native and
# D=mount: outputs (D normalised) and exit statuses must match.
both()
{
	local snip=$1 what=${2:-$1} d res rc outs=()
	for d in "$N" "$M"; do
		rc=0
		res=$(D=$d timeout -k 5 60 setpriv --reuid="$U" --regid="$G" \
			--clear-groups -- sh -c "umask 022; $snip" 2>&1) || rc=$?
		res=${res//$d/D}
		outs+=("${res:+$res$'\n'}status=$rc")
	done
	if [ "${outs[0]}" != "${outs[1]}" ]; then
		fail "$what: mount differs from native:" \
			"$(diff <(echo "${outs[0]}") <(echo "${outs[1]}") ||
				true)"
	fi
	ok "as uid $U, like native: $what"
	BOTH_OUT=${outs[1]}
}

# ---------------------------------------------------------------- refusals
refused()
{
	local want=$1 snip=$2
	both "$snip"
	case $BOTH_OUT in
	*"$want"*status=[1-9]*) ok "  ...and it fails with '$want'" ;;
	*) fail "'$snip' should fail with '$want': $BOTH_OUT" ;;
	esac
}
refused "$EACCES" 'cat "$D/secret"'
refused "$EACCES" 'echo x >"$D/secret"'
refused "$EACCES" 'echo x >>"$D/pub"'
refused "$EACCES" 'truncate -s 0 "$D/pub"'
refused "$EACCES" 'touch "$D/rootdir/new"'
refused "$EACCES" 'mkdir "$D/rootdir/newdir"'
refused "$EACCES" 'ln -s x "$D/rootdir/link"'
refused "$EACCES" 'mkfifo "$D/rootdir/fifo"'
refused "$EACCES" 'rm -f "$D/rootdir/f"'
refused "$EACCES" 'mv "$D/rootdir/f" "$D/shared/stolen"'
refused "$EACCES" 'touch "$D/pub"'
refused "$EPERM" 'touch -c -d "2001-01-01" "$D/pub"'
refused "$EPERM" 'chmod 666 "$D/pub"'
refused "$EPERM" "chown $U \"\$D/pub\""
refused "$EPERM" 'ln "$D/secret" "$D/shared/hardlink"'
refused "$EPERM" 'rm -f "$D/shared/rootfile"'
refused "$EACCES" 'setfattr -n user.x -v 1 "$D/pub"'
refused "$EACCES" 'exec 3<>"$D/pub"'

# allow_other alone implies default_permissions: without it a root daemon
# would read, write and chmod anything for anyone.
mmfs_umount
mmfs_mount_at "$BK" "$M" allow_other
opts=$(findmnt -n -o OPTIONS "$M")
case ",$opts," in
*,default_permissions,*) ok "allow_other alone: default_permissions is on" ;;
*) fail "allow_other alone: no default_permissions in $opts" ;;
esac
refused "$EACCES" 'cat "$D/secret"'
refused "$EACCES" 'echo x >>"$D/pub"'
refused "$EACCES" 'touch "$D/rootdir/new"'
refused "$EPERM" 'chmod 666 "$D/pub"'
refused "$EACCES" 'exec 3<>"$D/pub"'
mmfs_umount
mmfs_mount_at "$BK" "$M" allow_other default_permissions
both 'cat "$D/rootdir/f" && ls "$D/rootdir" && head -c 7 "$D/pub"' \
	"reading what they may read"
assert_eq "$(printf 'in rootdir\nf\npublic\nstatus=0')" "$BOTH_OUT" \
	"the readable files read"

# ---------------------------------------------------------------- creation
both 'cd "$D/shared" && touch mine && mkdir mydir && ln -s target mylink &&
	mkfifo myfifo && echo data >>mine && cat mine &&
	stat -c "%n %u:%g %a %F" mine mydir mylink myfifo' \
	"files they create in a sticky dir"
assert_eq "data
mine $U:$G 644 regular file
mydir $U:$G 755 directory
mylink $U:$G 777 symbolic link
myfifo $U:$G 644 fifo
status=0" "$BOTH_OUT" "what they create is theirs (uid, gid, umask)"
for f in mine mydir mylink myfifo; do
	assert_eq "$U:$G" "$(stat -c %u:%g "$BK/shared/$f")" \
		"BACKING: shared/$f belongs to uid $U"
done
both 'cd "$D/sgid" && touch f && mkdir d && stat -c "%n %u:%g %a" f d' \
	"files they create in a setgid dir"
assert_eq "f $U:$SG 644
d $U:$SG 2755
status=0" "$BOTH_OUT" "a setgid directory gives its group"
both 'cd "$D/theirs" && echo mine >f && chmod 600 f && chmod 700 . &&
	stat -c "%n %u:%g %a" f . && rm f' "their own directory"
both 'echo more >>"$D/suid" && stat -c "%a %u" "$D/suid"' \
	"writing a setuid file of root (mode 4777)"
assert_eq "777 0
status=0" "$BOTH_OUT" "a write by another user clears the setuid bit"
# Setgid goes too where the file is group-executable or they are not in
# its group (Linux 6.2 on; the FUSE protocol's rule is the older one).
both 'echo more >>"$D/sgidw" && truncate -s 2 "$D/sgidt" && : >"$D/sgido" &&
	echo more >>"$D/sgidmine" && echo more >>"$D/sgidxmine" &&
	stat -c "%n %a" "$D/sgidw" "$D/sgidt" "$D/sgido" "$D/sgidmine" \
		"$D/sgidxmine"' "writing setgid files (modes 2666 and 2676)"
assert_eq "D/sgidw 666
D/sgidt 666
D/sgido 666
D/sgidmine 2666
D/sgidxmine 676
status=0" "$BOTH_OUT" "write, truncate and O_TRUNC by a non-member clear setgid"
# A creat(2) (O_TRUNC) that makes a new file: nothing is truncated, and
# the setgid and setuid bits it is given stay (the kernel asks to clear
# them for any O_TRUNC by a caller without CAP_FSETID).
both 'python3 -c "import os, sys
for n, m in ((\"sgnew\", 0o2755), (\"sunew\", 0o4755)):
    os.close(os.open(sys.argv[1] + n, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, m))
" "$D/theirs/" && stat -c "%n %a" "$D/theirs/sgnew" "$D/theirs/sunew"' \
	"creat of new setgid and setuid files"
assert_eq "D/theirs/sgnew 2755
D/theirs/sunew 4755
status=0" "$BOTH_OUT" "creat keeps the bits of a file it makes"
# An O_CREAT|O_TRUNC open by the other user of a name the kernel has as
# missing, where root's file was made behind the mount meanwhile: the
# truncation needs write permission on it (EACCES), as natively.
missing_then_made "$M/shared/late" "$BK/shared/late" "root's bytes"
res=$(py "$M/shared/late" "$BK/shared/late" "$U" "$G" <<'EOF'
import errno, os, sys
m, b, uid, gid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.chmod(b, 0o644)
pid = os.fork()
if pid == 0:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    try:
        os.open(m, os.O_RDONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os._exit(0)
    except OSError as e:
        os._exit(e.errno)
_, st = os.waitpid(pid, 0)
print(errno.errorcode.get(os.waitstatus_to_exitcode(st), "opened"),
      os.stat(b).st_size)
EOF
)
assert_eq "EACCES 12" "$res" \
	"O_TRUNC create over root's file made behind a missing name: EACCES"
rm -f "$BK/shared/late"
# A member through a supplementary group keeps it.
supp_write()
{
	printf 'x\n' >"$1"
	chgrp "$SG" "$1"
	chmod 2666 "$1"
	setpriv --reuid="$U" --regid="$G" --groups="$SG" -- \
		sh -c 'echo more >>"$1"' sh "$1"
	stat -c %a "$1"
}
assert_eq "2666 2666" "$(supp_write "$N/sgidsupp") $(supp_write "$M/sgidsupp")" \
	"a write by a member through a supplementary group keeps setgid"
# Past the 64th group too: a caller of 70 groups creates where only its
# 70th may write (the daemon creates with the caller's groups).
many=$(seq -s, 50001 50070)
res=
for d in "$N" "$M"; do
	mkdir "$d/g70"
	chgrp 50070 "$d/g70"
	chmod 770 "$d/g70"
	res="$res $(setpriv --reuid="$U" --regid="$G" --groups="$many" -- \
		sh -c 'touch "$1/f" && mkdir "$1/d" && echo ok' sh "$d/g70" 2>&1)"
done
assert_eq " ok ok" "$res" "a caller of 70 groups creates through its 70th"
# A daemon in another PID namespace gets no pid for the caller, so cannot
# read its groups: it keeps setgid then (the FUSE protocol's rule).
if unshare -p -f --kill-child true 2>/dev/null; then
	mmfs_umount
	cat >"$T/mmapfs-pidns" <<EOF
#!/bin/bash
exec unshare -p -f --kill-child "$MMAPFS" "\$@"
EOF
	chmod +x "$T/mmapfs-pidns"
	real_daemon=$MMAPFS
	MMAPFS=$T/mmapfs-pidns
	mmfs_mount_at "$BK" "$M" allow_other default_permissions
	MMAPFS=$real_daemon
	assert_eq 2666 "$(supp_write "$M/sgidns")" \
		"a daemon in another PID namespace: a member's write keeps setgid"
	mmfs_umount
	mmfs_mount_at "$BK" "$M" allow_other default_permissions
else
	echo "# unshare -p unavailable: the PID namespace case is not checked"
fi
both 'rm "$D/shared/mine" && rmdir "$D/shared/mydir" && ls "$D/shared"' \
	"removing their own files"
assert_ok mmfs_alive "daemon alive after the permission checks"

# ---------------------------------------------------------------- ACLs
# POSIX ACLs in BACKING count as they do natively: a named entry grants or
# denies, a default ACL replaces the umask of what is created below it,
# chmod moves the mask.  Without them, the mount would check the mode
# bits alone and apply the umask before the default ACL.
if command -v setfacl >/dev/null && command -v getfacl >/dev/null; then
	for d in "$BK" "$N"; do
		printf 'acl granted\n' >"$d/aclread"
		chmod 600 "$d/aclread"
		setfacl -m "u:$U:r" "$d/aclread"
		printf 'acl denied\n' >"$d/acldeny"
		chmod 644 "$d/acldeny"
		setfacl -m "u:$U:-" "$d/acldeny"
		mkdir -m 755 "$d/acldir"
		setfacl -d -m "u:$U:rwx" "$d/acldir" # group, other: r-x
		chmod 777 "$d/acldir"
	done
	both 'cat "$D/aclread"' "an ACL entry lets them read a 0600 file"
	assert_eq "acl granted
status=0" "$BOTH_OUT" "the file an ACL grants reads"
	refused "$EACCES" 'cat "$D/acldeny"'
	both 'cd "$D/acldir" && touch f && mkdir d && mkfifo p &&
		stat -c "%n %a" f d p && getfacl -c f d 2>/dev/null' \
		"what they create below a default ACL"
	assert_eq "f 664
d 775
p 664" "$(echo "$BOTH_OUT" | head -3)" "a default ACL replaces the umask"
	both 'cd "$D/theirs" && touch g && chmod 640 g &&
		setfacl -m "u:0:rw" g && stat -c "%a" g && chmod 600 g &&
		getfacl -c g 2>/dev/null && rm g' \
		"setfacl and chmod on their own file (mode and mask)"
	assert_eq "660" "$(echo "$BOTH_OUT" | head -1)" \
		"setfacl through the mount moves the mode's group bits"
else
	echo "# setfacl/getfacl missing (package acl): ACL checks skipped"
fi

# ---------------------------------------------------------------- ioctls
# A file they may only read cannot be changed by ioctl: MOVE and
# MADV_REMOVE need a handle open for writing (EACCES otherwise).
sha_pub=$(sha256sum <"$BK/pub")
cat >"$T/ioctl.py" <<'EOF'
import errno, fcntl, os, struct, sys
path, mode = sys.argv[1], sys.argv[2]
MOVE = (1 << 30) | (24 << 16) | (0xB7 << 8) | 4
MADV = (1 << 30) | (24 << 16) | (0xB7 << 8) | 1
fd = os.open(path, os.O_RDWR if mode == "rw" else os.O_RDONLY)
out = []
for name, cmd, arg in (
        ("move", MOVE, struct.pack("qqq", 0, 100, 100)),
        ("remove", MADV, struct.pack("iIqq", 9, 0, 0, 8192)),  # MADV_REMOVE
        ("populate_write", MADV, struct.pack("iIqq", 23, 0, 0, 4096))):
    try:
        fcntl.ioctl(fd, cmd, arg)
        out.append(name + " ok")
    except OSError as e:
        out.append(name + " " + errno.errorcode[e.errno])
print(", ".join(out))
EOF
if [ -n "$UPY" ]; then
	assert_eq "move EACCES, remove EACCES, populate_write EACCES" \
		"$(as_user "$UPY" "$T/ioctl.py" "$M/pub" ro 2>&1)" \
		"another user's ioctls on a file they may only read"
else
	echo "# no Python that uid $U may run: mmapfsctl only"
fi
assert_eq "move EACCES, remove EACCES, populate_write EACCES" \
	"$("$PYTHON3" "$T/ioctl.py" "$M/pub" ro 2>&1)" \
	"root's ioctls through a read-only handle"
assert_eq "$sha_pub" "$(sha256sum <"$BK/pub")" "pub unchanged by them"
assert_fails_with "$EACCES" as_user "$T/mmapfsctl" move "$M/pub" 0 100 100
assert_fails_with "$EACCES" as_user "$T/mmapfsctl" madvise "$M/pub" remove \
	0 8192
assert_eq "$sha_pub" "$(sha256sum <"$BK/pub")" "pub unchanged by mmapfsctl"
cp "$BK/pub" "$BK/shared/theirs"
chown "$U:$G" "$BK/shared/theirs"
if [ -n "$UPY" ]; then
	assert_eq "move ok, remove ok, populate_write ok" \
		"$(as_user "$UPY" "$T/ioctl.py" "$M/shared/theirs" rw 2>&1)" \
		"the same ioctls through a read-write handle of their own file"
	cp "$BK/pub" "$BK/shared/theirs"
fi
# mmapfsctl opens read-write for the advice that needs it
assert_ok as_user "$T/mmapfsctl" move "$M/shared/theirs" 0 100 100
assert_ok as_user "$T/mmapfsctl" madvise "$M/shared/theirs" remove 0 8192
assert_size "$BK/shared/theirs" 3500 "their file keeps its size"
assert_eq 0 "$(tr -d '\0' <"$BK/shared/theirs" | wc -c)" \
	"MADV_REMOVE punched a hole over their whole file"

# ---------------------------------------------------------------- escapes
# Absolute symlinks to the outside tree, planted in BACKING.
ln -s "$OUT/victimdir" "$BK/esc"
ln -s "$OUT/victimdir/victim" "$BK/escf"
assert_content "$M/escf" "do not touch" "a symlink to outside reads (client)"
assert_eq "$OUT/victimdir" "$(readlink "$M/esc")" "readlink of esc"
assert_ok chown -h "$U:$G" "$M/esc"
assert_eq "$U:$G" "$(stat -c %u:%g "$BK/esc")" "lchown changed the link"
assert_ok touch -h -d "2002-02-02 00:00:00 UTC" "$M/esc"
assert_eq "$(date -d '2002-02-02 00:00:00 UTC' +%s)" \
	"$(stat -c %Y "$BK/esc")" "touch -h changed the link's mtime"
assert_fails_with "$EPERM" setfattr -h -n user.x -v 1 "$M/esc"
assert_ok ln "$M/esc" "$M/esc-hard"
assert_eq "$OUT/victimdir" "$(readlink "$BK/esc-hard")" \
	"a hard link of the symlink is the symlink"
assert_ok mv "$M/esc-hard" "$M/esc-moved"
assert_ok rm "$M/esc-moved" "$M/escf"
assert_ok ls -lR "$M" # lookups of everything, links not followed

# Names with dots are plain names; ".." is the kernel's, relative to the
# mount point: $M/.. is $T, never BACKING's parent.
for name in ... a..b ..x 'x..' '.. '; do
	assert_ok touch "$M/$name"
	[ -f "$BK/$name" ] || fail "'$name' is not in BACKING"
	rm "$M/$name"
done
ok "names made of dots land in BACKING as given"
assert_eq "$(stat -c %d:%i "$T")" "$(stat -c %d:%i "$M/..")" \
	"the mount's .. is the mount point's parent"
mkdir "$M/sub"
assert_ok touch "$M/sub/../../dotdot-escape"
[ -f "$T/dotdot-escape" ] && [ ! -e "$BP/dotdot-escape" ] ||
	fail "sub/../../ did not resolve against the mount point"
ok "sub/../.. resolves against the mount point (client side)"
rm "$T/dotdot-escape"

# A negative entry in the kernel's cache, then a symlink planted under
# that name: creating through the mount reaches the daemon with the name,
# and the daemon must not follow the link.  The links are relative, to
# "../NAME.out": followed by the daemon they would land in BACKING's
# parent (a sentinel tree); followed by the client, in the mount point's
# parent, as open(2) with O_CREAT does natively: the daemon answers such
# a create with ESTALE, and the kernel looks the name up and follows the
# link itself.  The creations that may not follow a link fail (EEXIST);
# one that did neither is made again, up to ten times (a test beside this
# one may drop the kernel's negative entries).
mmfs_umount
mmfs_mount_at "$BK" "$M" allow_other default_permissions cache=always
py "$M" "$BK" "$T" <<'EOF'
import errno, os, sys
m, bk, t = sys.argv[1:4]
def attempt(name, fn, errs):
    for i in range(10):
        assert not os.path.lexists(os.path.join(m, name))  # negative entry
        os.symlink("../%s.out" % name, os.path.join(bk, name))
        try:
            fn(os.path.join(m, name))
        except OSError as e:
            if e.errno not in errs:
                raise
            os.unlink(os.path.join(bk, name))
            return
        os.unlink(os.path.join(bk, name))
        client = os.path.join(t, name + ".out")
        if not os.path.lexists(client):
            sys.exit("%s succeeded, and not by the client" % name)
        if os.path.isdir(client):
            os.rmdir(client)
        else:
            os.unlink(client)
        return
    sys.exit("%s: the kernel never kept its negative entry" % name)
attempt("race-open", lambda p: os.close(os.open(p, os.O_WRONLY | os.O_CREAT,
        0o644)), (errno.EEXIST,))
attempt("race-excl", lambda p: os.open(p, os.O_WRONLY | os.O_CREAT |
        os.O_EXCL, 0o644), (errno.EEXIST,))
attempt("race-mkdir", os.mkdir, (errno.EEXIST,))
attempt("race-fifo", os.mkfifo, (errno.EEXIST,))
attempt("race-link", lambda p: os.symlink("x", p), (errno.EEXIST,))
EOF
ok "creations over a planted symlink: the daemon follows none"
for n in race-open race-excl race-mkdir race-fifo race-link; do
	[ ! -e "$BP/$n.out" ] || fail "the daemon followed $n into $BP"
done

# Very long paths: a tree far deeper than PATH_MAX, built and removed
# through the mount with relative paths (the daemon works with *at calls
# on its own descriptors, never with whole paths).
py "$M" "$BK" <<'EOF'
import errno, os, shutil, sys
m, bk = sys.argv[1:3]
name = "d" * 250
depth = 40                       # about 10 KB of path
os.chdir(m)
for i in range(depth):
    os.mkdir(name)
    os.chdir(name)
with open("bottom", "w") as f:
    f.write("deep\n")
with open("bottom") as f:
    assert f.read() == "deep\n"
# the same file seen in BACKING, one component at a time
fd = os.open(bk, os.O_RDONLY | os.O_DIRECTORY)
for i in range(depth):
    nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
got = os.open("bottom", os.O_RDONLY, dir_fd=fd)
assert os.read(got, 100) == b"deep\n"
# names at and past NAME_MAX, a path past PATH_MAX, a long link target
open("n" * 255, "w").close()
for bad in ("n" * 256, "/".join([m] + [name] * 17)):
    try:
        open(bad, "w")
        sys.exit("%d chars: created" % len(bad))
    except OSError as e:
        assert e.errno == errno.ENAMETOOLONG, e
target = ("t" * 200 + "/") * 20
target = target[:4095]
os.symlink(target, "long-link")
assert os.readlink("long-link") == target
os.chdir(m)
shutil.rmtree(os.path.join(m, name))
assert not os.path.exists(os.path.join(bk, name))
EOF
ok "a tree 40 x 250 chars deep: built, seen in BACKING, removed"

mmfs_alive "daemon alive after the escape attempts"
snapshot "$OUT" "$BP" >"$T/sentinel.after"
if ! cmp -s "$T/sentinel.before" "$T/sentinel.after"; then
	fail "outside BACKING changed:" \
		"$(diff "$T/sentinel.before" "$T/sentinel.after")"
fi
ok "the outside tree and BACKING's parent are untouched"

# A BACKING without ACLs (ramfs keeps no extended attributes): the mode
# bits alone decide, as natively, rather than the kernel's ACL reads
# failing every access with EOPNOTSUPP.
RB=$T/ramfs
mkdir "$RB"
if mount -t ramfs none "$RB" 2>/dev/null; then
	MMFS_CLEANUP_HOOKS+=("umount '$RB'")
	chmod 755 "$RB"
	printf 'no acls\n' >"$RB/f"
	chmod 644 "$RB/f"
	mmfs_umount
	mmfs_mount_at "$RB" "$M" allow_other default_permissions
	assert_eq "no acls" "$(as_user cat "$M/f" 2>&1)" \
		"no ACLs in BACKING: another user reads a 0644 file"
	assert_fails_with "$EACCES" as_user sh -c "echo x >'$M/f'"
	assert_fails_with "Operation not supported" setfacl -m "u:$U:rw" "$M/f"
	ok "no ACLs in BACKING: writing is refused, setfacl is not supported"
else
	echo "# no ramfs here: the check of a BACKING without ACLs is skipped"
fi
mmfs_done
