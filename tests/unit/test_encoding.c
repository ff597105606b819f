/*
 * Unit tests for common/encoding.c: with every codec kernel this CPU runs,
 * every result (return code, decoded length, every byte of the output
 * buffer, and the bytes just past it) is compared with libsodium's codecs
 * behind the checks the wrappers had before the codecs were rewritten
 * (ref_* below): all lengths 0..300 and some long ones, every
 * single-character corruption of valid encodings, padding in every wrong
 * place, non-canonical trailing bits, output buffers of every size around
 * the decoded length, and random strings over small alphabets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/encoding.h"
#include "common/encoding_impl.h"
#include "common/err.h"
#include "common/secmem.h"

#define GUARD 16

/* ---- the reference: libsodium behind the former wrappers --------------- */

static int
ref_variant(enum kq_b64 v)
{
	return v == KQ_B64_RAW ? sodium_base64_VARIANT_ORIGINAL_NO_PADDING
	                       : sodium_base64_VARIANT_ORIGINAL;
}

static int
ref_hex_encode(char *out, size_t outcap, const uint8_t *in, size_t n)
{
	if (outcap < n * 2 + 1)
		return KQ_ERR_INVALID;
	sodium_bin2hex(out, outcap, in, n);
	return KQ_OK;
}

static int
ref_hex_decode(
    uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen)
{
	const char *end = NULL;
	size_t got = 0;

	if (inlen % 2 != 0)
		return KQ_ERR_ENCODING;
	if (inlen / 2 > outcap)
		return KQ_ERR_TOO_LONG;
	if (sodium_hex2bin(out, outcap, in, inlen, NULL, &got, &end) != 0 ||
	    end != in + inlen || got != inlen / 2) {
		sodium_memzero(out, outcap);
		return KQ_ERR_ENCODING;
	}
	*outlen = got;
	return KQ_OK;
}

static int
ref_b64_encode(
    char *out, size_t outcap, const uint8_t *in, size_t n, enum kq_b64 v)
{
	if (outcap < sodium_base64_encoded_len(n, ref_variant(v)))
		return KQ_ERR_INVALID;
	sodium_bin2base64(out, outcap, in, n, ref_variant(v));
	return KQ_OK;
}

static int
ref_b64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in,
    size_t inlen, enum kq_b64 v)
{
	const char *end = NULL;
	char *ascii;
	size_t got = 0, i;
	int r;

	if ((v == KQ_B64_PADDED && inlen % 4 != 0) ||
	    (v == KQ_B64_RAW && inlen % 4 == 1))
		return KQ_ERR_ENCODING;
	/*
	 * libsodium 1.0.18 reads the characters as (signed) char and takes
	 * every byte 0x80..0xff for '/'; the new codec refuses them, like
	 * any other character outside the alphabet ('*' here).
	 */
	ascii = malloc(inlen + 1);
	assert_non_null(ascii);
	for (i = 0; i < inlen; i++)
		ascii[i] = (uint8_t)in[i] >= 0x80 ? '*' : in[i];
	errno = 0;
	if (sodium_base642bin(out, outcap, ascii, inlen, NULL, &got, &end,
	        ref_variant(v)) != 0 ||
	    end != ascii + inlen) {
		sodium_memzero(out, outcap);
		r = errno == ERANGE ? KQ_ERR_TOO_LONG : KQ_ERR_ENCODING;
	} else {
		*outlen = got;
		r = KQ_OK;
	}
	free(ascii);
	return r;
}

/* ---- helpers ------------------------------------------------------------ */

static uint64_t prng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	prng ^= prng << 13;
	prng ^= prng >> 7;
	prng ^= prng << 17;
	return prng;
}

static void
fill(void *p, size_t n)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(next() >> 24);
}

static const char *kname = "?";
static unsigned long compared;

