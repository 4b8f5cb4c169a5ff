# tests/stress/local.mk - concurrency and limits: the stress program, its
# make-check wrapper, and the long runs of make check-stress (a 5-minute
# run, and a ThreadSanitizer build of the daemon under a 2-minute run).
check_PROGRAMS += tests/stress/stress
tests_stress_stress_SOURCES = tests/stress/stress.h tests/stress/stress.c \
	tests/stress/verify.c tests/stress/roles.c tests/stress/trunc.c \
	tests/stress/names.c tests/stress/limits.c
tests_stress_stress_CPPFLAGS = $(AM_CPPFLAGS)
tests_stress_stress_LDADD = -lpthread
TESTS += tests/stress/t-stress.sh
EXTRA_DIST += tests/stress/t-stress.sh tests/stress/tsan.sh \
	tests/stress/tsan.supp

# make check-stress: the long runs outside make check, one after another
# (each is timed; one part failing does not stop the others).  Every area
# adds its own part to CHECK_STRESS_PARTS.
CHECK_STRESS_PARTS += check-stress-concurrency
check-stress:
	@failed=; all=$$(date +%s); \
	for t in $(CHECK_STRESS_PARTS); do \
		echo "== make $$t"; t0=$$(date +%s); \
		$(MAKE) $(AM_MAKEFLAGS) $$t || failed="$$failed $$t"; \
		echo "== $$t: $$(($$(date +%s) - t0)) s"; \
	done; \
	echo "== check-stress: $$(($$(date +%s) - all)) s in all"; \
	if [ -n "$$failed" ]; then \
		echo "check-stress FAILED:$$failed"; exit 1; \
	fi

STRESS_LONG_SECONDS = 300
TSAN_SECONDS = 120

# A long run on a normal build, then the daemon built with ThreadSanitizer
# in its own build directory and run under the stress test; any race it
# reports fails the target.
check-stress-concurrency: src/mmapfs tools/mmapfsctl tests/stress/stress
	STRESS_DURATION=$(STRESS_LONG_SECONDS) STRESS_PROCS=4 \
	STRESS_THREADS=8 STRESS_OPEN=2000 \
	MMFS_TEST_TIMEOUT=$$(($(STRESS_LONG_SECONDS) + 300)) \
	top_builddir='$(abs_top_builddir)' top_srcdir='$(abs_top_srcdir)' \
	PYTHON3='$(PYTHON3)' \
		$(SHELL) $(srcdir)/tests/stress/t-stress.sh
	TSAN_SECONDS=$(TSAN_SECONDS) CC='$(CC)' \
	top_builddir='$(abs_top_builddir)' top_srcdir='$(abs_top_srcdir)' \
	PYTHON3='$(PYTHON3)' \
		$(SHELL) $(srcdir)/tests/stress/tsan.sh

.PHONY: check-stress check-stress-concurrency
