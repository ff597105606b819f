/*
 * Unit tests for the envelope body at speed: ceremony/envelope_ss.c (the
 * secretstream chunks OpenSSL computes must be libsodium's, byte for
 * byte, in both directions, rekeying and the counter's wrap included) and
 * the pipeline of ceremony/envelope_fmt.c (bodies of many batches, from
 * buffers, files and pipes; every failure twin across batch boundaries;
 * nothing of a failing batch reaches out; envelopes made chunk by chunk
 * with libsodium alone still open).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "ceremony/ceremony.h"
#include "ceremony/envelope_ss.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"
#include "tests/unit/envelope_fixture.h"

typedef crypto_secretstream_xchacha20poly1305_state ss_state;

#define TAG_MSG crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_PUSH crypto_secretstream_xchacha20poly1305_TAG_PUSH
#define TAG_REKEY crypto_secretstream_xchacha20poly1305_TAG_REKEY
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL
#define AB crypto_secretstream_xchacha20poly1305_ABYTES

#define BATCH (2u * 1024 * 1024) /* envelope_fmt.c's PIPE_BATCH */
#define FULL (ENVELOPE_CHUNK + ENVELOPE_ABYTES)

/* Sizes that hit the fast path (multiples of 16) and the other one. */
static const size_t ss_sizes[] = {
    0, 1, 15, 16, 17, 48, 63, 64, 65, 1008, 1024, 4096, 65535, 65536, 100000};
#define N_SS_SIZES (sizeof(ss_sizes) / sizeof(ss_sizes[0]))

static unsigned char
tag_for(size_t i)
{
	static const unsigned char tags[] = {
	    TAG_MSG, TAG_MSG, TAG_PUSH, TAG_MSG, TAG_REKEY, TAG_MSG, TAG_FINAL};

	return tags[i % sizeof(tags)];
}

/* Push with both, chunk after chunk: the same bytes and the same state. */
static void
check_push_equal(ss_state *a, ss_state *b, struct envelope_ss *ss,
    const uint8_t *m, const uint8_t *ad, size_t rounds)
{
	uint8_t *c1 = malloc(100000 + AB), *c2 = malloc(100000 + AB);
	unsigned long long cl;
	size_t i, n;

	assert_non_null(c1);
	assert_non_null(c2);
	for (i = 0; i < rounds; i++) {
		n = ss_sizes[i % N_SS_SIZES];
		crypto_secretstream_xchacha20poly1305_push(
		    a, c1, &cl, m, n, ad, 32, tag_for(i));
		assert_int_equal(cl, n + AB);
		assert_int_equal(
		    envelope_ss_push(ss, b, c2, m, n, ad, 32, tag_for(i)),
		    KQ_OK);
		assert_memory_equal(c1, c2, n + AB);
		assert_memory_equal(a, b, sizeof(*a));
	}
	free(c1);
	free(c2);
}

static void
test_ss_push_is_libsodium(void **state)
{
	uint8_t key[32], hdr[24], ad[32], *m = malloc(100000);
	struct envelope_ss *ss = NULL;
	ss_state *a = kq_secalloc(sizeof(*a)), *b = kq_secalloc(sizeof(*b));

	(void)state;
	assert_non_null(m);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(ad, sizeof(ad));
	randombytes_buf(m, 100000);
	assert_int_equal(envelope_ss_new(&ss, 1, 0), KQ_OK);
	crypto_secretstream_xchacha20poly1305_init_push(a, hdr, key);
	memcpy(b, a, sizeof(*a));
	check_push_equal(a, b, ss, m, ad, 3 * N_SS_SIZES);
	/* The 32-bit counter wraps: both rekey the same way. */
	memset(a->nonce, 0xff, 4);
	a->nonce[0] = 0xfd;
	memcpy(b, a, sizeof(*a));
	check_push_equal(a, b, ss, m, ad, 8);
	envelope_ss_free(ss);
	kq_secfree(a);
	kq_secfree(b);
	free(m);
}

