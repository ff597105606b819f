/*
 * The generate-root token decoder, root_token_decode: the first byte picks
 * the OTP length mode (detect, legacy, or a length from the second byte),
 * the rest is "ENCODED\nOTP".  A token it returns must fit its buffer, be
 * NUL-terminated and be made of token characters (or be a UUID).
 */
#include "fuzz.h"

#include "ceremony/ceremony.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *enc, *otp, *nl;
	char *tok;
	size_t enc_len, otp_len, tl = 0, cap, i;
	int otp_length, r;

	if (size < 2 || size > 1024)
		return 0;
	switch (data[0] & 3) {
	case 0:
		otp_length = -1;
		break;
	case 1:
		otp_length = 0;
		break;
	default:
		otp_length = data[1] % (ROOT_TOKEN_MAX + 8);
		break;
	}
	/* Usually the documented capacity, sometimes smaller. */
	cap = (data[0] & 4) ? (size_t)(data[1] % (ROOT_TOKEN_MAX + 1)) + 1
	                    : ROOT_TOKEN_MAX + 1;
	data += 2, size -= 2;
	enc = (const char *)data;
	if ((nl = memchr(enc, '\n', size)) == NULL) {
		enc_len = size;
		otp = enc + size;
		otp_len = 0;
	} else {
		enc_len = (size_t)(nl - enc);
		otp = nl + 1;
		otp_len = size - enc_len - 1;
	}
	FUZZ_CHECK((tok = kq_secalloc(cap)) != NULL);
	r = root_token_decode(
	    enc, enc_len, otp, otp_len, otp_length, tok, cap, &tl);
	if (r == KQ_OK) {
		FUZZ_CHECK(tl < cap && tok[tl] == '\0' && strlen(tok) == tl);
		for (i = 0; i < tl; i++)
			FUZZ_CHECK((tok[i] >= 'a' && tok[i] <= 'z') ||
			    (tok[i] >= 'A' && tok[i] <= 'Z') ||
			    (tok[i] >= '0' && tok[i] <= '9') || tok[i] == '.' ||
			    tok[i] == '-');
	} else {
		FUZZ_CHECK(r == KQ_ERR_ENCODING || r == KQ_ERR_OTP ||
		    r == KQ_ERR_TOO_LONG);
		for (i = 0; i < cap; i++)
			FUZZ_CHECK(tok[i] == 0); /* wiped on failure */
	}
	kq_secfree(tok);
	return 0;
}
