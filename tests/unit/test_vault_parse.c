/*
 * Unit tests for the Vault client's answer parsing and error mapping, on
 * canned bodies shaped like Vault's and OpenBao's (VAULT_API.md).  No
 * server: the transport is tested by tests/integration/vault-client.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ceremony/ceremony.h"
#include "common/err.h"
#include "common/secmem.h"

static int
setup(void **state)
{
	(void)state;
	return kq_secmem_init() == KQ_OK && ceremony_json_init() == KQ_OK ? 0
	                                                                  : -1;
}

#define PARSE_SS(s, st) vault_parse_seal_status((s), strlen(s), (st))

static void
test_seal_status_vault_sealed(void **state)
{
	static const char body[] =
	    "{\"type\":\"shamir\",\"initialized\":true,\"sealed\":true,"
	    "\"t\":3,\"n\":5,\"progress\":2,"
	    "\"nonce\":\"2dbd10f1-8528-6246-09e7-82b25b8aba63\","
	    "\"version\":\"1.15.2\",\"build_date\":\"2023-11-06T11:33:28Z\","
	    "\"migration\":false,\"recovery_seal\":false,"
	    "\"storage_type\":\"raft\"}";
	struct vault_seal_status st;

	(void)state;
	assert_int_equal(PARSE_SS(body, &st), KQ_OK);
	assert_true(st.sealed);
	assert_true(st.initialized);
	assert_int_equal(st.t, 3);
	assert_int_equal(st.n, 5);
	assert_int_equal(st.progress, 2);
	assert_string_equal(st.nonce, "2dbd10f1-8528-6246-09e7-82b25b8aba63");
	assert_string_equal(st.type, "shamir");
	assert_string_equal(st.storage_type, "raft");
	assert_string_equal(st.cluster_id, "");
	assert_int_equal(st.flavor, VAULT_FLAVOR_VAULT);
}

static void
test_seal_status_openbao_unsealed_auto(void **state)
{
	static const char body[] =
	    "{\"type\":\"pkcs11\",\"initialized\":true,\"sealed\":false,"
	    "\"t\":2,\"n\":3,\"progress\":0,\"nonce\":\"\","
	    "\"version\":\"2.2.0\",\"cluster_name\":\"bao-cluster-1\","
	    "\"cluster_id\":\"8f4c3c5e-4b7d-1d2a-0f1e-2f3a4b5c6d7e\","
	    "\"recovery_seal\":true}";
	struct vault_seal_status st;

	(void)state;
	assert_int_equal(PARSE_SS(body, &st), KQ_OK);
	assert_false(st.sealed);
	assert_true(st.recovery_seal);
	assert_string_equal(st.cluster_name, "bao-cluster-1");
	assert_int_equal(st.flavor, VAULT_FLAVOR_OPENBAO);
}

static void
test_seal_status_malformed(void **state)
{
	struct vault_seal_status st;

	(void)state;
	/* missing "sealed", wrong types, not JSON, negative numbers */
	assert_int_equal(PARSE_SS("{\"initialized\":true,\"t\":1,\"n\":1,"
	                          "\"progress\":0}",
	                     &st),
	    KQ_ERR_VAULT_RESPONSE);
	assert_int_equal(PARSE_SS("{\"sealed\":\"yes\",\"initialized\":true,"
	                          "\"t\":1,\"n\":1,\"progress\":0}",
	                     &st),
	    KQ_ERR_VAULT_RESPONSE);
	assert_int_equal(
	    PARSE_SS("<html>503</html>", &st), KQ_ERR_VAULT_RESPONSE);
	assert_int_equal(PARSE_SS("{\"sealed\":true,\"initialized\":true,"
	                          "\"t\":-1,\"n\":1,\"progress\":0}",
	                     &st),
	    KQ_ERR_VAULT_RESPONSE);
	/* an over-long string is refused, not truncated */
	assert_int_equal(PARSE_SS("{\"sealed\":true,\"initialized\":true,"
	                          "\"t\":1,\"n\":1,\"progress\":0,\"nonce\":"
	                          "\"0123456789012345678901234567890123456789"
	                          "012345678901234567890123456789\"}",
	                     &st),
	    KQ_ERR_VAULT_RESPONSE);
}

