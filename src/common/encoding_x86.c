/*
 * keyquorum: hex and base64 kernels for x86-64 (AVX2, AVX-512 VBMI),
 * behind encoding_impl.h.
 *
 * AVX-512 VBMI: 64 characters at a time; the 128-entry ASCII tables sit in
 * two registers and are looked up with VPERMI2B, the 6-bit fields of the
 * encoder are cut out with VPMULTISHIFTQB and mapped by VPERMB.
 *
 * Each function carries its own target attribute, so the rest of the build
 * needs no -m flag; kq_codec_kernel() picks one only when CPUID (and the OS,
 * for the wide registers) says it can run.
 *
 * Constant time: characters are classified with compares, or with two
 * 16-entry nibble tables looked up by VPSHUFB, a register permutation whose
 * timing does not depend on the indices (no memory is indexed by data);
 * errors are ORed into a vector looked at once, at the end; loads and
 * stores go where the lengths say.
 *
 * Base64 decode: a character is in the alphabet when
 * lo_tab[low nibble] & hi_tab[high nibble] == 0, where each bit of the
 * tables stands for a set of low nibbles that is invalid after some high
 * nibbles.  Its value is the character plus a shift chosen by its high
 * nibble ('/' shares its high nibble with '+' and gets its own entry).
 * Four 6-bit values are packed into three bytes with two multiply-adds.
 * Base64 encode: each 32-bit lane gets bytes (b, a, c, b) of a 3-byte
 * group, two 16-bit multiplies move the four 6-bit fields into bytes, and a
 * 16-entry table of per-range offsets maps them to characters.
 */
#include "common/encoding_impl.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#include "common/cpu.h"

#define TGT_AVX2 __attribute__((target("avx2")))

/* KQ_CPU (common/cpu.h) also checks that the OS saves the registers. */
static int
usable_avx2(void)
{
	return KQ_CPU(AVX2);
}

TGT_AVX2 static size_t
avx2_hex_enc(char *out, const uint8_t *in, size_t n)
{
	const __m256i lut = _mm256_setr_epi8('0', '1', '2', '3', '4', '5', '6',
	    '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', '0', '1', '2', '3',
	    '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f');
	const __m256i nib = _mm256_set1_epi8(0x0f);
	size_t i = 0;

	for (; n - i >= 32; i += 32) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(in + i));
		__m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), nib);
		__m256i lo = _mm256_and_si256(x, nib);
		__m256i a =
		    _mm256_shuffle_epi8(lut, _mm256_unpacklo_epi8(hi, lo));
		__m256i b =
		    _mm256_shuffle_epi8(lut, _mm256_unpackhi_epi8(hi, lo));

		_mm256_storeu_si256((__m256i *)(out + 2 * i),
		    _mm256_permute2x128_si256(a, b, 0x20));
		_mm256_storeu_si256((__m256i *)(out + 2 * i + 32),
		    _mm256_permute2x128_si256(a, b, 0x31));
	}
	return i;
}

/* 32 hex digits to 16 bytes in 16-bit lanes (hi * 16 + lo); bad ORed. */
TGT_AVX2 static inline __m256i
avx2_hex_val(__m256i x, __m256i *bad)
{
	const __m256i l = _mm256_or_si256(x, _mm256_set1_epi8(0x20));
	const __m256i dg =
	    _mm256_and_si256(_mm256_cmpgt_epi8(x, _mm256_set1_epi8('0' - 1)),
	        _mm256_cmpgt_epi8(_mm256_set1_epi8('9' + 1), x));
	const __m256i lt =
	    _mm256_and_si256(_mm256_cmpgt_epi8(l, _mm256_set1_epi8('a' - 1)),
	        _mm256_cmpgt_epi8(_mm256_set1_epi8('f' + 1), l));
	__m256i v;

	*bad = _mm256_or_si256(*bad,
	    _mm256_andnot_si256(
	        _mm256_or_si256(dg, lt), _mm256_set1_epi8((char)0xff)));
	v = _mm256_or_si256(
	    _mm256_and_si256(dg, _mm256_sub_epi8(x, _mm256_set1_epi8('0'))),
	    _mm256_and_si256(
	        lt, _mm256_sub_epi8(l, _mm256_set1_epi8('a' - 10))));
	return _mm256_maddubs_epi16(v, _mm256_set1_epi16(0x0110));
}

