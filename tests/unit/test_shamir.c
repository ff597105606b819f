/*
 * Unit tests for shamir/: Vault's own shares combine, round trips over
 * lengths and (k, n), every error code, x-coordinates, and agreement of
 * every GF(2^8) kernel this CPU runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/encoding.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"
#include "shamir/gf256.h"
#include "shamir/shamir.h"

#define VECTORS "tests/vectors/vault_shamir_sample.jsonl"

/* ---- helpers ---------------------------------------------------------- */

static void
rnd(void *p, size_t n)
{
	assert_int_equal(kq_random(p, n), KQ_OK);
}

/* Uniform in [0, n). */
static unsigned
rnd_below(unsigned n)
{
	uint32_t r;

	rnd(&r, sizeof(r));
	return (unsigned)(((uint64_t)r * n) >> 32);
}

/* n shares of len + 1 bytes each, in one allocation. */
struct shareset {
	uint8_t **s;
	uint8_t *mem;
	unsigned n;
	size_t len;
};

static void
shareset_new(struct shareset *ss, unsigned n, size_t len)
{
	unsigned i;

	ss->n = n;
	ss->len = len;
	ss->mem = calloc(n, len + 1);
	ss->s = calloc(n, sizeof(*ss->s));
	assert_non_null(ss->mem);
	assert_non_null(ss->s);
	for (i = 0; i < n; i++)
		ss->s[i] = ss->mem + (size_t)i * (len + 1);
}

static void
shareset_free(struct shareset *ss)
{
	free(ss->mem);
	free(ss->s);
}

/* Combine k shares picked at random (in random order) and compare. */
static void
combine_random_subset(
    const struct shareset *ss, unsigned k, const uint8_t *secret)
{
	const uint8_t *pick[SHAMIR_MAX_PARTS];
	uint8_t idx[SHAMIR_MAX_PARTS], t;
	uint8_t *out = malloc(ss->len);
	unsigned i, j;

	assert_non_null(out);
	for (i = 0; i < ss->n; i++)
		idx[i] = (uint8_t)i;
	for (i = 0; i < k; i++) { /* partial shuffle */
		j = i + rnd_below(ss->n - i);
		t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
		pick[i] = ss->s[idx[i]];
	}
	assert_int_equal(shamir_combine(pick, k, ss->len + 1, out), KQ_OK);
	assert_memory_equal(out, secret, ss->len);
	free(out);
}

static void
split_roundtrip(size_t len, unsigned k, unsigned n)
{
	struct shareset ss;
	uint8_t *secret = malloc(len);
	unsigned i, j;

	assert_non_null(secret);
	rnd(secret, len);
	shareset_new(&ss, n, len);
	assert_int_equal(shamir_split(secret, len, k, n, ss.s), KQ_OK);
	for (i = 0; i < n; i++) {
		assert_int_not_equal(ss.s[i][len], 0);
		for (j = i + 1; j < n; j++)
			assert_int_not_equal(ss.s[i][len], ss.s[j][len]);
	}
	combine_random_subset(&ss, k, secret);
	combine_random_subset(&ss, n, secret);
	shareset_free(&ss);
	free(secret);
}

/* ---- Vault's vectors -------------------------------------------------- */

static size_t
hexdec(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;

	assert_int_equal(kq_hex_decode(out, cap, &n, hex, strlen(hex)), KQ_OK);
	return n;
}

/* Every subset of at least threshold shares combines to the secret. */
static void
vector_check(json_t *v)
{
	uint8_t secret[128], out[128], share[SHAMIR_MAX_PARTS][129];
	const uint8_t *pick[SHAMIR_MAX_PARTS];
	json_t *hexes = json_object_get(v, "shares_hex");
	json_t *xs = json_object_get(v, "x_coords");
	size_t slen, n, i, len, k;
	unsigned t, mask;

	slen = hexdec(secret, sizeof(secret),
	    json_string_value(json_object_get(v, "secret_hex")));
	t = (unsigned)json_integer_value(json_object_get(v, "threshold"));
	n = json_array_size(hexes);
	assert_true(n >= t && n <= 8);
	for (i = 0; i < n; i++) {
		len = hexdec(share[i], sizeof(share[i]),
		    json_string_value(json_array_get(hexes, i)));
		assert_int_equal(len, slen + 1);
		assert_int_equal(
		    share[i][slen], json_integer_value(json_array_get(xs, i)));
	}
	for (mask = 1; mask < (1u << n); mask++) {
		if ((unsigned)__builtin_popcount(mask) < t)
			continue;
		for (i = 0, k = 0; i < n; i++)
			if (mask & (1u << i))
				pick[k++] =
				    share[n - 1 - i]; /* reversed order */
		memset(out, 0xaa, sizeof(out));
		assert_int_equal(shamir_combine(pick, k, slen + 1, out), KQ_OK);
		assert_memory_equal(out, secret, slen);
	}
}

