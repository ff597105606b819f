/*
 * keyquorum: Vault-compatible Shamir secret sharing over GF(2^8) (0x11B).
 *
 * Split draws, per secret byte, threshold-1 random coefficients and
 * evaluates the polynomial at each share's x; combine evaluates the
 * Lagrange interpolation at 0.  See shamir.h for the share layout.
 *
 * Constant time.  No branch and no memory address depends on a secret
 * byte, a random coefficient or an x-coordinate:
 * - the arithmetic is in the kernels (gf256.h), which are constant time;
 * - x-coordinates are drawn by Floyd's algorithm and a Fisher-Yates shuffle
 *   whose membership tests and swaps go through every entry with masks;
 * - Lagrange weights are products and an inversion (a^254), lane-parallel,
 *   in the kernels;
 * - zero and repeated x are found by accumulating flags over every pair,
 *   without early exit; the only branch is on the final error code, which
 *   is returned anyway, and so is public (CT_DECLASSIFY marks it);
 * - split's self-check ORs the differences over the whole secret (in the
 *   kernel's lincomb_diff where it has one, which recombines and compares
 *   in registers) and branches once on the result.
 * Loops run over lengths, counts and indices, which are public.
 *
 * Memory.  Split works in blocks, so the random coefficients of a block
 * stay in L1/L2 while every share is evaluated and then a threshold subset
 * is recombined and compared.  Random bytes are drawn once per block, never
 * per byte.  The coefficients live in kq_secalloc memory, or, for small
 * secrets (under SPLIT_STACK bytes of scratch), on the stack, since a
 * guarded allocation costs tens of microseconds; either way they are wiped
 * before returning.
 */
#include "shamir/shamir.h"

#include <string.h>

#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"
#include "shamir/ct.h"
#include "shamir/gf256.h"

/* Random bytes per x-coordinate: one 64-bit uniform to pick, one to shuffle. */
#define XKEY_BYTES 16
/* Secret bytes per block, and the most coefficient bytes per block. */
#define SPLIT_BLOCK (32u * 1024)
#define SPLIT_COEF_MAX (256u * 1024)
#define SPLIT_BLOCK_MIN 1024u
/* Scratch up to this size is a stack buffer (wiped), beyond it secure heap. */
#define SPLIT_STACK 4096u
/*
 * Combine writes a secret of this size or more with streaming stores
 * (lincomb_stream): larger than L2, it would leave the cache anyway, and
 * the stores then skip reading every line of it first (about 15% of the
 * memory traffic, at 3-of-5).  Split does not: its self-check reads back
 * the shares it has just written, from the cache.
 */
#define COMBINE_STREAM_MIN (4u * 1024 * 1024)

__extension__ typedef unsigned __int128 u128;

/* ---- constant-time helpers ------------------------------------------- */

/* 1 when v is 0, else 0. */
static inline uint32_t
ct_is_zero8(uint8_t v)
{
	return ((uint32_t)v - 1) >> 31;
}

/* flag ? a : b, for flag 0 or 1, without a branch. */
static inline int
ct_select(uint32_t flag, int a, int b)
{
	uint32_t m = 0 - flag;

	return (int)(((uint32_t)a & m) | ((uint32_t)b & ~m));
}

/* ---- x-coordinates ---------------------------------------------------- */

/* 1 when a == b (both below 2^31), else 0. */
static inline uint32_t
ct_eq(uint32_t a, uint32_t b)
{
	return ((a ^ b) - 1) >> 31;
}

/* Uniform in [0, m) from 8 random bytes: multiply-shift, bias below 2^-56. */
static inline uint32_t
uniform_below(const uint8_t *rnd, uint32_t m)
{
	uint64_t r;

	memcpy(&r, rnd, sizeof(r));
	return (uint32_t)(((u128)r * m) >> 64);
}

/*
 * xs[0..parts) = distinct x-coordinates in uniformly random order, like the
 * first parts entries of Vault's random permutation of 1..255, from
 * parts * XKEY_BYTES random bytes.
 *
 * First Floyd's algorithm picks a uniformly random parts-subset of 1..255:
 * step i draws t in [1, c] (c = 256 - parts + i) and keeps t, or c when t
 * was already picked.  Then Fisher-Yates shuffles the picks.  Membership
 * tests and swaps compare against every earlier entry and select with
 * masks, so no branch or address depends on a drawn value; the cost is
 * O(parts^2) byte operations.
 */
