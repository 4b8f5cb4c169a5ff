/*
 * fuzz-ioctl.c - the driver's ioctl decoder (src/ioctl.c) under fuzzing,
 * without a FUSE session: mmfs_op_ioctl runs as the daemon calls it, on an
 * inode whose map the engine made as mmfs_map_ensure does, and the few
 * functions it needs from libfuse and inode.c are stand-ins here that
 * record the reply.  Every request must get exactly one reply: an errno of
 * the ABI's list, or success with exactly the command's payload; the lock
 * must be free again; FIND's answer and MOVE's bytes must match a model;
 * and no byte of the map may change otherwise.  In-buffers are heap copies
 * of the exact size, so a read past a payload is an ASan report.  The
 * inode flags' commands (chattr) are decoded up to the reopen of the
 * backing file, which fails here (EBADF): the harness has none.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/fs.h>

#include "fs.h"
#include "fuzz.h"
#include "mmapfs.h"

#define MAX_REQS 48
#define PAYLOAD_MAX 8192

static struct mmfs_fs fs;
static struct mmfs_inode inode;
static struct mmfs_handle handle;

/* What the handler answered. */
static struct {
	int calls;
	int err;
	size_t size;
	unsigned char buf[sizeof(struct mmapfs_find)];
} rep;

/* Stand-ins: libfuse */

int fuse_reply_err(fuse_req_t req, int err)
{
	(void)req;
	rep.calls++;
	rep.err = err;
	rep.size = 0;
	return 0;
}

int fuse_reply_ioctl(fuse_req_t req, int result, const void *buf, size_t size)
{
	(void)req;
	FZ_CHECK(result == 0, "ioctl reply with result %d", result);
	FZ_CHECK(size <= sizeof(rep.buf), "ioctl reply of %zu bytes", size);
	FZ_CHECK(size == 0 || buf != NULL, "ioctl reply without a buffer");
	rep.calls++;
	rep.err = 0;
	rep.size = size;
	if (size)
		memcpy(rep.buf, buf, size);
	return 0;
}

int fuse_req_interrupted(fuse_req_t req)
{
	(void)req;
	return 0; /* no client here is ever interrupted */
}

int fuse_lowlevel_notify_inval_inode(struct fuse_session *se, fuse_ino_t ino,
				     off_t off, off_t len)
{
	(void)se;
	(void)ino;
	/* off < 0: the attributes only; len 0: everything from off on */
	FZ_CHECK(off < 0 || (len >= 0 && off <= INT64_MAX - len),
		 "cache notice for %lld + %lld", (long long)off,
		 (long long)len);
	return 0;
}

/* Stand-ins: inode.c */

struct mmfs_fs *mmfs_req_fs(fuse_req_t req)
{
	(void)req;
	mmfs_count(&fs.stats.requests, 1);
	return &fs;
}

struct mmfs_inode *mmfs_inode_of(struct mmfs_fs *f, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &f->root
				   : (struct mmfs_inode *)(uintptr_t)ino;
}

fuse_ino_t mmfs_ino_of(struct mmfs_fs *f, struct mmfs_inode *in)
{
	return in == &f->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)in;
}

int mmfs_map_resync(struct mmfs_fs *f, struct mmfs_inode *in)
{
	(void)f;
	(void)in;
	FZ_CHECK(0, "resync: nobody truncated the file");
	return 0;
}

int mmfs_data_size(struct mmfs_inode *in, uint64_t *sizep)
{
	*sizep = in->maplen;
	return 0;
}

void mmfs_mark_private(struct mmfs_fs *f, struct mmfs_inode *in)
{
	(void)f;
	in->priv = true;
}

void mmfs_private_changed(struct mmfs_inode *in)
{
	in->priv_time.tv_sec = 1; /* any time: nothing reads it here */
}

void mmfs_attrs_changed(struct mmfs_fs *f, struct mmfs_inode *in)
{
	(void)f;
	(void)in; /* the kernel's attributes: none here */
}

