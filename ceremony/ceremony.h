/*
 * keyquorum: the ceremony layer's public header: custody sets, the Vault /
 * OpenBao client, the ceremony engine, rollback envelopes, the transcript,
 * and the generate-root token codec.
 */
#ifndef KQ_CEREMONY_H
#define KQ_CEREMONY_H

#include <stddef.h>
#include <stdint.h>

/* ---- Root token decoding (ceremony/roottoken.c) ------------------------ */

/* Longest root token / OTP handled (OpenBao namespace tokens are 35). */
#define ROOT_TOKEN_MAX 128

/*
 * Decode a generate-root encoded token with its OTP, as
 * `vault operator generate-root -decode` does (VAULT_API.md "Root token and
 * OTP").  otp_length > 0: the encoded token is RawStd base64 of
 * (token XOR otp) and must decode to exactly otp_length bytes; otp_length
 * == 0 (legacy, Vault < 0.11): both are padded base64 of 16 bytes and the
 * XOR is printed as a lowercase UUID.  otp_length < 0: detect from the OTP
 * (16-byte padded base64 -> legacy, otherwise its length).
 *
 * token (cap >= ROOT_TOKEN_MAX + 1, secure memory) receives the
 * NUL-terminated token and *token_len its length.  Returns KQ_OK,
 * KQ_ERR_ENCODING (not base64 of the right variant), KQ_ERR_OTP (lengths
 * do not fit, or the OTP has characters no OTP has, or the result is not a
 * printable token), KQ_ERR_TOO_LONG.  Constant time in the token and OTP
 * bytes except for their lengths.  token is wiped on failure.
 */
int root_token_decode(const char *encoded, size_t encoded_len, const char *otp,
    size_t otp_len, int otp_length, char *token, size_t cap,
    size_t *token_len);

#endif