/* Both decoders on the same input and capacity; all must agree. */
static void
cmp_decode(int hex, const char *in, size_t inlen, size_t outcap, enum kq_b64 v)
{
	uint8_t *a = malloc(outcap + GUARD), *b = malloc(outcap + GUARD);
	char *copy = malloc(inlen + 1);
	size_t la = 7777, lb = 7777;
	int ra, rb;

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(copy);
	fill(a, outcap + GUARD);
	memcpy(b, a, outcap + GUARD);
	/* An exact-length copy, so that reading past inlen would be seen. */
	memcpy(copy, in, inlen);
	if (hex) {
		ra = kq_hex_decode(a, outcap, &la, copy, inlen);
		rb = ref_hex_decode(b, outcap, &lb, in, inlen);
	} else {
		ra = kq_b64_decode(a, outcap, &la, copy, inlen, v);
		rb = ref_b64_decode(b, outcap, &lb, in, inlen, v);
	}
	if (ra != rb || la != lb || memcmp(a, b, outcap + GUARD) != 0) {
		print_error("kernel %s %s decode of \"%.*s\" (len %zu, outcap "
		            "%zu): got %d len %zu, libsodium %d len %zu%s\n",
		    kname,
		    hex                   ? "hex"
		        : v == KQ_B64_RAW ? "b64raw"
		                          : "b64",
		    (int)(inlen > 120 ? 120 : inlen), in, inlen, outcap, ra, la,
		    rb, lb,
		    memcmp(a, b, outcap + GUARD) != 0 ? ", bytes differ" : "");
		fail();
	}
	compared++;
	free(a);
	free(b);
	free(copy);
}

/* Every decoder with capacities around the decoded length. */
static void
cmp_all_decoders(const char *in, size_t inlen)
{
	size_t max = inlen / 4 * 3 + 3, caps[] = {0, 1, 2, 3, 0, 0, 0, 0, 0};
	size_t i, nc = 4;

	caps[nc++] = inlen / 2;
	caps[nc++] = max;
	caps[nc++] = max > 1 ? max - 1 : 0;
	caps[nc++] = max > 2 ? max - 2 : 0;
	caps[nc++] = max > 3 ? max - 3 : 0;
	for (i = 0; i < nc; i++) {
		cmp_decode(0, in, inlen, caps[i], KQ_B64_PADDED);
		cmp_decode(0, in, inlen, caps[i], KQ_B64_RAW);
		cmp_decode(1, in, inlen, caps[i], KQ_B64_PADDED);
	}
	cmp_decode(0, in, inlen, max + 5, KQ_B64_PADDED);
	cmp_decode(0, in, inlen, max + 5, KQ_B64_RAW);
	cmp_decode(1, in, inlen, inlen / 2 + 5, KQ_B64_PADDED);
}

static void
cmp_encode(const uint8_t *in, size_t n, size_t extra)
{
	size_t cap[3] = {n * 2 + 1 + extra,
	    sodium_base64_encoded_len(n, ref_variant(KQ_B64_PADDED)) + extra,
	    sodium_base64_encoded_len(n, ref_variant(KQ_B64_RAW)) + extra};
	int j;

	for (j = 0; j < 3; j++) {
		char *a = malloc(cap[j] + GUARD), *b = malloc(cap[j] + GUARD);
		enum kq_b64 v = j == 2 ? KQ_B64_RAW : KQ_B64_PADDED;
		int ra, rb;

		assert_non_null(a);
		assert_non_null(b);
		fill(a, cap[j] + GUARD);
		memcpy(b, a, cap[j] + GUARD);
		if (j == 0) {
			ra = kq_hex_encode(a, cap[j], in, n);
			rb = ref_hex_encode(b, cap[j], in, n);
			assert_int_equal(
			    kq_hex_encoded_size(n), cap[j] - extra);
		} else {
			ra = kq_b64_encode(a, cap[j], in, n, v);
			rb = ref_b64_encode(b, cap[j], in, n, v);
			assert_int_equal(
			    kq_b64_encoded_size(n, v), cap[j] - extra);
		}
		assert_int_equal(ra, KQ_OK);
		assert_int_equal(ra, rb);
		if (memcmp(a, b, cap[j] + GUARD) != 0) {
			print_error("kernel %s encode %d of %zu bytes differs: "
			            "%.80s / %.80s\n",
			    kname, j, n, a, b);
			fail();
		}
		/* One byte short is refused without writing. */
		if (cap[j] - extra > 0) {
			if (j == 0)
				ra =
				    kq_hex_encode(a, cap[j] - extra - 1, in, n);
			else
				ra = kq_b64_encode(
				    a, cap[j] - extra - 1, in, n, v);
			assert_int_equal(ra, KQ_ERR_INVALID);
			assert_memory_equal(a, b, cap[j] + GUARD);
		}
		compared++;
		free(a);
		free(b);
	}
}