/* Pull what libsodium pushed, and the reverse, with and without OpenSSL. */
static void
test_ss_pull_is_libsodium(void **state)
{
	uint8_t key[32], hdr[24], ad[32], *m = malloc(100000);
	uint8_t *c = malloc(100000 + AB), *p = kq_secalloc(100000);
	struct envelope_ss *push = NULL, *pull = NULL;
	ss_state *a = kq_secalloc(sizeof(*a)), *b = kq_secalloc(sizeof(*b));
	unsigned long long cl, pl;
	unsigned char tag;
	size_t i, n;
	int fast;

	(void)state;
	assert_non_null(m);
	assert_non_null(c);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(ad, sizeof(ad));
	randombytes_buf(m, 100000);
	for (fast = 0; fast < 2; fast++) {
		assert_int_equal(envelope_ss_new(&push, 1, !fast), KQ_OK);
		assert_int_equal(envelope_ss_new(&pull, 0, !fast), KQ_OK);
		/* libsodium pushes, envelope_ss pulls */
		crypto_secretstream_xchacha20poly1305_init_push(a, hdr, key);
		assert_int_equal(
		    crypto_secretstream_xchacha20poly1305_init_pull(
		        b, hdr, key),
		    0);
		for (i = 0; i < 2 * N_SS_SIZES; i++) {
			n = ss_sizes[i % N_SS_SIZES];
			crypto_secretstream_xchacha20poly1305_push(
			    a, c, &cl, m, n, ad, 32, tag_for(i));
			assert_int_equal(envelope_ss_pull(pull, b, p, &tag, c,
			                     (size_t)cl, ad, 32),
			    KQ_OK);
			assert_int_equal(tag, tag_for(i));
			assert_memory_equal(p, m, n);
		}
		/* envelope_ss pushes, libsodium pulls */
		crypto_secretstream_xchacha20poly1305_init_push(a, hdr, key);
		assert_int_equal(
		    crypto_secretstream_xchacha20poly1305_init_pull(
		        b, hdr, key),
		    0);
		for (i = 0; i < 2 * N_SS_SIZES; i++) {
			n = ss_sizes[i % N_SS_SIZES];
			assert_int_equal(envelope_ss_push(push, a, c, m, n, ad,
			                     32, tag_for(i)),
			    KQ_OK);
			assert_int_equal(
			    crypto_secretstream_xchacha20poly1305_pull(
			        b, p, &pl, &tag, c, n + AB, ad, 32),
			    0);
			assert_int_equal(pl, n);
			assert_int_equal(tag, tag_for(i));
			assert_memory_equal(p, m, n);
		}
		envelope_ss_free(push);
		envelope_ss_free(pull);
	}
	kq_secfree(a);
	kq_secfree(b);
	kq_secfree(p);
	free(c);
	free(m);
}

/*
 * A flipped bit in the tag byte, the body, the MAC or the associated data,
 * or a chunk pulled out of turn, fails; the state stays as it was (the
 * right chunk still opens after) and nothing decrypted is left in m.
 */
