/*
 * keyquorum: the token layer.  PKCS#11 modules, RFC 7512 URIs, PIN sources
 * and login, sealing a payload to a token key, HSM AES keys and data
 * objects.  The one public header of hsm/.
 *
 * Every function returns KQ_OK or a negative kq_err code (src/common/err.h)
 * and fills its out-parameters only on success.  Nothing here prints or
 * exits: a failing call may leave a sentence for a person in
 * hsm_ctx_detail() (never a secret; token text fields trimmed).
 *
 * PKCS#11 types are kept out of this header on purpose (p11-kit's pkcs11.h
 * defines macros such as `value` and `count`): slot ids and flags travel as
 * unsigned long, the flag bits below are the PKCS#11 ones.
 */
#ifndef KQ_HSM_HSM_H
#define KQ_HSM_HSM_H

#include <stddef.h>
#include <stdint.h>

#include "hsm/pcsc.h"

struct kq_sbuf;

/* The default module: p11-kit's proxy, which sees every registered module. */
#define HSM_DEFAULT_MODULE "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"

/*
 * Tests only: when this variable is "1", a URI may carry pin-value.
 * Otherwise pin-value is refused with KQ_ERR_PIN_VALUE_REFUSED.
 */
#define HSM_ENV_ALLOW_PIN_VALUE "KEYQUORUM_TEST_ALLOW_PIN_VALUE"

/* Token flags (CK_TOKEN_INFO.flags), as in PKCS#11. */
#define HSM_TF_LOGIN_REQUIRED 0x00000004UL
#define HSM_TF_USER_PIN_INITIALIZED 0x00000008UL
#define HSM_TF_PROTECTED_AUTH_PATH 0x00000100UL
#define HSM_TF_TOKEN_INITIALIZED 0x00000400UL
#define HSM_TF_USER_PIN_COUNT_LOW 0x00010000UL
#define HSM_TF_USER_PIN_FINAL_TRY 0x00020000UL
#define HSM_TF_USER_PIN_LOCKED 0x00040000UL
#define HSM_TF_USER_PIN_TO_BE_CHANGED 0x00080000UL

/* SHA-256 of the DER SubjectPublicKeyInfo. */
#define HSM_FP_LEN 32
/* "SHA256:" + unpadded standard base64 of the 32 bytes (50 characters),
 * NUL, room to spare. */
#define HSM_FP_STR_LEN 52

struct hsm_uri;
struct hsm_ctx;
struct hsm_session;
struct hsm_pubkey;

/* ---- URIs (RFC 7512, parsed by p11-kit) ---------------------------------- */

/*
 * Parse a pkcs11: URI.  Unknown attributes, unknown query attributes and
 * malformed values are KQ_ERR_URI with the offending attribute named in
 * why (may be NULL); pin-value is KQ_ERR_PIN_VALUE_REFUSED unless
 * HSM_ENV_ALLOW_PIN_VALUE is "1".  *out owned by the caller.
 */
int hsm_uri_parse(
    const char *s, struct hsm_uri **out, char *why, size_t whylen);
void hsm_uri_free(struct hsm_uri *u);

/* Attribute accessors; NULL when absent.  Strings owned by u. */
const char *hsm_uri_module_path(const struct hsm_uri *u);
const char *hsm_uri_module_name(const struct hsm_uri *u);
const char *hsm_uri_pin_source(const struct hsm_uri *u);
/* Object label (object=), NUL-terminated; NULL when absent. */
const char *hsm_uri_object(const struct hsm_uri *u);
/* Object id (id=); NULL when absent. */
const uint8_t *hsm_uri_id(const struct hsm_uri *u, size_t *len);
/* True when the URI names a token attribute (token, serial, ...). */
int hsm_uri_has_token_attrs(const struct hsm_uri *u);

/* ---- Modules ------------------------------------------------------------- */

/*
 * Load and initialise a PKCS#11 module: module_path when not NULL, else the
 * URI's module-path, else the registered p11-kit module named by the URI's
 * module-name, else HSM_DEFAULT_MODULE.  The module must export
 * C_GetFunctionList.  KQ_OK, KQ_ERR_MODULE, KQ_ERR_NOMEM; on failure why
 * (may be NULL) gets a sentence.
 */
