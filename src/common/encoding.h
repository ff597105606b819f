/*
 * keyquorum: constant-time hex and base64 codecs of our own.  libsodium
 * 1.0.18's run at ~100 MB/s, which made whole-process split and combine of
 * large secrets codec-bound, and its sodium_base642bin branches on the data
 * (ct-encoding.sh keeps it as a negative control).  No branch and no memory
 * index depends on a data byte, only on lengths (src/common/encoding*.c;
 * checked under valgrind by tests/integration/ct-encoding.sh).  Behaviour
 * matches libsodium's strict variants, except that bytes 0x80-0xff are
 * refused in base64 text (libsodium 1.0.18 reads them as '/').  Every
 * function writes a NUL-terminated string when encoding and never writes
 * past the capacity it is given.
 */
#ifndef KQ_COMMON_ENCODING_H
#define KQ_COMMON_ENCODING_H

#include <stddef.h>
#include <stdint.h>

enum kq_b64 {
	KQ_B64_PADDED, /* standard alphabet, '=' padding (Go StdEncoding) */
	KQ_B64_RAW, /* standard alphabet, no padding (Go RawStdEncoding) */
};

/* Characters of the encoding of n bytes, plus one for the NUL. */
size_t kq_hex_encoded_size(size_t n);
size_t kq_b64_encoded_size(size_t n, enum kq_b64 v);

/* Lower-case hex.  KQ_OK or KQ_ERR_INVALID when out is too small. */
int kq_hex_encode(char *out, size_t outcap, const uint8_t *in, size_t n);

/*
 * Decode exactly inlen characters of hex (either case; nothing else
 * allowed, even length required).  *outlen gets the byte count.
 * KQ_OK, KQ_ERR_ENCODING, KQ_ERR_TOO_LONG (out too small).  On failure out
 * is wiped.
 */
int kq_hex_decode(
    uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen);

int kq_b64_encode(
    char *out, size_t outcap, const uint8_t *in, size_t n, enum kq_b64 v);

/*
 * Decode exactly inlen characters of base64 in variant v: padding is
 * required for KQ_B64_PADDED and refused for KQ_B64_RAW; no whitespace.
 * Same returns as kq_hex_decode.
 */
int kq_b64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in,
    size_t inlen, enum kq_b64 v);

/*
 * Decode a key as Vault does: hex first, accepted only if it decodes to
 * 16..33 bytes; otherwise padded standard base64.  Used by combine's
 * `--in auto`.  Same returns.
 */
int kq_key_decode_vault(
    uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen);

#endif