static void
test_ss_pull_rejects(void **state)
{
	uint8_t key[32], hdr[24], ad[32], m[4096], c[4096 + AB], c2[4096 + AB];
	uint8_t *p = kq_secalloc(4096);
	struct envelope_ss *ss = NULL;
	ss_state *a = kq_secalloc(sizeof(*a)), *b = kq_secalloc(sizeof(*b));
	ss_state *keep = kq_secalloc(sizeof(*keep));
	unsigned long long cl;
	unsigned char tag;
	size_t at[] = {0, 1, 2000, 4096, 4096 + AB - 1}, i;

	(void)state;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(ad, sizeof(ad));
	randombytes_buf(m, sizeof(m));
	assert_int_equal(envelope_ss_new(&ss, 0, 0), KQ_OK);
	crypto_secretstream_xchacha20poly1305_init_push(a, hdr, key);
	assert_int_equal(
	    crypto_secretstream_xchacha20poly1305_init_pull(b, hdr, key), 0);
	crypto_secretstream_xchacha20poly1305_push(
	    a, c, &cl, m, sizeof(m), ad, 32, TAG_MSG);
	memcpy(keep, b, sizeof(*b));
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		memcpy(c2, c, sizeof(c));
		c2[at[i]] ^= 0x10;
		memset(p, 0xee, 4096);
		assert_int_equal(
		    envelope_ss_pull(ss, b, p, &tag, c2, sizeof(c2), ad, 32),
		    KQ_ERR_INTEGRITY);
		assert_memory_equal(b, keep, sizeof(*b));
		assert_memory_not_equal(p, m, sizeof(m));
	}
	ad[5] ^= 1;
	assert_int_equal(envelope_ss_pull(ss, b, p, &tag, c, sizeof(c), ad, 32),
	    KQ_ERR_INTEGRITY);
	ad[5] ^= 1;
	assert_int_equal(envelope_ss_pull(ss, b, p, &tag, c, AB - 1, ad, 32),
	    KQ_ERR_INTEGRITY);
	/* Pushed twice: the second chunk does not open in the first's place. */
	crypto_secretstream_xchacha20poly1305_push(
	    a, c2, &cl, m, sizeof(m), ad, 32, TAG_MSG);
	assert_int_equal(
	    envelope_ss_pull(ss, b, p, &tag, c2, sizeof(c2), ad, 32),
	    KQ_ERR_INTEGRITY);
	assert_int_equal(
	    envelope_ss_pull(ss, b, p, &tag, c, sizeof(c), ad, 32), KQ_OK);
	assert_memory_equal(p, m, sizeof(m));
	assert_int_equal(
	    envelope_ss_pull(ss, b, p, &tag, c2, sizeof(c2), ad, 32), KQ_OK);
	envelope_ss_free(ss);
	kq_secfree(a);
	kq_secfree(b);
	kq_secfree(keep);
	kq_secfree(p);
}

/* ---- the pipeline ---- */

struct sink {
	uint8_t *p;
	size_t n, cap;
	size_t fail_after; /* fail the call that passes this many bytes */
	int calls;
};

static int
sink_out(void *arg, const uint8_t *p, size_t n)
{
	struct sink *s = arg;

	s->calls++;
	if (s->fail_after != 0 && s->n + n > s->fail_after)
		return KQ_ERR_NOSPC;
	if (s->n + n > s->cap) {
		s->cap = (s->n + n) * 2;
		if ((s->p = realloc(s->p, s->cap)) == NULL)
			return KQ_ERR_NOMEM;
	}
	memcpy(s->p + s->n, p, n);
	s->n += n;
	return KQ_OK;
}

static void
info_fill(struct envelope_info *in, uint32_t chunk)
{
	info_fill_as(in, chunk, 0xc3, "pipeline");
}

static uint8_t dkey[ENVELOPE_KEY_LEN]; /* the pipeline tests' data key */

static uint8_t *
random_bytes(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	randombytes_buf(p, n);
	return p;
}

/* Seal a buffer (or, with fd >= 0, that fd) into env. */
static void
seal_src(struct envelope_src *src, struct sink *env, size_t expect)
{
	struct envelope_info in;
	uint64_t nin = 0;

	info_fill(&in, ENVELOPE_CHUNK);
	memset(env, 0, sizeof(*env));
	assert_int_equal(
	    envelope_stream_seal(dkey, &in, src, sink_out, env, &nin), KQ_OK);
	assert_int_equal(nin, expect);
	/* header + every whole chunk + a final chunk shorter than one */
	assert_int_equal(env->n,
	    in.header_len + (expect / ENVELOPE_CHUNK + 1) * AB + expect);
}

static int
open_buf(const uint8_t *env, size_t n, struct sink *out, char *detail)
{
	struct envelope_info in;
	struct envelope_src src = {-1, env, n, 0};
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = envelope_header_parse(env, n, &in)) != KQ_OK)
		return r;
	src.off = in.header_len;
	detail[0] = '\0';
	return envelope_stream_open(
	    dkey, &in, env, in.header_len, &src, sink_out, out, NULL, detail);
}

