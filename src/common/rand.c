/* keyquorum: the CSPRNG behind kq_random (declared in harden.h). */
#include "common/harden.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

/* Types only: libcrypto is loaded at run time (kq_evp_load). */
#include <openssl/evp.h>
#include <sodium.h>

#include "common/dl.h"
#include "common/cpu.h"
#include "common/err.h"
#include "common/secmem.h"

/*
 * The CSPRNG.  Every generator here is keyed only from getrandom(2).
 *
 * Small requests (up to KQ_RAND_SMALL bytes) are served from a per-thread
 * pool of KQ_RAND_POOL bytes of ChaCha20 keystream under a key drawn from
 * getrandom(2) for each refill (libsodium's crypto_stream_chacha20; the
 * key is wiped at once): many small requests then cost no system call.
 * Each byte is handed out once and wiped from the pool as it is.  The pool
 * costs a secure allocation (about 30 us of mmap, mprotect and mlock) and
 * a refill; a getrandom(2) call of up to 1 KiB costs about 1 us, so a
 * thread's first KQ_RAND_DIRECT small requests go straight to getrandom(2)
 * and the pool is made only for a thread that keeps asking (a one-shot
 * split of a short secret never makes one).
 *
 * Large requests are AES-256 in counter mode with "fast key erasure": a
 * per-thread key (32 bytes) and nonce are drawn from getrandom(2); a
 * request is the keystream, the encryption of successive counter blocks;
 * at the end of every request more keystream becomes the next key and
 * nonce, replacing the old key schedule in place, so nothing left in
 * memory after a request can reproduce its output (backtracking
 * resistance, as CTR_DRBG gets from its update step).  A fresh key comes
 * from getrandom(2) after KQ_RAND_RESEED bytes, so a key never produces
 * more than 2^22 blocks: the keystream is then indistinguishable from
 * random up to an advantage of about 2^-84 beyond AES-256's own (the
 * PRP/PRF switching bound q^2 / 2^129).  This is SP 800-90A's CTR_DRBG
 * without the derivation function and additional input, which only matter
 * for entropy sources other than the kernel's.  Two implementations:
 *
 * - With VAES and AVX-512 (and the self-test below passing), AES-NI
 *   instructions on four 128-bit lanes of a 512-bit register, 16 blocks
 *   per step: about 16 GB/s here.  The block is the 64-bit counter (from
 *   0) then the 64-bit nonce, little-endian.  The round keys come from the
 *   key by the AES-NI key expansion (AESKEYGENASSIST, as in Intel's AES-NI
 *   white paper), and the first use runs a known-answer test (FIPS-197
 *   appendix C.3, through a one-block AES-NI path) and checks that the
 *   16 lanes of a VAES step equal that one-block path on their counters.
 *   The key schedule lives in the thread's secure memory (kq_secalloc).
 *   AES-NI and VAES run in constant time.
 * - Otherwise libcrypto's EVP_aes_256_ctr over a small constant all-zero
 *   block (no memset pass), 16 bytes of IV from getrandom(2) beside the
 *   key: about 7.5 GB/s (RAND_bytes does 5 with its per-call locking,
 *   getpid(2) and update step).  libcrypto is not linked: it is loaded
 *   (dl.h) on the first large request on such a CPU, so a program that
 *   never needs it never maps it.  If it cannot be loaded, large requests
 *   take ChaCha20 keystream under a fresh getrandom(2) key per request
 *   (as sound, about 2 GB/s).
 *
 * A fork wipes the child's pool and generator state (pthread_atfork), so
 * parent and child never share a byte or a key; a thread's state is wiped
 * and freed when the thread ends.
 */
#define KQ_RAND_POOL 16384
#define KQ_RAND_SMALL 1024
/* Small requests a thread sends to getrandom(2) before it makes a pool. */
#define KQ_RAND_DIRECT 16
/* Bytes of keystream per getrandom(2) key: 2^26, i.e. 2^22 AES blocks. */
#define KQ_RAND_RESEED ((size_t)1 << 26)
/* Key and IV (or nonce). */
#define KQ_RAND_KEYIV 48
/* Zero plaintext per EVP call: stays in L1 beside the output. */
#define KQ_RAND_ZEROS 4096
/* A VAES step: 16 blocks. */
#define KQ_VAES_STEP 256

/* libcrypto's functions, resolved once by kq_evp_load. */
struct kq_evp {
	EVP_CIPHER_CTX *(*ctx_new)(void);
	void (*ctx_free)(EVP_CIPHER_CTX *);
	const EVP_CIPHER *(*aes_256_ctr)(void);
	int (*init)(EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *,
	    const unsigned char *, const unsigned char *);
	int (*update)(EVP_CIPHER_CTX *, unsigned char *, int *,
	    const unsigned char *, int);
};

