#!/bin/bash
# tests/integration/t-cpython-mmap.sh - CPython's own test_mmap, run by
# its own runner (regrtest, every resource on, the 4 GiB+ sparse files
# included) with its files on the mount: first in a native directory, then
# on default, cache=never, writeback, access=copy and anon mounts, each of
# which must pass the same tests.  A client's mmap(2) of a file of the
# mount is the kernel's FUSE mapping over our daemon's, so this is
# CPython's mmap, with its flush, resize (ftruncate and mremap), madvise,
# find and slicing, run on top of ours.  Skips when the interpreter has no
# test suite (Debian ships it as libpython3.X-testsuite).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
PY=
for p in "$PYTHON3" /usr/bin/python3; do
	if "$p" -c 'import test.test_mmap, test.libregrtest' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || skip "no python3 with CPython's test suite (test.test_mmap)"

# run_test_mmap DIR OUT - regrtest with its temporary files in DIR; the
# status, and its summary lines in OUT.summary.
run_test_mmap()
{
	local dir=$1 out=$2 rc=0
	(cd "$dir" && TMPDIR=$dir timeout -k 5 300 "$PY" -m test -u all -w \
		test_mmap) >"$out" 2>&1 || rc=$?
	grep -E '^(Total tests|Result):' "$out" >"$out.summary" || true
	return "$rc"
}

mkdir "$T/native"
run_test_mmap "$T/native" "$T/native.out" ||
	fail "test_mmap fails natively: $(tail -30 "$T/native.out")"
native=$(cat "$T/native.out.summary")
assert_eq "Result: SUCCESS" "$(grep '^Result:' <<<"$native")" \
	"test_mmap in a native directory"

for kind in default never writeback copy anon; do
	mnt=$T/mnt_$kind
	back=$T/back_$kind
	mkdir "$mnt" "$back"
	case $kind in
	default) mmfs_mount_at "$back" "$mnt" ;;
	never) mmfs_mount_at "$back" "$mnt" -o cache=never ;;
	writeback) mmfs_mount_at "$back" "$mnt" -o writeback ;;
	copy) mmfs_mount_at "$back" "$mnt" access=copy ;;
	anon) mmfs_start "$mnt" -o anon "$mnt" ;;
	esac
	rc=0
	run_test_mmap "$mnt" "$T/$kind.out" || rc=$?
	[ "$rc" = 0 ] ||
		fail "test_mmap on a $kind mount (status $rc):" \
			"$(tail -40 "$T/$kind.out")"
	assert_eq "$native" "$(cat "$T/$kind.out.summary")" \
		"test_mmap on a $kind mount: the tests that pass natively"
	mmfs_alive "$kind daemon alive after test_mmap"
	mmfs_umount "$mnt"
done

mmfs_done