/* Nonzero when any byte of v is. */
TGT_AVX2 static inline uint32_t
avx2_any(__m256i v)
{
	return ~(uint32_t)_mm256_movemask_epi8(
	    _mm256_cmpeq_epi8(v, _mm256_setzero_si256()));
}

TGT_AVX2 static size_t
avx2_hex_dec(uint8_t *out, const char *in, size_t inlen, uint32_t *err)
{
	__m256i bad = _mm256_setzero_si256();
	size_t i = 0;

	for (; inlen - i >= 64; i += 64) {
		__m256i a = avx2_hex_val(
		    _mm256_loadu_si256((const __m256i *)(in + i)), &bad);
		__m256i b = avx2_hex_val(
		    _mm256_loadu_si256((const __m256i *)(in + i + 32)), &bad);

		_mm256_storeu_si256((__m256i *)(out + i / 2),
		    _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xd8));
	}
	*err |= avx2_any(bad);
	return i;
}

TGT_AVX2 static size_t
avx2_b64_enc(char *out, const uint8_t *in, size_t n)
{
	const __m256i shuf =
	    _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
	        1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
	/* Offsets: [0] 26..51, [1..10] 52..61, [11] 62, [12] 63, [13] 0..25. */
	const __m256i lut =
	    _mm256_setr_epi8('a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
	        '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
	        '+' - 62, '/' - 63, 'A', 0, 0, 'a' - 26, '0' - 52, '0' - 52,
	        '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
	        '0' - 52, '0' - 52, '+' - 62, '/' - 63, 'A', 0, 0);
	size_t i = 0, o = 0;

	/* Two 16-byte loads, 12 bytes used from each: 28 bytes readable. */
	for (; n - i >= 28; i += 24, o += 32) {
		__m256i x = _mm256_inserti128_si256(
		    _mm256_castsi128_si256(
		        _mm_loadu_si128((const __m128i *)(in + i))),
		    _mm_loadu_si128((const __m128i *)(in + i + 12)), 1);
		__m256i idx, cls;

		x = _mm256_shuffle_epi8(x, shuf);
		idx = _mm256_or_si256(
		    _mm256_mulhi_epu16(
		        _mm256_and_si256(x, _mm256_set1_epi32(0x0fc0fc00)),
		        _mm256_set1_epi32(0x04000040)),
		    _mm256_mullo_epi16(
		        _mm256_and_si256(x, _mm256_set1_epi32(0x003f03f0)),
		        _mm256_set1_epi32(0x01000010)));
		cls =
		    _mm256_or_si256(_mm256_subs_epu8(idx, _mm256_set1_epi8(51)),
		        _mm256_and_si256(
		            _mm256_cmpgt_epi8(_mm256_set1_epi8(26), idx),
		            _mm256_set1_epi8(13)));
		_mm256_storeu_si256((__m256i *)(out + o),
		    _mm256_add_epi8(idx, _mm256_shuffle_epi8(lut, cls)));
	}
	return i;
}

