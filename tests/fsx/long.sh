#!/bin/bash
# tests/fsx/long.sh - the long fsx runs of make check-stress: FSX_OPS ops
# (default 1,000,000) per mode and seed, for each of FSX_SEEDS (default
# two), in every mode: the engine on a file, the engine on an anonymous
# map, a mount, a cache=never mount (every read from the mapping), a
# -o writeback mount and an anon mount.  Two runs at a time, one per
# core.  After each mount run the backing file must equal fsx's model
# byte for byte.
#
#   FSX_OPS=100000 FSX_SEEDS="1 2" tests/fsx/long.sh    a shorter run
# shellcheck source=../integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

FSX=${top_builddir:?}/tests/fsx/fsx
[ -x "$FSX" ] || fail "fsx not built: $FSX"
OPS=${FSX_OPS:-1000000}
SEEDS=${FSX_SEEDS:-"1101 2202"}
mmfs_require_fuse

# On disk every fsync waits for the journal; in RAM a million ops take
# minutes, not hours.
S=$T/scratch
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
   [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
	S=$(mktemp -d /dev/shm/mmfs-fsx-long.XXXXXX)
	MMFS_CLEANUP_HOOKS+=("rm -rf '$S'")
else
	mkdir "$S"
fi

# one MODE SEED - a whole run, its own mount where it needs one.  Runs in
# the background: prints one line, exits non-zero on any failure.
one()
{
	local mode=$1 seed=$2 d=$S/$1-$2 mnt pid=
	local out=$T/fsx-$1-$2.out rc=0 args=(-q -p 100000 -N "$OPS" -S "$seed")
	mkdir -p "$d/back" "$d/mnt"
	mnt=$d/mnt
	case $mode in
	engine) TMPDIR=$d "$FSX" -E "${args[@]}" "$d/back/f" >"$out" 2>&1 ||
		rc=$? ;;
	anon) "$FSX" -A "${args[@]}" >"$out" 2>&1 || rc=$? ;;
	mount | never | writeback | anonmount)
		local opts=()
		[ "$mode" = never ] && opts=(-o cache=never)
		[ "$mode" = writeback ] && opts=(-o writeback)
		if [ "$mode" = anonmount ]; then
			"$MMAPFS" -f -o anon "$mnt" 2>"$d/daemon.log" &
		else
			"$MMAPFS" -f "${opts[@]}" "$d/back" "$mnt" \
				2>"$d/daemon.log" &
		fi
		pid=$!
		# the watchdog's cleanup unmounts and kills what is listed
		echo "$pid" >>"$T/.pids"
		echo "$mnt" >>"$T/.mnts"
		local i
		for ((i = 0; i < 100; i++)); do
			mountpoint -q "$mnt" && break
			sleep 0.1
		done
		"$FSX" "${args[@]}" -M "$d/model" "$mnt/f" >"$out" 2>&1 || rc=$?
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "daemon died: $(tail -3 "$d/daemon.log")" >>"$out"
			rc=1
		fi
		fusermount3 -u "$mnt" 2>>"$out" || rc=1
		wait "$pid" || { echo "daemon exited $?" >>"$out"; rc=1; }
		if [ "$mode" != anonmount ] && [ "$rc" = 0 ] &&
		   ! cmp -s "$d/model" "$d/back/f"; then
			echo "backing file differs from the model" >>"$out"
			rc=1
		fi
		;;
	esac
	if [ "$rc" != 0 ]; then
		echo "FAILED $mode seed $seed:"
		tail -n 80 "$out"
		return 1
	fi
	echo "$mode seed $seed: $(tail -n 1 "$out")"
	rm -rf "$d"
}

started=$SECONDS
jobs_failed=0
pending=()
for seed in $SEEDS; do
	for mode in engine anon mount never writeback anonmount; do
		one "$mode" "$seed" &
		pending+=($!)
		if [ ${#pending[@]} -ge 2 ]; then
			wait "${pending[0]}" || jobs_failed=$((jobs_failed + 1))
			pending=("${pending[@]:1}")
		fi
	done
done
for p in "${pending[@]}"; do
	wait "$p" || jobs_failed=$((jobs_failed + 1))
done
[ "$jobs_failed" = 0 ] || fail "$jobs_failed fsx runs failed"
ok "fsx: $OPS ops x 6 modes x seeds $SEEDS, no mismatch," \
	"$((SECONDS - started)) s"
mmfs_done
