/*
 * keyquorum: OAEP (SHA-256, MGF1-SHA-256, empty label) removal after a raw
 * RSA step, for tokens without CKM_RSA_PKCS_OAEP (the documented fallback
 * of docs/sealed-blob.md).  OpenSSL's check is constant-time; it is
 * deprecated in OpenSSL 3 only as part of the low-level RSA API, so this
 * file alone suppresses the deprecation.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#include "hsm/p11_int.h"

int
p11_oaep_sha256_unpad(
    const uint8_t *em, size_t emlen, uint8_t *out, size_t cap, size_t *outlen)
{
	int n;

	/* The whole encoded message: OpenSSL checks its leading 0x00 in
	 * constant time along with the rest. */
	n = RSA_padding_check_PKCS1_OAEP_mgf1(out, (int)cap, em, (int)emlen,
	    (int)emlen, NULL, 0, EVP_sha256(), EVP_sha256());
	if (n < 0)
		return KQ_ERR_INTEGRITY;
	*outlen = (size_t)n;
	return KQ_OK;
}
