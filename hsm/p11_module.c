/*
 * keyquorum: PKCS#11 modules, the CK_RV map, slots, sessions, object
 * search and attributes.  Raw PKCS#11 through p11-kit's pkcs11.h.
 */
#include "hsm/p11_int.h"

#include <dlfcn.h>
#include <p11-kit/p11-kit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/*
 * Every CK_RV a module may return, in words, with the kq_err it maps to.
 * Nothing else in hsm/ turns a CK_RV into text or a code.
 */
static const char *
p11_rv_map(CK_RV rv, int *err)
{
	*err = KQ_ERR_TOKEN;
	switch (rv) {
	case CKR_OK:
		*err = KQ_OK;
		return "success";
	case CKR_CANCEL:
		*err = KQ_ERR_PIN_CANCELLED;
		return "the operation was cancelled";
	case CKR_HOST_MEMORY:
		*err = KQ_ERR_NOMEM;
		return "the module ran out of memory";
	case CKR_SLOT_ID_INVALID:
		*err = KQ_ERR_TOKEN_REMOVED;
		return "the slot no longer exists (reader unplugged?)";
	case CKR_GENERAL_ERROR:
		return "the token reported a general error";
	case CKR_FUNCTION_FAILED:
		return "the token could not complete the operation";
	case CKR_ARGUMENTS_BAD:
		*err = KQ_ERR_INVALID;
		return "the module refused the arguments (internal error)";
	case CKR_NO_EVENT:
		return "no slot event";
	case CKR_NEED_TO_CREATE_THREADS:
	case CKR_CANT_LOCK:
		*err = KQ_ERR_MODULE;
		return "the module cannot run with the requested locking";
	case CKR_ATTRIBUTE_READ_ONLY:
		return "an attribute is read-only";
	case CKR_ATTRIBUTE_SENSITIVE:
		*err = KQ_ERR_NOT_FOUND;
		return "an attribute is sensitive and cannot be read";
	case CKR_ATTRIBUTE_TYPE_INVALID:
		*err = KQ_ERR_NOT_FOUND;
		return "the object has no such attribute";
	case CKR_ATTRIBUTE_VALUE_INVALID:
		return "the token refused an attribute value";
	case CKR_ACTION_PROHIBITED:
		*err = KQ_ERR_PERM;
		return "the token's policy forbids the action";
	case CKR_DATA_INVALID:
	case CKR_ENCRYPTED_DATA_INVALID:
		*err = KQ_ERR_INTEGRITY;
		return "the data is not valid for the key";
	case CKR_DATA_LEN_RANGE:
	case CKR_ENCRYPTED_DATA_LEN_RANGE:
		*err = KQ_ERR_INTEGRITY;
		return "the data has the wrong length for the key";
	case CKR_DEVICE_ERROR:
		return "the device reported an error";
	case CKR_DEVICE_MEMORY:
		*err = KQ_ERR_TOKEN_FULL;
		return "the token's memory is full";
	case CKR_DEVICE_REMOVED:
		*err = KQ_ERR_TOKEN_REMOVED;
		return "the token was removed";
	case CKR_FUNCTION_CANCELED:
		*err = KQ_ERR_PIN_CANCELLED;
		return "the operation was cancelled on the device";
	case CKR_FUNCTION_NOT_PARALLEL:
	case CKR_FUNCTION_NOT_SUPPORTED:
		*err = KQ_ERR_UNSUPPORTED;
		return "the module does not support the function";
	case CKR_KEY_HANDLE_INVALID:
		*err = KQ_ERR_KEY_NOT_FOUND;
		return "the key no longer exists";
	case CKR_KEY_SIZE_RANGE:
		*err = KQ_ERR_KEY_TYPE;
		return "the key size is not supported";
	case CKR_KEY_TYPE_INCONSISTENT:
		*err = KQ_ERR_KEY_TYPE;
		return "the key type does not fit the mechanism";
	case CKR_KEY_NOT_NEEDED:
	case CKR_KEY_CHANGED:
	case CKR_KEY_NEEDED:
		return "the key state does not fit the operation";
	case CKR_KEY_INDIGESTIBLE:
	case CKR_KEY_NOT_WRAPPABLE:
	case CKR_KEY_UNEXTRACTABLE:
		*err = KQ_ERR_PERM;
		return "the key may not leave the token";
	case CKR_KEY_FUNCTION_NOT_PERMITTED:
		*err = KQ_ERR_PERM;
		return "the key is not allowed to do that";
	case CKR_MECHANISM_INVALID:
	case CKR_MECHANISM_PARAM_INVALID:
		*err = KQ_ERR_MECHANISM;
		return "the token does not support the mechanism or its parameters";
	case CKR_OBJECT_HANDLE_INVALID:
		*err = KQ_ERR_NOT_FOUND;
		return "the object no longer exists";
	case CKR_OPERATION_ACTIVE:
		return "another operation is active on the session";
	case CKR_OPERATION_NOT_INITIALIZED:
		return "no operation is active on the session";
	case CKR_PIN_INCORRECT:
		*err = KQ_ERR_PIN_INCORRECT;
		return "the PIN is incorrect";
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		*err = KQ_ERR_PIN_LEN;
		return "the PIN has characters or a length the token refuses";
	case CKR_PIN_EXPIRED:
		*err = KQ_ERR_PIN_LOCKED;
		return "the PIN has expired and must be changed";
	case CKR_PIN_LOCKED:
		*err = KQ_ERR_PIN_LOCKED;
		return "the PIN is locked";
	case CKR_SESSION_CLOSED:
	case CKR_SESSION_HANDLE_INVALID:
		*err = KQ_ERR_TOKEN_REMOVED;
		return "the session was closed (token removed?)";
	case CKR_SESSION_COUNT:
		return "the token has no free session";
	case CKR_SESSION_PARALLEL_NOT_SUPPORTED:
		*err = KQ_ERR_UNSUPPORTED;
		return "the token does not support parallel sessions";
	case CKR_SESSION_READ_ONLY:
	case CKR_SESSION_READ_ONLY_EXISTS:
	case CKR_SESSION_READ_WRITE_SO_EXISTS:
		*err = KQ_ERR_PERM;
		return "the session is read-only or an SO session exists";
	case CKR_SESSION_EXISTS:
		return "a session is already open";
	case CKR_SIGNATURE_INVALID:
	case CKR_SIGNATURE_LEN_RANGE:
		*err = KQ_ERR_INTEGRITY;
		return "the signature is not valid";
	case CKR_TEMPLATE_INCOMPLETE:
	case CKR_TEMPLATE_INCONSISTENT:
		return "the token refused the object's attributes";
	case CKR_TOKEN_NOT_PRESENT:
		*err = KQ_ERR_TOKEN_REMOVED;
		return "no token is present in the slot";
	case CKR_TOKEN_NOT_RECOGNIZED:
		return "the token is not recognised";
	case CKR_TOKEN_WRITE_PROTECTED:
		*err = KQ_ERR_PERM;
		return "the token is write-protected";
	case CKR_UNWRAPPING_KEY_HANDLE_INVALID:
	case CKR_UNWRAPPING_KEY_SIZE_RANGE:
	case CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT:
	case CKR_WRAPPED_KEY_INVALID:
	case CKR_WRAPPED_KEY_LEN_RANGE:
	case CKR_WRAPPING_KEY_HANDLE_INVALID:
	case CKR_WRAPPING_KEY_SIZE_RANGE:
	case CKR_WRAPPING_KEY_TYPE_INCONSISTENT:
		*err = KQ_ERR_INTEGRITY;
		return "the wrapped key or the wrapping key does not fit";
	case CKR_USER_ALREADY_LOGGED_IN:
		*err = KQ_OK;
		return "already logged in";
	case CKR_USER_NOT_LOGGED_IN:
		*err = KQ_ERR_NOT_LOGGED_IN;
		return "the token needs a login first";
	case CKR_USER_PIN_NOT_INITIALIZED:
		*err = KQ_ERR_PIN_LOCKED;
		return "the token's user PIN is not set";
	case CKR_USER_TYPE_INVALID:
	case CKR_USER_ANOTHER_ALREADY_LOGGED_IN:
	case CKR_USER_TOO_MANY_TYPES:
		*err = KQ_ERR_PERM;
		return "another user is logged in to the token";
	case CKR_RANDOM_SEED_NOT_SUPPORTED:
	case CKR_RANDOM_NO_RNG:
		*err = KQ_ERR_UNSUPPORTED;
		return "the token has no random number generator";
	case CKR_DOMAIN_PARAMS_INVALID:
	case CKR_CURVE_NOT_SUPPORTED:
		*err = KQ_ERR_KEY_TYPE;
		return "the token does not support the curve";
	case CKR_BUFFER_TOO_SMALL:
		return "a buffer is too small (internal error)";
	case CKR_SAVED_STATE_INVALID:
	case CKR_STATE_UNSAVEABLE:
	case CKR_INFORMATION_SENSITIVE:
		return "the session state cannot be saved";
	case CKR_CRYPTOKI_NOT_INITIALIZED:
		*err = KQ_ERR_MODULE;
		return "the module is not initialised";
	case CKR_CRYPTOKI_ALREADY_INITIALIZED:
		*err = KQ_OK;
		return "the module was already initialised";
	case CKR_MUTEX_BAD:
	case CKR_MUTEX_NOT_LOCKED:
		*err = KQ_ERR_MODULE;
		return "the module's locking failed";
	case CKR_NEW_PIN_MODE:
	case CKR_NEXT_OTP:
		*err = KQ_ERR_UNSUPPORTED;
		return "the token asks for a one-time-password step keyquorum "
		       "does not do";
	case CKR_EXCEEDED_MAX_ITERATIONS:
		return "the token gave up after too many iterations";
	case CKR_FIPS_SELF_TEST_FAILED:
		*err = KQ_ERR_MODULE;
		return "the module failed its FIPS self-test";
	case CKR_LIBRARY_LOAD_FAILED:
		*err = KQ_ERR_MODULE;
		return "the module could not load a library it needs";
	case CKR_PIN_TOO_WEAK:
		*err = KQ_ERR_PIN_LEN;
		return "the token refuses the PIN as too weak";
	case CKR_PUBLIC_KEY_INVALID:
		*err = KQ_ERR_INTEGRITY;
		return "the public key is not valid";
	case CKR_FUNCTION_REJECTED:
		*err = KQ_ERR_PERM;
		return "the token rejected the function";
	default:
		if (rv >= CKR_VENDOR_DEFINED)
			return "the token reported a vendor-specific error";
		return "the token reported an unknown error";
	}
}

