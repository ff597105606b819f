/*
 * keyquorum: token public keys, fingerprints, listing sealing keys and
 * generating key pairs on a token.
 */
#include "hsm/p11_int.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"
#include "common/err.h"
#include "common/harden.h"

#define MAX_OBJS 64

/* DER OIDs of the curves, as CKA_EC_PARAMS carries them. */
static const uint8_t oid_p256[] = {
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

const char *
hsm_key_type_name(enum hsm_key_type t)
{
	switch (t) {
	case HSM_KEY_EC_P256:
		return "ec-p256";
	case HSM_KEY_EC_P384:
		return "ec-p384";
	case HSM_KEY_RSA:
		return "rsa";
	}
	return "unknown";
}

void
hsm_pubkey_free(struct hsm_pubkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->spki);
	free(k);
}

enum hsm_key_type
hsm_pubkey_type(const struct hsm_pubkey *k)
{
	return k->type;
}

unsigned
hsm_pubkey_bits(const struct hsm_pubkey *k)
{
	return k->bits;
}

const uint8_t *
hsm_pubkey_fingerprint(const struct hsm_pubkey *k)
{
	return k->fp;
}

const uint8_t *
hsm_pubkey_spki(const struct hsm_pubkey *k, size_t *n)
{
	*n = k->spki_len;
	return k->spki;
}

void
hsm_fingerprint_str(const uint8_t fp[HSM_FP_LEN], char out[HSM_FP_STR_LEN])
{
	memcpy(out, "SHA256:", 7);
	if (kq_b64_encode(out + 7, HSM_FP_STR_LEN - 7, fp, HSM_FP_LEN,
	        KQ_B64_RAW) != KQ_OK)
		out[7] = '\0';
}

int
hsm_fingerprint_parse(const char *s, uint8_t fp[HSM_FP_LEN])
{
	size_t n = 0;

	if (strncmp(s, "SHA256:", 7) != 0)
		return KQ_ERR_ENCODING;
	if (kq_b64_decode(fp, HSM_FP_LEN, &n, s + 7, strlen(s + 7),
	        KQ_B64_RAW) != KQ_OK ||
	    n != HSM_FP_LEN)
		return KQ_ERR_ENCODING;
	return KQ_OK;
}

int
p11_pubkey_from_evp(EVP_PKEY *pk, struct hsm_pubkey **out)
{
	int r = KQ_ERR_KEY_TYPE, len;
	struct hsm_pubkey *k = NULL;
	char grp[64];
	unsigned char *der = NULL;
	unsigned int mdlen = 0;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(
		        pk, OSSL_PKEY_PARAM_GROUP_NAME, grp, sizeof(grp), NULL))
			goto out;
		if (strcmp(grp, "prime256v1") == 0 || strcmp(grp, "P-256") == 0)
			k->type = HSM_KEY_EC_P256;
		else if (strcmp(grp, "secp384r1") == 0 ||
		    strcmp(grp, "P-384") == 0)
			k->type = HSM_KEY_EC_P384;
		else
			goto out;
		break;
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(pk) < 2048)
			goto out;
		k->type = HSM_KEY_RSA;
		break;
	default:
		goto out;
	}
	k->bits = (unsigned)EVP_PKEY_get_bits(pk);
	if ((len = i2d_PUBKEY(pk, &der)) <= 0) {
		r = KQ_ERR_CRYPTO;
		goto out;
	}
	if ((k->spki = malloc((size_t)len)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	memcpy(k->spki, der, (size_t)len);
	k->spki_len = (size_t)len;
	if (!EVP_Digest(
	        k->spki, k->spki_len, k->fp, &mdlen, EVP_sha256(), NULL)) {
		r = KQ_ERR_CRYPTO;
		goto out;
	}
	k->pkey = pk;
	*out = k;
	k = NULL;
	r = KQ_OK;
out:
	OPENSSL_free(der);
	hsm_pubkey_free(k);
	return r;
}

int
hsm_pubkey_from_spki(const uint8_t *der, size_t n, struct hsm_pubkey **out)
{
	const unsigned char *p = der;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)n);
	int r;

	if (pk == NULL || p != der + n) {
		EVP_PKEY_free(pk);
		return KQ_ERR_FORMAT;
	}
	if ((r = p11_pubkey_from_evp(pk, out)) != KQ_OK)
		EVP_PKEY_free(pk);
	return r;
}

