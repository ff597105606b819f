/* Unit tests for sealed blobs (docs/sealed-blob.md): the parser against
 * every truncation, bad versions and algorithms, trailing bytes; the
 * pre-PIN checks (wrong key, wrong context).  Keys are made in software. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/secmem.h"
#include "hsm/hsm.h"

/* A software key of the given kind as an hsm_pubkey. */
static struct hsm_pubkey *
soft_key(const char *alg, const char *arg)
{
	EVP_PKEY *pk;
	unsigned char *der = NULL;
	int n;
	struct hsm_pubkey *k = NULL;

	if (strcmp(alg, "RSA") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", arg);
	assert_non_null(pk);
	n = i2d_PUBKEY(pk, &der);
	assert_true(n > 0);
	assert_int_equal(hsm_pubkey_from_spki(der, (size_t)n, &k), KQ_OK);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	return k;
}

static void
check_blob(struct hsm_pubkey *k, unsigned alg, size_t kemlen)
{
	const uint8_t pt[] = "a share of the unseal key";
	const char *ctx = "set=1;holder=alice;x=3";
	uint8_t *b = NULL;
	size_t n = 0, i;
	struct hsm_blob v;

	assert_int_equal(hsm_seal(k, (const uint8_t *)ctx, strlen(ctx), pt,
	                     sizeof(pt), &b, &n),
	    KQ_OK);
	assert_int_equal(hsm_blob_parse(b, n, &v), KQ_OK);
	assert_int_equal(v.version, 1);
	assert_int_equal(v.alg, alg);
	assert_int_equal(v.kem_len, kemlen);
	assert_int_equal(v.ct_len, sizeof(pt) + HSM_BLOB_TAG_LEN);
	assert_int_equal(v.header_len, 72 + kemlen + 24 + 4);
	assert_int_equal(n, v.header_len + v.ct_len);
	assert_memory_equal(
	    v.fingerprint, hsm_pubkey_fingerprint(k), HSM_FP_LEN);
	/* The pre-PIN checks. */
	assert_int_equal(
	    hsm_blob_check(&v, k, (const uint8_t *)ctx, strlen(ctx)), KQ_OK);
	assert_int_equal(
	    hsm_blob_check(&v, k, (const uint8_t *)"set=1", 5), KQ_ERR_CONTEXT);
	/* Every truncation is malformed, never a crash. */
	for (i = 0; i < n; i++)
		assert_int_equal(hsm_blob_parse(b, i, &v) == KQ_OK, 0);
	/* A trailing byte is malformed. */
	b = realloc(b, n + 1);
	assert_non_null(b);
	b[n] = 0;
	assert_int_equal(hsm_blob_parse(b, n + 1, &v), KQ_ERR_FORMAT);
	/* Versions and algorithms. */
	b[4] = 2;
	assert_int_equal(hsm_blob_parse(b, n, &v), KQ_ERR_VERSION);
	b[4] = 0;
	assert_int_equal(hsm_blob_parse(b, n, &v), KQ_ERR_VERSION);
	b[4] = 1;
	b[5] = 9;
	assert_int_equal(hsm_blob_parse(b, n, &v), KQ_ERR_VERSION);
	b[5] = (uint8_t)alg;
	b[0] = 'X';
	assert_int_equal(hsm_blob_parse(b, n, &v), KQ_ERR_FORMAT);
	b[0] = 'K';
	/* A KEM length that disagrees with the algorithm. */
	b[7] ^= 1;
	assert_int_equal(hsm_blob_parse(b, n, &v), KQ_ERR_FORMAT);
	b[7] ^= 1;
	/* A ciphertext length that disagrees with the size. */
	b[v.header_len - 1] ^= 1;
	assert_int_equal(hsm_blob_parse(b, n, &v), KQ_ERR_FORMAT);
	b[v.header_len - 1] ^= 1;
	assert_int_equal(hsm_blob_parse(b, n, &v), KQ_OK);
	free(b);
}

static void
test_blob_ec_p256(void **state)
{
	struct hsm_pubkey *k = soft_key("EC", "P-256");

	(void)state;
	assert_int_equal(hsm_pubkey_type(k), HSM_KEY_EC_P256);
	check_blob(k, HSM_BLOB_ALG_ECDH_P256, 65);
	hsm_pubkey_free(k);
}

static void
test_blob_ec_p384(void **state)
{
	struct hsm_pubkey *k = soft_key("EC", "P-384");

	(void)state;
	check_blob(k, HSM_BLOB_ALG_ECDH_P384, 97);
	hsm_pubkey_free(k);
}

static void
test_blob_rsa(void **state)
{
	struct hsm_pubkey *k = soft_key("RSA", NULL);

	(void)state;
	assert_int_equal(hsm_pubkey_bits(k), 2048);
	check_blob(k, HSM_BLOB_ALG_RSA_OAEP_SHA256, 256);
	hsm_pubkey_free(k);
}

static void
test_blob_wrong_key(void **state)
{
	struct hsm_pubkey *a = soft_key("EC", "P-256");
	struct hsm_pubkey *b = soft_key("EC", "P-256");
	uint8_t *blob = NULL;
	size_t n = 0;
	struct hsm_blob v;

	(void)state;
	assert_int_equal(
	    hsm_seal(a, NULL, 0, (const uint8_t *)"x", 1, &blob, &n), KQ_OK);
	assert_int_equal(hsm_blob_parse(blob, n, &v), KQ_OK);
	assert_int_equal(hsm_blob_check(&v, b, NULL, 0), KQ_ERR_WRONG_TOKEN);
	assert_int_equal(hsm_blob_check(&v, a, NULL, 0), KQ_OK);
	free(blob);
	hsm_pubkey_free(a);
	hsm_pubkey_free(b);
}

static void
test_key_types_refused(void **state)
{
	EVP_PKEY *pk;
	unsigned char *der = NULL;
	int n;
	struct hsm_pubkey *k = NULL;
	const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};

	(void)state;
	pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	n = i2d_PUBKEY(pk, &der);
	assert_int_equal(
	    hsm_pubkey_from_spki(der, (size_t)n, &k), KQ_ERR_KEY_TYPE);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	der = NULL;
	pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	n = i2d_PUBKEY(pk, &der);
	assert_int_equal(
	    hsm_pubkey_from_spki(der, (size_t)n, &k), KQ_ERR_KEY_TYPE);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	assert_int_equal(
	    hsm_pubkey_from_spki(junk, sizeof(junk), &k), KQ_ERR_FORMAT);
	assert_null(k);
}

static void
test_blob_context_hash_separates(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	hsm_blob_context_hash(NULL, 0, a);
	hsm_blob_context_hash((const uint8_t *)"", 0, b);
	assert_memory_equal(a, b, 32);
	hsm_blob_context_hash((const uint8_t *)"a", 1, b);
	assert_memory_not_equal(a, b, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blob_ec_p256),
	    cmocka_unit_test(test_blob_ec_p384),
	    cmocka_unit_test(test_blob_rsa),
	    cmocka_unit_test(test_blob_wrong_key),
	    cmocka_unit_test(test_key_types_refused),
	    cmocka_unit_test(test_blob_context_hash_separates),
	};

	if (kq_secmem_init() != KQ_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