static void
test_flavor_guess(void **state)
{
	(void)state;
	assert_int_equal(vault_flavor_guess("1.15.2+ent"), VAULT_FLAVOR_VAULT);
	assert_int_equal(vault_flavor_guess("v1.4.0"), VAULT_FLAVOR_VAULT);
	assert_int_equal(vault_flavor_guess("2.5.3"), VAULT_FLAVOR_OPENBAO);
	assert_int_equal(
	    vault_flavor_guess("openbao-2.0.0"), VAULT_FLAVOR_OPENBAO);
	assert_int_equal(vault_flavor_guess(""), VAULT_FLAVOR_UNKNOWN);
	assert_int_equal(vault_flavor_guess("dev"), VAULT_FLAVOR_UNKNOWN);
}

static void
test_error_mapping(void **state)
{
	static const struct {
		long status;
		const char *msg;
		int want;
	} cases[] = {
	    {503, "Vault is sealed", KQ_ERR_VAULT_SEALED},
	    {503, NULL, KQ_ERR_VAULT_SEALED},
	    {400, "Vault is already initialized", KQ_ERR_VAULT_INITIALIZED},
	    {400, "Vault is not initialized", KQ_ERR_VAULT_NOT_INITIALIZED},
	    {400,
	        "incorrect nonce supplied; nonce for this root generation "
	        "operation is \"2dbd10f1-8528-6246-09e7-82b25b8aba63\"",
	        KQ_ERR_VAULT_NONCE},
	    {400, "root generation already in progress",
	        KQ_ERR_VAULT_IN_PROGRESS},
	    {400, "no root generation in progress", KQ_ERR_VAULT_NO_ATTEMPT},
	    {400,
	        "root generation aborted: failed to decrypt: cipher: message "
	        "authentication failed",
	        KQ_ERR_VAULT_KEY_REJECTED},
	    {500, "cipher: message authentication failed",
	        KQ_ERR_VAULT_KEY_REJECTED},
	    {400, "'key' must be a valid hex or base64 string",
	        KQ_ERR_VAULT_KEY_REJECTED},
	    {400, "invalid key: key is shorter than minimum 16 bytes",
	        KQ_ERR_VAULT_KEY_REJECTED},
	    {400, "vault is unsealed", KQ_ERR_VAULT},
	    {403, "permission denied", KQ_ERR_VAULT_PERMISSION},
	    {400, "permission denied", KQ_ERR_VAULT_PERMISSION},
	    {404, NULL, KQ_ERR_VAULT_DISABLED},
	    {405, "", KQ_ERR_VAULT_DISABLED},
	    {400, "this endpoint is disabled", KQ_ERR_VAULT_DISABLED},
	    {500, "internal error", KQ_ERR_VAULT},
	    {0, NULL, KQ_ERR_VAULT_CONNECT},
	    {200, NULL, KQ_OK},
	    {204, NULL, KQ_OK},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (vault_map_error(cases[i].status, cases[i].msg) !=
		    cases[i].want)
			fail_msg("case %zu (%ld, %s): got %s", i,
			    cases[i].status,
			    cases[i].msg ? cases[i].msg : "(null)",
			    kq_errname(vault_map_error(
			        cases[i].status, cases[i].msg)));
	}
}

static void
test_errors_body(void **state)
{
	static const char two[] =
	    "{\"errors\":[\"first\",\"second\\u001b[31m\"]}";
	static const char multi[] = "{\"errors\":[\"1 error occurred:\\n\\t* "
	                            "unsupported path\\n\\n\"]}";
	char out[64];

	(void)state;
	assert_int_equal(
	    vault_parse_errors(two, strlen(two), out, sizeof(out)), KQ_OK);
	/* joined; the escape character does not reach a terminal */
	assert_string_equal(out, "first; second?[31m");
	assert_int_equal(vault_parse_errors("{\"errors\":[]}", 13, out, 8),
	    KQ_ERR_VAULT_RESPONSE);
	assert_int_equal(
	    vault_parse_errors("nope", 4, out, 8), KQ_ERR_VAULT_RESPONSE);
	/* truncated to the buffer */
	assert_int_equal(vault_parse_errors(two, strlen(two), out, 8), KQ_OK);
	assert_string_equal(out, "first;");
	/* Go's multierror layout collapses to one line */
	assert_int_equal(
	    vault_parse_errors(multi, strlen(multi), out, sizeof(out)), KQ_OK);
	assert_string_equal(out, "1 error occurred: * unsupported path");
}

