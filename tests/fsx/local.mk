# tests/fsx/local.mk - the fsx-style exerciser and its make-check wrapper.
check_PROGRAMS += tests/fsx/fsx
tests_fsx_fsx_SOURCES = tests/fsx/fsx.h tests/fsx/fsx.c tests/fsx/ops.c \
	tests/fsx/target.c
tests_fsx_fsx_CPPFLAGS = $(AM_CPPFLAGS)
tests_fsx_fsx_LDADD = lib/libmmfs.la
TESTS += tests/fsx/t-fsx.sh
EXTRA_DIST += tests/fsx/t-fsx.sh

# A long run, outside make check: FSX_OPS ops per target.
FSX_OPS = 1000000
fsx-long: tests/fsx/fsx
	./tests/fsx/fsx -q -E -N $(FSX_OPS)
	./tests/fsx/fsx -q -A -N $(FSX_OPS)
.PHONY: fsx-long