int
p11_rv_err(CK_RV rv)
{
	int e;

	(void)p11_rv_map(rv, &e);
	return e;
}

const char *
p11_rv_words(CK_RV rv)
{
	int e;

	return p11_rv_map(rv, &e);
}

void
p11_detail(struct hsm_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

int
p11_fail(struct hsm_ctx *c, const char *what, CK_RV rv)
{
	int e = p11_rv_err(rv);

	p11_detail(c, "%s: %s", what, p11_rv_words(rv));
	return e == KQ_OK ? KQ_ERR_TOKEN : e;
}

size_t
hsm_field_len(const unsigned char *f, size_t width)
{
	while (width > 0 && (f[width - 1] == ' ' || f[width - 1] == '\0'))
		width--;
	return width;
}

/* The file of the registered p11-kit module called name (malloc'd). */
static char *
registered_module_path(const char *name)
{
	CK_FUNCTION_LIST **mods;
	char *path = NULL;
	size_t i;

	mods = p11_kit_modules_load(NULL, P11_KIT_MODULE_UNMANAGED);
	if (mods == NULL)
		return NULL;
	for (i = 0; mods[i] != NULL && path == NULL; i++) {
		char *n = p11_kit_module_get_name(mods[i]);

		if (n != NULL && strcmp(n, name) == 0)
			path = p11_kit_module_get_filename(mods[i]);
		free(n);
	}
	p11_kit_modules_release(mods);
	return path;
}

int
hsm_ctx_open(const char *module_path, const struct hsm_uri *uri,
    struct hsm_ctx **out, char *why, size_t whylen)
{
	int r = KQ_ERR_MODULE;
	struct hsm_ctx *c = NULL;
	CK_C_GetFunctionList gfl;
	CK_C_INITIALIZE_ARGS args;
	const char *path = module_path;
	char *regpath = NULL;
	CK_RV rv;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	if (path == NULL && uri != NULL)
		path = hsm_uri_module_path(uri);
	if (path == NULL && uri != NULL && hsm_uri_module_name(uri) != NULL) {
		regpath = registered_module_path(hsm_uri_module_name(uri));
		if (regpath == NULL) {
			p11_detail(c,
			    "no registered p11-kit module is named "
			    "\"%s\"",
			    hsm_uri_module_name(uri));
			goto fail;
		}
		path = regpath;
	}
	if (path == NULL)
		path = HSM_DEFAULT_MODULE;
	if ((c->path = strdup(path)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto fail;
	}
	if ((c->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		p11_detail(c, "cannot load module %s: %s", path, dlerror());
		goto fail;
	}
	gfl = (CK_C_GetFunctionList)dlsym(c->dl, "C_GetFunctionList");
	if (gfl == NULL) {
		p11_detail(c,
		    "%s is not a PKCS#11 module (no "
		    "C_GetFunctionList)",
		    path);
		goto fail;
	}
	if ((rv = gfl(&c->f)) != CKR_OK || c->f == NULL) {
		p11_detail(
		    c, "%s: C_GetFunctionList: %s", path, p11_rv_words(rv));
		goto fail;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = c->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		p11_detail(c, "%s: C_Initialize: %s", path, p11_rv_words(rv));
		goto fail;
	}
	c->initialized = rv == CKR_OK;
	*out = c;
	c = NULL;
	r = KQ_OK;
	goto out;
fail:
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", c->detail);
	hsm_ctx_close(c);
	c = NULL;
out:
	free(regpath);
	return r;
}

void
hsm_ctx_close(struct hsm_ctx *c)
{
	if (c == NULL)
		return;
	if (c->initialized && c->f != NULL)
		c->f->C_Finalize(NULL);
	if (c->dl != NULL)
		dlclose(c->dl);
	free(c->path);
	free(c);
}

const char *
hsm_ctx_module(const struct hsm_ctx *c)
{
	return c->path;
}

const char *
hsm_ctx_detail(const struct hsm_ctx *c)
{
	return c == NULL ? "" : c->detail;
}

/* All slot ids (malloc'd). */
static int
slot_list(struct hsm_ctx *c, CK_SLOT_ID **out, CK_ULONG *n)
{
	int r;
	CK_SLOT_ID *ids = NULL;
	CK_ULONG cnt = 0;
	CK_RV rv;

	for (;;) {
		if ((rv = c->f->C_GetSlotList(CK_FALSE, NULL, &cnt)) !=
		    CKR_OK) {
			r = p11_fail(c, "listing slots", rv);
			goto out;
		}
		free(ids);
		if ((ids = calloc(cnt + 1, sizeof(*ids))) == NULL) {
			r = KQ_ERR_NOMEM;
			goto out;
		}
		rv = c->f->C_GetSlotList(CK_FALSE, ids, &cnt);
		if (rv == CKR_BUFFER_TOO_SMALL)
			continue;
		if (rv != CKR_OK) {
			r = p11_fail(c, "listing slots", rv);
			goto out;
		}
		break;
	}
	*out = ids;
	*n = cnt;
	ids = NULL;
	r = KQ_OK;
out:
	free(ids);
	return r;
}

int
hsm_slots(struct hsm_ctx *c, struct hsm_slot **out, size_t *n)
{
	int r;
	CK_SLOT_ID *ids = NULL;
	CK_ULONG cnt = 0, i;
	struct hsm_slot *v = NULL;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;

	if ((r = slot_list(c, &ids, &cnt)) != KQ_OK)
		goto out;
	if ((v = calloc(cnt + 1, sizeof(*v))) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		v[i].id = ids[i];
		if (c->f->C_GetSlotInfo(ids[i], &si) != CKR_OK)
			continue;
		memcpy(v[i].description, si.slotDescription,
		    sizeof(v[i].description));
		memcpy(v[i].manufacturer, si.manufacturerID,
		    sizeof(v[i].manufacturer));
		v[i].slot_flags = si.flags;
		if ((si.flags & CKF_TOKEN_PRESENT) == 0 ||
		    c->f->C_GetTokenInfo(ids[i], &ti) != CKR_OK)
			continue;
		v[i].token_present = 1;
		memcpy(v[i].label, ti.label, sizeof(v[i].label));
		memcpy(v[i].token_manufacturer, ti.manufacturerID,
		    sizeof(v[i].token_manufacturer));
		memcpy(v[i].model, ti.model, sizeof(v[i].model));
		memcpy(v[i].serial, ti.serialNumber, sizeof(v[i].serial));
		v[i].token_flags = ti.flags;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	r = KQ_OK;
out:
	free(v);
	free(ids);
	return r;
}

static void
field_copy(char *dst, const unsigned char *f, size_t w)
{
	size_t n = hsm_field_len(f, w);

	memcpy(dst, f, n);
	dst[n] = '\0';
}

int
p11_token_info(struct hsm_session *s, CK_TOKEN_INFO *ti)
{
	CK_RV rv = s->c->f->C_GetTokenInfo(s->slot, ti);

	if (rv != CKR_OK)
		return p11_fail(s->c, "reading the token's state", rv);
	return KQ_OK;
}

int
hsm_session_open(struct hsm_ctx *c, const struct hsm_uri *uri, int rw,
    struct hsm_session **out)
{
	int r;
	CK_SLOT_ID *ids = NULL, found = 0;
	CK_ULONG cnt = 0, i, matches = 0;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti, fti;
	CK_INFO mi;
	struct hsm_session *s = NULL;
	CK_FLAGS fl = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
	CK_RV rv;

	if (uri != NULL && p11_kit_uri_any_unrecognized(uri->p)) {
		p11_detail(c,
		    "the URI has an attribute keyquorum does not "
		    "know; refusing to guess");
		r = KQ_ERR_URI;
		goto out;
	}
	if (uri != NULL && c->f->C_GetInfo(&mi) == CKR_OK &&
	    !p11_kit_uri_match_module_info(uri->p, &mi)) {
		p11_detail(c,
		    "the module %s does not match the URI's "
		    "library attributes",
		    c->path);
		r = KQ_ERR_TOKEN_NOT_FOUND;
		goto out;
	}
	if ((r = slot_list(c, &ids, &cnt)) != KQ_OK)
		goto out;
	for (i = 0; i < cnt; i++) {
		if (c->f->C_GetSlotInfo(ids[i], &si) != CKR_OK ||
		    (si.flags & CKF_TOKEN_PRESENT) == 0)
			continue;
		if (c->f->C_GetTokenInfo(ids[i], &ti) != CKR_OK ||
		    (ti.flags & CKF_TOKEN_INITIALIZED) == 0)
			continue;
		if (uri != NULL &&
		    (!p11_kit_uri_match_slot_info(uri->p, &si) ||
		        !p11_kit_uri_match_token_info(uri->p, &ti)))
			continue;
		if (uri != NULL &&
		    p11_kit_uri_get_slot_id(uri->p) != (CK_SLOT_ID)-1 &&
		    p11_kit_uri_get_slot_id(uri->p) != ids[i])
			continue;
		if (matches++ == 0) {
			found = ids[i];
			fti = ti;
		}
	}
	if (matches == 0) {
		p11_detail(
		    c, "no initialised token in %s matches the URI", c->path);
		r = KQ_ERR_TOKEN_NOT_FOUND;
		goto out;
	}
	if (matches > 1) {
		p11_detail(c,
		    "%lu tokens match; name one with token=LABEL "
		    "(and serial= where labels repeat)",
		    (unsigned long)matches);
		r = KQ_ERR_TOKEN_AMBIGUOUS;
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	s->c = c;
	s->slot = found;
	s->ti = fti;
	field_copy(s->label, fti.label, sizeof(fti.label));
	rv = c->f->C_OpenSession(found, fl, NULL, NULL, &s->h);
	if (rv != CKR_OK) {
		char what[80];

		snprintf(what, sizeof(what),
		    "opening a session on token "
		    "\"%s\"",
		    s->label);
		r = p11_fail(c, what, rv);
		goto out;
	}
	*out = s;
	s = NULL;
	r = KQ_OK;
out:
	free(s);
	free(ids);
	return r;
}

void
hsm_session_close(struct hsm_session *s)
{
	if (s == NULL)
		return;
	if (s->logged_in)
		(void)s->c->f->C_Logout(s->h);
	(void)s->c->f->C_CloseSession(s->h);
	free(s);
}

const char *
hsm_session_token_label(const struct hsm_session *s)
{
	return s->label;
}

int
p11_find(struct hsm_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG tn,
    CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *n)
{
	CK_RV rv;
	CK_ULONG got = 0;

	if ((rv = s->c->f->C_FindObjectsInit(s->h, tmpl, tn)) != CKR_OK)
		return p11_fail(s->c, "searching the token", rv);
	rv = s->c->f->C_FindObjects(s->h, out, max, &got);
	(void)s->c->f->C_FindObjectsFinal(s->h);
	if (rv != CKR_OK)
		return p11_fail(s->c, "searching the token", rv);
	*n = got;
	return KQ_OK;
}

int
p11_attr(struct hsm_session *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
    uint8_t **out, size_t *len)
{
	int r;
	CK_ATTRIBUTE a = {t, NULL, 0};
	uint8_t *buf = NULL;
	CK_RV rv;

	rv = s->c->f->C_GetAttributeValue(s->h, o, &a, 1);
	if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
		r = rv == CKR_OK ? KQ_ERR_NOT_FOUND : p11_rv_err(rv);
		if (r != KQ_ERR_NOT_FOUND)
			r = p11_fail(s->c, "reading an attribute", rv);
		goto out;
	}
	if ((buf = malloc(a.ulValueLen + 1)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	a.pValue = buf;
	if ((rv = s->c->f->C_GetAttributeValue(s->h, o, &a, 1)) != CKR_OK) {
		r = p11_fail(s->c, "reading an attribute", rv);
		goto out;
	}
	buf[a.ulValueLen] = '\0';
	*out = buf;
	*len = a.ulValueLen;
	buf = NULL;
	r = KQ_OK;
out:
	free(buf);
	return r;
}

int
p11_attr_ulong(struct hsm_session *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
    CK_ULONG *out)
{
	CK_ULONG v = 0;
	CK_ATTRIBUTE a = {t, &v, sizeof(v)};
	CK_RV rv = s->c->f->C_GetAttributeValue(s->h, o, &a, 1);

	if (rv != CKR_OK)
		return p11_fail(s->c, "reading an attribute", rv);
	*out = v;
	return KQ_OK;
}

int
hsm_open(const char *module, const char *uri_str, int rw, struct hsm_uri **u,
    struct hsm_ctx **c, struct hsm_session **s, char *why, size_t whylen)
{
	int r;
	struct hsm_uri *uu = NULL;
	struct hsm_ctx *cc = NULL;
	struct hsm_session *ss = NULL;

	if ((r = hsm_uri_parse(uri_str, &uu, why, whylen)) != KQ_OK)
		goto out;
	if ((r = hsm_ctx_open(module, uu, &cc, why, whylen)) != KQ_OK)
		goto out;
	if ((r = hsm_session_open(cc, uu, rw, &ss)) != KQ_OK) {
		snprintf(why, whylen, "%s", cc->detail);
		goto out;
	}
	*u = uu;
	*c = cc;
	*s = ss;
	uu = NULL;
	cc = NULL;
	ss = NULL;
out:
	hsm_close(uu, cc, ss);
	return r;
}

void
hsm_close(struct hsm_uri *u, struct hsm_ctx *c, struct hsm_session *s)
{
	hsm_session_close(s);
	hsm_ctx_close(c);
	hsm_uri_free(u);
}
