#!/bin/bash
# bench/run.sh - mmapfs beside the native directory, bindfs, libfuse's
# passthrough_ll and tmpfs (issue 5): each system is mounted in turn over
# the same backing directory, in BENCH_RUNS rounds of every system and
# every row, and one table of medians comes out with mmapfs's ratio to the best FUSE peer.  Needs
# root.  Usage: run.sh [BUILD_DIR] (make bench passes it).  The knobs are
# environment variables, listed in bench/README.md.
set -u
export LC_ALL=C

BUILD=$(cd "${1:-.}" && pwd) || exit 1
MMAPFS=$BUILD/src/mmapfs
CTL=$BUILD/tools/mmapfsctl
FSOPS=$BUILD/bench/fsops
MEMMEM=$BUILD/bench/memmem-bench

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	d_size=256M d_runs=1 d_time=1 d_files=2000 d_fsyncs=100 d_hold=2000
	d_tree=/usr/include/linux
else
	d_size=1G d_runs=3 d_time=3 d_files=10000 d_fsyncs=300 d_hold=10000
	d_tree=/usr/include
fi
SIZE=${BENCH_SIZE:-$d_size}
RUNS=${BENCH_RUNS:-$d_runs}
FIO_TIME=${BENCH_TIME:-$d_time}
NFILES=${BENCH_FILES:-$d_files}
NFSYNC=${BENCH_FSYNCS:-$d_fsyncs}
NHOLD=${BENCH_HOLD:-$d_hold}
TREE=${BENCH_TREE:-$d_tree}
SYSTEMS=${BENCH_SYSTEMS:-native bindfs bindfs-mt ptll ptll-wb mmapfs mmapfs-writeback tmpfs anon}
ROWS=${BENCH_ROWS:-seqwrite seqread randread randwrite fsync files tree find hold}
BASE=${BENCH_DIR:-/var/tmp}
OUT=${BENCH_OUT:-$BUILD/bench-results.txt}
NEEDLE=mmapfs-NEEDLE-7Q

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

size_bytes()
{
	local n=${1%[KMG]} u=${1##*[0-9]}
	case $u in
	K) echo $((n << 10)) ;; M) echo $((n << 20)) ;;
	G) echo $((n << 30)) ;; "") echo "$n" ;;
	*) die "bad size $1" ;;
	esac
}
BYTES=$(size_bytes "$SIZE")
[ "$BYTES" -ge $((16 << 20)) ] || die "BENCH_SIZE must be at least 16M"
[ "$RUNS" -ge 1 ] || die "BENCH_RUNS must be at least 1"

# ---------------------------------------------------------------- setup

[ "$(id -u)" = 0 ] || die "run me as root (mounts, drop_caches)"
# Holding BENCH_HOLD files open takes a descriptor each in mmapfs and
# bindfs, two in passthrough_ll, and the daemons inherit this limit (where
# it may be raised).
nr_open=$(cat /proc/sys/fs/nr_open 2>/dev/null || echo 1048576)
ulimit -Hn "$nr_open" 2>/dev/null
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null
for f in "$MMAPFS" "$CTL" "$FSOPS" "$MEMMEM"; do
	[ -x "$f" ] || die "$f: not built (run make bench in the build dir)"
done
need=()
for p in fio bindfs python3 pkg-config; do
	command -v $p >/dev/null || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	say "bench: installing ${need[*]}"
	apt-get install -y -q "${need[@]}" >&2 || die "cannot install ${need[*]}"
fi
command -v fusermount3 >/dev/null || die "fusermount3 missing (fuse3)"

W=$(mktemp -d "$BASE/mmapfs-bench.XXXXXX") || die "mktemp in $BASE"
BACK=$W/back MP=$W/mnt TMPFS=$W/tmpfs RES=$W/results AWAY=$W/away
mkdir "$BACK" "$MP" "$TMPFS" "$AWAY"
: >"$RES"
PID='' CUR='' MNT=''
TCK=$(getconf CLK_TCK)