/* Open from a file (the pipeline's threads), header read from it. */
static int
open_file(const uint8_t *env, size_t n, struct sink *out, char *detail)
{
	char path[] = "/tmp/kq-envelope-stream.XXXXXX";
	uint8_t hdr[ENVELOPE_HEADER_MAX];
	struct envelope_info in;
	struct envelope_src src = {-1, NULL, 0, 0};
	size_t hl;
	int fd, r;

	assert_true((fd = mkstemp(path)) >= 0);
	unlink(path);
	assert_int_equal(write(fd, env, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	memset(out, 0, sizeof(*out));
	detail[0] = '\0';
	if ((r = envelope_header_read(fd, hdr, &hl, &in)) == KQ_OK) {
		src.fd = fd;
		r = envelope_stream_open(
		    dkey, &in, hdr, hl, &src, sink_out, out, NULL, detail);
	}
	close(fd);
	return r;
}

/* Sizes around the batch and chunk boundaries, several batches long. */
static void
test_pipeline_round_trips(void **state)
{
	size_t sizes[] = {BATCH - 1, BATCH, BATCH + 1, 2 * BATCH,
	    3 * BATCH + ENVELOPE_CHUNK, 5 * BATCH + 12345};
	char detail[CEREMONY_DETAIL_MAX];
	struct sink env, out;
	size_t i;
	uint8_t *pt;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct envelope_src src = {-1, NULL, sizes[i], 0};

		pt = random_bytes(sizes[i]);
		src.buf = pt;
		seal_src(&src, &env, sizes[i]);
		assert_int_equal(open_buf(env.p, env.n, &out, detail), KQ_OK);
		assert_int_equal(out.n, sizes[i]);
		assert_memory_equal(out.p, pt, sizes[i]);
		free(out.p);
		assert_int_equal(open_file(env.p, env.n, &out, detail), KQ_OK);
		assert_int_equal(out.n, sizes[i]);
		assert_memory_equal(out.p, pt, sizes[i]);
		free(out.p);
		free(env.p);
		free(pt);
	}
}

struct feeder {
	int fd;
	const uint8_t *p;
	size_t n;
};

static void *
feed(void *v)
{
	struct feeder *f = v;
	size_t o = 0;
	ssize_t k;

	while (o < f->n) {
		/* odd sizes: the reader must gather whole batches */
		size_t want = f->n - o < 77777 ? f->n - o : 77777;

		if ((k = write(f->fd, f->p + o, want)) <= 0)
			break;
		o += (size_t)k;
	}
	close(f->fd);
	return NULL;
}

/* A pipe (size unknown: the threads run whatever the size). */
static void
test_pipeline_pipe_source(void **state)
{
	size_t sizes[] = {0, 1000, 3 * BATCH + 5}, i;
	char detail[CEREMONY_DETAIL_MAX];
	struct sink env, out;
	struct feeder f;
	pthread_t t;
	uint8_t *pt;
	int pfd[2];

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct envelope_src src = {-1, NULL, 0, 0};

		pt = random_bytes(sizes[i]);
		assert_int_equal(pipe(pfd), 0);
		f.fd = pfd[1];
		f.p = pt;
		f.n = sizes[i];
		assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
		src.fd = pfd[0];
		seal_src(&src, &env, sizes[i]);
		pthread_join(t, NULL);
		close(pfd[0]);
		assert_int_equal(open_buf(env.p, env.n, &out, detail), KQ_OK);
		assert_int_equal(out.n, sizes[i]);
		if (sizes[i] > 0)
			assert_memory_equal(out.p, pt, sizes[i]);
		free(out.p);
		free(env.p);
		free(pt);
	}
}

/*
 * Failure twins in later batches, from a buffer and from a file: each the
 * same error as a small envelope's, and out never gets a byte of the batch
 * that failed (only whole verified batches before it).
 */
