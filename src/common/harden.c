/* keyquorum: process hardening at start, and the CSPRNG. */
#include "common/harden.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sodium.h>

#include "common/err.h"
#include "common/secmem.h"

int
kq_harden_process(void)
{
	struct rlimit rl = {0, 0};
	int fd;

	umask(077);
	/* No core dumps, not even by a privileged debugger attach. */
	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		return KQ_ERR_PERM;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return KQ_ERR_PERM;
	/* Make sure 0, 1, 2 are open so no secret file lands on them. */
	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2)
		(void)fcntl(fd, F_SETFD, 0);
	if (fd > 2)
		close(fd);
	return KQ_OK;
}

/*
 * Small requests are served from a per-thread pool of KQ_RAND_POOL bytes
 * of ChaCha20 keystream under a key drawn from getrandom(2) for each
 * refill (libsodium's crypto_stream_chacha20; the key is wiped at once):
 * OpenSSL's per-call overhead (a getpid(2) and locking, about 0.7 us)
 * would otherwise dominate a 32-byte split, and initialising OpenSSL's
 * DRBG (reading openssl.cnf, loading providers: about 1.5 ms) would
 * dominate an offline verb's start-up.  Each byte is handed out once and
 * wiped from the pool as it is; a fork wipes the child's pool
 * (pthread_atfork) so parent and child never share bytes.  Large
 * requests go to RAND_bytes directly (about 5 GB/s with big requests,
 * where ChaCha20 here does about 2).
 */
#define KQ_RAND_POOL 16384
#define KQ_RAND_SMALL 1024

static __thread uint8_t *kq_rand_pool;
static __thread size_t kq_rand_avail;
static pthread_once_t kq_rand_once = PTHREAD_ONCE_INIT;

static void
kq_rand_forked(void)
{
	if (kq_rand_pool != NULL)
		kq_wipe(kq_rand_pool, KQ_RAND_POOL);
	kq_rand_avail = 0;
}

static void
kq_rand_setup(void)
{
	(void)pthread_atfork(NULL, NULL, kq_rand_forked);
}

static int
kq_random_direct(uint8_t *p, size_t n)
{
	uint8_t *start = p;
	size_t total = n;

	/* RAND_bytes takes an int: feed it in chunks. */
	while (n > 0) {
		size_t chunk = n > (1u << 30) ? (1u << 30) : n;

		if (RAND_bytes(p, (int)chunk) != 1) {
			kq_wipe(start, total);
			return KQ_ERR_RANDOM;
		}
		p += chunk;
		n -= chunk;
	}
	return KQ_OK;
}

/* KQ_RAND_POOL bytes of ChaCha20 keystream under a fresh getrandom key. */
static int
kq_rand_refill(uint8_t *pool, size_t n)
{
	uint8_t key[crypto_stream_chacha20_KEYBYTES];
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
	size_t got = 0;
	ssize_t r;

	while (got < sizeof(key)) {
		r = getrandom(key + got, sizeof(key) - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			kq_wipe(key, sizeof(key));
			return KQ_ERR_RANDOM;
		}
		got += (size_t)r;
	}
	/* A fresh key per refill: the all-zero nonce is used once per key. */
	crypto_stream_chacha20(pool, n, nonce, key);
	kq_wipe(key, sizeof(key));
	return KQ_OK;
}

int
kq_random(void *buf, size_t n)
{
	uint8_t *src;

	if (n > KQ_RAND_SMALL)
		return kq_random_direct(buf, n);
	(void)pthread_once(&kq_rand_once, kq_rand_setup);
	if (kq_rand_pool == NULL &&
	    (kq_rand_pool = kq_secalloc(KQ_RAND_POOL)) == NULL)
		return kq_random_direct(buf, n);
	if (kq_rand_avail < n) {
		if (kq_rand_refill(kq_rand_pool, KQ_RAND_POOL) != KQ_OK) {
			kq_rand_avail = 0;
			kq_wipe(buf, n);
			return KQ_ERR_RANDOM;
		}
		kq_rand_avail = KQ_RAND_POOL;
	}
	src = kq_rand_pool + (KQ_RAND_POOL - kq_rand_avail);
	memcpy(buf, src, n);
	kq_wipe(src, n);
	kq_rand_avail -= n;
	return KQ_OK;
}

/* Bytes of stack below the caller wiped by kq_scrub_stack(). */
#define KQ_SCRUB_STACK_BYTES (256 * 1024)

#if defined(__x86_64__)
__attribute__((target("avx"))) static void
kq_clear_ymm(void)
{
	__asm__ volatile("vzeroall" ::: "memory");
}

__attribute__((target("avx512f"))) static void
kq_clear_zmm_high(void)
{
	/* vzeroall leaves zmm16..31 alone; the AVX-512 kernels may use them. */
	__asm__ volatile("vpxord %%zmm16, %%zmm16, %%zmm16\n\t"
	                 "vpxord %%zmm17, %%zmm17, %%zmm17\n\t"
	                 "vpxord %%zmm18, %%zmm18, %%zmm18\n\t"
	                 "vpxord %%zmm19, %%zmm19, %%zmm19\n\t"
	                 "vpxord %%zmm20, %%zmm20, %%zmm20\n\t"
	                 "vpxord %%zmm21, %%zmm21, %%zmm21\n\t"
	                 "vpxord %%zmm22, %%zmm22, %%zmm22\n\t"
	                 "vpxord %%zmm23, %%zmm23, %%zmm23\n\t"
	                 "vpxord %%zmm24, %%zmm24, %%zmm24\n\t"
	                 "vpxord %%zmm25, %%zmm25, %%zmm25\n\t"
	                 "vpxord %%zmm26, %%zmm26, %%zmm26\n\t"
	                 "vpxord %%zmm27, %%zmm27, %%zmm27\n\t"
	                 "vpxord %%zmm28, %%zmm28, %%zmm28\n\t"
	                 "vpxord %%zmm29, %%zmm29, %%zmm29\n\t"
	                 "vpxord %%zmm30, %%zmm30, %%zmm30\n\t"
	                 "vpxord %%zmm31, %%zmm31, %%zmm31" ::
	                     : "memory");
}
#endif

__attribute__((noinline)) static void
kq_scrub_stack_area(void)
{
	uint8_t area[KQ_SCRUB_STACK_BYTES];

	sodium_memzero(area, sizeof(area));
	__asm__ volatile("" : : "r"(area) : "memory");
}

void
kq_scrub_stack(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		kq_clear_zmm_high();
	if (__builtin_cpu_supports("avx"))
		kq_clear_ymm();
#endif
	kq_scrub_stack_area();
}