cleanup()
{
	trap - EXIT INT TERM
	stop_daemon
	mountpoint -q "$TMPFS" && umount "$TMPFS"
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "bench: kept $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'say "bench: interrupted"; exit 130' INT TERM

PLL=$W/passthrough_ll
src=/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c
if [[ " $SYSTEMS " = *" ptll"* ]]; then
	[ -r "$src" ] || die "$src missing (libfuse3-dev)"
	# shellcheck disable=SC2046
	${CC:-cc} -O2 -o "$PLL" "$src" $(pkg-config --cflags --libs fuse3) ||
		die "cannot compile $src"
fi

# ---------------------------------------------------------------- mounts

is_fuse() { [ "$CUR" != native ] && [ "$CUR" != tmpfs ]; }
# persistent: data survives an unmount, so "fresh mount" means remount
is_persistent_fuse() { is_fuse && [ "$CUR" != anon ]; }

start_daemon()
{
	local -a cmd extra
	local i
	read -ra extra <<<"${BENCH_MMAPFS_OPTS:-}"
	case $CUR in
	native) MNT=$BACK; return 0 ;;
	tmpfs) MNT=$TMPFS; return 0 ;;
	bindfs) cmd=(bindfs -f "$BACK" "$MP") ;;
	bindfs-mt) cmd=(bindfs -f --multithreaded "$BACK" "$MP") ;;
	ptll) cmd=("$PLL" -f -o source="$BACK" "$MP") ;;
	ptll-wb) cmd=("$PLL" -f -o writeback -o source="$BACK" "$MP") ;;
	mmapfs) cmd=("$MMAPFS" -f "${extra[@]}" "$BACK" "$MP") ;;
	mmapfs-*) cmd=("$MMAPFS" -f -o "${CUR#mmapfs-}" "$BACK" "$MP") ;;
	anon) cmd=("$MMAPFS" -f -o anon "${extra[@]}" "$MP") ;;
	*) die "unknown system $CUR" ;;
	esac
	"${cmd[@]}" >>"$W/$CUR.log" 2>&1 &
	PID=$!
	for ((i = 0; i < 200; i++)); do
		mountpoint -q "$MP" && break
		kill -0 "$PID" 2>/dev/null ||
			die "$CUR did not mount: $(tail -5 "$W/$CUR.log")"
		sleep 0.05
	done
	mountpoint -q "$MP" || die "$CUR: no mount after 10 s"
	MNT=$MP
}

