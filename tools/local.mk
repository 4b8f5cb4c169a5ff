# tools/local.mk - mmapfsctl, the command-line face of the ioctl ABI.
bin_PROGRAMS += tools/mmapfsctl
tools_mmapfsctl_SOURCES = tools/mmapfsctl.c