static void
test_generate_root_attempt(void **state)
{
	static const char start[] =
	    "{\"nonce\":\"b1d4d5d4-0000-1111-2222-333344445555\","
	    "\"started\":true,\"progress\":0,\"required\":3,"
	    "\"complete\":false,\"encoded_token\":\"\","
	    "\"encoded_root_token\":\"\",\"pgp_fingerprint\":\"\","
	    "\"otp\":\"hvs.AbCdEfGhIjKlMnOpQrStUvWx\",\"otp_length\":28}";
	static const char done[] =
	    "{\"request_id\":\"x\",\"data\":{\"nonce\":\"b1d4d5d4-0000-1111-"
	    "2222-333344445555\",\"started\":true,\"progress\":3,"
	    "\"required\":3,\"complete\":true,\"encoded_token\":"
	    "\"FhEOJgMXMSsZIB0nETYOJBUIGBYSPgoYDQc\",\"otp\":\"\","
	    "\"otp_length\":0}}";
	struct vault_generate_root_status st;
	char *otp = NULL, *enc = NULL;

	(void)state;
	assert_int_equal(
	    vault_parse_generate_root(start, strlen(start), &st, &otp, &enc),
	    KQ_OK);
	assert_non_null(otp);
	assert_string_equal(otp, "hvs.AbCdEfGhIjKlMnOpQrStUvWx");
	assert_int_equal(kq_secsize(otp), strlen(otp) + 1); /* secure */
	assert_null(enc);
	assert_int_equal(st.otp_length, 28);
	assert_int_equal(st.required, 3);
	assert_true(st.started);
	assert_false(st.complete);
	kq_secfree(otp);
	otp = NULL;
	/* authenticated OpenBao variant: fields under "data" */
	assert_int_equal(
	    vault_parse_generate_root(done, strlen(done), &st, &otp, &enc),
	    KQ_OK);
	assert_null(otp);
	assert_non_null(enc);
	assert_string_equal(enc, "FhEOJgMXMSsZIB0nETYOJBUIGBYSPgoYDQc");
	assert_true(st.complete);
	assert_int_equal(st.progress, 3);
	kq_secfree(enc);
	assert_int_equal(
	    vault_parse_generate_root("{\"nonce\":1}", 11, &st, NULL, NULL),
	    KQ_ERR_VAULT_RESPONSE);
}

struct keys_seen {
	unsigned n;
	uint8_t first[33];
	size_t len;
	int stop_at;
};

static int
collect(void *arg, unsigned index, const uint8_t *key, size_t len)
{
	struct keys_seen *k = arg;

	if (k->stop_at >= 0 && index == (unsigned)k->stop_at)
		return KQ_ERR_TOKEN;
	if (index == 0 && len <= sizeof(k->first)) {
		memcpy(k->first, key, len);
		k->len = len;
	}
	assert_int_equal(index, k->n);
	k->n++;
	return KQ_OK;
}

/* Two 33-byte keys, hex and base64 of the same bytes. */
#define K1 "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2007"
#define K1B "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAH"
#define K2 "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc009"
#define K2B "oaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2+v8AJ"

