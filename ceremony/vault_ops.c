/*
 * keyquorum: the Vault / OpenBao operations keyquorum performs: seal
 * status, unseal, init, generate-root (Vault's unauthenticated endpoints or
 * OpenBao's authenticated sys/generate-root-token), decode-token.
 *
 * Every body that carries a key is written straight into kq_secalloc
 * memory as text (the key in hex) and wiped after the request.
 */
#include "ceremony/vault_int.h"

#include <stdio.h>
#include <string.h>

#include "common/encoding.h"
#include "common/err.h"
#include "common/secmem.h"

#define KEY_MAX 64 /* bytes of one key share accepted here */

static int
parse_status(
    struct vault_client *vc, struct kq_sbuf *b, struct vault_seal_status *st)
{
	int r = vault_parse_seal_status(
	    (const char *)kq_sbuf_ptr(b), kq_sbuf_len(b), st);

	if (r == KQ_OK && st->flavor != VAULT_FLAVOR_UNKNOWN)
		vc->flavor = st->flavor;
	else if (r != KQ_OK)
		snprintf(vc->detail, sizeof(vc->detail),
		    "the seal status answer is malformed");
	return r;
}

int
vault_seal_status(struct vault_client *vc, struct vault_seal_status *st)
{
	struct kq_sbuf *b = NULL;
	int r;

	if ((r = vault_request(vc, "GET", "sys/seal-status", NULL, 0, 0, &b)) ==
	    KQ_OK)
		r = parse_status(vc, b, st);
	kq_sbuf_free(b);
	return r;
}

/* Only characters that need no JSON escaping and carry no header. */
static int
plain_text(const char *s, size_t max, const char *extra)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= 'A' && s[i] <= 'Z') ||
		        (s[i] >= '0' && s[i] <= '9') ||
		        strchr(extra, s[i]) != NULL))
			return 0;
	}
	return 1;
}

/*
 * {"key":"<hex>"<tail>} in secure memory; tail is public JSON text
 * (",\"nonce\":\"...\"" or "").
 */
static int
key_body(
    const uint8_t *key, size_t len, const char *tail, char **body, size_t *n)
{
	static const char head[] = "{\"key\":\"";
	size_t tl = strlen(tail), cap;
	char *p;

	if (key == NULL || len == 0 || len > KEY_MAX)
		return KQ_ERR_INVALID;
	cap = sizeof(head) - 1 + 2 * len + 1 + tl + 2;
	if ((p = kq_secalloc(cap)) == NULL)
		return KQ_ERR_NOMEM;
	memcpy(p, head, sizeof(head) - 1);
	kq_hex_encode(p + sizeof(head) - 1, 2 * len + 1, key, len);
	memcpy(p + sizeof(head) - 1 + 2 * len, "\"", 1);
	memcpy(p + sizeof(head) + 2 * len, tail, tl);
	memcpy(p + sizeof(head) + 2 * len + tl, "}", 2);
	*body = p;
	*n = cap - 1;
	return KQ_OK;
}

int
vault_unseal(struct vault_client *vc, const uint8_t *key, size_t len,
    struct vault_seal_status *st)
{
	struct kq_sbuf *b = NULL;
	char *body = NULL;
	size_t n;
	int r;

	if ((r = key_body(key, len, "", &body, &n)) != KQ_OK)
		return r;
	if ((r = vault_request(vc, "PUT", "sys/unseal", body, n, 0, &b)) ==
	    KQ_OK)
		r = parse_status(vc, b, st);
	kq_secfree(body);
	kq_sbuf_free(b);
	return r;
}

int
vault_unseal_reset(struct vault_client *vc, struct vault_seal_status *st)
{
	static const char body[] = "{\"reset\":true}";
	struct kq_sbuf *b = NULL;
	int r;

	if ((r = vault_request(vc, "PUT", "sys/unseal", body, sizeof(body) - 1,
	         0, &b)) == KQ_OK)
		r = parse_status(vc, b, st);
	kq_sbuf_free(b);
	return r;
}

