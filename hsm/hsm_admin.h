/*
 * keyquorum: token administration for the hsm-pin custody set and rollback
 * envelopes (hsm/hsm_admin.c): the token's identity, logging in with a PIN
 * held in secure memory, setting the user PIN (C_InitPIN as the security
 * officer, or C_SetPIN), and public data objects.
 *
 * Part of the token layer's public API; kept in its own header while
 * hsm/hsm.h is edited by others (fold it into hsm.h when convenient).
 * Same conventions as hsm.h: KQ_OK or a negative kq_err code, outputs only
 * on success, a sentence in hsm_ctx_detail() on failure, never a secret.
 */
#ifndef KQ_HSM_HSM_ADMIN_H
#define KQ_HSM_HSM_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "hsm/hsm.h"

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