/* Encodings of n random bytes, then each decoded (and round-tripped). */
static void
encode_decode_len(size_t n)
{
	uint8_t *bin = malloc(n + 1), *back = malloc(n + 1);
	size_t hcap = n * 2 + 1, bcap = n / 3 * 4 + 5, got = 0;
	char *hex = malloc(hcap), *b64 = malloc(bcap), *raw = malloc(bcap);

	assert_non_null(bin);
	assert_non_null(back);
	assert_non_null(hex);
	assert_non_null(b64);
	assert_non_null(raw);
	fill(bin, n);
	cmp_encode(bin, n, 0);
	cmp_encode(bin, n, 3);
	assert_int_equal(kq_hex_encode(hex, hcap, bin, n), KQ_OK);
	assert_int_equal(
	    kq_b64_encode(b64, bcap, bin, n, KQ_B64_PADDED), KQ_OK);
	assert_int_equal(kq_b64_encode(raw, bcap, bin, n, KQ_B64_RAW), KQ_OK);
	cmp_all_decoders(hex, strlen(hex));
	cmp_all_decoders(b64, strlen(b64));
	cmp_all_decoders(raw, strlen(raw));
	assert_int_equal(
	    kq_b64_decode(back, n + 1, &got, b64, strlen(b64), KQ_B64_PADDED),
	    KQ_OK);
	assert_int_equal(got, n);
	assert_memory_equal(back, bin, n);
	assert_int_equal(
	    kq_b64_decode(back, n + 1, &got, raw, strlen(raw), KQ_B64_RAW),
	    KQ_OK);
	assert_int_equal(got, n);
	assert_memory_equal(back, bin, n);
	assert_int_equal(kq_hex_decode(back, n, &got, hex, strlen(hex)), KQ_OK);
	assert_int_equal(got, n);
	assert_memory_equal(back, bin, n);
	free(bin);
	free(back);
	free(hex);
	free(b64);
	free(raw);
}

/* Every value of the byte at position pos, each decoder, two capacities. */
static void
corrupt_at(const char *enc, size_t len, size_t pos)
{
	char *c = malloc(len + 1);
	size_t max = len / 4 * 3 + 3;
	unsigned b;

	assert_non_null(c);
	memcpy(c, enc, len + 1);
	for (b = 0; b < 256; b++) {
		c[pos] = (char)b;
		cmp_decode(0, c, len, max, KQ_B64_PADDED);
		cmp_decode(0, c, len, max, KQ_B64_RAW);
		cmp_decode(1, c, len, len / 2, KQ_B64_PADDED);
		cmp_decode(0, c, len, max > 3 ? max - 3 : 0, KQ_B64_PADDED);
	}
	free(c);
}

/* ---- the tests ------------------------------------------------------ */

static const struct kq_codec_kernel *const *kernels;
static size_t nkernels;

#define EACH_KERNEL()                                                          \
	for (size_t ki_ = 0; ki_ < nkernels; ki_++)                            \
		if (kernels[ki_]->usable() &&                                  \
		    (kq_codec_kernel_force(kernels[ki_]),                      \
		        kname = kernels[ki_]->name, 1))

static void
test_every_length(void **state)
{
	static const size_t longs[] = {
	    1000, 1023, 1024, 1025, 4096, 4097, 65535, 65536, 100003};
	size_t n, i;

	(void)state;
	EACH_KERNEL()
	{
		for (n = 0; n <= 300; n++)
			encode_decode_len(n);
		for (i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
			encode_decode_len(longs[i]);
	}
	kq_codec_kernel_force(NULL);
}

static void
test_every_single_corruption(void **state)
{
	static const size_t lens[] = {0, 1, 2, 3, 4, 5, 16, 23, 25, 49, 50};
	uint8_t bin[64];
	char hex[129], b64[80], raw[80];
	size_t i, j, p;

	(void)state;
	EACH_KERNEL()
	{
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			fill(bin, lens[i]);
			assert_int_equal(
			    kq_hex_encode(hex, sizeof(hex), bin, lens[i]),
			    KQ_OK);
			assert_int_equal(kq_b64_encode(b64, sizeof(b64), bin,
			                     lens[i], KQ_B64_PADDED),
			    KQ_OK);
			assert_int_equal(kq_b64_encode(raw, sizeof(raw), bin,
			                     lens[i], KQ_B64_RAW),
			    KQ_OK);
			for (j = 0; j < strlen(b64); j++)
				corrupt_at(b64, strlen(b64), j);
			for (j = 0; j < strlen(raw); j++)
				corrupt_at(raw, strlen(raw), j);
			for (j = 0; j < strlen(hex); j++)
				corrupt_at(hex, strlen(hex), j);
		}
		/* Long ones: corruptions at sampled places, SIMD body too. */
		{
			size_t n = 3000, bl;
			uint8_t *lb = malloc(n);
			char *le = malloc(n / 3 * 4 + 8),
			     *lh = malloc(2 * n + 1);

			assert_non_null(lb);
			assert_non_null(le);
			assert_non_null(lh);
			fill(lb, n);
			for (bl = n - 2; bl <= n; bl++) {
				assert_int_equal(
				    kq_b64_encode(le, n / 3 * 4 + 8, lb, bl,
				        KQ_B64_PADDED),
				    KQ_OK);
				assert_int_equal(
				    kq_hex_encode(lh, 2 * n + 1, lb, bl),
				    KQ_OK);
				for (j = 0; j < 12; j++) {
					p = j < 6
					    ? (size_t)(next() % strlen(le))
					    : strlen(le) - 1 - (j - 6);
					corrupt_at(le, strlen(le), p);
					p = (size_t)(next() % strlen(lh));
					corrupt_at(lh, strlen(lh), p);
				}
			}
			free(lb);
			free(le);
			free(lh);
		}
	}
	kq_codec_kernel_force(NULL);
}