static void
test_pipeline_failures(void **state)
{
	size_t n = 4 * BATCH + 1000, hl, at, k;
	char detail[CEREMONY_DETAIL_MAX], want[64];
	struct sink env, out;
	struct envelope_src src = {-1, NULL, n, 0};
	struct envelope_info in;
	uint8_t *pt = random_bytes(n), *x;
	int pass;
	int (*open_fn[2])(const uint8_t *, size_t, struct sink *, char *) = {
	    open_buf, open_file};

	(void)state;
	src.buf = pt;
	seal_src(&src, &env, n);
	assert_int_equal(envelope_header_parse(env.p, env.n, &in), KQ_OK);
	hl = in.header_len;
	k = BATCH / ENVELOPE_CHUNK; /* chunks a batch */
	x = malloc(env.n + 1);
	assert_non_null(x);
	for (pass = 0; pass < 2; pass++) {
		/* A bit in chunk 2k + 3 (the third batch). */
		memcpy(x, env.p, env.n);
		at = hl + (2 * k + 2) * FULL + 100;
		x[at] ^= 4;
		assert_int_equal(
		    open_fn[pass](x, env.n, &out, detail), KQ_ERR_INTEGRITY);
		snprintf(want, sizeof(want), "chunk %zu (at byte %zu)",
		    2 * k + 3, hl + (2 * k + 2) * FULL);
		assert_non_null(strstr(detail, want));
		assert_true(out.n <= 2 * BATCH);
		assert_int_equal(out.n % BATCH, 0);
		if (out.n > 0)
			assert_memory_equal(out.p, pt, out.n);
		free(out.p);
		/* Cut at a batch boundary: the final chunk is missing. */
		assert_int_equal(
		    open_fn[pass](env.p, hl + 2 * k * FULL, &out, detail),
		    KQ_ERR_ENVELOPE_TRUNCATED);
		snprintf(want, sizeof(want), "ends after chunk %zu", 2 * k);
		assert_non_null(strstr(detail, want));
		free(out.p);
		/* Cut inside a later chunk. */
		assert_int_equal(
		    open_fn[pass](env.p, hl + 3 * k * FULL + 500, &out, detail),
		    KQ_ERR_INTEGRITY);
		free(out.p);
		/* A byte after the final chunk. */
		memcpy(x, env.p, env.n);
		x[env.n] = 'x';
		assert_int_equal(open_fn[pass](x, env.n + 1, &out, detail),
		    KQ_ERR_INTEGRITY);
		free(out.p);
		/* The last bit. */
		memcpy(x, env.p, env.n);
		x[env.n - 1] ^= 0x80;
		assert_int_equal(
		    open_fn[pass](x, env.n, &out, detail), KQ_ERR_INTEGRITY);
		assert_true(out.n < n);
		free(out.p);
	}
	free(x);
	free(env.p);
	free(pt);
}

/* out fails half-way: its code comes back, nothing more is given to it. */
static void
test_pipeline_out_fails(void **state)
{
	size_t n = 5 * BATCH;
	char detail[CEREMONY_DETAIL_MAX];
	struct sink env, out;
	struct envelope_src src = {-1, NULL, n, 0};
	struct envelope_info in;
	uint8_t *pt = random_bytes(n);
	int calls;

	(void)state;
	src.buf = pt;
	/* sealing */
	info_fill(&in, ENVELOPE_CHUNK);
	memset(&env, 0, sizeof(env));
	env.fail_after = 2 * BATCH + 1;
	assert_int_equal(
	    envelope_stream_seal(dkey, &in, &src, sink_out, &env, NULL),
	    KQ_ERR_NOSPC);
	assert_true(env.n <= 2 * BATCH + 1);
	calls = env.calls;
	free(env.p);
	/* opening */
	src.off = 0;
	seal_src(&src, &env, n);
	memset(&out, 0, sizeof(out));
	out.fail_after = BATCH + 7;
	assert_int_equal(envelope_header_parse(env.p, env.n, &in), KQ_OK);
	{
		struct envelope_src es = {-1, env.p, env.n, in.header_len};

		assert_int_equal(
		    envelope_stream_open(dkey, &in, env.p, in.header_len, &es,
		        sink_out, &out, NULL, detail),
		    KQ_ERR_NOSPC);
	}
	assert_int_equal(out.n, BATCH);
	assert_int_equal(out.calls, 2);
	assert_true(calls >= 2);
	free(out.p);
	free(env.p);
	free(pt);
}