static void
test_vault_vectors_combine(void **state)
{
	char line[8192];
	FILE *f = fopen(VECTORS, "r");
	json_error_t err;
	json_t *v;
	int count = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		v = json_loads(line, 0, &err);
		assert_non_null(v);
		vector_check(v);
		json_decref(v);
		count++;
	}
	fclose(f);
	assert_true(count >= 8);
}

/* ---- round trips ------------------------------------------------------ */

static void
test_roundtrip_every_length(void **state)
{
	static const unsigned kn[][2] = {
	    {2, 2},
	    {2, 3},
	    {3, 5},
	    {5, 10},
	    {4, 4},
	    {7, 9},
	    {10, 20},
	};
	size_t len;

	(void)state;
	for (len = 1; len <= 300; len++)
		split_roundtrip(len, kn[len % 7][0], kn[len % 7][1]);
}

static void
test_roundtrip_many_k_n(void **state)
{
	static const unsigned kn[][2] = {
	    {2, 255},
	    {255, 255},
	    {254, 255},
	    {128, 200},
	    {2, 2},
	    {3, 5},
	    {16, 16},
	    {100, 101},
	    {17, 33},
	    {250, 251},
	};
	size_t i;
	unsigned k, n;

	(void)state;
	for (i = 0; i < sizeof(kn) / sizeof(kn[0]); i++)
		split_roundtrip(1 + rnd_below(64), kn[i][0], kn[i][1]);
	for (i = 0; i < 60; i++) {
		n = 2 + rnd_below(254);
		k = 2 + rnd_below(n - 1);
		split_roundtrip(1 + rnd_below(48), k, n);
	}
}

/* Secrets of several blocks: every share is checked and combines. */
static void
test_roundtrip_long(void **state)
{
	(void)state;
	split_roundtrip(100000, 3, 5);
	/* past 4 MiB, combine writes with streaming stores */
	split_roundtrip(4 * 1024 * 1024 + 33, 3, 5);
	split_roundtrip(65536 + 7, 2, 7);
	split_roundtrip(20000, 40, 45);
	split_roundtrip(3000, 255, 255);
}

/* A secret of many blocks, under every kernel. */
static void
test_roundtrip_long_every_kernel(void **state)
{
	const struct gf256_kernel *const *ks;
	size_t n, i;

	(void)state;
	ks = gf256_kernel_list(&n);
	for (i = 0; i < n; i++) {
		if (!ks[i]->usable())
			continue;
		gf256_kernel_force(ks[i]);
		split_roundtrip(1024 * 1024 + 77, 3, 5);
	}
	gf256_kernel_force(NULL);
}

/* ---- split against textbook interpolation ------------------------------ */

static uint8_t ref_mul(uint8_t a, uint8_t b);

static uint8_t
ref_inv(uint8_t a)
{
	unsigned c;

	for (c = 1; c < 256; c++)
		if (ref_mul(a, (uint8_t)c) == 1)
			return (uint8_t)c;
	return 0;
}

/* The polynomial through points (x[i], y[i]), i < k, evaluated at z. */
static uint8_t
ref_interpolate(const uint8_t *x, const uint8_t *y, size_t k, uint8_t z)
{
	uint8_t acc = 0, num, den;
	size_t i, j;

	for (i = 0; i < k; i++) {
		num = 1;
		den = 1;
		for (j = 0; j < k; j++) {
			if (j == i)
				continue;
			num = ref_mul(num, z ^ x[j]);
			den = ref_mul(den, x[i] ^ x[j]);
		}
		acc ^= ref_mul(y[i], ref_mul(num, ref_inv(den)));
	}
	return acc;
}

/*
 * Independent of shamir_combine: per byte, the polynomial through the
 * first k shares has the secret at 0 and passes through every other share,
 * so the shares are what Vault's combine expects.
 */
