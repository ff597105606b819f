/*
 * keyquorum: HSM symmetric operations and data objects, in raw PKCS#11
 * (libp11 has neither): a non-extractable AES-256 key, AES-GCM inside the
 * HSM, private CKO_DATA objects.
 */
#include "hsm/p11_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"

#define GCM_IV 12
#define GCM_TAG 16
#define SYM_MAX (64 * 1024)
#define DATA_MAX (64 * 1024)

/* The one object of class cls labelled label; KQ_ERR_NOT_FOUND if none. */
static int
find_labelled(struct hsm_session *s, CK_OBJECT_CLASS cls, const char *label,
    CK_OBJECT_HANDLE *o)
{
	int r;
	CK_ATTRIBUTE t[2] = {{CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_LABEL, (void *)(uintptr_t)label, strlen(label)}};
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0;

	if ((r = p11_find(s, t, 2, h, 2, &n)) != KQ_OK)
		return r;
	if (n == 0) {
		p11_detail(s->c,
		    "token \"%s\" has no object labelled \"%s\" "
		    "(logged in?)",
		    s->label, label);
		return KQ_ERR_NOT_FOUND;
	}
	if (n > 1) {
		p11_detail(s->c,
		    "token \"%s\" has several objects labelled "
		    "\"%s\"",
		    s->label, label);
		return KQ_ERR_TOKEN_AMBIGUOUS;
	}
	*o = h[0];
	return KQ_OK;
}

int
hsm_aes_keygen(struct hsm_session *s, const char *label)
{
	CK_OBJECT_HANDLE o;
	CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_KEY_TYPE, &kt, sizeof(kt)}, {CKA_VALUE_LEN, &len, sizeof(len)},
	    {CKA_TOKEN, &yes, sizeof(yes)}, {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_SENSITIVE, &yes, sizeof(yes)},
	    {CKA_EXTRACTABLE, &no, sizeof(no)},
	    {CKA_ENCRYPT, &yes, sizeof(yes)}, {CKA_DECRYPT, &yes, sizeof(yes)},
	    {CKA_WRAP, &no, sizeof(no)}, {CKA_UNWRAP, &no, sizeof(no)},
	    {CKA_LABEL, (void *)(uintptr_t)label, strlen(label)}};
	CK_BBOOL ext = CK_TRUE, sens = CK_FALSE;
	CK_ATTRIBUTE chk[2] = {{CKA_EXTRACTABLE, &ext, sizeof(ext)},
	    {CKA_SENSITIVE, &sens, sizeof(sens)}};
	CK_RV rv;
	int r;

	r = find_labelled(s, CKO_SECRET_KEY, label, &o);
	if (r == KQ_OK || r == KQ_ERR_TOKEN_AMBIGUOUS) {
		p11_detail(s->c,
		    "token \"%s\" already has a secret key "
		    "labelled \"%s\"",
		    s->label, label);
		return KQ_ERR_EXISTS;
	}
	if (r != KQ_ERR_NOT_FOUND)
		return r;
	rv = s->c->f->C_GenerateKey(s->h, &m, t, sizeof(t) / sizeof(t[0]), &o);
	if (rv != CKR_OK)
		return p11_fail(s->c, "generating the AES key", rv);
	/* Verify what was made: a key that can never leave the HSM. */
	rv = s->c->f->C_GetAttributeValue(s->h, o, chk, 2);
	if (rv != CKR_OK || ext != CK_FALSE || sens != CK_TRUE) {
		(void)s->c->f->C_DestroyObject(s->h, o);
		p11_detail(s->c,
		    "the HSM made an extractable or non-sensitive "
		    "AES key; it was destroyed");
		return KQ_ERR_TOKEN;
	}
	return KQ_OK;
}

