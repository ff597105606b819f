/*
 * Unit tests for ceremony/envelope_fmt.c: the header codec and the
 * streamed body (no HSM: the data key is drawn here and the wrapped key
 * is opaque bytes to this layer).  Every chunk is bound to the SHA-256 of
 * the whole header, so bits flipped anywhere in a small envelope (header,
 * wrapped key, stream header, each chunk) must fail even before the HSM
 * checks the data key; truncation anywhere must fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ceremony/ceremony.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"
#include "tests/unit/envelope_fixture.h"

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static int
buf_out(void *arg, const uint8_t *p, size_t n)
{
	struct buf *b = arg;

	if (n == 0)
		return KQ_OK;
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			return KQ_ERR_NOMEM;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	return KQ_OK;
}

static void
info_fill(struct envelope_info *in, uint32_t chunk)
{
	info_fill_as(in, chunk, 0xa5, "unit label");
}

/* Seal len bytes of pt into env (malloc'd). */
static void
seal(const uint8_t *key, uint32_t chunk, const uint8_t *pt, size_t len,
    struct buf *env, struct envelope_info *in)
{
	struct envelope_src src = {-1, pt, len, 0};
	uint64_t nin = 0;

	info_fill(in, chunk);
	memset(env, 0, sizeof(*env));
	assert_int_equal(
	    envelope_stream_seal(key, in, &src, buf_out, env, &nin), KQ_OK);
	assert_int_equal(nin, len);
}

/* Parse and open env; returns the code, out gets the plaintext. */
static int
open_env(const uint8_t *key, const uint8_t *env, size_t n, struct buf *out)
{
	struct envelope_info in;
	struct envelope_src src = {-1, env, n, 0};
	char detail[CEREMONY_DETAIL_MAX];
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = envelope_header_parse(env, n, &in)) != KQ_OK)
		return r;
	src.off = in.header_len;
	return envelope_stream_open(
	    key, &in, env, in.header_len, &src, buf_out, out, NULL, detail);
}

static void
test_header_round_trip(void **state)
{
	struct envelope_info in, out;
	uint8_t hdr[ENVELOPE_HEADER_MAX];
	size_t hl;

	(void)state;
	info_fill(&in, ENVELOPE_CHUNK);
	memset(in.ss_header, 0x33, sizeof(in.ss_header));
	assert_int_equal(
	    envelope_header_encode(&in, hdr, sizeof(hdr), &hl), KQ_OK);
	assert_int_equal(hl, in.header_len);
	assert_memory_equal(hdr, "KQEV\x01\x01", 6);
	assert_int_equal((size_t)(hdr[6] << 8 | hdr[7]), hl);
	assert_int_equal(
	    in.prefix_len + ENVELOPE_WRAPPED_LEN + ENVELOPE_SS_HEADER_LEN, hl);
	assert_int_equal(envelope_header_parse(hdr, hl, &out), KQ_OK);
	assert_string_equal(out.label, "unit label");
	assert_string_equal(out.quorum, "alice,bob");
	assert_string_equal(out.token_serial, "0123abcd");
	assert_int_equal(out.created, 1764400000);
	assert_int_equal(out.chunk_size, ENVELOPE_CHUNK);
	assert_memory_equal(out.wrapped, in.wrapped, ENVELOPE_WRAPPED_LEN);
	assert_memory_equal(
	    out.ss_header, in.ss_header, ENVELOPE_SS_HEADER_LEN);
	assert_int_equal(out.prefix_len, in.prefix_len);
	/* Every shorter prefix is "truncated", never accepted. */
	for (size_t i = 4; i < hl; i++)
		assert_int_equal(envelope_header_parse(hdr, i, &out),
		    KQ_ERR_ENVELOPE_TRUNCATED);
}