int
vault_init(struct vault_client *vc, unsigned shares, unsigned threshold,
    int recovery, vault_key_cb *cb, void *arg, char **root_token)
{
	const char *pfx = recovery ? "recovery" : "secret";
	struct kq_sbuf *b = NULL;
	char body[96];
	int r;

	if (shares == 0 || shares > 255 || threshold == 0 ||
	    threshold > shares || cb == NULL)
		return KQ_ERR_INVALID;
	snprintf(body, sizeof(body), "{\"%s_shares\":%u,\"%s_threshold\":%u}",
	    pfx, shares, pfx, threshold);
	if ((r = vault_request(
	         vc, "PUT", "sys/init", body, strlen(body), 0, &b)) != KQ_OK)
		goto out;
	r = vault_parse_init((const char *)kq_sbuf_ptr(b), kq_sbuf_len(b),
	    shares, recovery, cb, arg, root_token);
	if (r == KQ_ERR_VAULT_RESPONSE)
		snprintf(vc->detail, sizeof(vc->detail),
		    "the init answer does not hold %u valid keys and a root "
		    "token (Vault is initialised now: check its state)",
		    shares);
out:
	kq_sbuf_free(b);
	return r;
}

/* ---- generate-root ------------------------------------------------------ */

/*
 * Vault's sys/generate-root/{attempt,update} needs no token.  OpenBao
 * (since 2.5.3) disables it by default in favour of
 * sys/generate-root-token/{attempt,update}, which needs one.  With a token on a server that looks like OpenBao, use the
 * authenticated variant; otherwise try the unauthenticated one and fall
 * back when the server says it is disabled (404, 405, "disabled").
 */
static int
gr_call(struct vault_client *vc, const char *method, const char *what,
    const char *body, size_t n, struct kq_sbuf **out)
{
	struct vault_seal_status st;
	char path[64];
	int r;

	if (vc->flavor == VAULT_FLAVOR_UNKNOWN)
		(void)vault_seal_status(vc, &st); /* detection only */
	if (vc->flavor == VAULT_FLAVOR_OPENBAO && vc->token != NULL)
		vc->gr_auth = 1;
	snprintf(path, sizeof(path), "sys/generate-root%s/%s",
	    vc->gr_auth ? "-token" : "", what);
	r = vault_request(vc, method, path, body, n, vc->gr_auth, out);
	if (r == KQ_ERR_VAULT_DISABLED && !vc->gr_auth) {
		if (vc->token == NULL) {
			snprintf(vc->detail, sizeof(vc->detail),
			    "%s is disabled on this server; OpenBao's "
			    "sys/generate-root-token needs a token "
			    "(VAULT_TOKEN or --token-file)",
			    path);
			return r;
		}
		vc->gr_auth = 1;
		if (vc->flavor == VAULT_FLAVOR_UNKNOWN)
			vc->flavor = VAULT_FLAVOR_OPENBAO;
		snprintf(
		    path, sizeof(path), "sys/generate-root-token/%s", what);
		r = vault_request(vc, method, path, body, n, 1, out);
	}
	return r;
}

static int
gr_parse(struct vault_client *vc, struct kq_sbuf *b,
    struct vault_generate_root_status *st, char **otp, char **encoded)
{
	int r = vault_parse_generate_root(
	    (const char *)kq_sbuf_ptr(b), kq_sbuf_len(b), st, otp, encoded);

	if (r != KQ_OK)
		snprintf(vc->detail, sizeof(vc->detail),
		    "the generate-root answer is malformed");
	return r;
}

int
vault_generate_root_start(
    struct vault_client *vc, char **otp, struct vault_generate_root_status *st)
{
	struct kq_sbuf *b = NULL;
	char *o = NULL;
	int r;

	if ((r = gr_call(vc, "PUT", "attempt", "{}", 2, &b)) != KQ_OK ||
	    (r = gr_parse(vc, b, st, &o, NULL)) != KQ_OK)
		goto out;
	r = KQ_ERR_VAULT_RESPONSE;
	if (o == NULL || strlen(o) != st->otp_length || st->nonce[0] == '\0') {
		snprintf(vc->detail, sizeof(vc->detail),
		    "the attempt started without a usable OTP (is a PGP key "
		    "or an OTP already set on it?)");
		goto out;
	}
	*otp = o;
	o = NULL;
	r = KQ_OK;
out:
	kq_secfree(o);
	kq_sbuf_free(b);
	return r;
}

