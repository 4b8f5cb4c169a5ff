# src/local.mk - the FUSE driver.
bin_PROGRAMS += src/mmapfs
src_mmapfs_SOURCES = \
	src/fs.h src/main.c src/cmdline.c src/inode.c src/creds.c src/mapping.c \
	src/ops.c src/dir.c src/open.c src/file.c src/ioctl.c src/splice.c \
	src/loop.c src/prune.c
src_mmapfs_CPPFLAGS = $(AM_CPPFLAGS) $(FUSE_CFLAGS)
src_mmapfs_LDADD = lib/libmmfs.la $(FUSE_LIBS) -lpthread
include_HEADERS += include/mmapfs.h