static void
test_header_rejects(void **state)
{
	struct envelope_info in, out;
	uint8_t hdr[ENVELOPE_HEADER_MAX];
	size_t hl;

	(void)state;
	info_fill(&in, ENVELOPE_CHUNK);
	snprintf(in.label, sizeof(in.label), "bad\033[2Jlabel");
	assert_int_equal(
	    envelope_header_encode(&in, hdr, sizeof(hdr), &hl), KQ_ERR_INVALID);
	info_fill(&in, 100); /* chunk below the minimum */
	assert_int_equal(
	    envelope_header_encode(&in, hdr, sizeof(hdr), &hl), KQ_ERR_INVALID);
	info_fill(&in, ENVELOPE_CHUNK);
	assert_int_equal(
	    envelope_header_encode(&in, hdr, sizeof(hdr), &hl), KQ_OK);
	hdr[0] = 'X';
	assert_int_equal(envelope_header_parse(hdr, hl, &out), KQ_ERR_FORMAT);
	hdr[0] = 'K';
	hdr[4] = 2;
	assert_int_equal(envelope_header_parse(hdr, hl, &out), KQ_ERR_VERSION);
	hdr[4] = 1;
	hdr[5] = 9;
	assert_int_equal(envelope_header_parse(hdr, hl, &out), KQ_ERR_VERSION);
	hdr[5] = 1;
	hdr[ENVELOPE_FIXED_LEN + 1] = 0x07; /* a control char in the label */
	assert_int_equal(envelope_header_parse(hdr, hl, &out), KQ_ERR_FORMAT);
	hdr[ENVELOPE_FIXED_LEN + 1] = 'u';
	hdr[ENVELOPE_FIXED_LEN] = 200; /* a length past the header */
	assert_int_equal(envelope_header_parse(hdr, hl, &out), KQ_ERR_FORMAT);
}

static void
test_stream_round_trip_sizes(void **state)
{
	static const size_t sizes[] = {
	    0, 1, 1023, 1024, 1025, 4096, 5000, 65535, 65536, 65537, 200000};
	uint8_t key[ENVELOPE_KEY_LEN], *pt;
	struct envelope_info in;
	struct buf env, out;
	size_t i;

	(void)state;
	assert_int_equal(kq_random(key, sizeof(key)), KQ_OK);
	assert_non_null(pt = malloc(200000));
	assert_int_equal(kq_random(pt, 200000), KQ_OK);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t chunk = i % 2 ? 1024 : ENVELOPE_CHUNK;

		seal(key, chunk, pt, sizes[i], &env, &in);
		/* header + whole chunks + a final chunk shorter than one */
		assert_int_equal(env.n,
		    in.header_len + (sizes[i] / chunk + 1) * ENVELOPE_ABYTES +
		        sizes[i]);
		assert_int_equal(open_env(key, env.p, env.n, &out), KQ_OK);
		assert_int_equal(out.n, sizes[i]);
		if (sizes[i] > 0)
			assert_memory_equal(out.p, pt, sizes[i]);
		free(env.p);
		free(out.p);
	}
	free(pt);
}

static void
test_every_bit_flip_fails(void **state)
{
	uint8_t key[ENVELOPE_KEY_LEN], pt[3000];
	struct envelope_info in;
	struct buf env, out;
	size_t i;
	int b, r;

	(void)state;
	assert_int_equal(kq_random(key, sizeof(key)), KQ_OK);
	assert_int_equal(kq_random(pt, sizeof(pt)), KQ_OK);
	seal(key, 1024, pt, sizeof(pt), &env, &in);
	for (i = 0; i < env.n; i++) {
		for (b = 0; b < 8; b += 3) {
			env.p[i] ^= (uint8_t)(1 << b);
			r = open_env(key, env.p, env.n, &out);
			env.p[i] ^= (uint8_t)(1 << b);
			free(out.p);
			if (r == KQ_OK)
				fail_msg(
				    "flip at byte %zu bit %d opened", i, b);
		}
	}
	free(env.p);
}

/* The header's prefix is bound to every chunk too, not only by GCM. */
static void
test_header_fields_bound_to_body(void **state)
{
	uint8_t key[ENVELOPE_KEY_LEN], pt[100];
	struct envelope_info in;
	struct buf env, out;

	(void)state;
	assert_int_equal(kq_random(key, sizeof(key)), KQ_OK);
	memset(pt, 'x', sizeof(pt));
	seal(key, ENVELOPE_CHUNK, pt, sizeof(pt), &env, &in);
	env.p[ENVELOPE_FIXED_LEN + 1] ^= 1; /* the label */
	assert_int_equal(open_env(key, env.p, env.n, &out), KQ_ERR_INTEGRITY);
	free(out.p);
	env.p[ENVELOPE_FIXED_LEN + 1] ^= 1;
	env.p[in.prefix_len + 3] ^= 1; /* the wrapped key */
	assert_int_equal(open_env(key, env.p, env.n, &out), KQ_ERR_INTEGRITY);
	free(out.p);
	free(env.p);
}

