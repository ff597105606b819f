/*
 * keyquorum: the custody file (keyquorum-custody(5)): strict parsing and
 * serialisation.  Nothing here is secret: sealed shares are ciphertext.
 */
#include "ceremony/ceremony.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ceremony/cer_int.h"
#include "common/encoding.h"
#include "common/err.h"
#include "common/fileio.h"

#define CUSTODY_FILE_MAX ((size_t)4 << 20)

/* Where a field lives, for messages: "" or "holder \"NAME\": ". */
struct ctx {
	char where[96];
	char *detail;
};

static int
bad(struct ctx *c, const char *field, const char *why)
{
	cer_detail(c->detail, "%sfield \"%s\" %s", c->where, field, why);
	return KQ_ERR_FORMAT;
}

static int
only_keys(struct ctx *c, json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v)
	{
		for (i = 0; keys[i] != NULL; i++) {
			if (strcmp(k, keys[i]) == 0)
				break;
		}
		if (keys[i] == NULL)
			return bad(c, k, "is not part of format version 1");
	}
	return KQ_OK;
}

/* A string member; *out NULL when absent and optional. */
static int
get_str(
    struct ctx *c, json_t *o, const char *key, int required, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL)
		return required ? bad(c, key, "is missing") : KQ_OK;
	if (!json_is_string(v))
		return bad(c, key, "must be a string");
	if (json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return bad(c, key, "must be a non-empty string without NUL");
	*out = json_string_value(v);
	return KQ_OK;
}

static int
get_dup(struct ctx *c, json_t *o, const char *key, int required, char **out)
{
	const char *s;
	int r;

	if ((r = get_str(c, o, key, required, &s)) != KQ_OK || s == NULL)
		return r;
	if ((*out = strdup(s)) == NULL)
		return KQ_ERR_NOMEM;
	return KQ_OK;
}

static int
get_hex(struct ctx *c, json_t *o, const char *key, uint8_t *out, size_t n)
{
	const char *s;
	size_t got;
	int r;

	if ((r = get_str(c, o, key, 1, &s)) != KQ_OK)
		return r;
	if (strlen(s) != 2 * n ||
	    kq_hex_decode(out, n, &got, s, 2 * n) != KQ_OK || got != n) {
		cer_detail(c->detail, "%sfield \"%s\" must be %zu hex digits",
		    c->where, key, 2 * n);
		return KQ_ERR_FORMAT;
	}
	return KQ_OK;
}

static int
get_time(struct ctx *c, json_t *o, const char *key, int required, time_t *t)
{
	const char *s;
	int r;

	*t = 0;
	if ((r = get_str(c, o, key, required, &s)) != KQ_OK || s == NULL)
		return r;
	if (cer_time_parse(s, t) != 0 || *t <= 0)
		return bad(c, key, "must be a UTC time YYYY-MM-DDTHH:MM:SSZ");
	return KQ_OK;
}

static int
get_uint(struct ctx *c, json_t *o, const char *key, unsigned lo, unsigned hi,
    unsigned *out)
{
	json_t *v = json_object_get(o, key);
	json_int_t i;

	if (v == NULL)
		return bad(c, key, "is missing");
	if (!json_is_integer(v))
		return bad(c, key, "must be an integer");
	i = json_integer_value(v);
	if (i < (json_int_t)lo || i > (json_int_t)hi) {
		cer_detail(c->detail, "%sfield \"%s\" must be in %u..%u",
		    c->where, key, lo, hi);
		return KQ_ERR_FORMAT;
	}
	*out = (unsigned)i;
	return KQ_OK;
}

static const char *const holder_keys[] = {"name", "token_uri",
    "key_fingerprint", "x", "commitment", "sealed_share", "enrolled",
    "last_drill", NULL};

