# tests/fuzz/local.mk - bad input: libFuzzer harnesses for the engine's
# argument checks (engine), its substring search (search), the driver's
# ioctl decoder (ioctl) and the daemon's command line (options), and the
# ioctl spray of a real mount.
#
# make check: each harness, built by the ordinary compiler with replay.c's
#   main(), replays its corpus in tests/fuzz/corpus/HARNESS/ (seconds);
#   t-ioctl-fuzz.sh sprays bad ioctls at a mount.
# make fuzz: each harness built with clang -fsanitize=fuzzer,address,
#   undefined into $(FUZZ_DIR) and run FUZZ_SECONDS (300) against a copy of
#   its corpus; crashes land in $(FUZZ_DIR)/crashes-HARNESS/.  Add the
#   crashing input to the corpus when the bug is fixed.
# make fuzz-corpus: merge what the last make fuzz found into the corpus in
#   the source tree (only inputs that add coverage).
# check-stress-fuzz: make fuzz for check-stress, STRESS_FUZZ_SECONDS (180)
#   per harness.

FUZZ_HARNESSES = engine search ioctl options

check_PROGRAMS += tests/fuzz/replay-engine tests/fuzz/replay-search \
	tests/fuzz/replay-ioctl tests/fuzz/replay-options \
	tests/fuzz/ioctl-spray

tests_fuzz_replay_engine_SOURCES = tests/fuzz/fuzz-engine.c \
	tests/fuzz/fuzz-engine-ops.c tests/fuzz/fuzz-engine.h \
	tests/fuzz/replay.c tests/fuzz/fuzz.h
tests_fuzz_replay_engine_LDADD = lib/libmmfs.la

tests_fuzz_replay_search_SOURCES = tests/fuzz/fuzz-search.c \
	tests/fuzz/replay.c tests/fuzz/fuzz.h
tests_fuzz_replay_search_LDADD = lib/libmmfs.la

# src/ioctl.c itself, with fuse_reply_* and the inode table stood in for
# by the harness: no libfuse, no session.
tests_fuzz_replay_ioctl_SOURCES = tests/fuzz/fuzz-ioctl.c \
	tests/fuzz/replay.c tests/fuzz/fuzz.h src/ioctl.c
tests_fuzz_replay_ioctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src \
	$(FUSE_CFLAGS)
tests_fuzz_replay_ioctl_LDADD = lib/libmmfs.la -lpthread

# fuzz-options.c includes src/cmdline.c.
tests_fuzz_replay_options_SOURCES = tests/fuzz/fuzz-options.c \
	tests/fuzz/replay.c tests/fuzz/fuzz.h
tests_fuzz_replay_options_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src \
	$(FUSE_CFLAGS)
tests_fuzz_replay_options_LDADD = lib/libmmfs.la $(FUSE_LIBS) -lpthread

tests_fuzz_ioctl_spray_SOURCES = tests/fuzz/ioctl-spray.c

TESTS += tests/fuzz/t-fuzz-replay.sh tests/integration/t-ioctl-fuzz.sh
EXTRA_DIST += tests/fuzz/t-fuzz-replay.sh tests/integration/t-ioctl-fuzz.sh \
	tests/fuzz/options.dict tests/fuzz/corpus

# ---------------------------------------------------------------- make fuzz

FUZZ_CC = clang
FUZZ_SECONDS = 300
FUZZ_DIR = tests/fuzz/out
FUZZ_FLAGS =
FUZZ_SANITIZE = -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE)
FUZZ_CPPFLAGS = -DHAVE_CONFIG_H -I$(top_builddir) -I$(top_srcdir)/include \
	-I$(top_srcdir)/lib -I$(top_srcdir)/src $(FUSE_CFLAGS)

