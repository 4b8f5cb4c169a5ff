#!/bin/bash
# tests/integration/t-tools.sh - standard tools on the mount behave as on a
# native directory: every command runs on both and their (path-normalised)
# outputs and exit statuses must match; key values are also asserted.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
N=$T/native
mkdir "$N"
mmfs_mount
export TZ=UTC

# both 'SHELL SNIPPET' [WHAT] - run the snippet with D=native and D=mount;
# output (with D replaced by "D") and exit status must match.  Prints the
# mount's output for further assertions.
both()
{
	local snip=$1 what=${2:-$1} d out rc outs=()
	for d in "$N" "$M"; do
		rc=0
		out=$(D=$d timeout -k 5 120 bash -c "$snip" 2>&1) || rc=$?
		out=${out//$d/D}
		outs+=("${out:+$out$'\n'}status=$rc")
	done
	if [ "${outs[0]}" != "${outs[1]}" ]; then
		fail "$what: mount differs from native:" \
			"$(diff <(echo "${outs[0]}") <(echo "${outs[1]}") ||
				true)"
	fi
	ok "like native: $what"
	BOTH_OUT=${outs[1]}
}

# A source tree: kernel headers when present, plus generated oddities.
S=$T/src
mkdir -p "$S/gen/a/b/c" "$S/gen/empty dir"
if [ -d /usr/include/linux ]; then
	cp -a /usr/include/linux "$S/linux"
fi
for ((i = 0; i < 50; i++)); do
	printf 'file %d\n#define VALUE_%d %d\n' "$i" "$i" "$((i * i))" \
		>"$S/gen/a/f$i.h"
done
head -c 1000000 /dev/urandom >"$S/gen/a/b/c/blob"
: >"$S/gen/zero"
printf 'spaces\n' >"$S/gen/name with spaces"
ln -s a/f1.h "$S/gen/sym"
ln -s /nonexistent "$S/gen/dangling"
ln "$S/gen/a/f2.h" "$S/gen/hardlink"
chmod 600 "$S/gen/a/f3.h"
chmod 755 "$S/gen/a/f4.h"
touch -d '2003-04-05 06:07:08.123456789' "$S/gen/a/f5.h"

# cp -a, then diff -r, the same listing, grep, find, du.
both 'cp -a "'"$S"'" "$D/tree" &&
	diff -r --no-dereference "'"$S"'" "$D/tree"' "cp -a + diff -r"
assert_eq "status=0" "$BOTH_OUT" "diff -r of the copy is clean"
# cp -a sets the mode last, through an access ACL (fsetxattr of
# system.posix_acl_access) on a file it created 0600 or 0700: the mode
# must read back at once, not when the cached attributes time out.
both 'mkdir "$D/modes" && cp -a "'"$S"'/gen/a/f1.h" "'"$S"'/gen/a/f4.h" \
	"'"$S"'/gen/a" "$D/modes/" && stat -c "%a %n" "$D/modes/f1.h" \
	"$D/modes/f4.h" "$D/modes/a"' "cp -a: modes read back at once"
assert_eq "644 D/modes/f1.h
755 D/modes/f4.h
755 D/modes/a" "$(printf '%s\n' "$BOTH_OUT" | head -3)" \
	"cp -a: modes read back at once, through the mount"
both 'cd "$D/tree" && find . -printf "%y %m %n %u:%g %T@ %p -> %l\n" |
	sort && find . -type f -printf "%s %p\n" | sort' "tree listing"
both 'cd "$D/tree" && find . -type f -print0 | sort -z |
	xargs -0 sha256sum' "sha256 of every file"
both 'grep -r VALUE_4 "$D/tree/gen" | sort' "grep -r"
both 'grep -rl define "$D/tree" | sort | wc -l' "grep -rl count"
both 'cd "$D" && find tree -name "*.h" -newer tree/gen/a/f5.h | sort' \
	"find -name -newer"
