#!/bin/sh
# t-fuzz-replay.sh - make check's share of the fuzzing: every input kept in
# tests/fuzz/corpus/HARNESS/ (seeds, what libFuzzer found interesting, and
# every input that once crashed a harness) goes through that harness,
# built by the ordinary compiler without libFuzzer (replay.c's main).  A
# broken invariant aborts and fails the test.  make fuzz does the fuzzing.
set -e
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

for h in engine search ioctl options; do
	"$top_builddir/tests/fuzz/replay-$h" "$top_srcdir/tests/fuzz/corpus/$h"
done
