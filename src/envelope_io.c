/*
 * keyquorum CLI: envelope output that appears only when complete.  An
 * unnamed temporary file (O_TMPFILE, 0600) in the target's directory is
 * linked into place after its last byte is verified and synced; where
 * the file system has no O_TMPFILE, a hidden name removed on every
 * failure.  link(2) never replaces a file: an existing path is refused.
 * Writeback starts while the file is written (sync_file_range) and what
 * is on disk leaves the page cache: the final fsync does not wait for a
 * whole envelope's dirty pages, and a big envelope does not fill the page
 * cache (nor leave plaintext there).
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

	memset(of, 0, sizeof(*of));
	of->fd = -1;
	of->path = path;
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

#define ENV_OUT_KICK (4u * 1024 * 1024)
#define ENV_OUT_LAG (16u * 1024 * 1024)

static int
hint_failed(struct env_outfile *of)
{
	if (errno != EINVAL && errno != ESPIPE && errno != ENOSYS)
		return kq_errno_to_err(errno);
	of->no_hint = 1; /* no writeback hints here: fsync does it all */
	return KQ_OK;
}

/*
 * Every ENV_OUT_KICK bytes, start the writeback of what was written since
 * (sync_file_range); once more than ENV_OUT_LAG bytes are in flight, wait
 * for the oldest and drop them from the page cache.  Dirty pages stay
 * bounded, the disk stays busy, and commit's fsync has little left.  A
 * failed wait is the write's failure (fsync would report it too).
 */
static int
out_writeback(struct env_outfile *of)
{
	unsigned wait = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
	    SYNC_FILE_RANGE_WAIT_AFTER;
	uint64_t upto;

	if (of->no_hint || of->off - of->started < ENV_OUT_KICK)
		return KQ_OK;
	if (sync_file_range(of->fd, (off_t)of->started,
	        (off_t)(of->off - of->started), SYNC_FILE_RANGE_WRITE) != 0)
		return hint_failed(of);
	of->started = of->off;
	if (of->started - of->done <= ENV_OUT_LAG)
		return KQ_OK;
	upto = of->started - ENV_OUT_LAG;
	if (sync_file_range(
	        of->fd, (off_t)of->done, (off_t)(upto - of->done), wait) != 0)
		return hint_failed(of);
	(void)posix_fadvise(of->fd, (off_t)of->done, (off_t)(upto - of->done),
	    POSIX_FADV_DONTNEED);
	of->done = upto;
	return KQ_OK;
}

int
env_out_write(void *arg, const uint8_t *p, size_t n)
{
	struct env_outfile *of = arg;
	int r;

	if (env_stop) /* SIGINT/SIGTERM: abandon, nothing is published */
		return KQ_ERR_INTERRUPTED;
	if ((r = kq_write_all(of->fd, p, n)) != KQ_OK)
		return r;
	of->off += n;
	return out_writeback(of);
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
