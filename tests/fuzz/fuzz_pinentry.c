/*
 * pinentry replies (hsm/pinentry.c): the input is a reply as pinentry
 * would send it, split at LF into lines fed to pinentry_reply_line (the
 * first byte picks the data maximum, 0..255 bytes, so KQ_ERR_TOO_LONG is
 * reached) until the reply ends or a line is refused.  The decoded data
 * must never pass the maximum or hold a NUL.  pinentry_decode_data runs on
 * the whole text too, and pinentry_escape must round-trip through it.
 */
#include "fuzz.h"

#include "common/secmem.h"
#include "hsm/pinentry.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

static void
escape_roundtrip(const uint8_t *data, size_t size, size_t outsz)
{
	struct kq_sbuf *b;
	char *in, *out;
	size_t n, len;

	in = fuzz_strndup(data, size);
	len = strlen(in); /* up to the first NUL */
	FUZZ_CHECK((out = malloc(outsz)) != NULL);
	n = pinentry_escape(in, out, outsz);
	FUZZ_CHECK(n < outsz && out[n] == '\0' && strlen(out) == n);
	FUZZ_CHECK(
	    memchr(out, '\n', n) == NULL && memchr(out, '\r', n) == NULL);
	FUZZ_CHECK((b = kq_sbuf_new(len + 1)) != NULL);
	FUZZ_CHECK(pinentry_decode_data(out, n, b) == KQ_OK);
	/* What fitted is a prefix of the input. */
	FUZZ_CHECK(kq_sbuf_len(b) <= len);
	FUZZ_CHECK(kq_sbuf_len(b) == 0 ||
	    memcmp(kq_sbuf_ptr(b), in, kq_sbuf_len(b)) == 0);
	if (outsz > 3 * len)
		FUZZ_CHECK(kq_sbuf_len(b) == len);
	kq_sbuf_free(b);
	free(out);
	free(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pinentry_reply r;
	struct kq_sbuf *b;
	const char *s, *line, *nl;
	size_t max, left, n, before;
	int rc;

	if (size < 1 || size > 16384)
		return 0;
	max = data[0];
	s = (const char *)data + 1;
	left = size - 1;

	FUZZ_CHECK(pinentry_reply_init(&r, max) == KQ_OK);
	line = s;
	while (left > 0 || line == s) {
		nl = memchr(line, '\n', left);
		n = nl != NULL ? (size_t)(nl - line) : left;
		before = kq_sbuf_len(r.data);
		rc = pinentry_reply_line(&r, line, n);
		FUZZ_CHECK(kq_sbuf_len(r.data) <= max);
		if (rc != KQ_OK) {
			FUZZ_CHECK(
			    rc == KQ_ERR_FORMAT || rc == KQ_ERR_TOO_LONG);
			/* A refused line leaves the data as it was. */
			FUZZ_CHECK(kq_sbuf_len(r.data) == before);
			break;
		}
		if (r.done) {
			FUZZ_CHECK(memchr(r.errtext, '\0', sizeof(r.errtext)));
			if (r.err != 0)
				FUZZ_CHECK(r.err <= 0xffffffffUL);
			/* Nothing may follow the end of a reply. */
			FUZZ_CHECK(
			    pinentry_reply_line(&r, "OK", 2) == KQ_ERR_FORMAT);
			break;
		}
		if (nl == NULL)
			break;
		left -= n + 1;
		line = nl + 1;
	}
	if (kq_sbuf_len(r.data) > 0)
		FUZZ_CHECK(memchr(kq_sbuf_ptr(r.data), '\0',
		               kq_sbuf_len(r.data)) == NULL);
	pinentry_reply_clear(&r);

	FUZZ_CHECK((b = kq_sbuf_new(PINENTRY_PIN_MAX)) != NULL);
	rc = pinentry_decode_data(s, size - 1, b);
	FUZZ_CHECK(rc == KQ_OK || rc == KQ_ERR_FORMAT || rc == KQ_ERR_TOO_LONG);
	if (rc != KQ_OK)
		FUZZ_CHECK(kq_sbuf_len(b) == 0);
	kq_sbuf_free(b);

	escape_roundtrip(data + 1, size - 1, 1 + data[0] % 64);
	escape_roundtrip(data + 1, size - 1, 3 * size + 1);
	return 0;
}
