/*
 * keyquorum: GF(2^8) (0x11B) kernels for x86-64: SSSE3 and AVX2 nibble
 * tables, and GFNI at AVX2 (VEX) and AVX-512 width.
 *
 * Each function carries its own target attribute, so the rest of the build
 * needs no -m flag; gf256_kernel() runs one only when CPUID (and the OS, for
 * the wide registers) says it can.
 *
 * Constant time:
 * - Nibble kernels: the 16-entry tables c*{0..15} and c*{0..15}<<4 are
 *   built in registers from the multiplier c by masks (no memory indexed by
 *   c), and looked up with PSHUFB, a register permutation whose timing does
 *   not depend on the indices.  Element-wise products use shift/XOR with
 *   compare masks.
 * - GFNI: vgf2p8mulb multiplies in 0x11B directly, in constant time.  The
 *   power form of eval_multi keeps the powers of the x-coordinates in a
 *   small table read at public indices (row, point) only.
 * Tails shorter than a vector go to the portable code (constant time too),
 * or, at AVX-512 width, to masked loads and stores; lengths are public.
 */
#include "shamir/gf256.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <string.h>

#include "common/cpu.h"
#include "common/secmem.h"

#define TGT_SSSE3 __attribute__((target("ssse3")))
#define TGT_AVX2 __attribute__((target("avx2")))
#define TGT_GFNI256 __attribute__((target("gfni,avx2")))
#define TGT_GFNI512 __attribute__((target("gfni,avx512f,avx512bw")))

/* ---- CPU checks ------------------------------------------------------ */

/* KQ_CPU (common/cpu.h) also checks that the OS saves the registers. */
static int
usable_ssse3(void)
{
	return KQ_CPU(SSSE3);
}

static int
usable_avx2(void)
{
	return KQ_CPU(AVX2);
}

static int
usable_gfni256(void)
{
	return KQ_CPU(GFNI) && KQ_CPU(AVX2);
}

static int
usable_gfni512(void)
{
	return KQ_CPU(GFNI) && KQ_CPU(AVX512F) && KQ_CPU(AVX512BW);
}

/* ---- SSSE3: nibble tables -------------------------------------------- */

/* v * x in every lane: shift left, XOR 0x1b where the top bit was set. */
TGT_SSSE3 static inline __m128i
xtime128(__m128i v)
{
	__m128i top = _mm_cmpgt_epi8(_mm_setzero_si128(), v);

	return _mm_xor_si128(
	    _mm_add_epi8(v, v), _mm_and_si128(top, _mm_set1_epi8(0x1b)));
}

/*
 * lo[i] = c * i and hi[i] = c * (i << 4) for i < 16, built by masking
 * c, c*x, c*x^2 ... into the lanes whose index has the matching bit.
 */
TGT_SSSE3 static inline void
tables128(uint8_t c, __m128i *lo, __m128i *hi)
{
	const __m128i idx =
	    _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	__m128i v = _mm_set1_epi8((char)c);
	__m128i l = _mm_setzero_si128(), h = _mm_setzero_si128();
	__m128i bit, m;
	int b;

	for (b = 0; b < 4; b++) {
		bit = _mm_set1_epi8((char)(1 << b));
		m = _mm_cmpeq_epi8(_mm_and_si128(idx, bit), bit);
		l = _mm_xor_si128(l, _mm_and_si128(v, m));
		v = xtime128(v);
	}
	for (b = 0; b < 4; b++) {
		bit = _mm_set1_epi8((char)(1 << b));
		m = _mm_cmpeq_epi8(_mm_and_si128(idx, bit), bit);
		h = _mm_xor_si128(h, _mm_and_si128(v, m));
		v = xtime128(v);
	}
	*lo = l;
	*hi = h;
}

/* Every lane of v times the constant whose tables are lo, hi. */
TGT_SSSE3 static inline __m128i
mul128(__m128i v, __m128i lo, __m128i hi)
{
	const __m128i m = _mm_set1_epi8(0x0f);
	__m128i l = _mm_and_si128(v, m);
	__m128i h = _mm_and_si128(_mm_srli_epi16(v, 4), m);

	return _mm_xor_si128(_mm_shuffle_epi8(lo, l), _mm_shuffle_epi8(hi, h));
}

/* Lane-wise a * b by shift and XOR. */
TGT_SSSE3 static inline __m128i
vmul128(__m128i a, __m128i b)
{
	__m128i r = _mm_setzero_si128(), bit, m;
	int i;

	for (i = 0; i < 8; i++) {
		bit = _mm_set1_epi8((char)(1 << i));
		m = _mm_cmpeq_epi8(_mm_and_si128(b, bit), bit);
		r = _mm_xor_si128(r, _mm_and_si128(a, m));
		a = xtime128(a);
	}
	return r;
}

TGT_SSSE3 static inline __m128i
ld128(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}

TGT_SSSE3 static inline void
st128(uint8_t *p, __m128i v)
{
	_mm_storeu_si128((__m128i *)(void *)p, v);
}