# The engine's sources come from lib/local.mk's list, and each harness's
# from its replay build's list above (less replay.c, whose main() libFuzzer
# replaces), so that a new file in either needs no change here.
fuzz-build:
	@if ! command -v $(FUZZ_CC) >/dev/null 2>&1; then \
		echo "make fuzz needs clang with libFuzzer" \
			"(FUZZ_CC=$(FUZZ_CC) not found)"; \
		exit 1; \
	fi
	@mkdir -p $(FUZZ_DIR)
	@set -e; lib=; \
	for f in $(lib_libmmfs_la_SOURCES); do \
		case $$f in *.c) lib="$$lib $(top_srcdir)/$$f" ;; esac; \
	done; \
	for h in $(FUZZ_HARNESSES); do \
		srcs=; src=; libs=; \
		case $$h in \
		engine) srcs='$(tests_fuzz_replay_engine_SOURCES)' ;; \
		search) srcs='$(tests_fuzz_replay_search_SOURCES)' ;; \
		ioctl) srcs='$(tests_fuzz_replay_ioctl_SOURCES)' ;; \
		options) srcs='$(tests_fuzz_replay_options_SOURCES)'; \
			libs='$(FUSE_LIBS)' ;; \
		esac; \
		for f in $$srcs; do \
			case $$f in \
			tests/fuzz/replay.c) ;; \
			*.c) src="$$src $(top_srcdir)/$$f" ;; \
			esac; \
		done; \
		if [ -z "$$src" ]; then \
			echo "fuzz-build: no sources for harness $$h"; \
			exit 1; \
		fi; \
		echo "  CCLD     $(FUZZ_DIR)/fuzz-$$h"; \
		$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) \
			-o $(FUZZ_DIR)/fuzz-$$h $$src $$lib \
			$$libs -lpthread; \
	done

# Each harness in turn; one that crashes does not stop the others.
fuzz: fuzz-build
	@failed=; \
	for h in $(FUZZ_HARNESSES); do \
		mkdir -p $(FUZZ_DIR)/corpus-$$h $(FUZZ_DIR)/crashes-$$h; \
		dict=; \
		if [ $$h = options ]; then \
			dict=-dict=$(top_srcdir)/tests/fuzz/options.dict; \
		fi; \
		echo "fuzz-$$h: $(FUZZ_SECONDS) s, log in" \
			"$(FUZZ_DIR)/fuzz-$$h.log"; \
		if $(FUZZ_DIR)/fuzz-$$h -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 -timeout=30 -rss_limit_mb=4096 \
			-artifact_prefix=$(FUZZ_DIR)/crashes-$$h/ $$dict \
			$(FUZZ_FLAGS) $(FUZZ_DIR)/corpus-$$h \
			$(top_srcdir)/tests/fuzz/corpus/$$h \
			>$(FUZZ_DIR)/fuzz-$$h.log 2>&1; then \
			grep -E '^stat::(number_of_exec|average_exec|new_units)' \
				$(FUZZ_DIR)/fuzz-$$h.log | sed "s/^/  $$h /"; \
		else \
			tail -n 40 $(FUZZ_DIR)/fuzz-$$h.log; \
			echo "fuzz-$$h FAILED: input in" \
				"$(FUZZ_DIR)/crashes-$$h/"; \
			failed="$$failed $$h"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then \
		echo "fuzz: crashes in:$$failed"; exit 1; \
	fi

fuzz-corpus: fuzz-build
	@set -e; for h in $(FUZZ_HARNESSES); do \
		mkdir -p $(FUZZ_DIR)/corpus-$$h; \
		$(FUZZ_DIR)/fuzz-$$h -merge=1 \
			$(top_srcdir)/tests/fuzz/corpus/$$h \
			$(FUZZ_DIR)/corpus-$$h 2>&1 | tail -n 1; \
	done

fuzz-clean:
	rm -rf $(FUZZ_DIR)

CHECK_STRESS_PARTS += check-stress-fuzz
STRESS_FUZZ_SECONDS = 180
check-stress-fuzz:
	$(MAKE) $(AM_MAKEFLAGS) fuzz FUZZ_SECONDS=$(STRESS_FUZZ_SECONDS)

.PHONY: fuzz fuzz-build fuzz-corpus fuzz-clean check-stress-fuzz
