/*
 * Rollback envelopes (ceremony/envelope_fmt.c, keyquorum-envelope(5)).
 * The first byte picks the mode:
 *   0  the header parser (envelope_header_parse and, through a pipe,
 *      envelope_header_read): a header it accepts must re-encode
 *      (envelope_header_encode) to the very same bytes;
 *   1  a parsed header followed by a body, opened with a fixed data key
 *      (envelope_stream_open): framing, truncation and authentication;
 *   2  the input (after 3 control bytes) sealed with a fixed key in
 *      chunks of 1024..4096 bytes, opened back (must equal), then cut at
 *      and bit-flipped at a chosen byte: each damaged copy must be
 *      refused, never opened.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <unistd.h>

#include "ceremony/ceremony.h"

static uint8_t *key;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	fuzz_init();
	FUZZ_CHECK((key = kq_secalloc(ENVELOPE_KEY_LEN)) != NULL);
	for (i = 0; i < ENVELOPE_KEY_LEN; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	return 0;
}

struct sink {
	uint8_t *p;
	size_t len, cap;
};

static int
sink_put(void *arg, const uint8_t *p, size_t n)
{
	struct sink *s = arg;

	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		FUZZ_CHECK((s->p = realloc(s->p, s->cap)) != NULL);
	}
	if (n > 0)
		memcpy(s->p + s->len, p, n);
	s->len += n;
	return KQ_OK;
}

static void
check_info(const struct envelope_info *in, size_t n)
{
	FUZZ_CHECK(
	    in->header_len <= n && in->header_len <= ENVELOPE_HEADER_MAX);
	FUZZ_CHECK(
	    in->prefix_len + ENVELOPE_WRAPPED_LEN + ENVELOPE_SS_HEADER_LEN ==
	    in->header_len);
	FUZZ_CHECK(envelope_content_name(in->content) != NULL);
	FUZZ_CHECK(in->chunk_size >= ENVELOPE_CHUNK_MIN &&
	    in->chunk_size <= ENVELOPE_CHUNK_MAX);
	FUZZ_CHECK(strlen(in->label) <= ENVELOPE_STR_MAX &&
	    strlen(in->creator) <= ENVELOPE_STR_MAX &&
	    strlen(in->token_label) <= ENVELOPE_STR_MAX &&
	    strlen(in->token_serial) <= ENVELOPE_STR_MAX &&
	    strlen(in->key_label) <= ENVELOPE_STR_MAX &&
	    strlen(in->quorum) <= ENVELOPE_STR_MAX);
}

static void
header_mode(const uint8_t *b, size_t n)
{
	struct envelope_info in, in2;
	uint8_t out[ENVELOPE_HEADER_MAX], hdr[ENVELOPE_HEADER_MAX];
	size_t len, hl = 0;
	int r, r2, fds[2];

	r = envelope_header_parse(b, n, &in);
	if (r == KQ_OK) {
		check_info(&in, n);
		in2 = in;
		FUZZ_CHECK(envelope_header_encode(
		               &in2, out, sizeof(out), &len) == KQ_OK);
		FUZZ_CHECK(len == in.header_len && memcmp(out, b, len) == 0);
		FUZZ_CHECK(in2.prefix_len == in.prefix_len);
	} else {
		FUZZ_CHECK(r == KQ_ERR_FORMAT || r == KQ_ERR_VERSION ||
		    r == KQ_ERR_ENVELOPE_TRUNCATED);
	}
	/* The same bytes from a file descriptor (a pipe holds 64 KiB). */
	if (n > 8192)
		return;
	FUZZ_CHECK(pipe(fds) == 0);
	FUZZ_CHECK(n == 0 || write(fds[1], b, n) == (ssize_t)n);
	close(fds[1]);
	r2 = envelope_header_read(fds[0], hdr, &hl, &in2);
	close(fds[0]);
	if (r2 == KQ_OK) {
		FUZZ_CHECK(r == KQ_OK && hl == in.header_len);
		FUZZ_CHECK(memcmp(hdr, b, hl) == 0);
	} else {
		FUZZ_CHECK(r2 == KQ_ERR_FORMAT || r2 == KQ_ERR_VERSION ||
		    r2 == KQ_ERR_ENVELOPE_TRUNCATED || r2 == KQ_ERR_IO);
	}
}

