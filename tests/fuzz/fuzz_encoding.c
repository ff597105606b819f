/*
 * The constant-time codecs of src/common/encoding.h: kq_hex_decode,
 * kq_b64_decode (padded and raw), kq_key_decode_vault, with output buffers
 * of every size around the exact one (a too-small buffer must be refused,
 * never overrun), and the round trips: what decodes re-encodes to the same
 * text (hex: up to case), and any bytes encode and decode back.
 *
 * Differential: every codec kernel this CPU runs (common/encoding_impl.h:
 * portable, SSSE3, AVX2, ...) is forced in turn and must give the same
 * verdict, length and bytes as the portable one; and for text of ASCII
 * bytes, the same as libsodium's decoders behind the original checks (the
 * reference the codecs promise to match).  libsodium 1.0.18 takes every
 * byte 0x80..0xff as '/' in base64 (a signed char), so text with such a
 * byte is instead required to be refused.
 */
#include "fuzz.h"

#include <strings.h>

#include <errno.h>

#include <sodium.h>

#include "common/encoding.h"
#include "common/encoding_impl.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

/* Decode in with a buffer of exactly cap bytes (heap: ASan sees overruns). */
static int
dec(int which, const char *in, size_t n, size_t cap, uint8_t **out,
    size_t *outlen)
{
	uint8_t *b = malloc(cap == 0 ? 1 : cap);
	int r;

	FUZZ_CHECK(b != NULL);
	*outlen = (size_t)-1;
	switch (which) {
	case 0:
		r = kq_hex_decode(b, cap, outlen, in, n);
		break;
	case 1:
		r = kq_b64_decode(b, cap, outlen, in, n, KQ_B64_PADDED);
		break;
	case 2:
		r = kq_b64_decode(b, cap, outlen, in, n, KQ_B64_RAW);
		break;
	default:
		r = kq_key_decode_vault(b, cap, outlen, in, n);
		break;
	}
	if (r == KQ_OK)
		FUZZ_CHECK(*outlen <= cap);
	else
		FUZZ_CHECK(r == KQ_ERR_ENCODING || r == KQ_ERR_TOO_LONG);
	*out = b;
	return r;
}

/* Decode into b (cap bytes) with the kernel in force. */
static int
dec_into(
    int which, const char *in, size_t n, uint8_t *b, size_t cap, size_t *outlen)
{
	switch (which) {
	case 0:
		return kq_hex_decode(b, cap, outlen, in, n);
	case 1:
		return kq_b64_decode(b, cap, outlen, in, n, KQ_B64_PADDED);
	case 2:
		return kq_b64_decode(b, cap, outlen, in, n, KQ_B64_RAW);
	default:
		return kq_key_decode_vault(b, cap, outlen, in, n);
	}
}

/* The reference: libsodium behind the checks of encoding.h. */
static int
ref_dec(int which, const char *in, size_t n, uint8_t *out, size_t cap,
    size_t *outlen)
{
	const char *end = NULL;
	size_t got = 0;
	int v;

	if (which == 3) {
		if (n % 2 == 0 && n / 2 >= 16 && n / 2 <= 33 && n / 2 <= cap &&
		    ref_dec(0, in, n, out, cap, outlen) == KQ_OK)
			return KQ_OK;
		which = 1;
	}
	if (which == 0) {
		if (n % 2 != 0)
			return KQ_ERR_ENCODING;
		if (n / 2 > cap)
			return KQ_ERR_TOO_LONG;
		if (sodium_hex2bin(out, cap, in, n, NULL, &got, &end) != 0 ||
		    end != in + n || got != n / 2)
			return KQ_ERR_ENCODING;
		*outlen = got;
		return KQ_OK;
	}
	if ((which == 1 && n % 4 != 0) || (which == 2 && n % 4 == 1))
		return KQ_ERR_ENCODING;
	v = which == 1 ? sodium_base64_VARIANT_ORIGINAL
	               : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
	errno = 0;
	if (sodium_base642bin(out, cap, in, n, NULL, &got, &end, v) != 0 ||
	    end != in + n)
		return errno == ERANGE ? KQ_ERR_TOO_LONG : KQ_ERR_ENCODING;
	*outlen = got;
	return KQ_OK;
}

/* Every kernel agrees with the portable one, and with the reference. */
static void
differential(int which, const char *in, size_t n, size_t cap)
{
	const struct kq_codec_kernel *const *ks;
	uint8_t *want, *got;
	size_t nk, i, wl = 0, gl = 0, rl = 0;
	int wr, gr, rr, high = 0;

	for (i = 0; i < n; i++)
		high |= (unsigned char)in[i] >= 0x80;
	FUZZ_CHECK((want = malloc(cap + 1)) != NULL);
	FUZZ_CHECK((got = malloc(cap + 1)) != NULL);
	ks = kq_codec_kernel_list(&nk);
	FUZZ_CHECK(nk >= 1);
	kq_codec_kernel_force(ks[0]);
	wr = dec_into(which, in, n, want, cap, &wl);
	for (i = 1; i < nk; i++) {
		if (!ks[i]->usable())
			continue;
		kq_codec_kernel_force(ks[i]);
		gr = dec_into(which, in, n, got, cap, &gl);
		if (gr != wr ||
		    (wr == KQ_OK && (gl != wl || memcmp(got, want, wl) != 0))) {
			fprintf(stderr, "kernel %s: %d/%zu, portable: %d/%zu\n",
			    ks[i]->name, gr, gl, wr, wl);
			FUZZ_CHECK(0);
		}
	}
	kq_codec_kernel_force(NULL);
	if (high) {
		FUZZ_CHECK(wr != KQ_OK);
	} else {
		rr = ref_dec(which, in, n, got, cap, &rl);
		if (rr != wr ||
		    (wr == KQ_OK && (rl != wl || memcmp(got, want, wl) != 0))) {
			fprintf(stderr,
			    "libsodium: %d/%zu, keyquorum: %d/%zu\n", rr, rl,
			    wr, wl);
			FUZZ_CHECK(0);
		}
	}
	free(want);
	free(got);
}

