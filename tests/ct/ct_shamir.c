/*
 * ct_shamir: the constant-time check of shamir/, the ctgrind method, in
 * two builds of this one program:
 *
 * - ct_shamir, run under valgrind's memcheck by
 *   tests/integration/ct-valgrind.sh: secret bytes are marked undefined,
 *   and memcheck reports any conditional jump, move or memory address that
 *   depends on them.  valgrind 3.19 emulates a CPU without GFNI, AVX-512
 *   or VAES, so only the kernels it offers are checked there.
 * - ct_shamir_msan (-DKQ_CTMSAN, clang -fsanitize=memory), run by
 *   tests/integration/ct-msan.sh: the same bytes are poisoned in
 *   MemorySanitizer's shadow, which reports a branch or an address that
 *   depends on them.  It runs natively, so it checks every kernel the CPU
 *   offers.  It links shamir/ alone (small stand-ins for src/common below):
 *   MSan needs all the code it watches to be instrumented.
 *
 * The secret, every random byte split draws (kq_random is wrapped with
 * -Wl,--wrap=kq_random, or replaced in the MSan build) and every share
 * given to combine are secret.  shamir/ is compiled with -DKQ_CTGRIND or
 * -DKQ_CTMSAN, so the few values that legitimately become public (the
 * returned error code, the self-check verdict) are marked so at the point
 * where they do.  This program marks outputs public again only to compare
 * them with what it expects.
 *
 *   ct_shamir[_msan]                  check every kernel that can run
 *   ct_shamir[_msan] --list           the kernels, and which CPUID offers
 *   ct_shamir[_msan] --negative-branch | --negative-index
 *                                     a deliberate leak that must be reported
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"
#include "shamir/gf256.h"
#include "shamir/shamir.h"

#include "tests/ct/ct.h"

#ifdef KQ_CTMSAN
#include <sys/random.h>

/* Plain getrandom(2): the bytes only need to be unpredictable to shamir. */
static int
raw_random(void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if ((r = getrandom((uint8_t *)buf + got, n - got, 0)) <= 0)
			return KQ_ERR_RANDOM;
		got += (size_t)r;
	}
	return KQ_OK;
}

/* src/common's functions shamir/ calls, for the MSan build alone. */
int
kq_random(void *buf, size_t n)
{
	int r = raw_random(buf, n);

	SECRET(buf, n);
	return r;
}

void *
kq_secalloc(size_t n)
{
	return calloc(1, n == 0 ? 1 : n);
}

void
kq_wipe(void *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
}

void
kq_secfree(void *p)
{
	free(p);
}

int
kq_secmem_init(void)
{
	return KQ_OK;
}
#else
int __real_kq_random(void *buf, size_t n);
int __wrap_kq_random(void *buf, size_t n);

/* Every random byte the library draws is a secret. */
int
__wrap_kq_random(void *buf, size_t n)
{
	int r = __real_kq_random(buf, n);

	SECRET(buf, n);
	return r;
}

static int
raw_random(void *buf, size_t n)
{
	return __real_kq_random(buf, n);
}
#endif

static int failures;

static void
report(int ok, const char *what, const char *kname, size_t len, unsigned k,
    unsigned n)
{
	printf("%s - ct %s kernel=%s len=%zu %u-of-%u\n", ok ? "ok" : "not ok",
	    what, kname, len, k, n);
	if (!ok)
		failures++;
}

