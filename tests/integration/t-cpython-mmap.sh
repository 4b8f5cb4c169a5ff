#!/bin/bash
# tests/integration/t-cpython-mmap.sh - CPython's own test_mmap (every
# test, the 4 GiB+ sparse files included) with its files on the mount:
# first in a native directory, then on default, cache=never, writeback and
# anon mounts, each of which must give every test the native outcome (not
# access=copy or read: the tests create and remove their files).  A
# client's mmap(2) of a file of the mount is the kernel's FUSE mapping
# over our daemon's, so this is CPython's mmap, with its flush, resize
# (ftruncate and mremap), madvise, find and slicing, run on top of ours.
# Skips when the interpreter has no test suite (Debian ships it as
# libpython3.X-testsuite).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mmfs_require_fuse
PY=
for p in "$PYTHON3" /usr/bin/python3; do
	if "$p" -c 'import test.test_mmap' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || skip "no python3 with CPython's test suite (test.test_mmap)"

# run_test_mmap DIR OUT - the tests, run by unittest (which enables every
# resource) with DIR as the working directory, where they make their
# files; the status, and each test's outcome in OUT.outcomes.
run_test_mmap()
{
	local dir=$1 out=$2 rc=0
	(cd "$dir" && timeout -k 5 300 "$PY" -m unittest -v test.test_mmap) \
		>"$out" 2>&1 || rc=$?
	grep -E ' \.\.\. ' "$out" >"$out.outcomes" || true
	return "$rc"
}

mkdir "$T/native"
run_test_mmap "$T/native" "$T/native.out" ||
	fail "test_mmap fails natively: $(tail -30 "$T/native.out")"
native=$(cat "$T/native.out.outcomes")
n=$(grep -c ' \.\.\. ok$' <<<"$native") || true
[ "$n" -ge 30 ] ||
	fail "test_mmap passed only $n tests natively: $(tail -30 "$T/native.out")"
ok "test_mmap in a native directory: $n tests pass"

for kind in default never writeback anon; do
	mnt=$T/mnt_$kind
	back=$T/back_$kind
	mkdir "$mnt" "$back"
	case $kind in
	default) mmfs_mount_at "$back" "$mnt" ;;
	never) mmfs_mount_at "$back" "$mnt" -o cache=never ;;
	writeback) mmfs_mount_at "$back" "$mnt" -o writeback ;;
	anon) mmfs_start "$mnt" -o anon "$mnt" ;;
	esac
	rc=0
	run_test_mmap "$mnt" "$T/$kind.out" || rc=$?
	[ "$rc" = 0 ] ||
		fail "test_mmap on the $kind mount (status $rc):" \
			"$(tail -40 "$T/$kind.out")"
	assert_eq "$native" "$(cat "$T/$kind.out.outcomes")" \
		"test_mmap on the $kind mount: every test's outcome as native"
	maps=$("$MMAPFSCTL" stats "$mnt" | awk '$1 == "maps_created:" {print $2}')
	[ "${maps:-0}" -ge 20 ] ||
		fail "the $kind daemon made ${maps:-no} maps: were the tests here?"
	ok "the $kind daemon made $maps maps for them"
	mmfs_alive "$kind daemon alive after test_mmap"
	mmfs_umount "$mnt"
done

mmfs_done
