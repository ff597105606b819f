/*
 * keyquorum: Vault / OpenBao answers: parsing and the one place where
 * Vault's errors become kq_err codes.  No I/O here.
 *
 * Bodies that carry secrets (init keys, the OTP, encoded and root tokens)
 * are parsed with ceremony_json_loadb(secret = 1): the whole JSON tree
 * lives in secure memory, and every secret value is copied from it into a
 * kq_secalloc buffer before the tree is freed (wiped).
 */
#include "ceremony/ceremony.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ceremony/cer_int.h"
#include "common/encoding.h"
#include "common/err.h"
#include "common/secmem.h"

static int
has(const char *msg, const char *needle)
{
	return msg != NULL && strcasestr(msg, needle) != NULL;
}

int
vault_map_error(long http_status, const char *m)
{
	if (http_status == 0)
		return KQ_ERR_VAULT_CONNECT;
	if (http_status >= 200 && http_status < 300)
		return KQ_OK;
	/* The message first: Vault answers most mistakes with a 400. */
	if (has(m, "permission denied") || http_status == 403 ||
	    http_status == 401)
		return KQ_ERR_VAULT_PERMISSION;
	if (has(m, "already initialized") || has(m, "already initialised"))
		return KQ_ERR_VAULT_INITIALIZED;
	if (has(m, "not initialized") || has(m, "not initialised") ||
	    http_status == 501)
		return KQ_ERR_VAULT_NOT_INITIALIZED;
	if (has(m, "nonce"))
		return KQ_ERR_VAULT_NONCE; /* "incorrect nonce supplied; ..." */
	if (has(m, "already in progress"))
		return KQ_ERR_VAULT_IN_PROGRESS;
	if (has(m, "no root generation in progress") ||
	    has(m, "no rekey in progress") || has(m, "not in progress") ||
	    has(m, "no generation in progress"))
		return KQ_ERR_VAULT_NO_ATTEMPT;
	if (has(m, "message authentication failed") ||
	    has(m, "root generation aborted") || has(m, "invalid key") ||
	    has(m, "must be a valid hex or base64") ||
	    has(m, "failed to decrypt") || has(m, "key is shorter") ||
	    has(m, "key is longer") || has(m, "already been provided") ||
	    has(m, "unseal failed") || has(m, "invalid share"))
		return KQ_ERR_VAULT_KEY_REJECTED;
	if (has(m, "disabled") || has(m, "unsupported path") ||
	    has(m, "no handler for route") || http_status == 404 ||
	    http_status == 405)
		return KQ_ERR_VAULT_DISABLED;
	/* "vault is unsealed" (a reset while unsealed) is not "sealed". */
	if (!has(m, "unsealed") && (has(m, "sealed") || http_status == 503))
		return KQ_ERR_VAULT_SEALED;
	return KQ_ERR_VAULT;
}

int
vault_parse_errors(const char *body, size_t n, char *out, size_t cap)
{
	json_t *j, *errs, *e;
	size_t i, off = 0, l;
	const char *s;
	int r = KQ_ERR_VAULT_RESPONSE;

	if (cap == 0)
		return KQ_ERR_INVALID;
	out[0] = '\0';
	j = ceremony_json_loadb(body, n, 0, NULL);
	errs = json_object_get(j, "errors");
	if (!json_is_array(errs) || json_array_size(errs) == 0)
		goto out;
	json_array_foreach(errs, i, e)
	{
		if ((s = json_string_value(e)) == NULL)
			continue;
		l = strlen(s);
		if (off != 0 && off + 2 < cap) {
			memcpy(out + off, "; ", 2);
			off += 2;
		}
		if (l > cap - 1 - off)
			l = cap - 1 - off;
		memcpy(out + off, s, l);
		off += l;
	}
	out[off] = '\0';
	/*
	 * No terminal control sequences from a server into our output: tabs
	 * and newlines (Go's multierror layout) become single spaces, other
	 * control characters '?'.
	 */
	for (i = 0, l = 0; i < off; i++) {
		if (out[i] == '\n' || out[i] == '\t' || out[i] == '\r') {
			if (l != 0 && out[l - 1] != ' ')
				out[l++] = ' ';
		} else {
			out[l++] =
			    (unsigned char)out[i] < 0x20 || out[i] == 0x7f
			    ? '?'
			    : out[i];
		}
	}
	while (l > 0 && out[l - 1] == ' ')
		l--;
	out[l] = '\0';
	r = KQ_OK;
out:
	json_decref(j);
	return r;
}

enum vault_flavor
vault_flavor_guess(const char *version)
{
	char *end;
	long major;

	if (version == NULL || *version == '\0')
		return VAULT_FLAVOR_UNKNOWN;
	if (has(version, "bao"))
		return VAULT_FLAVOR_OPENBAO;
	if (*version == 'v')
		version++;
	major = strtol(version, &end, 10);
	if (end == version || *end != '.')
		return VAULT_FLAVOR_UNKNOWN;
	/* HashiCorp Vault is 1.x; OpenBao started its own numbering at 2.0. */
	return major >= 2 ? VAULT_FLAVOR_OPENBAO : VAULT_FLAVOR_VAULT;
}

