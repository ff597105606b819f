/*
 * keyquorum: RFC 7512 PKCS#11 URIs.  p11-kit parses and formats; this file
 * adds the policy: every attribute must be one keyquorum knows (p11-kit
 * keeps unknown ones and only makes later matches fail, which would give a
 * misleading "no token matches"), and pin-value is for tests only.
 */
#include "hsm/p11_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/secmem.h"

static const char *const path_attrs[] = {"token", "manufacturer", "serial",
    "model", "library-manufacturer", "library-description", "library-version",
    "slot-description", "slot-manufacturer", "slot-id", "object", "id", "type",
    NULL};
static const char *const token_attrs[] = {"token", "manufacturer", "serial",
    "model", "slot-description", "slot-manufacturer", "slot-id", NULL};
static const char *const query_attrs[] = {
    "pin-source", "pin-value", "module-name", "module-path", NULL};

static int
in_list(const char *const *l, const char *name, size_t n)
{
	for (; *l != NULL; l++)
		if (strlen(*l) == n && memcmp(*l, name, n) == 0)
			return 1;
	return 0;
}

/*
 * Walk the attributes of one part ("a=b;c=d" or "a=b&c=d"): every name
 * must be in known.  Sets *pin_value / *tok when seen.
 */
static int
scan_part(const char *p, size_t len, char sep, const char *const *known,
    int *pin_value, int *tok, char *why, size_t whylen)
{
	size_t i = 0, nattr = 0;

	while (i < len) {
		size_t start = i, nlen;

		nattr++;
		while (i < len && p[i] != sep)
			i++;
		if (i > start) {
			const char *eq = memchr(p + start, '=', i - start);

			nlen =
			    eq == NULL ? i - start : (size_t)(eq - (p + start));
			if (eq == NULL || !in_list(known, p + start, nlen)) {
				/* Never echo a part without '=': it
				 * may be a pasted PIN. */
				if (why != NULL && eq == NULL)
					snprintf(why, whylen,
					    "an attribute without '=' "
					    "(#%zu)",
					    nattr);
				else if (why != NULL)
					snprintf(why, whylen,
					    "unknown attribute \"%.*s\"",
					    (int)(nlen > 40 ? 40 : nlen),
					    p + start);
				return KQ_ERR_URI;
			}
			if (nlen == 9 && memcmp(p + start, "pin-value", 9) == 0)
				*pin_value = 1;
			if (in_list(token_attrs, p + start, nlen))
				*tok = 1;
		}
		i++;
	}
	return KQ_OK;
}

int
hsm_uri_parse(const char *s, struct hsm_uri **out, char *why, size_t whylen)
{
	int r = KQ_ERR_URI, pin_value = 0, tok = 0, pr;
	struct hsm_uri *u = NULL;
	const char *body, *q;
	const char *allow;
	CK_ATTRIBUTE *a;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (strncmp(s, "pkcs11:", 7) != 0) {
		if (why != NULL)
			snprintf(why, whylen, "not a pkcs11: URI");
		goto out;
	}
	body = s + 7;
	q = strchr(body, '?');
	if ((r = scan_part(body, q == NULL ? strlen(body) : (size_t)(q - body),
	         ';', path_attrs, &pin_value, &tok, why, whylen)) != KQ_OK)
		goto out;
	if (q != NULL &&
	    (r = scan_part(q + 1, strlen(q + 1), '&', query_attrs, &pin_value,
	         &tok, why, whylen)) != KQ_OK)
		goto out;
	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->p = p11_kit_uri_new()) == NULL) {
		r = KQ_ERR_NOMEM;
		goto out;
	}
	u->has_token_attrs = tok;
	pr = p11_kit_uri_parse(s, P11_KIT_URI_FOR_ANY, u->p);
	if (pr != P11_KIT_URI_OK) {
		if (why != NULL)
			snprintf(why, whylen, "%s", p11_kit_uri_message(pr));
		r = KQ_ERR_URI;
		goto out;
	}
	if (p11_kit_uri_any_unrecognized(u->p)) {
		if (why != NULL)
			snprintf(why, whylen,
			    "an attribute value p11-kit "
			    "does not recognise");
		r = KQ_ERR_URI;
		goto out;
	}
	if (pin_value || p11_kit_uri_get_pin_value(u->p) != NULL) {
		allow = getenv(HSM_ENV_ALLOW_PIN_VALUE);
		if (allow == NULL || strcmp(allow, "1") != 0) {
			r = KQ_ERR_PIN_VALUE_REFUSED;
			goto out;
		}
	}
	a = p11_kit_uri_get_attribute(u->p, CKA_LABEL);
	if (a != NULL) {
		if ((u->object = malloc(a->ulValueLen + 1)) == NULL) {
			r = KQ_ERR_NOMEM;
			goto out;
		}
		memcpy(u->object, a->pValue, a->ulValueLen);
		u->object[a->ulValueLen] = '\0';
		if (strlen(u->object) != a->ulValueLen) {
			if (why != NULL)
				snprintf(why, whylen,
				    "object label with a "
				    "NUL byte");
			r = KQ_ERR_URI;
			goto out;
		}
	}
	*out = u;
	u = NULL;
	r = KQ_OK;