static void
test_split_shares_on_one_polynomial(void **state)
{
	static const unsigned kn[][2] = {{2, 3}, {3, 5}, {5, 9}, {4, 4}};
	uint8_t secret[40], x[16], y[16];
	struct shareset ss;
	size_t c, b, i;

	(void)state;
	for (c = 0; c < sizeof(kn) / sizeof(kn[0]); c++) {
		unsigned k = kn[c][0], n = kn[c][1];

		rnd(secret, sizeof(secret));
		shareset_new(&ss, n, sizeof(secret));
		assert_int_equal(
		    shamir_split(secret, sizeof(secret), k, n, ss.s), KQ_OK);
		for (i = 0; i < n; i++)
			x[i] = ss.s[i][sizeof(secret)];
		for (b = 0; b < sizeof(secret); b++) {
			for (i = 0; i < n; i++)
				y[i] = ss.s[i][b];
			assert_int_equal(
			    ref_interpolate(x, y, k, 0), secret[b]);
			for (i = k; i < n; i++)
				assert_int_equal(
				    ref_interpolate(x, y, k, x[i]), y[i]);
		}
		shareset_free(&ss);
	}
}

/* ---- x-coordinates ---------------------------------------------------- */

static void
test_xcoords_permutation(void **state)
{
	struct shareset ss;
	uint8_t secret = 0x42, seen[256];
	unsigned i, round;

	(void)state;
	shareset_new(&ss, 255, 1);
	for (round = 0; round < 4; round++) {
		assert_int_equal(shamir_split(&secret, 1, 2, 255, ss.s), KQ_OK);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < 255; i++)
			seen[ss.s[i][1]]++;
		assert_int_equal(seen[0], 0);
		for (i = 1; i < 256; i++)
			assert_int_equal(seen[i], 1);
	}
	shareset_free(&ss);
}

/* Over 4000 splits with 2 shares, every x in 1..255 turns up. */
static void
test_xcoords_cover_range(void **state)
{
	struct shareset ss;
	uint8_t secret = 7;
	unsigned seen[256] = {0}, i;

	(void)state;
	shareset_new(&ss, 2, 1);
	for (i = 0; i < 4000; i++) {
		assert_int_equal(shamir_split(&secret, 1, 2, 2, ss.s), KQ_OK);
		assert_int_not_equal(ss.s[0][1], ss.s[1][1]);
		seen[ss.s[0][1]]++;
		seen[ss.s[1][1]]++;
	}
	assert_int_equal(seen[0], 0);
	for (i = 1; i < 256; i++)
		assert_true(seen[i] > 0);
	shareset_free(&ss);
}

/* ---- errors ----------------------------------------------------------- */

static void
test_split_errors(void **state)
{
	struct shareset ss;
	uint8_t secret[4] = {1, 2, 3, 4};
	uint8_t *nulls[3] = {NULL, NULL, NULL};

	(void)state;
	shareset_new(&ss, 256, 4);
	assert_int_equal(
	    shamir_split(secret, 4, 1, 3, ss.s), KQ_ERR_SHAMIR_THRESHOLD);
	assert_int_equal(
	    shamir_split(secret, 4, 0, 3, ss.s), KQ_ERR_SHAMIR_THRESHOLD);
	assert_int_equal(
	    shamir_split(secret, 4, 4, 3, ss.s), KQ_ERR_SHAMIR_PARTS);
	assert_int_equal(
	    shamir_split(secret, 4, 3, 256, ss.s), KQ_ERR_SHAMIR_PARTS);
	assert_int_equal(
	    shamir_split(secret, 4, 256, 256, ss.s), KQ_ERR_SHAMIR_PARTS);
	assert_int_equal(
	    shamir_split(secret, 0, 2, 3, ss.s), KQ_ERR_SHAMIR_EMPTY_SECRET);
	assert_int_equal(shamir_split(NULL, 4, 2, 3, ss.s), KQ_ERR_INVALID);
	assert_int_equal(shamir_split(secret, 4, 2, 3, NULL), KQ_ERR_INVALID);
	assert_int_equal(shamir_split(secret, 4, 2, 3, nulls), KQ_ERR_INVALID);
	/* the limits themselves are fine */
	assert_int_equal(shamir_split(secret, 4, 2, 2, ss.s), KQ_OK);
	assert_int_equal(shamir_split(secret, 4, 255, 255, ss.s), KQ_OK);
	shareset_free(&ss);
}