/* A thread's generator state, in secure memory. */
struct kq_rand_tls {
	uint8_t pool[KQ_RAND_POOL];
	size_t avail; /* pool bytes not handed out, at its end */
	uint8_t rk[15 * 16]; /* VAES: AES-256 round keys */
	uint64_t ctr, nonce; /* VAES: next counter, nonce */
	size_t left; /* VAES or EVP: bytes before a fresh key; 0: unkeyed */
	EVP_CIPHER_CTX *ctx; /* EVP: the cipher context, or NULL */
};

static struct kq_evp kq_evp;
static int kq_evp_loaded;
static int kq_vaes_ok;
static pthread_once_t kq_evp_once = PTHREAD_ONCE_INIT;
static pthread_once_t kq_rand_once = PTHREAD_ONCE_INIT;
static pthread_key_t kq_rand_key;
static int kq_rand_key_ok;
static __thread struct kq_rand_tls *kq_tls;
static __thread unsigned kq_tls_direct; /* small requests so far, capped */

static const uint8_t kq_rand_zeros[KQ_RAND_ZEROS] __attribute__((aligned(64)));

/* Fill key with n bytes from getrandom(2).  KQ_OK or KQ_ERR_RANDOM. */
static int
kq_getrandom(uint8_t *key, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = getrandom(key + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return KQ_ERR_RANDOM;
		got += (size_t)r;
	}
	return KQ_OK;
}

/* ---- AES-256-CTR with AES-NI and VAES --------------------------------- */

#if defined(__x86_64__)
#include <immintrin.h>

#define KQ_TGT_AES __attribute__((target("aes,sse2")))
#define KQ_TGT_VAES __attribute__((target("aes,vaes,avx512f")))

/* One step of the AES-256 key expansion for the even round keys. */
KQ_TGT_AES static inline __m128i
kq_aes_expand_a(__m128i a, __m128i assist)
{
	assist = _mm_shuffle_epi32(assist, 0xff);
	a = _mm_xor_si128(a, _mm_slli_si128(a, 4));
	a = _mm_xor_si128(a, _mm_slli_si128(a, 8));
	return _mm_xor_si128(a, assist);
}

/* The same for the odd round keys (SubWord without RotWord). */
KQ_TGT_AES static inline __m128i
kq_aes_expand_b(__m128i a, __m128i b)
{
	__m128i assist =
	    _mm_shuffle_epi32(_mm_aeskeygenassist_si128(a, 0), 0xaa);

	b = _mm_xor_si128(b, _mm_slli_si128(b, 4));
	b = _mm_xor_si128(b, _mm_slli_si128(b, 8));
	return _mm_xor_si128(b, assist);
}

#define KQ_AES_ROUND_PAIR(i, rcon)                                             \
	do {                                                                   \
		a = kq_aes_expand_a(a, _mm_aeskeygenassist_si128(b, rcon));    \
		_mm_storeu_si128((__m128i *)(void *)(rk + 16 * (i)), a);       \
		if ((i) < 14) {                                                \
			b = kq_aes_expand_b(a, b);                             \
			_mm_storeu_si128(                                      \
			    (__m128i *)(void *)(rk + 16 * ((i) + 1)), b);      \
		}                                                              \
	} while (0)

/* rk (15 round keys) from a 32-byte key. */
KQ_TGT_AES static void
kq_aes256_expand(uint8_t *rk, const uint8_t *key)
{
	__m128i a = _mm_loadu_si128((const __m128i *)(const void *)key);
	__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(key + 16));

	_mm_storeu_si128((__m128i *)(void *)rk, a);
	_mm_storeu_si128((__m128i *)(void *)(rk + 16), b);
	KQ_AES_ROUND_PAIR(2, 0x01);
	KQ_AES_ROUND_PAIR(4, 0x02);
	KQ_AES_ROUND_PAIR(6, 0x04);
	KQ_AES_ROUND_PAIR(8, 0x08);
	KQ_AES_ROUND_PAIR(10, 0x10);
	KQ_AES_ROUND_PAIR(12, 0x20);
	KQ_AES_ROUND_PAIR(14, 0x40);
	a = b = _mm_setzero_si128();
}

