/*
 * keyquorum: sealing a payload to a token key (docs/sealed-blob.md).
 *
 * Sealing is software only and needs the public key: EC keys through an
 * ephemeral ECDH key (OpenSSL) and HKDF-SHA256, RSA keys through a random
 * content key wrapped with RSA-OAEP-SHA256; then XChaCha20-Poly1305
 * (libsodium) over the payload with the blob header and the caller's
 * context as associated data.  Unsealing asks the token for the one
 * private-key step (CKM_ECDH1_DERIVE or CKM_RSA_PKCS_OAEP); everything
 * secret it yields stays in secure memory.
 */
#include "hsm/p11_int.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/rsa.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"

#define OFF_FP 8
#define OFF_CTXH 40
#define OFF_KEM 72
#define CK_LEN 32 /* content key */
#define RSA_MIN_CT 256
#define RSA_MAX_CT 1024

static const char ctx_label[] = "keyquorum sealed-blob v1 context";
static const char kdf_label[] = "keyquorum sealed-blob v1 ecdh-es";

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
hsm_blob_context_hash(const uint8_t *ctx, size_t ctx_len, uint8_t h[32])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)ctx_label,
	    sizeof(ctx_label)); /* includes the NUL separator */
	if (ctx_len > 0)
		crypto_hash_sha256_update(&st, ctx, ctx_len);
	crypto_hash_sha256_final(&st, h);
}

int
hsm_blob_parse(const uint8_t *b, size_t n, struct hsm_blob *out)
{
	struct hsm_blob v;
	size_t off, kem_min, kem_max;
	uint32_t ctlen;

	memset(&v, 0, sizeof(v));
	if (n < 6 || memcmp(b, HSM_BLOB_MAGIC, 4) != 0)
		return KQ_ERR_FORMAT;
	v.version = b[4];
	v.alg = b[5];
	if (v.version != HSM_BLOB_VERSION)
		return KQ_ERR_VERSION;
	switch (v.alg) {
	case HSM_BLOB_ALG_ECDH_P256:
		kem_min = kem_max = 65;
		break;
	case HSM_BLOB_ALG_ECDH_P384:
		kem_min = kem_max = 97;
		break;
	case HSM_BLOB_ALG_RSA_OAEP_SHA256:
		kem_min = RSA_MIN_CT;
		kem_max = RSA_MAX_CT;
		break;
	default:
		return KQ_ERR_VERSION;
	}
	if (n <= OFF_KEM)
		return KQ_ERR_FORMAT;
	v.kem_len = (size_t)b[6] << 8 | b[7];
	if (v.kem_len < kem_min || v.kem_len > kem_max)
		return KQ_ERR_FORMAT;
	if (v.alg != HSM_BLOB_ALG_RSA_OAEP_SHA256 && b[OFF_KEM] != 0x04)
		return KQ_ERR_FORMAT;
	v.fingerprint = b + OFF_FP;
	v.context_hash = b + OFF_CTXH;
	v.kem = b + OFF_KEM;
	off = OFF_KEM + v.kem_len;
	if (off > n || n - off < HSM_BLOB_NONCE_LEN + 4)
		return KQ_ERR_FORMAT;
	v.nonce = b + off;
	off += HSM_BLOB_NONCE_LEN;
	ctlen = get32(b + off);
	off += 4;
	if (ctlen < HSM_BLOB_TAG_LEN ||
	    ctlen > HSM_BLOB_MAX_PAYLOAD + HSM_BLOB_TAG_LEN || n - off != ctlen)
		return KQ_ERR_FORMAT;
	v.header_len = off;
	v.ct = b + off;
	v.ct_len = ctlen;
	*out = v;
	return KQ_OK;
}

int
hsm_blob_check(const struct hsm_blob *b, const struct hsm_pubkey *k,
    const uint8_t *ctx, size_t ctx_len)
{
	uint8_t h[32];
	unsigned want;

	if (sodium_memcmp(b->fingerprint, k->fp, HSM_FP_LEN) != 0)
		return KQ_ERR_WRONG_TOKEN;
	want = k->type == HSM_KEY_EC_P256 ? HSM_BLOB_ALG_ECDH_P256
	    : k->type == HSM_KEY_EC_P384  ? HSM_BLOB_ALG_ECDH_P384
	                                  : HSM_BLOB_ALG_RSA_OAEP_SHA256;
	if (b->alg != want)
		return KQ_ERR_INTEGRITY; /* the fingerprint says otherwise */
	hsm_blob_context_hash(ctx, ctx_len, h);
	if (sodium_memcmp(b->context_hash, h, sizeof(h)) != 0)
		return KQ_ERR_CONTEXT;
	return KQ_OK;
}

