/*
 * keyquorum: GF(2^8) (0x11B), portable kernel and scalar reference.
 *
 * Constant time: products are computed by shift-and-XOR on 64-bit words,
 * eight byte lanes at once (SWAR).  Each bit of a multiplier becomes an
 * all-ones or all-zero mask by arithmetic, never by a branch, and no table
 * is indexed by any byte.  Loops run over lengths and counts only, which
 * are public.  Lanes never carry into each other, so the code is the same
 * on either byte order.
 */
#include "shamir/gf256.h"

#include <string.h>

#include "common/secmem.h"

#define LANES_01 0x0101010101010101ULL
#define LANES_7F 0x7f7f7f7f7f7f7f7fULL

static inline uint64_t
load64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static inline void
store64(uint8_t *p, uint64_t w)
{
	memcpy(p, &w, sizeof(w));
}

/* The first n < 8 bytes at p in a zero-padded word. */
static inline uint64_t
loadn(const uint8_t *p, size_t n)
{
	uint64_t w = 0;

	memcpy(&w, p, n);
	return w;
}

static inline void
storen(uint8_t *p, uint64_t w, size_t n)
{
	memcpy(p, &w, n);
}

/* Multiply every lane by x (the polynomial "2"), reducing by 0x11B. */
static inline uint64_t
xtime64(uint64_t w)
{
	uint64_t carry = (w >> 7) & LANES_01;

	return ((w & LANES_7F) << 1) ^ (carry * 0x1b);
}

/* Every lane of w times the constant c. */
static inline uint64_t
mulc64(uint64_t w, uint8_t c)
{
	uint64_t r = 0;
	int b;

	for (b = 0; b < 8; b++) {
		r ^= w & (0 - (uint64_t)((c >> b) & 1));
		w = xtime64(w);
	}
	return r;
}

/* Lane-wise product of a and b. */
static inline uint64_t
mul64(uint64_t a, uint64_t b)
{
	uint64_t r = 0;
	int i;

	for (i = 0; i < 8; i++) {
		r ^= a & (((b >> i) & LANES_01) * 0xff);
		a = xtime64(a);
	}
	return r;
}

uint8_t
gf256_mul(uint8_t a, uint8_t b)
{
	return (uint8_t)mul64(a, b);
}

uint8_t
gf256_inv(uint8_t a)
{
	/* a^254 = a^-1 for a != 0: a^2 a^4 ... a^128. */
	uint8_t sq = a, r = 1;
	int i;

	for (i = 0; i < 7; i++) {
		sq = gf256_mul(sq, sq);
		r = gf256_mul(r, sq);
	}
	return r;
}

uint8_t
gf256_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
	size_t i = 0;

	/* four independent accumulators: the loop runs at load speed */
	for (; i + 32 <= n; i += 32) {
		acc0 |= load64(a + i) ^ load64(b + i);
		acc1 |= load64(a + i + 8) ^ load64(b + i + 8);
		acc2 |= load64(a + i + 16) ^ load64(b + i + 16);
		acc3 |= load64(a + i + 24) ^ load64(b + i + 24);
	}
	for (; i + 8 <= n; i += 8)
		acc0 |= load64(a + i) ^ load64(b + i);
	if (i < n)
		acc0 |= loadn(a + i, n - i) ^ loadn(b + i, n - i);
	acc0 |= acc1 | acc2 | acc3;
	acc0 |= acc0 >> 32;
	acc0 |= acc0 >> 16;
	acc0 |= acc0 >> 8;
	return (uint8_t)acc0;
}

void
gf256_eval_tail(uint8_t *out, const uint8_t *const *rows, size_t nrows,
    uint8_t x, size_t off, size_t len)
{
	size_t i = off, r, n;
	uint64_t acc;

	for (; i + 8 <= len; i += 8) {
		acc = load64(rows[nrows - 1] + i);
		for (r = nrows - 1; r-- > 0;)
			acc = mulc64(acc, x) ^ load64(rows[r] + i);
		store64(out + i, acc);
	}
	if (i < len) {
		n = len - i;
		acc = loadn(rows[nrows - 1] + i, n);
		for (r = nrows - 1; r-- > 0;)
			acc = mulc64(acc, x) ^ loadn(rows[r] + i, n);
		storen(out + i, acc, n);
	}
}