/* A source that fails to read (a directory): KQ_ERR_IO, nothing sealed. */
static void
test_pipeline_read_fails(void **state)
{
	struct envelope_src src = {-1, NULL, 0, 0};
	struct envelope_info in;
	struct sink env;
	int fd;

	(void)state;
	assert_true((fd = open("/", O_RDONLY | O_DIRECTORY)) >= 0);
	src.fd = fd;
	info_fill(&in, ENVELOPE_CHUNK);
	memset(&env, 0, sizeof(env));
	assert_int_equal(
	    envelope_stream_seal(dkey, &in, &src, sink_out, &env, NULL),
	    KQ_ERR_IO);
	assert_int_equal(env.n, in.header_len); /* the header only */
	close(fd);
	free(env.p);
}

/*
 * An envelope made the old way, one chunk at a time with libsodium's own
 * push (what keyquorum wrote before the pipeline), in chunks of 1024,
 * 1030 (not a multiple of 16: libsodium opens them) and 65536 bytes.
 */
static void
test_libsodium_envelopes_open(void **state)
{
	static const uint32_t chunks[] = {1024, 1030, ENVELOPE_CHUNK};
	size_t n = BATCH + 4321, i, off, len, hl;
	uint8_t hdr[ENVELOPE_HEADER_MAX], ad[32], *pt = random_bytes(n);
	char detail[CEREMONY_DETAIL_MAX];
	crypto_hash_sha256_state h;
	struct envelope_info in;
	struct sink env, out;
	ss_state *st = kq_secalloc(sizeof(*st));
	unsigned long long cl;

	(void)state;
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		info_fill(&in, chunks[i]);
		crypto_secretstream_xchacha20poly1305_init_push(
		    st, in.ss_header, dkey);
		assert_int_equal(
		    envelope_header_encode(&in, hdr, sizeof(hdr), &hl), KQ_OK);
		crypto_hash_sha256_init(&h);
		crypto_hash_sha256_update(&h,
		    (const uint8_t *)"keyquorum/envelope/v1/body",
		    sizeof("keyquorum/envelope/v1/body"));
		crypto_hash_sha256_update(&h, hdr, hl);
		crypto_hash_sha256_final(&h, ad);
		memset(&env, 0, sizeof(env));
		assert_int_equal(sink_out(&env, hdr, hl), KQ_OK);
		for (off = 0;; off += len) {
			uint8_t c[ENVELOPE_CHUNK + AB];

			len = n - off < chunks[i] ? n - off : chunks[i];
			crypto_secretstream_xchacha20poly1305_push(st, c, &cl,
			    pt + off, len, ad, sizeof(ad),
			    len < chunks[i] ? TAG_FINAL : TAG_MSG);
			assert_int_equal(sink_out(&env, c, (size_t)cl), KQ_OK);
			if (len < chunks[i])
				break;
		}
		assert_int_equal(open_buf(env.p, env.n, &out, detail), KQ_OK);
		assert_int_equal(out.n, n);
		assert_memory_equal(out.p, pt, n);
		free(out.p);
		assert_int_equal(open_file(env.p, env.n, &out, detail), KQ_OK);
		assert_int_equal(out.n, n);
		assert_memory_equal(out.p, pt, n);
		free(out.p);
		free(env.p);
	}
	kq_secfree(st);
	free(pt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ss_push_is_libsodium),
	    cmocka_unit_test(test_ss_pull_is_libsodium),
	    cmocka_unit_test(test_ss_pull_rejects),
	    cmocka_unit_test(test_pipeline_round_trips),
	    cmocka_unit_test(test_pipeline_pipe_source),
	    cmocka_unit_test(test_pipeline_failures),
	    cmocka_unit_test(test_pipeline_out_fails),
	    cmocka_unit_test(test_pipeline_read_fails),
	    cmocka_unit_test(test_libsodium_envelopes_open),
	};

	if (kq_secmem_init() != KQ_OK || kq_random(dkey, sizeof(dkey)) != KQ_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