static int
parse_holder(struct ctx *c, json_t *o, size_t idx, struct custody_holder *h)
{
	const char *name, *b64;
	unsigned x;
	size_t cap, n;
	int r, has;

	snprintf(c->where, sizeof(c->where), "holder %zu: ", idx + 1);
	if (!json_is_object(o)) {
		cer_detail(c->detail, "holder %zu: must be an object", idx + 1);
		return KQ_ERR_FORMAT;
	}
	if ((r = get_str(c, o, "name", 1, &name)) != KQ_OK)
		return r;
	snprintf(c->where, sizeof(c->where), "holder \"%.64s\": ", name);
	if ((r = only_keys(c, o, holder_keys)) != KQ_OK ||
	    (r = get_dup(c, o, "name", 1, &h->name)) != KQ_OK ||
	    (r = get_dup(c, o, "token_uri", 1, &h->token_uri)) != KQ_OK ||
	    (r = get_hex(c, o, "key_fingerprint", h->fingerprint,
	         CUSTODY_FPR_LEN)) != KQ_OK ||
	    (r = get_time(c, o, "last_drill", 0, &h->last_drill)) != KQ_OK)
		return r;
	has = json_object_get(o, "x") != NULL;
	if (has + (json_object_get(o, "commitment") != NULL) +
	        (json_object_get(o, "sealed_share") != NULL) +
	        (json_object_get(o, "enrolled") != NULL) !=
	    4 * has) {
		cer_detail(c->detail,
		    "%sfields \"x\", \"commitment\", \"sealed_share\" and "
		    "\"enrolled\" go together (all or none)",
		    c->where);
		return KQ_ERR_FORMAT;
	}
	if (!has)
		return KQ_OK;
	if ((r = get_uint(c, o, "x", 1, 255, &x)) != KQ_OK ||
	    (r = get_hex(c, o, "commitment", h->commitment,
	         CUSTODY_COMMIT_LEN)) != KQ_OK ||
	    (r = get_time(c, o, "enrolled", 1, &h->enrolled)) != KQ_OK ||
	    (r = get_str(c, o, "sealed_share", 1, &b64)) != KQ_OK)
		return r;
	h->x = (uint8_t)x;
	cap = strlen(b64) / 4 * 3 + 3;
	if (cap > CUSTODY_MAX_SEALED + 3)
		return bad(c, "sealed_share", "is too long");
	if ((h->sealed = malloc(cap)) == NULL)
		return KQ_ERR_NOMEM;
	if (kq_b64_decode(
	        h->sealed, cap, &n, b64, strlen(b64), KQ_B64_PADDED) != KQ_OK ||
	    n == 0 || n > CUSTODY_MAX_SEALED)
		return bad(c, "sealed_share", "must be padded base64");
	h->sealed_len = n;
	return KQ_OK;
}

static const char *const top_keys[] = {"keyquorum_custody", "set_id", "name",
    "kind", "threshold", "vault", "hsm", "created", "holders", NULL};
static const char *const vault_keys[] = {"address", "cluster_id", NULL};
static const char *const hsm_keys[] = {"token_uri", "key_label", NULL};

static int
parse_set(struct ctx *c, json_t *root, struct custody_set *cs)
{
	json_t *v, *hs;
	const char *kind;
	size_t i, n;
	int r;

	if (!json_is_object(root)) {
		cer_detail(c->detail, "the file is not a JSON object");
		return KQ_ERR_FORMAT;
	}
	if ((v = json_object_get(root, "keyquorum_custody")) == NULL)
		return bad(
		    c, "keyquorum_custody", "is missing (not a custody file?)");
	if (!json_is_integer(v))
		return bad(c, "keyquorum_custody", "must be an integer");
	if (json_integer_value(v) != CUSTODY_VERSION) {
		cer_detail(c->detail,
		    "format version %lld is not supported (this keyquorum reads "
		    "version %d)",
		    (long long)json_integer_value(v), CUSTODY_VERSION);
		return KQ_ERR_VERSION;
	}
	if ((r = only_keys(c, root, top_keys)) != KQ_OK ||
	    (r = get_hex(c, root, "set_id", cs->set_id, CUSTODY_SET_ID_LEN)) !=
	        KQ_OK ||
	    (r = get_dup(c, root, "name", 1, &cs->name)) != KQ_OK ||
	    (r = get_str(c, root, "kind", 1, &kind)) != KQ_OK)
		return r;
	if (custody_kind_parse(kind, &cs->kind) != KQ_OK)
		return bad(c, "kind",
		    "must be vault-unseal, vault-recovery, hsm-pin or secret");
	if ((r = get_uint(c, root, "threshold", 1, CUSTODY_MAX_HOLDERS,
	         &cs->threshold)) != KQ_OK ||
	    (r = get_time(c, root, "created", 1, &cs->created)) != KQ_OK)
		return r;
	if ((v = json_object_get(root, "vault")) != NULL) {
		if (!json_is_object(v))
			return bad(c, "vault", "must be an object");
		snprintf(c->where, sizeof(c->where), "vault: ");
		if ((r = only_keys(c, v, vault_keys)) != KQ_OK ||
		    (r = get_dup(c, v, "address", 0, &cs->vault_address)) !=
		        KQ_OK ||
		    (r = get_dup(c, v, "cluster_id", 0,
		         &cs->vault_cluster_id)) != KQ_OK)
			return r;
		c->where[0] = '\0';
	}
	if ((v = json_object_get(root, "hsm")) != NULL) {
		if (!json_is_object(v))
			return bad(c, "hsm", "must be an object");
		snprintf(c->where, sizeof(c->where), "hsm: ");
		if ((r = only_keys(c, v, hsm_keys)) != KQ_OK ||
		    (r = get_dup(c, v, "token_uri", 1, &cs->hsm_token_uri)) !=
		        KQ_OK ||
		    (r = get_dup(c, v, "key_label", 0, &cs->hsm_key_label)) !=
		        KQ_OK)
			return r;
		c->where[0] = '\0';
	}
	hs = json_object_get(root, "holders");
	if (hs == NULL)
		return bad(c, "holders", "is missing");
	if (!json_is_array(hs))
		return bad(c, "holders", "must be an array");
	n = json_array_size(hs);
	if (n == 0 || n > CUSTODY_MAX_HOLDERS)
		return bad(c, "holders", "must list 1 to 255 holders");
	if ((cs->holders = calloc(n, sizeof(*cs->holders))) == NULL)
		return KQ_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		cs->n_holders = i + 1; /* so custody_free releases it */
		if ((r = parse_holder(c, json_array_get(hs, i), i,
		         &cs->holders[i])) != KQ_OK)
			return r;
	}
	return custody_validate(cs, c->detail);
}

