/*
 * keyquorum: rollback envelopes with the HSM.  The data key is drawn here,
 * encrypted by the HSM's non-extractable AES-256 key (AES-GCM inside the
 * HSM, the header prefix as associated data) and decrypted there again on
 * open.  The caller logs the session in with the quorum's PIN and out
 * again as soon as these return.
 */
#include "ceremony/ceremony.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/cer_int.h"
#include "common/encoding.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"
#include "hsm/hsm.h"

int
envelope_key_new(uint8_t **key)
{
	uint8_t *k;
	int r;

	if ((k = kq_secalloc(ENVELOPE_KEY_LEN)) == NULL)
		return KQ_ERR_NOMEM;
	if ((r = kq_random(k, ENVELOPE_KEY_LEN)) != KQ_OK) {
		kq_secfree(k);
		return r;
	}
	*key = k;
	return KQ_OK;
}

int
envelope_wrap_key(struct hsm_session *s, struct envelope_info *info,
    const uint8_t *key, char *detail)
{
	uint8_t hdr[ENVELOPE_HEADER_MAX], aad[ENVELOPE_HEADER_MAX + 64];
	uint8_t *w = NULL;
	size_t hl, al, wl = 0;
	int r;

	memset(info->wrapped, 0, sizeof(info->wrapped));
	if ((r = envelope_header_encode(info, hdr, sizeof(hdr), &hl)) !=
	    KQ_OK) {
		cer_detail(detail,
		    "the header cannot be encoded (a label over %d bytes or "
		    "with control characters?)",
		    ENVELOPE_STR_MAX);
		return r;
	}
	if ((al = envelope_key_aad(hdr, info->prefix_len, aad, sizeof(aad))) ==
	    0)
		return KQ_ERR_INVALID;
	r = hsm_aes_gcm_encrypt(
	    s, info->key_label, aad, al, key, ENVELOPE_KEY_LEN, &w, &wl);
	if (r != KQ_OK) {
		cer_detail(detail, "the HSM did not encrypt the data key: %s",
		    kq_strerror(r));
		return r;
	}
	if (wl != ENVELOPE_WRAPPED_LEN) {
		free(w);
		cer_detail(detail, "the HSM returned %zu bytes, not %d", wl,
		    ENVELOPE_WRAPPED_LEN);
		return KQ_ERR_TOKEN;
	}
	memcpy(info->wrapped, w, ENVELOPE_WRAPPED_LEN);
	free(w);
	return KQ_OK;
}

int
envelope_unwrap_key(struct hsm_session *s, const uint8_t *hdr,
    const struct envelope_info *info, uint8_t **key, char *detail)
{
	uint8_t aad[ENVELOPE_HEADER_MAX + 64];
	struct kq_sbuf *pt = NULL;
	uint8_t *k = NULL;
	size_t al;
	int r;

	if ((al = envelope_key_aad(hdr, info->prefix_len, aad, sizeof(aad))) ==
	    0)
		return KQ_ERR_INVALID;
	r = hsm_aes_gcm_decrypt(s, info->key_label, aad, al, info->wrapped,
	    ENVELOPE_WRAPPED_LEN, &pt);
	if (r == KQ_ERR_NOT_FOUND) {
		cer_detail(detail,
		    "HSM token \"%s\" has no key labelled \"%s\": the "
		    "envelope was sealed in another HSM (token \"%s\", serial "
		    "%s)",
		    hsm_session_token_label(s), info->key_label,
		    info->token_label, info->token_serial);
		r = KQ_ERR_ENVELOPE_WRONG_HSM;
		goto out;
	}
	if (r == KQ_ERR_INTEGRITY) {
		cer_detail(detail,
		    "the HSM's key \"%s\" does not open the data key: the "
		    "envelope's header or data key was altered, or it was "
		    "sealed under another key of that label (another HSM, or "
		    "the key was replaced)",
		    info->key_label);
		goto out;
	}
	if (r != KQ_OK) {
		cer_detail(detail, "the HSM did not decrypt the data key: %s",
		    kq_strerror(r));
		goto out;
	}
	if (kq_sbuf_len(pt) != ENVELOPE_KEY_LEN) {
		cer_detail(detail, "the data key has the wrong length");
		r = KQ_ERR_INTEGRITY;
		goto out;
	}
	if ((k = kq_secalloc(ENVELOPE_KEY_LEN)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	memcpy(k, kq_sbuf_ptr(pt), ENVELOPE_KEY_LEN);
	*key = k;
	r = KQ_OK;
out:
	kq_sbuf_free(pt);
	return r;
}

void
envelope_id_hex(const uint8_t id[ENVELOPE_ID_LEN], char out[33])
{
	(void)kq_hex_encode(out, 33, id, ENVELOPE_ID_LEN);
}

int
envelope_id_parse(const char *s, uint8_t id[ENVELOPE_ID_LEN])
{
	size_t n;

	if (strlen(s) != ENVELOPE_ID_LEN * 2)
		return KQ_ERR_ENCODING;
	if (kq_hex_decode(id, ENVELOPE_ID_LEN, &n, s, strlen(s)) != KQ_OK ||
	    n != ENVELOPE_ID_LEN)
		return KQ_ERR_ENCODING;
	return KQ_OK;
}

void
envelope_object_label(
    const uint8_t id[ENVELOPE_ID_LEN], int header_only, char *out, size_t cap)
{
	char hex[33];

	envelope_id_hex(id, hex);
	snprintf(out, cap, "%s%s",
	    header_only ? ENVELOPE_PUB_PREFIX : ENVELOPE_OBJ_PREFIX, hex);
}