/* One block, the plain AES-NI way (the self-test's reference). */
KQ_TGT_AES static void
kq_aes256_block(uint8_t *out, const uint8_t *rk, const uint8_t *in)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)in);
	int r;

	x = _mm_xor_si128(
	    x, _mm_loadu_si128((const __m128i *)(const void *)rk));
	for (r = 1; r < 14; r++)
		x = _mm_aesenc_si128(x,
		    _mm_loadu_si128(
		        (const __m128i *)(const void *)(rk + 16 * r)));
	x = _mm_aesenclast_si128(
	    x, _mm_loadu_si128((const __m128i *)(const void *)(rk + 16 * 14)));
	_mm_storeu_si128((__m128i *)(void *)out, x);
}

/*
 * steps * KQ_VAES_STEP bytes of keystream into out: block i is the
 * encryption of (ctr + i, nonce), each a little-endian 64-bit half.
 * Returns the next counter.
 */
KQ_TGT_VAES static uint64_t
kq_vaes_ctr(
    uint8_t *out, const uint8_t *rk, uint64_t ctr, uint64_t nonce, size_t steps)
{
	const __m512i four = _mm512_set_epi64(0, 4, 0, 4, 0, 4, 0, 4);
	__m512i k[15], c, b0, b1, b2, b3;
	size_t i;
	int r;

	for (r = 0; r < 15; r++)
		k[r] = _mm512_broadcast_i32x4(_mm_loadu_si128(
		    (const __m128i *)(const void *)(rk + 16 * r)));
	c = _mm512_set_epi64((long long)nonce, (long long)(ctr + 3),
	    (long long)nonce, (long long)(ctr + 2), (long long)nonce,
	    (long long)(ctr + 1), (long long)nonce, (long long)ctr);
	for (i = 0; i < steps; i++) {
		b0 = _mm512_xor_si512(c, k[0]);
		c = _mm512_add_epi64(c, four);
		b1 = _mm512_xor_si512(c, k[0]);
		c = _mm512_add_epi64(c, four);
		b2 = _mm512_xor_si512(c, k[0]);
		c = _mm512_add_epi64(c, four);
		b3 = _mm512_xor_si512(c, k[0]);
		c = _mm512_add_epi64(c, four);
		for (r = 1; r < 14; r++) {
			b0 = _mm512_aesenc_epi128(b0, k[r]);
			b1 = _mm512_aesenc_epi128(b1, k[r]);
			b2 = _mm512_aesenc_epi128(b2, k[r]);
			b3 = _mm512_aesenc_epi128(b3, k[r]);
		}
		b0 = _mm512_aesenclast_epi128(b0, k[14]);
		b1 = _mm512_aesenclast_epi128(b1, k[14]);
		b2 = _mm512_aesenclast_epi128(b2, k[14]);
		b3 = _mm512_aesenclast_epi128(b3, k[14]);
		_mm512_storeu_si512((void *)(out + 256 * i), b0);
		_mm512_storeu_si512((void *)(out + 256 * i + 64), b1);
		_mm512_storeu_si512((void *)(out + 256 * i + 128), b2);
		_mm512_storeu_si512((void *)(out + 256 * i + 192), b3);
	}
	/* The round keys must not stay in the stack's register spills. */
	kq_wipe(k, sizeof(k));
	return ctr + 16 * steps;
}

/*
 * FIPS-197 appendix C.3 through kq_aes256_block, then one VAES step
 * against kq_aes256_block on each of its 16 counters (the first of which
 * is C.3's plaintext).  1 when everything agrees.
 */
static int
kq_vaes_selftest(void)
{
	static const uint8_t expect[16] = {0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67,
	    0x45, 0xbf, 0xea, 0xfc, 0x49, 0x90, 0x4b, 0x49, 0x60, 0x89};
	uint8_t key[32], rk[15 * 16], pt[16], ref[16], step[KQ_VAES_STEP];
	uint64_t ctr = 0x7766554433221100u, nonce = 0xffeeddccbbaa9988u, c;
	int i, ok;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 16; i++)
		pt[i] = (uint8_t)(i * 0x11);
	kq_aes256_expand(rk, key);
	kq_aes256_block(ref, rk, pt);
	ok = memcmp(ref, expect, sizeof(ref)) == 0;
	(void)kq_vaes_ctr(step, rk, ctr, nonce, 1);
	for (i = 0; i < 16; i++) {
		c = ctr + (uint64_t)i;
		memcpy(pt, &c, 8);
		memcpy(pt + 8, &nonce, 8);
		kq_aes256_block(ref, rk, pt);
		ok = ok && memcmp(ref, step + 16 * i, 16) == 0;
	}
	return ok;
}

