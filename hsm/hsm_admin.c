/*
 * keyquorum: token administration (raw PKCS#11): the token's identity,
 * login with a PIN from secure memory, setting the user PIN, and public
 * data objects.  See hsm/hsm.h.
 */
#include "hsm/hsm.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/secmem.h"
#include "hsm/p11_int.h"

static const char app_name[] = "keyquorum";

static void
trim_copy(char *dst, const unsigned char *f, size_t w)
{
	size_t n = hsm_field_len(f, w);

	memcpy(dst, f, n);
	dst[n] = '\0';
}

int
hsm_session_token_id(struct hsm_session *s, struct hsm_token_id *out)
{
	CK_TOKEN_INFO ti;
	int r;

	if ((r = p11_token_info(s, &ti)) != KQ_OK)
		return r;
	memset(out, 0, sizeof(*out));
	trim_copy(out->label, ti.label, sizeof(ti.label));
	trim_copy(
	    out->manufacturer, ti.manufacturerID, sizeof(ti.manufacturerID));
	trim_copy(out->model, ti.model, sizeof(ti.model));
	trim_copy(out->serial, ti.serialNumber, sizeof(ti.serialNumber));
	out->flags = ti.flags;
	out->min_pin_len = ti.ulMinPinLen;
	out->max_pin_len = ti.ulMaxPinLen;
	return KQ_OK;
}

static int
pin_flags_ok(struct hsm_session *s, int allow_final_try)
{
	CK_TOKEN_INFO ti;
	int r;

	if ((r = p11_token_info(s, &ti)) != KQ_OK)
		return r;
	if (ti.flags & CKF_USER_PIN_LOCKED) {
		p11_detail(s->c,
		    "the user PIN of token \"%s\" is locked; its security "
		    "officer must unblock it",
		    s->label);
		return KQ_ERR_PIN_LOCKED;
	}
	if ((ti.flags & CKF_USER_PIN_FINAL_TRY) && !allow_final_try) {
		p11_detail(s->c,
		    "token \"%s\" has one user PIN try left; a wrong PIN "
		    "would lock it",
		    s->label);
		return KQ_ERR_PIN_FINAL_TRY;
	}
	return KQ_OK;
}

int
hsm_session_login_pin(struct hsm_session *s, const uint8_t *pin, size_t pin_len,
    int allow_final_try)
{
	CK_RV rv;
	int r;

	if (s->logged_in)
		return KQ_OK;
	if ((r = pin_flags_ok(s, allow_final_try)) != KQ_OK)
		return r;
	rv = s->c->f->C_Login(
	    s->h, CKU_USER, (CK_UTF8CHAR *)(uintptr_t)pin, pin_len);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		s->logged_in = 1;
		return KQ_OK;
	}
	r = p11_fail(s->c, "logging in", rv);
	if (r == KQ_ERR_PIN_INCORRECT)
		p11_detail(s->c,
		    "token \"%s\" refused the user PIN: the quorum's PIN is "
		    "not this token's PIN (another custody set, or the PIN "
		    "was changed since)",
		    s->label);
	return r;
}

void
hsm_session_logout(struct hsm_session *s)
{
	if (s == NULL || !s->logged_in)
		return;
	(void)s->c->f->C_Logout(s->h);
	s->logged_in = 0;
}

int
hsm_init_user_pin(struct hsm_session *s, const uint8_t *so_pin, size_t so_len,
    const uint8_t *new_pin, size_t new_len)
{
	CK_RV rv;
	int r;

	if (s->logged_in) {
		p11_detail(s->c, "log out before logging in as the SO");
		return KQ_ERR_INVALID;
	}
	rv = s->c->f->C_Login(
	    s->h, CKU_SO, (CK_UTF8CHAR *)(uintptr_t)so_pin, so_len);
	if (rv != CKR_OK) {
		r = p11_fail(s->c, "logging in as the security officer", rv);
		if (r == KQ_ERR_PIN_INCORRECT)
			p11_detail(s->c,
			    "token \"%s\" refused the SO PIN; the user PIN "
			    "was not changed",
			    s->label);
		return r;
	}
	rv = s->c->f->C_InitPIN(
	    s->h, (CK_UTF8CHAR *)(uintptr_t)new_pin, new_len);
	(void)s->c->f->C_Logout(s->h);
	if (rv != CKR_OK) {
		r = p11_fail(s->c, "setting the user PIN (C_InitPIN)", rv);
		return rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_INVALID
		    ? KQ_ERR_PIN_LEN
		    : r;
	}
	return KQ_OK;
}

int
hsm_set_user_pin(struct hsm_session *s, const uint8_t *old_pin, size_t old_len,
    const uint8_t *new_pin, size_t new_len)
{
	CK_RV rv;
	int r;

	if ((r = pin_flags_ok(s, 0)) != KQ_OK)
		return r;
	rv = s->c->f->C_SetPIN(s->h, (CK_UTF8CHAR *)(uintptr_t)old_pin, old_len,
	    (CK_UTF8CHAR *)(uintptr_t)new_pin, new_len);
	if (rv != CKR_OK) {
		r = p11_fail(s->c, "changing the user PIN (C_SetPIN)", rv);
		if (rv == CKR_PIN_INCORRECT)
			p11_detail(s->c,
			    "token \"%s\" refused the current user PIN; the "
			    "PIN was not changed",
			    s->label);
		return rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_INVALID
		    ? KQ_ERR_PIN_LEN
		    : r;
	}
	return KQ_OK;
}

