/*
 * keyquorum: decoding generate-root tokens with their OTP
 * (VAULT_API.md "Root token and OTP").
 *
 * Constant time in the bytes of the OTP, the encoded token and the result:
 * base64 decoding and hex encoding are libsodium's constant-time codecs,
 * and character-class checks are computed with masks and accumulated, the
 * only branch being on the final verdict.  Lengths are public.
 */
#include "ceremony/ceremony.h"

#include <string.h>

#include "common/encoding.h"
#include "common/err.h"
#include "common/secmem.h"

/* 0xff when lo <= c <= hi, else 0; no branch. */
static uint8_t
ct_in_range(uint8_t c, uint8_t lo, uint8_t hi)
{
	unsigned int x = c;

	return (uint8_t)(((((unsigned int)lo - 1 - x) &
	                      (x - (unsigned int)hi - 1)) >>
	                     8) &
	    0xff);
}

static uint8_t
ct_is_alnum(uint8_t c)
{
	return ct_in_range(c, 'A', 'Z') | ct_in_range(c, 'a', 'z') |
	    ct_in_range(c, '0', '9');
}

/* Token characters: base62 plus '.' (prefix and namespace separator). */
static uint8_t
ct_is_token_char(uint8_t c)
{
	return ct_is_alnum(c) | ct_in_range(c, '.', '.');
}

/* Legacy: both values are padded base64 of 16 bytes; print a UUID. */
static int
root_token_decode_legacy(const char *encoded, size_t encoded_len,
    const char *otp, size_t otp_len, char *token, size_t cap, size_t *token_len)
{
	uint8_t a[16 + 3], b[16 + 3];
	char hex[33];
	size_t na = 0, nb = 0, i, o;
	int r = KQ_ERR_OTP;

	if (cap < 37)
		return KQ_ERR_TOO_LONG;
	if (kq_b64_decode(a, sizeof(a), &na, encoded, encoded_len,
	        KQ_B64_PADDED) != KQ_OK ||
	    kq_b64_decode(b, sizeof(b), &nb, otp, otp_len, KQ_B64_PADDED) !=
	        KQ_OK) {
		r = KQ_ERR_ENCODING;
		goto out;
	}
	if (na != 16 || nb != 16)
		goto out;
	for (i = 0; i < 16; i++)
		a[i] ^= b[i];
	if (kq_hex_encode(hex, sizeof(hex), a, 16) != KQ_OK)
		goto out;
	for (i = 0, o = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			token[o++] = '-';
		token[o++] = hex[i];
	}
	token[o] = '\0';
	*token_len = o;
	r = KQ_OK;
out:
	kq_wipe(a, sizeof(a));
	kq_wipe(b, sizeof(b));
	kq_wipe(hex, sizeof(hex));
	return r;
}

int
root_token_decode(const char *encoded, size_t encoded_len, const char *otp,
    size_t otp_len, int otp_length, char *token, size_t cap, size_t *token_len)
{
	uint8_t buf[ROOT_TOKEN_MAX + 3], bad = 0;
	size_t n = 0, i;
	int r;

	if (otp_length < 0) {
		/*
		 * Detect from the length alone: a legacy OTP is 16 bytes of
		 * padded base64 (24 characters); every later OTP is 26, 28,
		 * 33 or 35 characters.
		 */
		otp_length = otp_len == 24 ? 0 : (int)otp_len;
	}
	if (otp_length == 0) {
		r = root_token_decode_legacy(
		    encoded, encoded_len, otp, otp_len, token, cap, token_len);
		if (r != KQ_OK)
			kq_wipe(token, cap);
		return r;
	}
	if ((size_t)otp_length != otp_len)
		return KQ_ERR_OTP;
	if (otp_len > ROOT_TOKEN_MAX || cap < otp_len + 1)
		return KQ_ERR_TOO_LONG;
	if ((r = kq_b64_decode(buf, sizeof(buf), &n, encoded, encoded_len,
	         KQ_B64_RAW)) != KQ_OK) {
		r = r == KQ_ERR_TOO_LONG ? KQ_ERR_OTP : r;
		goto out;
	}
	if (n != otp_len) {
		r = KQ_ERR_OTP;
		goto out;
	}
	for (i = 0; i < n; i++) {
		bad |= (uint8_t)~ct_is_alnum((uint8_t)otp[i]);
		buf[i] ^= (uint8_t)otp[i];
		bad |= (uint8_t)~ct_is_token_char(buf[i]);
	}
	if (bad != 0) {
		r = KQ_ERR_OTP;
		goto out;
	}
	memcpy(token, buf, n);
	token[n] = '\0';
	*token_len = n;
	r = KQ_OK;
out:
	kq_wipe(buf, sizeof(buf));
	if (r != KQ_OK)
		kq_wipe(token, cap);
	return r;
}