static void
kq_vaes_probe(void)
{
	kq_vaes_ok = KQ_CPU(AES) && KQ_CPU(VAES) && KQ_CPU(AVX512F) &&
	    kq_vaes_selftest();
}

/* A fresh key and nonce for t from key (KQ_RAND_KEYIV bytes). */
static void
kq_vaes_key(struct kq_rand_tls *t, const uint8_t *key)
{
	kq_aes256_expand(t->rk, key);
	memcpy(&t->nonce, key + 32, sizeof(t->nonce));
	t->ctr = 0;
}

/* Large requests with VAES (see above).  n > 0. */
static int
kq_random_vaes(struct kq_rand_tls *t, uint8_t *p, size_t n)
{
	uint8_t buf[KQ_VAES_STEP];
	size_t c, steps;
	int r = KQ_ERR_RANDOM;

	while (n > 0) {
		if (t->left == 0) {
			if (kq_getrandom(buf, KQ_RAND_KEYIV) != KQ_OK)
				goto out;
			kq_vaes_key(t, buf);
			t->left = KQ_RAND_RESEED;
		}
		c = n < t->left ? n : t->left;
		steps = c / KQ_VAES_STEP;
		t->ctr = kq_vaes_ctr(p, t->rk, t->ctr, t->nonce, steps);
		if (c % KQ_VAES_STEP != 0) {
			t->ctr = kq_vaes_ctr(buf, t->rk, t->ctr, t->nonce, 1);
			memcpy(p + steps * KQ_VAES_STEP, buf, c % KQ_VAES_STEP);
			steps++;
		}
		t->left -= steps * KQ_VAES_STEP < t->left ? steps * KQ_VAES_STEP
		                                          : t->left;
		p += c;
		n -= c;
	}
	/* Erase the key that made this output: the next one is keystream. */
	t->ctr = kq_vaes_ctr(buf, t->rk, t->ctr, t->nonce, 1);
	kq_vaes_key(t, buf);
	r = KQ_OK;
out:
	kq_wipe(buf, sizeof(buf));
	if (r != KQ_OK)
		t->left = 0;
	return r;
}
#else
static void
kq_vaes_probe(void)
{
	kq_vaes_ok = 0;
}

static int
kq_random_vaes(struct kq_rand_tls *t, uint8_t *p, size_t n)
{
	(void)t;
	(void)p;
	(void)n;
	return KQ_ERR_RANDOM;
}
#endif

/* ---- AES-256-CTR through libcrypto ------------------------------------ */

static void
kq_evp_load(void)
{
	struct kq_evp *e = &kq_evp;
	const struct kq_dl_sym syms[] = {
	    {"EVP_CIPHER_CTX_new", KQ_DL_SLOT(e->ctx_new)},
	    {"EVP_CIPHER_CTX_free", KQ_DL_SLOT(e->ctx_free)},
	    {"EVP_aes_256_ctr", KQ_DL_SLOT(e->aes_256_ctr)},
	    {"EVP_EncryptInit_ex", KQ_DL_SLOT(e->init)},
	    {"EVP_EncryptUpdate", KQ_DL_SLOT(e->update)},
	};

	/* Never closed: contexts live until their thread ends. */
	kq_evp_loaded = kq_dl_load("libcrypto.so.3", syms,
	                    sizeof(syms) / sizeof(syms[0]), NULL) != NULL;
}

/* n keystream bytes of ctx into p.  1 on success. */
static int
kq_evp_stream(EVP_CIPHER_CTX *ctx, uint8_t *p, size_t n)
{
	size_t c;
	int outl;

	for (; n > 0; p += c, n -= c) {
		c = n < KQ_RAND_ZEROS ? n : KQ_RAND_ZEROS;
		if (kq_evp.update(ctx, p, &outl, kq_rand_zeros, (int)c) != 1)
			return 0;
	}
	return 1;
}

/* Large requests through libcrypto (see above).  n > 0. */
static int
kq_random_evp(struct kq_rand_tls *t, uint8_t *p, size_t n)
{
	uint8_t keyiv[KQ_RAND_KEYIV];
	size_t c;
	int r = KQ_ERR_RANDOM;

	if (t->ctx == NULL && (t->ctx = kq_evp.ctx_new()) == NULL)
		goto out;
	for (; n > 0; p += c, n -= c) {
		if (t->left == 0) {
			if (kq_getrandom(keyiv, sizeof(keyiv)) != KQ_OK ||
			    kq_evp.init(t->ctx, kq_evp.aes_256_ctr(), NULL,
			        keyiv, keyiv + 32) != 1)
				goto out;
			t->left = KQ_RAND_RESEED;
		}
		c = n < t->left ? n : t->left;
		if (!kq_evp_stream(t->ctx, p, c))
			goto out;
		t->left -= c;
	}
	/* Erase the key that made this output: the next one is keystream. */
	if (!kq_evp_stream(t->ctx, keyiv, sizeof(keyiv)) ||
	    kq_evp.init(t->ctx, NULL, NULL, keyiv, keyiv + 32) != 1)
		goto out;
	r = KQ_OK;
out:
	kq_wipe(keyiv, sizeof(keyiv));
	if (r != KQ_OK)
		t->left = 0;
	return r;
}

