# lib/local.mk - the engine: plain C and POSIX, never a FUSE header
# (FUSE_CFLAGS is not on its command line, so one could not be found).
lib_LTLIBRARIES += lib/libmmfs.la
lib_libmmfs_la_SOURCES = \
	lib/mmfs.h lib/mmfs-int.h \
	lib/error.c lib/fault.c lib/map.c lib/io.c lib/search.c lib/sync.c
lib_libmmfs_la_LDFLAGS = -version-info 0:0:0
lib_libmmfs_la_LIBADD = -lpthread
pkginclude_HEADERS += lib/mmfs.h