TGT_AVX2 static size_t
avx2_b64_dec(uint8_t *out, const char *in, size_t inlen, uint32_t *err)
{
	/* Bit 0: high nibble 0, 1, 8..15; 1: 2; 2: 3; 3: 4, 6; 4: 5, 7. */
	const __m256i lo_tab = _mm256_setr_epi8(0x0b, 0x03, 0x03, 0x03, 0x03,
	    0x03, 0x03, 0x03, 0x03, 0x03, 0x07, 0x15, 0x17, 0x17, 0x17, 0x15,
	    0x0b, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x07,
	    0x15, 0x17, 0x17, 0x17, 0x15);
	const __m256i hi_tab = _mm256_setr_epi8(0x01, 0x01, 0x02, 0x04, 0x08,
	    0x10, 0x08, 0x10, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
	    0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x08, 0x10, 0x01, 0x01, 0x01,
	    0x01, 0x01, 0x01, 0x01, 0x01);
	/* Shift by high nibble; entry 1 is '/' (high nibble 2, minus 1). */
	const __m256i shift = _mm256_setr_epi8(0, 63 - '/', 62 - '+', 52 - '0',
	    -'A', -'A', 26 - 'a', 26 - 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 63 - '/',
	    62 - '+', 52 - '0', -'A', -'A', 26 - 'a', 26 - 'a', 0, 0, 0, 0, 0,
	    0, 0, 0);
	const __m256i pack =
	    _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1,
	        -1, 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	const __m256i nib = _mm256_set1_epi8(0x0f);
	__m256i bad = _mm256_setzero_si256();
	size_t i = 0, o = 0;

	for (; inlen - i >= 32; i += 32, o += 24) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(in + i));
		__m256i hn = _mm256_and_si256(_mm256_srli_epi32(x, 4), nib);
		__m256i slash = _mm256_cmpeq_epi8(x, _mm256_set1_epi8('/'));
		__m256i v;

		bad = _mm256_or_si256(bad,
		    _mm256_and_si256(
		        _mm256_shuffle_epi8(lo_tab, _mm256_and_si256(x, nib)),
		        _mm256_shuffle_epi8(hi_tab, hn)));
		v = _mm256_add_epi8(
		    x, _mm256_shuffle_epi8(shift, _mm256_add_epi8(hn, slash)));
		v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
		v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
		v = _mm256_shuffle_epi8(v, pack);
		v = _mm256_permutevar8x32_epi32(
		    v, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
		_mm_storeu_si128(
		    (__m128i *)(out + o), _mm256_castsi256_si128(v));
		_mm_storel_epi64(
		    (__m128i *)(out + o + 16), _mm256_extracti128_si256(v, 1));
	}
	*err |= avx2_any(bad);
	return i;
}

static const struct kq_codec_kernel codec_avx2 = {
    .name = "avx2",
    .usable = usable_avx2,
    .hex_enc = avx2_hex_enc,
    .hex_dec = avx2_hex_dec,
    .b64_enc = avx2_b64_enc,
    .b64_dec = avx2_b64_dec,
};

/* ---- AVX-512 VBMI: 128-entry tables in two registers (VPERMI2B) ------ */

#define TGT_VBMI __attribute__((target("avx512f,avx512bw,avx512vbmi")))

static int
usable_vbmi(void)
{
	return KQ_CPU(AVX512F) && KQ_CPU(AVX512BW) && KQ_CPU(AVX512_VBMI);
}

/*
 * ASCII to value; 0x80 for characters outside the alphabet.  Bytes 0x80 and
 * up index these by their low 7 bits, and are caught by their own top bit.
 * Loaded whole into registers: no address depends on a character.
 */
static const uint8_t vbmi_b64_tab[128] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x3e, 0x80, 0x80, 0x80, 0x3f, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
    0x3a, 0x3b, 0x3c, 0x3d, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
    0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
    0x19, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e,
    0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
    0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x80, 0x80, 0x80,
    0x80, 0x80};
static const uint8_t vbmi_hex_tab[128] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
    0x06, 0x07, 0x08, 0x09, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x0a,
    0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
    0x0f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80};

