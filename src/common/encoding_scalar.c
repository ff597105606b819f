/*
 * keyquorum: the portable hex and base64 kernel (see encoding_impl.h),
 * eight characters at a time in 64-bit lanes, then one quantum at a time.
 *
 * Constant time: every byte is classified and mapped with SWAR masks:
 * bit 7 of each byte of (c & 0x7f) + (0x80 - k) says c >= k with no carry
 * between bytes, a byte's top bit (not ASCII) makes it invalid by itself,
 * and byte-wise sums are taken without carries.  Invalid characters are
 * ORed into an error word; nothing branches on, or indexes memory with, a
 * data byte.
 */
#include "common/encoding_impl.h"

#include <string.h>

/* ---- 64-bit lanes: eight characters at a time ------------------------ */

#define REP(b) ((uint64_t)(b)*0x0101010101010101ULL)

static inline uint64_t
load64(const void *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

static inline void
store64(void *p, uint64_t w)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	memcpy(p, &w, 8);
}

/* Bit 7 of every byte where that byte (< 0x80) is >= k (1 <= k <= 128). */
static inline uint64_t
swar_ge(uint64_t c7, unsigned k)
{
	return (c7 + REP(128 - k)) & REP(0x80);
}

/* Bit-7 flags to whole-byte masks. */
static inline uint64_t
swar_mask(uint64_t b7)
{
	return (b7 >> 7) * 0xff;
}

/* Byte-wise a + b modulo 256, no carry between bytes. */
static inline uint64_t
swar_add(uint64_t a, uint64_t b)
{
	return ((a & REP(0x7f)) + (b & REP(0x7f))) ^ ((a ^ b) & REP(0x80));
}

/* 6 bytes -> 8 characters. */
static inline void
b64_enc6(char *out, const uint8_t *in)
{
	uint64_t v = (uint64_t)in[0] << 40 | (uint64_t)in[1] << 32 |
	    (uint64_t)in[2] << 24 | (uint64_t)in[3] << 16 |
	    (uint64_t)in[4] << 8 | (uint64_t)in[5];
	uint64_t x, off;

	/* Two 24-bit groups to 32-bit lanes, to 12-bit halves, to bytes. */
	x = ((v >> 24) & 0xffffff) | ((v & 0xffffff) << 32);
	x = ((x & 0x00fff00000fff000ULL) >> 12) |
	    ((x & 0x00000fff00000fffULL) << 16);
	x = ((x & 0x0fc00fc00fc00fc0ULL) >> 6) |
	    ((x & 0x003f003f003f003fULL) << 8);
	off = REP('A');
	off ^= swar_mask(swar_ge(x, 26)) & REP('A' ^ ('a' - 26));
	off ^=
	    swar_mask(swar_ge(x, 52)) & REP(('a' - 26) ^ (uint8_t)('0' - 52));
	off ^= swar_mask(swar_ge(x, 62)) &
	    REP((uint8_t)('0' - 52) ^ (uint8_t)('+' - 62));
	off ^= swar_mask(swar_ge(x, 63)) &
	    REP((uint8_t)('+' - 62) ^ (uint8_t)('/' - 63));
	store64(out, swar_add(x, off));
}

/* 8 characters -> 6 bytes; nonzero ORed into *err unless all in alphabet. */
static inline void
b64_dec8(uint8_t *out, const char *in, uint64_t *err)
{
	uint64_t w = load64(in);
	uint64_t c = w & REP(0x7f), keep = ~w & REP(0x80);
	uint64_t up = swar_ge(c, 'A') & ~swar_ge(c, 'Z' + 1) & keep;
	uint64_t lw = swar_ge(c, 'a') & ~swar_ge(c, 'z' + 1) & keep;
	uint64_t dg = swar_ge(c, '0') & ~swar_ge(c, '9' + 1) & keep;
	uint64_t pl = swar_ge(c, '+') & ~swar_ge(c, '+' + 1) & keep;
	uint64_t sl = swar_ge(c, '/') & ~swar_ge(c, '/' + 1) & keep;
	uint64_t off, x;

	*err |= ~(up | lw | dg | pl | sl) & REP(0x80);
	off = (swar_mask(up) & REP((uint8_t) - 'A')) |
	    (swar_mask(lw) & REP((uint8_t)(26 - 'a'))) |
	    (swar_mask(dg) & REP(52 - '0')) | (swar_mask(pl) & REP(62 - '+')) |
	    (swar_mask(sl) & REP(63 - '/'));
	x = swar_add(c, off) & REP(0x3f);
	/* Bytes to 12-bit halves of 16-bit lanes, to 24 bits in each 32. */
	x = ((x & 0x3f003f003f003f00ULL) >> 8) |
	    ((x & 0x003f003f003f003fULL) << 6);
	x = ((x & 0x0fff00000fff0000ULL) >> 16) |
	    ((x & 0x00000fff00000fffULL) << 12);
	out[0] = (uint8_t)(x >> 16);
	out[1] = (uint8_t)(x >> 8);
	out[2] = (uint8_t)x;
	out[3] = (uint8_t)(x >> 48);
	out[4] = (uint8_t)(x >> 40);
	out[5] = (uint8_t)(x >> 32);
}