int mmfs_reopen(struct mmfs_inode *in, int flags)
{
	(void)in;
	(void)flags;
	return -EBADF; /* no backing file to open again */
}

/* no request loop here: the handler runs on the harness's thread */
void mmfs_loop_yield(void)
{
}

/* ------------------------------------------------------------------ */

static unsigned char model[4 * 4096 + 1];

/* The sizes mmfs_op_ioctl must insist on, by the ABI. */
static bool ours(unsigned int cmd, size_t *in, size_t *out)
{
	static const struct {
		unsigned int cmd;
		size_t in, out;
	} abi[] = {
		{MMAPFS_IOC_MADVISE, sizeof(struct mmapfs_madvise), 0},
		{MMAPFS_IOC_FIND, sizeof(struct mmapfs_find),
		 sizeof(struct mmapfs_find)},
		{MMAPFS_IOC_RFIND, sizeof(struct mmapfs_find),
		 sizeof(struct mmapfs_find)},
		{MMAPFS_IOC_MOVE, sizeof(struct mmapfs_move), 0},
		{MMAPFS_IOC_FLUSH, sizeof(struct mmapfs_flush), 0},
		{MMAPFS_IOC_INFO, 0, sizeof(struct mmapfs_info)},
		{MMAPFS_IOC_STATS, 0, sizeof(struct mmapfs_stats)},
	};

	for (size_t i = 0; i < sizeof(abi) / sizeof(abi[0]); i++) {
		if (abi[i].cmd == cmd) {
			*in = abi[i].in;
			*out = abi[i].out;
			return true;
		}
	}
	return false;
}

static bool allowed_errno(int err)
{
	switch (err) {
	case ENOTTY: case EINVAL: case EFAULT: case ENOSYS: case EACCES:
	case EROFS: case EISDIR: case EOVERFLOW: case EPERM: case EBADF:
		return true;
	}
	return false;
}

/* Python's find on the model (clamped bounds, as mmap.find). */
static int64_t ref_find(const struct mmapfs_find *f, bool rev)
{
	__int128 n = inode.maplen, a = f->start, b = f->end;
	size_t nl = f->needle_len;

	if (a < 0)
		a = a + n < 0 ? 0 : a + n;
	if (b < 0)
		b = b + n < 0 ? 0 : b + n;
	a = a > n ? n : a;
	b = b > n ? n : b;
	if (b < a || b - a < (__int128)nl)
		return -1;
	if (nl == 0)
		return (int64_t)(rev ? b : a);
	for (__int128 k = 0; k + nl <= b - a; k++) {
		size_t i = (size_t)(rev ? b - nl - k : a + k);

		if (memcmp(model + i, f->needle, nl) == 0)
			return (int64_t)i;
	}
	return -1;
}

