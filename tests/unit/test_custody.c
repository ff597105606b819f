/* Unit tests for custody sets: format, constraints, commitments, files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ceremony/ceremony.h"
#include "common/err.h"
#include "common/secmem.h"

static char tmpdir[64];

static int
setup(void **state)
{
	(void)state;
	if (kq_secmem_init() != KQ_OK || ceremony_json_init() != KQ_OK)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kqcust.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A 3-of-4 set: four holders, three enrolled. */
static struct custody_set *
make_set(void)
{
	struct custody_set *cs = NULL;
	uint8_t fpr[CUSTODY_FPR_LEN], share[33], c[32], blob[60];
	char name[16];
	size_t i, idx;

	assert_int_equal(
	    custody_new("prod-vault", CUSTODY_VAULT_UNSEAL, 3, &cs), KQ_OK);
	for (i = 0; i < 4; i++) {
		memset(fpr, (int)(0x10 + i), sizeof(fpr));
		snprintf(name, sizeof(name), "holder%zu", i);
		assert_int_equal(
		    custody_holder_add(
		        cs, name, "pkcs11:token=t;object=k", fpr, &idx, NULL),
		    KQ_OK);
		assert_int_equal(idx, i);
		if (i == 3)
			continue;
		memset(share, (int)(0xa0 + i), sizeof(share));
		share[32] = (uint8_t)(7 + i);
		assert_int_equal(
		    custody_commitment(cs->set_id, share[32], share, 33, c),
		    KQ_OK);
		memset(blob, (int)i, sizeof(blob));
		assert_int_equal(custody_holder_set_share(cs, i, share[32], c,
		                     blob, sizeof(blob), NULL),
		    KQ_OK);
	}
	return cs;
}