static void
test_combine_errors(void **state)
{
	struct shareset ss;
	uint8_t secret[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8];
	const uint8_t *p[300];
	size_t lens[4] = {9, 9, 9, 9};
	unsigned i;

	(void)state;
	shareset_new(&ss, 4, 8);
	assert_int_equal(shamir_split(secret, 8, 2, 4, ss.s), KQ_OK);
	for (i = 0; i < 4; i++)
		p[i] = ss.s[i];

	assert_int_equal(shamir_combine(p, 1, 9, out), KQ_ERR_SHAMIR_TOO_FEW);
	assert_int_equal(shamir_combine(p, 0, 9, out), KQ_ERR_SHAMIR_TOO_FEW);
	assert_int_equal(shamir_combine(p, 2, 1, out), KQ_ERR_SHAMIR_SHORT);
	assert_int_equal(shamir_combine(p, 2, 0, out), KQ_ERR_SHAMIR_SHORT);
	assert_int_equal(shamir_combine(NULL, 2, 9, out), KQ_ERR_INVALID);
	assert_int_equal(shamir_combine(p, 2, 9, NULL), KQ_ERR_INVALID);

	/* repeated share: DUP_X, and the output is wiped */
	p[1] = ss.s[0];
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(shamir_combine(p, 2, 9, out), KQ_ERR_SHAMIR_DUP_X);
	for (i = 0; i < 8; i++)
		assert_int_equal(out[i], 0);
	/* zero x, alone and alongside a repeat (zero is reported) */
	p[1] = ss.s[1];
	ss.s[2][8] = 0;
	p[2] = ss.s[2];
	assert_int_equal(shamir_combine(p, 3, 9, out), KQ_ERR_SHAMIR_ZERO_X);
	p[0] = ss.s[1];
	assert_int_equal(shamir_combine(p, 3, 9, out), KQ_ERR_SHAMIR_ZERO_X);
	/* 256 shares of 255 possible x: one repeats */
	for (i = 0; i < 256; i++)
		p[i] = ss.s[i % 2];
	assert_int_equal(shamir_combine(p, 256, 9, out), KQ_ERR_SHAMIR_DUP_X);

	/* shamir_check_shares: lengths */
	for (i = 0; i < 4; i++)
		p[i] = ss.s[i];
	ss.s[2][8] = 77;
	assert_int_equal(shamir_check_shares(p, lens, 2), KQ_OK);
	lens[1] = 8;
	assert_int_equal(shamir_check_shares(p, lens, 2), KQ_ERR_SHAMIR_LENGTH);
	lens[1] = 1;
	assert_int_equal(shamir_check_shares(p, lens, 2), KQ_ERR_SHAMIR_SHORT);
	lens[1] = 9;
	assert_int_equal(
	    shamir_check_shares(p, lens, 1), KQ_ERR_SHAMIR_TOO_FEW);
	p[1] = p[0];
	assert_int_equal(shamir_check_shares(p, lens, 2), KQ_ERR_SHAMIR_DUP_X);
	shareset_free(&ss);
}

/* Each failure has its own code, message and exit class. */
static void
test_error_codes_distinct(void **state)
{
	static const int codes[] = {
	    KQ_ERR_SHAMIR_THRESHOLD,
	    KQ_ERR_SHAMIR_PARTS,
	    KQ_ERR_SHAMIR_EMPTY_SECRET,
	    KQ_ERR_SHAMIR_TOO_FEW,
	    KQ_ERR_SHAMIR_SHORT,
	    KQ_ERR_SHAMIR_LENGTH,
	    KQ_ERR_SHAMIR_DUP_X,
	    KQ_ERR_SHAMIR_ZERO_X,
	    KQ_ERR_SHAMIR_SELFCHECK,
	};
	size_t i, j, n = sizeof(codes) / sizeof(codes[0]);

	(void)state;
	for (i = 0; i < n; i++) {
		assert_true(codes[i] < 0);
		assert_string_not_equal(
		    kq_strerror(codes[i]), kq_strerror(KQ_ERR_INVALID));
		for (j = i + 1; j < n; j++) {
			assert_int_not_equal(codes[i], codes[j]);
			assert_string_not_equal(
			    kq_strerror(codes[i]), kq_strerror(codes[j]));
		}
	}
}

/* ---- GF(2^8) and the kernels ------------------------------------------ */

/* Textbook multiply, branches and all: an independent reference. */
static uint8_t
ref_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;

	while (b) {
		if (b & 1)
			r ^= a;
		a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1b : 0));
		b >>= 1;
	}
	return r;
}