/* An EC public key from CKA_EC_PARAMS and CKA_EC_POINT. */
static int
evp_from_ec(const uint8_t *params, size_t plen, const uint8_t *point,
    size_t ptlen, EVP_PKEY **out)
{
	int r = KQ_ERR_KEY_TYPE;
	const char *grp;
	const unsigned char *p = point;
	ASN1_OCTET_STRING *os = NULL;
	const uint8_t *raw = point;
	size_t rawlen = ptlen;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *prm = NULL;
	EVP_PKEY_CTX *pc = NULL;

	if (plen == sizeof(oid_p256) && memcmp(params, oid_p256, plen) == 0)
		grp = "P-256";
	else if (plen == sizeof(oid_p384) &&
	    memcmp(params, oid_p384, plen) == 0)
		grp = "P-384";
	else
		goto out;
	/* CKA_EC_POINT is a DER OCTET STRING; some modules give it raw. */
	if ((os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)ptlen)) != NULL &&
	    p == point + ptlen) {
		raw = ASN1_STRING_get0_data(os);
		rawlen = (size_t)ASN1_STRING_length(os);
	}
	r = KQ_ERR_CRYPTO;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(
	        bld, OSSL_PKEY_PARAM_GROUP_NAME, grp, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(
	        bld, OSSL_PKEY_PARAM_PUB_KEY, raw, rawlen) ||
	    (prm = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pc) <= 0 ||
	    EVP_PKEY_fromdata(pc, out, EVP_PKEY_PUBLIC_KEY, prm) <= 0) {
		r = KQ_ERR_FORMAT;
		goto out;
	}
	r = KQ_OK;
out:
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(prm);
	OSSL_PARAM_BLD_free(bld);
	ASN1_OCTET_STRING_free(os);
	return r;
}