int
custody_parse(const void *p, size_t n, struct custody_set **out, char *detail)
{
	struct custody_set *cs = NULL;
	struct ctx c = {.detail = detail};
	char jd[CEREMONY_DETAIL_MAX];
	json_t *root;
	int r = KQ_ERR_NOMEM;

	if ((root = ceremony_json_loadb(p, n, 0, jd)) == NULL) {
		cer_detail(detail, "%s", jd);
		return KQ_ERR_FORMAT;
	}
	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		goto out;
	if ((r = parse_set(&c, root, cs)) != KQ_OK)
		goto out;
	*out = cs;
	cs = NULL;
out:
	custody_free(cs);
	json_decref(root);
	return r;
}

int
custody_load(const char *path, struct custody_set **out, char *detail)
{
	char *buf = NULL;
	size_t n;
	int r;

	if ((r = cer_read_file(path, CUSTODY_FILE_MAX, &buf, &n)) != KQ_OK) {
		cer_detail(detail, "%s: cannot read the custody file", path);
		return r;
	}
	r = custody_parse(buf, n, out, detail);
	free(buf);
	return r;
}

static int
set_new(json_t *o, const char *k, json_t *v)
{
	return v == NULL || json_object_set_new(o, k, v) != 0 ? KQ_ERR_NOMEM
	                                                      : KQ_OK;
}

static json_t *
hexstr(const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];

	if (n > 64 || kq_hex_encode(buf, sizeof(buf), p, n) != KQ_OK)
		return NULL;
	return json_string(buf);
}

static json_t *
timestr(time_t t)
{
	char buf[CER_TIME_LEN];

	cer_time_format(t, buf);
	return json_string(buf);
}

static int
dump_holder(json_t *arr, const struct custody_holder *h)
{
	json_t *o = json_object();
	char *b64 = NULL;
	size_t cap;
	int r = KQ_ERR_NOMEM;

	if (o == NULL || json_array_append_new(arr, o) != 0)
		return KQ_ERR_NOMEM;
	if ((r = set_new(o, "name", json_string(h->name))) != KQ_OK ||
	    (r = set_new(o, "token_uri", json_string(h->token_uri))) != KQ_OK ||
	    (r = set_new(o, "key_fingerprint",
	         hexstr(h->fingerprint, CUSTODY_FPR_LEN))) != KQ_OK)
		return r;
	if (h->enrolled != 0) {
		cap = kq_b64_encoded_size(h->sealed_len, KQ_B64_PADDED);
		if ((b64 = malloc(cap)) == NULL)
			return KQ_ERR_NOMEM;
		if ((r = kq_b64_encode(b64, cap, h->sealed, h->sealed_len,
		         KQ_B64_PADDED)) != KQ_OK ||
		    (r = set_new(o, "x", json_integer(h->x))) != KQ_OK ||
		    (r = set_new(o, "commitment",
		         hexstr(h->commitment, CUSTODY_COMMIT_LEN))) != KQ_OK ||
		    (r = set_new(o, "sealed_share", json_string(b64))) !=
		        KQ_OK ||
		    (r = set_new(o, "enrolled", timestr(h->enrolled))) != KQ_OK)
			goto out;
	}
	r = KQ_OK;
	if (h->last_drill != 0)
		r = set_new(o, "last_drill", timestr(h->last_drill));
out:
	free(b64);
	return r;
}