static void
test_gf256_scalar(void **state)
{
	unsigned a, b;

	(void)state;
	for (a = 0; a < 256; a++)
		for (b = 0; b < 256; b++)
			assert_int_equal(gf256_mul((uint8_t)a, (uint8_t)b),
			    ref_mul((uint8_t)a, (uint8_t)b));
	assert_int_equal(gf256_inv(0), 0);
	for (a = 1; a < 256; a++)
		assert_int_equal(
		    gf256_mul((uint8_t)a, gf256_inv((uint8_t)a)), 1);
	/* FIPS-197 4.2: {57} x {83} = {c1} */
	assert_int_equal(gf256_mul(0x57, 0x83), 0xc1);
}

/* Test lengths: around every vector width and tail. */
static const size_t tlens[] = {0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65,
    127, 128, 129, 255, 256, 257, 300, 511, 513, 1000, 4099};
#define NTLENS (sizeof(tlens) / sizeof(tlens[0]))
#define TMAX 4099
#define TROWS 255

struct kbuf {
	uint8_t *in; /* TROWS rows of TMAX + 1 bytes */
	const uint8_t *rows[TROWS];
	uint8_t w[TROWS];
	uint8_t ref[TMAX + 64], out[TMAX + 64];
	uint8_t multi[7 * (TMAX + 64)];
};

static struct kbuf *
kbuf_new(void)
{
	struct kbuf *kb = calloc(1, sizeof(*kb));
	size_t i;

	assert_non_null(kb);
	kb->in = malloc((size_t)TROWS * (TMAX + 1));
	assert_non_null(kb->in);
	rnd(kb->in, (size_t)TROWS * (TMAX + 1));
	rnd(kb->w, sizeof(kb->w));
	/* odd offsets: unaligned rows */
	for (i = 0; i < TROWS; i++)
		kb->rows[i] = kb->in + i * (TMAX + 1) + (i & 1);
	return kb;
}

static void
kbuf_free(struct kbuf *kb)
{
	free(kb->in);
	free(kb);
}

/* The portable kernel against the textbook multiply. */
static void
test_kernel_portable_reference(void **state)
{
	struct kbuf *kb = kbuf_new();
	size_t li, i, r;
	uint8_t acc, x = 0x8d;

	(void)state;
	for (li = 0; li < NTLENS; li++) {
		size_t len = tlens[li];

		gf256_eval_portable(kb->out, kb->rows, 5, x, len);
		gf256_lincomb_portable(kb->ref, kb->rows, kb->w, 5, len);
		for (i = 0; i < len; i++) {
			acc = 0;
			for (r = 5; r-- > 0;)
				acc = ref_mul(acc, x) ^ kb->rows[r][i];
			assert_int_equal(kb->out[i], acc);
			acc = 0;
			for (r = 0; r < 5; r++)
				acc ^= ref_mul(kb->w[r], kb->rows[r][i]);
			assert_int_equal(kb->ref[i], acc);
		}
		gf256_mul_portable(kb->out, kb->rows[0], kb->rows[1], len);
		for (i = 0; i < len; i++)
			assert_int_equal(kb->out[i],
			    ref_mul(kb->rows[0][i], kb->rows[1][i]));
	}
	kbuf_free(kb);
}

/* Distinct nonzero x: a random prefix of a shuffled 1..255. */
static void
random_xs(uint8_t *x, size_t n)
{
	uint8_t all[255], t;
	unsigned i, j;

	for (i = 0; i < 255; i++)
		all[i] = (uint8_t)(i + 1);
	for (i = 0; i < n; i++) {
		j = i + rnd_below(255 - i);
		t = all[i];
		all[i] = all[j];
		all[j] = t;
		x[i] = all[i];
	}
}

/* Lagrange weights: each kernel against a textbook computation. */
static void
kernel_compare_lagrange(const struct gf256_kernel *k)
{
	static const size_t ns[] = {1, 2, 3, 5, 31, 32, 33, 64, 100, 255};
	uint8_t x[255], w[255], num, den, inv;
	size_t ni, n, i, j;
	unsigned c;

	for (ni = 0; ni < sizeof(ns) / sizeof(ns[0]); ni++) {
		n = ns[ni];
		random_xs(x, n);
		memset(w, 0x5c, sizeof(w));
		k->lagrange(x, n, w);
		for (i = 0; i < n; i++) {
			num = 1;
			den = 1;
			for (j = 0; j < n; j++) {
				if (j == i)
					continue;
				num = ref_mul(num, x[j]);
				den = ref_mul(den, x[i] ^ x[j]);
			}
			for (c = 1, inv = 0; c < 256; c++)
				if (ref_mul(den, (uint8_t)c) == 1)
					inv = (uint8_t)c;
			assert_int_equal(w[i], ref_mul(num, inv));
		}
		if (n < sizeof(w))
			assert_int_equal(w[n], 0x5c);
	}
}

