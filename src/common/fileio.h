/*
 * keyquorum: writing files that must never be half-written, and secret
 * files that must never be world-readable.
 */
#ifndef KQ_COMMON_FILEIO_H
#define KQ_COMMON_FILEIO_H

#include <stddef.h>

/*
 * Replace (or create) path with exactly the n bytes at p: a temporary file
 * in the same directory (mode `mode`), write, fsync, rename over path, fsync
 * the directory.  Without `force` an existing path is KQ_ERR_EXISTS and
 * nothing is touched.  On any failure the temporary file is removed and
 * path is as it was.  KQ_OK, KQ_ERR_EXISTS, KQ_ERR_NOSPC, KQ_ERR_PERM,
 * KQ_ERR_IO.
 */
int kq_file_write_atomic(
    const char *path, const void *p, size_t n, unsigned mode, int force);

/*
 * Create path exclusively (O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC) with mode
 * and return its fd in *fd.  KQ_OK, KQ_ERR_EXISTS, KQ_ERR_PERM, KQ_ERR_IO.
 */
int kq_file_create_excl(const char *path, unsigned mode, int *fd);

/*
 * Reserve size bytes of fd's file from offset 0 (posix_fallocate): after
 * it, writing up to size bytes cannot fail for lack of space.  KQ_OK,
 * KQ_ERR_NOSPC (also EFBIG: a file size limit), KQ_ERR_IO.
 */
int kq_file_reserve_fd(int fd, size_t size);

/*
 * A file to be written later that must not fail for lack of space then:
 * kq_file_reserve creates the temporary file beside path (mode) and
 * reserves size bytes in it; kq_file_commit writes the n bytes at p into
 * it, cuts it to n, fsyncs and puts it in place as kq_file_write_atomic
 * does (force: replace path; else never clobber); kq_file_abandon removes
 * it.  After commit or abandon the struct holds nothing.
 */
struct kq_file_resv {
	int fd; /* -1: nothing held */
	char path[4096];
	char tmp[4096 + 16];
};

int kq_file_reserve(
    struct kq_file_resv *rv, const char *path, size_t size, unsigned mode);
int kq_file_commit(struct kq_file_resv *rv, const void *p, size_t n, int force);
void kq_file_abandon(struct kq_file_resv *rv);

/* Map errno to a kq_err code (ENOSPC -> KQ_ERR_NOSPC, EEXIST -> ...). */
int kq_errno_to_err(int e);

#endif