static void
test_save_load_round_trip(void **state)
{
	struct custody_set *cs = make_set(), *back = NULL;
	char path[128], detail[CEREMONY_DETAIL_MAX];
	char *a, *b;
	struct stat sb;

	(void)state;
	assert_int_equal(custody_set_string(
	                     &cs->vault_address, "https://vault.example:8200"),
	    KQ_OK);
	cs->holders[1].last_drill = 1700000000;
	snprintf(path, sizeof(path), "%s/rt.json", tmpdir);
	assert_int_equal(custody_save(cs, path, 0, detail), KQ_OK);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(custody_load(path, &back, detail), KQ_OK);
	assert_memory_equal(back->set_id, cs->set_id, CUSTODY_SET_ID_LEN);
	assert_int_equal(back->n_holders, 4);
	assert_int_equal(back->threshold, 3);
	assert_string_equal(back->vault_address, "https://vault.example:8200");
	assert_null(back->vault_cluster_id);
	assert_int_equal(back->holders[2].x, 9);
	assert_int_equal(back->holders[2].sealed_len, 60);
	assert_int_equal(back->holders[3].enrolled, 0);
	assert_int_equal(back->holders[1].last_drill, 1700000000);
	/* Serialisation is stable: what we load dumps to the same bytes. */
	a = custody_dumps(cs, NULL);
	b = custody_dumps(back, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	free(a);
	free(b);
	custody_free(back);
	custody_free(cs);
}

static void
test_save_refuses_overwrite_without_force(void **state)
{
	struct custody_set *cs = make_set(), *back = NULL;
	char path[128], detail[CEREMONY_DETAIL_MAX];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/ow.json", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	fclose(f);
	assert_int_equal(custody_save(cs, path, 0, detail), KQ_ERR_EXISTS);
	assert_int_equal(custody_load(path, &back, detail), KQ_ERR_FORMAT);
	assert_int_equal(custody_save(cs, path, 1, detail), KQ_OK);
	assert_int_equal(custody_load(path, &back, detail), KQ_OK);
	custody_free(back);
	custody_free(cs);
}

static void
test_commitment_checks_share(void **state)
{
	struct custody_set *cs = make_set();
	struct custody_holder *h;
	uint8_t *share = kq_secalloc(33);
	uint8_t short_share[16];

	(void)state;
	assert_non_null(share);
	h = custody_holder_by_name(cs, "holder1");
	assert_non_null(h);
	memset(share, 0xa1, 33);
	share[32] = 8;
	assert_int_equal(custody_check_share(cs, h, share, 33), KQ_OK);
	share[5] ^= 1; /* one bit off */
	assert_int_equal(
	    custody_check_share(cs, h, share, 33), KQ_ERR_COMMITMENT);
	share[5] ^= 1;
	share[32] = 7; /* another holder's x */
	assert_int_equal(
	    custody_check_share(cs, h, share, 33), KQ_ERR_COMMITMENT);
	/* The same share under another set id is another commitment. */
	share[32] = 8;
	cs->set_id[0] ^= 0xff;
	assert_int_equal(
	    custody_check_share(cs, h, share, 33), KQ_ERR_COMMITMENT);
	/* Under 128 bits: never committed to. */
	memset(short_share, 1, sizeof(short_share));
	assert_int_equal(custody_commitment(cs->set_id, 1, short_share,
	                     sizeof(short_share), h->commitment),
	    KQ_ERR_INVALID);
	/* A holder without a share cannot be checked. */
	assert_int_equal(custody_check_share(cs,
	                     custody_holder_by_name(cs, "holder3"), share, 33),
	    KQ_ERR_INVALID);
	kq_secfree(share);
	custody_free(cs);
}

static void
test_lookup_by_name_and_fingerprint(void **state)
{
	struct custody_set *cs = make_set();
	uint8_t fpr[CUSTODY_FPR_LEN];

	(void)state;
	memset(fpr, 0x12, sizeof(fpr));
	assert_ptr_equal(custody_holder_by_fpr(cs, fpr), &cs->holders[2]);
	fpr[31] = 0;
	assert_null(custody_holder_by_fpr(cs, fpr));
	assert_ptr_equal(
	    custody_holder_by_name(cs, "holder0"), &cs->holders[0]);
	assert_null(custody_holder_by_name(cs, "holder"));
	custody_free(cs);
}

static void
test_duplicates_rejected(void **state)
{
	struct custody_set *cs = make_set();
	char detail[CEREMONY_DETAIL_MAX];
	uint8_t fpr[CUSTODY_FPR_LEN], c[32] = {0}, blob[4] = {1, 2, 3, 4};

	(void)state;
	memset(fpr, 0x77, sizeof(fpr));
	assert_int_equal(
	    custody_holder_add(cs, "holder2", "pkcs11:x", fpr, NULL, detail),
	    KQ_ERR_FORMAT);
	assert_non_null(strstr(detail, "holder2"));
	memset(fpr, 0x10, sizeof(fpr));
	assert_int_equal(
	    custody_holder_add(cs, "new", "pkcs11:x", fpr, NULL, detail),
	    KQ_ERR_FORMAT);
	assert_non_null(strstr(detail, "key_fingerprint"));
	assert_int_equal(
	    custody_holder_set_share(cs, 3, 7, c, blob, sizeof(blob), detail),
	    KQ_ERR_FORMAT);
	assert_non_null(strstr(detail, "x 7"));
	/* A duplicate made behind the API's back is caught by validate. */
	cs->holders[1].x = 7;
	assert_int_equal(custody_validate(cs, detail), KQ_ERR_FORMAT);
	assert_non_null(strstr(detail, "holder1"));
	custody_free(cs);
}

static void
test_threshold_rules(void **state)
{
	struct custody_set *cs = make_set();
	uint8_t fpr[CUSTODY_FPR_LEN];
	char detail[CEREMONY_DETAIL_MAX];
	enum custody_kind k;

	(void)state;
	cs->threshold = 5;
	assert_int_equal(custody_validate(cs, detail), KQ_ERR_FORMAT);
	assert_non_null(strstr(detail, "threshold"));
	cs->threshold = 1;
	assert_int_equal(custody_validate(cs, detail), KQ_ERR_FORMAT);
	cs->threshold = 4;
	assert_int_equal(custody_validate(cs, NULL), KQ_OK);
	custody_free(cs);
	/* 1-of-1 is Vault's legal degenerate case, and only Vault's. */
	for (k = CUSTODY_VAULT_UNSEAL; k <= CUSTODY_SECRET; k++) {
		assert_int_equal(custody_new("one", k, 1, &cs), KQ_OK);
		memset(fpr, 1, sizeof(fpr));
		assert_int_equal(
		    custody_holder_add(cs, "solo", "pkcs11:a", fpr, NULL, NULL),
		    KQ_OK);
		assert_int_equal(custody_validate(cs, NULL),
		    k == CUSTODY_VAULT_UNSEAL || k == CUSTODY_VAULT_RECOVERY
		        ? KQ_OK
		        : KQ_ERR_FORMAT);
		custody_free(cs);
	}
}

static void
test_max_holders(void **state)
{
	struct custody_set *cs = NULL;
	uint8_t fpr[CUSTODY_FPR_LEN] = {0};
	char name[16], detail[CEREMONY_DETAIL_MAX];
	int i;

	(void)state;
	assert_int_equal(custody_new("big", CUSTODY_SECRET, 2, &cs), KQ_OK);
	for (i = 0; i < 255; i++) {
		fpr[0] = (uint8_t)i;
		snprintf(name, sizeof(name), "h%d", i);
		assert_int_equal(
		    custody_holder_add(cs, name, "pkcs11:a", fpr, NULL, NULL),
		    KQ_OK);
	}
	fpr[1] = 1;
	assert_int_equal(custody_holder_add(
	                     cs, "one-too-many", "pkcs11:a", fpr, NULL, detail),
	    KQ_ERR_FORMAT);
	assert_int_equal(custody_validate(cs, NULL), KQ_OK);
	custody_free(cs);
}

/* A minimal valid file with one substitution applied. */
static const char good[] =
    "{\"keyquorum_custody\": 1, \"set_id\": "
    "\"00112233445566778899aabbccddeeff\", \"name\": \"n\", \"kind\": "
    "\"vault-unseal\", \"threshold\": 2, \"created\": "
    "\"2026-11-29T06:00:00Z\", \"holders\": ["
    "{\"name\": \"alice\", \"token_uri\": \"pkcs11:token=a\", "
    "\"key_fingerprint\": "
    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", "
    "\"x\": 3, \"commitment\": "
    "\"0000000000000000000000000000000000000000000000000000000000000000\", "
    "\"sealed_share\": \"AAEC\", \"enrolled\": \"2026-11-29T06:00:01Z\"},"
    "{\"name\": \"bob\", \"token_uri\": \"pkcs11:token=b\", "
    "\"key_fingerprint\": "
    "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}]}";

static int
parse_with(const char *from, const char *to, char *detail)
{
	struct custody_set *cs = NULL;
	char buf[4096];
	const char *p = from != NULL ? strstr(good, from) : NULL;
	int r;

	if (from == NULL) {
		snprintf(buf, sizeof(buf), "%s", good);
	} else {
		assert_non_null(p);
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - good), good,
		    to, p + strlen(from));
	}
	r = custody_parse(buf, strlen(buf), &cs, detail);
	custody_free(cs);
	return r;
}

