#!/bin/bash
# quickstart.sh - from a fresh Debian machine to a built mmapfs, then either
# the demo (mount, use, unmount) or the whole test suite.  Idempotent: it
# installs only what is missing and reuses an earlier build.
#
#   ./quickstart.sh demo    install, build, mount -o anon, use it, unmount
#   ./quickstart.sh check   install, build, make check, unit tests under ASan/UBSan
set -euo pipefail

cd "$(dirname "$0")"
top=$(pwd)
build="$top/build"

# What building and testing need (Debian package names).
packages=(build-essential autoconf automake libtool pkg-config libfuse3-dev
	fuse3 check attr acl python3 sqlite3 git util-linux psmisc strace bindfs)

say() { printf '\n== %s\n' "$*"; }

install_missing() {
	local missing=() p
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing: ${missing[*]}"
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"
}

# CPython's test suite, for t-cpython-mmap (which runs its test_mmap on
# the mount): Debian ships it apart, as libpython3.X-testsuite.
add_testsuite() {
	local v
	v=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' \
		2>/dev/null) || return 0
	/usr/bin/python3 -c 'import test.test_mmap' 2>/dev/null && return 0
	apt-cache show "libpython$v-testsuite" >/dev/null 2>&1 &&
		packages+=("libpython$v-testsuite")
	return 0
}

build_tree() {
	if [ ! -x configure ] || [ configure.ac -nt configure ]; then
		say "bootstrapping (autogen.sh)"
		./autogen.sh >/dev/null
	fi
	mkdir -p "$build"
	if [ ! -f "$build/Makefile" ]; then
		say "configuring"
		(cd "$build" && ../configure)
	fi
	say "building"
	make -C "$build" -j"$(nproc)"
}

# Globals, so that the EXIT trap still sees them after demo returns.
demo_dir= demo_mnt= demo_pid=

demo_cleanup() {
	if [ -n "$demo_mnt" ] && mountpoint -q "$demo_mnt"; then
		fusermount3 -u "$demo_mnt" 2>/dev/null || true
	fi
	[ -n "$demo_pid" ] && wait "$demo_pid" 2>/dev/null
	[ -n "$demo_dir" ] && rm -rf "$demo_dir"
	return 0
}

demo() {
	local d mnt log
	d=$(mktemp -d /tmp/mmapfs-demo.XXXXXX)
	demo_dir=$d
	mnt="$d/mnt"
	log="$d/mmapfs.log"
	demo_mnt=$mnt
	mkdir "$mnt"
	trap demo_cleanup EXIT
	local mmapfs="$build/src/mmapfs" ctl="$build/tools/mmapfsctl"

	say "mounting a RAM filesystem of memory mappings: mmapfs -o anon $mnt"
	"$mmapfs" -f -o anon "$mnt" 2>"$log" &
	demo_pid=$!
	local i
	for i in $(seq 100); do
		mountpoint -q "$mnt" && break
		kill -0 "$demo_pid" 2>/dev/null || { cat "$log"; exit 1; }
		sleep 0.1
	done
	mountpoint -q "$mnt" || { echo "mount did not come up"; cat "$log"; exit 1; }

	set -x
	echo "every file here is a memory mapping" >"$mnt/hello.txt"
	cat "$mnt/hello.txt"
	cp -r "$top/lib" "$mnt/src"
	ls -l "$mnt"
	grep -c mmfs_ "$mnt/src/mmfs.h"
	truncate -s 1G "$mnt/sparse.bin"
	stat -c '%n: %s bytes, %b blocks allocated' "$mnt/sparse.bin"
	printf 'needle' | dd of="$mnt/sparse.bin" bs=1 seek=1000000000 conv=notrunc status=none
	"$ctl" find "$mnt/sparse.bin" needle
	"$ctl" rfind "$mnt/hello.txt" mapping
	"$ctl" info "$mnt/hello.txt"
	"$ctl" stats "$mnt"
	{ set +x; } 2>/dev/null

	say "unmounting"
	fusermount3 -u "$mnt"
	wait "$demo_pid"
	demo_pid=
	echo "demo done: mounted, used, unmounted"
}

check() {
	say "running the test suite (make check)"
	if ! make -C "$build" -j2 check; then
		# The failing tests' own logs, so that the reason is on screen.
		say "failed; the end of $build/test-suite.log:"
		tail -n 150 "$build/test-suite.log" 2>/dev/null || true
		exit 1
	fi
	say "unit tests again under -fsanitize=address,undefined"
	mkdir -p "$top/build-asan"
	if [ ! -f "$top/build-asan/Makefile" ]; then
		(cd "$top/build-asan" && ../configure -q \
			CFLAGS='-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
			LDFLAGS='-fsanitize=address,undefined')
	fi
	ASAN_OPTIONS=handle_sigbus=0:detect_leaks=1 \
		make -C "$top/build-asan" -j2 check-unit
}

case "${1:-}" in
demo) install_missing; build_tree; demo ;;
check) install_missing; add_testsuite; install_missing; build_tree; check ;;
*)
	echo "usage: $0 demo|check" >&2
	exit 2
	;;
esac