both 'du -sb "$D/tree/gen/a/b"; du -s --apparent-size -B1 "$D/tree/gen/zero"' \
	"du apparent sizes"
both 'du -sk "$D/tree/gen/a/b/c/blob"' "du blocks of a written file"
both 'stat -c "%n %s %h %F %a %Y %y" "$D"/tree/gen/* | sort' "stat"
assert_eq 1000000 "$(stat -c %s "$M/tree/gen/a/b/c/blob")" "blob size"

# mv over an existing file.
both 'cd "$D" && echo first >x && echo second >y && ln y y2 &&
	mv x y && cat y && cat y2 && ls x 2>&1; stat -c %h y y2' \
	"mv over an existing file"
assert_content "$M/y" first "mv replaced the target"
assert_content "$B/y" first "mv reached the backing directory"

# sed -i.
both 'cd "$D" && cp tree/gen/a/f7.h s && sed -i "s/VALUE/NUMBER/; 1d" s &&
	cat s && stat -c %s s' "sed -i"
assert_content "$M/s" "#define NUMBER_7 49" "sed -i result"

# truncate: grow, shrink, sparse 5 GiB.
both 'cd "$D" && printf 0123456789 >t && truncate -s 20 t && od -c t &&
	truncate -s 4 t && cat t && echo && truncate -s +3 t && od -c t &&
	truncate -s -5 t && od -c t && stat -c %s t' "truncate grow/shrink"
both 'cd "$D" && truncate -s 5G sparse && stat -c %s sparse &&
	dd if=sparse bs=1 skip=$((5 * 1024 * 1024 * 1024 - 3)) status=none |
	od -An -tx1 && test "$(du -k sparse | cut -f1)" -lt 1024 &&
	echo small' \
	"sparse 5 GiB file"
assert_size "$M/sparse" 5368709120 "5 GiB sparse size"
k=$(du -k "$M/sparse" | cut -f1)
[ "$k" -lt 1024 ] || fail "5 GiB sparse file uses $k KiB through the mount"
kb=$(du -k "$B/sparse" | cut -f1)
[ "$kb" -lt 1024 ] || fail "5 GiB sparse backing file uses $kb KiB"
ok "5 GiB sparse file stays sparse ($k KiB, backing $kb KiB)"
rm "$M/sparse" "$N/sparse"

# dd conv=notrunc seek=, and cmp.
both 'cd "$D" && seq 1 2000 >dd && printf ABCDEFGH |
	dd of=dd bs=4 seek=100 conv=notrunc status=none &&
	printf XY | dd of=dd bs=1 seek=20000 conv=notrunc status=none &&
	stat -c %s dd && sha256sum dd &&
	dd if=dd bs=1 skip=398 count=12 status=none' \
	"dd conv=notrunc seek="
both 'cd "$D" && cp dd dd2 && cmp dd dd2 && printf Q |
	dd of=dd2 bs=1 seek=777 conv=notrunc status=none; cmp dd dd2' "cmp"
assert_fails_with " 778, line 220" cmp "$M/dd" "$M/dd2"
cmp "$M/dd" "$N/dd" || fail "dd result differs from native"
ok "dd result equals native byte for byte"

# touch -d, touch -a: times as set, also in the backing file.
both 'cd "$D" && touch -d "2001-02-03 04:05:06" tt && stat -c "%X %Y" tt &&
	touch -a -d "2010-01-01 00:00:00.5" tt && stat -c "%X %Y %x" tt &&
	touch -m -d @1234567890 tt && stat -c "%X %Y" tt' "touch -d / -a / -m"
assert_eq "1262304000 1234567890" "$(stat -c '%X %Y' "$M/tt")" \
	"atime and mtime through the mount"
assert_eq "1262304000 1234567890" "$(stat -c '%X %Y' "$B/tt")" \
	"atime and mtime in the backing file"