static void
test_truncation_and_trailing(void **state)
{
	uint8_t key[ENVELOPE_KEY_LEN], pt[5000];
	struct envelope_info in;
	struct buf env, out;
	size_t cut, body;
	int r;

	(void)state;
	assert_int_equal(kq_random(key, sizeof(key)), KQ_OK);
	assert_int_equal(kq_random(pt, sizeof(pt)), KQ_OK);
	seal(key, 1024, pt, sizeof(pt), &env, &in);
	body = env.n - in.header_len;
	for (cut = 0; cut < env.n; cut++) {
		r = open_env(key, env.p, cut, &out);
		free(out.p);
		assert_int_not_equal(r, KQ_OK);
		/* At a chunk boundary: named as truncation. */
		if (cut >= in.header_len &&
		    (cut - in.header_len) % (1024 + ENVELOPE_ABYTES) == 0)
			assert_int_equal(r, KQ_ERR_ENVELOPE_TRUNCATED);
	}
	assert_true(body > 0);
	env.p = realloc(env.p, env.n + 1);
	env.p[env.n] = 0;
	assert_int_not_equal(open_env(key, env.p, env.n + 1, &out), KQ_OK);
	free(out.p);
	free(env.p);
}

static void
test_wrong_key_fails(void **state)
{
	uint8_t key[ENVELOPE_KEY_LEN], k2[ENVELOPE_KEY_LEN], pt[10] = {1};
	struct envelope_info in;
	struct buf env, out;

	(void)state;
	assert_int_equal(kq_random(key, sizeof(key)), KQ_OK);
	memcpy(k2, key, sizeof(k2));
	k2[31] ^= 1;
	seal(key, ENVELOPE_CHUNK, pt, sizeof(pt), &env, &in);
	assert_int_equal(open_env(k2, env.p, env.n, &out), KQ_ERR_INTEGRITY);
	free(out.p);
	free(env.p);
}

/* A file source: the reader takes exactly the header, then the body. */
static void
test_fd_source(void **state)
{
	uint8_t key[ENVELOPE_KEY_LEN], pt[70000], hdr[ENVELOPE_HEADER_MAX];
	struct envelope_info in, got;
	struct envelope_src src;
	struct buf env, out;
	char path[] = "/tmp/kq-envelope-unit.XXXXXX";
	char detail[CEREMONY_DETAIL_MAX];
	size_t hl;
	int fd;

	(void)state;
	assert_int_equal(kq_random(key, sizeof(key)), KQ_OK);
	assert_int_equal(kq_random(pt, sizeof(pt)), KQ_OK);
	seal(key, ENVELOPE_CHUNK, pt, sizeof(pt), &env, &in);
	assert_true((fd = mkstemp(path)) >= 0);
	unlink(path);
	assert_int_equal(write(fd, env.p, env.n), (ssize_t)env.n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(envelope_header_read(fd, hdr, &hl, &got), KQ_OK);
	assert_int_equal(hl, in.header_len);
	src.fd = fd;
	memset(&out, 0, sizeof(out));
	assert_int_equal(envelope_stream_open(key, &got, hdr, hl, &src, buf_out,
	                     &out, NULL, detail),
	    KQ_OK);
	assert_int_equal(out.n, sizeof(pt));
	assert_memory_equal(out.p, pt, sizeof(pt));
	close(fd);
	free(out.p);
	free(env.p);
}

static void
test_ids_and_labels(void **state)
{
	uint8_t id[ENVELOPE_ID_LEN], back[ENVELOPE_ID_LEN];
	char hex[33], lab[128];
	enum envelope_content c;

	(void)state;
	memset(id, 0xab, sizeof(id));
	envelope_id_hex(id, hex);
	assert_string_equal(hex, "abababababababababababababababab");
	assert_int_equal(envelope_id_parse(hex, back), KQ_OK);
	assert_memory_equal(id, back, sizeof(id));
	assert_int_equal(envelope_id_parse("abc", back), KQ_ERR_ENCODING);
	assert_int_equal(
	    envelope_id_parse("zzababababababababababababababab", back),
	    KQ_ERR_ENCODING);
	envelope_object_label(id, 1, lab, sizeof(lab));
	assert_string_equal(
	    lab, ENVELOPE_PUB_PREFIX "abababababababababababababababab");
	assert_int_equal(envelope_content_parse("rollback-plan", &c), KQ_OK);
	assert_int_equal(c, ENVELOPE_ROLLBACK_PLAN);
	assert_int_equal(envelope_content_parse("x", &c), KQ_ERR_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_round_trip),
	    cmocka_unit_test(test_header_rejects),
	    cmocka_unit_test(test_stream_round_trip_sizes),
	    cmocka_unit_test(test_every_bit_flip_fails),
	    cmocka_unit_test(test_header_fields_bound_to_body),
	    cmocka_unit_test(test_truncation_and_trailing),
	    cmocka_unit_test(test_wrong_key_fails),
	    cmocka_unit_test(test_fd_source),
	    cmocka_unit_test(test_ids_and_labels),
	};

	if (kq_secmem_init() != KQ_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