int hsm_ctx_open(const char *module_path, const struct hsm_uri *uri,
    struct hsm_ctx **out, char *why, size_t whylen);
/* Finalise and unload; NULL accepted. */
void hsm_ctx_close(struct hsm_ctx *c);
/* The module's path. */
const char *hsm_ctx_module(const struct hsm_ctx *c);
/* A sentence about the last failure on c (empty when none). */
const char *hsm_ctx_detail(const struct hsm_ctx *c);

/* ---- Listing ------------------------------------------------------------- */

/*
 * One slot.  Text fields are PKCS#11's: fixed width, space padded, not
 * NUL-terminated.  Print them with "%.*s" and hsm_field_len().
 */
struct hsm_slot {
	unsigned long id;
	unsigned char description[64];
	unsigned char manufacturer[32];
	unsigned long slot_flags;
	int token_present;
	/* valid when token_present */
	unsigned char label[32];
	unsigned char token_manufacturer[32];
	unsigned char model[16];
	unsigned char serial[16];
	unsigned long token_flags;
};

/* Length of a space-padded field without its padding. */
size_t hsm_field_len(const unsigned char *f, size_t width);

/*
 * Every slot of the module.  *out is a calloc'd array of *n entries (free
 * with free()).  KQ_OK, KQ_ERR_MODULE, KQ_ERR_TOKEN, KQ_ERR_NOMEM.
 */
int hsm_slots(struct hsm_ctx *c, struct hsm_slot **out, size_t *n);

/* A key on a token usable for sealing. */
enum hsm_key_type {
	HSM_KEY_EC_P256 = 1,
	HSM_KEY_EC_P384 = 2,
	HSM_KEY_RSA = 3,
};

struct hsm_keyinfo {
	enum hsm_key_type type;
	unsigned bits;
	char label[128]; /* NUL-terminated (CKA_LABEL, may be empty) */
	uint8_t id[64];
	size_t id_len;
	int from_cert; /* the public key came from a certificate */
	char fingerprint[HSM_FP_STR_LEN];
	char uri[512]; /* token + object + id + type=private */
};

/*
 * The sealing keys of the token in slot: public key objects, or
 * certificates where no public key object has the same id.  No login.
 * *out calloc'd, free with free().  Keys of unusable types are skipped.
 */
int hsm_keys(
    struct hsm_ctx *c, unsigned long slot, struct hsm_keyinfo **out, size_t *n);

/* "ec-p256", "ec-p384", "rsa". */
const char *hsm_key_type_name(enum hsm_key_type t);

/* ---- Sessions and login -------------------------------------------------- */

/*
 * Open a session on the one token the URI matches (a NULL URI or one
 * without token attributes matches every token; it must be the only one).
 * KQ_ERR_TOKEN_NOT_FOUND, KQ_ERR_TOKEN_AMBIGUOUS, KQ_ERR_URI (the URI
 * carries an attribute p11-kit did not recognise), KQ_ERR_TOKEN_REMOVED,
 * KQ_ERR_TOKEN.
 */
int hsm_session_open(struct hsm_ctx *c, const struct hsm_uri *uri, int rw,
    struct hsm_session **out);
/*
 * The common path of a verb: parse uri_str, load the module (module, else
 * the URI's), open a session on the one matching token.  On failure why
 * gets a sentence and nothing is left open.  Close with hsm_close.
 */
int hsm_open(const char *module, const char *uri_str, int rw,
    struct hsm_uri **u, struct hsm_ctx **c, struct hsm_session **s, char *why,
    size_t whylen);
/* hsm_session_close, hsm_ctx_close, hsm_uri_free; NULLs accepted. */
void hsm_close(struct hsm_uri *u, struct hsm_ctx *c, struct hsm_session *s);

/* Log out (when logged in) and close; NULL accepted. */
void hsm_session_close(struct hsm_session *s);
/* The token's label, trimmed, NUL-terminated. */
const char *hsm_session_token_label(const struct hsm_session *s);

