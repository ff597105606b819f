/*
 * keyquorum: custody sets in memory: creation, holders, the constraints of
 * keyquorum-custody(5), share commitments.  The file format itself is in
 * custody_json.c.
 *
 * Constant time: custody_commitment hashes the share with SHA-256 and
 * custody_check_share compares digests with kq_memeq_ct; neither branches
 * on a share byte (the x byte is compared with the holder's x, which is
 * public metadata).
 */
#include "ceremony/ceremony.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ceremony/cer_int.h"
#include "common/encoding.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"

static const char *const kind_names[] = {
    [CUSTODY_VAULT_UNSEAL] = "vault-unseal",
    [CUSTODY_VAULT_RECOVERY] = "vault-recovery",
    [CUSTODY_HSM_PIN] = "hsm-pin",
    [CUSTODY_SECRET] = "secret",
};

const char *
custody_kind_name(enum custody_kind k)
{
	if ((unsigned)k >= sizeof(kind_names) / sizeof(kind_names[0]))
		return NULL;
	return kind_names[k];
}

int
custody_kind_parse(const char *s, enum custody_kind *k)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof(kind_names) / sizeof(kind_names[0]);
	     i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum custody_kind)i;
			return KQ_OK;
		}
	}
	return KQ_ERR_FORMAT;
}

int
custody_set_string(char **field, const char *value)
{
	char *v = NULL;

	if (value != NULL && (v = strdup(value)) == NULL)
		return KQ_ERR_NOMEM;
	free(*field);
	*field = v;
	return KQ_OK;
}

int
custody_new(const char *name, enum custody_kind kind, unsigned threshold,
    struct custody_set **out)
{
	struct custody_set *cs;
	int r = KQ_ERR_INVALID;

	if (name == NULL || *name == '\0' || custody_kind_name(kind) == NULL)
		return KQ_ERR_INVALID;
	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return KQ_ERR_NOMEM;
	if ((r = kq_random(cs->set_id, sizeof(cs->set_id))) != KQ_OK)
		goto out;
	r = KQ_ERR_NOMEM;
	if ((cs->name = strdup(name)) == NULL)
		goto out;
	cs->kind = kind;
	cs->threshold = threshold;
	cs->created = time(NULL);
	*out = cs;
	cs = NULL;
	r = KQ_OK;
out:
	custody_free(cs);
	return r;
}

static void
holder_clear(struct custody_holder *h)
{
	free(h->name);
	free(h->token_uri);
	free(h->sealed);
	memset(h, 0, sizeof(*h));
}

void
custody_free(struct custody_set *cs)
{
	size_t i;

	if (cs == NULL)
		return;
	for (i = 0; i < cs->n_holders; i++)
		holder_clear(&cs->holders[i]);
	free(cs->holders);
	free(cs->name);
	free(cs->vault_address);
	free(cs->vault_cluster_id);
	free(cs->hsm_token_uri);
	free(cs->hsm_key_label);
	free(cs);
}

struct custody_holder *
custody_holder_by_name(const struct custody_set *cs, const char *name)
{
	size_t i;

	for (i = 0; cs != NULL && name != NULL && i < cs->n_holders; i++) {
		if (cs->holders[i].name != NULL &&
		    strcmp(cs->holders[i].name, name) == 0)
			return &cs->holders[i];
	}
	return NULL;
}

struct custody_holder *
custody_holder_by_fpr(
    const struct custody_set *cs, const uint8_t fpr[CUSTODY_FPR_LEN])
{
	size_t i;

	for (i = 0; cs != NULL && fpr != NULL && i < cs->n_holders; i++) {
		if (memcmp(cs->holders[i].fingerprint, fpr, CUSTODY_FPR_LEN) ==
		    0)
			return &cs->holders[i];
	}
	return NULL;
}

