# tests/fsx/local.mk - the fsx-style exerciser and its make-check wrapper.
check_PROGRAMS += tests/fsx/fsx
tests_fsx_fsx_SOURCES = tests/fsx/fsx.h tests/fsx/fsx.c tests/fsx/ops.c \
	tests/fsx/target.c
tests_fsx_fsx_CPPFLAGS = $(AM_CPPFLAGS)
tests_fsx_fsx_LDADD = lib/libmmfs.la
TESTS += tests/fsx/t-fsx.sh
EXTRA_DIST += tests/fsx/t-fsx.sh

# make check-stress: FSX_OPS ops per mode and seed, FSX_SEEDS seeds, on
# the engine (file and anonymous) and on mounts (default, cache=never,
# anon); see tests/fsx/long.sh.  fsx-long is the same on its own.
FSX_OPS = 1000000
FSX_SEEDS = 1101 2202
EXTRA_DIST += tests/fsx/long.sh
CHECK_STRESS_PARTS += check-stress-fsx
check-stress-fsx fsx-long: tests/fsx/fsx src/mmapfs
	FSX_OPS='$(FSX_OPS)' FSX_SEEDS='$(FSX_SEEDS)' \
	MMFS_TEST_TIMEOUT=3000 \
	top_builddir='$(abs_top_builddir)' top_srcdir='$(abs_top_srcdir)' \
	PYTHON3='$(PYTHON3)' \
		$(SHELL) $(srcdir)/tests/fsx/long.sh
.PHONY: fsx-long check-stress-fsx