static void
xcoords_draw(uint8_t *xs, unsigned parts, const uint8_t *rnd)
{
	uint32_t c, t, member, r, v, d, m;
	unsigned i, j;

	for (i = 0; i < parts; i++) {
		c = 256 - parts + i;
		t = 1 + uniform_below(rnd + XKEY_BYTES * i, c);
		member = 0;
		for (j = 0; j < i; j++)
			member |= ct_eq(xs[j], t);
		m = 0 - member;
		xs[i] = (uint8_t)((c & m) | (t & ~m));
	}
	for (i = parts; i-- > 1;) {
		r = uniform_below(rnd + XKEY_BYTES * i + 8, i + 1);
		v = xs[i];
		for (j = 0; j < i; j++) {
			d = (xs[j] ^ v) & (0 - ct_eq(j, r));
			xs[j] ^= (uint8_t)d;
			v ^= d;
		}
		xs[i] = (uint8_t)v;
	}
}

/* ---- checks ----------------------------------------------------------- */

/*
 * Gather the x-coordinates (last byte of each share; share i is lens[i]
 * bytes, or len when lens is NULL) into xs[0..min(n, 255)) and check them:
 * KQ_OK, KQ_ERR_SHAMIR_ZERO_X or KQ_ERR_SHAMIR_DUP_X (zero wins).  Every
 * pair is compared whatever is found.  n >= 2.
 */
static int
xs_check(const uint8_t *const *shares, const size_t *lens, size_t len, size_t n,
    uint8_t *xs)
{
	uint32_t zero = 0, dup = 0;
	size_t i, j;
	uint8_t x;
	int r;

	for (i = 0; i < n; i++) {
		x = shares[i][(lens != NULL ? lens[i] : len) - 1];
		zero |= ct_is_zero8(x);
		if (i < SHAMIR_MAX_PARTS)
			xs[i] = x;
	}
	if (n > SHAMIR_MAX_PARTS) {
		/* 256 or more values in 1..255: one repeats. */
		dup = 1;
	} else {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				dup |= ct_is_zero8(xs[i] ^ xs[j]);
	}
	r = ct_select(zero, KQ_ERR_SHAMIR_ZERO_X,
	    ct_select(dup, KQ_ERR_SHAMIR_DUP_X, KQ_OK));
	CT_DECLASSIFY(&r, sizeof(r));
	return r;
}