int
custody_holder_add(struct custody_set *cs, const char *name,
    const char *token_uri, const uint8_t fpr[CUSTODY_FPR_LEN], size_t *index,
    char *detail)
{
	struct custody_holder *nh, *h;

	if (cs == NULL || name == NULL || *name == '\0' || token_uri == NULL ||
	    *token_uri == '\0' || fpr == NULL)
		return KQ_ERR_INVALID;
	if (cs->n_holders >= CUSTODY_MAX_HOLDERS) {
		cer_detail(detail, "a custody set has at most %d holders",
		    CUSTODY_MAX_HOLDERS);
		return KQ_ERR_FORMAT;
	}
	if (custody_holder_by_name(cs, name) != NULL) {
		cer_detail(
		    detail, "holder \"%s\": the name is already used", name);
		return KQ_ERR_FORMAT;
	}
	if ((h = custody_holder_by_fpr(cs, fpr)) != NULL) {
		cer_detail(detail,
		    "holder \"%s\": key_fingerprint is already holder \"%s\"'s",
		    name, h->name);
		return KQ_ERR_FORMAT;
	}
	nh = reallocarray(cs->holders, cs->n_holders + 1, sizeof(*nh));
	if (nh == NULL)
		return KQ_ERR_NOMEM;
	cs->holders = nh;
	h = &nh[cs->n_holders];
	memset(h, 0, sizeof(*h));
	h->name = strdup(name);
	h->token_uri = strdup(token_uri);
	if (h->name == NULL || h->token_uri == NULL) {
		holder_clear(h);
		return KQ_ERR_NOMEM;
	}
	memcpy(h->fingerprint, fpr, CUSTODY_FPR_LEN);
	if (index != NULL)
		*index = cs->n_holders;
	cs->n_holders++;
	return KQ_OK;
}

int
custody_holder_set_share(struct custody_set *cs, size_t index, uint8_t x,
    const uint8_t commitment[CUSTODY_COMMIT_LEN], const uint8_t *sealed,
    size_t sealed_len, char *detail)
{
	struct custody_holder *h;
	uint8_t *copy;
	size_t i;

	if (cs == NULL || index >= cs->n_holders || x == 0 ||
	    commitment == NULL || sealed == NULL || sealed_len == 0 ||
	    sealed_len > CUSTODY_MAX_SEALED)
		return KQ_ERR_INVALID;
	h = &cs->holders[index];
	for (i = 0; i < cs->n_holders; i++) {
		if (i != index && cs->holders[i].enrolled != 0 &&
		    cs->holders[i].x == x) {
			cer_detail(detail,
			    "holder \"%s\": x %u is already holder \"%s\"'s",
			    h->name, x, cs->holders[i].name);
			return KQ_ERR_FORMAT;
		}
	}
	if ((copy = malloc(sealed_len)) == NULL)
		return KQ_ERR_NOMEM;
	memcpy(copy, sealed, sealed_len);
	free(h->sealed);
	h->sealed = copy;
	h->sealed_len = sealed_len;
	h->x = x;
	memcpy(h->commitment, commitment, CUSTODY_COMMIT_LEN);
	h->enrolled = time(NULL);
	return KQ_OK;
}

/*
 * Threshold rule: 2 <= t <= n, like Vault's own split.  The one exception
 * is Vault's: a vault-unseal or vault-recovery set may be 1-of-1, because
 * `vault operator init -key-shares=1 -key-threshold=1` is legal (the key
 * is then the raw 32-byte key, not a Shamir share).  hsm-pin and secret
 * sets are split by keyquorum, which never splits with threshold 1.
 */
static int
threshold_ok(const struct custody_set *cs)
{
	size_t n = cs->n_holders;

	if (cs->threshold == 1 && n == 1)
		return cs->kind == CUSTODY_VAULT_UNSEAL ||
		    cs->kind == CUSTODY_VAULT_RECOVERY;
	return cs->threshold >= 2 && cs->threshold <= n;
}