/* key (32, secure) = HKDF-SHA256(Z; salt = fingerprint;
 * info = kdf_label || alg || ephemeral point). */
static int
kdf(const uint8_t *z, size_t zlen, const uint8_t *fp, unsigned alg,
    const uint8_t *epk, size_t epklen, uint8_t *key)
{
	int r = KQ_ERR_CRYPTO;
	EVP_KDF *k = NULL;
	EVP_KDF_CTX *kc = NULL;
	uint8_t info[sizeof(kdf_label) + 1 + 97];
	size_t il = 0;
	OSSL_PARAM p[5];

	if (epklen > 97)
		return KQ_ERR_INVALID;
	memcpy(info, kdf_label, sizeof(kdf_label));
	il = sizeof(kdf_label);
	info[il++] = (uint8_t)alg;
	memcpy(info + il, epk, epklen);
	il += epklen;
	p[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_KDF_PARAM_DIGEST, (char *)(uintptr_t) "SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)z, zlen);
	p[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_SALT, (void *)(uintptr_t)fp, HSM_FP_LEN);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, il);
	p[4] = OSSL_PARAM_construct_end();
	if ((k = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (kc = EVP_KDF_CTX_new(k)) == NULL ||
	    EVP_KDF_derive(kc, key, CK_LEN, p) <= 0)
		goto out;
	r = KQ_OK;
out:
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(k);
	return r;
}

/* EC: ephemeral key, Z, content key; kem gets the ephemeral point. */
static int
seal_ec(const struct hsm_pubkey *k, unsigned alg, uint8_t *kem, size_t *kemlen,
    uint8_t *key)
{
	int r = KQ_ERR_CRYPTO;
	EVP_PKEY *eph = NULL;
	EVP_PKEY_CTX *dc = NULL;
	uint8_t *z = NULL;
	size_t zlen = 0, plen = 0;

	eph = EVP_PKEY_Q_keygen(
	    NULL, NULL, "EC", k->type == HSM_KEY_EC_P256 ? "P-256" : "P-384");
	if (eph == NULL)
		goto out;
	if (!EVP_PKEY_get_octet_string_param(
	        eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, kem, 97, &plen))
		goto out;
	if ((dc = EVP_PKEY_CTX_new(eph, NULL)) == NULL ||
	    EVP_PKEY_derive_init(dc) <= 0 ||
	    EVP_PKEY_derive_set_peer(dc, k->pkey) <= 0 ||
	    EVP_PKEY_derive(dc, NULL, &zlen) <= 0)
		goto out;
	if ((z = kq_secalloc(zlen)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_derive(dc, z, &zlen) <= 0)
		goto out;
	if ((r = kdf(z, zlen, k->fp, alg, kem, plen, key)) != KQ_OK)
		goto out;
	*kemlen = plen;
	r = KQ_OK;
out:
	kq_secfree(z);
	EVP_PKEY_CTX_free(dc);
	EVP_PKEY_free(eph); /* OpenSSL clears private key material on free */
	return r;
}

static int
seal_rsa(const struct hsm_pubkey *k, uint8_t *kem, size_t *kemlen, uint8_t *key)
{
	int r = KQ_ERR_CRYPTO;
	EVP_PKEY_CTX *pc = NULL;
	size_t outlen = RSA_MAX_CT;

	if ((r = kq_random(key, CK_LEN)) != KQ_OK)
		goto out;
	r = KQ_ERR_CRYPTO;
	if ((pc = EVP_PKEY_CTX_new(k->pkey, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(pc) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) <= 0 ||
	    EVP_PKEY_encrypt(pc, kem, &outlen, key, CK_LEN) <= 0)
		goto out;
	if (outlen < RSA_MIN_CT || outlen > RSA_MAX_CT)
		goto out;
	*kemlen = outlen;
	r = KQ_OK;
out:
	EVP_PKEY_CTX_free(pc);
	return r;
}

/* header || ctx, malloc'd (not secret). */
static uint8_t *
make_ad(const uint8_t *hdr, size_t hlen, const uint8_t *ctx, size_t ctx_len,
    size_t *adlen)
{
	uint8_t *ad = malloc(hlen + ctx_len + 1);

	if (ad == NULL)
		return NULL;
	memcpy(ad, hdr, hlen);
	if (ctx_len > 0)
		memcpy(ad + hlen, ctx, ctx_len);
	*adlen = hlen + ctx_len;
	return ad;
}

int
hsm_seal(const struct hsm_pubkey *k, const uint8_t *ctx, size_t ctx_len,
    const uint8_t *pt, size_t pt_len, uint8_t **blob, size_t *blob_len)
{
	int r;
	uint8_t *key = NULL, *b = NULL, *ad = NULL;
	uint8_t kem[RSA_MAX_CT];
	size_t kemlen = 0, hlen, total, adlen = 0;
	unsigned alg;
	unsigned long long clen = 0;

	if (pt_len > HSM_BLOB_MAX_PAYLOAD) {
		r = KQ_ERR_TOO_LONG;
		goto out;
	}
	if ((key = kq_secalloc(CK_LEN)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	if (k->type == HSM_KEY_RSA) {
		alg = HSM_BLOB_ALG_RSA_OAEP_SHA256;
		r = seal_rsa(k, kem, &kemlen, key);
	} else {
		alg = k->type == HSM_KEY_EC_P256 ? HSM_BLOB_ALG_ECDH_P256
		                                 : HSM_BLOB_ALG_ECDH_P384;
		r = seal_ec(k, alg, kem, &kemlen, key);
	}
	if (r != KQ_OK)
		goto out;
	hlen = OFF_KEM + kemlen + HSM_BLOB_NONCE_LEN + 4;
	total = hlen + pt_len + HSM_BLOB_TAG_LEN;
	if ((b = malloc(total)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	memcpy(b, HSM_BLOB_MAGIC, 4);
	b[4] = HSM_BLOB_VERSION;
	b[5] = (uint8_t)alg;
	b[6] = (uint8_t)(kemlen >> 8);
	b[7] = (uint8_t)kemlen;
	memcpy(b + OFF_FP, k->fp, HSM_FP_LEN);
	hsm_blob_context_hash(ctx, ctx_len, b + OFF_CTXH);
	memcpy(b + OFF_KEM, kem, kemlen);
	randombytes_buf(b + OFF_KEM + kemlen, HSM_BLOB_NONCE_LEN);
	put32(b + hlen - 4, (uint32_t)(pt_len + HSM_BLOB_TAG_LEN));
	if ((ad = make_ad(b, hlen, ctx, ctx_len, &adlen)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(b + hlen, &clen, pt,
	        pt_len, ad, adlen, NULL, b + OFF_KEM + kemlen, key) != 0 ||
	    clen != pt_len + HSM_BLOB_TAG_LEN) {
		r = KQ_ERR_CRYPTO;
		goto out;
	}
	*blob = b;
	*blob_len = total;
	b = NULL;
	r = KQ_OK;
out:
	free(ad);
	free(b);
	kq_secfree(key);
	return r;
}

/* The ephemeral point must be on the curve (checked before the token
 * sees it, so that a modified point is named as such). */
static int
check_point(const struct hsm_blob *b)
{
	int r = KQ_ERR_INTEGRITY;
	OSSL_PARAM p[3];
	EVP_PKEY_CTX *pc = NULL, *vc = NULL;
	EVP_PKEY *pk = NULL;

	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    (char *)(uintptr_t)(b->alg == HSM_BLOB_ALG_ECDH_P256 ? "P-256"
	                                                         : "P-384"),
	    0);
	p[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, (void *)(uintptr_t)b->kem, b->kem_len);
	p[2] = OSSL_PARAM_construct_end();
	if ((pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pc) <= 0 ||
	    EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, p) <= 0 ||
	    (vc = EVP_PKEY_CTX_new(pk, NULL)) == NULL ||
	    EVP_PKEY_public_check(vc) <= 0)
		goto out;
	r = KQ_OK;
out:
	EVP_PKEY_CTX_free(vc);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(pk);
	return r;
}

/* The one private key on s for the URI (by the public key's id first). */
static int
find_priv(struct hsm_session *s, const struct hsm_uri *uri, CK_OBJECT_HANDLE *o)
{
	int r;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[3] = {{CKA_CLASS, &cls, sizeof(cls)}};
	CK_OBJECT_HANDLE h[8];
	CK_ULONG tn = 1, n = 0;
	uint8_t *id = NULL;
	size_t idlen = 0;

	if (p11_pub_id(s, uri, &id, &idlen) == KQ_OK && idlen > 0) {
		t[1].type = CKA_ID;
		t[1].pValue = id;
		t[1].ulValueLen = idlen;
		tn = 2;
	} else
		tn += p11_uri_object_tmpl(uri, t + 1, 2);
	if ((r = p11_find(s, t, tn, h, 8, &n)) != KQ_OK)
		goto out;
	if (n == 0) {
		p11_detail(s->c,
		    "token \"%s\" shows no private key for the "
		    "URI (logged in?)",
		    s->label);
		r = KQ_ERR_KEY_NOT_FOUND;
		goto out;
	}
	if (n > 1) {
		p11_detail(s->c, "several private keys on token \"%s\" match",
		    s->label);
		r = KQ_ERR_TOKEN_AMBIGUOUS;
		goto out;
	}
	*o = h[0];
	r = KQ_OK;
out:
	free(id);
	return r;
}

static int
unseal_ec(struct hsm_session *s, CK_OBJECT_HANDLE priv,
    const struct hsm_blob *b, uint8_t *key)
{
	int r;
	CK_ECDH1_DERIVE_PARAMS dp;
	CK_MECHANISM m;
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_ULONG zlen = b->alg == HSM_BLOB_ALG_ECDH_P256 ? 32 : 48;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	    {CKA_VALUE_LEN, &zlen, sizeof(zlen)}, {CKA_TOKEN, &no, sizeof(no)},
	    {CKA_SENSITIVE, &no, sizeof(no)},
	    {CKA_EXTRACTABLE, &yes, sizeof(yes)}};
	CK_OBJECT_HANDLE zh = 0;
	CK_ATTRIBUTE va = {CKA_VALUE, NULL, 0};
	uint8_t *z = NULL;
	CK_RV rv;

	memset(&dp, 0, sizeof(dp));
	dp.kdf = CKD_NULL;
	dp.pPublicData = (CK_BYTE *)(uintptr_t)b->kem;
	dp.ulPublicDataLen = b->kem_len;
	m.mechanism = CKM_ECDH1_DERIVE;
	m.pParameter = &dp;
	m.ulParameterLen = sizeof(dp);
	rv = s->c->f->C_DeriveKey(
	    s->h, &m, priv, t, sizeof(t) / sizeof(t[0]), &zh);
	if (rv != CKR_OK) {
		r = p11_fail(s->c, "ECDH on the token", rv);
		goto out;
	}
	if ((z = kq_secalloc(zlen)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	va.pValue = z;
	va.ulValueLen = zlen;
	rv = s->c->f->C_GetAttributeValue(s->h, zh, &va, 1);
	if (rv != CKR_OK || va.ulValueLen != zlen) {
		r = rv == CKR_OK
		    ? KQ_ERR_TOKEN
		    : p11_fail(s->c, "reading the ECDH result", rv);
		goto out;
	}
	r = kdf(z, zlen, b->fingerprint, b->alg, b->kem, b->kem_len, key);
out:
	if (zh != 0)
		(void)s->c->f->C_DestroyObject(s->h, zh);
	kq_secfree(z);
	return r;
}

static int
unseal_rsa(struct hsm_session *s, CK_OBJECT_HANDLE priv,
    const struct hsm_blob *b, uint8_t *key)
{
	int r;
	CK_RSA_PKCS_OAEP_PARAMS op = {
	    CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
	CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &op, sizeof(op)};
	CK_MECHANISM raw = {CKM_RSA_X_509, NULL, 0};
	uint8_t *buf = NULL;
	CK_ULONG outlen = RSA_MAX_CT;
	size_t kl = 0;
	CK_RV rv;

	if ((buf = kq_secalloc(RSA_MAX_CT)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	rv = s->c->f->C_DecryptInit(s->h, &m, priv);
	/*
	 * SoftHSM 2.6 lists CKM_RSA_PKCS_OAEP but takes only SHA-1 and says
	 * so with CKR_ARGUMENTS_BAD: treat that as "not supported" too.
	 */
	if (rv == CKR_MECHANISM_INVALID || rv == CKR_MECHANISM_PARAM_INVALID ||
	    rv == CKR_ARGUMENTS_BAD) {
		/*
		 * Documented fallback (docs/sealed-blob.md): a token without
		 * RSA-OAEP does the raw RSA step; OAEP is removed here.
		 */
		rv = s->c->f->C_DecryptInit(s->h, &raw, priv);
		if (rv != CKR_OK) {
			r = p11_fail(s->c, "raw RSA on the token", rv);
			goto out;
		}
		rv = s->c->f->C_Decrypt(s->h, (CK_BYTE *)(uintptr_t)b->kem,
		    b->kem_len, buf, &outlen);
		if (rv != CKR_OK) {
			r = p11_fail(s->c, "raw RSA on the token", rv);
			goto out;
		}
		r = p11_oaep_sha256_unpad(buf, outlen, key, CK_LEN, &kl);
		if (r == KQ_OK && kl != CK_LEN)
			r = KQ_ERR_INTEGRITY;
		if (r == KQ_ERR_INTEGRITY)
			p11_detail(s->c,
			    "the wrapped content key fails its "
			    "OAEP check: the blob was modified");
		goto out;
	}
	if (rv != CKR_OK) {
		r = p11_fail(s->c, "RSA-OAEP on the token", rv);
		goto out;
	}
	rv = s->c->f->C_Decrypt(
	    s->h, (CK_BYTE *)(uintptr_t)b->kem, b->kem_len, buf, &outlen);
	if (rv != CKR_OK) {
		/* A modified wrapped key fails OAEP: SoftHSM says
		 * CKR_GENERAL_ERROR or ENCRYPTED_DATA_INVALID. */
		r = p11_fail(s->c, "RSA-OAEP on the token", rv);
		if (r == KQ_ERR_TOKEN &&
		    (rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED))
			r = KQ_ERR_INTEGRITY;
		goto out;
	}
	if (outlen != CK_LEN) {
		r = KQ_ERR_INTEGRITY;
		goto out;
	}
	memcpy(key, buf, CK_LEN);
	r = KQ_OK;
out:
	kq_secfree(buf);
	return r;
}

int
hsm_unseal(struct hsm_session *s, const struct hsm_uri *uri,
    const uint8_t *blob, size_t blob_len, const uint8_t *ctx, size_t ctx_len,
    struct kq_sbuf **out)
{
	int r;
	struct hsm_blob b;
	struct hsm_pubkey *k = NULL;
	CK_OBJECT_HANDLE priv = 0;
	uint8_t *key = NULL, *ad = NULL, *pt = NULL;
	struct kq_sbuf *res = NULL;
	size_t adlen = 0;
	unsigned long long ptlen = 0;

	if ((r = hsm_blob_parse(blob, blob_len, &b)) != KQ_OK)
		goto out;
	if ((r = hsm_pubkey_from_token(s, uri, &k)) != KQ_OK)
		goto out;
	if ((r = hsm_blob_check(&b, k, ctx, ctx_len)) != KQ_OK)
		goto out;
	if (b.alg != HSM_BLOB_ALG_RSA_OAEP_SHA256 &&
	    (r = check_point(&b)) != KQ_OK) {
		p11_detail(s->c,
		    "the sealed blob's ephemeral key is not on "
		    "the curve: the blob was modified");
		goto out;
	}
	if ((r = find_priv(s, uri, &priv)) != KQ_OK)
		goto out;
	if ((key = kq_secalloc(CK_LEN)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	if (b.alg == HSM_BLOB_ALG_RSA_OAEP_SHA256)
		r = unseal_rsa(s, priv, &b, key);
	else
		r = unseal_ec(s, priv, &b, key);
	if (r != KQ_OK)
		goto out;
	if ((ad = make_ad(blob, b.header_len, ctx, ctx_len, &adlen)) == NULL ||
	    (res = kq_sbuf_new(b.ct_len)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	if ((r = kq_sbuf_reserve(res, b.ct_len - HSM_BLOB_TAG_LEN, &pt)) !=
	    KQ_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptlen, NULL, b.ct,
	        b.ct_len, ad, adlen, b.nonce, key) != 0) {
		p11_detail(s->c, "the sealed blob fails its integrity check");
		r = KQ_ERR_INTEGRITY;
		goto out;
	}
	*out = res;
	res = NULL;
	r = KQ_OK;
out:
	kq_sbuf_free(res);
	free(ad);
	kq_secfree(key);
	hsm_pubkey_free(k);
	return r;
}