# Daemon CPU time (ticks) and peak RSS (kB), read just before unmounting.
record_daemon()
{
	local line rest hwm anon
	[ -z "${NO_DAEMON_RECORD:-}" ] || return 0
	read -r line <"/proc/$PID/stat" 2>/dev/null || return 0
	rest=${line##*) }
	# shellcheck disable=SC2086
	set -- $rest
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$PID/status" 2>/dev/null)
	anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$PID/status" 2>/dev/null)
	{
		echo "$CUR cpu_s $(awk -v t=$((${12} + ${13})) -v hz="$TCK" \
			'BEGIN { printf "%.2f", t / hz }')"
		echo "$CUR hwm_kb ${hwm:-0}"
		echo "$CUR anon_kb ${anon:-0}"
	} >>"$RES"
}

stop_daemon()
{
	local i
	[ -n "$PID" ] || return 0
	record_daemon
	fusermount3 -u "$MP" 2>/dev/null || umount -l "$MP" 2>/dev/null
	for ((i = 0; i < 1200; i++)); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$PID" 2>/dev/null; then
		say "bench: $CUR daemon $PID did not exit, killing it"
		kill -9 "$PID" 2>/dev/null
	fi
	wait "$PID" 2>/dev/null
	PID=
}

# backed: the system keeps its files in BACK
is_backed() { [ "$CUR" = native ] || is_persistent_fuse; }

# Where BACK is ext4 without a journal (as on this project's machines),
# ext4 does not hand out an inode freed a short while before, and checks
# every such inode its allocator passes.  Here, 500 creates took 0.01 s,
# and 0.2-0.4 s from 26 to 101 s after 10,000 other files were removed
# (fast again from 126 s on): a row that creates many files after another
# removed many measures ext4's search more than the system under test.
# So nothing many-filed is removed from BACK until every row has run:
# trees and held files go aside when their system unmounts (run_system),
# and the file sets of the create row stay for the unlink row, which runs
# after all the rounds.  Before a row creates many files in BACK,
# wait_freed waits until the bench has run for 150 s, for what ran
# before it (the default rows take longer than that).
NDIR=0
wait_freed()
{
	local left
	is_backed || return 0
	left=$(((started + 150000000 - $(t_now)) / 1000000))
	[ "$left" -gt 0 ] || return 0
	say "bench: $CUR: waiting $left s, until files removed before the" \
		"bench are 150 s old"
	sleep "$left"
}

# A fresh mount, so that nothing is in the FUSE page or dentry caches.
remount()
{
	is_persistent_fuse || return 0
	stop_daemon
	start_daemon
}

# The first read after mount, for systems that cannot remount: anon loses
# its files at unmount, so drop the mount's cached pages instead.
uncache()
{
	[ "$CUR" = anon ] && dd if="$1" iflag=nocache count=0 status=none
	return 0
}

drop_dentries()
{
	sync
	echo 2 >/proc/sys/vm/drop_caches
}

# ---------------------------------------------------------------- helpers

rec() { echo "$CUR $1 $2" >>"$RES"; }
err() { say "bench: $CUR: $*"; echo "$CUR: $*" >>"$W/errors"; }
t_now() { echo "${EPOCHREALTIME/./}"; }
t_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", (b - a) / 1e6 }'; }

# timed ROW CMD... - run CMD (stdout discarded), record its seconds.
# Commands get a deadline; functions put one on what they run.
timed()
{
	local row=$1 t0 t1 to=(timeout -k 5 900)
	shift
	declare -F "$1" >/dev/null && to=()
	t0=$(t_now)
	if "${to[@]}" "$@" >/dev/null 2>>"$W/cmd.err"; then
		t1=$(t_now)
		rec "$row" "$(t_secs "$t0" "$t1")"
	else
		err "$row: $* failed: $(tail -2 "$W/cmd.err")"
	fi
}

# fio_iops ROW read|write FIO-ARGS... - record the IOPS of one fio run
fio_iops()
{
	local row=$1 dir=$2 v
	shift 2
	if ! timeout -k 5 300 fio --output-format=json --output="$W/fio.json" \
		--name=bench --filename="$MNT/seq.dat" --bs=4k \
		--ioengine=psync --direct=0 --group_reporting "$@" \
		>/dev/null 2>>"$W/cmd.err"; then
		err "$row: fio failed: $(tail -2 "$W/cmd.err")"
		return
	fi
	v=$(python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(j["jobs"][0][sys.argv[2]]["iops"])' "$W/fio.json" "$dir") &&
		rec "$row" "$v"
}

mbps() { awk -v b="$BYTES" -v s="$1" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }

# ---------------------------------------------------------------- rows

row_seqwrite()
{
	local r t0 t1
	for ((r = 0; r < PASSES; r++)); do
		rm -f "$MNT/seq.dat"
		sync
		t0=$(t_now)
		if dd if=/dev/zero of="$MNT/seq.dat" bs=1M \
			count=$((BYTES >> 20)) conv=fsync status=none \
			2>>"$W/cmd.err"; then
			t1=$(t_now)
			rec seqwrite "$(mbps "$(t_secs "$t0" "$t1")")"
		else
			err "seqwrite failed: $(tail -2 "$W/cmd.err")"
		fi
	done
}

have_seq()
{
	[ "$(stat -c %s "$MNT/seq.dat" 2>/dev/null)" = "$BYTES" ] && return 0
	dd if=/dev/zero of="$MNT/seq.dat" bs=1M count=$((BYTES >> 20)) \
		conv=fsync status=none
}

row_seqread()
{
	local r t0 t1 n
	have_seq || { err "no seq.dat"; return; }
	for ((r = 0; r < PASSES; r++)); do
		remount
		uncache "$MNT/seq.dat"
		for n in 1 2; do
			t0=$(t_now)
			dd if="$MNT/seq.dat" of=/dev/null bs=1M status=none ||
				{ err "seqread$n failed"; continue; }
			t1=$(t_now)
			rec "seqread$n" "$(mbps "$(t_secs "$t0" "$t1")")"
		done
	done
}

# One pass of random 4 KiB reads, capped at FIO_TIME seconds, from a fresh
# mount: each read is a request (fio advises POSIX_FADV_RANDOM, so there
# is no readahead).  Native and tmpfs read their page cache.
row_randread()
{
	local r inv=0 q=$((BYTES / 4))
	is_fuse && inv=1
	have_seq || { err "no seq.dat"; return; }
	for ((r = 0; r < PASSES; r++)); do
		remount
		fio_iops randread1 read --rw=randread --size="$BYTES" \
			--runtime="$FIO_TIME" --invalidate=$inv
		remount
		fio_iops randread4 read --rw=randread --numjobs=4 \
			--size=$q --offset_increment=$q \
			--runtime="$FIO_TIME" --invalidate=$inv
	done
}

row_randwrite()
{
	local r q=$((BYTES / 4))
	have_seq || { err "no seq.dat"; return; }
	for ((r = 0; r < PASSES; r++)); do
		sync
		fio_iops randwrite1 write --rw=randwrite --size="$BYTES" \
			--runtime="$FIO_TIME" --time_based --invalidate=0
		sync
		fio_iops randwrite4 write --rw=randwrite --numjobs=4 \
			--size=$q --offset_increment=$q \
			--runtime="$FIO_TIME" --time_based --invalidate=0
	done
}

row_fsync()
{
	local r out
	for ((r = 0; r < PASSES; r++)); do
		sync
		if out=$("$FSOPS" fsync "$MNT/fsync.dat" "$NFSYNC" \
			2>>"$W/cmd.err"); then
			rec fsync50 "${out% *}"
			rec fsync99 "${out#* }"
		else
			err "fsync failed: $(tail -2 "$W/cmd.err")"
		fi
		rm -f "$MNT/fsync.dat"
	done
}

# fsops_rec ROW OP DIR - record the seconds fsops reports
fsops_rec()
{
	local out
	if out=$(timeout -k 5 900 "$FSOPS" "$2" "$3" "$NFILES" \
		2>>"$W/cmd.err"); then
		rec "$1" "$out"
	else
		err "$1 failed: $(tail -2 "$W/cmd.err")"
	fi
}

# create, then stat from a fresh mount; the unlink follows at once where
# the files are not in BACK, and after all the rounds where they are.
row_files()
{
	local r d
	for ((r = 0; r < PASSES; r++)); do
		printf -v d '%s/files.%s.%04d' "$MNT" "$CUR" $((++NDIR))
		mkdir "$d"
		wait_freed
		sync
		fsops_rec create create "$d"
		remount
		drop_dentries
		fsops_rec stat stat "$d"
		is_backed && continue
		fsops_rec unlink unlink "$d"
		rm -rf "$d"
	done
}

# The unlink of the oldest file sets row_files left in BACK, one per pass,
# on a fresh mount after a stat of them (as the stat row leaves the caches).
row_unlink()
{
	local r d
	is_backed || return 0
	for ((r = 0; r < PASSES; r++)); do
		for d in "$BACK/files.$CUR".*; do
			break
		done
		[ -d "$d" ] || return 0
		d=$MNT/${d##*/}
		drop_dentries
		"$FSOPS" stat "$d" "$NFILES" >/dev/null 2>>"$W/cmd.err"
		fsops_rec unlink unlink "$d"
		rm -rf "$d"
	done
}

tar_back() { timeout -k 5 900 tar cf - -C "$MNT" "$1" | cat >/dev/null; }

row_tree()
{
	local r t
	[ -d "$TREE" ] || { err "no $TREE"; return; }
	for ((r = 0; r < PASSES; r++)); do
		t=tree.$((++NDIR))
		wait_freed
		sync
		timed cp cp -r "$TREE" "$MNT/$t"
		remount
		timed tar tar_back "$t"
	done
}

# ok_output EXPECTED CMD... - run CMD, fail unless it prints EXPECTED
ok_output()
{
	local want=$1 got
	shift
	got=$(timeout -k 5 900 "$@" 2>>"$W/cmd.err")
	[ "$got" = "$want" ] || { echo "$*: got '$got'" >>"$W/cmd.err"; return 1; }
}

# The second search of a map that stays: memmem twice in one process, and
# mmapfsctl find twice while a client holds the file open (the daemon
# keeps the file's map, and its page table entries, while it is open).
memmem_warm()
{
	local out
	if out=$("$MEMMEM" warm "$1" "$NEEDLE" 2>>"$W/cmd.err") &&
		[ "${out% *}" = "$HAY_AT" ]; then
		rec memmem_warm "${out#* }"
	else
		err "memmem warm: got '${out:-}'"
	fi
	return 0
}

find_warm()
{
	local hold
	exec {hold}<"$1"
	ok_output "$HAY_AT" "$CTL" find "$1" "$NEEDLE" ||
		err "find warm-up failed: $(tail -2 "$W/cmd.err")"
	# three, as the odd one takes several times longer on a busy guest
	for _ in 1 2 3; do
		timed find_warm ok_output "$HAY_AT" "$CTL" find "$1" "$NEEDLE"
	done
	exec {hold}<&-
}

row_find()
{
	local r hay
	[ -n "${HAY_AT:-}" ] || return 0
	case $CUR in tmpfs | anon) return 0 ;; esac
	hay=$MNT/hay.txt
	for ((r = 0; r < PASSES; r++)); do
		remount
		timed grep ok_output 1 grep -c -F "$NEEDLE" "$hay"
		case $CUR in
		native)
			timed memmem ok_output "$HAY_AT" \
				"$MEMMEM" search "$hay" "$NEEDLE"
			memmem_warm "$hay" ;;
		mmapfs*)
			remount
			timed find ok_output "$HAY_AT" \
				"$CTL" find "$hay" "$NEEDLE"
			find_warm "$hay" ;;
		esac
	done
}

