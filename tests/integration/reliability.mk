# tests/integration/reliability.mk - crashes, faults and security on real
# mounts (issue 4), one script each, every one under a minute.
RELIABILITY_TESTS = \
	tests/integration/t-crash.sh \
	tests/integration/t-lazy.sh \
	tests/integration/t-enospc-random.sh \
	tests/integration/t-replace.sh \
	tests/integration/t-security.sh \
	tests/integration/t-readonly-exerciser.sh
TESTS += $(RELIABILITY_TESTS)
EXTRA_DIST += $(RELIABILITY_TESTS)