static int
dump_set(json_t *root, const struct custody_set *cs)
{
	json_t *v, *hs;
	size_t i;
	int r;

	if ((r = set_new(root, "keyquorum_custody",
	         json_integer(CUSTODY_VERSION))) != KQ_OK ||
	    (r = set_new(root, "set_id",
	         hexstr(cs->set_id, CUSTODY_SET_ID_LEN))) != KQ_OK ||
	    (r = set_new(root, "name", json_string(cs->name))) != KQ_OK ||
	    (r = set_new(root, "kind",
	         json_string(custody_kind_name(cs->kind)))) != KQ_OK ||
	    (r = set_new(root, "threshold", json_integer(cs->threshold))) !=
	        KQ_OK)
		return r;
	if (cs->vault_address != NULL || cs->vault_cluster_id != NULL) {
		if ((r = set_new(root, "vault", v = json_object())) != KQ_OK)
			return r;
		if (cs->vault_address != NULL &&
		    (r = set_new(v, "address",
		         json_string(cs->vault_address))) != KQ_OK)
			return r;
		if (cs->vault_cluster_id != NULL &&
		    (r = set_new(v, "cluster_id",
		         json_string(cs->vault_cluster_id))) != KQ_OK)
			return r;
	}
	if (cs->hsm_token_uri != NULL) {
		if ((r = set_new(root, "hsm", v = json_object())) != KQ_OK ||
		    (r = set_new(v, "token_uri",
		         json_string(cs->hsm_token_uri))) != KQ_OK)
			return r;
		if (cs->hsm_key_label != NULL &&
		    (r = set_new(v, "key_label",
		         json_string(cs->hsm_key_label))) != KQ_OK)
			return r;
	}
	if ((r = set_new(root, "created", timestr(cs->created))) != KQ_OK ||
	    (r = set_new(root, "holders", hs = json_array())) != KQ_OK)
		return r;
	for (i = 0; i < cs->n_holders; i++) {
		if ((r = dump_holder(hs, &cs->holders[i])) != KQ_OK)
			return r;
	}
	return KQ_OK;
}

char *
custody_dumps(const struct custody_set *cs, char *detail)
{
	const size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER;
	json_t *root = NULL;
	char *text = NULL;
	size_t n;

	ceremony_json_init();
	if (custody_validate(cs, detail) != KQ_OK)
		return NULL;
	if ((root = json_object()) == NULL || dump_set(root, cs) != KQ_OK ||
	    (n = json_dumpb(root, NULL, 0, flags)) == 0 ||
	    (text = malloc(n + 2)) == NULL ||
	    json_dumpb(root, text, n, flags) != n) {
		free(text);
		text = NULL;
		cer_detail(detail, "out of memory serialising the custody set");
		goto out;
	}
	text[n] = '\n';
	text[n + 1] = '\0';
out:
	json_decref(root);
	return text;
}

int
custody_save(
    const struct custody_set *cs, const char *path, int force, char *detail)
{
	char *text;
	int r;

	if (cs == NULL || path == NULL)
		return KQ_ERR_INVALID;
	if ((r = custody_validate(cs, detail)) != KQ_OK)
		return r;
	if ((text = custody_dumps(cs, detail)) == NULL)
		return KQ_ERR_NOMEM;
	r = kq_file_write_atomic(path, text, strlen(text), 0600, force);
	if (r == KQ_ERR_EXISTS)
		cer_detail(
		    detail, "%s exists (use --force to replace it)", path);
	else if (r != KQ_OK)
		cer_detail(detail, "%s: cannot write the custody file", path);
	free(text);
	return r;
}