void
gf256_lincomb_tail(uint8_t *out, const uint8_t *const *in, const uint8_t *w,
    size_t k, size_t off, size_t len)
{
	size_t i = off, j, n;
	uint64_t acc;

	for (; i + 8 <= len; i += 8) {
		acc = 0;
		for (j = 0; j < k; j++)
			acc ^= mulc64(load64(in[j] + i), w[j]);
		store64(out + i, acc);
	}
	if (i < len) {
		n = len - i;
		acc = 0;
		for (j = 0; j < k; j++)
			acc ^= mulc64(loadn(in[j] + i, n), w[j]);
		storen(out + i, acc, n);
	}
}

void
gf256_eval_portable(uint8_t *out, const uint8_t *const *rows, size_t nrows,
    uint8_t x, size_t len)
{
	gf256_eval_tail(out, rows, nrows, x, 0, len);
}

void
gf256_lincomb_portable(uint8_t *out, const uint8_t *const *in, const uint8_t *w,
    size_t k, size_t len)
{
	gf256_lincomb_tail(out, in, w, k, 0, len);
}

void
gf256_mul_portable(uint8_t *z, const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i = 0, m;

	for (; i + 8 <= n; i += 8)
		store64(z + i, mul64(load64(a + i), load64(b + i)));
	if (i < n) {
		m = n - i;
		storen(z + i, mul64(loadn(a + i, m), loadn(b + i, m)), m);
	}
}

void
gf256_lagrange_with(
    void (*mul)(uint8_t *, const uint8_t *, const uint8_t *, size_t),
    const uint8_t *x, size_t n, uint8_t *w)
{
	/* nd: numerators then denominators; t: this step's factors */
	uint8_t nd[2 * SHAMIR_MAX_PARTS], t[2 * SHAMIR_MAX_PARTS];
	uint8_t *den = nd + n, *a = t, *b = t + n;
	size_t i, j;

	memset(nd, 1, 2 * n);
	for (j = 0; j < n; j++) {
		memset(t, x[j], n);
		for (i = 0; i < n; i++)
			t[n + i] = x[i] ^ x[j];
		t[j] = 1;
		t[n + j] = 1;
		mul(nd, nd, t, 2 * n);
	}
	/* den^254 = den^-1 by the chain 2 3 6 12 15 30 60 63 126 127 254 */
	mul(a, den, den, n);
	mul(b, a, den, n);
	mul(a, b, b, n);
	mul(a, a, a, n);
	mul(a, a, b, n);
	mul(a, a, a, n);
	mul(a, a, a, n);
	mul(a, a, b, n);
	mul(a, a, a, n);
	mul(a, a, den, n);
	mul(a, a, a, n);
	mul(w, nd, a, n);
	kq_wipe(nd, 2 * n);
	kq_wipe(t, 2 * n);
}

void
gf256_eval_multi_with(
    void (*eval)(uint8_t *, const uint8_t *const *, size_t, uint8_t, size_t),
    uint8_t *const *outs, const uint8_t *xs, size_t nout,
    const uint8_t *const *rows, size_t nrows, size_t len)
{
	size_t j;

	for (j = 0; j < nout; j++)
		eval(outs[j], rows, nrows, xs[j], len);
}

static void
eval_multi_portable(uint8_t *const *outs, const uint8_t *xs, size_t nout,
    const uint8_t *const *rows, size_t nrows, size_t len)
{
	gf256_eval_multi_with(
	    gf256_eval_portable, outs, xs, nout, rows, nrows, len);
}

static void
lagrange_portable(const uint8_t *x, size_t n, uint8_t *w)
{
	gf256_lagrange_with(gf256_mul_portable, x, n, w);
}

static int
usable_always(void)
{
	return 1;
}

const struct gf256_kernel gf256_kernel_portable = {
    .id = SHAMIR_KERNEL_PORTABLE,
    .name = "portable",
    .usable = usable_always,
    .eval = gf256_eval_portable,
    .lincomb = gf256_lincomb_portable,
    .eval_multi = eval_multi_portable,
    .mul = gf256_mul_portable,
    .lagrange = lagrange_portable,
};