# stat's birth time: the kernel asks for it with FUSE_STATX (Linux 6.6),
# and it is the backing object's, for a file, a directory, a symlink and
# the root.  Before, the request failed and stat printed "-".
echo b >"$M/bt"
mkdir "$M/btd"
ln -s bt "$M/btl"
for x in bt btd btl .; do
	assert_eq "$(stat -c '%W %w %s %h %i' "$B/$x")" \
		"$(stat -c '%W %w %s %h %i' "$M/$x")" "stat %W of $x"
done
if [ "$(stat -c %W "$B/bt")" != 0 ]; then
	[ "$(stat -c %w "$M/bt")" != - ] || fail "stat shows no birth time"
	both 'cd "$D" && echo b >bt2 && stat -c %w bt2 | grep -c -v "^-$";
		ls --time=birth -1t bt2' "stat %w, ls --time=birth"
	ok "stat shows the backing file's birth time"
else
	ok "BACKING's file system keeps no birth time: compared as 0"
fi
rm -r "$M/bt" "$M/btd" "$M/btl" "$M/bt2" "$N/bt2" 2>/dev/null || true

# chmod / chown (chown to other ids needs root).
both 'cd "$D" && echo m >cm && chmod 640 cm && stat -c %a cm &&
	chmod u+x,o+r cm && stat -c %a cm && chmod 4755 cm && stat -c %a cm' \
	"chmod"
assert_eq 4755 "$(stat -c %a "$B/cm")" "chmod reached the backing file"
if [ "$(id -u)" = 0 ]; then
	both 'cd "$D" && chown 1234:5678 cm && stat -c "%u %g %a" cm &&
		chown :0 cm && stat -c "%u %g" cm' "chown"
	assert_eq "1234 0" "$(stat -c '%u %g' "$B/cm")" \
		"chown reached the backing file"
fi

# ln and ln -s.
both 'cd "$D" && echo linked >l1 && ln l1 l2 && stat -c %h l1 l2 &&
	echo more >>l2 && cat l1 && ln -s l1 sl && readlink sl && cat sl &&
	ln -s "dir/../nowhere" sl2 && readlink sl2 && stat -c %F sl2 &&
	rm l1 && stat -c %h l2' "ln, ln -s"
assert_eq 2 "$(stat -c %h "$M/tree/gen/hardlink")" "link count via stat -c %h"
assert_eq "a/f1.h" "$(readlink "$M/tree/gen/sym")" "readlink"

# mkfifo.
both 'cd "$D" && mkfifo -m 600 ff && stat -c "%F %a" ff' "mkfifo"
assert_eq fifo "$(stat -c %F "$B/ff")" "backing fifo type"
echo through-fifo >"$T/fifo.out.expected"
deadline 20 cat "$M/ff" >"$T/fifo.out" &
reader=$!
deadline 20 bash -c 'echo through-fifo >"$1"' _ "$M/ff"
wait "$reader"
assert_file_eq "$T/fifo.out.expected" "$T/fifo.out" "bytes through the fifo"

# user.* xattrs.
both 'cd "$D" && echo x >xa && setfattr -n user.color -v blue xa &&
	setfattr -n user.empty xa && getfattr -n user.color --only-values xa &&
	echo && getfattr -d xa && setfattr -x user.color xa && getfattr -d xa &&
	getfattr -n user.color xa' "setfattr / getfattr"
assert_eq blue "$(setfattr -n user.k -v blue "$M/xa" &&
	getfattr --absolute-names -n user.k --only-values "$B/xa")" \
	"xattr in the backing file"