# The daemon's resident memory with NHOLD 4 KiB files held open.
row_hold()
{
	local out
	is_fuse || return 0
	mkdir -p "$MNT/held"
	wait_freed
	if out=$("$FSOPS" hold "$MNT/held" "$NHOLD" \
		"awk '/^VmRSS:/ {print \$2}' /proc/$PID/status" \
		2>>"$W/cmd.err"); then
		rec rss_open "$out"
	else
		err "hold failed: $(tail -2 "$W/cmd.err")"
	fi
	is_backed || rm -rf "$MNT/held"
}

# ---------------------------------------------------------------- main

describe()
{
	local fstype
	fstype=$(df -T "$BACK" | awk 'NR == 2 {print $2}')
	echo "machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, Linux $(uname -r)"
	echo "backing: $BASE ($fstype); libfuse $(pkg-config --modversion fuse3), $(fio --version), bindfs $(bindfs --version 2>&1 | awk '{print $2; exit}')"
	echo "sizes: BENCH_SIZE=$SIZE BENCH_RUNS=$RUNS BENCH_TIME=$FIO_TIME BENCH_FILES=$NFILES BENCH_FSYNCS=$NFSYNC BENCH_HOLD=$NHOLD BENCH_TREE=$TREE; open files limit $(ulimit -n)"
}

