# tests/unit/local.mk - Check suites, one per engine module; no root needed.
UNIT_TESTS = \
	tests/unit/check_map tests/unit/check_resize tests/unit/check_io \
	tests/unit/check_subscript tests/unit/check_search \
	tests/unit/check_sync tests/unit/check_fault tests/unit/check_errors
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LDADD = lib/libmmfs.la $(CHECK_LIBS)
EXTRA_DIST += tests/unit/unit.h
tests_unit_check_map_SOURCES = tests/unit/check_map.c tests/unit/unit.h
tests_unit_check_map_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_map_LDADD = $(UNIT_LDADD)
tests_unit_check_resize_SOURCES = tests/unit/check_resize.c tests/unit/unit.h
tests_unit_check_resize_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_resize_LDADD = $(UNIT_LDADD)
tests_unit_check_io_SOURCES = tests/unit/check_io.c tests/unit/unit.h
tests_unit_check_io_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_io_LDADD = $(UNIT_LDADD)
tests_unit_check_subscript_SOURCES = tests/unit/check_subscript.c \
	tests/unit/unit.h
tests_unit_check_subscript_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_subscript_LDADD = $(UNIT_LDADD)
tests_unit_check_search_SOURCES = tests/unit/check_search.c tests/unit/unit.h
tests_unit_check_search_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_search_LDADD = $(UNIT_LDADD)
tests_unit_check_sync_SOURCES = tests/unit/check_sync.c tests/unit/unit.h
tests_unit_check_sync_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_sync_LDADD = $(UNIT_LDADD)
tests_unit_check_fault_SOURCES = tests/unit/check_fault.c tests/unit/unit.h
tests_unit_check_fault_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_fault_LDADD = $(UNIT_LDADD)
tests_unit_check_errors_SOURCES = tests/unit/check_errors.c tests/unit/unit.h
tests_unit_check_errors_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_errors_LDADD = $(UNIT_LDADD)

# The unit suites under valgrind's memcheck (Check's fork mode off, so
# valgrind follows the tests themselves).
valgrind: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do \
		echo "valgrind $$t"; \
		CK_FORK=no $(LIBTOOL) --mode=execute $(VALGRIND) --quiet \
			--error-exitcode=1 --leak-check=full \
			--errors-for-leak-kinds=definite ./$$t; \
	done
.PHONY: valgrind

# The unit suites and the differential test (quickstart.sh runs them under
# the sanitizers).
check-unit:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS) $(DIFF_TESTS)'
.PHONY: check-unit