static void
test_padding_and_trailing_bits(void **state)
{
	static const char *const cases[] = {"", "=", "==", "===", "====", "A",
	    "A=", "A==", "A===", "AA",
	    "AA=", "AA==", "AB==", "AQ==", "AR==", "QQ==", "QR==", "Qf==",
	    "QUE=", "QUF=", "QUG=", "QUH=", "QUI=", "QUFB",
	    "QUFBQQ==", "QUFBQR==", "QUFBQUE=", "QUFBQUF=", "QU=B", "Q=UB",
	    "=QUB", "QUFB====", "QUFB=", "QUFB==", "QUFB===", "QQ=A",
	    "QQ=", "QQ", "QUE", "QUF", "Q", "QUFBQ", "QUFBQQ", "QUFBQUE",
	    "QUFBQQ=", "QUFBQQ=x", "QUFB QQ==", "QUFB\nQQ==", "QUFBQQ==\n",
	    " QUFBQQ==", "QUFB-_==", "QUFB+/==", "////", "++++",
	    "+/+/+/==", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=AAAAAAAAAAAA",
	    "00112233445566778899aabbccddeeffAABBCCDDEEFF",
	    "00112233445566778899aabbccddeeffAABBCCDDEEFG", "0g", "g0", "0G",
	    "//", "@@", "``", "{{", "::", "[[", "\x80\x80", "\xff\xff"};
	char buf[300];
	size_t i, j, l;

	(void)state;
	EACH_KERNEL()
	{
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			cmp_all_decoders(cases[i], strlen(cases[i]));
		/* '=' at every place of long valid encodings. */
		memset(buf, 'B', sizeof(buf));
		for (l = 4; l <= 260; l += 4) {
			for (j = 0; j < l; j++) {
				memset(buf, 'A', l);
				buf[j] = '=';
				cmp_all_decoders(buf, l);
				if (j + 1 < l) {
					buf[j + 1] = '=';
					cmp_all_decoders(buf, l);
				}
			}
		}
		/* A NUL inside. */
		memset(buf, 'A', 64);
		buf[40] = '\0';
		cmp_all_decoders(buf, 64);
	}
	kq_codec_kernel_force(NULL);
}

/* Random strings over small alphabets, so that valid ones come up too. */
static void
test_random_strings(void **state)
{
	static const char *const sets[] = {"AB", "AQgw=", "Aa0+/=", "0aF",
	    "0123456789abcdefABCDEF", "0123456789abcdefABCDEFg", "QUFB=+/"};
	char buf[300];
	size_t i, l, s, r;

	(void)state;
	EACH_KERNEL()
	{
		for (r = 0; r < 3000; r++) {
			s = (size_t)(next() % (sizeof(sets) / sizeof(sets[0])));
			l = (size_t)(next() % 160);
			for (i = 0; i < l; i++)
				buf[i] = sets[s][next() % strlen(sets[s])];
			/* Padding is likelier at the end. */
			if (l >= 2 && next() % 3 == 0)
				buf[l - 1] = '=';
			if (l >= 2 && next() % 5 == 0)
				buf[l - 2] = '=';
			cmp_all_decoders(buf, l);
		}
		for (r = 0; r < 1000; r++) {
			l = (size_t)(next() % 100);
			fill(buf, l);
			cmp_all_decoders(buf, l);
		}
	}
	kq_codec_kernel_force(NULL);
}