int
hsm_aes_gcm_encrypt(struct hsm_session *s, const char *label,
    const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
    uint8_t **out, size_t *out_len)
{
	int r;
	CK_OBJECT_HANDLE k;
	uint8_t *buf = NULL;
	CK_GCM_PARAMS gp;
	CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof(gp)};
	CK_ULONG clen;
	CK_RV rv;

	if (pt_len > SYM_MAX) {
		r = KQ_ERR_TOO_LONG;
		goto out;
	}
	if ((r = find_labelled(s, CKO_SECRET_KEY, label, &k)) != KQ_OK)
		goto out;
	if ((buf = malloc(GCM_IV + pt_len + GCM_TAG)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	if ((r = kq_random(buf, GCM_IV)) != KQ_OK)
		goto out;
	memset(&gp, 0, sizeof(gp));
	gp.pIv = buf;
	gp.ulIvLen = GCM_IV;
	gp.ulIvBits = GCM_IV * 8;
	gp.pAAD = (CK_BYTE *)(uintptr_t)aad;
	gp.ulAADLen = aad_len;
	gp.ulTagBits = GCM_TAG * 8;
	if ((rv = s->c->f->C_EncryptInit(s->h, &m, k)) != CKR_OK) {
		r = p11_fail(s->c, "AES-GCM on the token", rv);
		goto out;
	}
	clen = pt_len + GCM_TAG;
	rv = s->c->f->C_Encrypt(
	    s->h, (CK_BYTE *)(uintptr_t)pt, pt_len, buf + GCM_IV, &clen);
	if (rv != CKR_OK || clen != pt_len + GCM_TAG) {
		r = rv != CKR_OK ? p11_fail(s->c, "AES-GCM on the token", rv)
		                 : KQ_ERR_TOKEN;
		goto out;
	}
	*out = buf;
	*out_len = GCM_IV + clen;
	buf = NULL;
	r = KQ_OK;
out:
	free(buf);
	return r;
}

int
hsm_aes_gcm_decrypt(struct hsm_session *s, const char *label,
    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t in_len,
    struct kq_sbuf **out)
{
	int r;
	CK_OBJECT_HANDLE k;
	CK_GCM_PARAMS gp;
	CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof(gp)};
	struct kq_sbuf *res = NULL;
	uint8_t *p = NULL;
	CK_ULONG plen;
	CK_RV rv;

	if (in_len < GCM_IV + GCM_TAG || in_len > SYM_MAX + GCM_IV + GCM_TAG) {
		r = KQ_ERR_FORMAT;
		goto out;
	}
	if ((r = find_labelled(s, CKO_SECRET_KEY, label, &k)) != KQ_OK)
		goto out;
	/* SoftHSM writes the whole input length before checking the tag. */
	if ((res = kq_sbuf_new(in_len)) == NULL ||
	    kq_sbuf_reserve(res, in_len, &p) != KQ_OK) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	memset(&gp, 0, sizeof(gp));
	gp.pIv = (CK_BYTE *)(uintptr_t)in;
	gp.ulIvLen = GCM_IV;
	gp.ulIvBits = GCM_IV * 8;
	gp.pAAD = (CK_BYTE *)(uintptr_t)aad;
	gp.ulAADLen = aad_len;
	gp.ulTagBits = GCM_TAG * 8;
	if ((rv = s->c->f->C_DecryptInit(s->h, &m, k)) != CKR_OK) {
		r = p11_fail(s->c, "AES-GCM on the token", rv);
		goto out;
	}
	plen = in_len;
	rv = s->c->f->C_Decrypt(s->h, (CK_BYTE *)(uintptr_t)(in + GCM_IV),
	    in_len - GCM_IV, p, &plen);
	if (rv != CKR_OK) {
		r = p11_fail(s->c, "AES-GCM on the token", rv);
		/* SoftHSM reports a bad tag as CKR_GENERAL_ERROR. */
		if (rv == CKR_GENERAL_ERROR ||
		    rv == CKR_ENCRYPTED_DATA_INVALID ||
		    rv == CKR_FUNCTION_FAILED) {
			p11_detail(s->c,
			    "the HSM-encrypted data fails its "
			    "integrity check");
			r = KQ_ERR_INTEGRITY;
		}
		goto out;
	}
	if (plen != in_len - GCM_IV - GCM_TAG) {
		r = KQ_ERR_INTEGRITY;
		goto out;
	}
	kq_sbuf_truncate(res, plen);
	*out = res;
	res = NULL;
	r = KQ_OK;
out:
	kq_sbuf_free(res);
	return r;
}