static const char vbmi_b64_chars[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Nonzero when the top bit of any byte of v is set. */
TGT_VBMI static inline uint32_t
vbmi_any(__m512i v)
{
	uint64_t m = _mm512_movepi8_mask(v);

	return (uint32_t)(m | (m >> 32));
}

TGT_VBMI static size_t
vbmi_hex_enc(char *out, const uint8_t *in, size_t n)
{
	const __m512i lut = _mm512_broadcast_i32x4(
	    _mm_loadu_si128((const __m128i *)"0123456789abcdef"));
	const __m512i nib = _mm512_set1_epi16(0x0f);
	size_t i = 0;

	for (; n - i >= 32; i += 32) {
		__m512i x = _mm512_cvtepu8_epi16(
		    _mm256_loadu_si256((const __m256i *)(in + i)));
		__m512i t = _mm512_or_si512(_mm512_srli_epi16(x, 4),
		    _mm512_slli_epi16(_mm512_and_si512(x, nib), 8));

		_mm512_storeu_si512(
		    (void *)(out + 2 * i), _mm512_shuffle_epi8(lut, t));
	}
	return i;
}

TGT_VBMI static size_t
vbmi_hex_dec(uint8_t *out, const char *in, size_t inlen, uint32_t *err)
{
	const __m512i lo = _mm512_loadu_si512((const void *)vbmi_hex_tab);
	const __m512i hi =
	    _mm512_loadu_si512((const void *)(vbmi_hex_tab + 64));
	__m512i bad = _mm512_setzero_si512();
	size_t i = 0;

	for (; inlen - i >= 64; i += 64) {
		__m512i x = _mm512_loadu_si512((const void *)(in + i));
		__m512i v = _mm512_permutex2var_epi8(lo, x, hi);

		bad = _mm512_or_si512(bad, _mm512_or_si512(x, v));
		v = _mm512_maddubs_epi16(v, _mm512_set1_epi16(0x0110));
		_mm256_storeu_si256(
		    (__m256i *)(out + i / 2), _mm512_cvtepi16_epi8(v));
	}
	*err |= vbmi_any(bad);
	return i;
}

TGT_VBMI static size_t
vbmi_b64_enc(char *out, const uint8_t *in, size_t n)
{
	/* Bytes (b, a, c, b) of each 3-byte group into each 32-bit lane. */
	const __m512i spread =
	    _mm512_set_epi8(46, 47, 45, 46, 43, 44, 42, 43, 40, 41, 39, 40, 37,
	        38, 36, 37, 34, 35, 33, 34, 31, 32, 30, 31, 28, 29, 27, 28, 25,
	        26, 24, 25, 22, 23, 21, 22, 19, 20, 18, 19, 16, 17, 15, 16, 13,
	        14, 12, 13, 10, 11, 9, 10, 7, 8, 6, 7, 4, 5, 3, 4, 1, 2, 0, 1);
	/* Bit offsets of the four 6-bit fields in each 32-bit lane. */
	const __m512i shifts = _mm512_set1_epi64(0x3036242a1016040aLL);
	const __m512i chars = _mm512_loadu_si512((const void *)vbmi_b64_chars);
	size_t i = 0, o = 0;

	for (; n - i >= 48; i += 48, o += 64) {
		__m512i x =
		    _mm512_maskz_loadu_epi8(0x0000ffffffffffffULL, in + i);

		x = _mm512_permutexvar_epi8(spread, x);
		x = _mm512_multishift_epi64_epi8(shifts, x);
		/* VPERMB uses the low 6 bits of each index. */
		_mm512_storeu_si512(
		    (void *)(out + o), _mm512_permutexvar_epi8(x, chars));
	}
	return i;
}

TGT_VBMI static size_t
vbmi_b64_dec(uint8_t *out, const char *in, size_t inlen, uint32_t *err)
{
	const __m512i lo = _mm512_loadu_si512((const void *)vbmi_b64_tab);
	const __m512i hi =
	    _mm512_loadu_si512((const void *)(vbmi_b64_tab + 64));
	/* The three bytes of each 32-bit lane, most significant first. */
	const __m512i pack = _mm512_set_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 60, 61, 62, 56, 57, 58, 52, 53, 54, 48, 49, 50, 44, 45,
	    46, 40, 41, 42, 36, 37, 38, 32, 33, 34, 28, 29, 30, 24, 25, 26, 20,
	    21, 22, 16, 17, 18, 12, 13, 14, 8, 9, 10, 4, 5, 6, 0, 1, 2);
	__m512i bad = _mm512_setzero_si512();
	size_t i = 0, o = 0;

	for (; inlen - i >= 64; i += 64, o += 48) {
		__m512i x = _mm512_loadu_si512((const void *)(in + i));
		__m512i v = _mm512_permutex2var_epi8(lo, x, hi);

		bad = _mm512_or_si512(bad, _mm512_or_si512(x, v));
		v = _mm512_maddubs_epi16(v, _mm512_set1_epi32(0x01400140));
		v = _mm512_madd_epi16(v, _mm512_set1_epi32(0x00011000));
		v = _mm512_permutexvar_epi8(pack, v);
		_mm512_mask_storeu_epi8(out + o, 0x0000ffffffffffffULL, v);
	}
	*err |= vbmi_any(bad);
	return i;
}

static const struct kq_codec_kernel codec_vbmi = {
    .name = "avx512vbmi",
    .usable = usable_vbmi,
    .hex_enc = vbmi_hex_enc,
    .hex_dec = vbmi_hex_dec,
    .b64_enc = vbmi_b64_enc,
    .b64_dec = vbmi_b64_dec,
};

const struct kq_codec_kernel *const kq_codec_all[] = {
    &kq_codec_scalar, &codec_avx2, &codec_vbmi, NULL};

#else

const struct kq_codec_kernel *const kq_codec_all[] = {&kq_codec_scalar, NULL};

#endif
