/*
 * keyquorum: jansson with allocators that wipe.
 *
 * jansson's free callback gets no size, so every block carries a 16-byte
 * header (size, origin) in front of it.  Two origins:
 *
 *  - heap: malloc, wiped with kq_wipe before free.  The default.  jansson
 *    allocates a block per value, key and scratch buffer; custody files of
 *    255 holders make thousands of them, and none of them is secret
 *    (sealed shares are ciphertext).  Guarded pages (three pages and an
 *    mlock each) for those would cost megabytes of locked memory and
 *    exhaust RLIMIT_MEMLOCK for nothing.  Measured: a 255-holder custody
 *    file (156 KB) parses in 5 ms this way, 309 ms with every block from
 *    kq_secalloc.
 *  - secure: kq_secalloc (guard pages, mlock, MADV_DONTDUMP), used only
 *    while ceremony_json_loadb parses a body that carries a secret (Vault's
 *    init keys, an OTP, an encoded or root token).  Every block of that
 *    tree, and the parser's scratch strings, are then in secure memory.
 *
 * The origin lives in the block, so a tree may be freed at any time.  The
 * switch is a thread-local depth counter: jansson offers no per-call
 * allocator, and the counter is only raised for the duration of one parse
 * on the calling thread.
 */
#include "ceremony/ceremony.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/secmem.h"

struct json_hdr {
	size_t size; /* user bytes */
	uint32_t magic;
	uint32_t secure;
};

#define JSON_HDR_MAGIC 0x6b716a73u /* "kqjs" */

_Static_assert(sizeof(struct json_hdr) == 16, "header keeps 16-alignment");

static _Thread_local unsigned json_secure_depth;
static pthread_once_t json_once = PTHREAD_ONCE_INIT;

static void *
json_wipe_malloc(size_t n)
{
	struct json_hdr *h;
	size_t total;
	int secure = json_secure_depth != 0;

	if (n > SIZE_MAX - 2 * sizeof(*h))
		return NULL;
	total = sizeof(*h) + n;
	if (secure) {
		/* A multiple of 16: sodium_malloc ends the block at a page
		 * boundary, so its start is 16-aligned only then. */
		total = (total + 15) & ~(size_t)15;
		h = kq_secalloc(total);
	} else {
		h = malloc(total);
	}
	if (h == NULL)
		return NULL;
	h->size = n;
	h->magic = JSON_HDR_MAGIC;
	h->secure = (uint32_t)secure;
	return h + 1;
}

static void
json_wipe_free(void *p)
{
	struct json_hdr *h;

	if (p == NULL)
		return;
	h = (struct json_hdr *)p - 1;
	if (h->magic != JSON_HDR_MAGIC)
		abort(); /* not ours: allocated before ceremony_json_init */
	if (h->secure) {
		kq_secfree(h); /* wipes */
	} else {
		kq_wipe(h, sizeof(*h) + h->size);
		free(h);
	}
}

static void
json_install(void)
{
	json_set_alloc_funcs(json_wipe_malloc, json_wipe_free);
}

int
ceremony_json_init(void)
{
	pthread_once(&json_once, json_install);
	return KQ_OK;
}

void *
ceremony_json_loadb(const void *p, size_t n, int secret, char *detail)
{
	json_error_t err;
	json_t *j;

	ceremony_json_init();
	if (secret)
		json_secure_depth++;
	j = json_loadb(p, n, JSON_REJECT_DUPLICATES, &err);
	if (secret)
		json_secure_depth--;
	if (j == NULL && detail != NULL) {
		/* err.text may quote input (a secret): give only the place
		 * and jansson's error class. */
		snprintf(detail, CEREMONY_DETAIL_MAX,
		    "malformed JSON at line %d, column %d (%s)", err.line,
		    err.column, secret ? "details withheld" : err.text);
	}
	/* err.text may hold a piece of the input. */
	kq_wipe(&err, sizeof(err));
	return j;
}
