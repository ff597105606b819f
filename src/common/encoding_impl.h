/*
 * keyquorum: hex and base64 kernels behind common/encoding.h (private).
 *
 * A kernel converts the bulk of a buffer: whole base64 quanta (3 bytes <->
 * 4 characters) or whole hex pairs, as many as it handles at its width; it
 * returns how many input units it consumed and leaves the rest to the
 * caller.  Decoders OR a nonzero value into *err when any character they
 * consumed is not in the alphabet, and never branch on it.  No kernel
 * branches on, or indexes memory with, a data byte; only lengths steer.
 *
 * Tests, the constant-time check and the benchmark list the kernels and
 * force one; everything else gets the fastest this CPU runs.
 */
#ifndef KQ_COMMON_ENCODING_IMPL_H
#define KQ_COMMON_ENCODING_IMPL_H

#include <stddef.h>
#include <stdint.h>

struct kq_codec_kernel {
	const char *name;
	int (*usable)(void);
	/* n bytes -> 2n characters; returns bytes consumed. */
	size_t (*hex_enc)(char *out, const uint8_t *in, size_t n);
	/* inlen (even) characters; returns characters consumed (even). */
	size_t (*hex_dec)(
	    uint8_t *out, const char *in, size_t inlen, uint32_t *err);
	/* Returns bytes consumed, a multiple of 3. */
	size_t (*b64_enc)(char *out, const uint8_t *in, size_t n);
	/* No padding here; returns characters consumed, a multiple of 4. */
	size_t (*b64_dec)(
	    uint8_t *out, const char *in, size_t inlen, uint32_t *err);
};

/* The portable kernel (64-bit lanes); it finishes what a SIMD one leaves. */
extern const struct kq_codec_kernel kq_codec_scalar;

/*
 * Every kernel built in, the portable one first, then faster ones;
 * NULL-terminated (defined in encoding_x86.c, which holds the SIMD ones
 * when the target is x86-64).
 */
extern const struct kq_codec_kernel *const kq_codec_all[];

/* Every kernel, portable first, fastest last. */
const struct kq_codec_kernel *const *kq_codec_kernel_list(size_t *n);

/* The kernel in force: the forced one, else the fastest usable. */
const struct kq_codec_kernel *kq_codec_kernel(void);

/* Force a kernel (tests, ct check, bench); NULL restores the default. */
void kq_codec_kernel_force(const struct kq_codec_kernel *k);

/*
 * The constant-time check (tests/ct/ct_encoding) compiles this code with
 * -DKQ_CTGRIND and marks every data byte undefined for valgrind's memcheck;
 * KQ_ENC_DECLASSIFY marks the values that become public anyway (the error
 * verdict, the decoded length) where they do.
 */
#ifdef KQ_CTGRIND
#include <valgrind/memcheck.h>
#define KQ_ENC_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define KQ_ENC_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

/*
 * Masks on 32-bit values, and one character at a time, for encoding.c and
 * encoding_scalar.c: arithmetic only, no branch, no table.
 */

/* All ones when a < b, else 0 (a, b < 2^31). */
static inline uint32_t
ct_lt(uint32_t a, uint32_t b)
{
	return 0U - ((a - b) >> 31);
}

/* All ones when lo <= c <= hi. */
static inline uint32_t
ct_in(uint32_t c, uint32_t lo, uint32_t hi)
{
	return ~ct_lt(c, lo) & ct_lt(c, hi + 1);
}

/* All ones when x != 0. */
static inline uint32_t
ct_nz(uint32_t x)
{
	return 0U - ((x | (0U - x)) >> 31);
}

static inline uint32_t
ct_eq(uint32_t a, uint32_t b)
{
	return ~ct_nz(a ^ b);
}

/*
 * a where m is all ones, b where it is 0.  The barriers keep the compiler
 * from rewriting this as ((a ^ b) & m) ^ b, which would make memcheck see
 * an uninitialised b in the result even where m selects a.
 */
static inline uint8_t
ct_select8(uint32_t m, uint8_t a, uint8_t b)
{
	uint32_t x = a & m, y = b & ~m;

	__asm__("" : "+r"(x));
	__asm__("" : "+r"(y));
	return (uint8_t)(x | y);
}

/* One base64 character: its 6-bit value; *ok all ones when in alphabet. */
static inline uint32_t
b64_val(uint32_t c, uint32_t *ok)
{
	uint32_t up = ct_in(c, 'A', 'Z'), lw = ct_in(c, 'a', 'z');
	uint32_t dg = ct_in(c, '0', '9');
	uint32_t pl = ct_eq(c, '+'), sl = ct_eq(c, '/');

	*ok = up | lw | dg | pl | sl;
	return ((up & (c - 65)) | (lw & (c - 71)) | (dg & (c + 4)) | (pl & 62) |
	           (sl & 63)) &
	    63;
}

/* A 6-bit value's character. */
static inline char
b64_chr(uint32_t x)
{
	uint32_t c = x + 'A';

	c += ~ct_lt(x, 26) & 6; /* 'a' - 26 */
	c -= ~ct_lt(x, 52) & 75; /* '0' - 52 */
	c -= ~ct_lt(x, 62) & 15; /* '+' - 62 */
	c += ~ct_lt(x, 63) & 3; /* '/' - 63 */
	return (char)c;
}

/* A nibble's lower-case hex digit. */
static inline char
hex_chr(uint32_t x)
{
	return (char)(x + '0' + (~ct_lt(x, 10) & ('a' - '0' - 10)));
}

/* One hex digit: its value; *ok all ones when a digit (either case). */
static inline uint32_t
hex_val(uint32_t c, uint32_t *ok)
{
	uint32_t l = c | 0x20;
	uint32_t dg = ct_in(c, '0', '9'), lt = ct_in(l, 'a', 'f');

	*ok = dg | lt;
	return ((dg & (c - '0')) | (lt & (l - 'a' + 10))) & 15;
}

#endif