TGT_SSSE3 static void
eval_ssse3(uint8_t *out, const uint8_t *const *rows, size_t nrows, uint8_t x,
    size_t len)
{
	__m128i lo, hi, a0, a1;
	size_t i = 0, r;

	tables128(x, &lo, &hi);
	for (; i + 32 <= len; i += 32) {
		a0 = ld128(rows[nrows - 1] + i);
		a1 = ld128(rows[nrows - 1] + i + 16);
		for (r = nrows - 1; r-- > 0;) {
			a0 = _mm_xor_si128(
			    mul128(a0, lo, hi), ld128(rows[r] + i));
			a1 = _mm_xor_si128(
			    mul128(a1, lo, hi), ld128(rows[r] + i + 16));
		}
		st128(out + i, a0);
		st128(out + i + 16, a1);
	}
	gf256_eval_tail(out, rows, nrows, x, i, len);
}

TGT_SSSE3 static void
lincomb_ssse3(uint8_t *out, const uint8_t *const *in, const uint8_t *w,
    size_t k, size_t len)
{
	__m128i tab[2 * SHAMIR_MAX_PARTS];
	__m128i a0, a1;
	size_t i = 0, j;

	for (j = 0; j < k; j++)
		tables128(w[j], &tab[2 * j], &tab[2 * j + 1]);
	for (; i + 32 <= len; i += 32) {
		a0 = _mm_setzero_si128();
		a1 = _mm_setzero_si128();
		for (j = 0; j < k; j++) {
			a0 = _mm_xor_si128(a0,
			    mul128(
			        ld128(in[j] + i), tab[2 * j], tab[2 * j + 1]));
			a1 = _mm_xor_si128(a1,
			    mul128(ld128(in[j] + i + 16), tab[2 * j],
			        tab[2 * j + 1]));
		}
		st128(out + i, a0);
		st128(out + i + 16, a1);
	}
	kq_wipe(tab, 2 * k * sizeof(tab[0]));
	gf256_lincomb_tail(out, in, w, k, i, len);
}

TGT_SSSE3 static void
mul_ssse3(uint8_t *z, const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i = 0;

	for (; i + 16 <= n; i += 16)
		st128(z + i, vmul128(ld128(a + i), ld128(b + i)));
	gf256_mul_portable(z + i, a + i, b + i, n - i);
}

/* ---- AVX2: nibble tables, 32 lanes ------------------------------------ */

TGT_AVX2 static inline __m256i
xtime256(__m256i v)
{
	__m256i top = _mm256_cmpgt_epi8(_mm256_setzero_si256(), v);

	return _mm256_xor_si256(_mm256_add_epi8(v, v),
	    _mm256_and_si256(top, _mm256_set1_epi8(0x1b)));
}

TGT_AVX2 static inline void
tables256(uint8_t c, __m256i *lo, __m256i *hi)
{
	__m128i l, h;

	tables128(c, &l, &h);
	*lo = _mm256_broadcastsi128_si256(l);
	*hi = _mm256_broadcastsi128_si256(h);
}

TGT_AVX2 static inline __m256i
mul256(__m256i v, __m256i lo, __m256i hi)
{
	const __m256i m = _mm256_set1_epi8(0x0f);
	__m256i l = _mm256_and_si256(v, m);
	__m256i h = _mm256_and_si256(_mm256_srli_epi16(v, 4), m);

	return _mm256_xor_si256(
	    _mm256_shuffle_epi8(lo, l), _mm256_shuffle_epi8(hi, h));
}

TGT_AVX2 static inline __m256i
vmul256(__m256i a, __m256i b)
{
	__m256i r = _mm256_setzero_si256(), bit, m;
	int i;

	for (i = 0; i < 8; i++) {
		bit = _mm256_set1_epi8((char)(1 << i));
		m = _mm256_cmpeq_epi8(_mm256_and_si256(b, bit), bit);
		r = _mm256_xor_si256(r, _mm256_and_si256(a, m));
		a = xtime256(a);
	}
	return r;
}

