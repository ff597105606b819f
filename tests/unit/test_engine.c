/* Unit tests for the ceremony engine's pure parts: the sealed-share
 * context, sealing a share into a custody set, the local-combine sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony/ceremony.h"
#include "common/err.h"
#include "common/secmem.h"
#include "hsm/hsm.h"
#include "shamir/shamir.h"

static int
setup(void **state)
{
	(void)state;
	return kq_secmem_init() == KQ_OK && ceremony_json_init() == KQ_OK ? 0
	                                                                  : -1;
}

/* A 2-of-3 set whose holder 0 has fingerprint fpr. */
static struct custody_set *
make_set(const uint8_t fpr[CUSTODY_FPR_LEN])
{
	struct custody_set *cs = NULL;
	uint8_t f[CUSTODY_FPR_LEN];
	const char *names[] = {"alice", "bob", "carol"};
	size_t i;

	assert_int_equal(custody_new("t", CUSTODY_VAULT_UNSEAL, 2, &cs), KQ_OK);
	for (i = 0; i < 3; i++) {
		memset(f, (int)(0x10 + i), sizeof(f));
		assert_int_equal(
		    custody_holder_add(cs, names[i], "pkcs11:token=x",
		        i == 0 ? fpr : f, NULL, NULL),
		    KQ_OK);
	}
	return cs;
}

static void
context_binds_every_field(void **state)
{
	uint8_t fpr[CUSTODY_FPR_LEN], a[CEREMONY_CTX_MAX], b[CEREMONY_CTX_MAX];
	struct custody_set *cs;
	size_t la, lb;

	(void)state;
	memset(fpr, 0xaa, sizeof(fpr));
	cs = make_set(fpr);
	assert_int_equal(
	    ceremony_share_context(cs, &cs->holders[0], 7, a, sizeof(a), &la),
	    KQ_OK);
	assert_memory_equal(a, "keyquorum/sealed-share/v1", 26);
	/* deterministic */
	assert_int_equal(
	    ceremony_share_context(cs, &cs->holders[0], 7, b, sizeof(b), &lb),
	    KQ_OK);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	/* x */
	ceremony_share_context(cs, &cs->holders[0], 8, b, sizeof(b), &lb);
	assert_true(la != lb || memcmp(a, b, la) != 0);
	/* holder (name and fingerprint) */
	ceremony_share_context(cs, &cs->holders[1], 7, b, sizeof(b), &lb);
	assert_true(la != lb || memcmp(a, b, la) != 0);
	/* threshold */
	cs->threshold = 3;
	ceremony_share_context(cs, &cs->holders[0], 7, b, sizeof(b), &lb);
	assert_true(la != lb || memcmp(a, b, la) != 0);
	cs->threshold = 2;
	/* kind */
	cs->kind = CUSTODY_VAULT_RECOVERY;
	ceremony_share_context(cs, &cs->holders[0], 7, b, sizeof(b), &lb);
	assert_true(la != lb || memcmp(a, b, la) != 0);
	cs->kind = CUSTODY_VAULT_UNSEAL;
	/* set id */
	cs->set_id[0] ^= 1;
	ceremony_share_context(cs, &cs->holders[0], 7, b, sizeof(b), &lb);
	assert_true(la != lb || memcmp(a, b, la) != 0);
	/* too small a buffer */
	assert_int_equal(
	    ceremony_share_context(cs, &cs->holders[0], 7, b, 40, &lb),
	    KQ_ERR_INVALID);
	custody_free(cs);
}

static struct hsm_pubkey *
soft_key(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	unsigned char *der = NULL;
	struct hsm_pubkey *k = NULL;
	int n;

	assert_non_null(pk);
	n = i2d_PUBKEY(pk, &der);
	assert_true(n > 0);
	assert_int_equal(hsm_pubkey_from_spki(der, (size_t)n, &k), KQ_OK);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	return k;
}

