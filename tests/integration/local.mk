# tests/integration/local.mk - real mounts, one per script.
INTEGRATION_TESTS = \
	tests/integration/t-options.sh \
	tests/integration/t-data.sh \
	tests/integration/t-tools.sh \
	tests/integration/t-apps.sh \
	tests/integration/t-access.sh \
	tests/integration/t-anon.sh \
	tests/integration/t-outside.sh \
	tests/integration/t-enospc.sh \
	tests/integration/t-fstab.sh \
	tests/integration/t-ctl.sh \
	tests/integration/t-ioctl-diff.sh \
	tests/integration/t-cpython-mmap.sh \
	tests/integration/t-posix.sh \
	tests/integration/t-inval.sh \
	tests/integration/t-fds.sh \
	tests/integration/t-forget.sh \
	tests/integration/t-loop.sh \
	tests/integration/t-user.sh \
	tests/integration/t-ioerr.sh
TESTS += $(INTEGRATION_TESTS)
check_PROGRAMS += tests/integration/readback tests/integration/errfs
tests_integration_errfs_CPPFLAGS = $(AM_CPPFLAGS) $(FUSE_CFLAGS)
tests_integration_errfs_LDADD = $(FUSE_LIBS) -lpthread
EXTRA_DIST += tests/integration/lib.sh tests/integration/posix.py \
	tests/integration/ioctl-diff.py \
	tests/integration/posix-random.py \
	$(INTEGRATION_TESTS)
