/* keyquorum: process hardening and randomness. */
#ifndef KQ_COMMON_HARDEN_H
#define KQ_COMMON_HARDEN_H

#include <stddef.h>
#include <stdint.h>

/*
 * Call first in main(): RLIMIT_CORE 0, PR_SET_DUMPABLE 0, umask 077,
 * stdin/stdout/stderr guaranteed open.  KQ_OK or KQ_ERR_PERM.
 */
int kq_harden_process(void);

/*
 * n bytes from the CSPRNG (src/common/rand.c): a per-thread ChaCha20 pool
 * for small requests, AES-256-CTR with fast key erasure for large ones,
 * every key from getrandom(2).  Draw in large blocks: the cost is per
 * call.  KQ_OK or KQ_ERR_RANDOM (buf wiped on failure).
 */
int kq_random(void *buf, size_t n);

/*
 * Wipe what secret-handling code may have left below the current stack
 * pointer (spilled locals, and vector registers saved there by the dynamic
 * linker's lazy-binding trampoline or by the kernel) and clear the vector
 * registers themselves.  Call after a secret's last use on paths where
 * the process goes on, and before exit.
 */
void kq_scrub_stack(void);

#endif
