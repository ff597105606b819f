/* Unit tests for hsm/ URIs: RFC 7512 through p11-kit, with keyquorum's
 * policy (unknown attributes fail closed, pin-value only for tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/secmem.h"
#include "hsm/hsm.h"

static void
test_uri_token_object_id(void **state)
{
	struct hsm_uri *u = NULL;
	const uint8_t *id;
	size_t n = 0;

	(void)state;
	assert_int_equal(
	    hsm_uri_parse(
	        "pkcs11:token=holder%20one;object=seal;"
	        "id=%01%02%ff;type=private?pin-source=/run/pin&module-path=/x.so",
	        &u, NULL, 0),
	    KQ_OK);
	assert_string_equal(hsm_uri_object(u), "seal");
	id = hsm_uri_id(u, &n);
	assert_non_null(id);
	assert_int_equal(n, 3);
	assert_int_equal(id[2], 0xff);
	assert_string_equal(hsm_uri_pin_source(u), "/run/pin");
	assert_string_equal(hsm_uri_module_path(u), "/x.so");
	assert_null(hsm_uri_module_name(u));
	assert_true(hsm_uri_has_token_attrs(u));
	hsm_uri_free(u);
}

static void
test_uri_all_known_attributes(void **state)
{
	struct hsm_uri *u = NULL;

	(void)state;
	assert_int_equal(
	    hsm_uri_parse(
	        "pkcs11:token=a;manufacturer=b;serial=c;"
	        "model=d;library-manufacturer=e;library-description=f;"
	        "library-version=1.2;slot-description=g;slot-manufacturer=h;"
	        "slot-id=5;object=i;id=%01;type=public?module-name=softhsm2",
	        &u, NULL, 0),
	    KQ_OK);
	assert_string_equal(hsm_uri_module_name(u), "softhsm2");
	hsm_uri_free(u);
	assert_int_equal(hsm_uri_parse("pkcs11:", &u, NULL, 0), KQ_OK);
	assert_false(hsm_uri_has_token_attrs(u));
	assert_null(hsm_uri_object(u));
	hsm_uri_free(u);
}

static void
test_uri_unknown_attribute_named(void **state)
{
	struct hsm_uri *u = NULL;
	char why[128];

	(void)state;
	assert_int_equal(
	    hsm_uri_parse("pkcs11:token=a;colour=blue", &u, why, sizeof(why)),
	    KQ_ERR_URI);
	assert_null(u);
	assert_non_null(strstr(why, "\"colour\""));
	assert_int_equal(
	    hsm_uri_parse("pkcs11:token=a?pin-sauce=x", &u, why, sizeof(why)),
	    KQ_ERR_URI);
	assert_non_null(strstr(why, "\"pin-sauce\""));
	assert_int_equal(
	    hsm_uri_parse("pkcs11:token", &u, why, sizeof(why)), KQ_ERR_URI);
	assert_non_null(strstr(why, "without '='"));
	assert_int_equal(
	    hsm_uri_parse("pkcs11:token=a;123456", &u, why, sizeof(why)),
	    KQ_ERR_URI);
	assert_null(strstr(why, "123456"));
}

static void
test_uri_bad_syntax(void **state)
{
	struct hsm_uri *u = NULL;
	char why[128];

	(void)state;
	assert_int_equal(
	    hsm_uri_parse("file:/etc/passwd", &u, why, sizeof(why)),
	    KQ_ERR_URI);
	assert_int_equal(
	    hsm_uri_parse("pkcs11:token=%zz", &u, why, sizeof(why)),
	    KQ_ERR_URI);
	assert_int_equal(
	    hsm_uri_parse("pkcs11:type=frob", &u, why, sizeof(why)),
	    KQ_ERR_URI);
	assert_int_equal(
	    hsm_uri_parse("pkcs11:object=a%00b", &u, why, sizeof(why)),
	    KQ_ERR_URI);
	assert_null(u);
}

static void
test_uri_pin_value_only_for_tests(void **state)
{
	struct hsm_uri *u = NULL;

	(void)state;
	unsetenv(HSM_ENV_ALLOW_PIN_VALUE);
	assert_int_equal(
	    hsm_uri_parse("pkcs11:token=a?pin-value=1234", &u, NULL, 0),
	    KQ_ERR_PIN_VALUE_REFUSED);
	setenv(HSM_ENV_ALLOW_PIN_VALUE, "yes", 1);
	assert_int_equal(
	    hsm_uri_parse("pkcs11:token=a?pin-value=1234", &u, NULL, 0),
	    KQ_ERR_PIN_VALUE_REFUSED);
	setenv(HSM_ENV_ALLOW_PIN_VALUE, "1", 1);
	assert_int_equal(
	    hsm_uri_parse("pkcs11:token=a?pin-value=1234", &u, NULL, 0), KQ_OK);
	hsm_uri_free(u);
	unsetenv(HSM_ENV_ALLOW_PIN_VALUE);
}

static void
test_fingerprint_text(void **state)
{
	uint8_t fp[HSM_FP_LEN], back[HSM_FP_LEN];
	char s[HSM_FP_STR_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fp); i++)
		fp[i] = (uint8_t)(i * 37);
	hsm_fingerprint_str(fp, s);
	assert_int_equal(strlen(s), 7 + 43);
	assert_memory_equal(s, "SHA256:", 7);
	assert_null(strchr(s, '='));
	assert_int_equal(hsm_fingerprint_parse(s, back), KQ_OK);
	assert_memory_equal(fp, back, sizeof(fp));
	assert_int_equal(hsm_fingerprint_parse(s + 7, back), KQ_ERR_ENCODING);
	s[20] = '*';
	assert_int_equal(hsm_fingerprint_parse(s, back), KQ_ERR_ENCODING);
}

static void
test_field_len(void **state)
{
	const unsigned char f[8] = {'a', 'b', ' ', 'c', ' ', ' ', ' ', ' '};
	const unsigned char blank[4] = {' ', ' ', ' ', ' '};

	(void)state;
	assert_int_equal(hsm_field_len(f, sizeof(f)), 4);
	assert_int_equal(hsm_field_len(blank, sizeof(blank)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uri_token_object_id),
	    cmocka_unit_test(test_uri_all_known_attributes),
	    cmocka_unit_test(test_uri_unknown_attribute_named),
	    cmocka_unit_test(test_uri_bad_syntax),
	    cmocka_unit_test(test_uri_pin_value_only_for_tests),
	    cmocka_unit_test(test_fingerprint_text),
	    cmocka_unit_test(test_field_len),
	};

	if (kq_secmem_init() != KQ_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
