/*
 * keyquorum: secretstream chunks through OpenSSL's ChaCha20-Poly1305 where
 * that gives the same bytes (ceremony/envelope_ss.h says when and why).
 */
#include "ceremony/envelope_ss.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/secmem.h"

#define SS_BLOCK 64 /* the tag's ChaCha20 block */
#define SS_MAC 16
#define SS_COUNTER 4 /* the nonce: counter (LE), then the inner nonce */
#define SS_INONCE 8

_Static_assert(
    sizeof(((crypto_secretstream_xchacha20poly1305_state *)0)->k) == 32,
    "secretstream key");
_Static_assert(
    sizeof(((crypto_secretstream_xchacha20poly1305_state *)0)->nonce) ==
        SS_COUNTER + SS_INONCE,
    "secretstream nonce");

struct envelope_ss {
	EVP_CIPHER *cipher; /* NULL: libsodium only */
	EVP_CIPHER_CTX *ctx;
	int enc;
};

int
envelope_ss_new(struct envelope_ss **out, int enc, int force_sodium)
{
	struct envelope_ss *ss;

	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return KQ_ERR_NOMEM;
	ss->enc = enc;
	if (!force_sodium &&
	    (ss->cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL)) !=
	        NULL &&
	    ((ss->ctx = EVP_CIPHER_CTX_new()) == NULL ||
	        EVP_CipherInit_ex(ss->ctx, ss->cipher, NULL, NULL, NULL, enc) !=
	            1)) {
		EVP_CIPHER_CTX_free(ss->ctx);
		EVP_CIPHER_free(ss->cipher);
		ss->ctx = NULL;
		ss->cipher = NULL;
	}
	*out = ss;
	return KQ_OK;
}

void
envelope_ss_free(struct envelope_ss *ss)
{
	if (ss == NULL)
		return;
	EVP_CIPHER_CTX_free(ss->ctx);
	EVP_CIPHER_free(ss->cipher);
	free(ss);
}

/* What push and pull do to the state after a chunk with this MAC. */
static void
ss_next(crypto_secretstream_xchacha20poly1305_state *st,
    const uint8_t mac[SS_MAC], unsigned char tag)
{
	size_t i;

	for (i = 0; i < SS_INONCE; i++)
		st->nonce[SS_COUNTER + i] ^= mac[i];
	sodium_increment(st->nonce, SS_COUNTER);
	if ((tag & crypto_secretstream_xchacha20poly1305_TAG_REKEY) != 0 ||
	    sodium_is_zero(st->nonce, SS_COUNTER))
		crypto_secretstream_xchacha20poly1305_rekey(st);
}

/* OpenSSL does this chunk when it has the cipher and m fills 16s. */
static int
ss_fast(const struct envelope_ss *ss, size_t mlen)
{
	return ss->ctx != NULL && mlen % 16 == 0 && mlen <= INT32_MAX - 64;
}

int
envelope_ss_push(struct envelope_ss *ss,
    crypto_secretstream_xchacha20poly1305_state *st, uint8_t *out,
    const uint8_t *m, size_t mlen, const uint8_t *ad, size_t adlen,
    unsigned char tag)
{
	uint8_t blk[SS_BLOCK], cblk[SS_BLOCK], *mac = out + 1 + mlen;
	int l, r = KQ_ERR_CRYPTO;

	if (!ss_fast(ss, mlen) || adlen > INT32_MAX) {
		crypto_secretstream_xchacha20poly1305_push(
		    st, out, NULL, m, mlen, ad, adlen, tag);
		return KQ_OK;
	}
	memset(blk, 0, sizeof(blk));
	blk[0] = tag;
	if (EVP_CipherInit_ex(ss->ctx, NULL, NULL, st->k, st->nonce, 1) != 1 ||
	    (adlen > 0 &&
	        EVP_EncryptUpdate(ss->ctx, NULL, &l, ad, (int)adlen) != 1) ||
	    EVP_EncryptUpdate(ss->ctx, cblk, &l, blk, SS_BLOCK) != 1 ||
	    (mlen > 0 &&
	        EVP_EncryptUpdate(ss->ctx, out + 1, &l, m, (int)mlen) != 1) ||
	    EVP_EncryptFinal_ex(ss->ctx, mac, &l) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ss->ctx, EVP_CTRL_AEAD_GET_TAG, SS_MAC, mac) !=
	        1)
		goto out;
	out[0] = cblk[0];
	ss_next(st, mac, tag);
	r = KQ_OK;
out:
	kq_wipe(cblk, sizeof(cblk));
	return r;
}

int
envelope_ss_pull(struct envelope_ss *ss,
    crypto_secretstream_xchacha20poly1305_state *st, uint8_t *m,
    unsigned char *tag, const uint8_t *in, size_t inlen, const uint8_t *ad,
    size_t adlen)
{
	uint8_t blk[SS_BLOCK], pblk[SS_BLOCK], mac[SS_MAC];
	size_t mlen;
	int l, r = KQ_ERR_INTEGRITY;

	if (inlen < crypto_secretstream_xchacha20poly1305_ABYTES)
		return KQ_ERR_INTEGRITY;
	mlen = inlen - crypto_secretstream_xchacha20poly1305_ABYTES;
	if (!ss_fast(ss, mlen) || adlen > INT32_MAX)
		return crypto_secretstream_xchacha20poly1305_pull(
		           st, m, NULL, tag, in, inlen, ad, adlen) == 0
		    ? KQ_OK
		    : KQ_ERR_INTEGRITY;
	/*
	 * The AEAD's ciphertext of the tag block: the stored tag byte, then
	 * the keystream of block 1 (the plaintext there is zeros).
	 */
	memset(blk, 0, sizeof(blk));
	crypto_stream_chacha20_ietf_xor_ic(
	    blk, blk, sizeof(blk), st->nonce, 1, st->k);
	blk[0] = in[0];
	memcpy(mac, in + 1 + mlen, SS_MAC);
	if (EVP_CipherInit_ex(ss->ctx, NULL, NULL, st->k, st->nonce, 0) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ss->ctx, EVP_CTRL_AEAD_SET_TAG, SS_MAC, mac) !=
	        1 ||
	    (adlen > 0 &&
	        EVP_DecryptUpdate(ss->ctx, NULL, &l, ad, (int)adlen) != 1) ||
	    EVP_DecryptUpdate(ss->ctx, pblk, &l, blk, SS_BLOCK) != 1 ||
	    (mlen > 0 &&
	        EVP_DecryptUpdate(ss->ctx, m, &l, in + 1, (int)mlen) != 1) ||
	    EVP_DecryptFinal_ex(ss->ctx, pblk + 1, &l) != 1) {
		kq_wipe(m, mlen); /* decrypted before it was checked */
		goto out;
	}
	*tag = pblk[0];
	ss_next(st, mac, pblk[0]);
	r = KQ_OK;
out:
	kq_wipe(blk, sizeof(blk));
	kq_wipe(pblk, sizeof(pblk));
	return r;
}