TGT_AVX2 static inline __m256i
ld256(const uint8_t *p)
{
	return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

TGT_AVX2 static inline void
st256(uint8_t *p, __m256i v)
{
	_mm256_storeu_si256((__m256i *)(void *)p, v);
}

TGT_AVX2 static void
eval_avx2(uint8_t *out, const uint8_t *const *rows, size_t nrows, uint8_t x,
    size_t len)
{
	__m256i lo, hi, a0, a1;
	size_t i = 0, r;

	tables256(x, &lo, &hi);
	for (; i + 64 <= len; i += 64) {
		a0 = ld256(rows[nrows - 1] + i);
		a1 = ld256(rows[nrows - 1] + i + 32);
		for (r = nrows - 1; r-- > 0;) {
			a0 = _mm256_xor_si256(
			    mul256(a0, lo, hi), ld256(rows[r] + i));
			a1 = _mm256_xor_si256(
			    mul256(a1, lo, hi), ld256(rows[r] + i + 32));
		}
		st256(out + i, a0);
		st256(out + i + 32, a1);
	}
	gf256_eval_tail(out, rows, nrows, x, i, len);
}

TGT_AVX2 static void
lincomb_avx2(uint8_t *out, const uint8_t *const *in, const uint8_t *w, size_t k,
    size_t len)
{
	__m128i tab[2 * SHAMIR_MAX_PARTS];
	__m256i a0, a1, lo, hi;
	size_t i = 0, j;

	for (j = 0; j < k; j++)
		tables128(w[j], &tab[2 * j], &tab[2 * j + 1]);
	for (; i + 64 <= len; i += 64) {
		a0 = _mm256_setzero_si256();
		a1 = _mm256_setzero_si256();
		for (j = 0; j < k; j++) {
			lo = _mm256_broadcastsi128_si256(tab[2 * j]);
			hi = _mm256_broadcastsi128_si256(tab[2 * j + 1]);
			a0 = _mm256_xor_si256(
			    a0, mul256(ld256(in[j] + i), lo, hi));
			a1 = _mm256_xor_si256(
			    a1, mul256(ld256(in[j] + i + 32), lo, hi));
		}
		st256(out + i, a0);
		st256(out + i + 32, a1);
	}
	kq_wipe(tab, 2 * k * sizeof(tab[0]));
	gf256_lincomb_tail(out, in, w, k, i, len);
}

TGT_AVX2 static void
mul_avx2(uint8_t *z, const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i = 0;

	for (; i + 32 <= n; i += 32)
		st256(z + i, vmul256(ld256(a + i), ld256(b + i)));
	gf256_mul_portable(z + i, a + i, b + i, n - i);
}

/* ---- GFNI, VEX (AVX2) width ------------------------------------------ */

TGT_GFNI256 static void
eval_gfni256(uint8_t *out, const uint8_t *const *rows, size_t nrows, uint8_t x,
    size_t len)
{
	const __m256i xv = _mm256_set1_epi8((char)x);
	__m256i a0, a1, a2, a3;
	const uint8_t *p;
	size_t i = 0, r;

	for (; i + 128 <= len; i += 128) {
		p = rows[nrows - 1] + i;
		a0 = ld256(p);
		a1 = ld256(p + 32);
		a2 = ld256(p + 64);
		a3 = ld256(p + 96);
		for (r = nrows - 1; r-- > 0;) {
			p = rows[r] + i;
			a0 = _mm256_xor_si256(
			    _mm256_gf2p8mul_epi8(a0, xv), ld256(p));
			a1 = _mm256_xor_si256(
			    _mm256_gf2p8mul_epi8(a1, xv), ld256(p + 32));
			a2 = _mm256_xor_si256(
			    _mm256_gf2p8mul_epi8(a2, xv), ld256(p + 64));
			a3 = _mm256_xor_si256(
			    _mm256_gf2p8mul_epi8(a3, xv), ld256(p + 96));
		}
		st256(out + i, a0);
		st256(out + i + 32, a1);
		st256(out + i + 64, a2);
		st256(out + i + 96, a3);
	}
	for (; i + 32 <= len; i += 32) {
		a0 = ld256(rows[nrows - 1] + i);
		for (r = nrows - 1; r-- > 0;)
			a0 = _mm256_xor_si256(
			    _mm256_gf2p8mul_epi8(a0, xv), ld256(rows[r] + i));
		st256(out + i, a0);
	}
	gf256_eval_tail(out, rows, nrows, x, i, len);
}

TGT_GFNI256 static void
lincomb_gfni256(uint8_t *out, const uint8_t *const *in, const uint8_t *w,
    size_t k, size_t len)
{
	__m256i a0, a1, a2, a3, wv;
	const uint8_t *p;
	size_t i = 0, j;

	for (; i + 128 <= len; i += 128) {
		a0 = a1 = a2 = a3 = _mm256_setzero_si256();
		for (j = 0; j < k; j++) {
			wv = _mm256_set1_epi8((char)w[j]);
			p = in[j] + i;
			a0 = _mm256_xor_si256(
			    a0, _mm256_gf2p8mul_epi8(ld256(p), wv));
			a1 = _mm256_xor_si256(
			    a1, _mm256_gf2p8mul_epi8(ld256(p + 32), wv));
			a2 = _mm256_xor_si256(
			    a2, _mm256_gf2p8mul_epi8(ld256(p + 64), wv));
			a3 = _mm256_xor_si256(
			    a3, _mm256_gf2p8mul_epi8(ld256(p + 96), wv));
		}
		st256(out + i, a0);
		st256(out + i + 32, a1);
		st256(out + i + 64, a2);
		st256(out + i + 96, a3);
	}
	for (; i + 32 <= len; i += 32) {
		a0 = _mm256_setzero_si256();
		for (j = 0; j < k; j++)
			a0 = _mm256_xor_si256(a0,
			    _mm256_gf2p8mul_epi8(ld256(in[j] + i),
			        _mm256_set1_epi8((char)w[j])));
		st256(out + i, a0);
	}
	gf256_lincomb_tail(out, in, w, k, i, len);
}

TGT_GFNI256 static void
mul_gfni256(uint8_t *z, const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i = 0;

	for (; i + 32 <= n; i += 32)
		st256(z + i, _mm256_gf2p8mul_epi8(ld256(a + i), ld256(b + i)));
	gf256_mul_portable(z + i, a + i, b + i, n - i);
}

/* ---- GFNI, AVX-512 width; tails by masked loads and stores ------------ */

/* Mask of the first min(n, 64) lanes. */
static inline __mmask64
lanes(size_t n)
{
	return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}

TGT_GFNI512 static inline __m512i
ld512(const uint8_t *p)
{
	return _mm512_loadu_si512((const void *)p);
}

TGT_GFNI512 static inline void
st512(uint8_t *p, __m512i v)
{
	_mm512_storeu_si512((void *)p, v);
}

TGT_GFNI512 static inline __m512i
mul512(__m512i a, __m512i b)
{
	return _mm512_gf2p8mul_epi8(a, b);
}

TGT_GFNI512 static void
eval_gfni512(uint8_t *out, const uint8_t *const *rows, size_t nrows, uint8_t x,
    size_t len)
{
	const __m512i xv = _mm512_set1_epi8((char)x);
	__m512i a0, a1, a2, a3;
	const uint8_t *p;
	__mmask64 m;
	size_t i = 0, r;

	for (; i + 256 <= len; i += 256) {
		p = rows[nrows - 1] + i;
		a0 = ld512(p);
		a1 = ld512(p + 64);
		a2 = ld512(p + 128);
		a3 = ld512(p + 192);
		for (r = nrows - 1; r-- > 0;) {
			p = rows[r] + i;
			a0 = _mm512_xor_si512(mul512(a0, xv), ld512(p));
			a1 = _mm512_xor_si512(mul512(a1, xv), ld512(p + 64));
			a2 = _mm512_xor_si512(mul512(a2, xv), ld512(p + 128));
			a3 = _mm512_xor_si512(mul512(a3, xv), ld512(p + 192));
		}
		st512(out + i, a0);
		st512(out + i + 64, a1);
		st512(out + i + 128, a2);
		st512(out + i + 192, a3);
	}
	for (; i < len; i += 64) {
		m = lanes(len - i);
		a0 = _mm512_maskz_loadu_epi8(m, rows[nrows - 1] + i);
		for (r = nrows - 1; r-- > 0;)
			a0 = _mm512_xor_si512(mul512(a0, xv),
			    _mm512_maskz_loadu_epi8(m, rows[r] + i));
		_mm512_mask_storeu_epi8(out + i, m, a0);
	}
}

TGT_GFNI512 static void
lincomb_gfni512(uint8_t *out, const uint8_t *const *in, const uint8_t *w,
    size_t k, size_t len)
{
	__m512i a0, a1, a2, a3, wv;
	const uint8_t *p;
	__mmask64 m;
	size_t i = 0, j;

	for (; i + 256 <= len; i += 256) {
		a0 = a1 = a2 = a3 = _mm512_setzero_si512();
		for (j = 0; j < k; j++) {
			wv = _mm512_set1_epi8((char)w[j]);
			p = in[j] + i;
			a0 = _mm512_xor_si512(a0, mul512(ld512(p), wv));
			a1 = _mm512_xor_si512(a1, mul512(ld512(p + 64), wv));
			a2 = _mm512_xor_si512(a2, mul512(ld512(p + 128), wv));
			a3 = _mm512_xor_si512(a3, mul512(ld512(p + 192), wv));
		}
		st512(out + i, a0);
		st512(out + i + 64, a1);
		st512(out + i + 128, a2);
		st512(out + i + 192, a3);
	}
	for (; i < len; i += 64) {
		m = lanes(len - i);
		a0 = _mm512_setzero_si512();
		for (j = 0; j < k; j++)
			a0 = _mm512_xor_si512(a0,
			    mul512(_mm512_maskz_loadu_epi8(m, in[j] + i),
			        _mm512_set1_epi8((char)w[j])));
		_mm512_mask_storeu_epi8(out + i, m, a0);
	}
}

/*
 * lincomb_stream at AVX-512 width: the bytes before out's first 64-byte
 * boundary by lincomb_gfni512, then whole lines by streaming stores (the
 * inputs are read unaligned, as everywhere), the rest by lincomb_gfni512.
 */
TGT_GFNI512 static void
lincomb_stream_gfni512(uint8_t *out, const uint8_t *const *in, const uint8_t *w,
    size_t k, size_t len)
{
	const uint8_t *sub[SHAMIR_MAX_PARTS];
	__m512i a0, a1, a2, a3, wv;
	const uint8_t *p;
	size_t i, j, head = (size_t)(-(uintptr_t)out & 63);

	if (head > len)
		head = len;
	lincomb_gfni512(out, in, w, k, head);
	for (i = head; i + 256 <= len; i += 256) {
		a0 = a1 = a2 = a3 = _mm512_setzero_si512();
		for (j = 0; j < k; j++) {
			wv = _mm512_set1_epi8((char)w[j]);
			p = in[j] + i;
			a0 = _mm512_xor_si512(a0, mul512(ld512(p), wv));
			a1 = _mm512_xor_si512(a1, mul512(ld512(p + 64), wv));
			a2 = _mm512_xor_si512(a2, mul512(ld512(p + 128), wv));
			a3 = _mm512_xor_si512(a3, mul512(ld512(p + 192), wv));
		}
		_mm512_stream_si512((void *)(out + i), a0);
		_mm512_stream_si512((void *)(out + i + 64), a1);
		_mm512_stream_si512((void *)(out + i + 128), a2);
		_mm512_stream_si512((void *)(out + i + 192), a3);
	}
	_mm_sfence();
	for (j = 0; j < k; j++)
		sub[j] = in[j] + i;
	lincomb_gfni512(out + i, sub, w, k, len - i);
}

TGT_GFNI512 static uint8_t
lincomb_diff_gfni512(const uint8_t *ref, const uint8_t *const *in,
    const uint8_t *w, size_t k, size_t len)
{
	__m512i a0, a1, a2, a3, wv, acc = _mm512_setzero_si512();
	__m256i h;
	__m128i q;
	const uint8_t *p;
	__mmask64 m;
	size_t i = 0, j;
	uint64_t d;

	for (; i + 256 <= len; i += 256) {
		a0 = ld512(ref + i);
		a1 = ld512(ref + i + 64);
		a2 = ld512(ref + i + 128);
		a3 = ld512(ref + i + 192);
		for (j = 0; j < k; j++) {
			wv = _mm512_set1_epi8((char)w[j]);
			p = in[j] + i;
			a0 = _mm512_xor_si512(a0, mul512(ld512(p), wv));
			a1 = _mm512_xor_si512(a1, mul512(ld512(p + 64), wv));
			a2 = _mm512_xor_si512(a2, mul512(ld512(p + 128), wv));
			a3 = _mm512_xor_si512(a3, mul512(ld512(p + 192), wv));
		}
		/*
		 * acc |= a0 | a1 | a2 | a3, in plain ORs (the compiler fuses
		 * them): MemorySanitizer, which checks the GFNI kernels for
		 * constant time (tests/integration/ct-msan.sh), propagates
		 * through OR but checks vpternlog's operands strictly.
		 */
		acc = _mm512_or_si512(acc, _mm512_or_si512(a0, a1));
		acc = _mm512_or_si512(acc, _mm512_or_si512(a2, a3));
	}
	for (; i < len; i += 64) {
		m = lanes(len - i);
		a0 = _mm512_maskz_loadu_epi8(m, ref + i);
		for (j = 0; j < k; j++)
			a0 = _mm512_xor_si512(a0,
			    mul512(_mm512_maskz_loadu_epi8(m, in[j] + i),
			        _mm512_set1_epi8((char)w[j])));
		acc = _mm512_or_si512(acc, a0);
	}
	h = _mm256_or_si256(
	    _mm512_castsi512_si256(acc), _mm512_extracti64x4_epi64(acc, 1));
	q = _mm_or_si128(
	    _mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
	d = (uint64_t)_mm_cvtsi128_si64(q) |
	    (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(q, q));
	d |= d >> 32;
	d |= d >> 16;
	d |= d >> 8;
	return (uint8_t)d;
}

TGT_GFNI512 static void
mul_gfni512(uint8_t *z, const uint8_t *a, const uint8_t *b, size_t n)
{
	__mmask64 m;
	size_t i;

	for (i = 0; i < n; i += 64) {
		m = lanes(n - i);
		_mm512_mask_storeu_epi8(z + i, m,
		    mul512(_mm512_maskz_loadu_epi8(m, a + i),
		        _mm512_maskz_loadu_epi8(m, b + i)));
	}
}

/* ---- evaluation at many points, Lagrange weights ---------------------- */

/*
 * Lagrange weights with every lane in a register (n <= 64): num and den
 * accumulate over j, lane j taking the factor 1 (a mask from the public
 * index j); then num * den^254.
 */
TGT_GFNI512 static void
lagrange_gfni512(const uint8_t *x, size_t n, uint8_t *w)
{
	const __m512i one = _mm512_set1_epi8(1);
	__m512i xv, xj, num, den, a, b;
	__mmask64 m;
	size_t j;

	if (n > 64) {
		gf256_lagrange_with(mul_gfni512, x, n, w);
		return;
	}
	xv = _mm512_maskz_loadu_epi8(lanes(n), x);
	num = den = one;
	for (j = 0; j < n; j++) {
		xj = _mm512_set1_epi8((char)x[j]);
		m = (__mmask64)1 << j;
		num = mul512(num, _mm512_mask_blend_epi8(m, xj, one));
		den = mul512(den,
		    _mm512_mask_blend_epi8(m, _mm512_xor_si512(xv, xj), one));
	}
	/* den^254 = den^-1 by the chain 2 3 6 12 15 30 60 63 126 127 254 */
	a = mul512(den, den);
	b = mul512(a, den);
	a = mul512(b, b);
	a = mul512(a, a);
	a = mul512(a, b);
	a = mul512(a, a);
	a = mul512(a, a);
	a = mul512(a, b);
	a = mul512(a, a);
	a = mul512(a, den);
	a = mul512(a, a);
	_mm512_mask_storeu_epi8(w, lanes(n), mul512(num, a));
}

/*
 * eval at many points, power form: outs[j] = rows[0] ^ sum over r >= 1 of
 * rows[r] * xs[j]^r.  The powers are computed once per call, 64 points to
 * a vector, into pw (row r - 1 of pw holds xs[j]^r at j); then each chunk
 * of every row is loaded once and every product is independent of the
 * others, so the multiplies run at the unit's throughput instead of at
 * the latency of Horner's chain.  Used for nrows <= EVAL_POW_ROWS and
 * nout <= 64 (the usual thresholds and share counts); Horner otherwise.
 */
#define EVAL_POW_ROWS 8

/* pw[(r - 1) * 64 + j] = xs[j]^r for 1 <= r < nrows, j < nout <= 64. */
TGT_GFNI512 static void
eval_powers512(uint8_t *pw, const uint8_t *xs, size_t nout, size_t nrows)
{
	__m512i xv = _mm512_maskz_loadu_epi8(lanes(nout), xs), p = xv;
	size_t r;

	for (r = 1; r < nrows; r++) {
		_mm512_storeu_si512((void *)(pw + (r - 1) * 64), p);
		p = mul512(p, xv);
	}
}

/*
 * One call of the power form over len bytes; inlined with a constant
 * nrows for the common thresholds, so the row loops unroll and the rows
 * stay in registers.  Four vectors (256 bytes) per row per step.
 */
TGT_GFNI512 static inline __attribute__((always_inline)) void
eval_pow512(uint8_t *const *outs, size_t nout, const uint8_t *const *rows,
    size_t nrows, size_t len, const uint8_t *pw)
{
	__m512i v0[EVAL_POW_ROWS], v1[EVAL_POW_ROWS], v2[EVAL_POW_ROWS];
	__m512i v3[EVAL_POW_ROWS], a0, a1, a2, a3, p;
	__mmask64 m;
	size_t i, j, r;

	for (i = 0; i + 256 <= len; i += 256) {
#pragma GCC unroll 8
		for (r = 0; r < nrows; r++) {
			v0[r] = ld512(rows[r] + i);
			v1[r] = ld512(rows[r] + i + 64);
			v2[r] = ld512(rows[r] + i + 128);
			v3[r] = ld512(rows[r] + i + 192);
		}
		for (j = 0; j < nout; j++) {
			a0 = v0[0];
			a1 = v1[0];
			a2 = v2[0];
			a3 = v3[0];
#pragma GCC unroll 8
			for (r = 1; r < nrows; r++) {
				p = _mm512_set1_epi8(
				    (char)pw[(r - 1) * 64 + j]);
				a0 = _mm512_xor_si512(a0, mul512(v0[r], p));
				a1 = _mm512_xor_si512(a1, mul512(v1[r], p));
				a2 = _mm512_xor_si512(a2, mul512(v2[r], p));
				a3 = _mm512_xor_si512(a3, mul512(v3[r], p));
			}
			st512(outs[j] + i, a0);
			st512(outs[j] + i + 64, a1);
			st512(outs[j] + i + 128, a2);
			st512(outs[j] + i + 192, a3);
		}
	}
	for (; i < len; i += 64) {
		m = lanes(len - i);
#pragma GCC unroll 8
		for (r = 0; r < nrows; r++)
			v0[r] = _mm512_maskz_loadu_epi8(m, rows[r] + i);
		for (j = 0; j < nout; j++) {
			a0 = v0[0];
#pragma GCC unroll 8
			for (r = 1; r < nrows; r++)
				a0 = _mm512_xor_si512(a0,
				    mul512(v0[r],
				        _mm512_set1_epi8(
				            (char)pw[(r - 1) * 64 + j])));
			_mm512_mask_storeu_epi8(outs[j] + i, m, a0);
		}
	}
}

/*
 * Horner's rule, for many rows or points: each 64-byte chunk of every row
 * is loaded once into v (registers or L1), then every point's chain runs
 * from there.
 */
TGT_GFNI512 static void
eval_horner512(uint8_t *const *outs, const uint8_t *xs, size_t nout,
    const uint8_t *const *rows, size_t nrows, size_t len)
{
	__m512i v[2 * SHAMIR_MAX_PARTS], a, b, xv;
	__mmask64 m;
	size_t i, j, r;

	for (i = 0; i + 128 <= len; i += 128) {
		for (r = 0; r < nrows; r++) {
			v[2 * r] = ld512(rows[r] + i);
			v[2 * r + 1] = ld512(rows[r] + i + 64);
		}
		for (j = 0; j < nout; j++) {
			xv = _mm512_set1_epi8((char)xs[j]);
			a = v[2 * nrows - 2];
			b = v[2 * nrows - 1];
			for (r = nrows - 1; r-- > 0;) {
				a = _mm512_xor_si512(mul512(a, xv), v[2 * r]);
				b = _mm512_xor_si512(
				    mul512(b, xv), v[2 * r + 1]);
			}
			st512(outs[j] + i, a);
			st512(outs[j] + i + 64, b);
		}
	}
	for (; i < len; i += 64) {
		m = lanes(len - i);
		for (r = 0; r < nrows; r++)
			v[r] = _mm512_maskz_loadu_epi8(m, rows[r] + i);
		for (j = 0; j < nout; j++) {
			xv = _mm512_set1_epi8((char)xs[j]);
			a = v[nrows - 1];
			for (r = nrows - 1; r-- > 0;)
				a = _mm512_xor_si512(mul512(a, xv), v[r]);
			_mm512_mask_storeu_epi8(outs[j] + i, m, a);
		}
	}
	kq_wipe(v, 2 * nrows * sizeof(v[0]));
}

TGT_GFNI512 static void
eval_multi_gfni512(uint8_t *const *outs, const uint8_t *xs, size_t nout,
    const uint8_t *const *rows, size_t nrows, size_t len)
{
	uint8_t pw[(EVAL_POW_ROWS - 1) * 64];

	if (nrows < 2 || nrows > EVAL_POW_ROWS || nout > 64) {
		eval_horner512(outs, xs, nout, rows, nrows, len);
		return;
	}
	eval_powers512(pw, xs, nout, nrows);
	/* A constant nrows per case: see eval_pow512. */
	switch (nrows) {
	case 2:
		eval_pow512(outs, nout, rows, 2, len, pw);
		break;
	case 3:
		eval_pow512(outs, nout, rows, 3, len, pw);
		break;
	case 4:
		eval_pow512(outs, nout, rows, 4, len, pw);
		break;
	case 5:
		eval_pow512(outs, nout, rows, 5, len, pw);
		break;
	case 6:
		eval_pow512(outs, nout, rows, 6, len, pw);
		break;
	case 7:
		eval_pow512(outs, nout, rows, 7, len, pw);
		break;
	default:
		eval_pow512(outs, nout, rows, 8, len, pw);
		break;
	}
	kq_wipe(pw, (nrows - 1) * 64);
}

#define EVAL_MULTI_WITH(name, eval)                                            \
	static void name(uint8_t *const *outs, const uint8_t *xs, size_t nout, \
	    const uint8_t *const *rows, size_t nrows, size_t len)              \
	{                                                                      \
		gf256_eval_multi_with(eval, outs, xs, nout, rows, nrows, len); \
	}
EVAL_MULTI_WITH(eval_multi_ssse3, eval_ssse3)
EVAL_MULTI_WITH(eval_multi_avx2, eval_avx2)

/*
 * Horner's rule at VEX width, for many rows or points (as
 * eval_horner512); the tail bytes go to the portable code.
 */
TGT_GFNI256 static void
eval_horner256(uint8_t *const *outs, const uint8_t *xs, size_t nout,
    const uint8_t *const *rows, size_t nrows, size_t len)
{
	__m256i v[2 * SHAMIR_MAX_PARTS], a, b, xv;
	size_t i, j, r;

	for (i = 0; i + 64 <= len; i += 64) {
		for (r = 0; r < nrows; r++) {
			v[2 * r] = ld256(rows[r] + i);
			v[2 * r + 1] = ld256(rows[r] + i + 32);
		}
		for (j = 0; j < nout; j++) {
			xv = _mm256_set1_epi8((char)xs[j]);
			a = v[2 * nrows - 2];
			b = v[2 * nrows - 1];
			for (r = nrows - 1; r-- > 0;) {
				a = _mm256_xor_si256(
				    _mm256_gf2p8mul_epi8(a, xv), v[2 * r]);
				b = _mm256_xor_si256(
				    _mm256_gf2p8mul_epi8(b, xv), v[2 * r + 1]);
			}
			st256(outs[j] + i, a);
			st256(outs[j] + i + 32, b);
		}
	}
	kq_wipe(v, 2 * nrows * sizeof(v[0]));
	for (j = 0; i < len && j < nout; j++)
		gf256_eval_tail(outs[j], rows, nrows, xs[j], i, len);
}

/* pw[(r - 1) * 32 + j] = xs[j]^r for 1 <= r < nrows, j < nout <= 32. */
TGT_GFNI256 static void
eval_powers256(uint8_t *pw, const uint8_t *xs, size_t nout, size_t nrows)
{
	uint8_t x[32] = {0};
	__m256i xv, p;
	size_t r;

	memcpy(x, xs, nout);
	xv = p = ld256(x);
	for (r = 1; r < nrows; r++) {
		st256(pw + (r - 1) * 32, p);
		p = _mm256_gf2p8mul_epi8(p, xv);
	}
	kq_wipe(x, sizeof(x));
}

/*
 * The power form (see eval_pow512) at VEX width, two vectors (64 bytes)
 * per row per step; inlined with a constant nrows.
 */
TGT_GFNI256 static inline __attribute__((always_inline)) void
eval_pow256(uint8_t *const *outs, const uint8_t *xs, size_t nout,
    const uint8_t *const *rows, size_t nrows, size_t len, const uint8_t *pw)
{
	__m256i v0[EVAL_POW_ROWS], v1[EVAL_POW_ROWS], a0, a1, p;
	size_t i, j, r;

	for (i = 0; i + 64 <= len; i += 64) {
#pragma GCC unroll 8
		for (r = 0; r < nrows; r++) {
			v0[r] = ld256(rows[r] + i);
			v1[r] = ld256(rows[r] + i + 32);
		}
		for (j = 0; j < nout; j++) {
			a0 = v0[0];
			a1 = v1[0];
#pragma GCC unroll 8
			for (r = 1; r < nrows; r++) {
				p = _mm256_set1_epi8(
				    (char)pw[(r - 1) * 32 + j]);
				a0 = _mm256_xor_si256(
				    a0, _mm256_gf2p8mul_epi8(v0[r], p));
				a1 = _mm256_xor_si256(
				    a1, _mm256_gf2p8mul_epi8(v1[r], p));
			}
			st256(outs[j] + i, a0);
			st256(outs[j] + i + 32, a1);
		}
	}
	for (j = 0; i < len && j < nout; j++)
		gf256_eval_tail(outs[j], rows, nrows, xs[j], i, len);
}

TGT_GFNI256 static void
eval_multi_gfni256(uint8_t *const *outs, const uint8_t *xs, size_t nout,
    const uint8_t *const *rows, size_t nrows, size_t len)
{
	uint8_t pw[(EVAL_POW_ROWS - 1) * 32];

	if (nrows < 2 || nrows > 5 || nout > 32) {
		eval_horner256(outs, xs, nout, rows, nrows, len);
		return;
	}
	eval_powers256(pw, xs, nout, nrows);
	/* A constant nrows per case; 16 ymm registers hold up to 5 rows. */
	switch (nrows) {
	case 2:
		eval_pow256(outs, xs, nout, rows, 2, len, pw);
		break;
	case 3:
		eval_pow256(outs, xs, nout, rows, 3, len, pw);
		break;
	case 4:
		eval_pow256(outs, xs, nout, rows, 4, len, pw);
		break;
	default:
		eval_pow256(outs, xs, nout, rows, 5, len, pw);
		break;
	}
	kq_wipe(pw, (nrows - 1) * 32);
}

static void
lagrange_gfni256(const uint8_t *x, size_t n, uint8_t *w)
{
	gf256_lagrange_with(mul_gfni256, x, n, w);
}

static void
lagrange_avx2(const uint8_t *x, size_t n, uint8_t *w)
{
	gf256_lagrange_with(mul_avx2, x, n, w);
}

static void
lagrange_ssse3(const uint8_t *x, size_t n, uint8_t *w)
{
	gf256_lagrange_with(mul_ssse3, x, n, w);
}

const struct gf256_kernel gf256_kernel_ssse3 = {
    .id = SHAMIR_KERNEL_SSSE3,
    .name = "ssse3",
    .usable = usable_ssse3,
    .eval = eval_ssse3,
    .lincomb = lincomb_ssse3,
    .eval_multi = eval_multi_ssse3,
    .mul = mul_ssse3,
    .lagrange = lagrange_ssse3,
};

const struct gf256_kernel gf256_kernel_avx2 = {
    .id = SHAMIR_KERNEL_AVX2,
    .name = "avx2",
    .usable = usable_avx2,
    .eval = eval_avx2,
    .lincomb = lincomb_avx2,
    .eval_multi = eval_multi_avx2,
    .mul = mul_avx2,
    .lagrange = lagrange_avx2,
};

const struct gf256_kernel gf256_kernel_gfni256 = {
    .id = SHAMIR_KERNEL_GFNI,
    .name = "gfni-avx2",
    .usable = usable_gfni256,
    .eval = eval_gfni256,
    .lincomb = lincomb_gfni256,
    .eval_multi = eval_multi_gfni256,
    .mul = mul_gfni256,
    .lagrange = lagrange_gfni256,
};

const struct gf256_kernel gf256_kernel_gfni512 = {
    .id = SHAMIR_KERNEL_GFNI,
    .name = "gfni-avx512",
    .usable = usable_gfni512,
    .eval = eval_gfni512,
    .lincomb = lincomb_gfni512,
    .lincomb_stream = lincomb_stream_gfni512,
    .lincomb_diff = lincomb_diff_gfni512,
    .eval_multi = eval_multi_gfni512,
    .mul = mul_gfni512,
    .lagrange = lagrange_gfni512,
};

#endif /* x86 */
