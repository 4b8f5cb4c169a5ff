#!/bin/bash
# run.sh [FIRST_SEED] NSEEDS [NOPS] - differential test of libmmfs against
# CPython's mmap.  Builds the driver with ASan+UBSan, runs NSEEDS scripts
# from gen.py, diffs driver vs oracle output and prints, for each failing
# seed, the first mismatching op and a minimized repro (minimize.py).
# Env: B=build dir (/tmp/b1), DRV=a driver already built, PY=python
# (python3), JOBS (2), MIN=0 to skip minimizing, OUT=work dir.
set -u
here=$(cd "$(dirname "$0")" && pwd)
B=${B:-/tmp/b1}
PY=${PY:-python3}
JOBS=${JOBS:-2}
if [ $# -ge 2 ]; then first=$1; n=$2; nops=${3:-60}; else first=1; n=${1:-100}; nops=60; fi
OUT=${OUT:-$(mktemp -d /tmp/mmfs-diff.XXXXXX)}
mkdir -p "$OUT"
drv=${DRV:-$OUT/mmfs-driver}
if [ -z "${DRV:-}" ]; then
	gcc -std=gnu11 -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
		-I"$B" -I"$here/../../lib" \
		-o "$drv" "$here/mmfs-driver.c" "$B/lib/.libs/libmmfs.a" -lpthread || exit 1
fi
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

one() {
	s=$1; d=$OUT/s$s; mkdir -p "$d"
	"$PY" "$here/gen.py" "$s" "$nops" > "$d/script"
	DRV=$drv "$PY" "$here/compare.py" "$d/script" "$d" > "$d/result" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then rm -rf "$d"; echo "ok $s"; else echo "FAIL $s"; fi
}
export -f one; export OUT PY here drv nops
seq "$first" $((first + n - 1)) | xargs -P "$JOBS" -I{} bash -c 'one {}' > "$OUT/summary"
fails=$(grep -c '^FAIL' "$OUT/summary")
oks=$(grep -c '^ok' "$OUT/summary")
echo "seeds: $n  clean: $oks  failing: $fails  (work dir $OUT)"
for s in $(grep '^FAIL' "$OUT/summary" | awk '{print $2}' | sort -n); do
	echo "=== seed $s"
	head -c 3000 "$OUT/s$s/result"
	if [ "${MIN:-1}" = 1 ]; then
		DRV=$drv "$PY" "$here/minimize.py" "$OUT/s$s/script" "$OUT/s$s" > "$OUT/s$s/min" 2>&1
		echo "--- minimized repro:"; head -c 3000 "$OUT/s$s/min"
	fi
done