# chattr / lsattr: inode flags are the backing object's.  Immutable and
# append-only, set through the mount or behind it, refuse what they
# refuse natively, also to files held open (whose opens the daemon could
# serve with the descriptor it holds) and to O_APPEND opens (which the
# daemon's own descriptor does not carry).
if command -v chattr >/dev/null 2>&1 && lsattr -d "$N" >/dev/null 2>&1; then
	both 'cd "$D" && echo x >fl && mkdir fld && chattr +A +d fl &&
		chattr +d fld && lsattr fl && lsattr -d fld && chattr -A fl &&
		lsattr fl' "chattr / lsattr"
	assert_eq "$(lsattr "$N/fl" | cut -d' ' -f1)" \
		"$(lsattr "$B/fl" | cut -d' ' -f1)" "flags in the backing file"
	for d in "$N" "$B"; do
		MMFS_CLEANUP_HOOKS+=("chattr -a -i '$d/a' '$d/i' '$d/c' '$d/h' \
			2>/dev/null")
	done
	cat >"$T/attr.py" <<'EOF'
import errno, os, subprocess, sys, time
os.chdir(sys.argv[1])
out = []
def t(what, fn):
    try:
        r = fn()
        out.append("%s: ok%s" % (what, "" if r is None else " " + repr(r)))
    except OSError as e:
        out.append("%s: %s" % (what, errno.errorcode[e.errno]))
def chattr(flag, name):
    subprocess.run(["chattr", flag, name], check=True)
def wr(name, flags, data):
    fd = os.open(name, flags)
    try:
        return os.write(fd, data)
    finally:
        os.close(fd)
A, C = os.O_APPEND, os.O_CREAT
with open("a", "wb") as f:
    f.write(b"base\n")
held = os.open("a", os.O_RDWR)
chattr("+a", "a")
t("a: open O_WRONLY", lambda: wr("a", os.O_WRONLY, b"x"))
t("a: open O_APPEND", lambda: wr("a", os.O_WRONLY | A, b"app\n"))
t("a: O_TRUNC", lambda: wr("a", os.O_RDWR | A | os.O_TRUNC, b"t"))
t("a: truncate", lambda: os.truncate("a", 1))
t("a: utime explicit", lambda: os.utime("a", (1, 1)))
t("a: utime now", lambda: os.utime("a", None))
t("a: chmod", lambda: os.chmod("a", 0o600))
t("a: unlink", lambda: os.unlink("a"))
t("a: rename", lambda: os.rename("a", "a2"))
t("a: held pwrite", lambda: os.pwrite(held, b"B", 0))
os.close(held)
time.sleep(0.3)  # the last close reaches the daemon
t("a: closed, open O_APPEND", lambda: wr("a", os.O_WRONLY | A, b"more\n"))
t("a: closed, open O_RDWR", lambda: wr("a", os.O_RDWR, b"x"))
t("a: closed, O_RDWR|O_APPEND", lambda: wr("a", os.O_RDWR | A, b"rw\n"))
t("a: closed, O_APPEND|O_TRUNC",
  lambda: wr("a", os.O_WRONLY | A | os.O_TRUNC, b"t"))
t("a: read", lambda: open("a", "rb").read())
chattr("-a", "a")
t("a: cleared, open O_WRONLY", lambda: wr("a", os.O_WRONLY, b"C"))
t("a: final", lambda: open("a", "rb").read())
with open("i", "wb") as f:
    f.write(b"imm\n")
held = os.open("i", os.O_RDWR)
chattr("+i", "i")
t("i: held pwrite", lambda: os.pwrite(held, b"X", 0))
t("i: held ftruncate", lambda: os.ftruncate(held, 1))
t("i: open O_WRONLY", lambda: wr("i", os.O_WRONLY, b"x"))
t("i: open O_APPEND", lambda: wr("i", os.O_WRONLY | A, b"x"))
t("i: O_RDONLY|O_TRUNC", lambda: os.close(os.open("i", os.O_TRUNC)))
t("i: utime now", lambda: os.utime("i", None))
t("i: chmod", lambda: os.chmod("i", 0o600))
t("i: setxattr", lambda: os.setxattr("i", "user.x", b"1"))
t("i: link", lambda: os.link("i", "i2"))
t("i: unlink", lambda: os.unlink("i"))
os.close(held)
chattr("-i", "i")
t("i: cleared, append", lambda: wr("i", os.O_WRONLY | A, b"ok\n"))
t("i: final", lambda: open("i", "rb").read())
open("h", "wb").close()
held = os.open("h", os.O_RDWR)
chattr("+a", "h")
t("h: empty, held, written", lambda: os.pwrite(held, b"OOOO", 0))
t("h: appended", lambda: wr("h", os.O_WRONLY | A, b"app\n"))
t("h: held ftruncate", lambda: os.ftruncate(held, 1))
t("h: read", lambda: open("h", "rb").read())
os.close(held)
chattr("-a", "h")
with open("c", "wb") as f:
    f.write(b"c\n")
