/*
 * keyquorum: libsodium's secretstream (XChaCha20-Poly1305), chunk by
 * chunk, faster.  Private to ceremony/ (ceremony/envelope_ss.c; used by
 * envelope_fmt.c and the unit tests).
 *
 * A secretstream chunk of m bytes is, byte for byte, the RFC 8439
 * ChaCha20-Poly1305 AEAD of (tag, 63 zero bytes) || m under the stream's
 * key and 12-byte nonce, whenever m is a multiple of 16 bytes (only then
 * does secretstream's padding after m agree with the AEAD's); the stream
 * keeps the tag byte's ciphertext and drops the other 63.  Such chunks -
 * every whole chunk of an envelope - go through OpenSSL's ChaCha20-Poly1305
 * (several times libsodium 1.0.18's speed on AVX2/AVX-512 CPUs); any other
 * chunk, and everything when OpenSSL lacks the cipher, through libsodium's
 * own push and pull.  The state is libsodium's and stays interchangeable:
 * streams sealed here open with libsodium and the reverse (the unit tests
 * compare both, rekeying and the counter's wrap included).
 */
#ifndef KQ_CEREMONY_ENVELOPE_SS_H
#define KQ_CEREMONY_ENVELOPE_SS_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

struct envelope_ss;

/*
 * A context for one direction (enc: push, else pull).  KQ_OK, or
 * KQ_ERR_NOMEM.  Without OpenSSL's cipher the context only forwards to
 * libsodium.  force_sodium (tests) never uses OpenSSL.
 */
int envelope_ss_new(struct envelope_ss **ss, int enc, int force_sodium);
/* Free (OpenSSL wipes its copy of the key); NULL accepted. */
void envelope_ss_free(struct envelope_ss *ss);

/*
 * crypto_secretstream_xchacha20poly1305_push: out gets mlen + 17 bytes.
 * KQ_OK or KQ_ERR_CRYPTO (OpenSSL failed; the state is unchanged).
 */
int envelope_ss_push(struct envelope_ss *ss,
    crypto_secretstream_xchacha20poly1305_state *st, uint8_t *out,
    const uint8_t *m, size_t mlen, const uint8_t *ad, size_t adlen,
    unsigned char tag);

/*
 * crypto_secretstream_xchacha20poly1305_pull of inlen >= 17 bytes: m gets
 * inlen - 17 bytes and *tag.  KQ_OK, or KQ_ERR_INTEGRITY (the chunk fails
 * authentication: m is wiped and the state unchanged).
 */
int envelope_ss_pull(struct envelope_ss *ss,
    crypto_secretstream_xchacha20poly1305_state *st, uint8_t *m,
    unsigned char *tag, const uint8_t *in, size_t inlen, const uint8_t *ad,
    size_t adlen);

#endif