describe >"$W/header"
cat "$W/header" >&2
started=$(t_now)

if [[ " $ROWS " = *" find "* ]]; then
	HAY_AT=$((BYTES - (1 << 20)))
	say "bench: writing the $SIZE haystack"
	"$MEMMEM" gen "$BACK/hay.txt" "$BYTES" "$NEEDLE" "$HAY_AT" ||
		die "cannot write the haystack"
fi

# One mount of system CUR, the given rows run on it, the backing directory
# emptied after: all but the haystack and seq.dat, which every system on
# the backing directory may share, and the file sets that the unlink row
# removes after all the rounds; trees and held files go aside (see
# wait_freed).
run_system()
{
	local row d
	if [ "$CUR" = tmpfs ]; then
		mount -t tmpfs -o size=$((BYTES * 2 + (1 << 30))) tmpfs \
			"$TMPFS" || { err "cannot mount tmpfs"; return; }
	fi
	start_daemon
	for row; do
		"row_$row"
	done
	stop_daemon
	[ "$CUR" = tmpfs ] && umount "$TMPFS"
	for d in "$BACK"/tree.* "$BACK/held"; do
		[ -e "$d" ] && mv "$d" "$AWAY/${d##*/}.$((++NDIR))"
	done
	find "$BACK" -mindepth 1 -maxdepth 1 ! -name hay.txt ! -name seq.dat \
		! -name 'files.*' -exec rm -rf {} +
}