/* Fields of the payload, often an extreme rather than raw bytes. */
static void shape_payload(struct fz *z, unsigned int cmd, unsigned char *p,
			  size_t len)
{
	int64_t n = (int64_t)inode.maplen, ps = (int64_t)mmfs_pagesize();
	int64_t v[3];

	if (fz_u8(z) % 4 == 0)
		return; /* raw */
	for (int i = 0; i < 3; i++)
		v[i] = fz_i64(z, n, ps);
	if (cmd == MMAPFS_IOC_MOVE && len >= sizeof(struct mmapfs_move)) {
		struct mmapfs_move m = {v[0], v[1], v[2]};

		memcpy(p, &m, sizeof(m));
	} else if (cmd == MMAPFS_IOC_FLUSH &&
		   len >= sizeof(struct mmapfs_flush)) {
		struct mmapfs_flush fl = {v[0], v[1], fz_u8(z) % 8 == 0
						      ? (uint32_t)fz_u64(z)
						      : fz_u8(z) & 1, 0};

		memcpy(p, &fl, sizeof(fl));
	} else if (cmd == MMAPFS_IOC_MADVISE &&
		   len >= sizeof(struct mmapfs_madvise)) {
		struct mmapfs_madvise m = {fz_int(z), fz_u8(z) % 8 == 0
						      ? (uint32_t)fz_u64(z)
						      : fz_u8(z) & 1,
					   v[0], v[1]};

		/* the kernel's advice values lie in 0..31 and from 100 on */
		if (fz_u8(z) & 1)
			m.advice = (int32_t)fz_below(z, 32) +
				   (fz_u8(z) & 1 ? 96 : 0);
		memcpy(p, &m, sizeof(m));
	} else if ((cmd == MMAPFS_IOC_FIND || cmd == MMAPFS_IOC_RFIND) &&
		   len >= sizeof(struct mmapfs_find)) {
		struct mmapfs_find *f = (struct mmapfs_find *)(void *)p;
		size_t at, nl = fz_below(z, 24);

		f->start = v[0];
		f->end = fz_u8(z) & 1 ? INT64_MAX : v[1];
		f->flags = fz_u8(z) % 8 == 0 ? (uint32_t)fz_u64(z) : 0;
		f->needle_len = (uint32_t)nl;
		if (fz_u8(z) % 8 == 0)
			f->needle_len = (uint32_t)fz_u64(z);
		if (inode.maplen && fz_u8(z) % 3) { /* one that occurs */
			at = fz_below(z, inode.maplen);
			if (nl > inode.maplen - at)
				nl = inode.maplen - at;
			f->needle_len = (uint32_t)nl;
			memcpy(f->needle, model + at, nl);
		}
	}
}

/* After a success: the command did what the ABI says. */
static void check_success(unsigned int cmd, const unsigned char *in,
			  size_t out_need)
{
	FZ_CHECK(rep.size == out_need, "cmd %#x: reply of %zu bytes, ABI %zu",
		 cmd, rep.size, out_need);
	if (cmd == MMAPFS_IOC_FIND || cmd == MMAPFS_IOC_RFIND) {
		struct mmapfs_find q, a;

		memcpy(&q, in, sizeof(q));
		memcpy(&a, rep.buf, sizeof(a));
		FZ_CHECK(q.needle_len <= MMAPFS_NEEDLE_MAX && q.flags == 0,
			 "find accepted needle_len %u flags %#x", q.needle_len,
			 q.flags);
		int64_t want = ref_find(&q, cmd == MMAPFS_IOC_RFIND);

		FZ_CHECK(a.result == want,
			 "%s(len %u, %lld, %lld) on %zu: %lld, expected %lld",
			 cmd == MMAPFS_IOC_FIND ? "find" : "rfind",
			 q.needle_len,
			 (long long)q.start, (long long)q.end, inode.maplen,
			 (long long)a.result, (long long)want);
		FZ_CHECK(a.start == q.start && a.end == q.end &&
				 a.needle_len == q.needle_len,
			 "find changed its question");
	} else if (cmd == MMAPFS_IOC_MOVE) {
		struct mmapfs_move m;

		memcpy(&m, in, sizeof(m));
		FZ_CHECK(fs.access != MMFS_ACCESS_READ, "move on a read mount");
		FZ_CHECK((handle.flags & O_ACCMODE) != O_RDONLY,
			 "move through a read-only handle");
		FZ_CHECK(m.dest >= 0 && m.src >= 0 && m.count >= 0 &&
				 (uint64_t)m.dest <= inode.maplen &&
				 (uint64_t)m.src <= inode.maplen &&
				 inode.maplen - (uint64_t)m.dest >=
					 (uint64_t)m.count &&
				 inode.maplen - (uint64_t)m.src >=
					 (uint64_t)m.count,
			 "move(%lld, %lld, %lld) accepted on %zu",
			 (long long)m.dest, (long long)m.src,
			 (long long)m.count, inode.maplen);
		memmove(model + m.dest, model + m.src, (size_t)m.count);
	} else if (cmd == MMAPFS_IOC_MADVISE) {
		struct mmapfs_madvise m;

		memcpy(&m, in, sizeof(m));
		FZ_CHECK(inode.map && m.start >= 0 &&
				 (uint64_t)m.start < inode.maplen,
			 "madvise start %lld accepted", (long long)m.start);
		FZ_CHECK(m.advice >= 0 && m.advice < 100,
			 "advice %d reached the kernel", m.advice);
		FZ_CHECK(m.advice != MADV_REMOVE ||
				 (handle.flags & O_ACCMODE) != O_RDONLY,
			 "MADV_REMOVE through a read-only handle");
		/* advice that may drop bytes: the model follows */
		if (m.advice == MADV_DONTNEED || m.advice == MADV_FREE ||
		    m.advice == MADV_REMOVE || m.advice == 24)
			memcpy(model, inode.base, inode.maplen);
	} else if (cmd == MMAPFS_IOC_INFO) {
		struct mmapfs_info info;

		memcpy(&info, rep.buf, sizeof(info));
		FZ_CHECK(info.length == inode.maplen &&
				 info.file_size == inode.maplen &&
				 info.mapped == (inode.map != NULL) &&
				 info.page_size == mmfs_pagesize(),
			 "info");
	}
}