struct hsm_login_opts {
	int allow_final_try; /* spend a final PIN try (--allow-final-try) */
	int no_tty; /* never prompt on the terminal */
	/*
	 * Ask through a pinentry program (docs/pinentry.md).  NULL: no
	 * pinentry.  "": the program $KEYQUORUM_PINENTRY names, else
	 * "pinentry" on PATH.  Otherwise a path, or a name looked up on PATH.
	 */
	const char *pinentry;
	/* Whose PIN, shown by pinentry ("holder alice"); NULL: not shown. */
	const char *who;
	/*
	 * Called just before a login through the reader's PIN pad (the token
	 * has CKF_PROTECTED_AUTHENTICATION_PATH and no PIN came from a
	 * source), with the token's label: the caller tells the holder to
	 * type on the pad.  NULL: nothing is said.
	 */
	void (*on_pinpad)(const void *arg, const char *token_label);
	const void *on_pinpad_arg;
};

/*
 * Log in as the user.  Reads the token's PIN flags first: a locked PIN is
 * KQ_ERR_PIN_LOCKED, a final try without allow_final_try
 * KQ_ERR_PIN_FINAL_TRY.  The PIN comes, in this order, from the URI's
 * pin-source (a file of mode 0600 or stricter, first line; or fd:N), its
 * pin-value (tests only), the reader's PIN pad
 * (CKF_PROTECTED_AUTHENTICATION_PATH), a pinentry program (when
 * o->pinentry is set, even with no_tty: pinentry may be graphical), or the
 * terminal.  After a wrong PIN (KQ_ERR_PIN_INCORRECT) the detail says
 * what the token reports now about the tries left.  Through pinentry a
 * wrong or empty PIN is asked again with the error shown, 3 asks in all,
 * never into a final try without allow_final_try and never once locked;
 * cancelling is KQ_ERR_PIN_CANCELLED, a pinentry that cannot start or
 * fails KQ_ERR_PINENTRY with the program named in the detail.  The PIN
 * lives in secure memory and is wiped right after C_Login.
 */
int hsm_session_login(struct hsm_session *s, const struct hsm_uri *uri,
    const struct hsm_login_opts *o);

/*
 * Read a PIN from a pin-source value ("fd:N" or a file path).  Files that
 * group or others may read or write are refused (KQ_ERR_PIN_SOURCE).
 * KQ_OK with *out in secure memory, KQ_ERR_PIN_SOURCE, KQ_ERR_PERM, KQ_ERR_IO.
 */
int hsm_pin_from_source(
    const char *src, struct kq_sbuf **out, char *why, size_t whylen);

/* ---- Public keys and fingerprints ---------------------------------------- */

/*
 * The public key of the key the URI names on the session's token (object
 * and/or id; type ignored): its public key object, or its certificate.
 * No login.  KQ_ERR_KEY_NOT_FOUND, KQ_ERR_TOKEN_AMBIGUOUS (several keys
 * match), KQ_ERR_KEY_TYPE (not EC P-256/P-384 or RSA >= 2048).
 */
int hsm_pubkey_from_token(
    struct hsm_session *s, const struct hsm_uri *uri, struct hsm_pubkey **out);
/* From a DER SubjectPublicKeyInfo.  KQ_ERR_FORMAT, KQ_ERR_KEY_TYPE. */
int hsm_pubkey_from_spki(const uint8_t *der, size_t n, struct hsm_pubkey **out);
void hsm_pubkey_free(struct hsm_pubkey *k);
enum hsm_key_type hsm_pubkey_type(const struct hsm_pubkey *k);
unsigned hsm_pubkey_bits(const struct hsm_pubkey *k);
const uint8_t *hsm_pubkey_fingerprint(const struct hsm_pubkey *k);
/* DER SubjectPublicKeyInfo, owned by k. */
const uint8_t *hsm_pubkey_spki(const struct hsm_pubkey *k, size_t *n);

/* "SHA256:<base64, no padding>" into out (HSM_FP_STR_LEN bytes). */
void hsm_fingerprint_str(
    const uint8_t fp[HSM_FP_LEN], char out[HSM_FP_STR_LEN]);
/* Parse that form.  KQ_OK or KQ_ERR_ENCODING. */
int hsm_fingerprint_parse(const char *s, uint8_t fp[HSM_FP_LEN]);

/* ---- Key generation ------------------------------------------------------ */

/*
 * Generate a key pair on the logged-in session's token: the private key
 * sensitive, never extractable, private, on the token; the public key on
 * the token.  Both get label and a random 16-byte id.  type is
 * "ec-p256", "ec-p384", "rsa-2048" or "rsa-3072".  *out is the new public
 * key.  KQ_ERR_USAGE (type), KQ_ERR_MECHANISM, KQ_ERR_NOT_LOGGED_IN, ...
 */
