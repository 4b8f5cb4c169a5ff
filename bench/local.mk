# bench/local.mk - benchmarks; never part of make check.
noinst_PROGRAMS += bench/find-bench
bench_find_bench_SOURCES = bench/find-bench.c
bench_find_bench_LDADD = lib/libmmfs.la
EXTRA_DIST += bench/README.md bench/find.sh
bench-find: bench/find-bench
	$(SHELL) $(srcdir)/bench/find.sh ./bench/find-bench
.PHONY: bench-find
