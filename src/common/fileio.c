/* keyquorum: atomic file replacement and exclusive secret-file creation. */
#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
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
	if ((r = kq_write_all(fd, p, n)) != KQ_OK) {
		if (r == KQ_ERR_IO) /* errno is the failed write's */
			r = kq_errno_to_err(errno);
		goto fail;
	}
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

int
kq_file_reserve_fd(int fd, size_t size)
{
	int e;

	if (size == 0)
		return KQ_OK;
	do
		e = posix_fallocate(fd, 0, (off_t)size);
	while (e == EINTR);
	return e == 0 ? KQ_OK : kq_errno_to_err(e);
}

int
kq_file_reserve(
    struct kq_file_resv *rv, const char *path, size_t size, unsigned mode)
{
	int r;

	rv->fd = -1;
	rv->tmp[0] = '\0';
	if (snprintf(rv->path, sizeof(rv->path), "%s", path) >=
	        (int)sizeof(rv->path) ||
	    snprintf(rv->tmp, sizeof(rv->tmp), "%s.tmp.XXXXXX", path) >=
	        (int)sizeof(rv->tmp))
		return KQ_ERR_TOO_LONG;
	if ((rv->fd = mkostemp(rv->tmp, O_CLOEXEC)) < 0) {
		rv->tmp[0] = '\0';
		return kq_errno_to_err(errno);
	}
	if (fchmod(rv->fd, (mode_t)mode) != 0)
		r = kq_errno_to_err(errno);
	else
		r = kq_file_reserve_fd(rv->fd, size);
	if (r != KQ_OK)
		kq_file_abandon(rv);
	return r;
}

void
kq_file_abandon(struct kq_file_resv *rv)
{
	if (rv->fd >= 0)
		close(rv->fd);
	if (rv->fd >= 0 || rv->tmp[0] != '\0')
		(void)unlink(rv->tmp);
	rv->fd = -1;
	rv->tmp[0] = '\0';
}

int
kq_file_commit(struct kq_file_resv *rv, const void *p, size_t n, int force)
{
	char dir[PATH_MAX];
	const uint8_t *c = p;
	size_t off = 0;
	ssize_t w;
	int r;

	if (rv->fd < 0)
		return KQ_ERR_INVALID;
	if ((r = kq_dirname(rv->path, dir, sizeof(dir))) != KQ_OK)
		goto fail;
	while (off < n) {
		w = pwrite(rv->fd, c + off, n - off, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = kq_errno_to_err(errno);
			goto fail;
		}
		off += (size_t)w;
	}
	if (ftruncate(rv->fd, (off_t)n) != 0 || fsync(rv->fd) != 0) {
		r = kq_errno_to_err(errno);
		goto fail;
	}
	if (close(rv->fd) != 0) {
		rv->fd = -1;
		r = kq_errno_to_err(errno);
		goto fail;
	}
	rv->fd = -1;
	if (!force) {
		if (link(rv->tmp, rv->path) != 0) {
			r = kq_errno_to_err(errno);
			goto fail;
		}
		(void)unlink(rv->tmp);
	} else if (rename(rv->tmp, rv->path) != 0) {
		r = kq_errno_to_err(errno);
		goto fail;
	}
	rv->tmp[0] = '\0';
	return kq_fsync_dir(dir);
fail:
	kq_file_abandon(rv);
	return r;
}
