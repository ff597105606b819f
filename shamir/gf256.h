/*
 * keyquorum: GF(2^8) arithmetic for shamir/ (private header).
 *
 * The field is GF(2)[x]/(x^8+x^4+x^3+x+1), polynomial 0x11B (AES's, and
 * the one GFNI's vgf2p8mulb implements).  Addition is XOR.
 *
 * Constant time: every function here takes the same path and touches the
 * same addresses whatever the byte values (of data, multipliers and
 * weights); only lengths and counts, which are public, steer loops.
 *
 * The vector operations come in several kernels (portable C, SSSE3 and AVX2
 * nibble tables, GFNI) that give identical results; gf256_kernel() returns
 * the one in force.
 */
#ifndef KQ_SHAMIR_GF256_H
#define KQ_SHAMIR_GF256_H

#include <stddef.h>
#include <stdint.h>

#include "shamir/shamir.h"

struct gf256_kernel {
	enum shamir_kernel id; /* the public kernel this implements */
	const char *name; /* "gfni-avx512", "avx2", ... */
	int (*usable)(void); /* nonzero when the CPU (and OS) run it */

	/*
	 * Polynomial evaluation, Horner's rule, byte-wise:
	 * out[b] = sum over r < nrows of rows[r][b] * x^r, for b < len.
	 * 1 <= nrows <= SHAMIR_MAX_PARTS.  out must not overlap rows.
	 */
	void (*eval)(uint8_t *out, const uint8_t *const *rows, size_t nrows,
	    uint8_t x, size_t len);

	/*
	 * Linear combination: out[b] = sum over i < k of w[i] * in[i][b].
	 * 1 <= k <= SHAMIR_MAX_PARTS.  out must not overlap in.
	 */
	void (*lincomb)(uint8_t *out, const uint8_t *const *in,
	    const uint8_t *w, size_t k, size_t len);

	/*
	 * lincomb for outputs larger than the caches: the same bytes, but
	 * whole 64-byte lines of out written with streaming (non-temporal)
	 * stores, which skip reading each line before writing it, and a
	 * store fence at the end.  NULL when the kernel has none.
	 */
	void (*lincomb_stream)(uint8_t *out, const uint8_t *const *in,
	    const uint8_t *w, size_t k, size_t len);

	/*
	 * The check of a linear combination against ref without storing it:
	 * the OR over b < len of (sum over i < k of w[i] * in[i][b]) ^
	 * ref[b], folded to one byte (0 iff equal).  No early exit.  NULL
	 * when the kernel has none: lincomb then gf256_diff do the same.
	 */
	uint8_t (*lincomb_diff)(const uint8_t *ref, const uint8_t *const *in,
	    const uint8_t *w, size_t k, size_t len);

	/*
	 * eval at nout points at once: outs[j] gets the evaluation at xs[j].
	 * Kernels that can keep a chunk of every row in registers or L1 read
	 * each row once for all points.  Same limits as eval.
	 */
	void (*eval_multi)(uint8_t *const *outs, const uint8_t *xs, size_t nout,
	    const uint8_t *const *rows, size_t nrows, size_t len);

	/* Element-wise product: z[i] = a[i] * b[i].  z may alias a or b. */
	void (*mul)(uint8_t *z, const uint8_t *a, const uint8_t *b, size_t n);

	/*
	 * Lagrange weights at 0: w[i] = prod over j != i of
	 * x[j] / (x[i] ^ x[j]), for n <= SHAMIR_MAX_PARTS distinct nonzero
	 * x.  Combining n points y[i] gives sum of w[i] * y[i].
	 */
	void (*lagrange)(const uint8_t *x, size_t n, uint8_t *w);
};

/* eval_multi() as one eval() per point. */
void gf256_eval_multi_with(
    void (*eval)(uint8_t *, const uint8_t *const *, size_t, uint8_t, size_t),
    uint8_t *const *outs, const uint8_t *xs, size_t nout,
    const uint8_t *const *rows, size_t nrows, size_t len);

/* lagrange() through any element-wise multiply (all lanes at once). */
void gf256_lagrange_with(
    void (*mul)(uint8_t *, const uint8_t *, const uint8_t *, size_t),
    const uint8_t *x, size_t n, uint8_t *w);

/* The kernel in force (forced by gf256_kernel_force, else the fastest). */
const struct gf256_kernel *gf256_kernel(void);

/*
 * Every kernel built in, usable on this CPU or not, fastest first;
 * *n gets the count.  For tests and benchmarks.
 */
const struct gf256_kernel *const *gf256_kernel_list(size_t *n);

/* Force k (NULL: back to automatic).  Not thread-safe. */
void gf256_kernel_force(const struct gf256_kernel *k);

/* Scalar reference operations (constant time). */
uint8_t gf256_mul(uint8_t a, uint8_t b);
uint8_t gf256_inv(uint8_t a); /* a^254; 0 maps to 0 */

/*
 * OR of (a[i] ^ b[i]) over n bytes, folded to one byte: 0 iff equal.
 * No early exit.
 */
uint8_t gf256_diff(const uint8_t *a, const uint8_t *b, size_t n);

/* The portable kernel's primitives, which the SIMD kernels use for tails. */
void gf256_eval_portable(uint8_t *out, const uint8_t *const *rows, size_t nrows,
    uint8_t x, size_t len);
void gf256_lincomb_portable(uint8_t *out, const uint8_t *const *in,
    const uint8_t *w, size_t k, size_t len);
void gf256_mul_portable(
    uint8_t *z, const uint8_t *a, const uint8_t *b, size_t n);

/*
 * Tail helpers: the same operations on bytes [off, len) of each row, used
 * by the SIMD kernels for what is left after their last full vector.
 */
void gf256_eval_tail(uint8_t *out, const uint8_t *const *rows, size_t nrows,
    uint8_t x, size_t off, size_t len);
void gf256_lincomb_tail(uint8_t *out, const uint8_t *const *in,
    const uint8_t *w, size_t k, size_t off, size_t len);

/* The kernels (gf256.c and gf256_x86.c). */
extern const struct gf256_kernel gf256_kernel_portable;
extern const struct gf256_kernel gf256_kernel_ssse3;
extern const struct gf256_kernel gf256_kernel_avx2;
extern const struct gf256_kernel gf256_kernel_gfni256;
extern const struct gf256_kernel gf256_kernel_gfni512;

#endif