chattr("+a", "c")
t("c: O_CREAT|O_APPEND", lambda: wr("c", os.O_WRONLY | C | A, b"cc\n"))
chattr("-a", "c")
t("c: final", lambda: open("c", "rb").read())
print("\n".join(out))
EOF
	both "\"$PYTHON3\" '$T/attr.py' \"\$D\"" \
		"chattr +a and +i: what they refuse, held open or not"
	# An O_CREAT|O_APPEND open of an append-only file the kernel has as
	# missing (made behind the mount) is a CREATE: its O_APPEND
	# descriptor must not become the file's, where a later positional
	# write would append.
	MMFS_CLEANUP_HOOKS+=("chattr -a '$B/ca' 2>/dev/null")
	missing_then_made "$M/ca" "$B/ca" 0123456789
	py "$M/ca" "$B/ca" <<'EOF'
import os, subprocess, sys
m, b = sys.argv[1], sys.argv[2]
subprocess.run(["chattr", "+a", b], check=True)
fd = os.open(m, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
os.write(fd, b"A")
subprocess.run(["chattr", "-a", b], check=True)
fd2 = os.open(m, os.O_WRONLY)
os.pwrite(fd2, b"Z", 0)
os.close(fd2)
os.close(fd)
with open(b, "rb") as f:
    got = f.read()
assert got == b"Z123456789A", got
EOF
	ok "an append-only file created over a missing name: writes as natively"
	rm "$M/ca"
	MMFS_CLEANUP_HOOKS+=("chattr -i '$B/fl' 2>/dev/null")
	chattr +i "$B/fl"
	assert_eq "i" "$(lsattr "$M/fl" | cut -c5)" "immutable set behind it"
	assert_fails_with "Operation not permitted" \
		bash -c 'echo y >>"$1"' - "$M/fl"
	assert_ok chattr -i "$M/fl"
	assert_eq "-" "$(lsattr "$B/fl" | cut -c5)" "immutable cleared"
	assert_ok bash -c 'echo y >>"$1"' - "$M/fl"
	assert_content "$B/fl" "x
y" "written once no longer immutable"
else
	echo "# no chattr, or no inode flags natively: chattr checks skipped"
fi

# tar c of the tree, tar x elsewhere on the mount: times restored.
both 'cd "$D" && tar cf tree.tar tree && mkdir x && tar xf tree.tar -C x &&
	diff -r --no-dereference tree x/tree && cd x &&
	find . -mindepth 1 -printf "%y %m %T@ %p\n" | sort' \
	"tar c + tar x"
(cd "$S" && find . ! -type d -printf '%Y %p\n' | sort) >"$T/times.src"
(cd "$M/x/tree" && find . ! -type d -printf '%Y %p\n' | sort) >"$T/times.tar"
assert_file_eq "$T/times.src" "$T/times.tar" \
	"tar x restored mtimes (stat %Y) of every file"
assert_eq "$(stat -c %Y "$S/gen/a/f5.h")" \
	"$(stat -c %Y "$M/x/tree/gen/a/f5.h")" \
	"tar x mtime of one file"

# rm -r.
both 'cd "$D" && rm -r tree x && ls -A | sort' "rm -r"
[ ! -e "$B/tree" ] && [ ! -e "$B/x" ] || fail "rm -r left backing files"
ok "rm -r removed the backing tree"

mmfs_done