static int
open_buf(const uint8_t *b, size_t n, struct sink *out, char *detail)
{
	struct envelope_info in;
	struct envelope_src src;
	uint64_t got = 0;
	int r;

	if ((r = envelope_header_parse(b, n, &in)) != KQ_OK)
		return r;
	src.fd = -1;
	src.buf = b + in.header_len;
	src.len = n - in.header_len;
	src.off = 0;
	r = envelope_stream_open(
	    key, &in, b, in.header_len, &src, sink_put, out, &got, detail);
	if (r == KQ_OK)
		FUZZ_CHECK(got == out->len);
	return r;
}

static void
roundtrip_mode(const uint8_t *ctl, const uint8_t *b, size_t n)
{
	struct envelope_info in;
	struct envelope_src src = {-1, b, n, 0};
	struct sink sealed = {0}, opened = {0};
	char detail[CEREMONY_DETAIL_MAX];
	uint64_t n_in = 0;
	size_t at;
	int r;

	memset(&in, 0, sizeof(in));
	in.content = ENVELOPE_FILE;
	in.chunk_size = ENVELOPE_CHUNK_MIN * (1 + (ctl[0] & 3));
	in.created = 1764400000;
	snprintf(in.label, sizeof(in.label), "fuzz");
	snprintf(in.quorum, sizeof(in.quorum), "alice,bob");
	memset(in.wrapped, 0x5a, sizeof(in.wrapped));
	FUZZ_CHECK(envelope_stream_seal(
	               key, &in, &src, sink_put, &sealed, &n_in) == KQ_OK);
	FUZZ_CHECK(n_in == n);
	FUZZ_CHECK(open_buf(sealed.p, sealed.len, &opened, detail) == KQ_OK);
	FUZZ_CHECK(opened.len == n && (n == 0 || memcmp(opened.p, b, n) == 0));

	/* Cut short: refused. */
	at = ((size_t)ctl[1] << 8 | ctl[2]) % sealed.len;
	opened.len = 0;
	r = open_buf(sealed.p, at, &opened, detail);
	FUZZ_CHECK(r == KQ_ERR_ENVELOPE_TRUNCATED || r == KQ_ERR_INTEGRITY ||
	    r == KQ_ERR_FORMAT);
	/* One bit flipped: refused. */
	sealed.p[at] ^= (uint8_t)(1u << (ctl[0] >> 5));
	opened.len = 0;
	r = open_buf(sealed.p, sealed.len, &opened, detail);
	FUZZ_CHECK(r != KQ_OK);
	/* A byte more: refused (it joins the short final chunk, whose
	 * authentication then fails). */
	sealed.p[at] ^= (uint8_t)(1u << (ctl[0] >> 5));
	sink_put(&sealed, ctl, 1);
	opened.len = 0;
	r = open_buf(sealed.p, sealed.len, &opened, detail);
	FUZZ_CHECK(r == KQ_ERR_INTEGRITY || r == KQ_ERR_FORMAT);
	free(sealed.p);
	free(opened.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink out = {0};
	char detail[CEREMONY_DETAIL_MAX];
	int r;

	if (size < 1 || size > 16384)
		return 0;
	switch (data[0] % 3) {
	case 0:
		header_mode(data + 1, size - 1);
		break;
	case 1:
		r = open_buf(data + 1, size - 1, &out, detail);
		FUZZ_CHECK(r == KQ_OK || r == KQ_ERR_FORMAT ||
		    r == KQ_ERR_VERSION || r == KQ_ERR_ENVELOPE_TRUNCATED ||
		    r == KQ_ERR_INTEGRITY);
		free(out.p);
		break;
	default:
		if (size >= 4)
			roundtrip_mode(data + 1, data + 4, size - 4);
		break;
	}
	return 0;
}
