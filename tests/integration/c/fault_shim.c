/*
 * A fault injector for the storage-fault tests, loaded with LD_PRELOAD.
 *
 * While the file named by FAULT_SHIM_CONTROL exists, every write or sync
 * that a sio-fcgi process makes on an LMDB data file (a descriptor whose
 * path ends in "/data.mdb") fails with the errno named in that file:
 * ENOSPC (a full disk, the default), EROFS (a file system remounted
 * read-only) or EIO.  "ENOSPC sync" fails only fsync and fdatasync, as a
 * file system that allocates blocks late (delayed allocation, NFS)
 * reports a full disk.  Writes of the two meta pages (the first two
 * pages of the file, rewritten in place at the end of each commit) are
 * left alone, since a full disk does not fail an overwrite of allocated
 * blocks on ext4 or xfs, and a fault that began between a commit's page
 * writes and its meta write would make the test depend on timing; "EIO
 * meta" fails those writes only, as an I/O error or a copy-on-write file
 * system (btrfs) that is full can.  Remove the file and the calls go
 * through again.  Each injected failure is reported on stderr.
 *
 * The calls are the ones liblmdb makes on its files: write, pwrite,
 * writev, fsync, fdatasync and ftruncate (nm -D liblmdb.so; msync only
 * serves MDB_WRITEMAP, which sio-fcgi does not use).  Other programs that
 * inherit LD_PRELOAD (the shell, the web server) are left alone.
 *
 *	cc -shared -fPIC -o fault_shim.so fault_shim.c -ldl
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char	*fault_control;
static int		 fault_active;

static ssize_t	(*real_write)(int, const void *, size_t);
static ssize_t	(*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t	(*real_writev)(int, const struct iovec *, int);
static int	(*real_fsync)(int);
static int	(*real_fdatasync)(int);
static int	(*real_ftruncate)(int, off_t);

__attribute__((constructor)) static void
fault_init(void)
{
	real_write = (ssize_t (*)(int, const void *, size_t))
	    dlsym(RTLD_NEXT, "write");
	real_pwrite = (ssize_t (*)(int, const void *, size_t, off_t))
	    dlsym(RTLD_NEXT, "pwrite");
	real_writev = (ssize_t (*)(int, const struct iovec *, int))
	    dlsym(RTLD_NEXT, "writev");
	real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	real_ftruncate = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate");
	fault_control = getenv("FAULT_SHIM_CONTROL");
	fault_active = fault_control != NULL &&
	    strcmp(program_invocation_short_name, "sio-fcgi") == 0;
}

/* The errno to inject for a call named op on fd, or 0. */
static int
fault_errno(const char *op, int fd, int is_sync, int is_meta)
{
	char	link[64], path[4096], what[32], msg[256];
	ssize_t	n;
	int	cfd, e, len;

	if (!fault_active || fd < 0)
		return (0);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return (0);
	path[n] = '\0';
	if (strstr(path, "/data.mdb") == NULL)
		return (0);
	if ((cfd = open(fault_control, O_RDONLY | O_CLOEXEC)) < 0)
		return (0);
	n = read(cfd, what, sizeof(what) - 1);
	close(cfd);
	what[n > 0 ? n : 0] = '\0';
	if (!is_sync && strstr(what, "sync") != NULL)
		return (0);
	if ((strstr(what, "meta") != NULL) != (is_meta != 0))
		return (0);
	if (strncmp(what, "EROFS", 5) == 0)
		e = EROFS;
	else if (strncmp(what, "EIO", 3) == 0)
		e = EIO;
	else
		e = ENOSPC;
	len = snprintf(msg, sizeof(msg), "fault_shim: %s on data.mdb: %s\n",
	    op, strerror(e));
	if (len > 0)
		(void)real_write(2, msg, (size_t)len < sizeof(msg) ?
		    (size_t)len : sizeof(msg) - 1);
	return (e);
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	int	e;

	if ((e = fault_errno("write", fd, 0, 0)) != 0) {
		errno = e;
		return (-1);
	}
	return (real_write(fd, buf, len));
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	int	e;

	if ((e = fault_errno("pwrite", fd, 0,
	    off < 2 * sysconf(_SC_PAGESIZE))) != 0) {
		errno = e;
		return (-1);
	}
	return (real_pwrite(fd, buf, len, off));
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	return (pwrite(fd, buf, len, off));
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	int	e;

	if ((e = fault_errno("writev", fd, 0, 0)) != 0) {
		errno = e;
		return (-1);
	}
	return (real_writev(fd, iov, n));
}

int
fsync(int fd)
{
	int	e;

	if ((e = fault_errno("fsync", fd, 1, 0)) != 0) {
		errno = e;
		return (-1);
	}
	return (real_fsync(fd));
}

int
fdatasync(int fd)
{
	int	e;

	if ((e = fault_errno("fdatasync", fd, 1, 0)) != 0) {
		errno = e;
		return (-1);
	}
	return (real_fdatasync(fd));
}

int
ftruncate(int fd, off_t len)
{
	int	e;

	if ((e = fault_errno("ftruncate", fd, 0, 0)) != 0) {
		errno = e;
		return (-1);
	}
	return (real_ftruncate(fd, len));
}
