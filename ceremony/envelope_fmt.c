/*
 * keyquorum: the rollback envelope's format (keyquorum-envelope(5)): the
 * header codec and the streamed body, libsodium's secretstream
 * (XChaCha20-Poly1305) in fixed-size chunks, every chunk bound to the
 * SHA-256 of the whole header.  No HSM here: ceremony/envelope.c wraps the
 * data key.  Memory is bounded by four batches of chunks whatever the
 * envelope's size (the pipeline below).
 */
#include "ceremony/ceremony.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/cer_int.h"
#include "ceremony/envelope_ss.h"
#include "common/err.h"
#include "common/secmem.h"

#define KEY_AAD_LABEL "keyquorum/envelope/v1/data-key"
#define BODY_AD_LABEL "keyquorum/envelope/v1/body"

_Static_assert(
    crypto_secretstream_xchacha20poly1305_HEADERBYTES == ENVELOPE_SS_HEADER_LEN,
    "secretstream header size");
_Static_assert(crypto_secretstream_xchacha20poly1305_ABYTES == ENVELOPE_ABYTES,
    "secretstream overhead");
_Static_assert(
    crypto_secretstream_xchacha20poly1305_KEYBYTES == ENVELOPE_KEY_LEN,
    "secretstream key size");

static const char *const content_names[] = {
    [ENVELOPE_FILE] = "file",
    [ENVELOPE_ROLLBACK_PLAN] = "rollback-plan",
    [ENVELOPE_ROOT_TOKEN] = "vault-root-token",
};

const char *
envelope_content_name(enum envelope_content c)
{
	if (c < ENVELOPE_FILE || c > ENVELOPE_ROOT_TOKEN)
		return NULL;
	return content_names[c];
}