/* eval_multi at 7 points equals 7 evals. */
static void
kernel_compare_multi(
    const struct gf256_kernel *k, struct kbuf *kb, size_t c, size_t len)
{
	uint8_t xs[7], *outs[7];
	size_t j;

	rnd(xs, sizeof(xs));
	for (j = 0; j < 7; j++)
		outs[j] = kb->multi + j * (TMAX + 64);
	memset(kb->multi, 0x5c, sizeof(kb->multi));
	k->eval_multi(outs, xs, 7, kb->rows, c, len);
	for (j = 0; j < 7; j++) {
		gf256_kernel_portable.eval(kb->ref, kb->rows, c, xs[j], len);
		assert_memory_equal(outs[j], kb->ref, len);
		assert_int_equal(outs[j][len], 0x5c);
	}
}

/* Every usable kernel gives the portable kernel's bytes, and no more. */
static void
kernel_compare(const struct gf256_kernel *k, struct kbuf *kb)
{
	static const size_t counts[] = {1, 2, 3, 5, 10, 17, 255};
	const struct gf256_kernel *p = &gf256_kernel_portable;
	size_t li, ci, len, c;
	uint8_t x;

	for (li = 0; li < NTLENS; li++) {
		len = tlens[li];
		for (ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
			c = counts[ci];
			if (c > 17 && len > 300)
				continue; /* keep the test quick */
			rnd(&x, 1);
			p->eval(kb->ref, kb->rows, c, x, len);
			memset(kb->out, 0x5c, sizeof(kb->out));
			k->eval(kb->out, kb->rows, c, x, len);
			assert_memory_equal(kb->out, kb->ref, len);
			assert_int_equal(kb->out[len], 0x5c);

			kernel_compare_multi(k, kb, c, len);

			p->lincomb(kb->ref, kb->rows, kb->w, c, len);
			memset(kb->out, 0x5c, sizeof(kb->out));
			k->lincomb(kb->out, kb->rows, kb->w, c, len);
			assert_memory_equal(kb->out, kb->ref, len);
			assert_int_equal(kb->out[len], 0x5c);
		}
		p->mul(kb->ref, kb->rows[2], kb->rows[3], len);
		memset(kb->out, 0x5c, sizeof(kb->out));
		k->mul(kb->out, kb->rows[2], kb->rows[3], len);
		assert_memory_equal(kb->out, kb->ref, len);
		assert_int_equal(kb->out[len], 0x5c);
	}
	kernel_compare_lagrange(k);
	/* every constant, for eval: x = 0..255 */
	for (c = 0; c < 256; c++) {
		p->eval(kb->ref, kb->rows, 3, (uint8_t)c, 300);
		k->eval(kb->out, kb->rows, 3, (uint8_t)c, 300);
		assert_memory_equal(kb->out, kb->ref, 300);
	}
}

static void
test_kernels_agree(void **state)
{
	const struct gf256_kernel *const *ks;
	struct kbuf *kb = kbuf_new();
	size_t n, i, ran = 0;

	(void)state;
	ks = gf256_kernel_list(&n);
	for (i = 0; i < n; i++) {
		if (!ks[i]->usable())
			continue;
		print_message("# kernel %s\n", ks[i]->name);
		kernel_compare(ks[i], kb);
		ran++;
	}
	assert_true(ran >= 1);
	kbuf_free(kb);
}

/*
 * eval_multi in every shape the kernels treat apart (the GFNI kernel's
 * power form for 2..8 rows and up to 64 points, Horner's rule beyond),
 * and lincomb_diff against lincomb then gf256_diff, for every kernel.
 */