static void one_request(struct fz *z, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	static const unsigned int cmds[] = {
		MMAPFS_IOC_MADVISE, MMAPFS_IOC_FIND, MMAPFS_IOC_RFIND,
		MMAPFS_IOC_MOVE,    MMAPFS_IOC_FLUSH, MMAPFS_IOC_INFO,
		MMAPFS_IOC_STATS};
	static const unsigned int fileattr[] = {
		FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IOC_FSGETXATTR,
		FS_IOC_FSSETXATTR};
	struct mmfs_inode *target = mmfs_inode_of(&fs, ino);
	unsigned int cmd, sel = fz_u8(z), flags = 0;
	size_t in_len = 0, out_len = 0, in_need = 0, out_need = 0;
	unsigned char *in = NULL, *before = NULL;
	bool valid;

	if (sel % 4 != 3) {
		cmd = cmds[fz_below(z, 7)];
	} else if (sel % 16 == 15) { /* chattr's */
		cmd = fileattr[fz_below(z, 4)];
	} else if (fz_u8(z) & 1) { /* one of ours, twisted */
		cmd = _IOC(fz_below(z, 4), MMAPFS_IOC_MAGIC, fz_below(z, 9),
			   fz_below(z, 1 << 14));
	} else {
		cmd = (unsigned int)fz_uint(z, 4);
	}
	valid = ours(cmd, &in_need, &out_need);
	if (sel % 16 == 15 && fz_u8(z) & 1) { /* the kernel's sizes */
		size_t n = _IOC_NR(cmd) <= 2 ? sizeof(int)
					     : sizeof(struct fsxattr);

		if (_IOC_DIR(cmd) & _IOC_WRITE)
			in_need = n;
		else
			out_need = n;
	}
	in_len = in_need;
	out_len = out_need;
	if (fz_u8(z) % 8 == 0) {
		in_len = fz_below(z, PAYLOAD_MAX);
		out_len = fz_below(z, PAYLOAD_MAX);
	}
	if (fz_u8(z) % 16 == 0)
		flags = (unsigned int)fz_u8(z) & 0x3f; /* FUSE_IOCTL_* bits */
	if (in_len) {
		in = malloc(in_len);
		fz_bytes(z, in, in_len);
		shape_payload(z, cmd, in, in_len);
	}
	if (target->map) {
		before = malloc(inode.maplen);
		memcpy(before, target->base, inode.maplen);
	}

	memset(&rep, 0, sizeof(rep));
	mmfs_op_ioctl((fuse_req_t)&rep, ino, cmd, NULL, fi, flags, in, in_len,
		      out_len);

	FZ_CHECK(rep.calls == 1, "cmd %#x: %d replies", cmd, rep.calls);
	FZ_CHECK(pthread_rwlock_trywrlock(&target->lock) == 0,
		 "cmd %#x left the inode locked", cmd);
	pthread_rwlock_unlock(&target->lock);
	if (!valid || in_len != in_need || out_len != out_need) {
		FZ_CHECK(rep.err != 0, "cmd %#x (in %zu, out %zu) accepted",
			 cmd, in_len, out_len);
	}
	if (flags & FUSE_IOCTL_COMPAT)
		FZ_CHECK(rep.err != 0, "compat ioctl accepted");
	if (rep.err) {
		FZ_CHECK(allowed_errno(rep.err), "cmd %#x: errno %d (%s)", cmd,
			 rep.err, strerror(rep.err));
		if (before)
			FZ_CHECK(memcmp(before, target->base, inode.maplen) ==
					 0,
				 "cmd %#x failed but changed the map", cmd);
	} else if (target == &inode) {
		check_success(cmd, in, out_need);
	} else {
		FZ_CHECK(cmd == MMAPFS_IOC_STATS, "cmd %#x on a directory",
			 cmd);
	}
	if (inode.map)
		FZ_CHECK(memcmp(inode.base, model, inode.maplen) == 0,
			 "cmd %#x: the map differs from the model", cmd);
	free(before);
	free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int access_of[] = {MMFS_ACCESS_WRITE, MMFS_ACCESS_READ,
					MMFS_ACCESS_COPY};
	static int dummy_session;
	struct fz z = {data, size};
	struct fuse_file_info fi;
	uint8_t setup = fz_u8(&z);
	size_t len = 0;
	void *base = NULL;
	int fd = -1, err;
	fuse_ino_t ino;

	memset(&fs, 0, sizeof(fs));
	memset(&inode, 0, sizeof(inode));
	fs.access = access_of[setup % 3];
	fs.anon = setup & 0x40;
	fs.se = (struct fuse_session *)(void *)&dummy_session;
	fs.root.type = S_IFDIR;
	pthread_rwlock_init(&fs.root.lock, NULL);
	pthread_mutex_init(&fs.table_lock, NULL);
	pthread_rwlock_init(&inode.lock, NULL);
	inode.type = (setup >> 2) % 8 == 7 ? S_IFDIR : S_IFREG;
	inode.fd = -1;
	handle.fd = -1;
	handle.flags = (setup & 0x80) ? O_RDONLY : O_RDWR;
	if (fs.access == MMFS_ACCESS_READ)
		handle.flags = O_RDONLY;
	memset(&fi, 0, sizeof(fi));
	fi.fh = (uintptr_t)&handle;
	fi.flags = handle.flags;

	/* An empty file has no map; otherwise one as mmfs_map_ensure makes. */
	if (S_ISREG(inode.type) && (setup >> 2) % 8 != 0) {
		len = 1 + fz_below(&z, sizeof(model) - 1);
		fd = memfd_create("fuzz-ioctl", MFD_CLOEXEC);
		FZ_CHECK(fd >= 0, "memfd_create");
		for (size_t i = 0; i < len; i++)
			model[i] = (unsigned char)"ab\na\0"[(i * 7 + (i >> 3) +
							    setup) % 5];
		fz_bytes(&z, model, fz_below(&z, len < 64 ? len : 64));
		FZ_CHECK(pwrite(fd, model, len, 0) == (ssize_t)len, "pwrite");
		err = mmfs_open(&inode.map, fd, 0, MAP_SHARED,
				PROT_READ | PROT_WRITE, fs.access, 0, 0);
		FZ_CHECK(err == 0, "mmfs_open: %s", mmfs_errmsg());
		FZ_CHECK(mmfs_pin(inode.map, &base, NULL) == 0, "pin");
		mmfs_unpin(inode.map);
		inode.base = base;
		inode.maplen = len;
	}

	for (unsigned int n = 0; !fz_empty(&z) && n < MAX_REQS; n++) {
		ino = fz_u8(&z) % 8 == 0 ? FUSE_ROOT_ID
					  : (fuse_ino_t)(uintptr_t)&inode;
		one_request(&z, ino, &fi);
	}

	mmfs_free(inode.map);
	if (fd >= 0)
		close(fd);
	pthread_rwlock_destroy(&inode.lock);
	pthread_rwlock_destroy(&fs.root.lock);
	pthread_mutex_destroy(&fs.table_lock);
	return 0;
}