static int
evp_from_rsa(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen,
    EVP_PKEY **out)
{
	int r = KQ_ERR_CRYPTO;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *prm = NULL;
	EVP_PKEY_CTX *pc = NULL;

	if ((bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (be = BN_bin2bn(e, (int)elen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (prm = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pc) <= 0 ||
	    EVP_PKEY_fromdata(pc, out, EVP_PKEY_PUBLIC_KEY, prm) <= 0) {
		r = KQ_ERR_FORMAT;
		goto out;
	}
	r = KQ_OK;
out:
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(prm);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return r;
}

int
p11_pubkey_from_object(struct hsm_session *s, CK_OBJECT_HANDLE o,
    CK_OBJECT_CLASS cls, struct hsm_pubkey **out)
{
	int r;
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	CK_ULONG kt = 0;
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	const unsigned char *p;

	if (cls == CKO_CERTIFICATE) {
		if ((r = p11_attr(s, o, CKA_VALUE, &a, &alen)) != KQ_OK)
			goto out;
		p = a;
		if ((x = d2i_X509(NULL, &p, (long)alen)) == NULL ||
		    (pk = X509_get_pubkey(x)) == NULL) {
			r = KQ_ERR_FORMAT;
			goto out;
		}
	} else {
		if ((r = p11_attr_ulong(s, o, CKA_KEY_TYPE, &kt)) != KQ_OK)
			goto out;
		if (kt == CKK_EC) {
			if ((r = p11_attr(s, o, CKA_EC_PARAMS, &a, &alen)) !=
			        KQ_OK ||
			    (r = p11_attr(s, o, CKA_EC_POINT, &b, &blen)) !=
			        KQ_OK ||
			    (r = evp_from_ec(a, alen, b, blen, &pk)) != KQ_OK)
				goto out;
		} else if (kt == CKK_RSA) {
			if ((r = p11_attr(s, o, CKA_MODULUS, &a, &alen)) !=
			        KQ_OK ||
			    (r = p11_attr(s, o, CKA_PUBLIC_EXPONENT, &b,
			         &blen)) != KQ_OK ||
			    (r = evp_from_rsa(a, alen, b, blen, &pk)) != KQ_OK)
				goto out;
		} else {
			r = KQ_ERR_KEY_TYPE;
			goto out;
		}
	}
	if ((r = p11_pubkey_from_evp(pk, out)) == KQ_OK)
		pk = NULL;
out:
	EVP_PKEY_free(pk);
	X509_free(x);
	free(a);
	free(b);
	return r;
}

/*
 * Find the one public key (or, failing that, certificate) the URI names.
 * *cls tells which was found.
 */
static int
find_pub(struct hsm_session *s, const struct hsm_uri *uri, CK_OBJECT_HANDLE *o,
    CK_OBJECT_CLASS *cls)
{
	static const CK_OBJECT_CLASS classes[2] = {
	    CKO_PUBLIC_KEY, CKO_CERTIFICATE};
	CK_ATTRIBUTE t[3];
	CK_OBJECT_HANDLE h[MAX_OBJS];
	CK_ULONG tn, n = 0;
	int r, i;

	for (i = 0; i < 2; i++) {
		CK_OBJECT_CLASS c = classes[i];

		t[0].type = CKA_CLASS;
		t[0].pValue = &c;
		t[0].ulValueLen = sizeof(c);
		tn = 1 + p11_uri_object_tmpl(uri, t + 1, 2);
		if ((r = p11_find(s, t, tn, h, MAX_OBJS, &n)) != KQ_OK)
			return r;
		if (n > 1) {
			p11_detail(s->c,
			    "%lu keys on token \"%s\" match; name "
			    "one with object= or id=",
			    (unsigned long)n, s->label);
			return KQ_ERR_TOKEN_AMBIGUOUS;
		}
		if (n == 1) {
			*o = h[0];
			*cls = c;
			return KQ_OK;
		}
	}
	p11_detail(s->c,
	    "token \"%s\" has no public key or certificate "
	    "matching the URI",
	    s->label);
	return KQ_ERR_KEY_NOT_FOUND;
}

int
hsm_pubkey_from_token(
    struct hsm_session *s, const struct hsm_uri *uri, struct hsm_pubkey **out)
{
	int r;
	CK_OBJECT_HANDLE o;
	CK_OBJECT_CLASS cls;

	if ((r = find_pub(s, uri, &o, &cls)) != KQ_OK)
		return r;
	r = p11_pubkey_from_object(s, o, cls, out);
	if (r == KQ_ERR_KEY_TYPE)
		p11_detail(s->c,
		    "the key on token \"%s\" is not EC P-256, "
		    "P-384 or RSA of 2048 bits or more",
		    s->label);
	return r;
}

/* The CKA_ID of the public key or certificate the URI names (malloc'd). */
int
p11_pub_id(
    struct hsm_session *s, const struct hsm_uri *uri, uint8_t **id, size_t *len)
{
	int r;
	CK_OBJECT_HANDLE o;
	CK_OBJECT_CLASS cls;

	if ((r = find_pub(s, uri, &o, &cls)) != KQ_OK)
		return r;
	return p11_attr(s, o, CKA_ID, id, len);
}

static int
add_key(struct hsm_session *s, CK_OBJECT_HANDLE o, CK_OBJECT_CLASS cls,
    struct hsm_keyinfo *ki)
{
	int r;
	struct hsm_pubkey *k = NULL;
	uint8_t *lab = NULL, *id = NULL;
	size_t llen = 0, idlen = 0;
	char *uri = NULL;

	if ((r = p11_pubkey_from_object(s, o, cls, &k)) != KQ_OK)
		goto out;
	memset(ki, 0, sizeof(*ki));
	ki->type = k->type;
	ki->bits = k->bits;
	ki->from_cert = cls == CKO_CERTIFICATE;
	hsm_fingerprint_str(k->fp, ki->fingerprint);
	/* No label or id is fine; a label or id that cannot be read is not
	 * (the URI would name another key). */
	if ((r = p11_attr(s, o, CKA_LABEL, &lab, &llen)) == KQ_OK) {
		if (llen >= sizeof(ki->label))
			llen = sizeof(ki->label) - 1;
		memcpy(ki->label, lab, llen);
		ki->label[strnlen(ki->label, llen)] = '\0';
	} else if (r != KQ_ERR_NOT_FOUND)
		goto out;
	if ((r = p11_attr(s, o, CKA_ID, &id, &idlen)) == KQ_OK &&
	    idlen <= sizeof(ki->id)) {
		memcpy(ki->id, id, idlen);
		ki->id_len = idlen;
	} else if (r != KQ_OK && r != KQ_ERR_NOT_FOUND)
		goto out;
	if ((r = hsm_key_uri(s, ki->label, ki->id, ki->id_len, &uri)) != KQ_OK)
		goto out;
	snprintf(ki->uri, sizeof(ki->uri), "%s", uri);
	r = KQ_OK;
out:
	free(uri);
	free(lab);
	free(id);
	hsm_pubkey_free(k);
	return r;
}

/*
 * A key add_key could not list because the token failed (not because the
 * key is of a type or form that cannot seal: those are skipped).
 */
static int
key_unreadable(int r)
{
	return r == KQ_ERR_NOMEM ||
	    (kq_exit_status(r) == KQ_EXIT_TOKEN && r != KQ_ERR_KEY_TYPE);
}

int
hsm_keys(
    struct hsm_ctx *c, unsigned long slot, struct hsm_keyinfo **out, size_t *n)
{
	int r;
	struct hsm_session s;
	CK_OBJECT_CLASS cls;
	CK_ATTRIBUTE t[1] = {{CKA_CLASS, &cls, sizeof(cls)}};
	CK_OBJECT_HANDLE pubs[MAX_OBJS], certs[MAX_OBJS];
	CK_ULONG np = 0, nc = 0, i, j;
	struct hsm_keyinfo *v = NULL;
	size_t cnt = 0;
	CK_RV rv;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.slot = slot;
	if ((rv = c->f->C_GetTokenInfo(slot, &s.ti)) != CKR_OK)
		return p11_fail(c, "reading a token", rv);
	snprintf(s.label, sizeof(s.label), "%.*s",
	    (int)hsm_field_len(s.ti.label, sizeof(s.ti.label)), s.ti.label);
	rv = c->f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s.h);
	if (rv != CKR_OK)
		return p11_fail(c, "opening a session", rv);
	cls = CKO_PUBLIC_KEY;
	if ((r = p11_find(&s, t, 1, pubs, MAX_OBJS, &np)) != KQ_OK)
		goto out;
	cls = CKO_CERTIFICATE;
	if ((r = p11_find(&s, t, 1, certs, MAX_OBJS, &nc)) != KQ_OK)
		goto out;
	if ((v = calloc(np + nc + 1, sizeof(*v))) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < np; i++) {
		if ((r = add_key(&s, pubs[i], CKO_PUBLIC_KEY, &v[cnt])) ==
		    KQ_OK)
			cnt++;
		else if (key_unreadable(r))
			goto out;
	}
	for (i = 0; i < nc; i++) {
		struct hsm_keyinfo ki;
		int dup = 0;

		if ((r = add_key(&s, certs[i], CKO_CERTIFICATE, &ki)) !=
		    KQ_OK) {
			if (key_unreadable(r))
				goto out;
			continue;
		}
		for (j = 0; j < cnt; j++)
			if (strcmp(v[j].fingerprint, ki.fingerprint) == 0)
				dup = 1;
		if (!dup)
			v[cnt++] = ki;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	r = KQ_OK;
out:
	free(v);
	(void)c->f->C_CloseSession(s.h);
	return r;
}

/*
 * Destroy a key pair hsm_keygen made but cannot hand over, adding to the
 * failure's detail either that it was destroyed or, when the token refuses
 * (device gone), that it may remain (label and id, to find and delete it).
 */
static void
keygen_undo(struct hsm_session *s, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv,
    const char *label, const uint8_t kid[16])
{
	CK_RV r1, r2;
	char hex[33], why[512];
	size_t i;

	r1 = s->c->f->C_DestroyObject(s->h, priv);
	r2 = s->c->f->C_DestroyObject(s->h, pub);
	snprintf(why, sizeof(why), "%s",
	    hsm_ctx_detail(s->c)[0] != '\0'
	        ? hsm_ctx_detail(s->c)
	        : "reading the new key pair failed");
	if (r1 == CKR_OK && r2 == CKR_OK) {
		p11_detail(s->c, "%s; the new key pair was destroyed", why);
		return;
	}
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", kid[i]);
	p11_detail(s->c,
	    "%s; destroying the new key pair failed too: a key pair with "
	    "label \"%s\" and id %s may remain on the token (delete it)",
	    why, label, hex);
}

int
hsm_keygen(struct hsm_session *s, const char *type, const char *label,
    struct hsm_pubkey **out, uint8_t id[16])
{
	int r = KQ_ERR_USAGE, ec;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG bits = 0;
	CK_BYTE e65537[] = {0x01, 0x00, 0x01};
	const uint8_t *oid = NULL;
	size_t oidlen = 0;
	uint8_t kid[16];
	CK_MECHANISM m = {0, NULL, 0};
	CK_OBJECT_HANDLE pub = 0, priv = 0;
	CK_ULONG pn = 0, qn = 0;
	CK_ATTRIBUTE pt[8], qt[14];
	CK_BBOOL ext = CK_TRUE, sens = CK_FALSE;
	CK_ATTRIBUTE chk[2] = {{CKA_EXTRACTABLE, &ext, sizeof(ext)},
	    {CKA_SENSITIVE, &sens, sizeof(sens)}};
	CK_RV rv;

	if (strcmp(type, "ec-p256") == 0) {
		oid = oid_p256;
		oidlen = sizeof(oid_p256);
	} else if (strcmp(type, "ec-p384") == 0) {
		oid = oid_p384;
		oidlen = sizeof(oid_p384);
	} else if (strcmp(type, "rsa-2048") == 0)
		bits = 2048;
	else if (strcmp(type, "rsa-3072") == 0)
		bits = 3072;
	else {
		p11_detail(s->c,
		    "unknown key type \"%s\" (ec-p256, ec-p384, "
		    "rsa-2048, rsa-3072)",
		    type);
		goto out;
	}
	ec = oid != NULL;
	if ((r = kq_random(kid, sizeof(kid))) != KQ_OK)
		goto out;
#define A(arr, cnt, t, p, l)                                                   \
	do {                                                                   \
		arr[cnt].type = (t);                                           \
		arr[cnt].pValue = (void *)(uintptr_t)(p);                      \
		arr[cnt].ulValueLen = (l);                                     \
		cnt++;                                                         \
	} while (0)
	A(pt, pn, CKA_TOKEN, &yes, sizeof(yes));
	A(pt, pn, CKA_PRIVATE, &no, sizeof(no));
	A(pt, pn, CKA_LABEL, label, strlen(label));
	A(pt, pn, CKA_ID, kid, sizeof(kid));
	A(qt, qn, CKA_TOKEN, &yes, sizeof(yes));
	A(qt, qn, CKA_PRIVATE, &yes, sizeof(yes));
	A(qt, qn, CKA_SENSITIVE, &yes, sizeof(yes));
	A(qt, qn, CKA_EXTRACTABLE, &no, sizeof(no));
	A(qt, qn, CKA_LABEL, label, strlen(label));
	A(qt, qn, CKA_ID, kid, sizeof(kid));
	/* A sealing key only: no signatures, no unwrapping. */
	A(qt, qn, CKA_SIGN, &no, sizeof(no));
	A(qt, qn, CKA_UNWRAP, &no, sizeof(no));
	if (ec) {
		m.mechanism = CKM_EC_KEY_PAIR_GEN;
		A(pt, pn, CKA_EC_PARAMS, oid, oidlen);
		A(qt, qn, CKA_DERIVE, &yes, sizeof(yes));
		A(qt, qn, CKA_DECRYPT, &no, sizeof(no));
	} else {
		m.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		A(pt, pn, CKA_MODULUS_BITS, &bits, sizeof(bits));
		A(pt, pn, CKA_PUBLIC_EXPONENT, e65537, sizeof(e65537));
		A(pt, pn, CKA_ENCRYPT, &yes, sizeof(yes));
		A(qt, qn, CKA_DECRYPT, &yes, sizeof(yes));
	}
#undef A
	rv = s->c->f->C_GenerateKeyPair(s->h, &m, pt, pn, qt, qn, &pub, &priv);
	if (rv != CKR_OK) {
		r = p11_fail(s->c, "generating the key pair", rv);
		goto out;
	}
	/* Verify what was made: a private key that can never leave. */
	rv = s->c->f->C_GetAttributeValue(s->h, priv, chk, 2);
	if (rv != CKR_OK) {
		r = p11_fail(s->c, "reading back the new private key", rv);
		goto undo;
	}
	if (ext != CK_FALSE || sens != CK_TRUE) {
		p11_detail(s->c,
		    "the token made an extractable or "
		    "non-sensitive private key");
		r = KQ_ERR_TOKEN;
		goto undo;
	}
	if ((r = p11_pubkey_from_object(s, pub, CKO_PUBLIC_KEY, out)) != KQ_OK)
		goto undo;
	memcpy(id, kid, sizeof(kid));
	goto out;
undo:
	/* Leave no half-made key pair behind: a retry would make a second
	 * one with the same label and later URIs would be ambiguous. */
	keygen_undo(s, pub, priv, label, kid);
out:
	return r;
}