static void
reencode(int which, const char *in, size_t n, const uint8_t *p, size_t len)
{
	size_t cap;
	char *t;

	if (which == 3)
		return; /* auto: either form */
	cap = which == 0
	    ? kq_hex_encoded_size(len)
	    : kq_b64_encoded_size(len, which == 1 ? KQ_B64_PADDED : KQ_B64_RAW);
	FUZZ_CHECK((t = malloc(cap)) != NULL);
	if (which == 0) {
		FUZZ_CHECK(kq_hex_encode(t, cap, p, len) == KQ_OK);
		FUZZ_CHECK(strlen(t) == n && strncasecmp(t, in, n) == 0);
	} else {
		FUZZ_CHECK(
		    kq_b64_encode(t, cap, p, len,
		        which == 1 ? KQ_B64_PADDED : KQ_B64_RAW) == KQ_OK);
		FUZZ_CHECK(strlen(t) == n && memcmp(t, in, n) == 0);
	}
	/* One byte short is refused. */
	FUZZ_CHECK(cap > 0);
	if (which == 0)
		FUZZ_CHECK(kq_hex_encode(t, cap - 1, p, len) != KQ_OK);
	else
		FUZZ_CHECK(
		    kq_b64_encode(t, cap - 1, p, len,
		        which == 1 ? KQ_B64_PADDED : KQ_B64_RAW) != KQ_OK);
	free(t);
}

/* Every kernel encodes as the portable one does. */
static void
encode_differential(const uint8_t *p, size_t len)
{
	const struct kq_codec_kernel *const *ks;
	size_t nk, i, cap, v;
	char *want, *got;

	ks = kq_codec_kernel_list(&nk);
	for (v = 0; v < 3; v++) {
		cap = v == 0 ? kq_hex_encoded_size(len)
		             : kq_b64_encoded_size(len, (enum kq_b64)(v - 1));
		FUZZ_CHECK((want = malloc(cap)) != NULL);
		FUZZ_CHECK((got = malloc(cap)) != NULL);
		kq_codec_kernel_force(ks[0]);
		FUZZ_CHECK((v == 0 ? kq_hex_encode(want, cap, p, len)
		                   : kq_b64_encode(want, cap, p, len,
		                         (enum kq_b64)(v - 1))) == KQ_OK);
		for (i = 1; i < nk; i++) {
			if (!ks[i]->usable())
				continue;
			kq_codec_kernel_force(ks[i]);
			FUZZ_CHECK(
			    (v == 0 ? kq_hex_encode(got, cap, p, len)
			            : kq_b64_encode(got, cap, p, len,
			                  (enum kq_b64)(v - 1))) == KQ_OK);
			FUZZ_CHECK(strcmp(got, want) == 0);
		}
		kq_codec_kernel_force(NULL);
		free(want);
		free(got);
	}
}

/* Bytes -> text -> bytes. */
static void
roundtrip(const uint8_t *p, size_t len)
{
	size_t cap, got, v;
	uint8_t *back;
	char *t;

	FUZZ_CHECK((back = malloc(len + 1)) != NULL);
	cap = kq_hex_encoded_size(len);
	FUZZ_CHECK((t = malloc(cap)) != NULL);
	FUZZ_CHECK(kq_hex_encode(t, cap, p, len) == KQ_OK);
	FUZZ_CHECK(kq_hex_decode(back, len + 1, &got, t, strlen(t)) == KQ_OK);
	FUZZ_CHECK(got == len && memcmp(back, p, len) == 0);
	free(t);
	for (v = 0; v < 2; v++) {
		cap = kq_b64_encoded_size(len, (enum kq_b64)v);
		FUZZ_CHECK((t = malloc(cap)) != NULL);
		FUZZ_CHECK(
		    kq_b64_encode(t, cap, p, len, (enum kq_b64)v) == KQ_OK);
		if (len > 0) {
			FUZZ_CHECK(kq_b64_decode(back, len + 1, &got, t,
			               strlen(t), (enum kq_b64)v) == KQ_OK);
			FUZZ_CHECK(got == len && memcmp(back, p, len) == 0);
		}
		free(t);
	}
	free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in;
	uint8_t *out;
	size_t n, len, exact = 0, cap;
	int which, r, ok = 0;

	if (size < 1 || size > 4096)
		return 0;
	which = data[0] & 3;
	in = (const char *)data + 1;
	n = size - 1;

	/* Generous buffer first: the exact length, if it decodes. */
	r = dec(which, in, n, n + 3, &out, &len);
	if (r == KQ_OK) {
		ok = 1;
		exact = len;
		if (len > 0)
			reencode(which, in, n, out, len);
	}
	free(out);
	/* Then every size near the exact one (or near n/2 on failure). */
	for (cap = ok ? (exact > 2 ? exact - 2 : 0) : n / 2;
	     cap <= (ok ? exact + 1 : n / 2 + 1); cap++) {
		r = dec(which, in, n, cap, &out, &len);
		if (ok && cap >= exact)
			FUZZ_CHECK(r == KQ_OK && len == exact);
		if (ok && cap < exact)
			FUZZ_CHECK(
			    r == KQ_ERR_TOO_LONG || r == KQ_ERR_ENCODING);
		free(out);
	}
	differential(which, in, n, n + 3);
	differential(which, in, n, n / 2);
	roundtrip(data, size);
	encode_differential(data, size);
	return 0;
}