int
shamir_check_shares(const uint8_t *const *shares, const size_t *lens, size_t n)
{
	uint8_t xs[SHAMIR_MAX_PARTS];
	size_t i;
	int r = KQ_ERR_INVALID;

	if (shares == NULL || lens == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (shares[i] == NULL)
			goto out;
	r = KQ_ERR_SHAMIR_TOO_FEW;
	if (n < 2)
		goto out;
	r = KQ_ERR_SHAMIR_SHORT;
	for (i = 0; i < n; i++)
		if (lens[i] < 2)
			goto out;
	r = KQ_ERR_SHAMIR_LENGTH;
	for (i = 1; i < n; i++)
		if (lens[i] != lens[0])
			goto out;
	r = xs_check(shares, lens, 0, n, xs);
out:
	kq_wipe(xs, sizeof(xs));
	return r;
}

/* ---- combine ---------------------------------------------------------- */

int
shamir_combine(
    const uint8_t *const *shares, size_t n, size_t share_len, uint8_t *secret)
{
	const struct gf256_kernel *k = gf256_kernel();
	uint8_t xs[SHAMIR_MAX_PARTS], w[SHAMIR_MAX_PARTS];
	size_t i, nx = n < SHAMIR_MAX_PARTS ? n : SHAMIR_MAX_PARTS;
	int r = KQ_ERR_INVALID;

	if (shares == NULL || secret == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (shares[i] == NULL)
			goto out;
	r = KQ_ERR_SHAMIR_TOO_FEW;
	if (n < 2)
		goto out;
	r = KQ_ERR_SHAMIR_SHORT;
	if (share_len < 2)
		goto out;
	if ((r = xs_check(shares, NULL, share_len, n, xs)) != KQ_OK)
		goto out;
	k->lagrange(xs, n, w);
	if (k->lincomb_stream != NULL && share_len - 1 >= COMBINE_STREAM_MIN)
		k->lincomb_stream(secret, shares, w, n, share_len - 1);
	else
		k->lincomb(secret, shares, w, n, share_len - 1);
	r = KQ_OK;
out:
	kq_wipe(xs, nx);
	kq_wipe(w, nx);
	if (r != KQ_OK && secret != NULL && share_len > 1)
		kq_wipe(secret, share_len - 1);
	return r;
}

/* ---- split ------------------------------------------------------------ */

struct split {
	const struct gf256_kernel *k;
	const uint8_t *secret;
	uint8_t *const *shares;
	size_t len; /* secret bytes */
	size_t blk; /* secret bytes per block */
	unsigned t, n; /* threshold, parts */
	unsigned nsub; /* subsets checked in turn: ceil(n / t) */
	uint8_t *coef; /* (t-1) * blk random coefficients */
	uint8_t *check; /* blk bytes: a subset recombined */
	uint8_t diff; /* OR of all differences found by the check */
	uint8_t xs[SHAMIR_MAX_PARTS];
	uint8_t w[2 * SHAMIR_MAX_PARTS]; /* weights of subset s at s * t */
	const uint8_t *rows[SHAMIR_MAX_PARTS];
};

/* Share index of member i of check subset s: consecutive, wrapping. */
static unsigned
subset_member(const struct split *sp, unsigned s, unsigned i)
{
	return (s * sp->t + i) % sp->n;
}

/* Lagrange weights of every check subset. */
static void
split_weights(struct split *sp)
{
	uint8_t x[SHAMIR_MAX_PARTS];
	unsigned s, i;

	for (s = 0; s < sp->nsub; s++) {
		for (i = 0; i < sp->t; i++)
			x[i] = sp->xs[subset_member(sp, s, i)];
		sp->k->lagrange(x, sp->t, sp->w + s * sp->t);
	}
	kq_wipe(x, sp->t);
}

/*
 * Recombine a block of the secret at off from subset s, whose share
 * blocks are at blocks[share index], and OR its difference from the secret
 * into sp->diff.
 */
static void
split_check(struct split *sp, unsigned s, const uint8_t *const *blocks,
    size_t off, size_t bl)
{
	const uint8_t *in[SHAMIR_MAX_PARTS];
	unsigned i;

	for (i = 0; i < sp->t; i++)
		in[i] = blocks[subset_member(sp, s, i)];
	if (sp->k->lincomb_diff != NULL) {
		sp->diff |= sp->k->lincomb_diff(
		    sp->secret + off, in, sp->w + s * sp->t, sp->t, bl);
	} else {
		sp->k->lincomb(sp->check, in, sp->w + s * sp->t, sp->t, bl);
		sp->diff |= gf256_diff(sp->check, sp->secret + off, bl);
	}
}

/*
 * One block: coefficients already drawn into sp->coef.  Evaluate every
 * share (each chunk of the rows is read once for all shares), then
 * recombine a subset from the shares just written (still in cache): the
 * subset rotates, so that over a long secret every share is checked, and
 * the last block checks the subsets not reached.
 */
static void
split_block(struct split *sp, size_t b, size_t nblocks)
{
	size_t off = b * sp->blk;
	size_t bl = sp->len - off < sp->blk ? sp->len - off : sp->blk;
	uint8_t *dst[SHAMIR_MAX_PARTS];
	unsigned j, s, s_last;

	sp->rows[0] = sp->secret + off;
	for (j = 1; j < sp->t; j++)
		sp->rows[j] = sp->coef + (j - 1) * bl;
	for (j = 0; j < sp->n; j++)
		dst[j] = sp->shares[j] + off;
	sp->k->eval_multi(dst, sp->xs, sp->n, sp->rows, sp->t, bl);

	s = (unsigned)(b % sp->nsub);
	s_last = (b + 1 == nblocks && b < sp->nsub) ? sp->nsub - 1 : s;
	for (; s <= s_last; s++)
		split_check(sp, s, (const uint8_t *const *)dst, off, bl);
}

/* Secret bytes per block: the coefficients of a block fit in L2. */
static size_t
split_block_size(size_t len, unsigned t)
{
	size_t blk = SPLIT_COEF_MAX / (t - 1);

	if (blk > SPLIT_BLOCK)
		blk = SPLIT_BLOCK;
	if (blk < SPLIT_BLOCK_MIN)
		blk = SPLIT_BLOCK_MIN;
	return len < blk ? len : blk;
}

static int
split_args(const uint8_t *secret, size_t len, unsigned threshold,
    unsigned parts, uint8_t *const *shares)
{
	unsigned i;

	if (secret == NULL || shares == NULL)
		return KQ_ERR_INVALID;
	if (threshold < 2)
		return KQ_ERR_SHAMIR_THRESHOLD;
	if (parts < threshold || parts > SHAMIR_MAX_PARTS)
		return KQ_ERR_SHAMIR_PARTS;
	if (len == 0)
		return KQ_ERR_SHAMIR_EMPTY_SECRET;
	for (i = 0; i < parts; i++)
		if (shares[i] == NULL)
			return KQ_ERR_INVALID;
	return KQ_OK;
}

int
shamir_split(const uint8_t *secret, size_t len, unsigned threshold,
    unsigned parts, uint8_t *const *shares)
{
	struct split sp;
	uint8_t small[SPLIT_STACK], *scratch = NULL, *xkeys;
	size_t coefsz, scratchsz = 0, b, nblocks, bl;
	unsigned j;
	int r;

	if ((r = split_args(secret, len, threshold, parts, shares)) != KQ_OK)
		return r;

	/* (no memset of sp: its arrays are filled before they are read) */
	sp.k = gf256_kernel();
	sp.secret = secret;
	sp.shares = shares;
	sp.len = len;
	sp.t = threshold;
	sp.n = parts;
	sp.nsub = (parts + threshold - 1) / threshold;
	sp.diff = 0;
	sp.blk = split_block_size(len, threshold);
	nblocks = (len + sp.blk - 1) / sp.blk;

	/* scratch: coefficients | x keys | check */
	coefsz = (size_t)(threshold - 1) * sp.blk;
	scratchsz = coefsz + (size_t)parts * XKEY_BYTES + sp.blk;
	r = KQ_ERR_NOMEM;
	if (scratchsz <= sizeof(small))
		scratch = small;
	else if ((scratch = kq_secalloc(scratchsz)) == NULL)
		goto out;
	sp.coef = scratch;
	xkeys = scratch + coefsz;
	sp.check = xkeys + (size_t)parts * XKEY_BYTES;

	/* One draw for the x-coordinates and the first block. */
	if ((r = kq_random(scratch, coefsz + (size_t)parts * XKEY_BYTES)) !=
	    KQ_OK)
		goto out;
	xcoords_draw(sp.xs, parts, xkeys);
	kq_wipe(xkeys, (size_t)parts * XKEY_BYTES);
	for (j = 0; j < parts; j++)
		shares[j][len] = sp.xs[j];
	split_weights(&sp);

	for (b = 0; b < nblocks; b++) {
		bl = len - b * sp.blk < sp.blk ? len - b * sp.blk : sp.blk;
		if (b > 0 &&
		    (r = kq_random(sp.coef, (threshold - 1) * bl)) != KQ_OK)
			goto out;
		split_block(&sp, b, nblocks);
	}
	CT_DECLASSIFY(&sp.diff, sizeof(sp.diff));
	r = sp.diff == 0 ? KQ_OK : KQ_ERR_SHAMIR_SELFCHECK;
out:
	if (scratch == small)
		kq_wipe(small, scratchsz);
	else
		kq_secfree(scratch);
	kq_wipe(sp.xs, parts);
	kq_wipe(sp.w, (size_t)sp.nsub * threshold);
	if (r != KQ_OK)
		for (j = 0; j < parts; j++)
			kq_wipe(shares[j], len + 1);
	return r;
}