/* ---- the per-thread state, fork, thread exit -------------------------- */

/* Wipe and free a thread's state (the key's destructor). */
static void
kq_rand_tls_free(void *p)
{
	struct kq_rand_tls *t = p;

	if (t == NULL)
		return;
	if (t->ctx != NULL && kq_evp_loaded)
		kq_evp.ctx_free(t->ctx); /* cleanses the key schedule */
	kq_secfree(t);
}

static void
kq_rand_forked(void)
{
	struct kq_rand_tls *t = kq_tls;

	if (t == NULL)
		return;
	if (t->ctx != NULL && kq_evp_loaded)
		kq_evp.ctx_free(t->ctx);
	t->ctx = NULL;
	kq_wipe(t->pool, sizeof(t->pool));
	kq_wipe(t->rk, sizeof(t->rk));
	t->avail = 0;
	t->left = 0;
}

static void
kq_rand_setup(void)
{
	kq_rand_key_ok =
	    pthread_key_create(&kq_rand_key, kq_rand_tls_free) == 0;
	(void)pthread_atfork(NULL, NULL, kq_rand_forked);
	kq_vaes_probe();
}

/* This thread's state, made on first use; NULL when memory is short. */
static struct kq_rand_tls *
kq_rand_tls(void)
{
	struct kq_rand_tls *t;

	if (kq_tls != NULL || !kq_rand_key_ok)
		return kq_tls;
	if ((t = kq_secalloc(sizeof(*t))) == NULL)
		return NULL;
	if (pthread_setspecific(kq_rand_key, t) != 0) {
		kq_secfree(t);
		return NULL;
	}
	return kq_tls = t;
}

/* n bytes of ChaCha20 keystream under a fresh getrandom key. */
static int
kq_rand_refill(uint8_t *pool, size_t n)
{
	uint8_t key[crypto_stream_chacha20_KEYBYTES];
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
	int r;

	/* A fresh key per refill: the all-zero nonce is used once per key. */
	if ((r = kq_getrandom(key, sizeof(key))) == KQ_OK)
		crypto_stream_chacha20(pool, n, nonce, key);
	kq_wipe(key, sizeof(key));
	return r;
}

/* A request too large for the pool (or with no state to serve it). */
static int
kq_random_large(struct kq_rand_tls *t, uint8_t *p, size_t n)
{
	int r;

	if (t != NULL && kq_vaes_ok) {
		r = kq_random_vaes(t, p, n);
	} else {
		(void)pthread_once(&kq_evp_once, kq_evp_load);
		if (t != NULL && kq_evp_loaded)
			r = kq_random_evp(t, p, n);
		else
			r = kq_rand_refill(p, n);
	}
	if (r != KQ_OK)
		kq_wipe(p, n);
	return r;
}

int
kq_random(void *buf, size_t n)
{
	struct kq_rand_tls *t;
	uint8_t *src;
	int r;

	if (n == 0)
		return KQ_OK;
	if (n <= KQ_RAND_SMALL && kq_tls == NULL &&
	    kq_tls_direct < KQ_RAND_DIRECT) {
		kq_tls_direct++;
		if ((r = kq_getrandom(buf, n)) != KQ_OK)
			kq_wipe(buf, n);
		return r;
	}
	(void)pthread_once(&kq_rand_once, kq_rand_setup);
	t = kq_rand_tls();
	if (n > KQ_RAND_SMALL || t == NULL)
		return kq_random_large(t, buf, n);
	if (t->avail < n) {
		if (kq_rand_refill(t->pool, KQ_RAND_POOL) != KQ_OK) {
			t->avail = 0;
			kq_wipe(buf, n);
			return KQ_ERR_RANDOM;
		}
		t->avail = KQ_RAND_POOL;
	}
	src = t->pool + (KQ_RAND_POOL - t->avail);
	memcpy(buf, src, n);
	kq_wipe(src, n);
	t->avail -= n;
	return KQ_OK;
}