out:
	hsm_uri_free(u);
	return r;
}

void
hsm_uri_free(struct hsm_uri *u)
{
	if (u == NULL)
		return;
	if (u->p != NULL) {
		/* p11-kit frees, but does not wipe, a pin-value: wipe it. */
		const char *pv = p11_kit_uri_get_pin_value(u->p);

		if (pv != NULL)
			kq_wipe((void *)(uintptr_t)pv, strlen(pv));
		p11_kit_uri_free(u->p);
	}
	free(u->object);
	free(u);
}

const char *
hsm_uri_module_path(const struct hsm_uri *u)
{
	return p11_kit_uri_get_module_path(u->p);
}

const char *
hsm_uri_module_name(const struct hsm_uri *u)
{
	return p11_kit_uri_get_module_name(u->p);
}

const char *
hsm_uri_pin_source(const struct hsm_uri *u)
{
	return p11_kit_uri_get_pin_source(u->p);
}

const char *
hsm_uri_object(const struct hsm_uri *u)
{
	return u->object;
}

const uint8_t *
hsm_uri_id(const struct hsm_uri *u, size_t *len)
{
	CK_ATTRIBUTE *a = p11_kit_uri_get_attribute(u->p, CKA_ID);

	if (a == NULL)
		return NULL;
	*len = a->ulValueLen;
	return a->pValue;
}

int
hsm_uri_has_token_attrs(const struct hsm_uri *u)
{
	return u->has_token_attrs;
}

CK_ULONG
p11_uri_object_tmpl(const struct hsm_uri *u, CK_ATTRIBUTE *t, CK_ULONG max)
{
	CK_ULONG n = 0;
	CK_ATTRIBUTE *a;

	if (u == NULL)
		return 0;
	if (n < max && (a = p11_kit_uri_get_attribute(u->p, CKA_LABEL)) != NULL)
		t[n++] = *a;
	if (n < max && (a = p11_kit_uri_get_attribute(u->p, CKA_ID)) != NULL)
		t[n++] = *a;
	return n;
}

int
hsm_key_uri(struct hsm_session *s, const char *label, const uint8_t *id,
    size_t id_len, char **out)
{
	int r = KQ_ERR_NOMEM;
	P11KitUri *p = NULL;
	CK_TOKEN_INFO *ti;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE a;
	char *str = NULL;

	if ((p = p11_kit_uri_new()) == NULL)
		goto out;
	ti = p11_kit_uri_get_token_info(p);
	memcpy(ti->label, s->ti.label, sizeof(ti->label));
	memcpy(ti->manufacturerID, s->ti.manufacturerID,
	    sizeof(ti->manufacturerID));
	memcpy(ti->model, s->ti.model, sizeof(ti->model));
	memcpy(ti->serialNumber, s->ti.serialNumber, sizeof(ti->serialNumber));
	if (label != NULL && label[0] != '\0') {
		a.type = CKA_LABEL;
		a.pValue = (void *)(uintptr_t)label;
		a.ulValueLen = strlen(label);
		if (p11_kit_uri_set_attribute(p, &a) != P11_KIT_URI_OK)
			goto out;
	}
	if (id != NULL && id_len > 0) {
		a.type = CKA_ID;
		a.pValue = (void *)(uintptr_t)id;
		a.ulValueLen = id_len;
		if (p11_kit_uri_set_attribute(p, &a) != P11_KIT_URI_OK)
			goto out;
	}
	a.type = CKA_CLASS;
	a.pValue = &cls;
	a.ulValueLen = sizeof(cls);
	if (p11_kit_uri_set_attribute(p, &a) != P11_KIT_URI_OK)
		goto out;
	if (p11_kit_uri_format(p, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &str) !=
	    P11_KIT_URI_OK) {
		r = KQ_ERR_URI;
		goto out;
	}
	*out = str;
	str = NULL;
	r = KQ_OK;
out:
	free(str);
	if (p != NULL)
		p11_kit_uri_free(p);
	return r;
}
