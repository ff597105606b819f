/*
 * keyquorum: PIN sources and login.  The PIN flags are read before every
 * login; a PIN lives in secure memory from the moment it is read until it
 * is wiped right after C_Login.
 */
#include "hsm/p11_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/secio.h"
#include "common/secmem.h"
#include "hsm/pinentry.h"

#define PIN_MAX 256

int
hsm_pin_from_source(
    const char *src, struct kq_sbuf **out, char *why, size_t whylen)
{
	int r = KQ_ERR_PIN_SOURCE, fd = -1, own = 0;
	struct stat st;
	struct kq_sbuf *b = NULL;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (strncmp(src, "fd:", 3) == 0) {
		char *end;
		long v;

		errno = 0;
		v = strtol(src + 3, &end, 10);
		if (errno != 0 || end == src + 3 || *end != '\0' || v < 0 ||
		    v > INT_MAX) {
			if (why != NULL)
				snprintf(why, whylen,
				    "pin-source \"fd:\" "
				    "needs a file descriptor number");
			goto out;
		}
		fd = (int)v;
	} else {
		const char *path = src;

		if (strncmp(path, "file:", 5) == 0)
			path += 5;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (why != NULL)
				snprintf(why, whylen,
				    "cannot open the PIN "
				    "file %s: %s",
				    path, strerror(errno));
			r = errno == EACCES ? KQ_ERR_PERM : KQ_ERR_PIN_SOURCE;
			goto out;
		}
		own = 1;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			if (why != NULL)
				snprintf(why, whylen,
				    "the PIN file %s is not "
				    "a regular file",
				    path);
			goto out;
		}
		if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
			if (why != NULL)
				snprintf(why, whylen,
				    "the PIN file %s may be "
				    "read or written by group or others "
				    "(mode %04o); chmod 600 it",
				    path, (unsigned)(st.st_mode & 07777));
			r = KQ_ERR_PIN_SOURCE;
			goto out;
		}
	}
	r = kq_read_line_fd(fd, PIN_MAX, &b);
	if (r != KQ_OK) {
		if (why != NULL)
			snprintf(why, whylen,
			    "cannot read a PIN line from "
			    "the pin-source: %s",
			    kq_strerror(r));
		r = KQ_ERR_PIN_SOURCE;
		goto out;
	}
	if (kq_sbuf_len(b) == 0) {
		if (why != NULL)
			snprintf(why, whylen,
			    "the pin-source gives an empty "
			    "PIN");
		r = KQ_ERR_PIN_SOURCE;
		goto out;
	}
	*out = b;
	b = NULL;
	r = KQ_OK;
out:
	kq_sbuf_free(b);
	if (own)
		close(fd);
	return r;
}

/* What the token says now about the user PIN's tries, for a sentence. */
static const char *
tries_words(CK_FLAGS f)
{
	if (f & CKF_USER_PIN_LOCKED)
		return "the PIN is now locked";
	if (f & CKF_USER_PIN_FINAL_TRY)
		return "only one try is left: the next wrong PIN locks it";
	if (f & CKF_USER_PIN_COUNT_LOW)
		return "the token reports fewer tries left (count low), "
		       "not locked";
	return "the token does not report fewer tries left; not locked";
}

/*
 * C_Login with pin (NULL: the PIN pad asks), then wipe it.  A wrong PIN
 * leaves the token's flags now in *now and a sentence in the detail.
 */
static int
login_with(struct hsm_session *s, struct kq_sbuf **pin, CK_FLAGS *now)
{
	int r;
	CK_TOKEN_INFO ti;
	CK_RV rv;
	char what[96];

	*now = 0;
	rv = s->c->f->C_Login(s->h, CKU_USER,
	    *pin == NULL ? NULL : kq_sbuf_ptr(*pin),
	    *pin == NULL ? 0 : kq_sbuf_len(*pin));
	kq_sbuf_free(*pin);
	*pin = NULL;
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		s->logged_in = rv == CKR_OK;
		return KQ_OK;
	}
	r = p11_rv_err(rv);
	if (r == KQ_ERR_PIN_INCORRECT || rv == CKR_PIN_LOCKED) {
		if (s->c->f->C_GetTokenInfo(s->slot, &ti) == CKR_OK)
			*now = ti.flags;
		if (*now & CKF_USER_PIN_LOCKED)
			r = KQ_ERR_PIN_LOCKED;
		p11_detail(s->c, "token \"%s\": %s; %s", s->label,
		    p11_rv_words(rv), tries_words(*now));
		return r;
	}
	snprintf(what, sizeof(what), "logging in to token \"%s\"", s->label);
	return p11_fail(s->c, what, rv);
}

/* How many times pinentry asks (wrong or empty PINs) before giving up. */
#define PINENTRY_ASKS 3

/* The words pinentry shows above the PIN field. */
static void
pinentry_desc(const struct hsm_session *s, const char *who, CK_FLAGS f,
    char *out, size_t outsz)
{
	snprintf(out, outsz, "keyquorum%s%s needs the PIN of token \"%s\".%s",
	    who != NULL ? ": " : "", who != NULL ? who : "", s->label,
	    (f & CKF_USER_PIN_FINAL_TRY)
	        ? "\n\nThis is the FINAL try: a wrong PIN locks the token."
	        : (f & CKF_USER_PIN_COUNT_LOW)
	        ? "\n\nThe token reports that few tries are left."
	        : "");
}

/*
 * Ask through pinentry and log in; a wrong or empty PIN is asked again
 * with the error shown, while the token is neither locked nor at its
 * final try (unless allowed).
 */