int
envelope_content_parse(const char *s, enum envelope_content *c)
{
	int i;

	for (i = ENVELOPE_FILE; i <= ENVELOPE_ROOT_TOKEN; i++) {
		if (strcmp(s, content_names[i]) == 0) {
			*c = (enum envelope_content)i;
			return KQ_OK;
		}
	}
	return KQ_ERR_FORMAT;
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A header string: no control characters (show prints them). */
static int
str_ok(const char *s, size_t n)
{
	size_t i;

	if (n > ENVELOPE_STR_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			return 0;
	}
	return 1;
}

static const char *
info_str(const struct envelope_info *in, int i)
{
	switch (i) {
	case 0:
		return in->label;
	case 1:
		return in->creator;
	case 2:
		return in->token_label;
	case 3:
		return in->token_serial;
	case 4:
		return in->key_label;
	default:
		return in->quorum;
	}
}

static char *
info_str_w(struct envelope_info *in, int i)
{
	return (char *)(uintptr_t)info_str(in, i);
}

#define N_STRS 6

int
envelope_header_encode(
    struct envelope_info *info, uint8_t *out, size_t cap, size_t *len)
{
	size_t o = 0, n;
	uint64_t t;
	int i;

	if (envelope_content_name(info->content) == NULL ||
	    info->chunk_size < ENVELOPE_CHUNK_MIN ||
	    info->chunk_size > ENVELOPE_CHUNK_MAX || cap < ENVELOPE_HEADER_MAX)
		return KQ_ERR_INVALID;
	memcpy(out, ENVELOPE_MAGIC, 4);
	out[4] = ENVELOPE_VERSION;
	out[5] = (uint8_t)info->content;
	/* out[6..7]: the header length, below */
	memcpy(out + 8, info->id, ENVELOPE_ID_LEN);
	t = (uint64_t)(info->created < 0 ? 0 : info->created);
	put32(out + 24, (uint32_t)(t >> 32));
	put32(out + 28, (uint32_t)t);
	put32(out + 32, info->chunk_size);
	memcpy(out + 36, info->set_id, CUSTODY_SET_ID_LEN);
	o = ENVELOPE_FIXED_LEN;
	for (i = 0; i < N_STRS; i++) {
		const char *s = info_str(info, i);

		n = strlen(s);
		if (!str_ok(s, n))
			return KQ_ERR_INVALID;
		out[o++] = (uint8_t)n;
		memcpy(out + o, s, n);
		o += n;
	}
	info->prefix_len = o;
	memcpy(out + o, info->wrapped, ENVELOPE_WRAPPED_LEN);
	o += ENVELOPE_WRAPPED_LEN;
	memcpy(out + o, info->ss_header, ENVELOPE_SS_HEADER_LEN);
	o += ENVELOPE_SS_HEADER_LEN;
	put16(out + 6, (unsigned)o);
	info->header_len = o;
	info->version = ENVELOPE_VERSION;
	*len = o;
	return KQ_OK;
}

int
envelope_header_parse(const uint8_t *b, size_t n, struct envelope_info *out)
{
	struct envelope_info in;
	size_t hl, o, sl;
	uint64_t t;
	int i;

	memset(&in, 0, sizeof(in));
	if (n < 8)
		return memcmp(b, ENVELOPE_MAGIC, n < 4 ? n : 4) == 0
		    ? KQ_ERR_ENVELOPE_TRUNCATED
		    : KQ_ERR_FORMAT;
	if (memcmp(b, ENVELOPE_MAGIC, 4) != 0)
		return KQ_ERR_FORMAT;
	if (b[4] != ENVELOPE_VERSION)
		return KQ_ERR_VERSION;
	in.version = b[4];
	in.content = (enum envelope_content)b[5];
	if (envelope_content_name(in.content) == NULL)
		return KQ_ERR_VERSION;
	hl = (size_t)b[6] << 8 | b[7];
	if (hl < ENVELOPE_FIXED_LEN + N_STRS + ENVELOPE_WRAPPED_LEN +
	            ENVELOPE_SS_HEADER_LEN ||
	    hl > ENVELOPE_HEADER_MAX)
		return KQ_ERR_FORMAT;
	if (n < hl)
		return KQ_ERR_ENVELOPE_TRUNCATED;
	memcpy(in.id, b + 8, ENVELOPE_ID_LEN);
	t = (uint64_t)get32(b + 24) << 32 | get32(b + 28);
	if (t > (uint64_t)INT64_MAX)
		return KQ_ERR_FORMAT;
	in.created = (time_t)t;
	in.chunk_size = get32(b + 32);
	if (in.chunk_size < ENVELOPE_CHUNK_MIN ||
	    in.chunk_size > ENVELOPE_CHUNK_MAX)
		return KQ_ERR_FORMAT;
	memcpy(in.set_id, b + 36, CUSTODY_SET_ID_LEN);
	o = ENVELOPE_FIXED_LEN;
	for (i = 0; i < N_STRS; i++) {
		if (o >= hl)
			return KQ_ERR_FORMAT;
		sl = b[o++];
		if (o + sl > hl || !str_ok((const char *)b + o, sl))
			return KQ_ERR_FORMAT;
		memcpy(info_str_w(&in, i), b + o, sl);
		info_str_w(&in, i)[sl] = '\0';
		o += sl;
	}
	in.prefix_len = o;
	if (o + ENVELOPE_WRAPPED_LEN + ENVELOPE_SS_HEADER_LEN != hl)
		return KQ_ERR_FORMAT;
	memcpy(in.wrapped, b + o, ENVELOPE_WRAPPED_LEN);
	o += ENVELOPE_WRAPPED_LEN;
	memcpy(in.ss_header, b + o, ENVELOPE_SS_HEADER_LEN);
	in.header_len = hl;
	*out = in;
	return KQ_OK;
}

size_t
envelope_key_aad(
    const uint8_t *hdr, size_t prefix_len, uint8_t *out, size_t cap)
{
	size_t l = sizeof(KEY_AAD_LABEL); /* with its NUL */

	if (l + prefix_len > cap)
		return 0;
	memcpy(out, KEY_AAD_LABEL, l);
	memcpy(out + l, hdr, prefix_len);
	return l + prefix_len;
}

/* SHA-256(BODY_AD_LABEL NUL || header): every chunk's associated data. */
static void
body_ad(const uint8_t *hdr, size_t len, uint8_t ad[32])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(
	    &st, (const uint8_t *)BODY_AD_LABEL, sizeof(BODY_AD_LABEL));
	crypto_hash_sha256_update(&st, hdr, len);
	crypto_hash_sha256_final(&st, ad);
}

