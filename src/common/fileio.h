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

/* Map errno to a kq_err code (ENOSPC -> KQ_ERR_NOSPC, EEXIST -> ...). */
int kq_errno_to_err(int e);

#endif