/* Fields may be at the top or, for logical (authenticated) paths, under
 * "data". */
static json_t *
field(json_t *j, const char *k)
{
	json_t *v = json_object_get(j, k);

	if (v == NULL && json_is_object(json_object_get(j, "data")))
		v = json_object_get(json_object_get(j, "data"), k);
	return v;
}

static int
get_bool(json_t *j, const char *k, int required, int *out)
{
	json_t *v = field(j, k);

	if (v == NULL && !required)
		return KQ_OK;
	if (!json_is_boolean(v))
		return KQ_ERR_VAULT_RESPONSE;
	*out = json_is_true(v);
	return KQ_OK;
}

static int
get_uint(json_t *j, const char *k, int required, unsigned *out)
{
	json_t *v = field(j, k);

	if (v == NULL && !required)
		return KQ_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 100000)
		return KQ_ERR_VAULT_RESPONSE;
	*out = (unsigned)json_integer_value(v);
	return KQ_OK;
}

static int
get_text(json_t *j, const char *k, char *out, size_t cap)
{
	json_t *v = field(j, k);
	size_t l;

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return KQ_OK;
	if (!json_is_string(v) || (l = json_string_length(v)) >= cap)
		return KQ_ERR_VAULT_RESPONSE;
	memcpy(out, json_string_value(v), l + 1);
	return KQ_OK;
}

/* A string value copied into secure memory; NULL for "" or absent. */
static int
get_secret(json_t *j, const char *k, char **out)
{
	json_t *v = field(j, k);
	size_t l;
	char *p;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return KQ_OK;
	if (!json_is_string(v))
		return KQ_ERR_VAULT_RESPONSE;
	if ((l = json_string_length(v)) == 0)
		return KQ_OK;
	if (l > 4096 || strlen(json_string_value(v)) != l)
		return KQ_ERR_VAULT_RESPONSE;
	if ((p = kq_secalloc(l + 1)) == NULL)
		return KQ_ERR_NOMEM;
	memcpy(p, json_string_value(v), l + 1);
	*out = p;
	return KQ_OK;
}

int
vault_parse_seal_status(
    const char *body, size_t n, struct vault_seal_status *st)
{
	struct vault_seal_status s;
	json_t *j;
	int r = KQ_ERR_VAULT_RESPONSE;

	memset(&s, 0, sizeof(s));
	if ((j = ceremony_json_loadb(body, n, 0, NULL)) == NULL ||
	    !json_is_object(j))
		goto out;
	if ((r = get_bool(j, "sealed", 1, &s.sealed)) != KQ_OK ||
	    (r = get_bool(j, "initialized", 1, &s.initialized)) != KQ_OK ||
	    (r = get_uint(j, "t", 1, &s.t)) != KQ_OK ||
	    (r = get_uint(j, "n", 1, &s.n)) != KQ_OK ||
	    (r = get_uint(j, "progress", 1, &s.progress)) != KQ_OK ||
	    (r = get_bool(j, "recovery_seal", 0, &s.recovery_seal)) != KQ_OK ||
	    (r = get_text(j, "type", s.type, sizeof(s.type))) != KQ_OK ||
	    (r = get_text(j, "nonce", s.nonce, sizeof(s.nonce))) != KQ_OK ||
	    (r = get_text(j, "version", s.version, sizeof(s.version))) !=
	        KQ_OK ||
	    (r = get_text(j, "build_date", s.build_date,
	         sizeof(s.build_date))) != KQ_OK ||
	    (r = get_text(j, "cluster_name", s.cluster_name,
	         sizeof(s.cluster_name))) != KQ_OK ||
	    (r = get_text(j, "cluster_id", s.cluster_id,
	         sizeof(s.cluster_id))) != KQ_OK ||
	    (r = get_text(j, "storage_type", s.storage_type,
	         sizeof(s.storage_type))) != KQ_OK)
		goto out;
	s.flavor = vault_flavor_guess(s.version);
	*st = s;
	r = KQ_OK;
out:
	json_decref(j);
	return r;
}

int
vault_parse_generate_root(const char *body, size_t n,
    struct vault_generate_root_status *st, char **otp, char **encoded)
{
	struct vault_generate_root_status s;
	char *o = NULL, *e = NULL;
	json_t *j;
	int r = KQ_ERR_VAULT_RESPONSE;