/* Public keyquorum data objects labelled label (n <= max handles). */
static int
find_pub(struct hsm_session *s, const char *label, CK_OBJECT_HANDLE *h,
    CK_ULONG max, CK_ULONG *n)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE t[4] = {{CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_PRIVATE, &no, sizeof(no)},
	    {CKA_APPLICATION, (void *)(uintptr_t)app_name,
	        sizeof(app_name) - 1},
	    {CKA_LABEL, (void *)(uintptr_t)label,
	        label == NULL ? 0 : strlen(label)}};

	return p11_find(s, t, label == NULL ? 3 : 4, h, max, n);
}

int
hsm_pubdata_create(
    struct hsm_session *s, const char *label, const uint8_t *v, size_t n)
{
	CK_OBJECT_HANDLE o, h[1];
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_TOKEN, &yes, sizeof(yes)}, {CKA_PRIVATE, &no, sizeof(no)},
	    {CKA_MODIFIABLE, &no, sizeof(no)},
	    {CKA_APPLICATION, (void *)(uintptr_t)app_name,
	        sizeof(app_name) - 1},
	    {CKA_LABEL, (void *)(uintptr_t)label, strlen(label)},
	    {CKA_VALUE, (void *)(uintptr_t)v, n}};
	CK_ULONG cnt = 0;
	CK_RV rv;
	int r;

	if (n > HSM_PUBDATA_MAX)
		return KQ_ERR_TOO_LONG;
	if ((r = find_pub(s, label, h, 1, &cnt)) != KQ_OK)
		return r;
	if (cnt > 0) {
		p11_detail(s->c,
		    "token \"%s\" already has a public object labelled "
		    "\"%s\"",
		    s->label, label);
		return KQ_ERR_EXISTS;
	}
	rv = s->c->f->C_CreateObject(s->h, t, sizeof(t) / sizeof(t[0]), &o);
	if (rv != CKR_OK)
		return p11_fail(s->c, "storing the public data object", rv);
	return KQ_OK;
}

int
hsm_pubdata_list(
    struct hsm_session *s, const char *prefix, char ***labels, size_t *n)
{
	CK_OBJECT_HANDLE h[256];
	CK_ULONG cnt = 0, i;
	char **v = NULL;
	size_t got = 0, len;
	uint8_t *lab;
	int r;

	if ((r = find_pub(s, NULL, h, 256, &cnt)) != KQ_OK)
		goto out;
	if ((v = calloc(cnt + 1, sizeof(*v))) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		if (p11_attr(s, h[i], CKA_LABEL, &lab, &len) != KQ_OK)
			continue;
		if (prefix != NULL &&
		    strncmp((char *)lab, prefix, strlen(prefix)) != 0) {
			free(lab);
			continue;
		}
		v[got++] = (char *)lab;
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
hsm_pubdata_read(
    struct hsm_session *s, const char *label, uint8_t **out, size_t *n)
{
	CK_OBJECT_HANDLE h[2];
	CK_ULONG cnt = 0;
	int r;

	if ((r = find_pub(s, label, h, 2, &cnt)) != KQ_OK)
		return r;
	if (cnt != 1) {
		p11_detail(s->c, "token \"%s\" has %s public object \"%s\"",
		    s->label, cnt == 0 ? "no" : "more than one", label);
		return cnt == 0 ? KQ_ERR_NOT_FOUND : KQ_ERR_TOKEN_AMBIGUOUS;
	}
	return p11_attr(s, h[0], CKA_VALUE, out, n);
}

int
hsm_pubdata_delete(struct hsm_session *s, const char *label)
{
	CK_OBJECT_HANDLE h[2];
	CK_ULONG cnt = 0;
	CK_RV rv;
	int r;

	if ((r = find_pub(s, label, h, 2, &cnt)) != KQ_OK)
		return r;
	if (cnt != 1)
		return cnt == 0 ? KQ_ERR_NOT_FOUND : KQ_ERR_TOKEN_AMBIGUOUS;
	if ((rv = s->c->f->C_DestroyObject(s->h, h[0])) != CKR_OK)
		return p11_fail(s->c, "deleting the public data object", rv);
	return KQ_OK;
}

int
hsm_count_objects(struct hsm_session *s, int private_only, size_t *n)
{
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[1] = {{CKA_PRIVATE, &yes, sizeof(yes)}};
	CK_OBJECT_HANDLE h[1024];
	CK_ULONG cnt = 0;
	int r;

	if ((r = p11_find(s, t, private_only ? 1 : 0, h, 1024, &cnt)) != KQ_OK)
		return r;
	*n = cnt;
	return KQ_OK;
}
