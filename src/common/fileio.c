/* keyquorum: atomic file replacement and exclusive secret-file creation. */
#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/secio.h"

int
kq_errno_to_err(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return KQ_ERR_NOSPC;
	case EEXIST:
		return KQ_ERR_EXISTS;
	case ENOENT:
		return KQ_ERR_NOT_FOUND;
	case EACCES:
	case EPERM:
	case EROFS:
		return KQ_ERR_PERM;
	case ENOMEM:
		return KQ_ERR_NOMEM;
	default:
		return KQ_ERR_IO;
	}
}

/* The directory part of path ("." when there is none). */
static int
kq_dirname(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		path = ".", n = 1;
	else
		n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= cap)
		return KQ_ERR_TOO_LONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return KQ_OK;
}

static int
kq_fsync_dir(const char *dir)
{
	int fd, r = KQ_OK;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return kq_errno_to_err(errno);
	if (fsync(fd) != 0 && errno != EINVAL)
		r = kq_errno_to_err(errno);
	close(fd);
	return r;
}

int
kq_file_write_atomic(
    const char *path, const void *p, size_t n, unsigned mode, int force)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	struct stat st;
	int fd = -1, r;

	if ((r = kq_dirname(path, dir, sizeof(dir))) != KQ_OK)
		return r;
	if (!force && lstat(path, &st) == 0)
		return KQ_ERR_EXISTS;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    (int)sizeof(tmp))
		return KQ_ERR_TOO_LONG;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return kq_errno_to_err(errno);
	if (fchmod(fd, (mode_t)mode) != 0) {
		r = kq_errno_to_err(errno);
		goto fail;
	}
	if ((r = kq_write_all(fd, p, n)) != KQ_OK)
		goto fail;
	if (fsync(fd) != 0) {
		r = kq_errno_to_err(errno);
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = kq_errno_to_err(errno);
		goto fail;
	}
	fd = -1;
	if (!force) {
		/* link(2) fails if path appeared meanwhile: never clobber. */
		if (link(tmp, path) != 0) {
			r = kq_errno_to_err(errno);
			goto fail;
		}
		(void)unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		r = kq_errno_to_err(errno);
		goto fail;
	}
	return kq_fsync_dir(dir);
fail:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	return r;
}

int
kq_file_create_excl(const char *path, unsigned mode, int *fd)
{
	int f;

	f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    (mode_t)mode);
	if (f < 0)
		return kq_errno_to_err(errno);
	*fd = f;
	return KQ_OK;
}