# Rounds: each row on every system in turn, RUNS times over, so that the
# systems of a row run close together in time, each after the same work
# (that row, on the system before it) rather than after its own earlier
# rows, whose writes and removals the disk may still be paying for.  A
# machine that slows down or speeds up part way through touches every
# column alike.
# The order of the systems changes from round to round (round_order), so
# that no system always runs right after the same other one: a disk that
# is still paying for what the system before did shows on a different
# column each round.
# BENCH_INTERLEAVE=0 runs each system's RUNS passes of every row back to
# back instead.

# round_order N - the systems for round N: as given, reversed, then every
# second one (the odd places first), and again from the start.
round_order()
{
	local -a s
	local i n
	read -ra s <<<"$SYSTEMS"
	n=${#s[@]}
	case $((($1 - 1) % 3)) in
	0) echo "${s[*]}" ;;
	1) for ((i = n - 1; i >= 0; i--)); do printf '%s ' "${s[i]}"; done ;;
	2) for ((i = 0; i < n; i += 2)); do printf '%s ' "${s[i]}"; done
	   for ((i = 1; i < n; i += 2)); do printf '%s ' "${s[i]}"; done ;;
	esac
}

# unlink_all - the unlink row, after every row has created what it creates
# (see wait_freed): the systems of each round in that round's order.
unlink_all()
{
	local n
	[[ " $ROWS " = *" files "* ]] || return 0
	for ((n = 1; n <= RUNS; n++)); do
		for CUR in $(round_order "$n"); do
			say "bench: unlink $n/$RUNS, $CUR" \
				"($(t_secs "$started" "$(t_now)" | cut -d. -f1) s)"
			run_system unlink
		done
		[ "$PASSES" = 1 ] || break
	done
}

if [ "${BENCH_INTERLEAVE:-1}" = 1 ]; then
	PASSES=1
	for ((round = 1; round <= RUNS; round++)); do
		for row in $ROWS; do
			for CUR in $(round_order "$round"); do
				say "bench: round $round/$RUNS, $row, $CUR ($(t_secs "$started" "$(t_now)" | cut -d. -f1) s)"
				run_system "$row"
			done
		done
	done
	unlink_all
else
	PASSES=$RUNS
	for CUR in $SYSTEMS; do
		say "bench: $CUR ($(t_secs "$started" "$(t_now)" | cut -d. -f1) s)"
		# shellcheck disable=SC2086
		run_system $ROWS
	done
	unlink_all
fi

# The cold finds once more, on a page cache that reading the file filled.
# The haystack was written in 1 MiB blocks, and the page cache of written
# blocks is made of folios too small for 2 MiB page table entries; a file
# read in from disk (readahead, as after a reboot) gets folios that fit
# them, and a fresh map then costs one entry per 2 MiB instead of one per
# 4 KiB page.  Done after the rounds, as it changes the file's page cache
# for good; the daemon's CPU and memory are not recorded here.
if [[ " $ROWS " = *" find "* ]] && [[ " $SYSTEMS " = *" mmapfs "* ]]; then
	say "bench: the cold finds again, after reading the haystack in"
	sync
	dd if="$BACK/hay.txt" iflag=nocache count=0 status=none
	cat "$BACK/hay.txt" >/dev/null
	# the first map of the new folios is slower than any after it
	ok_output "$HAY_AT" "$MEMMEM" search "$BACK/hay.txt" "$NEEDLE" ||
		say "bench: memmem after reading the haystack in failed"
	NO_DAEMON_RECORD=1
	for ((round = 1; round <= RUNS; round++)); do
		CUR=native
		timed memmem_ra ok_output "$HAY_AT" \
			"$MEMMEM" search "$BACK/hay.txt" "$NEEDLE"
		CUR=mmapfs
		start_daemon
		timed grep_ra ok_output 1 grep -c -F "$NEEDLE" "$MNT/hay.txt"
		remount
		timed find_ra ok_output "$HAY_AT" \
			"$CTL" find "$MNT/hay.txt" "$NEEDLE"
		stop_daemon
	done
	NO_DAEMON_RECORD=