int hsm_keygen(struct hsm_session *s, const char *type, const char *label,
    struct hsm_pubkey **out, uint8_t id[16]);

/* The URI of a key: the token's attributes, object=label, id, type=private. */
int hsm_key_uri(struct hsm_session *s, const char *label, const uint8_t *id,
    size_t id_len, char **out);

/* ---- Sealed blobs (docs/sealed-blob.md) ---------------------------------- */

#define HSM_BLOB_MAGIC "KQSB"
#define HSM_BLOB_VERSION 1
#define HSM_BLOB_ALG_ECDH_P256 1
#define HSM_BLOB_ALG_ECDH_P384 2
#define HSM_BLOB_ALG_RSA_OAEP_SHA256 3
#define HSM_BLOB_NONCE_LEN 24
#define HSM_BLOB_TAG_LEN 16
#define HSM_BLOB_MAX_PAYLOAD (1024 * 1024)

/* A parsed blob: pointers into the caller's buffer. */
struct hsm_blob {
	unsigned version;
	unsigned alg;
	const uint8_t *fingerprint; /* HSM_FP_LEN */
	const uint8_t *context_hash; /* 32 */
	const uint8_t *kem; /* ephemeral point or RSA ciphertext */
	size_t kem_len;
	const uint8_t *nonce; /* HSM_BLOB_NONCE_LEN */
	const uint8_t *ct; /* ciphertext and tag */
	size_t ct_len;
	size_t header_len; /* bytes before ct: the AEAD's associated data */
};

/*
 * Parse without any key.  KQ_ERR_FORMAT (truncated, bad magic, lengths that
 * disagree, trailing bytes), KQ_ERR_VERSION (unknown version or algorithm).
 */
int hsm_blob_parse(const uint8_t *b, size_t n, struct hsm_blob *out);

/* SHA-256("keyquorum sealed-blob v1 context" || 0x00 || ctx) into h. */
void hsm_blob_context_hash(const uint8_t *ctx, size_t ctx_len, uint8_t h[32]);

/*
 * Seal pt (at most HSM_BLOB_MAX_PAYLOAD bytes) to the public key k, binding
 * ctx.  Needs no token.  *blob malloc'd (not secret).
 */
int hsm_seal(const struct hsm_pubkey *k, const uint8_t *ctx, size_t ctx_len,
    const uint8_t *pt, size_t pt_len, uint8_t **blob, size_t *blob_len);

/*
 * Check a parsed blob against the token's public key and the context before
 * asking for a PIN: KQ_ERR_WRONG_TOKEN (fingerprint differs),
 * KQ_ERR_CONTEXT (context hash differs).
 */
int hsm_blob_check(const struct hsm_blob *b, const struct hsm_pubkey *k,
    const uint8_t *ctx, size_t ctx_len);

/*
 * Unseal on the logged-in session's token with the private key the URI
 * names.  *out in secure memory.  KQ_ERR_WRONG_TOKEN, KQ_ERR_CONTEXT,
 * KQ_ERR_INTEGRITY (tampered), KQ_ERR_FORMAT, KQ_ERR_VERSION,
 * KQ_ERR_MECHANISM, KQ_ERR_TOKEN_REMOVED, KQ_ERR_NOT_LOGGED_IN, ...
 */
int hsm_unseal(struct hsm_session *s, const struct hsm_uri *uri,
    const uint8_t *blob, size_t blob_len, const uint8_t *ctx, size_t ctx_len,
    struct kq_sbuf **out);

/* ---- HSM symmetric keys and data objects (raw PKCS#11) ------------------- */

/*
 * A non-extractable, sensitive AES-256 key on the token (CKA_TOKEN), for
 * encrypt/decrypt only.  KQ_ERR_EXISTS when a secret key with label exists.
 */
int hsm_aes_keygen(struct hsm_session *s, const char *label);

/*
 * AES-256-GCM inside the HSM with the secret key labelled label.  Output
 * of encrypt: 12-byte IV (random, from kq_random) || ciphertext || 16-byte
 * tag, malloc'd.  Decrypt writes secure memory; a bad tag or modified
 * input is KQ_ERR_INTEGRITY.  At most 64 KiB.
 */
