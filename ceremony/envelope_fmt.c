/*
 * keyquorum: the rollback envelope's format (keyquorum-envelope(5)): the
 * header codec and the streamed body, libsodium's secretstream
 * (XChaCha20-Poly1305) in fixed-size chunks, every chunk bound to the
 * SHA-256 of the whole header.  No HSM here: ceremony/envelope.c wraps the
 * data key.  Memory is bounded by two chunks whatever the envelope's size.
 */
#include "ceremony/ceremony.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/cer_int.h"
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

int
envelope_stream_seal(const uint8_t *key, struct envelope_info *info,
    struct envelope_src *in, envelope_out_cb *out, void *arg, uint64_t *n_in)
{
	crypto_secretstream_xchacha20poly1305_state *st = NULL;
	uint8_t hdr[ENVELOPE_HEADER_MAX], ad[32];
	uint8_t *pt = NULL, *ct = NULL;
	size_t hl, got, cs = info->chunk_size;
	unsigned long long clen;
	uint64_t total = 0;
	unsigned char tag;
	int r;

	if (cs < ENVELOPE_CHUNK_MIN || cs > ENVELOPE_CHUNK_MAX)
		return KQ_ERR_INVALID;
	if ((st = kq_secalloc(sizeof(*st))) == NULL ||
	    (pt = kq_secalloc(cs)) == NULL ||
	    (ct = malloc(cs + ENVELOPE_ABYTES)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	crypto_secretstream_xchacha20poly1305_init_push(
	    st, info->ss_header, key);
	if ((r = envelope_header_encode(info, hdr, sizeof(hdr), &hl)) != KQ_OK)
		goto out;
	body_ad(hdr, hl, ad);
	if ((r = out(arg, hdr, hl)) != KQ_OK)
		goto out;
	for (;;) {
		if ((r = src_read(in, pt, cs, &got)) != KQ_OK)
			goto out;
		total += got;
		tag = got == cs
		    ? 0
		    : crypto_secretstream_xchacha20poly1305_TAG_FINAL;
		/* pt is overwritten by the next chunk and wiped when freed. */
		crypto_secretstream_xchacha20poly1305_push(
		    st, ct, &clen, pt, got, ad, sizeof(ad), tag);
		if ((r = out(arg, ct, (size_t)clen)) != KQ_OK)
			goto out;
		if (tag != 0)
			break;
	}
	if (n_in != NULL)
		*n_in = total;
	r = KQ_OK;
out:
	kq_secfree(st);
	kq_secfree(pt);
	free(ct);
	return r;
}

int
envelope_stream_open(const uint8_t *key, const struct envelope_info *info,
    const uint8_t *hdr, size_t hdr_len, struct envelope_src *in,
    envelope_out_cb *out, void *arg, uint64_t *n_out, char *detail)
{
	crypto_secretstream_xchacha20poly1305_state *st = NULL;
	uint8_t ad[32], extra;
	uint8_t *pt = NULL, *ct = NULL;
	size_t got, cs = info->chunk_size, full = cs + ENVELOPE_ABYTES;
	unsigned long long plen;
	uint64_t total = 0, chunk = 0;
	unsigned char tag;
	int r;

	if ((st = kq_secalloc(sizeof(*st))) == NULL ||
	    (pt = kq_secalloc(cs)) == NULL || (ct = malloc(full)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	if (crypto_secretstream_xchacha20poly1305_init_pull(
	        st, info->ss_header, key) != 0) {
		cer_detail(detail, "the envelope's stream header is invalid");
		r = KQ_ERR_INTEGRITY;
		goto out;
	}
	body_ad(hdr, hdr_len, ad);
	for (;;) {
		chunk++;
		if ((r = src_read(in, ct, full, &got)) != KQ_OK)
			goto out;
		if (got == 0) {
			cer_detail(detail,
			    "the envelope ends after chunk %llu without its "
			    "final chunk: truncated",
			    (unsigned long long)(chunk - 1));
			r = KQ_ERR_ENVELOPE_TRUNCATED;
			goto out;
		}
		if (got < ENVELOPE_ABYTES ||
		    crypto_secretstream_xchacha20poly1305_pull(
		        st, pt, &plen, &tag, ct, got, ad, sizeof(ad)) != 0) {
			cer_detail(detail,
			    "chunk %llu (at byte %llu) fails authentication: "
			    "the envelope was altered, truncated, or its "
			    "header changed",
			    (unsigned long long)chunk,
			    (unsigned long long)(hdr_len + (chunk - 1) * full));
			r = KQ_ERR_INTEGRITY;
			goto out;
		}
		if ((tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) !=
		    (got < full)) {
			cer_detail(detail,
			    "chunk %llu has the wrong framing for its size",
			    (unsigned long long)chunk);
			r = KQ_ERR_FORMAT;
			goto out;
		}
		r = out(arg, pt, (size_t)plen); /* pt wiped when freed */
		if (r != KQ_OK)
			goto out;
		total += plen;
		if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
			break;
	}
	if ((r = src_read(in, &extra, 1, &got)) != KQ_OK)
		goto out;
	if (got != 0) {
		cer_detail(detail, "bytes follow the envelope's final chunk");
		r = KQ_ERR_FORMAT;
		goto out;
	}
	if (n_out != NULL)
		*n_out = total;
	r = KQ_OK;
out:
	kq_secfree(st);
	kq_secfree(pt);
	free(ct);
	return r;
}