static void
test_strict_parse(void **state)
{
	char d[CEREMONY_DETAIL_MAX];

	(void)state;
	assert_int_equal(parse_with(NULL, NULL, d), KQ_OK);
	assert_int_equal(parse_with("\"keyquorum_custody\": 1",
	                     "\"keyquorum_custody\": 2", d),
	    KQ_ERR_VERSION);
	assert_int_equal(
	    parse_with("\"keyquorum_custody\": 1,", "", d), KQ_ERR_FORMAT);
	assert_int_equal(
	    parse_with("\"threshold\": 2", "\"threshold\": \"2\"", d),
	    KQ_ERR_FORMAT);
	assert_non_null(strstr(d, "threshold"));
	assert_int_equal(parse_with("\"threshold\": 2", "\"threshold\": 3", d),
	    KQ_ERR_FORMAT);
	assert_int_equal(parse_with("\"x\": 3", "\"x\": 0", d), KQ_ERR_FORMAT);
	assert_non_null(strstr(d, "holder \"alice\""));
	assert_non_null(strstr(d, "\"x\""));
	assert_int_equal(
	    parse_with("\"x\": 3", "\"x\": 256", d), KQ_ERR_FORMAT);
	assert_int_equal(
	    parse_with("\"kind\": \"vault-unseal\"", "\"kind\": \"vault\"", d),
	    KQ_ERR_FORMAT);
	assert_int_equal(parse_with("\"sealed_share\": \"AAEC\"",
	                     "\"sealed_share\": \"AAE\"", d),
	    KQ_ERR_FORMAT);
	assert_non_null(strstr(d, "sealed_share"));
	/* all-or-none enrolment fields */
	assert_int_equal(parse_with("\"x\": 3, ", "", d), KQ_ERR_FORMAT);
	assert_non_null(strstr(d, "alice"));
	/* unknown fields */
	assert_int_equal(
	    parse_with("\"name\": \"n\"", "\"name\": \"n\", \"extra\": 1", d),
	    KQ_ERR_FORMAT);
	assert_non_null(strstr(d, "extra"));
	/* duplicate holder name, duplicate key in an object */
	assert_int_equal(
	    parse_with("\"name\": \"bob\"", "\"name\": \"alice\"", d),
	    KQ_ERR_FORMAT);
	assert_int_equal(parse_with("\"name\": \"n\"",
	                     "\"name\": \"n\", \"name\": \"m\"", d),
	    KQ_ERR_FORMAT);
	/* dates */
	assert_int_equal(
	    parse_with("2026-11-29T06:00:00Z", "2026-02-30T06:00:00Z", d),
	    KQ_ERR_FORMAT);
	assert_int_equal(
	    parse_with("2026-11-29T06:00:00Z", "2026-11-29 06:00:00", d),
	    KQ_ERR_FORMAT);
	/* fingerprint length */
	assert_int_equal(parse_with("\"aaaa", "\"aa", d), KQ_ERR_FORMAT);
	assert_non_null(strstr(d, "key_fingerprint"));
	/* not JSON at all, trailing garbage */
	assert_int_equal(custody_parse("{", 1, NULL, d), KQ_ERR_FORMAT);
	assert_int_equal(parse_with("]}", "]} x", d), KQ_ERR_FORMAT);
	/* hsm only for hsm-pin */
	assert_int_equal(parse_with("\"threshold\": 2",
	                     "\"threshold\": 2, \"hsm\": {\"token_uri\": "
	                     "\"pkcs11:token=h\"}",
	                     d),
	    KQ_ERR_FORMAT);
	assert_int_equal(
	    parse_with("\"vault-unseal\"", "\"hsm-pin\"", d), KQ_OK);
}

static void
test_load_missing_file(void **state)
{
	struct custody_set *cs = NULL;
	char path[128], d[CEREMONY_DETAIL_MAX];

	(void)state;
	snprintf(path, sizeof(path), "%s/none.json", tmpdir);
	assert_int_equal(custody_load(path, &cs, d), KQ_ERR_NOT_FOUND);
	assert_null(cs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_save_load_round_trip),
	    cmocka_unit_test(test_save_refuses_overwrite_without_force),
	    cmocka_unit_test(test_commitment_checks_share),
	    cmocka_unit_test(test_lookup_by_name_and_fingerprint),
	    cmocka_unit_test(test_duplicates_rejected),
	    cmocka_unit_test(test_threshold_rules),
	    cmocka_unit_test(test_max_holders),
	    cmocka_unit_test(test_strict_parse),
	    cmocka_unit_test(test_load_missing_file),
	};

	return cmocka_run_group_tests_name("custody", tests, setup, teardown);
}