static void
test_init_answer(void **state)
{
	static const char body[] =
	    "{\"keys\":[\"" K1 "\",\"" K2 "\"],\"keys_base64\":[\"" K1B
	    "\",\"" K2B "\"],\"root_token\":\"hvs.rootrootrootrootrootroot\"}";
	static const char mismatch[] =
	    "{\"keys\":[\"" K1 "\",\"" K2 "\"],\"keys_base64\":[\"" K2B
	    "\",\"" K1B "\"],\"root_token\":\"hvs.x\"}";
	static const char recovery[] =
	    "{\"keys\":[],\"keys_base64\":[],\"recovery_keys\":[\"" K1
	    "\"],\"recovery_keys_base64\":[\"" K1B
	    "\"],\"root_token\":\"s.abc\"}";
	struct keys_seen k = {.stop_at = -1};
	char *root = NULL;

	(void)state;
	assert_int_equal(
	    vault_parse_init(body, strlen(body), 2, 0, collect, &k, &root),
	    KQ_OK);
	assert_int_equal(k.n, 2);
	assert_int_equal(k.len, 33);
	assert_int_equal(k.first[0], 1);
	assert_int_equal(k.first[32], 7);
	assert_string_equal(root, "hvs.rootrootrootrootrootroot");
	kq_secfree(root);
	root = NULL;
	/* count differs from what was asked */
	memset(&k, 0, sizeof(k));
	k.stop_at = -1;
	assert_int_equal(
	    vault_parse_init(body, strlen(body), 3, 0, collect, &k, &root),
	    KQ_ERR_VAULT_RESPONSE);
	assert_null(root);
	/* hex and base64 twins disagree */
	memset(&k, 0, sizeof(k));
	k.stop_at = -1;
	assert_int_equal(vault_parse_init(mismatch, strlen(mismatch), 2, 0,
	                     collect, &k, &root),
	    KQ_ERR_VAULT_RESPONSE);
	assert_int_equal(k.n, 0);
	/* recovery keys under auto-unseal */
	memset(&k, 0, sizeof(k));
	k.stop_at = -1;
	assert_int_equal(vault_parse_init(recovery, strlen(recovery), 1, 1,
	                     collect, &k, NULL),
	    KQ_OK);
	assert_int_equal(k.n, 1);
	/* the callback's failure stops the delivery and is returned */
	memset(&k, 0, sizeof(k));
	k.stop_at = 1;
	assert_int_equal(
	    vault_parse_init(body, strlen(body), 2, 0, collect, &k, &root),
	    KQ_ERR_TOKEN);
	assert_int_equal(k.n, 1);
	assert_null(root);
}

static void
test_decode_token_answer(void **state)
{
	static const char body[] = "{\"data\":{\"token\":\"s.0123456789\"}}";
	char *t = NULL;

	(void)state;
	assert_int_equal(vault_parse_token(body, strlen(body), &t), KQ_OK);
	assert_string_equal(t, "s.0123456789");
	kq_secfree(t);
	assert_int_equal(
	    vault_parse_token("{\"data\":{}}", 11, &t), KQ_ERR_VAULT_RESPONSE);
}

/*
 * A secret body's JSON tree lives in secure memory: the block in front of a
 * string value (ceremony/json.c's 16-byte header) is a kq_secalloc block,
 * which kq_secsize would abort on otherwise.  And a non-secret parse uses
 * the ordinary heap (no guarded pages for custody files).
 */
static void
test_json_secret_tree_is_secure(void **state)
{
	static const char body[] = "{\"otp\":\"hvs.AbCdEfGhIjKlMnOpQrStUvWx\"}";
	const char *v;
	json_t *j;

	(void)state;
	j = ceremony_json_loadb(body, strlen(body), 1, NULL);
	assert_non_null(j);
	v = json_string_value(json_object_get(j, "otp"));
	assert_non_null(v);
	assert_true(kq_secsize(v - 16) >= 16 + strlen(v) + 1);
	json_decref(j);
	j = ceremony_json_loadb("[1", 2, 1, NULL);
	assert_null(j);
	/* wiping heap allocator: the tree works like any other */
	j = ceremony_json_loadb(body, strlen(body), 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "otp")),
	    "hvs.AbCdEfGhIjKlMnOpQrStUvWx");
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seal_status_vault_sealed),
	    cmocka_unit_test(test_seal_status_openbao_unsealed_auto),
	    cmocka_unit_test(test_seal_status_malformed),
	    cmocka_unit_test(test_flavor_guess),
	    cmocka_unit_test(test_error_mapping),
	    cmocka_unit_test(test_errors_body),
	    cmocka_unit_test(test_generate_root_attempt),
	    cmocka_unit_test(test_init_answer),
	    cmocka_unit_test(test_decode_token_answer),
	    cmocka_unit_test(test_json_secret_tree_is_secure),
	};

	return cmocka_run_group_tests_name("vault_parse", tests, setup, NULL);
}