fi
elapsed=$(t_secs "$started" "$(t_now)")

python3 - "$RES" "$W/header" "$elapsed" "$SYSTEMS" "$NFILES" "$SIZE" \
	"$TREE" "$RUNS" "$NHOLD" >"$OUT" <<'EOF'
import statistics
import sys

res_path, header_path, elapsed, systems, nfiles, size, tree, runs, nhold = \
    sys.argv[1:10]
systems = systems.split()
vals = {}
for line in open(res_path):
    s, row, v = line.split()
    vals.setdefault((s, row), []).append(float(v))

PEERS = ["bindfs", "bindfs-mt", "ptll", "ptll-wb"]
NAMES = {"native": "native", "bindfs": "bindfs", "bindfs-mt": "bindfs -mt",
         "ptll": "pt_ll", "ptll-wb": "pt_ll wb", "mmapfs": "mmapfs",
         "mmapfs-writeback": "mmapfs wb", "tmpfs": "tmpfs",
         "anon": "mmapfs anon"}
n = int(nfiles)
ROWS = [
    ("seqwrite", "seq write %s, 1 MiB blocks + fsync (MB/s)" % size, "hi"),
    ("seqread1", "seq read, first after mount (MB/s)", "hi"),
    ("seqread2", "seq read, second (MB/s)", "hi"),
    ("randread1", "rand 4 KiB read, fresh mount, 1 job (IOPS)", "hi"),
    ("randread4", "rand 4 KiB read, fresh mount, 4 jobs (IOPS)", "hi"),
    ("randwrite1", "rand 4 KiB write, 1 job (IOPS)", "hi"),
    ("randwrite4", "rand 4 KiB write, 4 jobs (IOPS)", "hi"),
    ("fsync50", "4 KiB write+fsync, p50 (us)", "lo"),
    ("fsync99", "4 KiB write+fsync, p99 (us)", "lo"),
    ("create", "create %d empty files (s)" % n, "lo"),
    ("stat", "stat them, cold (s)", "lo"),
    ("unlink", "unlink them (s)", "lo"),
    ("cp", "cp -r %s in (s)" % tree, "lo"),
    ("tar", "tar c it back, fresh mount (s)", "lo"),
    ("grep", "grep -c -F, %s file, fresh mount (s)" % size, "lo"),
    ("cpu", "daemon CPU time, whole run (s)", "lo"),
    ("hwm", "daemon peak RSS, mapped file pages included (MiB)", "lo"),
    ("anon", "daemon anonymous RSS at unmount, largest (MiB)", "lo"),
    ("rss_open", "daemon RSS, %s files open (MiB)" % nhold, "lo"),
]


def cell(s, row):
    if row == "cpu":
        v = vals.get((s, "cpu_s"))
        return sum(v) if v else None
    if row in ("hwm", "anon"):
        v = vals.get((s, row + "_kb"))
        return max(v) / 1024.0 if v else None
    v = vals.get((s, row))
    if not v:
        return None
    m = statistics.median(v)
    return m / 1024.0 if row == "rss_open" else m


def fmt(row, v):
    if v is None:
        return "-"
    if "randread" in row or "randwrite" in row:
        return "%.2fM" % (v / 1e6) if v >= 1e6 else "%.0fk" % (v / 1e3)
    if row.startswith("seq") or row.startswith("fsync"):
        return "%.0f" % v
    if row in ("hwm", "anon", "rss_open"):
        return "%.1f" % v
    return "%.3g" % v if v < 100 else "%.0f" % v