int
custody_validate(const struct custody_set *cs, char *detail)
{
	const struct custody_holder *a, *b;
	size_t i, j;

	if (cs == NULL)
		return KQ_ERR_INVALID;
	if (cs->name == NULL || *cs->name == '\0') {
		cer_detail(detail, "field \"name\" is missing or empty");
		return KQ_ERR_FORMAT;
	}
	if (custody_kind_name(cs->kind) == NULL) {
		cer_detail(detail, "field \"kind\" has an unknown value");
		return KQ_ERR_FORMAT;
	}
	if (cs->n_holders == 0 || cs->n_holders > CUSTODY_MAX_HOLDERS) {
		cer_detail(detail,
		    "field \"holders\" must list 1 to %d holders",
		    CUSTODY_MAX_HOLDERS);
		return KQ_ERR_FORMAT;
	}
	if (!threshold_ok(cs)) {
		cer_detail(detail,
		    "field \"threshold\" is %u: it must be between 2 and the "
		    "number of holders (%zu)%s",
		    cs->threshold, cs->n_holders,
		    cs->kind == CUSTODY_VAULT_UNSEAL ||
		            cs->kind == CUSTODY_VAULT_RECOVERY
		        ? ", or 1 with a single holder"
		        : "");
		return KQ_ERR_FORMAT;
	}
	if ((cs->hsm_token_uri != NULL || cs->hsm_key_label != NULL) &&
	    cs->kind != CUSTODY_HSM_PIN) {
		cer_detail(detail, "field \"hsm\" is only for kind hsm-pin");
		return KQ_ERR_FORMAT;
	}
	for (i = 0; i < cs->n_holders; i++) {
		a = &cs->holders[i];
		if (a->name == NULL || *a->name == '\0') {
			cer_detail(detail,
			    "holder %zu: field \"name\" is empty", i + 1);
			return KQ_ERR_FORMAT;
		}
		if (a->token_uri == NULL || *a->token_uri == '\0') {
			cer_detail(detail,
			    "holder \"%s\": field \"token_uri\" is empty",
			    a->name);
			return KQ_ERR_FORMAT;
		}
		if (a->enrolled != 0 &&
		    (a->x == 0 || a->sealed == NULL || a->sealed_len == 0 ||
		        a->sealed_len > CUSTODY_MAX_SEALED)) {
			cer_detail(detail,
			    "holder \"%s\": enrolled without a valid x or "
			    "sealed_share",
			    a->name);
			return KQ_ERR_FORMAT;
		}
		for (j = 0; j < i; j++) {
			b = &cs->holders[j];
			if (strcmp(a->name, b->name) == 0) {
				cer_detail(detail,
				    "holder \"%s\": the name appears twice",
				    a->name);
				return KQ_ERR_FORMAT;
			}
			if (memcmp(a->fingerprint, b->fingerprint,
			        CUSTODY_FPR_LEN) == 0) {
				cer_detail(detail,
				    "holder \"%s\": key_fingerprint is also "
				    "holder \"%s\"'s",
				    a->name, b->name);
				return KQ_ERR_FORMAT;
			}
			if (a->enrolled != 0 && b->enrolled != 0 &&
			    a->x == b->x) {
				cer_detail(detail,
				    "holder \"%s\": x %u is also holder "
				    "\"%s\"'s",
				    a->name, a->x, b->name);
				return KQ_ERR_FORMAT;
			}
		}
	}
	return KQ_OK;
}

#define COMMIT_DOMAIN "keyquorum/share-commitment/v1"

int
custody_commitment(const uint8_t set_id[CUSTODY_SET_ID_LEN], uint8_t x,
    const uint8_t *share, size_t len, uint8_t out[CUSTODY_COMMIT_LEN])
{
	crypto_hash_sha256_state st;
	uint8_t lenbe[4];

	if (set_id == NULL || share == NULL || out == NULL ||
	    len < CUSTODY_MIN_SHARE || len > UINT32_MAX || x == 0 ||
	    share[len - 1] != x)
		return KQ_ERR_INVALID;
	lenbe[0] = (uint8_t)(len >> 24);
	lenbe[1] = (uint8_t)(len >> 16);
	lenbe[2] = (uint8_t)(len >> 8);
	lenbe[3] = (uint8_t)len;
	crypto_hash_sha256_init(&st);
	/* The domain string with its NUL. */
	crypto_hash_sha256_update(
	    &st, (const uint8_t *)COMMIT_DOMAIN, sizeof(COMMIT_DOMAIN));
	crypto_hash_sha256_update(&st, set_id, CUSTODY_SET_ID_LEN);
	crypto_hash_sha256_update(&st, &x, 1);
	crypto_hash_sha256_update(&st, lenbe, sizeof(lenbe));
	crypto_hash_sha256_update(&st, share, len);
	crypto_hash_sha256_final(&st, out);
	kq_wipe(&st, sizeof(st));
	return KQ_OK;
}

int
custody_check_share(const struct custody_set *cs,
    const struct custody_holder *h, const uint8_t *share, size_t len)
{
	uint8_t c[CUSTODY_COMMIT_LEN];
	int r = KQ_ERR_INVALID;

	if (cs == NULL || h == NULL || share == NULL || h->enrolled == 0 ||
	    len < CUSTODY_MIN_SHARE)
		return KQ_ERR_INVALID;
	/* x is public metadata: a share for another x is simply not this
	 * holder's share. */
	if (share[len - 1] != h->x)
		return KQ_ERR_COMMITMENT;
	if ((r = custody_commitment(cs->set_id, h->x, share, len, c)) != KQ_OK)
		goto out;
	r = kq_memeq_ct(c, h->commitment, CUSTODY_COMMIT_LEN) == 0
	    ? KQ_OK
	    : KQ_ERR_COMMITMENT;
out:
	kq_wipe(c, sizeof(c));
	return r;
}
