/*
 * keyquorum: private to hsm/.  The structures behind the opaque handles of
 * hsm.h and the helpers the hsm/ sources files share.  Includes p11-kit's
 * pkcs11.h (CRYPTOKI_COMPAT names), which no public header may.
 */
#ifndef KQ_HSM_P11_INT_H
#define KQ_HSM_P11_INT_H

#define CRYPTOKI_COMPAT 1
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include <openssl/evp.h>
#include <stdarg.h>

#include "hsm/hsm.h"

struct hsm_ctx {
	void *dl;
	CK_FUNCTION_LIST *f;
	int initialized; /* we called C_Initialize and must finalise */
	char *path;
	char detail[512];
};

struct hsm_session {
	struct hsm_ctx *c;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE h;
	int logged_in;
	char label[33];
	CK_TOKEN_INFO ti;
};

struct hsm_uri {
	P11KitUri *p;
	char *object; /* NUL-terminated copy of CKA_LABEL */
	int has_token_attrs;
};

struct hsm_pubkey {
	EVP_PKEY *pkey;
	enum hsm_key_type type;
	unsigned bits;
	uint8_t *spki;
	size_t spki_len;
	uint8_t fp[HSM_FP_LEN];
};

/* The one map from CK_RV to kq_err. */
int p11_rv_err(CK_RV rv);
/* The one map from CK_RV to words. */
const char *p11_rv_words(CK_RV rv);

/* Set c->detail (printf-like).  Returns nothing; c may be NULL. */
void p11_detail(struct hsm_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Record a failed call: detail "<what>: <words>", returns p11_rv_err(rv). */
int p11_fail(struct hsm_ctx *c, const char *what, CK_RV rv);

/*
 * Find objects matching tmpl (at most max handles).  KQ_OK with *n set,
 * or the mapped error.
 */
int p11_find(struct hsm_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG tn,
    CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *n);
/*
 * Read one attribute into a malloc'd buffer (*out, *len).  KQ_ERR_NOT_FOUND
 * when the object has no such attribute or it is sensitive.
 */
int p11_attr(struct hsm_session *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
    uint8_t **out, size_t *len);
int p11_attr_ulong(struct hsm_session *s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE t, CK_ULONG *out);

/* The public key object (or certificate) for a key id/label on s. */
int p11_pubkey_from_object(struct hsm_session *s, CK_OBJECT_HANDLE o,
    CK_OBJECT_CLASS cls, struct hsm_pubkey **out);
/* Build a pubkey from an EVP_PKEY (takes ownership on success). */
int p11_pubkey_from_evp(EVP_PKEY *pk, struct hsm_pubkey **out);

/* Fill a template from the URI's object/id: returns the number used. */
CK_ULONG p11_uri_object_tmpl(
    const struct hsm_uri *u, CK_ATTRIBUTE *t, CK_ULONG max);

/* Token info of the session's slot, fresh. */
int p11_token_info(struct hsm_session *s, CK_TOKEN_INFO *ti);

/* The CKA_ID of the public key or certificate the URI names (malloc'd). */
int p11_pub_id(struct hsm_session *s, const struct hsm_uri *uri, uint8_t **id,
    size_t *len);

/* OAEP-SHA256 removal after raw RSA (hsm/oaep.c).  KQ_ERR_INTEGRITY. */
int p11_oaep_sha256_unpad(
    const uint8_t *em, size_t emlen, uint8_t *out, size_t cap, size_t *outlen);

#endif