def ratio(kind, ours, ref):
    if ours is None or ref is None or ours <= 0 or ref <= 0:
        return "-"
    r = ours / ref if kind == "hi" else ref / ours
    return "%.2fx" % r


cols = [s for s in systems if s not in ("tmpfs", "anon")]
anon_cols = [s for s in systems if s in ("tmpfs", "anon")]
ours = [s for s in cols if s.startswith("mmapfs")]
head = ["row"]
for s in cols:
    head.append(NAMES.get(s, s))
    if s in ours:
        head.append(NAMES.get(s, s) + " / best peer")
head += [NAMES.get(s, s) for s in anon_cols]
if "anon" in systems and "tmpfs" in systems:
    head.append("anon / tmpfs")
lines = [head, ["---"] * len(head)]
for key, label, kind in ROWS:
    peers = [cell(p, key) for p in PEERS if p in systems]
    peers = [p for p in peers if p is not None]
    best = None
    if peers:
        best = max(peers) if kind == "hi" else min(peers)
    line = [label]
    for s in cols:
        line.append(fmt(key, cell(s, key)))
        if s in ours:
            line.append(ratio(kind, cell(s, key), best))
    line += [fmt(key, cell(s, key)) for s in anon_cols]
    if "anon" in systems and "tmpfs" in systems:
        line.append(ratio(kind, cell("anon", key), cell("tmpfs", key)))
    if any(c != "-" for c in line[1:]):
        lines.append(line)
width = [max(len(l[i]) for l in lines) for i in range(len(head))]
print(open(header_path).read().rstrip())
print("medians of %s runs; the whole run took %.0f s\n" % (runs,
                                                         float(elapsed)))
for l in lines:
    if l[0] == "---":
        print("| " + " | ".join("-" * w for w in width) + " |")
    else:
        print("| " + " | ".join(c.ljust(width[0]) if i == 0
                                 else c.rjust(width[i])
                                 for i, c in enumerate(l)) + " |")

find = cell("mmapfs", "find")
grep = cell("mmapfs", "grep")


def find_block(label, t, mlabel, m, tag, g):
    """One find figure, then its ratios to memmem and to grep (g)."""
    print("  %-42s %.3f  (%.1f GB/s)" % (label, t, b / 1e9 / t))
    if m:
        print("  %-42s %.3f  %s is %.2fx memmem" % (mlabel, m, tag, m / t))
    if g:
        print("  %-42s %.3f  %s is %.1fx grep"
              % ("grep -c -F through the mmapfs mount", g, tag, g / t))


if find:
    b = float(size[:-1]) * {"K": 2**10, "M": 2**20, "G": 2**30}.get(
        size[-1], 1) if size[-1] in "KMG" else float(size)
    print("\nfind one needle 1 MiB before the end of a %s text file "
          "(s, median):" % size)
    find_block("mmapfsctl find (ioctl, searched in place)", find,
               "glibc memmem, local process, mmap", cell("native", "memmem"),
               "find", grep)
    fw = cell("mmapfs", "find_warm")
    if fw:
        find_block("mmapfsctl find, file held open (warm map)", fw,
                   "glibc memmem, second search in one map",
                   cell("native", "memmem_warm"), "warm find", grep)
    fr = cell("mmapfs", "find_ra")
    if fr:
        print("  the haystack's page cache filled by reading it in:")
        find_block("mmapfsctl find (ioctl, searched in place)", fr,
                   "glibc memmem, local process, mmap",
                   cell("native", "memmem_ra"), "find",
                   cell("mmapfs", "grep_ra"))
    g = cell("native", "grep")
    if g:
        print("  %-42s %.3f" % ("grep -c -F on the native directory", g))
EOF
cat "$OUT"
if [ -s "$W/errors" ]; then
	say "bench: errors:"
	cat "$W/errors" >&2
fi
say "bench: table in $OUT"
