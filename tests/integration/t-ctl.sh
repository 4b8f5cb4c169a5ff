#!/bin/bash
# t-ctl.sh - mmapfsctl(1) on a real mount: find/rfind and move agree with
# Python's mmap on the same bytes (python3 is the oracle), madvise, flush,
# info and stats report what the daemon holds, and every error path has its
# exact message and exit status (1 failure, 2 usage).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
if ! command -v "$PYTHON3" >/dev/null 2>&1; then
	skip "python3 (the oracle) is missing"
fi
if [ ! -x "$MMAPFSCTL" ]; then
	fail "mmapfsctl not built: $MMAPFSCTL"
fi

PAGE=$(getconf PAGESIZE)

# ctl ARGS... - run mmapfsctl; sets OUT, ERR (stderr) and RC.
ctl()
{
	RC=0
	OUT=$(deadline 60 "$MMAPFSCTL" "$@" </dev/null 2>"$T/ctl.err") ||
		RC=$?
	ERR=$(cat "$T/ctl.err")
}

# expect RC STDOUT STDERR ARGS... - exact exit status, stdout and the first
# line of stderr of "mmapfsctl ARGS...".
expect()
{
	local rc=$1 out=$2 err=$3 first
	shift 3
	ctl "$@"
	first=${ERR%%$'\n'*}
	if [ "$RC" != "$rc" ] || [ "$OUT" != "$out" ] || [ "$first" != "$err" ]
	then
		fail "mmapfsctl $*: expected status $rc, stdout '$out'," \
			"stderr '$err'; got status $RC, stdout '$OUT'," \
			"stderr '$ERR'"
	fi
	out=${out//$'\n'/\\n}
	first="mmapfsctl $*"
	if [ ${#first} -gt 150 ]; then
		first="${first:0:150}..."
	fi
	ok "$first -> $rc${out:+ '$out'}${err:+ ($err)}"
}

# einval CMD FILE ARGS... - the daemon refuses with EINVAL.
einval()
{
	local cmd=$1 file=$2
	shift 2
	expect 1 "" "mmapfsctl: $cmd: $file: Invalid argument" \
		"$cmd" "$file" "$@"
}

# check_cases FILE CASES - every line of CASES (hex needle|bounds|find's
# answer|rfind's, -1 for absent) as "mmapfsctl find/rfind -x FILE" must
# give: the offset with status 0, or status 1 and no output when absent.
# Sets NCASE to the number of searches checked.
check_cases()
{
	local file=$1 hex bounds want_f want_r op want got b
	NCASE=0
	while IFS='|' read -r hex bounds want_f want_r; do
		read -r -a b <<<"$bounds"
		for op in find rfind; do
			want=$want_f
			[ "$op" = rfind ] && want=$want_r
			ctl "$op" -x "$file" "$hex" "${b[@]}"
			got=$OUT
			if [ "$RC" = 1 ] && [ -z "$OUT$ERR" ]; then
				got=-1
			elif [ "$RC" != 0 ]; then
				got="status $RC"
			fi
			if [ "$got" != "$want" ] || [ -n "$ERR" ]; then
				fail "mmapfsctl $op -x $file '$hex' $bounds:" \
					"Python says $want; got status $RC," \
					"stdout '$OUT', stderr '$ERR'"
			fi
			NCASE=$((NCASE + 1))
		done
	done <"$2"
}

mmfs_mount

# ---------------------------------------------------------------- usage

expect 2 "" "mmapfsctl: missing COMMAND"
expect 2 "" "mmapfsctl: unknown command 'frob'" frob
expect 2 "" "mmapfsctl: unknown option '--frob'" --frob
expect 0 "mmapfsctl (mmapfs) $(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
	"$top_builddir/config.h")" "" --version
ctl --help
assert_eq 0 "$RC" "--help status"
# --help lists the commands in the order of mmapfsctl(1)'s COMMANDS.
help_order=$(printf '%s\n' "$OUT" | awk '/^Commands:/ { c = 1; next }
	/^$/ { c = 0 } c && /^  [a-z]/ { printf "%s ", $1 }')
man_order=$(awk '/^\.SH COMMANDS/ { c = 1; next } /^\.SH/ { c = 0 }
	c && prev == ".TP" { sub(/^\.[A-Z]+ "?/, ""); sub(/[ "].*/, "");
	printf "%s ", $0 } { prev = $0 }' "$top_srcdir/man/mmapfsctl.1")
assert_eq "find rfind madvise move flush info stats " "$help_order" \
	"--help command order"
assert_eq "$help_order" "$man_order" "man page command order"

printf 'one two ones' >"$M/s.txt"
F=$M/s.txt
expect 2 "" "mmapfsctl: find: missing FILE" find
expect 2 "" "mmapfsctl: find: missing NEEDLE" find "$F"
expect 2 "" "mmapfsctl: find: too many arguments" find "$F" one 0 1 2
expect 2 "" "mmapfsctl: find: START '1x' is not a number (decimal or 0x hex)" \
	find "$F" one 1x
expect 2 "" "mmapfsctl: find: START ' 1' is not a number (decimal or 0x hex)" \
	find "$F" one " 1"
expect 2 "" "mmapfsctl: find: END '' is not a number (decimal or 0x hex)" \
	find "$F" one 0 ""
expect 2 "" "mmapfsctl: rfind: END '9223372036854775808' is out of range" \
	rfind "$F" one 0 9223372036854775808
expect 2 "" "mmapfsctl: find: hex NEEDLE '0' has an odd number of digits" \
	find -x "$F" 0
expect 2 "" "mmapfsctl: find: hex NEEDLE '0g': 'g' is not a hex digit" \
	find --hex "$F" 0g
expect 2 "" "mmapfsctl: find: hex NEEDLE '00 ff': ' ' is not a hex digit" \
	find -x "$F" "00 ff"
expect 2 "" "mmapfsctl: find: unknown option '--json'" find --json "$F" one
expect 2 "" "mmapfsctl: info: unknown option '-x'" info -x "$F"
expect 2 "" "mmapfsctl: move: missing COUNT" move "$F" 1 2
expect 2 "" "mmapfsctl: move: SRC '--' is not a number (decimal or 0x hex)" \
	move "$F" 1 -- 2
expect 2 "" "mmapfsctl: flush: too many arguments" flush "$F" 0 0 0
expect 2 "" "mmapfsctl: stats: missing MOUNTPOINT" stats
expect 2 "" "mmapfsctl: madvise: unknown ADVICE 'sometimes' (see 'mmapfsctl --help' for the names)" \
	madvise "$F" sometimes
long=$(printf '%*s' 4097 '' | tr ' ' a)
expect 2 "" "mmapfsctl: find: NEEDLE is 4097 bytes long; at most 4096 are allowed" \
	find "$F" "$long"
expect 2 "" "mmapfsctl: rfind: NEEDLE is 4097 bytes long; at most 4096 are allowed" \
	rfind -x "$F" "$(printf '%*s' 4097 '' | sed 's/ /0a/g')"
# A usage error prints the command's synopsis and the hint too.
ctl find "$F"
assert_eq "mmapfsctl: find: missing NEEDLE
Usage: mmapfsctl find [-x] FILE NEEDLE [START [END]]
Try 'mmapfsctl --help' for more information." "$ERR" "usage text"
expect 0 "Usage: mmapfsctl move FILE DEST SRC COUNT
  copy COUNT bytes from SRC to DEST (overlap-safe)" "" move --help

# ---------------------------------------------------------------- find

# The reference examples (mmap-semantics.md section 6).
expect 0 0 "" find "$F" one
expect 0 8 "" find "$F" ones
expect 0 0 "" find "$F" one 0 -1
expect 0 8 "" find "$F" one 1
expect 0 8 "" find "$F" one 1 -1
expect 1 "" "" find "$F" one 1 -2
expect 0 8 "" rfind "$F" one
expect 0 0 "" rfind "$F" "one "
expect 0 8 "" rfind "$F" one 0 -1
expect 0 0 "" rfind "$F" one 0 -2
expect 1 "" "" rfind "$F" one 1 -2
expect 0 8 "" find "$F" one -4
expect 0 8 "" find "$F" one 0x8 0xc
expect 0 12 "" find "$F" "" 100
expect 0 12 "" rfind "$F" ""
expect 1 "" "" find "$F" absent
expect 1 "" "" find "$F" one 5 3
expect 0 4 "" find "$F" "two" -9223372036854775808 9223372036854775807
# A needle of MMAPFS_NEEDLE_MAX bytes is accepted (and absent).
expect 1 "" "" find "$F" "${long:1}"

# Hex needles holding NUL bytes.
printf 'ab\0\0cd\0\377ef\0' >"$M/nul.bin"
N=$M/nul.bin
expect 0 2 "" find -x "$N" 0000
expect 0 3 "" find -x "$N" 0063
expect 0 6 "" find -x "$N" 00FF
expect 0 10 "" rfind -x "$N" 00
expect 0 3 "" rfind -x "$N" 00 0 -5
expect 0 2 "" find --hex "$N" 00 -9
expect 1 "" "" find -x "$N" 0000 3
expect 1 "" "" find -x "$N" ff00
expect 0 0 "" find -x "$N" 6162
expect 0 4 "" find -x "$N" "" 4

# Random data and bounds against Python's mmap.find/rfind.
py "$M/rand.bin" "$T/find.cases" <<'EOF'
import mmap, random, sys
rng = random.Random(20240611)
n = 5000
# A small alphabet (NUL included) so that short needles often match.
data = bytes(rng.choice(b"\0ab\xff") for _ in range(n))
with open(sys.argv[1], "wb") as f:
    f.write(data)
m = mmap.mmap(-1, n)
m.write(data)
def bound():
    r = rng.random()
    if r < 0.1:
        return rng.choice([-(1 << 63), (1 << 63) - 1, -n - 1, n, n + 7, 0])
    return rng.randint(-n - 50, n + 50)
with open(sys.argv[2], "w") as out:
    for i in range(300):
        if rng.random() < 0.7:
            at = rng.randrange(n)
            needle = data[at:at + rng.randint(0, 6)]
        else:
            needle = bytes(rng.choice(b"\0ab\xff") for _ in
                           range(rng.randint(1, 8)))
        nargs = rng.choice([0, 1, 2, 2, 2])
        args = [bound() for _ in range(nargs)]
        fi = m.find(needle, *([0] + args if nargs == 0 else args))
        ri = m.rfind(needle, *([0] + args if nargs == 0 else args))
        out.write("%s|%s|%d|%d\n" % (needle.hex(), " ".join(map(str, args)),
                                    fi, ri))
EOF
assert_size "$M/rand.bin" 5000 "size of the random file"
check_cases "$M/rand.bin" "$T/find.cases"
assert_eq 600 "$NCASE" "find/rfind cases that agree with Python"

# A file of 96 MiB: the daemon shares such a search out between threads in
# 8 MiB chunks.  Needles straddle the chunk edges and sit at both ends;
# every answer must be the one Python's mmap gives on the backing file.
py "$M/big.bin" "$B/big.bin" "$T/big.cases" <<'EOF'
import mmap, random, sys
MB = 1 << 20
n = 96 * MB
with open(sys.argv[1], "wb") as f:
    f.truncate(n)
    for i, at in enumerate([0, 8 * MB - 3, 16 * MB - 1, 16 * MB, 40 * MB - 7,
                            64 * MB + 3, n - 9, n - 5]):
        f.seek(at)
        f.write(b"edge%d" % (i % 3))
rng = random.Random(5)
with open(sys.argv[2], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    assert len(m) == n
    with open(sys.argv[3], "w") as out:
        for needle in [b"edge0", b"edge1", b"edge2", b"ge1\0", b"\0edge",
                       b"absent"]:
            for args in [[], [1], [8 * MB - 2], [0, 16 * MB + 2],
                         [-MB, n], [40 * MB - 7, 40 * MB - 2],
                         [rng.randrange(n), rng.randrange(n)]]:
                a = args if args else [0]
                out.write("%s|%s|%d|%d\n" % (needle.hex(),
                          " ".join(map(str, args)), m.find(needle, *a),
                          m.rfind(needle, *a)))
EOF
check_cases "$M/big.bin" "$T/big.cases"
assert_eq 84 "$NCASE" "find/rfind on 96 MiB that agree with Python"
rm -f "$M/big.bin"

# ---------------------------------------------------------------- move

# A sequence of moves, valid and not, against Python's mmap.move.
py "$M/move.bin" "$T/move.cases" "$T/move.expect" <<'EOF'
import mmap, random, sys
rng = random.Random(77)
n = 3 * 4096 + 123
data = bytes(rng.randrange(256) for _ in range(n))
with open(sys.argv[1], "wb") as f:
    f.write(data)
m = mmap.mmap(-1, n)
m.write(data)
def num():
    r = rng.random()
    if r < 0.08:
        return rng.choice([-1, n, n + 1, (1 << 63) - 1, -(1 << 63)])
    return rng.randrange(n)
with open(sys.argv[2], "w") as out:
    for i in range(60):
        d, s = num(), num()
        c = rng.choice([0, 1, rng.randrange(n), rng.randrange(64),
                        n - max(d, s) if 0 <= d <= n and 0 <= s <= n else 5])
        try:
            m.move(d, s, c)
            res = "ok"
        except ValueError:
            res = "einval"
        out.write("%d %d %d %s\n" % (d, s, c, res))
    out.write("%d 0 0 ok\n%d %d 0 ok\n" % (n, n, n))
with open(sys.argv[3], "wb") as f:
    f.write(m[:])
EOF
nok=0 nbad=0
while read -r d s c res; do
	ctl move "$M/move.bin" "$d" "$s" "$c"
	if [ "$res" = ok ]; then
		if [ "$RC" != 0 ] || [ -n "$OUT$ERR" ]; then
			fail "mmapfsctl move move.bin $d $s $c: Python moves;" \
				"got status $RC, stdout '$OUT', stderr '$ERR'"
		fi
		nok=$((nok + 1))
	else
		if [ "$RC" != 1 ] || [ -n "$OUT" ] ||
		   [ "$ERR" != "mmapfsctl: move: $M/move.bin: Invalid argument" ]
		then
			fail "mmapfsctl move move.bin $d $s $c: Python raises" \
				"ValueError; got status $RC, stdout '$OUT'," \
				"stderr '$ERR'"
		fi
		nbad=$((nbad + 1))
	fi
done <"$T/move.cases"
if [ "$nok" -lt 20 ] || [ "$nbad" -lt 5 ]; then
	fail "move cases too one-sided: $nok valid, $nbad refused"
fi
ok "$nok valid and $nbad refused moves agree with Python"
assert_file_eq "$T/move.expect" "$M/move.bin" "bytes after the moves"
printf '0123456789' >"$M/m10"
expect 0 "" "" move "$M/m10" 1 0 9
assert_content "$M/m10" "0012345678" "move 1 0 9 is a memmove"
einval move "$M/m10" -1 0 1
einval move "$M/m10" 0 0 11
einval move "$M/m10" 5 0 6

# ---------------------------------------------------------------- flush

expect 0 "" "" flush "$M/move.bin"
expect 0 "" "" flush "$M/move.bin" 0
expect 0 "" "" flush "$M/move.bin" "$PAGE" "$PAGE"
expect 0 "" "" flush "$M/move.bin" "$PAGE"
expect 0 "" "" flush "$M/move.bin" 0 0
einval flush "$M/move.bin" 1 10
einval flush "$M/move.bin" -1
einval flush "$M/move.bin" 0 -1
einval flush "$M/move.bin" 0 $(($(stat -c %s "$M/move.bin") + 1))
assert_file_eq "$T/move.expect" "$B/move.bin" "backing file after flush"
# A file only readers hold is mapped read-only, but a write mount's flush
# keeps ACCESS_WRITE's rule (msync's page-aligned offset) for them too.
head -c 10000 /dev/zero >"$M/fl"
py "$M/fl" "$PAGE" <<'EOF' || fail "flush through a read-only descriptor"
import errno, fcntl, os, struct, sys
FLUSH = (1 << 30) | (24 << 16) | (0xB7 << 8) | 5  # _IOW(0xB7, 5, flush)
path, page = sys.argv[1], int(sys.argv[2])
def flush(fd, off, size):
    try:
        fcntl.ioctl(fd, FLUSH, struct.pack("=qqII", off, size, 0, 0))
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
rfd = os.open(path, os.O_RDONLY)
got = [flush(rfd, 1, 5), flush(rfd, page, 5)]
wfd = os.open(path, os.O_RDWR)
got += [flush(rfd, 1, 5), flush(rfd, page, 5)]
if got != ["EINVAL", "ok", "EINVAL", "ok"]:
    sys.exit("flush(1, 5) and flush(PAGE, 5), readers only, then with a "
             "writer: %s" % got)
EOF
ok "flush's offset rule is the write mount's, whoever holds the file"
rm "$M/fl"

# The backing file grows outside the mount while a client holds it open:
# an ioctl through that descriptor sees the new length at once, as
# fstat(2) does, without a read having reached the old end first.
py "$M/grown" "$B/grown" <<'EOF' || fail "find after the file grew outside"
import fcntl, os, struct, sys
FIND = (3 << 30) | (4128 << 16) | (0xB7 << 8) | 2  # _IOWR(0xB7, 2, find)
RFIND = FIND + 1
def find(fd, cmd, needle):
    b = bytearray(struct.pack("=qqqII", 0, 2**63 - 1, -7, len(needle), 0) +
                  needle.ljust(4096, b"\0"))
    fcntl.ioctl(fd, cmd, b, True)
    return struct.unpack_from("=q", b, 16)[0]
mnt, back = sys.argv[1], sys.argv[2]
fd = os.open(mnt, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"short")
with open(back, "ab") as f:
    f.write(b"\0" * 100000 + b"NEEDLE")
os.utime(back, ns=(1_000_000_000, 1_000_000_000))
before = os.stat(back)
got = (os.fstat(fd).st_size, find(fd, FIND, b"NEEDLE"), find(fd, RFIND, b""))
if got != (100011, 100005, 100011):
    sys.exit("size, find NEEDLE, rfind '': %s" % (got,))
after = os.stat(back)
# the map grows to the file; the file itself is not touched
if (after.st_size, after.st_mtime_ns, after.st_ctime_ns) != \
        (before.st_size, before.st_mtime_ns, before.st_ctime_ns):
    sys.exit("the finds changed the backing file: size, mtime, ctime "
             "%s before, %s after" % (
                 (before.st_size, before.st_mtime_ns, before.st_ctime_ns),
                 (after.st_size, after.st_mtime_ns, after.st_ctime_ns)))
EOF
ok "an ioctl sees a file grown outside the mount, and leaves the file alone"
rm "$M/grown"

# ---------------------------------------------------------------- madvise

R=$M/rand.bin
for adv in normal random sequential willneed dontneed MADV_NORMAL Normal 3
do
	expect 0 "" "" madvise "$R" "$adv"
done
expect 0 "" "" madvise "$R" willneed "$PAGE"
expect 0 "" "" madvise "$R" willneed 0 100
expect 0 "" "" madvise "$R" willneed 0 0
expect 0 "" "" madvise "$R" sequential "$PAGE" 9999999
# Advice that only marks the map, given page by page through a read-only
# descriptor, leaves the daemon's map of the file whole: it split it at
# every call, into as many kernel mappings as calls (up to
# vm.max_map_count, and then every other file's map failed with ENOMEM).
truncate -s 16M "$B/marks"
chmod 444 "$B/marks"
py "$M/marks" "$MMFS_PID" "$B/marks" <<'EOF' || fail "page-by-page advice"
import fcntl, os, struct, sys
MADVISE = (1 << 30) | (24 << 16) | (0xB7 << 8) | 1
path, pid, back = sys.argv[1:]
fd = os.open(path, os.O_RDONLY)
for advice in (1, 2, 14, 16):  # RANDOM, SEQUENTIAL, HUGEPAGE, DONTDUMP
    for page in range(0, 4096, 2):
        fcntl.ioctl(fd, MADVISE, struct.pack("=iIqq", advice, 0,
                                             page * 4096, 4096))
with open("/proc/%s/maps" % pid) as f:
    n = sum(1 for line in f if line.rstrip().endswith(back))
os.close(fd)
assert 1 <= n <= 4, "%d kernel mappings of the file" % n
EOF
ok "advice that marks the map, page by page, leaves it whole"
rm -f "$B/marks"
einval madvise "$R" normal 5000
einval madvise "$R" normal 9999
einval madvise "$R" normal -1
# Filling a hole's pages for writing allocates them: stat sees the blocks
# and the new mtime at once, listed just before or not.
truncate -s 4M "$B/hole4"
touch -d @1000000000 "$B/hole4"
ls -ls "$M" >/dev/null
expect 0 "" "" madvise "$M/hole4" 23
ls -ls "$M" >/dev/null
assert_eq "$(stat -c '%b %Y' "$B/hole4")" "$(stat -c '%b %Y' "$M/hole4")" \
	"blocks and mtime after MADV_POPULATE_WRITE, through the mount"
rm "$B/hole4"
einval madvise "$R" normal 0 -1
einval madvise "$R" normal 1
einval madvise "$R" 12345
expect 1 "" "mmapfsctl: madvise: $R: Value too large for defined data type" \
	madvise "$R" normal "$PAGE" 9223372036854775807
# Advice that would harm the daemon (100 to 103) is refused, and an
# unknown one too, but the range is checked first, as Python checks it
# before the kernel sees the advice.
expect 1 "" "mmapfsctl: madvise: $R: Operation not permitted" madvise "$R" 100
expect 1 "" "mmapfsctl: madvise: $R: Operation not permitted" \
	madvise "$R" 102 "$PAGE" 1
einval madvise "$R" 101 5000
expect 1 "" "mmapfsctl: madvise: $R: Value too large for defined data type" \
	madvise "$R" 12345 "$PAGE" 9223372036854775807
expect 2 "" "mmapfsctl: madvise: unknown ADVICE 'MADV_' (see 'mmapfsctl --help' for the names)" \
	madvise "$R" MADV_
expect 2 "" "mmapfsctl: madvise: START 'x' is not a number (decimal or 0x hex)" \
	madvise "$R" normal x
cmp -s "$R" "$B/rand.bin" || fail "rand.bin changed under madvise"
ok "madvise left the data as it was"

# ---------------------------------------------------------------- info

info_text()
{
	printf 'length: %s\nfile_size: %s\noffset: 0\naccess: write\n' "$1" "$2"
	printf 'flags: MAP_SHARED\nprot: PROT_READ|PROT_WRITE\n'
	printf 'page_size: %s\nmapped: %s\nanonymous: no' "$PAGE" "$3"
}
I=$M/info.bin
head -c 10000 /dev/zero | tr '\0' x >"$I"
expect 0 "$(info_text 10000 10000 yes)" "" info "$I"
expect 0 "{\"length\": 10000, \"file_size\": 10000, \"offset\": 0, \"access\": \"write\", \"flags\": 1, \"prot\": 3, \"page_size\": $PAGE, \"mapped\": true, \"anonymous\": false}" \
	"" info --json "$I"
printf 'tail' >>"$I"
expect 0 "$(info_text 10004 10004 yes)" "" info "$I"
truncate -s 5000 "$I"
expect 0 "$(info_text 5000 5000 yes)" "" info "$I"
truncate -s 0 "$I"
ctl info "$I"
assert_eq 0 "$RC" "info on an empty file: status"
assert_eq "length: 0|file_size: 0|mapped: no" \
	"$(printf '%s\n' "$OUT" | grep -E '^(length|file_size|mapped):' |
	paste -sd '|')" "info on an empty file"
# --json may follow FILE for info and stats.
ctl info "$M/rand.bin" --json
assert_eq 0 "$RC" "info FILE --json: status"
py "$OUT" <<'EOF' || fail "info --json is not the expected object: $OUT"
import json, sys
o = json.loads(sys.argv[1])
assert list(o) == ["length", "file_size", "offset", "access", "flags",
                   "prot", "page_size", "mapped", "anonymous"], o
assert o["length"] == 5000 and o["file_size"] == 5000, o
assert o["mapped"] is True and o["anonymous"] is False, o
EOF
ok "info FILE --json parses as JSON"
expect 1 "" "mmapfsctl: info: $M: Is a directory" info "$M"
expect 1 "" "mmapfsctl: info: $M/none: No such file or directory" \
	info "$M/none"

# ---------------------------------------------------------------- stats

# stats_field KEY - from the current $OUT.
stats_field()
{
	printf '%s\n' "$OUT" | sed -n "s/^$1: //p"
}
exec 9<"$M/rand.bin"
dd bs=1 count=1 <&9 >/dev/null 2>&1
expect 0 "" "" madvise "$M/rand.bin" willneed
ctl stats "$M"
assert_eq 0 "$RC" "stats: status"
assert_eq "live_mappings bytes_mapped requests faults bytes_read bytes_written maps_created maps_released" \
	"$(printf '%s\n' "$OUT" | sed 's/: [0-9]*$//' | paste -sd ' ')" \
	"stats keys"
live=$(stats_field live_mappings)
req1=$(stats_field requests)
mapped=$(stats_field bytes_mapped)
created=$(stats_field maps_created)
if [ "$live" -lt 1 ] || [ "$mapped" -lt 5000 ] || [ "$created" -lt 1 ]; then
	fail "stats with rand.bin held open: live_mappings $live," \
		"bytes_mapped $mapped, maps_created $created"
fi
ok "stats: live_mappings $live, bytes_mapped $mapped while a file is open"
cat "$M/s.txt" >/dev/null
ls -l "$M" >/dev/null
ctl stats "$M/s.txt"
assert_eq 0 "$RC" "stats on a file of the mount: status"
req2=$(stats_field requests)
if [ "$req2" -le "$req1" ]; then
	fail "stats: requests did not increase: $req1 then $req2"
fi
ok "stats: requests increase ($req1 -> $req2)"
exec 9<&-
ctl stats --json "$M"
assert_eq 0 "$RC" "stats --json: status"
py "$OUT" <<'EOF' || fail "stats --json is not the expected object: $OUT"
import json, sys
o = json.loads(sys.argv[1])
assert list(o) == ["live_mappings", "bytes_mapped", "requests", "faults",
                   "bytes_read", "bytes_written", "maps_created",
                   "maps_released"], o
assert all(type(v) is int and v >= 0 for v in o.values()), o
assert o["bytes_written"] >= 5000 + 3 * 4096 + 123, o
EOF
ok "stats --json parses, with the bytes written so far"

# ---------------------------------------------------------------- outside

printf 'abc' >"$T/outside.bin"
O=$T/outside.bin
expect 1 "" "mmapfsctl: find: $O: not on an mmapfs mount" find "$O" abc
expect 1 "" "mmapfsctl: rfind: $O: not on an mmapfs mount" rfind -x "$O" 61
expect 1 "" "mmapfsctl: madvise: $O: not on an mmapfs mount" madvise "$O" normal
expect 1 "" "mmapfsctl: move: $O: not on an mmapfs mount" move "$O" 0 1 1
expect 1 "" "mmapfsctl: flush: $O: not on an mmapfs mount" flush "$O"
expect 1 "" "mmapfsctl: info: $O: not on an mmapfs mount" info "$O"
expect 1 "" "mmapfsctl: stats: $T: not on an mmapfs mount" stats "$T"
expect 1 "" "mmapfsctl: find: $T/none: No such file or directory" \
	find "$T/none" abc
# A FUSE mount that is not mmapfs answers ENOTTY: same message.
if command -v bindfs >/dev/null 2>&1; then
	mkdir "$T/bsrc" "$T/bind"
	printf 'abc' >"$T/bsrc/f"
	MMFS_CLEANUP_HOOKS+=("fusermount3 -uz '$T/bind' 2>/dev/null")
	deadline 30 bindfs "$T/bsrc" "$T/bind"
	expect 1 "" "mmapfsctl: find: $T/bind/f: not on an mmapfs mount" \
		find "$T/bind/f" abc
	expect 1 "" "mmapfsctl: stats: $T/bind: not on an mmapfs mount" \
		stats "$T/bind"
	deadline 30 fusermount3 -u "$T/bind"
else
	echo "# bindfs missing: the ENOTTY path on a foreign FUSE mount is untested"
fi

mmfs_alive "daemon alive after the checks on the write mount"

# ---------------------------------------------------------------- read-only

# move and flush fall back to a read-only open: the daemon then refuses
# the move (EACCES) and, as Python does, accepts the flush.
# ------------------------------------------------------------ interrupts
# A find stops when its client is interrupted: the kernel sends
# FUSE_INTERRUPT, the search takes no further 8 MiB chunk and the ioctl
# fails with EINTR; a client killed with SIGKILL is reaped at once instead
# of waiting in the kernel until the search has read the whole range.  A
# search of this 64 GiB hole reads about a gigabyte a second here.
truncate -s 64G "$M/hole"
py "$M/hole" <<'EOF' || fail "find interrupted by a signal"
import ctypes, errno, os, signal, struct, sys, time
FIND = (3 << 30) | (4128 << 16) | (0xB7 << 8) | 2  # _IOWR(0xB7, 2, find)
libc = ctypes.CDLL(None, use_errno=True)
signal.signal(signal.SIGALRM, lambda *a: None)  # no SA_RESTART
buf = ctypes.create_string_buffer(
    struct.pack("=qqqII", 0, 2**63 - 1, 7, 3, 0) + b"XYZ".ljust(4096, b"\0"))
fd = os.open(sys.argv[1], os.O_RDONLY)
signal.setitimer(signal.ITIMER_REAL, 0.3)
t = time.monotonic()
r = libc.ioctl(fd, FIND, buf)
err, dt = ctypes.get_errno(), time.monotonic() - t
if r != -1 or err != errno.EINTR:
    sys.exit("ioctl: %d (%s) after %.1f s, expected EINTR"
             % (r, errno.errorcode.get(err, err), dt))
EOF
ok "a find interrupted by a signal fails with EINTR"
"$MMAPFSCTL" find "$M/hole" XYZ &
pid=$!
sleep 0.3
kill -KILL "$pid"
deadline 5 tail --pid="$pid" -f /dev/null ||
	fail "a find killed with SIGKILL was still waiting 5 s later"
wait "$pid" 2>/dev/null || true
ok "a find killed with SIGKILL ends at once"
mmfs_alive "the daemon serves on after the interrupted finds"
rm "$M/hole"

main_pid=$MMFS_PID main_mnt=$MMFS_CUR_MNT main_log=$MMFS_LOG
mkdir "$T/ro"
mmfs_mount_at "$B" "$T/ro" access=read
expect 1 "" "mmapfsctl: move: $T/ro/m10: Permission denied (opened read-only: read-write open refused: Read-only file system)" \
	move "$T/ro/m10" 1 0 1
expect 0 "" "" flush "$T/ro/m10"
expect 0 1 "" find "$T/ro/m10" 0123
ctl info "$T/ro/m10"
assert_eq "access: read" "$(printf '%s\n' "$OUT" | grep '^access:')" \
	"info on an access=read mount"
mmfs_umount "$T/ro"
MMFS_PID=$main_pid MMFS_CUR_MNT=$main_mnt MMFS_LOG=$main_log
assert_content "$M/m10" "0012345678" "m10 unchanged by the refused move"

# ---------------------------------------------------------------- copy

# A copy mount writes nothing back, so flush only checks its range, as
# Python's ACCESS_COPY does: also once the file grew, when its bytes live
# in a memfd whose msync would refuse an unaligned offset (it did).
printf 'abcdefghij' >"$M/cpf"
head -c 8192 /dev/zero | tr '\0' x >"$M/cpd"
mkdir "$T/cp"
mmfs_mount_at "$B" "$T/cp" access=copy
expect 0 "" "" flush "$T/cp/cpf" 1 9
printf 'K' >>"$T/cp/cpf"
expect 0 "" "" flush "$T/cp/cpf" 1 10
expect 0 "" "" flush "$T/cp/cpf" 3
einval flush "$T/cp/cpf" 0 12
einval flush "$T/cp/cpf" -1
assert_content "$T/cp/cpf" "abcdefghijK" "copy: the grown file"
assert_content "$B/cpf" "abcdefghij" "copy: BACKING unchanged by the flushes"
# Advice that drops pages drops a copy's private bytes, MADV_DONTNEED_LOCKED
# (24) as MADV_DONTNEED: a read-only handle may not give it (it could),
# and after it the file reads BACKING's bytes again, as a CPython copy
# map does, through the kernel's cache too (it kept the private ones).
py "$T/cp/cpd" <<'EOF' || fail "copy: MADV_DONTNEED_LOCKED"
import errno, fcntl, os, struct, sys
MADVISE = (1 << 30) | (24 << 16) | (0xB7 << 8) | 1  # _IOW(0xB7, 1, 24 bytes)
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"y" * 8192, 0)
ro = os.open(sys.argv[1], os.O_RDONLY)
for advice in (4, 24):  # MADV_DONTNEED, MADV_DONTNEED_LOCKED
    try:
        fcntl.ioctl(ro, MADVISE, struct.pack("=iIqq", advice, 0, 0, 8192))
        raise SystemExit("advice %d through a read-only handle" % advice)
    except PermissionError:
        pass
assert os.pread(ro, 8192, 0) == b"y" * 8192, "private bytes lost"
fcntl.ioctl(fd, MADVISE, struct.pack("=iIqq", 24, 0, 0, 8192))
got = os.pread(ro, 8192, 0)
assert got == b"x" * 8192, got[:16]
EOF
ok "copy: MADV_DONTNEED_LOCKED needs a writable handle and drops the copy"
expect 1 "" "" find "$T/cp/cpd" y
# mmapfsctl opens the file read-write for it, as for dontneed (it opened
# it read-only, and the daemon refused: "Permission denied")
printf 'zz' | dd of="$T/cp/cpd" conv=notrunc status=none
expect 0 "0" "" find "$T/cp/cpd" zz
expect 0 "" "" madvise "$T/cp/cpd" 24
expect 1 "" "" find "$T/cp/cpd" zz
[ "$(tr -d x <"$B/cpd" | wc -c) $(stat -c %s "$B/cpd")" = "0 8192" ] ||
	fail "copy: BACKING changed by the advice"
ok "copy: BACKING unchanged by the advice"
mmfs_umount "$T/cp"
MMFS_PID=$main_pid MMFS_CUR_MNT=$main_mnt MMFS_LOG=$main_log

mmfs_done
