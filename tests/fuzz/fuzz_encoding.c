/*
 * The constant-time codecs of src/common/encoding.h: kq_hex_decode,
 * kq_b64_decode (padded and raw), kq_key_decode_vault, with output buffers
 * of every size around the exact one (a too-small buffer must be refused,
 * never overrun), and the round trips: what decodes re-encodes to the same
 * text (hex: up to case), and any bytes encode and decode back.
 */
#include "fuzz.h"

#include <strings.h>

#include "common/encoding.h"

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

static void
reencode(int which, const char *in, size_t n, const uint8_t *p, size_t len)
{
	size_t cap;
	char *t;

	if (which == 3)
		return; /* auto: either form */
	cap = which == 0 ? kq_hex_encoded_size(len)
	                 : kq_b64_encoded_size(
	                       len, which == 1 ? KQ_B64_PADDED : KQ_B64_RAW);
	FUZZ_CHECK((t = malloc(cap)) != NULL);
	if (which == 0) {
		FUZZ_CHECK(kq_hex_encode(t, cap, p, len) == KQ_OK);
		FUZZ_CHECK(strlen(t) == n && strncasecmp(t, in, n) == 0);
	} else {
		FUZZ_CHECK(kq_b64_encode(t, cap, p, len,
		               which == 1 ? KQ_B64_PADDED : KQ_B64_RAW) == KQ_OK);
		FUZZ_CHECK(strlen(t) == n && memcmp(t, in, n) == 0);
	}
	/* One byte short is refused. */
	FUZZ_CHECK(cap > 0);
	if (which == 0)
		FUZZ_CHECK(kq_hex_encode(t, cap - 1, p, len) != KQ_OK);
	else
		FUZZ_CHECK(kq_b64_encode(t, cap - 1, p, len,
		               which == 1 ? KQ_B64_PADDED : KQ_B64_RAW) != KQ_OK);
	free(t);
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
		FUZZ_CHECK(kq_b64_encode(t, cap, p, len, (enum kq_b64)v) ==
		    KQ_OK);
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
			FUZZ_CHECK(r == KQ_ERR_TOO_LONG || r == KQ_ERR_ENCODING);
		free(out);
	}
	roundtrip(data, size);
	return 0;
}