	memset(&s, 0, sizeof(s));
	if ((j = ceremony_json_loadb(body, n, 1, NULL)) == NULL ||
	    !json_is_object(j))
		goto out;
	if ((r = get_text(j, "nonce", s.nonce, sizeof(s.nonce))) != KQ_OK ||
	    (r = get_bool(j, "started", 0, &s.started)) != KQ_OK ||
	    (r = get_uint(j, "progress", 1, &s.progress)) != KQ_OK ||
	    (r = get_uint(j, "required", 1, &s.required)) != KQ_OK ||
	    (r = get_bool(j, "complete", 0, &s.complete)) != KQ_OK ||
	    (r = get_uint(j, "otp_length", 0, &s.otp_length)) != KQ_OK ||
	    (r = get_text(j, "pgp_fingerprint", s.pgp_fingerprint,
	         sizeof(s.pgp_fingerprint))) != KQ_OK)
		goto out;
	if (otp != NULL && (r = get_secret(j, "otp", &o)) != KQ_OK)
		goto out;
	if (encoded != NULL) {
		if ((r = get_secret(j, "encoded_token", &e)) != KQ_OK)
			goto out;
		if (e == NULL &&
		    (r = get_secret(j, "encoded_root_token", &e)) != KQ_OK)
			goto out;
	}
	*st = s;
	if (otp != NULL)
		*otp = o;
	if (encoded != NULL)
		*encoded = e;
	o = e = NULL;
	r = KQ_OK;
out:
	kq_secfree(o);
	kq_secfree(e);
	json_decref(j);
	return r;
}

/* Decode key i of the hex array, check it against the base64 twin. */
static int
init_key(
    json_t *hex, json_t *b64, size_t i, uint8_t *key, size_t cap, size_t *len)
{
	uint8_t *twin = NULL;
	const char *s;
	size_t tl;
	int r = KQ_ERR_VAULT_RESPONSE;

	if ((s = json_string_value(json_array_get(hex, i))) == NULL ||
	    kq_hex_decode(key, cap, len, s, strlen(s)) != KQ_OK || *len == 0)
		goto out;
	if (b64 == NULL) {
		r = KQ_OK;
		goto out;
	}
	r = KQ_ERR_NOMEM;
	if ((twin = kq_secalloc(cap)) == NULL)
		goto out;
	r = KQ_ERR_VAULT_RESPONSE;
	if ((s = json_string_value(json_array_get(b64, i))) == NULL ||
	    kq_b64_decode(twin, cap, &tl, s, strlen(s), KQ_B64_PADDED) !=
	        KQ_OK ||
	    tl != *len || kq_memeq_ct(twin, key, tl) != 0)
		goto out;
	r = KQ_OK;
out:
	kq_secfree(twin);
	if (r != KQ_OK)
		kq_wipe(key, cap);
	return r;
}

int
vault_parse_init(const char *body, size_t n, unsigned expect, int recovery,
    vault_key_cb *cb, void *arg, char **root_token)
{
	const size_t cap = 128;
	json_t *j, *hex, *b64;
	uint8_t *key = NULL;
	char *tok = NULL;
	size_t i, len;
	int r = KQ_ERR_VAULT_RESPONSE;

	if ((j = ceremony_json_loadb(body, n, 1, NULL)) == NULL ||
	    !json_is_object(j))
		goto out;
	hex = json_object_get(j, recovery ? "recovery_keys" : "keys");
	b64 = json_object_get(
	    j, recovery ? "recovery_keys_base64" : "keys_base64");
	if (!json_is_array(hex) || json_array_size(hex) != expect ||
	    (b64 != NULL &&
	        (!json_is_array(b64) || json_array_size(b64) != expect)))
		goto out;
	if ((r = get_secret(j, "root_token", &tok)) != KQ_OK)
		goto out;
	r = KQ_ERR_VAULT_RESPONSE;
	if (tok == NULL)
		goto out;
	r = KQ_ERR_NOMEM;
	if ((key = kq_secalloc(cap)) == NULL)
		goto out;
	for (i = 0; i < expect; i++) {
		if ((r = init_key(hex, b64, i, key, cap, &len)) != KQ_OK)
			goto out;
		r = cb(arg, (unsigned)i, key, len);
		kq_wipe(key, cap);
		if (r != KQ_OK)
			goto out;
	}
	if (root_token != NULL) {
		*root_token = tok;
		tok = NULL;
	}
	r = KQ_OK;
out:
	kq_secfree(key);
	kq_secfree(tok);
	json_decref(j);
	return r;
}

int
vault_parse_token(const char *body, size_t n, char **token)
{
	char *t = NULL;
	json_t *j;
	int r = KQ_ERR_VAULT_RESPONSE;

	if ((j = ceremony_json_loadb(body, n, 1, NULL)) == NULL ||
	    !json_is_object(j))
		goto out;
	if ((r = get_secret(j, "token", &t)) != KQ_OK)
		goto out;
	r = KQ_ERR_VAULT_RESPONSE;
	if (t == NULL)
		goto out;
	*token = t;
	r = KQ_OK;
out:
	json_decref(j);
	return r;
}