int
hsm_data_create(
    struct hsm_session *s, const char *label, const uint8_t *v, size_t n)
{
	CK_OBJECT_HANDLE o;
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static const char app[] = "keyquorum";
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_TOKEN, &yes, sizeof(yes)}, {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_MODIFIABLE, &no, sizeof(no)},
	    {CKA_APPLICATION, (void *)(uintptr_t)app, sizeof(app) - 1},
	    {CKA_LABEL, (void *)(uintptr_t)label, strlen(label)},
	    {CKA_VALUE, (void *)(uintptr_t)v, n}};
	CK_RV rv;
	int r;

	if (n > DATA_MAX)
		return KQ_ERR_TOO_LONG;
	r = find_labelled(s, CKO_DATA, label, &o);
	if (r == KQ_OK || r == KQ_ERR_TOKEN_AMBIGUOUS) {
		p11_detail(s->c,
		    "token \"%s\" already has a data object "
		    "labelled \"%s\"",
		    s->label, label);
		return KQ_ERR_EXISTS;
	}
	if (r != KQ_ERR_NOT_FOUND)
		return r;
	rv = s->c->f->C_CreateObject(s->h, t, sizeof(t) / sizeof(t[0]), &o);
	if (rv != CKR_OK)
		return p11_fail(s->c, "storing the data object", rv);
	return KQ_OK;
}

void
hsm_strings_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
hsm_data_list(struct hsm_session *s, char ***labels, size_t *n)
{
	int r;
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[2] = {
	    {CKA_CLASS, &cls, sizeof(cls)}, {CKA_PRIVATE, &yes, sizeof(yes)}};
	CK_OBJECT_HANDLE h[256];
	CK_ULONG cnt = 0, i;
	char **v = NULL;
	size_t got = 0, len;
	uint8_t *lab;

	if ((r = p11_find(s, t, 2, h, 256, &cnt)) != KQ_OK)
		goto out;
	if ((v = calloc(cnt + 1, sizeof(*v))) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		if (p11_attr(s, h[i], CKA_LABEL, &lab, &len) != KQ_OK)
			continue;
		v[got++] = (char *)lab; /* NUL-terminated by p11_attr */
	}
	*labels = v;
	*n = got;
	v = NULL;
	r = KQ_OK;
out:
	hsm_strings_free(v, got);
	return r;
}

int
hsm_data_read(struct hsm_session *s, const char *label, struct kq_sbuf **out)
{
	int r;
	CK_OBJECT_HANDLE o;
	CK_ATTRIBUTE a = {CKA_VALUE, NULL, 0};
	struct kq_sbuf *b = NULL;
	uint8_t *p;
	CK_RV rv;

	if ((r = find_labelled(s, CKO_DATA, label, &o)) != KQ_OK)
		goto out;
	if ((rv = s->c->f->C_GetAttributeValue(s->h, o, &a, 1)) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
		r = p11_fail(s->c, "reading the data object", rv);
		goto out;
	}
	if (a.ulValueLen > DATA_MAX) {
		r = KQ_ERR_TOO_LONG;
		goto out;
	}
	if ((b = kq_sbuf_new(a.ulValueLen)) == NULL ||
	    kq_sbuf_reserve(b, a.ulValueLen, &p) != KQ_OK) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	a.pValue = p;
	if ((rv = s->c->f->C_GetAttributeValue(s->h, o, &a, 1)) != CKR_OK) {
		r = p11_fail(s->c, "reading the data object", rv);
		goto out;
	}
	*out = b;
	b = NULL;
	r = KQ_OK;
out:
	kq_sbuf_free(b);
	return r;
}

int
hsm_data_delete(struct hsm_session *s, const char *label)
{
	int r;
	CK_OBJECT_HANDLE o;
	CK_RV rv;

	if ((r = find_labelled(s, CKO_DATA, label, &o)) != KQ_OK)
		return r;
	if ((rv = s->c->f->C_DestroyObject(s->h, o)) != CKR_OK)
		return p11_fail(s->c, "deleting the data object", rv);
	return KQ_OK;
}
