/* Unit tests for ceremony/roottoken.c on Vault's and OpenBao's own tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ceremony/ceremony.h"
#include "common/err.h"
#include "common/secmem.h"

#define VECTORS "tests/vectors/vault_roottoken_sample.jsonl"

static int
decode(const char *enc, const char *otp, int otp_length, char *tok)
{
	size_t n;

	return root_token_decode(enc, strlen(enc), otp, strlen(otp), otp_length,
	    tok, ROOT_TOKEN_MAX + 1, &n);
}

static void
test_vectors_decode(void **state)
{
	char line[1024], tok[ROOT_TOKEN_MAX + 1];
	FILE *f;
	int count = 0;

	(void)state;
	assert_non_null(f = fopen(VECTORS, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		json_t *v = json_loads(line, 0, NULL);
		const char *enc, *otp, *want;
		int olen;

		assert_non_null(v);
		enc = json_string_value(json_object_get(v, "encoded_token"));
		otp = json_string_value(json_object_get(v, "otp"));
		want = json_string_value(json_object_get(v, "token"));
		olen =
		    (int)json_integer_value(json_object_get(v, "otp_length"));
		assert_int_equal(decode(enc, otp, olen, tok), KQ_OK);
		assert_string_equal(tok, want);
		assert_int_equal(decode(enc, otp, -1, tok), KQ_OK);
		assert_string_equal(tok, want);
		json_decref(v);
		count++;
	}
	fclose(f);
	assert_true(count >= 6);
}

static void
test_wrong_otp_and_lengths(void **state)
{
	const char *enc = "KR5KXz0vNxFECAcIaQQlfAYJCgEgEDQ1CS8bJg";
	const char *otp = "Ah9qwYQzspnj9iS0WJmuQQNCXUcd";
	char tok[ROOT_TOKEN_MAX + 1];

	(void)state;
	assert_int_equal(decode(enc, otp, 28, tok), KQ_OK);
	assert_string_equal(tok, "hvs.Jvfk7xibPmvLQCgtqAzvQzxB");
	/* otp_length that does not match the OTP */
	assert_int_equal(decode(enc, otp, 26, tok), KQ_ERR_OTP);
	/* an OTP of the right length that is not this one */
	assert_int_equal(
	    decode(enc, "zzzzzzzzzzzzzzzzzzzzzzzzzzzz", 28, tok), KQ_ERR_OTP);
	/* the encoded token with padding is not RawStd */
	assert_int_equal(
	    decode("KR5KXz0vNxFECAcIaQQlfAYJCgEgEDQ1CS8bJg==", otp, 28, tok),
	    KQ_ERR_ENCODING);
	assert_int_equal(decode("KR5K*z0v", otp, 28, tok), KQ_ERR_ENCODING);
	/* an encoded token shorter than the OTP */
	assert_int_equal(decode("KR5KXz0v", otp, 28, tok), KQ_ERR_OTP);
	/* an OTP with characters no OTP has */
	assert_int_equal(
	    decode(enc, "Ah9qwYQzspnj9iS0WJmuQQNCXU-d", 28, tok), KQ_ERR_OTP);
	/* legacy: OTP not base64 */
	assert_int_equal(decode("+A32dlWg1EcNQdGzex1CYg==",
	                     "ptOv/yt3XL5SCNvTkPLj4A=!", 0, tok),
	    KQ_ERR_ENCODING);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors_decode),
	    cmocka_unit_test(test_wrong_otp_and_lengths),
	};

	if (kq_secmem_init() != KQ_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