/* Output capacities from 0 to past the decoded length. */
static void
test_every_capacity(void **state)
{
	uint8_t bin[200];
	char b64[300], raw[300], hex[401], bad[300];
	size_t n, cap, l;

	(void)state;
	EACH_KERNEL()
	{
		for (n = 0; n <= 100; n += (n < 12 ? 1 : 11)) {
			fill(bin, n);
			assert_int_equal(kq_b64_encode(b64, sizeof(b64), bin, n,
			                     KQ_B64_PADDED),
			    KQ_OK);
			assert_int_equal(
			    kq_b64_encode(raw, sizeof(raw), bin, n, KQ_B64_RAW),
			    KQ_OK);
			assert_int_equal(
			    kq_hex_encode(hex, sizeof(hex), bin, n), KQ_OK);
			l = strlen(b64);
			memcpy(bad, b64, l + 1);
			if (l > 0)
				bad[l / 2] = '*';
			for (cap = 0; cap <= n + 4; cap++) {
				cmp_decode(0, b64, l, cap, KQ_B64_PADDED);
				cmp_decode(
				    0, raw, strlen(raw), cap, KQ_B64_RAW);
				cmp_decode(
				    0, raw, strlen(raw), cap, KQ_B64_PADDED);
				cmp_decode(0, b64, l, cap, KQ_B64_RAW);
				cmp_decode(0, bad, l, cap, KQ_B64_PADDED);
				cmp_decode(
				    1, hex, strlen(hex), cap, KQ_B64_PADDED);
			}
		}
	}
	kq_codec_kernel_force(NULL);
}

static void
test_vault_key_decode(void **state)
{
	static const char *const keys[] = {"00112233445566778899aabbccddeeff",
	    "00112233445566778899AABBCCDDEEFF00",
	    "ABEiM0RVZneImaq7zN3u/w==", "ABEiM0RVZneImaq7zN3u/w",
	    "00112233445566778899aabbccddeefg"};
	uint8_t out[64];
	size_t i, n = 0;
	int r;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		r = kq_key_decode_vault(
		    out, sizeof(out), &n, keys[i], strlen(keys[i]));
		if (i < 3) {
			assert_int_equal(r, KQ_OK);
			assert_int_equal(n, 16 + (i == 1));
		} else {
			assert_int_equal(r, i == 3 ? KQ_ERR_ENCODING : KQ_OK);
		}
	}
}

/* Bytes 0x80..0xff are not in the alphabet (libsodium 1.0.18 took '/'). */
static void
test_high_bytes_refused(void **state)
{
	char in[] = "QUFB/w==";
	uint8_t out[8];
	size_t n = 0;
	unsigned b;

	(void)state;
	EACH_KERNEL()
	{
		assert_int_equal(
		    kq_b64_decode(out, sizeof(out), &n, in, 8, KQ_B64_PADDED),
		    KQ_OK);
		for (b = 0x80; b <= 0xff; b++) {
			in[4] = (char)b;
			assert_int_equal(kq_b64_decode(out, sizeof(out), &n, in,
			                     8, KQ_B64_PADDED),
			    KQ_ERR_ENCODING);
			assert_int_equal(kq_b64_decode(out, sizeof(out), &n, in,
			                     6, KQ_B64_RAW),
			    KQ_ERR_ENCODING);
		}
		in[4] = '/';
	}
	kq_codec_kernel_force(NULL);
}

/* The default kernel is the last usable one; forcing works. */
static void
test_kernel_choice(void **state)
{
	const struct kq_codec_kernel *best = &kq_codec_scalar;
	size_t i;

	(void)state;
	for (i = 0; i < nkernels; i++)
		if (kernels[i]->usable())
			best = kernels[i];
	assert_ptr_equal(kq_codec_kernel(), best);
	kq_codec_kernel_force(&kq_codec_scalar);
	assert_ptr_equal(kq_codec_kernel(), &kq_codec_scalar);
	kq_codec_kernel_force(NULL);
	assert_ptr_equal(kq_codec_kernel(), best);
	print_message("kernels on this CPU:");
	for (i = 0; i < nkernels; i++)
		print_message(" %s%s", kernels[i]->name,
		    kernels[i]->usable() ? "" : "(unusable)");
	print_message("; %lu comparisons with libsodium\n", compared);
}

static int
setup(void **state)
{
	(void)state;
	kernels = kq_codec_kernel_list(&nkernels);
	if (sodium_init() < 0)
		return -1;
	return kq_secmem_init() == KQ_OK ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_length),
	    cmocka_unit_test(test_every_single_corruption),
	    cmocka_unit_test(test_padding_and_trailing_bits),
	    cmocka_unit_test(test_random_strings),
	    cmocka_unit_test(test_every_capacity),
	    cmocka_unit_test(test_vault_key_decode),
	    cmocka_unit_test(test_high_bytes_refused),
	    cmocka_unit_test(test_kernel_choice),
	};

	return cmocka_run_group_tests_name("encoding", tests, setup, NULL);
}
