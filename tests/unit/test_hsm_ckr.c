/* Unit tests for the one CK_RV map of hsm/: every code PKCS#11 (p11-kit's
 * header) defines has words of its own, and the codes that matter to a
 * person map to the right kq_err. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "hsm/p11_int.h"

static const CK_RV all[] = {
    CKR_OK,
    CKR_CANCEL,
    CKR_HOST_MEMORY,
    CKR_SLOT_ID_INVALID,
    CKR_GENERAL_ERROR,
    CKR_FUNCTION_FAILED,
    CKR_ARGUMENTS_BAD,
    CKR_NO_EVENT,
    CKR_NEED_TO_CREATE_THREADS,
    CKR_CANT_LOCK,
    CKR_ATTRIBUTE_READ_ONLY,
    CKR_ATTRIBUTE_SENSITIVE,
    CKR_ATTRIBUTE_TYPE_INVALID,
    CKR_ATTRIBUTE_VALUE_INVALID,
    CKR_ACTION_PROHIBITED,
    CKR_DATA_INVALID,
    CKR_DATA_LEN_RANGE,
    CKR_DEVICE_ERROR,
    CKR_DEVICE_MEMORY,
    CKR_DEVICE_REMOVED,
    CKR_ENCRYPTED_DATA_INVALID,
    CKR_ENCRYPTED_DATA_LEN_RANGE,
    CKR_FUNCTION_CANCELED,
    CKR_FUNCTION_NOT_PARALLEL,
    CKR_FUNCTION_NOT_SUPPORTED,
    CKR_KEY_HANDLE_INVALID,
    CKR_KEY_SIZE_RANGE,
    CKR_KEY_TYPE_INCONSISTENT,
    CKR_KEY_NOT_NEEDED,
    CKR_KEY_CHANGED,
    CKR_KEY_NEEDED,
    CKR_KEY_INDIGESTIBLE,
    CKR_KEY_FUNCTION_NOT_PERMITTED,
    CKR_KEY_NOT_WRAPPABLE,
    CKR_KEY_UNEXTRACTABLE,
    CKR_MECHANISM_INVALID,
    CKR_MECHANISM_PARAM_INVALID,
    CKR_OBJECT_HANDLE_INVALID,
    CKR_OPERATION_ACTIVE,
    CKR_OPERATION_NOT_INITIALIZED,
    CKR_PIN_INCORRECT,
    CKR_PIN_INVALID,
    CKR_PIN_LEN_RANGE,
    CKR_PIN_EXPIRED,
    CKR_PIN_LOCKED,
    CKR_SESSION_CLOSED,
    CKR_SESSION_COUNT,
    CKR_SESSION_HANDLE_INVALID,
    CKR_SESSION_PARALLEL_NOT_SUPPORTED,
    CKR_SESSION_READ_ONLY,
    CKR_SESSION_EXISTS,
    CKR_SESSION_READ_ONLY_EXISTS,
    CKR_SESSION_READ_WRITE_SO_EXISTS,
    CKR_SIGNATURE_INVALID,
    CKR_SIGNATURE_LEN_RANGE,
    CKR_TEMPLATE_INCOMPLETE,
    CKR_TEMPLATE_INCONSISTENT,
    CKR_TOKEN_NOT_PRESENT,
    CKR_TOKEN_NOT_RECOGNIZED,
    CKR_TOKEN_WRITE_PROTECTED,
    CKR_UNWRAPPING_KEY_SIZE_RANGE,
    CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT,
    CKR_USER_ALREADY_LOGGED_IN,
    CKR_USER_NOT_LOGGED_IN,
    CKR_USER_PIN_NOT_INITIALIZED,
    CKR_USER_TYPE_INVALID,
    CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
    CKR_USER_TOO_MANY_TYPES,
    CKR_WRAPPED_KEY_INVALID,
    CKR_WRAPPED_KEY_LEN_RANGE,
    CKR_WRAPPING_KEY_HANDLE_INVALID,
    CKR_WRAPPING_KEY_SIZE_RANGE,
    CKR_WRAPPING_KEY_TYPE_INCONSISTENT,
    CKR_RANDOM_SEED_NOT_SUPPORTED,
    CKR_RANDOM_NO_RNG,
    CKR_DOMAIN_PARAMS_INVALID,
    CKR_CURVE_NOT_SUPPORTED,
    CKR_BUFFER_TOO_SMALL,
    CKR_SAVED_STATE_INVALID,
    CKR_INFORMATION_SENSITIVE,
    CKR_STATE_UNSAVEABLE,
    CKR_CRYPTOKI_NOT_INITIALIZED,
    CKR_CRYPTOKI_ALREADY_INITIALIZED,
    CKR_MUTEX_BAD,
    CKR_MUTEX_NOT_LOCKED,
    CKR_NEW_PIN_MODE,
    CKR_NEXT_OTP,
    CKR_EXCEEDED_MAX_ITERATIONS,
    CKR_FIPS_SELF_TEST_FAILED,
    CKR_LIBRARY_LOAD_FAILED,
    CKR_PIN_TOO_WEAK,
    CKR_PUBLIC_KEY_INVALID,
    CKR_FUNCTION_REJECTED,
};

static void
test_every_ckr_has_words(void **state)
{
	const char *unknown = p11_rv_words(0x7ffffff0UL);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *w = p11_rv_words(all[i]);

		assert_non_null(w);
		assert_true(strcmp(w, unknown) != 0);
		assert_null(strstr(w, "0x"));
		assert_null(strstr(w, "CKR_"));
	}
	assert_non_null(strstr(p11_rv_words(CKR_VENDOR_DEFINED + 5), "vendor"));
}

static void
test_ckr_classes(void **state)
{
	(void)state;
	assert_int_equal(p11_rv_err(CKR_OK), KQ_OK);
	assert_int_equal(p11_rv_err(CKR_PIN_INCORRECT), KQ_ERR_PIN_INCORRECT);
	assert_int_equal(p11_rv_err(CKR_PIN_LOCKED), KQ_ERR_PIN_LOCKED);
	assert_int_equal(p11_rv_err(CKR_PIN_LEN_RANGE), KQ_ERR_PIN_LEN);
	assert_int_equal(p11_rv_err(CKR_DEVICE_REMOVED), KQ_ERR_TOKEN_REMOVED);
	assert_int_equal(
	    p11_rv_err(CKR_TOKEN_NOT_PRESENT), KQ_ERR_TOKEN_REMOVED);
	assert_int_equal(
	    p11_rv_err(CKR_SESSION_HANDLE_INVALID), KQ_ERR_TOKEN_REMOVED);
	assert_int_equal(p11_rv_err(CKR_SESSION_CLOSED), KQ_ERR_TOKEN_REMOVED);
	assert_int_equal(p11_rv_err(CKR_MECHANISM_INVALID), KQ_ERR_MECHANISM);
	assert_int_equal(
	    p11_rv_err(CKR_ENCRYPTED_DATA_INVALID), KQ_ERR_INTEGRITY);
	assert_int_equal(
	    p11_rv_err(CKR_USER_NOT_LOGGED_IN), KQ_ERR_NOT_LOGGED_IN);
	assert_int_equal(p11_rv_err(CKR_GENERAL_ERROR), KQ_ERR_TOKEN);
	assert_int_equal(p11_rv_err(CKR_DEVICE_MEMORY), KQ_ERR_TOKEN_FULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_ckr_has_words),
	    cmocka_unit_test(test_ckr_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