int hsm_aes_gcm_encrypt(struct hsm_session *s, const char *label,
    const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
    uint8_t **out, size_t *out_len);
int hsm_aes_gcm_decrypt(struct hsm_session *s, const char *label,
    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t in_len,
    struct kq_sbuf **out);

/* Private CKO_DATA objects (CKA_TOKEN, CKA_PRIVATE), by label. */
int hsm_data_create(
    struct hsm_session *s, const char *label, const uint8_t *v, size_t n);
/* Labels of the data objects: *labels is a malloc'd array of malloc'd
 * strings, free with hsm_strings_free. */
int hsm_data_list(struct hsm_session *s, char ***labels, size_t *n);
void hsm_strings_free(char **v, size_t n);
int hsm_data_read(
    struct hsm_session *s, const char *label, struct kq_sbuf **out);
int hsm_data_delete(struct hsm_session *s, const char *label);

/* ---- Token administration (hsm/hsm_admin.c) -----------------------------
 * For the hsm-pin custody set and rollback envelopes: the token's identity,
 * logging in with a PIN held in secure memory, setting the user PIN
 * (C_InitPIN as the security officer, or C_SetPIN), public data objects.
 */
/* The token of a session, as its CK_TOKEN_INFO says now (trimmed text). */
struct hsm_token_id {
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	unsigned long flags; /* HSM_TF_* */
	unsigned long min_pin_len, max_pin_len;
};

/* KQ_OK, or the mapped error of C_GetTokenInfo (KQ_ERR_TOKEN_REMOVED ...). */
int hsm_session_token_id(struct hsm_session *s, struct hsm_token_id *out);

/*
 * Log in as the user with the pin_len bytes at pin (the caller's secure
 * memory; not copied).  The PIN flags are read first, as in
 * hsm_session_login: KQ_ERR_PIN_LOCKED, KQ_ERR_PIN_FINAL_TRY (unless
 * allow_final_try), then KQ_ERR_PIN_INCORRECT, KQ_ERR_PIN_LEN, ...
 */
int hsm_session_login_pin(struct hsm_session *s, const uint8_t *pin,
    size_t pin_len, int allow_final_try);

/* Log out when logged in (the session stays open). */
void hsm_session_logout(struct hsm_session *s);

/*
 * Set the user PIN as the security officer: C_Login(CKU_SO, so_pin),
 * C_InitPIN(new_pin), C_Logout.  s must be a read/write session, not
 * logged in.  KQ_ERR_PIN_INCORRECT (the SO PIN; nothing changed),
 * KQ_ERR_PIN_LOCKED (SO PIN locked), KQ_ERR_PIN_LEN (new PIN refused),
 * the token codes.  On failure the user PIN is unchanged unless the
 * detail says otherwise.
 */
int hsm_init_user_pin(struct hsm_session *s, const uint8_t *so_pin,
    size_t so_len, const uint8_t *new_pin, size_t new_len);

/*
 * C_SetPIN(old_pin, new_pin) on a read/write session that is not logged
 * in (the user's own PIN change).  Same returns as hsm_init_user_pin.
 */
int hsm_set_user_pin(struct hsm_session *s, const uint8_t *old_pin,
    size_t old_len, const uint8_t *new_pin, size_t new_len);

/*
 * Public (CKA_PRIVATE false) data objects of application "keyquorum":
 * readable without a login.  Create: KQ_ERR_EXISTS when the label is
 * taken, KQ_ERR_TOO_LONG over HSM_PUBDATA_MAX.  List: labels starting with
 * prefix (NULL: all), free with hsm_strings_free.  Read: *out malloc'd
 * (not secret), *n its length.  Delete: by label.
 */
#define HSM_PUBDATA_MAX (64 * 1024)
int hsm_pubdata_create(
    struct hsm_session *s, const char *label, const uint8_t *v, size_t n);
int hsm_pubdata_list(
    struct hsm_session *s, const char *prefix, char ***labels, size_t *n);
int hsm_pubdata_read(
    struct hsm_session *s, const char *label, uint8_t **out, size_t *n);
int hsm_pubdata_delete(struct hsm_session *s, const char *label);

/* How many private objects the session can see (0 when not logged in). */
int hsm_count_objects(struct hsm_session *s, int private_only, size_t *n);

#endif
