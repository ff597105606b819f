/*
 * keyquorum: hex and base64 codecs.
 *
 * Constant time: these wrap libsodium's codecs, which take no branch and
 * index no table with data bytes (sodium_bin2hex, sodium_hex2bin,
 * sodium_bin2base64, sodium_base642bin).  Lengths are public.  The checks
 * added here look only at lengths and at libsodium's return values.
 */
#include "common/encoding.h"

#include <errno.h>

#include <sodium.h>

#include "common/err.h"
#include "common/secmem.h"

static int
kq_b64_sodium_variant(enum kq_b64 v)
{
	return v == KQ_B64_RAW ? sodium_base64_VARIANT_ORIGINAL_NO_PADDING
	                       : sodium_base64_VARIANT_ORIGINAL;
}

size_t
kq_hex_encoded_size(size_t n)
{
	return n * 2 + 1;
}

size_t
kq_b64_encoded_size(size_t n, enum kq_b64 v)
{
	return sodium_base64_encoded_len(n, kq_b64_sodium_variant(v));
}

int
kq_hex_encode(char *out, size_t outcap, const uint8_t *in, size_t n)
{
	if (n > (SIZE_MAX - 1) / 2 || outcap < kq_hex_encoded_size(n))
		return KQ_ERR_INVALID;
	sodium_bin2hex(out, outcap, in, n);
	return KQ_OK;
}

int
kq_hex_decode(
    uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen)
{
	const char *end = NULL;
	size_t got = 0;

	if (inlen % 2 != 0)
		return KQ_ERR_ENCODING;
	if (inlen / 2 > outcap)
		return KQ_ERR_TOO_LONG;
	if (sodium_hex2bin(out, outcap, in, inlen, NULL, &got, &end) != 0 ||
	    end != in + inlen || got != inlen / 2) {
		kq_wipe(out, outcap);
		return KQ_ERR_ENCODING;
	}
	*outlen = got;
	return KQ_OK;
}

int
kq_b64_encode(
    char *out, size_t outcap, const uint8_t *in, size_t n, enum kq_b64 v)
{
	if (outcap < kq_b64_encoded_size(n, v))
		return KQ_ERR_INVALID;
	sodium_bin2base64(out, outcap, in, n, kq_b64_sodium_variant(v));
	return KQ_OK;
}

int
kq_b64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in,
    size_t inlen, enum kq_b64 v)
{
	const char *end = NULL;
	size_t got = 0;

	if ((v == KQ_B64_PADDED && inlen % 4 != 0) ||
	    (v == KQ_B64_RAW && inlen % 4 == 1))
		return KQ_ERR_ENCODING;
	errno = 0;
	if (sodium_base642bin(out, outcap, in, inlen, NULL, &got, &end,
	        kq_b64_sodium_variant(v)) != 0 ||
	    end != in + inlen) {
		kq_wipe(out, outcap);
		return errno == ERANGE ? KQ_ERR_TOO_LONG : KQ_ERR_ENCODING;
	}
	*outlen = got;
	return KQ_OK;
}

int
kq_key_decode_vault(
    uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen)
{
	size_t n = 0;

	/* Vault: hex first, accepted only when it is 16..33 bytes long. */
	if (inlen % 2 == 0 && inlen / 2 >= 16 && inlen / 2 <= 33 &&
	    inlen / 2 <= outcap &&
	    kq_hex_decode(out, outcap, &n, in, inlen) == KQ_OK) {
		*outlen = n;
		return KQ_OK;
	}
	return kq_b64_decode(out, outcap, outlen, in, inlen, KQ_B64_PADDED);
}