/* 4 bytes -> 8 hex digits. */
static inline void
hex_enc4(char *out, const uint8_t *in)
{
	uint64_t x = 0, m;
	unsigned k;

	for (k = 0; k < 4; k++)
		x |= (uint64_t)(in[k] >> 4) << (16 * k) |
		    (uint64_t)(in[k] & 15) << (16 * k + 8);
	m = swar_mask(swar_ge(x, 10));
	store64(out, swar_add(x, REP('0') ^ (m & REP('0' ^ ('a' - 10)))));
}

/* 8 hex digits -> 4 bytes. */
static inline void
hex_dec8(uint8_t *out, const char *in, uint64_t *err)
{
	uint64_t w = load64(in);
	uint64_t c = w & REP(0x7f), keep = ~w & REP(0x80), l = c | REP(0x20);
	uint64_t dg = swar_ge(c, '0') & ~swar_ge(c, '9' + 1) & keep;
	uint64_t lt = swar_ge(l, 'a') & ~swar_ge(l, 'f' + 1) & keep;
	uint64_t x;
	unsigned k;

	*err |= ~(dg | lt) & REP(0x80);
	x = (swar_mask(dg) & swar_add(c, REP((uint8_t) - '0'))) |
	    (swar_mask(lt) & swar_add(l, REP((uint8_t)(10 - 'a'))));
	for (k = 0; k < 4; k++)
		out[k] = (uint8_t)(((x >> (16 * k)) & 15) << 4 |
		    ((x >> (16 * k + 8)) & 15));
}

/* ---- the portable kernel --------------------------------------------- */

static int
usable_always(void)
{
	return 1;
}

static size_t
scalar_hex_enc(char *out, const uint8_t *in, size_t n)
{
	size_t i = 0;

	for (; n - i >= 4; i += 4)
		hex_enc4(out + 2 * i, in + i);
	for (; i < n; i++) {
		out[2 * i] = hex_chr(in[i] >> 4);
		out[2 * i + 1] = hex_chr(in[i] & 15);
	}
	return n;
}

static size_t
scalar_hex_dec(uint8_t *out, const char *in, size_t inlen, uint32_t *err)
{
	uint64_t e = 0;
	uint32_t ok1, ok2, bad = 0, hi, lo;
	size_t i = 0;

	for (; inlen - i >= 8; i += 8)
		hex_dec8(out + i / 2, in + i, &e);
	for (; inlen - i >= 2; i += 2) {
		hi = hex_val((uint8_t)in[i], &ok1);
		lo = hex_val((uint8_t)in[i + 1], &ok2);
		bad |= ~(ok1 & ok2);
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*err |= bad | (uint32_t)(e >> 32) | (uint32_t)e;
	return i;
}

static size_t
scalar_b64_enc(char *out, const uint8_t *in, size_t n)
{
	size_t i = 0, o = 0;
	uint32_t t;

	for (; n - i >= 6; i += 6, o += 8)
		b64_enc6(out + o, in + i);
	for (; n - i >= 3; i += 3, o += 4) {
		t = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o] = b64_chr(t >> 18);
		out[o + 1] = b64_chr((t >> 12) & 63);
		out[o + 2] = b64_chr((t >> 6) & 63);
		out[o + 3] = b64_chr(t & 63);
	}
	return i;
}

static size_t
scalar_b64_dec(uint8_t *out, const char *in, size_t inlen, uint32_t *err)
{
	uint64_t e = 0;
	uint32_t ok[4], bad = 0, t;
	size_t i = 0, o = 0;

	for (; inlen - i >= 8; i += 8, o += 6)
		b64_dec8(out + o, in + i, &e);
	for (; inlen - i >= 4; i += 4, o += 3) {
		t = b64_val((uint8_t)in[i], &ok[0]) << 18 |
		    b64_val((uint8_t)in[i + 1], &ok[1]) << 12 |
		    b64_val((uint8_t)in[i + 2], &ok[2]) << 6 |
		    b64_val((uint8_t)in[i + 3], &ok[3]);
		bad |= ~(ok[0] & ok[1] & ok[2] & ok[3]);
		out[o] = (uint8_t)(t >> 16);
		out[o + 1] = (uint8_t)(t >> 8);
		out[o + 2] = (uint8_t)t;
	}
	*err |= bad | (uint32_t)(e >> 32) | (uint32_t)e;
	return i;
}

const struct kq_codec_kernel kq_codec_scalar = {
    .name = "scalar",
    .usable = usable_always,
    .hex_enc = scalar_hex_enc,
    .hex_dec = scalar_hex_dec,
    .b64_enc = scalar_b64_enc,
    .b64_dec = scalar_b64_dec,
};
