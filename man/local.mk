# man/local.mk - manual pages.
man_MANS += man/mmapfs.1 man/mmapfsctl.1 man/mmfs.3
EXTRA_DIST += man/mmapfs.1 man/mmapfsctl.1 man/mmfs.3
