/*
 * keyquorum: memory for secrets.
 *
 * Normal builds use libsodium's guarded allocations: guard pages, a canary,
 * mlock(2) and MADV_DONTDUMP, wiped on free.  The sanitizer build
 * (KQ_SANITIZE) uses plain malloc with the same wipe-on-free contract, so
 * AddressSanitizer can see overflows that guard pages would only trap.
 *
 * Every buffer that ever holds a share, PIN, combined secret, OTP, token or
 * data key comes from kq_secalloc() and is released with kq_secfree().
 */
#ifndef KQ_COMMON_SECMEM_H
#define KQ_COMMON_SECMEM_H

#include <stddef.h>
#include <stdint.h>

/* Initialise libsodium and the allocator.  KQ_OK or KQ_ERR_CRYPTO. */
int kq_secmem_init(void);

/* n zeroed bytes of secure memory (n may be 0), or NULL.  Free with kq_secfree. */
void *kq_secalloc(size_t n);

/* Wipe and release p (from kq_secalloc).  NULL is accepted. */
void kq_secfree(void *p);

/* Size of an allocation from kq_secalloc. */
size_t kq_secsize(const void *p);

/* Wipe n bytes at p in a way the compiler cannot elide.  NULL/0 accepted. */
void kq_wipe(void *p, size_t n);

/* Constant-time comparison: 0 when equal, -1 otherwise. */
int kq_memeq_ct(const void *a, const void *b, size_t n);

/*
 * A growable byte buffer in secure memory (like sshbuf, for secrets).
 * Growing copies into a new secure allocation and wipes the old one.
 */
struct kq_sbuf;

/* New empty buffer that refuses to grow past max bytes; NULL on ENOMEM. */
struct kq_sbuf *kq_sbuf_new(size_t max);
/* Wipe and free; NULL accepted. */
void kq_sbuf_free(struct kq_sbuf *b);
/* Append.  KQ_OK, KQ_ERR_TOO_LONG past max, KQ_ERR_NOMEM. */
int kq_sbuf_put(struct kq_sbuf *b, const void *p, size_t n);
/* Reserve n more bytes and return a pointer to them (length grows by n). */
int kq_sbuf_reserve(struct kq_sbuf *b, size_t n, uint8_t **out);
/* Shrink the length to n (wiping what is dropped); n <= length. */
void kq_sbuf_truncate(struct kq_sbuf *b, size_t n);
/*
 * Make room for at least n more bytes without changing the length, and
 * return the spare space after the data in *spare (*spare_len bytes, at
 * least n and never past max).  Commit what was written there with
 * kq_sbuf_commit.  KQ_OK, KQ_ERR_TOO_LONG, KQ_ERR_NOMEM.
 */
int kq_sbuf_spare(
    struct kq_sbuf *b, size_t n, uint8_t **spare, size_t *spare_len);
/* Add n bytes written into the spare space to the length. */
void kq_sbuf_commit(struct kq_sbuf *b, size_t n);
uint8_t *kq_sbuf_ptr(const struct kq_sbuf *b);
size_t kq_sbuf_len(const struct kq_sbuf *b);

#endif
