# tests/diff/local.mk - the engine against CPython's mmap, op by op: the
# driver runs gen.py's scripts on libmmfs, mmfs-oracle.py on Python's
# mmap, and compare.py wants the same line from both after every op.
check_PROGRAMS += tests/diff/mmfs-driver
tests_diff_mmfs_driver_SOURCES = tests/diff/mmfs-driver.c
tests_diff_mmfs_driver_LDADD = lib/libmmfs.la
DIFF_TESTS = tests/diff/t-diff.sh
TESTS += $(DIFF_TESTS)
EXTRA_DIST += $(DIFF_TESTS) tests/diff/README.md tests/diff/run.sh \
	tests/diff/gen.py tests/diff/mmfs-oracle.py tests/diff/compare.py \
	tests/diff/minimize.py