static int
login_pinentry(
    struct hsm_session *s, CK_FLAGS flags, const struct hsm_login_opts *o)
{
	int r, ask, wrong = 0;
	struct pinentry *pe = NULL;
	struct pinentry_ask a;
	struct kq_sbuf *pin = NULL;
	char why[512], desc[384], err[256];
	CK_FLAGS now = flags;

	if ((r = pinentry_open(o->pinentry, &pe, why, sizeof(why))) != KQ_OK) {
		p11_detail(s->c, "%s", why);
		goto out;
	}
	err[0] = '\0';
	for (ask = 0; ask < PINENTRY_ASKS; ask++) {
		pinentry_desc(s, o->who, now, desc, sizeof(desc));
		a.title = "keyquorum";
		a.desc = desc;
		a.prompt = "PIN:";
		a.error = err[0] != '\0' ? err : NULL;
		if ((r = pinentry_getpin(pe, &a, &pin, why, sizeof(why))) !=
		    KQ_OK) {
			if (r == KQ_ERR_PIN_CANCELLED)
				p11_detail(s->c, "token \"%s\" (%s)%s%s",
				    s->label, pinentry_program(pe),
				    wrong ? ", after a wrong PIN; " : "",
				    wrong ? tries_words(now) : "");
			else
				p11_detail(s->c, "%s", why);
			goto out;
		}
		if (kq_sbuf_len(pin) == 0) {
			kq_sbuf_free(pin);
			pin = NULL;
			snprintf(err, sizeof(err), "No PIN was entered.");
			r = KQ_ERR_PIN_CANCELLED;
			p11_detail(s->c,
			    "token \"%s\": no PIN was entered (%d times)",
			    s->label, ask + 1);
			continue;
		}
		if ((r = login_with(s, &pin, &now)) != KQ_ERR_PIN_INCORRECT)
			goto out;
		/* login_with's detail says what the token reports now. */
		wrong++;
		if ((now & CKF_USER_PIN_FINAL_TRY) && !o->allow_final_try) {
			p11_detail(s->c,
			    "token \"%s\": %s; not asking again "
			    "without --allow-final-try",
			    s->label, tries_words(now));
			goto out;
		}
		snprintf(err, sizeof(err), "Wrong PIN: %s.", tries_words(now));
	}
out:
	kq_sbuf_free(pin);
	pinentry_close(pe);
	return r;
}

int
hsm_session_login(struct hsm_session *s, const struct hsm_uri *uri,
    const struct hsm_login_opts *o)
{
	int r;
	CK_TOKEN_INFO ti;
	struct kq_sbuf *pin = NULL;
	const char *src = uri == NULL ? NULL : hsm_uri_pin_source(uri);
	const char *pv = NULL;
	char why[256], prompt[128];
	CK_FLAGS now;

	if (s->logged_in)
		return KQ_OK;
	if ((r = p11_token_info(s, &ti)) != KQ_OK)
		goto out;
	if (ti.flags & CKF_USER_PIN_LOCKED) {
		p11_detail(s->c,
		    "the user PIN of token \"%s\" is locked; "
		    "its security officer must unblock it",
		    s->label);
		r = KQ_ERR_PIN_LOCKED;
		goto out;
	}
	if ((ti.flags & CKF_USER_PIN_FINAL_TRY) && !o->allow_final_try) {
		p11_detail(s->c,
		    "token \"%s\" has one PIN try left; a wrong "
		    "PIN would lock it",
		    s->label);
		r = KQ_ERR_PIN_FINAL_TRY;
		goto out;
	}
	if (uri != NULL && getenv(HSM_ENV_ALLOW_PIN_VALUE) != NULL &&
	    strcmp(getenv(HSM_ENV_ALLOW_PIN_VALUE), "1") == 0)
		pv = p11_kit_uri_get_pin_value(uri->p);
	if (src != NULL) {
		if ((r = hsm_pin_from_source(src, &pin, why, sizeof(why))) !=
		    KQ_OK) {
			p11_detail(s->c, "%s", why);
			goto out;
		}
	} else if (pv != NULL) {
		if ((pin = kq_sbuf_new(PIN_MAX)) == NULL) {
			r = KQ_ERR_NOMEM;
			goto out;
		}
		if ((r = kq_sbuf_put(pin, pv, strlen(pv))) != KQ_OK)
			goto out;
	} else if ((ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH) == 0 &&
	    o->pinentry != NULL) {
		r = login_pinentry(s, ti.flags, o);
		goto out;
	} else if ((ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH) == 0) {
		if (o->no_tty) {
			p11_detail(s->c,
			    "token \"%s\" needs a PIN and no "
			    "pin-source was given",
			    s->label);
			r = KQ_ERR_PIN_SOURCE;
			goto out;
		}
		snprintf(prompt, sizeof(prompt),
		    "PIN for token \"%s\"%s: ", s->label,
		    (ti.flags & CKF_USER_PIN_COUNT_LOW)
		        ? " (tries are running low)"
		        : "");
		if ((r = kq_read_secret_tty(prompt, PIN_MAX, &pin)) != KQ_OK)
			goto out;
	}
	/* pin == NULL: the reader's PIN pad asks (protected path). */
	if (pin == NULL && o->on_pinpad != NULL)
		o->on_pinpad(o->on_pinpad_arg, s->label);
	r = login_with(s, &pin, &now);
out:
	kq_sbuf_free(pin);
	return r;
}
