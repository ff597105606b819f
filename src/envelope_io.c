/*
 * keyquorum CLI: envelope output that appears only when complete.  An
 * unnamed temporary file (O_TMPFILE, 0600) in the target's directory is
 * linked into place after its last byte is verified and synced; where
 * the file system has no O_TMPFILE, a hidden name removed on every
 * failure.  link(2) never replaces a file: an existing path is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/secio.h"
#include "common/secmem.h"
#include "envelope_int.h"

static int
dir_of(const char *path, char *dir, size_t cap)
{
	const char *s = strrchr(path, '/');
	size_t n = s == NULL ? 1 : (s == path ? 1 : (size_t)(s - path));

	if (n >= cap)
		return KQ_ERR_TOO_LONG;
	memcpy(dir, s == NULL ? "." : path, n);
	dir[n] = '\0';
	return KQ_OK;
}

int
env_out_begin(const char *path, struct env_outfile *of)
{
	char dir[PATH_MAX];
	struct stat st;
	int r;

	of->fd = -1;
	of->path = path;
	of->tmp[0] = '\0';
	if (lstat(path, &st) == 0)
		return KQ_ERR_EXISTS;
	if ((r = dir_of(path, dir, sizeof(dir))) != KQ_OK)
		return r;
	of->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (of->fd >= 0)
		return KQ_OK;
	/* No O_TMPFILE here: a hidden name, removed on every failure. */
	if (snprintf(of->tmp, sizeof(of->tmp), "%s/.kq-envelope.XXXXXX", dir) >=
	    (int)sizeof(of->tmp))
		return KQ_ERR_TOO_LONG;
	if ((of->fd = mkostemp(of->tmp, O_CLOEXEC)) < 0) {
		of->tmp[0] = '\0';
		return kq_errno_to_err(errno);
	}
	(void)fchmod(of->fd, 0600);
	return KQ_OK;
}

int
env_out_write(void *arg, const uint8_t *p, size_t n)
{
	struct env_outfile *of = arg;

	if (env_stop) /* SIGINT/SIGTERM: abandon, nothing is published */
		return KQ_ERR_INTERRUPTED;
	return kq_write_all(of->fd, p, n);
}

void
env_out_abort(struct env_outfile *of)
{
	if (of->fd >= 0)
		close(of->fd);
	if (of->tmp[0] != '\0')
		unlink(of->tmp);
	of->fd = -1;
	of->tmp[0] = '\0';
}

int
env_out_commit(struct env_outfile *of)
{
	char proc[64], dir[PATH_MAX];
	int r = KQ_OK, dfd;

	if (fsync(of->fd) != 0) {
		r = kq_errno_to_err(errno);
		goto out;
	}
	if (of->tmp[0] == '\0') {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", of->fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, of->path,
		        AT_SYMLINK_FOLLOW) != 0)
			r = kq_errno_to_err(errno);
	} else if (link(of->tmp, of->path) != 0) {
		r = kq_errno_to_err(errno);
	}
	if (r == KQ_OK && dir_of(of->path, dir, sizeof(dir)) == KQ_OK &&
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
out:
	env_out_abort(of); /* closes, and removes the temporary name */
	return r;
}

int
env_mem_write(void *arg, const uint8_t *p, size_t n)
{
	return kq_sbuf_put(arg, p, n);
}
