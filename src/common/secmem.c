/*
 * keyquorum: memory for secrets.
 *
 * Normal builds: libsodium's sodium_malloc (guard pages, canary, mlock,
 * MADV_DONTDUMP; wiped by sodium_free).  sodium_malloc does not record the
 * size for us, so each allocation carries a small header with it.
 *
 * Sanitizer builds (KQ_SANITIZE): plain malloc with the same header and
 * the same wipe on free, so AddressSanitizer sees every overflow.
 */
#include "common/secmem.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/err.h"

/* Header in front of every allocation: keeps the user pointer 16-aligned. */
struct kq_sechdr {
	size_t size;
	size_t magic;
};

#define KQ_SEC_MAGIC ((size_t)0x6b7173656375ULL) /* "kqsecu" */

int
kq_secmem_init(void)
{
	if (sodium_init() < 0)
		return KQ_ERR_CRYPTO;
	return KQ_OK;
}

void *
kq_secalloc(size_t n)
{
	struct kq_sechdr *h;
	size_t total;

	if (n > SIZE_MAX - sizeof(*h))
		return NULL;
	total = sizeof(*h) + n;
#ifdef KQ_SANITIZE
	h = malloc(total);
#else
	h = sodium_malloc(total);
#endif
	if (h == NULL)
		return NULL;
	memset(h, 0, total);
	h->size = n;
	h->magic = KQ_SEC_MAGIC;
	return h + 1;
}

static struct kq_sechdr *
kq_sechdr(const void *p)
{
	struct kq_sechdr *h = (struct kq_sechdr *)(uintptr_t)p - 1;

	if (h->magic != KQ_SEC_MAGIC)
		abort(); /* not ours: memory corruption or misuse */
	return h;
}

size_t
kq_secsize(const void *p)
{
	if (p == NULL)
		return 0;
	return kq_sechdr(p)->size;
}

void
kq_secfree(void *p)
{
	struct kq_sechdr *h;

	if (p == NULL)
		return;
	h = kq_sechdr(p);
#ifdef KQ_SANITIZE
	sodium_memzero(h, sizeof(*h) + h->size);
	free(h);
#else
	sodium_free(h); /* wipes the whole allocation */
#endif
}

void
kq_wipe(void *p, size_t n)
{
	if (p != NULL && n != 0)
		sodium_memzero(p, n);
}

int
kq_memeq_ct(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return 0;
	return sodium_memcmp(a, b, n) == 0 ? 0 : -1;
}

/* ---- secure growable buffer ---------------------------------------- */

struct kq_sbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;
};

struct kq_sbuf *
kq_sbuf_new(size_t max)
{
	struct kq_sbuf *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->max = max;
	return b;
}

void
kq_sbuf_free(struct kq_sbuf *b)
{
	if (b == NULL)
		return;
	kq_secfree(b->p);
	free(b);
}

static int
kq_sbuf_grow(struct kq_sbuf *b, size_t need)
{
	size_t ncap;
	uint8_t *np;

	if (need <= b->cap)
		return KQ_OK;
	if (need > b->max)
		return KQ_ERR_TOO_LONG;
	ncap = b->cap < 256 ? 256 : b->cap;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	if ((np = kq_secalloc(ncap)) == NULL)
		return KQ_ERR_NOMEM;
	if (b->len != 0)
		memcpy(np, b->p, b->len);
	kq_secfree(b->p);
	b->p = np;
	b->cap = ncap;
	return KQ_OK;
}

int
kq_sbuf_reserve(struct kq_sbuf *b, size_t n, uint8_t **out)
{
	int r;

	if (n > SIZE_MAX - b->len)
		return KQ_ERR_TOO_LONG;
	if ((r = kq_sbuf_grow(b, b->len + n)) != KQ_OK)
		return r;
	*out = b->p + b->len;
	b->len += n;
	return KQ_OK;
}

int
kq_sbuf_spare(struct kq_sbuf *b, size_t n, uint8_t **spare, size_t *spare_len)
{
	int r;

	if (n > SIZE_MAX - b->len)
		return KQ_ERR_TOO_LONG;
	if ((r = kq_sbuf_grow(b, b->len + n)) != KQ_OK)
		return r;
	*spare = b->p + b->len;
	*spare_len = b->cap - b->len;
	return KQ_OK;
}

void
kq_sbuf_commit(struct kq_sbuf *b, size_t n)
{
	if (n > b->cap - b->len)
		abort(); /* misuse: more than the spare space */
	b->len += n;
}

int
kq_sbuf_put(struct kq_sbuf *b, const void *p, size_t n)
{
	uint8_t *dst;
	int r;

	if (n == 0)
		return KQ_OK;
	if ((r = kq_sbuf_reserve(b, n, &dst)) != KQ_OK)
		return r;
	memcpy(dst, p, n);
	return KQ_OK;
}

void
kq_sbuf_truncate(struct kq_sbuf *b, size_t n)
{
	if (n >= b->len)
		return;
	kq_wipe(b->p + n, b->len - n);
	b->len = n;
}

uint8_t *
kq_sbuf_ptr(const struct kq_sbuf *b)
{
	return b->p;
}

size_t
kq_sbuf_len(const struct kq_sbuf *b)
{
	return b->len;
}
