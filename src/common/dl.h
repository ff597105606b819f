/*
 * keyquorum: loading a shared library at run time.
 *
 * Libraries that only some verbs need (libcurl for the ceremonies,
 * libcrypto for kq_random's large requests) are loaded on first use rather
 * than linked, so the offline verbs start as fast as a small program and
 * need not have them mapped at all.  The caller keeps a table of the
 * functions it wants and resolves it once (under its own pthread_once).
 */
#ifndef KQ_COMMON_DL_H
#define KQ_COMMON_DL_H

#include <stddef.h>

/* Longest detail kq_dl_load writes, with its NUL. */
#define KQ_DL_DETAIL_MAX 256

/* One function to resolve: its exported name and where its address goes. */
struct kq_dl_sym {
	const char *name;
	void **slot;
};

/*
 * The address of a function pointer as a slot.  POSIX guarantees that a
 * function's address survives a round trip through void * (dlsym relies on
 * it); the cast only silences ISO C's object/function distinction.
 */
#define KQ_DL_SLOT(fnptr) ((void **)(void *)&(fnptr))

/*
 * dlopen(lib, RTLD_NOW | RTLD_LOCAL) from the system's library path, then
 * resolve every one of the n entries of syms into its slot.  Returns the
 * handle (never closed by the caller while the functions are in use), or
 * NULL with every slot set to NULL, the library closed again, and detail
 * (KQ_DL_DETAIL_MAX bytes, may be NULL) saying which library could not be
 * loaded, or which function it lacks, and dlerror()'s reason.  Not
 * thread-safe by itself: call it under the caller's pthread_once.
 */
void *kq_dl_load(
    const char *lib, const struct kq_dl_sym *syms, size_t n, char *detail);

#endif