static void
seal_share_records_commitment_and_context(void **state)
{
	struct hsm_pubkey *k = soft_key(), *other = soft_key();
	struct custody_set *cs = make_set(hsm_pubkey_fingerprint(k));
	uint8_t share[33], ctx[CEREMONY_CTX_MAX], h[32];
	struct hsm_blob b;
	size_t cl;

	(void)state;
	memset(share, 0x5c, sizeof(share));
	share[32] = 42; /* x */
	assert_int_equal(
	    ceremony_seal_share(cs, 0, k, share, sizeof(share), NULL), KQ_OK);
	assert_int_equal(cs->holders[0].x, 42);
	assert_true(cs->holders[0].enrolled != 0);
	assert_int_equal(
	    custody_check_share(cs, &cs->holders[0], share, sizeof(share)),
	    KQ_OK);
	share[3] ^= 1;
	assert_int_equal(
	    custody_check_share(cs, &cs->holders[0], share, sizeof(share)),
	    KQ_ERR_COMMITMENT);
	share[3] ^= 1;
	/* The blob binds the context of holder 0 with x 42. */
	assert_int_equal(hsm_blob_parse(cs->holders[0].sealed,
	                     cs->holders[0].sealed_len, &b),
	    KQ_OK);
	ceremony_share_context(cs, &cs->holders[0], 42, ctx, sizeof(ctx), &cl);
	hsm_blob_context_hash(ctx, cl, h);
	assert_memory_equal(b.context_hash, h, 32);
	assert_int_equal(hsm_blob_check(&b, k, ctx, cl), KQ_OK);
	ceremony_share_context(cs, &cs->holders[1], 42, ctx, sizeof(ctx), &cl);
	assert_int_equal(hsm_blob_check(&b, k, ctx, cl), KQ_ERR_CONTEXT);
	/* Not the holder's key: refused before sealing. */
	assert_int_equal(
	    ceremony_seal_share(cs, 1, other, share, sizeof(share), NULL),
	    KQ_ERR_WRONG_TOKEN);
	/* Too short to commit to. */
	assert_int_equal(
	    ceremony_seal_share(cs, 0, k, share, 10, NULL), KQ_ERR_INVALID);
	custody_free(cs);
	hsm_pubkey_free(k);
	hsm_pubkey_free(other);
}

static void
combine_sink_recombines_at_threshold(void **state)
{
	uint8_t secret[32], *shares[5];
	struct ceremony_combine_sink cs;
	struct ceremony_sink sink;
	struct ceremony_progress p;
	struct custody_holder h;
	char detail[CEREMONY_DETAIL_MAX];
	size_t i;

	(void)state;
	memset(&h, 0, sizeof(h));
	h.name = (char *)"alice";
	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < 5; i++)
		assert_non_null(shares[i] = kq_secalloc(33));
	assert_int_equal(
	    shamir_split(secret, sizeof(secret), 3, 5, shares), KQ_OK);
	ceremony_combine_sink_init(&cs, 3, &sink);
	for (i = 0; i < 3; i++) {
		memset(&p, 0, sizeof(p));
		assert_int_equal(
		    sink.accept(sink.arg, &h, shares[i + 1], 33, &p, detail),
		    KQ_OK);
		assert_int_equal(p.done, i == 2);
		assert_int_equal(p.progress, i + 1);
	}
	assert_int_equal(cs.secret_len, 32);
	assert_memory_equal(cs.secret, secret, 32);
	ceremony_combine_sink_clear(&cs);
	assert_null(cs.secret);
	/* A share of another length is refused by name. */
	ceremony_combine_sink_init(&cs, 3, &sink);
	memset(&p, 0, sizeof(p));
	assert_int_equal(
	    sink.accept(sink.arg, &h, shares[0], 33, &p, detail), KQ_OK);
	assert_int_equal(sink.accept(sink.arg, &h, shares[1], 20, &p, detail),
	    KQ_ERR_SHAMIR_LENGTH);
	assert_non_null(strstr(detail, "alice"));
	ceremony_combine_sink_clear(&cs);
	for (i = 0; i < 5; i++)
		kq_secfree(shares[i]);
}

static void
event_names_are_stable(void **state)
{
	(void)state;
	assert_string_equal(
	    ceremony_event_name(CEREMONY_EV_WAITING), "waiting-for-token");
	assert_string_equal(
	    ceremony_event_name(CEREMONY_EV_TOKEN_FOUND), "token-found");
	assert_string_equal(
	    ceremony_event_name(CEREMONY_EV_PIN_NEEDED), "pin-needed");
	assert_string_equal(
	    ceremony_event_name(CEREMONY_EV_SHARE_ACCEPTED), "share-accepted");
	assert_string_equal(
	    ceremony_event_name(CEREMONY_EV_PROGRESS), "progress");
	assert_string_equal(ceremony_event_name(CEREMONY_EV_DONE), "done");
	assert_string_equal(ceremony_event_name(CEREMONY_EV_ERROR), "error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(context_binds_every_field),
	    cmocka_unit_test(seal_share_records_commitment_and_context),
	    cmocka_unit_test(combine_sink_recombines_at_threshold),
	    cmocka_unit_test(event_names_are_stable),
	};

	return cmocka_run_group_tests_name("engine", tests, setup, NULL);
}