static void
kernel_compare_shapes(const struct gf256_kernel *k, struct kbuf *kb)
{
	static const size_t lens[] = {1, 63, 64, 65, 255, 256, 257, 1000, 4000};
	static const size_t nouts[] = {1, 5, 64, 65};
	uint8_t xs[65], *outs[65], *mem, d, want;
	size_t li, ni, r, j, len, nout, at;

	mem = malloc(65 * 4001);
	assert_non_null(mem);
	for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		len = lens[li];
		for (ni = 0; ni < sizeof(nouts) / sizeof(nouts[0]); ni++) {
			nout = nouts[ni];
			for (r = 1; r <= 9; r++) {
				random_xs(xs, nout);
				for (j = 0; j < nout; j++)
					outs[j] = mem + j * 4001;
				memset(mem, 0x5c, 65 * 4001);
				k->eval_multi(outs, xs, nout, kb->rows, r, len);
				for (j = 0; j < nout; j++) {
					gf256_eval_portable(
					    kb->ref, kb->rows, r, xs[j], len);
					assert_memory_equal(
					    outs[j], kb->ref, len);
					assert_int_equal(outs[j][len], 0x5c);
				}
			}
		}
		if (k->lincomb_stream != NULL) {
			/* out at every alignment to a cache line, and a guard */
			for (at = 0; at < 64; at += 7) {
				memset(mem, 0x5c, len + 128);
				gf256_lincomb_portable(
				    kb->ref, kb->rows, kb->w, 5, len);
				k->lincomb_stream(
				    mem + at, kb->rows, kb->w, 5, len);
				assert_memory_equal(mem + at, kb->ref, len);
				assert_int_equal(mem[at + len], 0x5c);
				if (at > 0)
					assert_int_equal(mem[at - 1], 0x5c);
			}
		}
		if (k->lincomb_diff == NULL)
			continue;
		for (r = 1; r <= 9; r++) {
			gf256_lincomb_portable(
			    kb->ref, kb->rows, kb->w, r, len);
			assert_int_equal(
			    k->lincomb_diff(kb->ref, kb->rows, kb->w, r, len),
			    0);
			/* One flipped bit anywhere is seen, as gf256_diff sees it. */
			memcpy(kb->out, kb->ref, len);
			for (at = 0; at < len; at += 1 + len / 7) {
				kb->ref[at] ^= (uint8_t)(1u << (at % 8));
				d = k->lincomb_diff(
				    kb->ref, kb->rows, kb->w, r, len);
				want = gf256_diff(kb->out, kb->ref, len);
				assert_int_not_equal(d, 0);
				assert_int_equal(d, want);
				kb->ref[at] ^= (uint8_t)(1u << (at % 8));
			}
		}
	}
	free(mem);
}

static void
test_kernels_shapes(void **state)
{
	const struct gf256_kernel *const *ks;
	struct kbuf *kb = kbuf_new();
	size_t n, i;

	(void)state;
	ks = gf256_kernel_list(&n);
	for (i = 0; i < n; i++)
		if (ks[i]->usable())
			kernel_compare_shapes(ks[i], kb);
	kbuf_free(kb);
}

/* Split under one kernel, combine under every other: same secret. */
static void
test_kernels_split_combine_cross(void **state)
{
	const struct gf256_kernel *const *ks;
	struct shareset ss;
	uint8_t secret[5000], out[5000], ref[5000];
	const uint8_t *pick[10];
	size_t n, i, j;

	(void)state;
	ks = gf256_kernel_list(&n);
	rnd(secret, sizeof(secret));
	shareset_new(&ss, 10, sizeof(secret));
	for (i = 0; i < n; i++) {
		if (!ks[i]->usable())
			continue;
		gf256_kernel_force(ks[i]);
		assert_int_equal(
		    shamir_split(secret, sizeof(secret), 6, 10, ss.s), KQ_OK);
		for (j = 0; j < 6; j++)
			pick[j] = ss.s[9 - j];
		gf256_kernel_force(&gf256_kernel_portable);
		assert_int_equal(
		    shamir_combine(pick, 6, sizeof(secret) + 1, ref), KQ_OK);
		assert_memory_equal(ref, secret, sizeof(secret));
		for (j = 0; j < n; j++) {
			if (!ks[j]->usable())
				continue;
			gf256_kernel_force(ks[j]);
			memset(out, 0, sizeof(out));
			assert_int_equal(
			    shamir_combine(pick, 6, sizeof(secret) + 1, out),
			    KQ_OK);
			assert_memory_equal(out, ref, sizeof(secret));
		}
	}
	gf256_kernel_force(NULL);
	shareset_free(&ss);
}

/* A kernel whose eval corrupts one byte: split must notice and wipe. */
static void
eval_faulty(uint8_t *out, const uint8_t *const *rows, size_t nrows, uint8_t x,
    size_t len)
{
	gf256_eval_portable(out, rows, nrows, x, len);
	out[len / 2] ^= 0x10;
}