int
vault_generate_root_status(
    struct vault_client *vc, struct vault_generate_root_status *st)
{
	struct kq_sbuf *b = NULL;
	int r;

	if ((r = gr_call(vc, "GET", "attempt", NULL, 0, &b)) == KQ_OK)
		r = gr_parse(vc, b, st, NULL, NULL);
	kq_sbuf_free(b);
	return r;
}

int
vault_generate_root_cancel(struct vault_client *vc)
{
	struct kq_sbuf *b = NULL;
	int r;

	r = gr_call(vc, "DELETE", "attempt", NULL, 0, &b);
	kq_sbuf_free(b);
	return r;
}

int
vault_generate_root_update(struct vault_client *vc, const char *nonce,
    const uint8_t *key, size_t len, struct vault_generate_root_status *st,
    char **encoded_token)
{
	struct kq_sbuf *b = NULL;
	char tail[96], *body = NULL, *enc = NULL;
	size_t n;
	int r;

	if (nonce == NULL || !plain_text(nonce, 63, "-"))
		return KQ_ERR_INVALID;
	snprintf(tail, sizeof(tail), ",\"nonce\":\"%s\"", nonce);
	if ((r = key_body(key, len, tail, &body, &n)) != KQ_OK)
		return r;
	if ((r = gr_call(vc, "PUT", "update", body, n, &b)) != KQ_OK ||
	    (r = gr_parse(vc, b, st, NULL, &enc)) != KQ_OK)
		goto out;
	r = KQ_ERR_VAULT_RESPONSE;
	if (st->complete && enc == NULL) {
		snprintf(vc->detail, sizeof(vc->detail),
		    "the attempt completed without an encoded token");
		goto out;
	}
	*encoded_token = st->complete ? enc : NULL;
	if (st->complete)
		enc = NULL;
	r = KQ_OK;
out:
	kq_secfree(enc);
	kq_secfree(body);
	kq_sbuf_free(b);
	return r;
}

/* Append n bytes of s at *p (the caller sized the buffer). */
static void
put(char **p, const char *s, size_t n)
{
	memcpy(*p, s, n);
	*p += n;
}

int
vault_decode_token(
    struct vault_client *vc, const char *encoded, const char *otp, char **token)
{
	struct kq_sbuf *b = NULL;
	char *body = NULL, *tok = NULL, *w;
	size_t cap;
	int r = KQ_ERR_INVALID;

	if (encoded == NULL || otp == NULL ||
	    !plain_text(encoded, 512, "+/=") ||
	    !plain_text(otp, ROOT_TOKEN_MAX, "+/=.-_"))
		return KQ_ERR_INVALID;
	cap = strlen(encoded) + strlen(otp) + 40;
	if ((body = w = kq_secalloc(cap)) == NULL)
		return KQ_ERR_NOMEM;
	put(&w, "{\"encoded_token\":\"", 18);
	put(&w, encoded, strlen(encoded));
	put(&w, "\",\"otp\":\"", 9);
	put(&w, otp, strlen(otp));
	put(&w, "\"}", 2);
	/* Unauthenticated in Vault's and OpenBao's sys backend; a token is
	 * sent when there is one. */
	if ((r = vault_request(vc, "PUT", "sys/decode-token", body,
	         (size_t)(w - body), vc->token != NULL, &b)) != KQ_OK)
		goto out;
	r = vault_parse_token(
	    (const char *)kq_sbuf_ptr(b), kq_sbuf_len(b), &tok);
	if (r != KQ_OK) {
		snprintf(vc->detail, sizeof(vc->detail),
		    "the decode-token answer holds no token");
		goto out;
	}
	*token = tok;
	r = KQ_OK;
out:
	kq_secfree(body);
	kq_sbuf_free(b);
	return r;
}
