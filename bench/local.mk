# bench/local.mk - benchmarks; never part of make check.
noinst_PROGRAMS += bench/find-bench bench/memmem-bench bench/fsops
bench_find_bench_SOURCES = bench/find-bench.c
bench_find_bench_LDADD = lib/libmmfs.la
bench_memmem_bench_SOURCES = bench/memmem-bench.c
bench_fsops_SOURCES = bench/fsops.c
EXTRA_DIST += bench/README.md bench/RESULTS.md bench/find.sh bench/run.sh
bench-find: bench/find-bench
	$(SHELL) $(srcdir)/bench/find.sh ./bench/find-bench
# The side-by-side benchmark of issue 5 (root, minutes; see bench/README.md).
bench: src/mmapfs tools/mmapfsctl bench/memmem-bench bench/fsops
	CC='$(CC)' bash $(srcdir)/bench/run.sh $(abs_builddir)
.PHONY: bench bench-find