static void
eval_multi_faulty(uint8_t *const *outs, const uint8_t *xs, size_t nout,
    const uint8_t *const *rows, size_t nrows, size_t len)
{
	gf256_eval_multi_with(eval_faulty, outs, xs, nout, rows, nrows, len);
}

/*
 * Every usable kernel's check (lincomb_diff or lincomb and gf256_diff)
 * under an eval that corrupts one byte: split must notice and wipe.
 */
static void
test_split_selfcheck_catches_fault(void **state)
{
	const struct gf256_kernel *const *ks;
	struct gf256_kernel bad;
	struct shareset ss;
	uint8_t secret[100];
	size_t i, j, k, nk;

	(void)state;
	ks = gf256_kernel_list(&nk);
	rnd(secret, sizeof(secret));
	shareset_new(&ss, 5, sizeof(secret));
	for (k = 0; k < nk; k++) {
		if (!ks[k]->usable())
			continue;
		bad = *ks[k];
		bad.eval = eval_faulty;
		bad.eval_multi = eval_multi_faulty;
		gf256_kernel_force(&bad);
		assert_int_equal(
		    shamir_split(secret, sizeof(secret), 3, 5, ss.s),
		    KQ_ERR_SHAMIR_SELFCHECK);
		gf256_kernel_force(NULL);
		for (i = 0; i < 5; i++)
			for (j = 0; j <= sizeof(secret); j++)
				assert_int_equal(ss.s[i][j], 0);
		assert_int_equal(
		    shamir_split(secret, sizeof(secret), 3, 5, ss.s), KQ_OK);
	}
	shareset_free(&ss);
}

static void
test_kernel_select(void **state)
{
	enum shamir_kernel id;

	(void)state;
	assert_int_equal(shamir_kernel_select(SHAMIR_KERNEL_PORTABLE), KQ_OK);
	assert_int_equal(shamir_kernel_active(), SHAMIR_KERNEL_PORTABLE);
	assert_true(shamir_kernel_supported(SHAMIR_KERNEL_PORTABLE));
	assert_true(shamir_kernel_supported(SHAMIR_KERNEL_AUTO));
	for (id = SHAMIR_KERNEL_PORTABLE; id <= SHAMIR_KERNEL_GFNI; id++) {
		if (shamir_kernel_supported(id)) {
			assert_int_equal(shamir_kernel_select(id), KQ_OK);
			assert_int_equal(shamir_kernel_active(), id);
		} else {
			assert_int_equal(
			    shamir_kernel_select(id), KQ_ERR_UNSUPPORTED);
		}
		assert_string_not_equal(shamir_kernel_name(id), "unknown");
	}
	assert_int_equal(
	    shamir_kernel_select((enum shamir_kernel)99), KQ_ERR_INVALID);
	assert_int_equal(shamir_kernel_select(SHAMIR_KERNEL_AUTO), KQ_OK);
	assert_int_not_equal(shamir_kernel_active(), SHAMIR_KERNEL_AUTO);
	print_message("# auto kernel: %s (%s)\n",
	    shamir_kernel_name(shamir_kernel_active()), gf256_kernel()->name);
}

static int
setup(void **state)
{
	(void)state;
	return kq_secmem_init() == KQ_OK ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vault_vectors_combine),
	    cmocka_unit_test(test_roundtrip_every_length),
	    cmocka_unit_test(test_roundtrip_many_k_n),
	    cmocka_unit_test(test_roundtrip_long),
	    cmocka_unit_test(test_roundtrip_long_every_kernel),
	    cmocka_unit_test(test_split_shares_on_one_polynomial),
	    cmocka_unit_test(test_xcoords_permutation),
	    cmocka_unit_test(test_xcoords_cover_range),
	    cmocka_unit_test(test_split_errors),
	    cmocka_unit_test(test_combine_errors),
	    cmocka_unit_test(test_error_codes_distinct),
	    cmocka_unit_test(test_gf256_scalar),
	    cmocka_unit_test(test_kernel_portable_reference),
	    cmocka_unit_test(test_kernels_agree),
	    cmocka_unit_test(test_kernels_shapes),
	    cmocka_unit_test(test_kernels_split_combine_cross),
	    cmocka_unit_test(test_split_selfcheck_catches_fault),
	    cmocka_unit_test(test_kernel_select),
	};

	return cmocka_run_group_tests_name("shamir", tests, setup, NULL);
}