/* Read up to want bytes (fewer only at the end).  KQ_OK and *got. */
static int
src_read(struct envelope_src *in, uint8_t *p, size_t want, size_t *got)
{
	size_t n = 0;
	ssize_t k;

	if (in->fd < 0) {
		n = in->len - in->off < want ? in->len - in->off : want;
		if (n > 0)
			memcpy(p, in->buf + in->off, n);
		in->off += n;
		*got = n;
		return KQ_OK;
	}
	while (n < want) {
		k = read(in->fd, p + n, want - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return KQ_ERR_IO;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*got = n;
	return KQ_OK;
}

int
envelope_header_read(
    int fd, uint8_t *hdr, size_t *hdr_len, struct envelope_info *info)
{
	struct envelope_src in = {fd, NULL, 0, 0};
	size_t got, hl;
	int r;

	if ((r = src_read(&in, hdr, 8, &got)) != KQ_OK)
		return r;
	if (got < 8)
		return envelope_header_parse(hdr, got, info);
	if (memcmp(hdr, ENVELOPE_MAGIC, 4) != 0)
		return KQ_ERR_FORMAT;
	if (hdr[4] != ENVELOPE_VERSION)
		return KQ_ERR_VERSION;
	hl = (size_t)hdr[6] << 8 | hdr[7];
	if (hl < 8 || hl > ENVELOPE_HEADER_MAX)
		return KQ_ERR_FORMAT;
	if ((r = src_read(&in, hdr + 8, hl - 8, &got)) != KQ_OK)
		return r;
	if ((r = envelope_header_parse(hdr, 8 + got, info)) != KQ_OK)
		return r;
	*hdr_len = hl;
	return KQ_OK;
}

/*
 * The body's pipeline.  Up to three threads hand batches of whole chunks
 * along two rings of PIPE_DEPTH slots: a reader fills the input slots from
 * the source, the caller's thread runs secretstream from an input slot
 * into the output slot of the same index, and a writer gives the output
 * slots to out.  Reading, the crypto and writing overlap; memory is
 * 2 * PIPE_DEPTH batches whatever the envelope's size.  Plaintext slots
 * (seal's input, open's output) are secure memory, wiped when freed; the
 * reader reads straight into them, so no plaintext is copied elsewhere.
 * A body that fits in one batch runs in the caller's thread alone.  The
 * helper threads block signals: SIGINT/SIGTERM reach the caller's thread
 * as before, and out sees them.
 */
#define PIPE_BATCH (2u * 1024 * 1024) /* plaintext bytes per batch */
#define PIPE_DEPTH 2

struct pipe_slot {
	uint8_t *p;
	size_t len;
	int eof; /* input: the source ended here; output: the last batch */
	int full; /* waiting for the next stage */
};

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, err; /* err: the first failure */
	int threads; /* 1: reader and writer threads; 0 or -1: none */
	int depth; /* slots in use: PIPE_DEPTH, or 1 without threads */
	int started; /* pipe_start ran: pipe_finish must too */
	struct pipe_slot in[PIPE_DEPTH], out[PIPE_DEPTH];
	size_t in_cap, out_cap;
	int in_secure, out_secure;
	struct envelope_src *src;
	envelope_out_cb *cb;
	void *arg;
	pthread_t rt, wt;
	int have_rt, have_wt;
};

static uint8_t *
pipe_alloc(size_t n, int secure)
{
	return secure ? kq_secalloc(n) : malloc(n);
}

static void
pipe_release(uint8_t *p, int secure)
{
	if (secure)
		kq_secfree(p);
	else
		free(p);
}

/* Record the first failure and wake every stage.  Under mu. */
static void
pipe_fail_locked(struct pipe *pp, int r)
{
	if (!pp->stop)
		pp->err = r;
	pp->stop = 1;
	pthread_cond_broadcast(&pp->cv);
}

/* The source into slot s: KQ_OK, or the read's error. */
static int
pipe_fill(struct pipe *pp, struct pipe_slot *s)
{
	size_t got = 0;
	int r;

	r = src_read(pp->src, s->p, pp->in_cap, &got);
	s->len = got;
	s->eof = got < pp->in_cap;
	return r;
}

static void *
pipe_reader(void *v)
{
	struct pipe *pp = v;
	struct pipe_slot *s;
	size_t i;
	int r, eof;

	for (i = 0;; i++) {
		s = &pp->in[i % PIPE_DEPTH];
		pthread_mutex_lock(&pp->mu);
		while (s->full && !pp->stop)
			pthread_cond_wait(&pp->cv, &pp->mu);
		eof = pp->stop;
		pthread_mutex_unlock(&pp->mu);
		if (eof)
			break;
		r = pipe_fill(pp, s);
		eof = s->eof;
		pthread_mutex_lock(&pp->mu);
		if (r != KQ_OK)
			pipe_fail_locked(pp, r); /* the slot stays empty */
		else
			s->full = 1;
		pthread_cond_broadcast(&pp->cv);
		pthread_mutex_unlock(&pp->mu);
		if (r != KQ_OK || eof)
			break;
	}
	return NULL;
}

static void *
pipe_writer(void *v)
{
	struct pipe *pp = v;
	struct pipe_slot *s;
	size_t i;
	int r, last;

	for (i = 0;; i++) {
		s = &pp->out[i % PIPE_DEPTH];
		pthread_mutex_lock(&pp->mu);
		while (!s->full && !pp->stop)
			pthread_cond_wait(&pp->cv, &pp->mu);
		last = pp->stop;
		pthread_mutex_unlock(&pp->mu);
		if (last)
			break;
		r = s->len > 0 ? pp->cb(pp->arg, s->p, s->len) : KQ_OK;
		last = s->eof;
		pthread_mutex_lock(&pp->mu);
		if (r != KQ_OK)
			pipe_fail_locked(pp, r);
		s->full = 0;
		pthread_cond_broadcast(&pp->cv);
		pthread_mutex_unlock(&pp->mu);
		if (r != KQ_OK || last)
			break;
	}
	return NULL;
}

/*
 * Set up the rings; with threads, start the reader and the writer with
 * every signal blocked.  KQ_OK or KQ_ERR_NOMEM.
 */
static int
pipe_start(struct pipe *pp, int threads)
{
	sigset_t all, old;
	int i;

	pp->started = 1;
	pp->depth = threads ? PIPE_DEPTH : 1;
	for (i = 0; i < pp->depth; i++) {
		if ((pp->in[i].p = pipe_alloc(pp->in_cap, pp->in_secure)) ==
		        NULL ||
		    (pp->out[i].p = pipe_alloc(pp->out_cap, pp->out_secure)) ==
		        NULL)
			return KQ_ERR_NOMEM;
	}
	if (pthread_mutex_init(&pp->mu, NULL) != 0)
		return KQ_ERR_NOMEM;
	if (pthread_cond_init(&pp->cv, NULL) != 0) {
		pthread_mutex_destroy(&pp->mu);
		return KQ_ERR_NOMEM;
	}
	pp->threads = -1; /* mu and cv exist */
	if (!threads)
		return KQ_OK;
	pp->threads = 1;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pp->have_rt = pthread_create(&pp->rt, NULL, pipe_reader, pp) == 0;
	pp->have_wt =
	    pp->have_rt && pthread_create(&pp->wt, NULL, pipe_writer, pp) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return pp->have_wt ? KQ_OK : KQ_ERR_NOMEM;
}

/* The caller's stage: the input slot of batch i, or NULL (pp->err). */
static struct pipe_slot *
pipe_in_get(struct pipe *pp, size_t i)
{
	struct pipe_slot *s = &pp->in[i % (size_t)pp->depth];
	int r;

	if (pp->threads <= 0) {
		if ((r = pipe_fill(pp, s)) != KQ_OK) {
			pp->err = r;
			return NULL;
		}
		return s;
	}
	pthread_mutex_lock(&pp->mu);
	while (!s->full && !pp->stop)
		pthread_cond_wait(&pp->cv, &pp->mu);
	/* A slot the reader filled before it failed is still good. */
	if (!s->full)
		s = NULL;
	pthread_mutex_unlock(&pp->mu);
	return s;
}

static void
pipe_in_done(struct pipe *pp, struct pipe_slot *s)
{
	if (pp->threads <= 0)
		return;
	pthread_mutex_lock(&pp->mu);
	s->full = 0;
	pthread_cond_broadcast(&pp->cv);
	pthread_mutex_unlock(&pp->mu);
}

/* The output slot of batch i once the writer is done with it, or NULL. */
static struct pipe_slot *
pipe_out_get(struct pipe *pp, size_t i)
{
	struct pipe_slot *s = &pp->out[i % (size_t)pp->depth];

	if (pp->threads <= 0)
		return s;
	pthread_mutex_lock(&pp->mu);
	while (s->full && !pp->stop)
		pthread_cond_wait(&pp->cv, &pp->mu);
	if (pp->stop)
		s = NULL;
	pthread_mutex_unlock(&pp->mu);
	return s;
}

/* Hand the output slot on (last: nothing follows).  KQ_OK or a failure. */
static int
pipe_out_put(struct pipe *pp, struct pipe_slot *s, size_t len, int last)
{
	int r = KQ_OK;

	s->len = len;
	s->eof = last;
	if (pp->threads <= 0)
		return len > 0 ? pp->cb(pp->arg, s->p, len) : KQ_OK;
	pthread_mutex_lock(&pp->mu);
	if (pp->stop)
		r = pp->err;
	s->full = 1;
	pthread_cond_broadcast(&pp->cv);
	pthread_mutex_unlock(&pp->mu);
	return r;
}

/*
 * Stop (r != KQ_OK: at once; KQ_OK: once the writer has written the last
 * batch), join, free.  Returns r, or the first failure of a stage.
 */
static int
pipe_finish(struct pipe *pp, int r)
{
	int i;

	if (pp->threads != 0) {
		pthread_mutex_lock(&pp->mu);
		if (r != KQ_OK)
			pipe_fail_locked(pp, r);
		pthread_mutex_unlock(&pp->mu);
		if (pp->have_wt)
			pthread_join(pp->wt, NULL);
		if (pp->have_rt) {
			/* The reader may wait for a slot no one frees. */
			pthread_mutex_lock(&pp->mu);
			pipe_fail_locked(pp, r);
			pthread_mutex_unlock(&pp->mu);
			pthread_join(pp->rt, NULL);
		}
		if (r == KQ_OK && pp->err != KQ_OK)
			r = pp->err;
		pthread_cond_destroy(&pp->cv);
		pthread_mutex_destroy(&pp->mu);
	}
	for (i = 0; i < pp->depth; i++) {
		pipe_release(pp->in[i].p, pp->in_secure);
		pipe_release(pp->out[i].p, pp->out_secure);
	}
	return r;
}

/*
 * Chunks per batch, and whether the body needs more than one batch
 * (then the helper threads run): from what is left of the source when
 * its size is known (a buffer or a regular file), unit bytes a chunk.
 */
static size_t
pipe_batch(const struct envelope_src *in, size_t cs, size_t unit, int *many)
{
	size_t k = PIPE_BATCH / cs > 0 ? PIPE_BATCH / cs : 1;
	uint64_t left = UINT64_MAX;
	struct stat st;
	off_t pos;

	if (in->fd < 0) {
		left = in->len - in->off;
	} else if (fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (pos = lseek(in->fd, 0, SEEK_CUR)) >= 0) {
		left = st.st_size > pos ? (uint64_t)(st.st_size - pos) : 0;
		(void)posix_fadvise(in->fd, pos, 0, POSIX_FADV_SEQUENTIAL);
	}
	/* One more chunk than whole ones: a final chunk, or a byte more. */
	if (left / unit + 1 < k) {
		k = (size_t)(left / unit) + 1;
		*many = 0;
	} else {
		*many = left == UINT64_MAX || left / unit + 1 > k;
	}
	return k;
}

int
envelope_stream_seal(const uint8_t *key, struct envelope_info *info,
    struct envelope_src *in, envelope_out_cb *out, void *arg, uint64_t *n_in)
{
	crypto_secretstream_xchacha20poly1305_state *st = NULL;
	uint8_t hdr[ENVELOPE_HEADER_MAX], ad[32];
	struct envelope_ss *ss = NULL;
	struct pipe pp;
	struct pipe_slot *ps, *po;
	size_t hl, off, o, n, k, cs = info->chunk_size;
	uint64_t total = 0;
	unsigned char tag;
	size_t i;
	int r, many;

	memset(&pp, 0, sizeof(pp));
	if (cs < ENVELOPE_CHUNK_MIN || cs > ENVELOPE_CHUNK_MAX)
		return KQ_ERR_INVALID;
	if ((st = kq_secalloc(sizeof(*st))) == NULL)
		return KQ_ERR_NOMEM;
	if ((r = envelope_ss_new(&ss, 1, 0)) != KQ_OK)
		goto out;
	crypto_secretstream_xchacha20poly1305_init_push(
	    st, info->ss_header, key);
	if ((r = envelope_header_encode(info, hdr, sizeof(hdr), &hl)) != KQ_OK)
		goto out;
	body_ad(hdr, hl, ad);
	if ((r = out(arg, hdr, hl)) != KQ_OK)
		goto out;
	k = pipe_batch(in, cs, cs, &many);
	pp.in_cap = k * cs;
	pp.out_cap = k * (cs + ENVELOPE_ABYTES);
	pp.in_secure = 1; /* plaintext */
	pp.src = in;
	pp.cb = out;
	pp.arg = arg;
	if ((r = pipe_start(&pp, many)) != KQ_OK)
		goto out;
	for (i = 0;; i++) {
		if ((ps = pipe_in_get(&pp, i)) == NULL ||
		    (po = pipe_out_get(&pp, i)) == NULL) {
			r = pp.err;
			goto out;
		}
		/*
		 * Whole chunks; a batch that is not the source's last holds
		 * whole chunks only.  The last chunk of the last batch is
		 * the final one, shorter than cs (possibly empty).
		 */
		tag = 0;
		for (off = 0, o = 0; off < ps->len || ps->eof;) {
			n = ps->len - off < cs ? ps->len - off : cs;
			tag = n == cs
			    ? 0
			    : crypto_secretstream_xchacha20poly1305_TAG_FINAL;
			r = envelope_ss_push(ss, st, po->p + o, ps->p + off, n,
			    ad, sizeof(ad), tag);
			if (r != KQ_OK) {
				pipe_in_done(&pp, ps);
				goto out;
			}
			o += n + ENVELOPE_ABYTES;
			off += n;
			if (tag != 0)
				break;
		}
		total += ps->len;
		pipe_in_done(&pp, ps);
		if ((r = pipe_out_put(&pp, po, o, tag != 0)) != KQ_OK)
			goto out;
		if (tag != 0)
			break;
	}
	r = KQ_OK;
out:
	if (pp.started)
		r = pipe_finish(&pp, r);
	if (r == KQ_OK && n_in != NULL)
		*n_in = total;
	envelope_ss_free(ss);
	kq_secfree(st);
	return r;
}

/* Open one batch of ciphertext into pt.  KQ_OK or a failure (detail). */
static int
open_batch(struct envelope_ss *ss,
    crypto_secretstream_xchacha20poly1305_state *st, const struct pipe_slot *ps,
    uint8_t *pt, size_t *pt_len, size_t full, const uint8_t ad[32],
    size_t hdr_len, uint64_t *chunk, int *final, char *detail)
{
	unsigned char tag;
	size_t off, n, o = 0;

	for (off = 0; off < ps->len;) {
		if (*final) {
			cer_detail(
			    detail, "bytes follow the envelope's final chunk");
			return KQ_ERR_FORMAT;
		}
		++*chunk;
		n = ps->len - off < full ? ps->len - off : full;
		if (n < ENVELOPE_ABYTES ||
		    envelope_ss_pull(ss, st, pt + o, &tag, ps->p + off, n, ad,
		        32) != KQ_OK) {
			cer_detail(detail,
			    "chunk %llu (at byte %llu) fails authentication: "
			    "the envelope was altered, truncated, or its "
			    "header changed",
			    (unsigned long long)*chunk,
			    (unsigned long long)(hdr_len +
			        (*chunk - 1) * full));
			return KQ_ERR_INTEGRITY;
		}
		if ((tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) !=
		    (n < full)) {
			cer_detail(detail,
			    "chunk %llu has the wrong framing for its size",
			    (unsigned long long)*chunk);
			return KQ_ERR_FORMAT;
		}
		o += n - ENVELOPE_ABYTES;
		off += n;
		*final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
	}
	if (!*final && ps->eof) {
		cer_detail(detail,
		    "the envelope ends after chunk %llu without its final "
		    "chunk: truncated",
		    (unsigned long long)*chunk);
		return KQ_ERR_ENVELOPE_TRUNCATED;
	}
	*pt_len = o;
	return KQ_OK;
}

int
envelope_stream_open(const uint8_t *key, const struct envelope_info *info,
    const uint8_t *hdr, size_t hdr_len, struct envelope_src *in,
    envelope_out_cb *out, void *arg, uint64_t *n_out, char *detail)
{
	crypto_secretstream_xchacha20poly1305_state *st = NULL;
	struct envelope_ss *ss = NULL;
	uint8_t ad[32];
	struct pipe pp;
	struct pipe_slot *ps, *pt;
	size_t k, plen, cs = info->chunk_size, full = cs + ENVELOPE_ABYTES;
	uint64_t total = 0, chunk = 0;
	size_t i;
	int r, many, final = 0;

	memset(&pp, 0, sizeof(pp));
	if (cs < ENVELOPE_CHUNK_MIN || cs > ENVELOPE_CHUNK_MAX)
		return KQ_ERR_INVALID;
	if ((st = kq_secalloc(sizeof(*st))) == NULL)
		return KQ_ERR_NOMEM;
	if ((r = envelope_ss_new(&ss, 0, 0)) != KQ_OK)
		goto out;
	if (crypto_secretstream_xchacha20poly1305_init_pull(
	        st, info->ss_header, key) != 0) {
		cer_detail(detail, "the envelope's stream header is invalid");
		r = KQ_ERR_INTEGRITY;
		goto out;
	}
	body_ad(hdr, hdr_len, ad);
	k = pipe_batch(in, cs, full, &many);
	pp.in_cap = k * full;
	pp.out_cap = k * cs;
	pp.out_secure = 1; /* plaintext */
	pp.src = in;
	pp.cb = out;
	pp.arg = arg;
	if ((r = pipe_start(&pp, many)) != KQ_OK)
		goto out;
	for (i = 0;; i++) {
		if ((ps = pipe_in_get(&pp, i)) == NULL ||
		    (pt = pipe_out_get(&pp, i)) == NULL) {
			r = pp.err;
			goto out;
		}
		/* Every chunk is verified before its batch goes to out. */
		r = open_batch(ss, st, ps, pt->p, &plen, full, ad, hdr_len,
		    &chunk, &final, detail);
		pipe_in_done(&pp, ps);
		if (r != KQ_OK)
			goto out;
		total += plen;
		if ((r = pipe_out_put(&pp, pt, plen, final)) != KQ_OK)
			goto out;
		if (final)
			break;
	}
	r = KQ_OK;
out:
	if (pp.started)
		r = pipe_finish(&pp, r);
	if (r == KQ_OK && n_out != NULL)
		*n_out = total;
	envelope_ss_free(ss);
	kq_secfree(st);
	return r;
}