/* Split, then combine the last k shares, all with secret inputs. */
static void
check_roundtrip(const char *kname, size_t len, unsigned k, unsigned n)
{
	uint8_t *secret = malloc(len), *out = malloc(len);
	uint8_t *mem = malloc((size_t)n * (len + 1));
	uint8_t *shares[SHAMIR_MAX_PARTS];
	const uint8_t *pick[SHAMIR_MAX_PARTS];
	int r, ok;
	unsigned i;

	if (secret == NULL || out == NULL || mem == NULL)
		abort();
	for (i = 0; i < n; i++)
		shares[i] = mem + (size_t)i * (len + 1);
	(void)raw_random(secret, len);

	SECRET(secret, len);
	r = shamir_split(secret, len, k, n, shares);
	ok = r == KQ_OK;

	for (i = 0; i < k; i++)
		pick[i] = shares[n - 1 - i];
	SECRET(mem, (size_t)n * (len + 1));
	r = shamir_combine(pick, k, len + 1, out);
	ok = ok && r == KQ_OK;

	PUBLIC(secret, len);
	PUBLIC(out, len);
	ok = ok && memcmp(secret, out, len) == 0;
	report(ok, "split+combine", kname, len, k, n);
	free(secret);
	free(out);
	free(mem);
}

/* Combine's rejections, with the x-coordinates secret. */
static void
check_rejections(const char *kname)
{
	uint8_t a[33], b[33], c[33], out[32];
	const uint8_t *p[3] = {a, b, c};
	size_t lens[3] = {33, 33, 33};
	int r1, r2, r3;

	(void)raw_random(a, sizeof(a));
	memcpy(b, a, sizeof(b)); /* same x as a */
	memcpy(c, a, sizeof(c));
	a[32] = 9;
	b[32] = 9;
	c[32] = 0;
	SECRET(a, sizeof(a));
	SECRET(b, sizeof(b));
	SECRET(c, sizeof(c));
	r1 = shamir_combine(p, 2, 33, out); /* repeated x */
	r2 = shamir_combine(p + 1, 2, 33, out); /* zero x */
	r3 = shamir_check_shares(p, lens, 3);
	report(r1 == KQ_ERR_SHAMIR_DUP_X && r2 == KQ_ERR_SHAMIR_ZERO_X &&
	        r3 == KQ_ERR_SHAMIR_ZERO_X,
	    "rejections", kname, 32, 2, 3);
}

static void
check_kernel(const struct gf256_kernel *k)
{
	static const size_t lens[] = {
	    1, 32, 33, 100, 70000}; /* 70000: 3 blocks */
	static const unsigned kn[][2] = {{2, 2}, {3, 5}, {5, 10}};
	size_t i, j;

	gf256_kernel_force(k);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (j = 0; j < sizeof(kn) / sizeof(kn[0]); j++)
			check_roundtrip(k->name, lens[i], kn[j][0], kn[j][1]);
#ifdef KQ_CTMSAN
	/* Natively fast enough for combine's streaming-store path (4 MiB+). */
	check_roundtrip(k->name, ((size_t)4 << 20) + 5, 3, 5);
#endif
	check_rejections(k->name);
	gf256_kernel_force(NULL);
}

/* ---- negative controls: the checker must report these -------------- */

static int
negative(const char *which)
{
	uint8_t s[1];

	(void)raw_random(s, 1);
	return ct_negative(which, s) ? 0 : 2;
}

int
main(int argc, char **argv)
{
	const struct gf256_kernel *const *ks;
	size_t n, i, checked = 0;

	if (kq_secmem_init() != KQ_OK)
		return 2;
	ks = gf256_kernel_list(&n);
	if (argc == 2 && strncmp(argv[1], "--negative-", 11) == 0)
		return negative(argv[1]);
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < n; i++)
			printf("%s %s\n", ks[i]->name,
			    ks[i]->usable() ? "usable" : "unavailable");
		return 0;
	}
	printf("# checker: %s\n", CT_TOOL);
	for (i = 0; i < n; i++) {
		if (!ks[i]->usable()) {
			printf("# kernel %s: not offered by this CPU "
			       "(as %s sees it), not checked\n",
			    ks[i]->name, CT_TOOL);
			continue;
		}
		printf("# kernel %s: checking\n", ks[i]->name);
		check_kernel(ks[i]);
		checked++;
	}
	if (checked == 0)
		failures++;
	return failures == 0 ? 0 : 1;
}
