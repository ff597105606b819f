/*
 * keyquorum: the ceremony engine.  One loop, many sinks: for each holder,
 * find the token (scripted: by the custody entry's URI; interactive: by
 * polling the slot list for a key whose fingerprint belongs to a holder
 * not yet used), make sure the token's key is the recorded one, log in,
 * unseal the share with its context, check its commitment, hand it to the
 * sink, wipe it and log out.  Nothing here prints: events go to a
 * callback, steps to the transcript (never a secret).
 */
#include "ceremony/ceremony.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceremony/cer_int.h"
#include "ceremony/engine_int.h"
#include "common/err.h"
#include "common/secmem.h"
#include "hsm/hsm.h"
#include "hsm/pcsc.h"

#define SHARE_CTX_LABEL "keyquorum/sealed-share/v1"
#define URI_MAX 2048

int
ceremony_share_context(const struct custody_set *cs,
    const struct custody_holder *h, uint8_t x, uint8_t *out, size_t cap,
    size_t *len)
{
	const char *kind = custody_kind_name(cs->kind);
	size_t nl = strlen(h->name), kl = kind == NULL ? 0 : strlen(kind);
	size_t need = sizeof(SHARE_CTX_LABEL) + CUSTODY_SET_ID_LEN + 2 + nl +
	    1 + 1 + kl + 2 + CUSTODY_FPR_LEN;
	size_t o = 0;

	if (kind == NULL || nl > 0xffff || kl > 0xff ||
	    cs->threshold > 0xffff || need > cap)
		return KQ_ERR_INVALID;
	memcpy(out + o, SHARE_CTX_LABEL, sizeof(SHARE_CTX_LABEL));
	o += sizeof(SHARE_CTX_LABEL); /* with its NUL */
	memcpy(out + o, cs->set_id, CUSTODY_SET_ID_LEN);
	o += CUSTODY_SET_ID_LEN;
	out[o++] = (uint8_t)(nl >> 8);
	out[o++] = (uint8_t)nl;
	memcpy(out + o, h->name, nl);
	o += nl;
	out[o++] = x;
	out[o++] = (uint8_t)kl;
	memcpy(out + o, kind, kl);
	o += kl;
	out[o++] = (uint8_t)(cs->threshold >> 8);
	out[o++] = (uint8_t)cs->threshold;
	memcpy(out + o, h->fingerprint, CUSTODY_FPR_LEN);
	o += CUSTODY_FPR_LEN;
	*len = o;
	return KQ_OK;
}

const char *
ceremony_event_name(enum ceremony_event_type t)
{
	switch (t) {
	case CEREMONY_EV_WAITING:
		return "waiting-for-token";
	case CEREMONY_EV_TOKEN_FOUND:
		return "token-found";
	case CEREMONY_EV_PIN_NEEDED:
		return "pin-needed";
	case CEREMONY_EV_SHARE_ACCEPTED:
		return "share-accepted";
	case CEREMONY_EV_PROGRESS:
		return "progress";
	case CEREMONY_EV_REMOVE_TOKEN:
		return "remove-token";
	case CEREMONY_EV_DONE:
		return "done";
	case CEREMONY_EV_ERROR:
		return "error";
	case CEREMONY_EV_INFO:
		return "info";
	}
	return "unknown";
}

int
ceremony_log(struct transcript *t, const struct custody_set *cs, const char *op,
    const char *outcome, const char *holder, const uint8_t *fpr,
    const struct ceremony_progress *p, const char *detail)
{
	struct transcript_entry e;

	if (t == NULL)
		return KQ_OK;
	memset(&e, 0, sizeof(e));
	e.op = op;
	e.outcome = outcome;
	e.set_id = cs != NULL ? cs->set_id : NULL;
	e.holder = holder;
	e.fingerprint = fpr;
	if (p != NULL && p->has_vault) {
		e.has_vault = 1;
		e.vault_progress = p->progress;
		e.vault_threshold = p->threshold;
		e.vault_nonce = p->nonce[0] != '\0' ? p->nonce : NULL;
	}
	e.detail = detail != NULL && *detail != '\0' ? detail : NULL;
	return transcript_append(t, &e);
}

/* ---- the engine's state ---- */

void
eng_emit(struct eng *e, enum ceremony_event_type type, const char *holder,
    const char *token, const uint8_t *fpr, int code, const char *fmt, ...)
{
	struct ceremony_event ev;
	char msg[CEREMONY_DETAIL_MAX * 2];
	va_list ap;

	if (e->o->on_event == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	msg[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	ev.type = type;
	ev.holder = holder;
	ev.token = token;
	ev.fingerprint = fpr;
	ev.code = code;
	ev.message = msg[0] != '\0' ? msg : NULL;
	ev.progress = e->progress.progress;
	ev.threshold = e->progress.threshold;
	e->o->on_event(e->o->event_arg, &ev);
}

int
eng_stopped(const struct eng *e)
{
	return e->o->stop != NULL && *e->o->stop != 0;
}

/* Sleep ms, cut short by a signal; 1 when the ceremony must stop. */
int
eng_sleep(struct eng *e, long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	if (eng_stopped(e))
		return 1;
	(void)nanosleep(&ts, NULL);
	return eng_stopped(e);
}

/*
 * Wait up to ms for a card to be inserted (PC/SC events, when pcscd runs),
 * else sleep ms; HSM slots are looked at again either way.  1 when the
 * ceremony must stop.
 */
static int
eng_wait_insert(struct eng *e, long ms)
{
	struct pcsc_event ev;
	int r;

	if (!e->pcsc_tried) {
		e->pcsc_tried = 1;
		if (pcsc_open(&e->pcsc) != KQ_OK)
			e->pcsc = NULL;
	}
	if (e->pcsc == NULL)
		return eng_sleep(e, ms);
	if (eng_stopped(e))
		return 1;
	r = pcsc_wait(e->pcsc, NULL, PCSC_WAIT_INSERT, ms, &ev);
	if (r != KQ_OK && r != KQ_ERR_TIMEOUT) {
		/* pcscd went away: fall back to plain polling. */
		pcsc_close(e->pcsc);
		e->pcsc = NULL;
		return eng_sleep(e, ms);
	}
	if (r == KQ_OK) /* let OpenSC notice the card before looking */
		(void)eng_sleep(e, 150);
	return eng_stopped(e);
}

static const char *
pin_source_for(const struct ceremony_opts *o, const char *holder)
{
	size_t i;

	for (i = 0; i < o->n_pins; i++)
		if (strcmp(o->pins[i].holder, holder) == 0)
			return o->pins[i].source;
	return NULL;
}

/*
 * uri with "pin-source=SRC" added as a query attribute (percent-encoded),
 * into out.  The URI's own pin-source, if any, is kept when src is NULL.
 */
static int
uri_with_pin(const char *uri, const char *src, char *out, size_t cap)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t o, i;

	if ((o = strlen(uri)) >= cap)
		return KQ_ERR_TOO_LONG;
	memcpy(out, uri, o + 1);
	if (src == NULL)
		return KQ_OK;
	if (strstr(uri, "pin-source=") != NULL)
		return KQ_ERR_URI; /* two pin sources: say so, do not guess */
	if (o + 12 >= cap)
		return KQ_ERR_TOO_LONG;
	memcpy(out + o, strchr(uri, '?') != NULL ? "&" : "?", 1);
	o++;
	memcpy(out + o, "pin-source=", 11);
	o += 11;
	for (i = 0; src[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)src[i];
		int plain = (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~' ||
		    ch == '/' || ch == ':';

		if (o + 4 >= cap)
			return KQ_ERR_TOO_LONG;
		if (plain) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hexd[ch >> 4];
			out[o++] = hexd[ch & 15];
		}
	}
	out[o] = '\0';
	return KQ_OK;
}

/* True when the operator named path on the command line. */
static int
module_allowed(const struct ceremony_opts *o, const char *path)
{
	size_t i;

	if (o->module != NULL && strcmp(o->module, path) == 0)
		return 1;
	for (i = 0; i < o->n_modules; i++)
		if (o->modules[i] != NULL && strcmp(o->modules[i], path) == 0)
			return 1;
	return 0;
}

/* The module a holder's token is reached through: a key for the cache. */
static const char *
module_key(const struct eng *e, const struct hsm_uri *u)
{
	if (u != NULL && hsm_uri_module_path(u) != NULL)
		return hsm_uri_module_path(u);
	if (e->o->module != NULL)
		return e->o->module;
	if (u != NULL && hsm_uri_module_name(u) != NULL)
		return hsm_uri_module_name(u);
	return "";
}

/* The loaded module for u (cached: a module is initialised once). */
int
eng_ctx(
    struct eng *e, const struct hsm_uri *u, struct hsm_ctx **out, char *detail)
{
	const char *key = module_key(e, u);
	const char *mp = u != NULL ? hsm_uri_module_path(u) : NULL;
	char why[CEREMONY_DETAIL_MAX];
	size_t i;
	int r;

	if (mp != NULL && !module_allowed(e->o, mp)) {
		cer_detail(detail,
		    "the token URI names module-path=%s, which this ceremony "
		    "was not told to load (a PKCS#11 module named only in the "
		    "custody file is never loaded: pass --module %s to allow "
		    "it)",
		    mp, mp);
		return KQ_ERR_MODULE;
	}

	for (i = 0; i < e->n_ctx; i++) {
		if (strcmp(e->ctx_key[i], key) == 0) {
			*out = e->ctx[i];
			return KQ_OK;
		}
	}
	if (e->n_ctx == ENG_MAX_MODULES) {
		cer_detail(detail, "more than %d PKCS#11 modules named",
		    ENG_MAX_MODULES);
		return KQ_ERR_MODULE;
	}
	if ((e->ctx_key[e->n_ctx] = strdup(key)) == NULL)
		return KQ_ERR_NOMEM;
	why[0] = '\0';
	r = hsm_ctx_open(mp != NULL ? mp : e->o->module, u, &e->ctx[e->n_ctx],
	    why, sizeof(why));
	if (r != KQ_OK) {
		free(e->ctx_key[e->n_ctx]);
		cer_detail(detail, "%s", why);
		return r;
	}
	*out = e->ctx[e->n_ctx++];
	return KQ_OK;
}

void
eng_release(struct eng *e)
{
	size_t i;

	for (i = 0; i < e->n_ctx; i++) {
		hsm_ctx_close(e->ctx[i]);
		free(e->ctx_key[i]);
	}
	e->n_ctx = 0;
}

void
eng_tok_close(struct eng_tok *t)
{
	hsm_session_close(t->s); /* logs out */
	hsm_pubkey_free(t->k);
	hsm_uri_free(t->u);
	memset(t, 0, sizeof(*t));
}

/*
 * Open holder h's token through uri_str (its custody URI, or the URI of
 * the key found while polling) with h's pin source added, read the key
 * and make sure its fingerprint is the one recorded for h.
 */
int
eng_tok_open(struct eng *e, const struct custody_holder *h, const char *uri_str,
    struct eng_tok *t, char *detail)
{
	char uri[URI_MAX], why[CEREMONY_DETAIL_MAX], fs[2][HSM_FP_STR_LEN];
	struct hsm_ctx *c = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	r = uri_with_pin(
	    uri_str, pin_source_for(e->o, h->name), uri, sizeof(uri));
	if (r != KQ_OK) {
		cer_detail(detail,
		    "holder %s: the token URI is too long or "
		    "has its own pin-source besides --pin-source",
		    h->name);
		goto out;
	}
	if ((r = hsm_uri_parse(uri, &t->u, why, sizeof(why))) != KQ_OK) {
		cer_detail(detail, "holder %s: token URI: %s", h->name, why);
		goto out;
	}
	if ((r = eng_ctx(e, t->u, &c, why)) != KQ_OK) {
		cer_detail(detail, "holder %s: %s", h->name, why);
		goto out;
	}
	t->c = c;
	if ((r = hsm_session_open(c, t->u, 0, &t->s)) != KQ_OK) {
		cer_detail(detail, "holder %s: %s%s%s", h->name, kq_strerror(r),
		    *hsm_ctx_detail(c) ? ": " : "", hsm_ctx_detail(c));
		goto out;
	}
	snprintf(
	    t->label, sizeof(t->label), "%s", hsm_session_token_label(t->s));
	if ((r = hsm_pubkey_from_token(t->s, t->u, &t->k)) != KQ_OK) {
		cer_detail(detail, "holder %s, token \"%s\": %s", h->name,
		    t->label, kq_strerror(r));
		goto out;
	}
	if (memcmp(hsm_pubkey_fingerprint(t->k), h->fingerprint,
	        CUSTODY_FPR_LEN) != 0) {
		hsm_fingerprint_str(hsm_pubkey_fingerprint(t->k), fs[0]);
		hsm_fingerprint_str(h->fingerprint, fs[1]);
		cer_detail(detail,
		    "holder %s: token \"%s\" has key %s, but the "
		    "custody set records %s for %s: not this holder's token",
		    h->name, t->label, fs[0], fs[1], h->name);
		r = KQ_ERR_WRONG_TOKEN;
		goto out;
	}
	r = KQ_OK;
out:
	if (r != KQ_OK)
		eng_tok_close(t);
	return r;
}

/*
 * The holder's part once the token is open: check the blob before the PIN,
 * log in, unseal, check the commitment, give the share to the sink.
 */
static int
eng_holder_share(struct eng *e, const struct custody_holder *h,
    struct eng_tok *t, const struct ceremony_sink *sink, char *detail)
{
	const struct custody_set *cs = e->cs;
	const struct ceremony_opts *o = e->o;
	struct hsm_login_opts lo;
	struct hsm_blob b;
	struct kq_sbuf *share = NULL;
	char who[160];
	uint8_t ctx[CEREMONY_CTX_MAX];
	size_t ctx_len;
	struct hsm_token_id tid;
	const char *src, *how;
	int r;

	if (h->enrolled == 0 || h->sealed == NULL) {
		cer_detail(detail, "holder %s has no share enrolled", h->name);
		r = KQ_ERR_NOT_ENROLLED;
		goto out;
	}
	if ((r = ceremony_share_context(
	         cs, h, h->x, ctx, sizeof(ctx), &ctx_len)) != KQ_OK)
		goto out;
	if ((r = hsm_blob_parse(h->sealed, h->sealed_len, &b)) != KQ_OK) {
		cer_detail(detail,
		    "holder %s: the sealed share in the custody "
		    "file is malformed",
		    h->name);
		goto out;
	}
	if ((r = hsm_blob_check(&b, t->k, ctx, ctx_len)) != KQ_OK) {
		cer_detail(detail,
		    "holder %s, token \"%s\": the sealed share %s", h->name,
		    t->label,
		    r == KQ_ERR_CONTEXT
		        ? "belongs to another set, holder or x-coordinate"
		        : "is sealed to another key");
		goto out;
	}
	src = pin_source_for(o, h->name);
	/* Where the PIN will come from, in the order hsm_session_login takes. */
	if (src != NULL)
		how = strncmp(src, "fd:", 3) == 0 ? "fd" : "file";
	else if (hsm_session_token_id(t->s, &tid) == KQ_OK &&
	    (tid.flags & HSM_TF_PROTECTED_AUTH_PATH))
		how = "PIN pad";
	else
		how = o->pinentry != NULL ? "pinentry" : "terminal";
	eng_emit(e, CEREMONY_EV_PIN_NEEDED, h->name, t->label, h->fingerprint,
	    0, "%s", how);
	if (eng_stopped(e)) {
		r = KQ_ERR_INTERRUPTED;
		goto out;
	}
	memset(&lo, 0, sizeof(lo));
	lo.allow_final_try = o->allow_final_try;
	lo.no_tty = o->no_tty;
	lo.pinentry = o->pinentry;
	snprintf(who, sizeof(who), "holder %s", h->name);
	lo.who = who;
	if ((r = hsm_session_login(t->s, t->u, &lo)) != KQ_OK) {
		/* The token layer's sentence names the token and the tries. */
		if (*hsm_ctx_detail(t->c) != '\0')
			cer_detail(detail, "holder %s: %s", h->name,
			    hsm_ctx_detail(t->c));
		else
			cer_detail(detail, "holder %s, token \"%s\": %s",
			    h->name, t->label, kq_strerror(r));
		goto out;
	}
	ceremony_log(o->transcript, cs, o->op, "login", h->name, h->fingerprint,
	    NULL, NULL);
	if (eng_stopped(e)) {
		r = KQ_ERR_INTERRUPTED;
		goto out;
	}
	r = hsm_unseal(
	    t->s, t->u, h->sealed, h->sealed_len, ctx, ctx_len, &share);
	if (r != KQ_OK) {
		cer_detail(detail,
		    "holder %s, token \"%s\": the sealed share does "
		    "not open: %s%s%s",
		    h->name, t->label, kq_strerror(r),
		    *hsm_ctx_detail(t->c) ? ": " : "", hsm_ctx_detail(t->c));
		goto out;
	}
	r = custody_check_share(cs, h, kq_sbuf_ptr(share), kq_sbuf_len(share));
	if (r != KQ_OK) {
		cer_detail(detail,
		    "holder %s, token \"%s\": the share does not match its "
		    "commitment; it was not used",
		    h->name, t->label);
		goto out;
	}
	if (eng_stopped(e)) {
		r = KQ_ERR_INTERRUPTED;
		goto out;
	}
	memset(&e->progress.nonce, 0, sizeof(e->progress.nonce));
	e->progress.done = 0;
	if (detail != NULL)
		detail[0] = '\0';
	r = sink->accept(sink->arg, h, kq_sbuf_ptr(share), kq_sbuf_len(share),
	    &e->progress, detail);
	kq_sbuf_free(share);
	share = NULL;
	if (r != KQ_OK)
		goto out;
	e->accepted++;
	/* A sink that took the share may leave a note in detail (Vault
	 * already had it): logged with the share and shown. */
	ceremony_log(o->transcript, cs, o->op, "share-accepted", h->name,
	    h->fingerprint, &e->progress,
	    detail != NULL && detail[0] != '\0' ? detail : sink->name);
	eng_emit(e, CEREMONY_EV_SHARE_ACCEPTED, h->name, t->label,
	    h->fingerprint, 0, "%s", sink->name);
	if (detail != NULL && detail[0] != '\0') {
		eng_emit(
		    e, CEREMONY_EV_INFO, h->name, NULL, NULL, 0, "%s", detail);
		detail[0] = '\0';
	}
	if (e->progress.has_vault || e->progress.threshold > 0)
		eng_emit(e, CEREMONY_EV_PROGRESS, h->name, NULL, NULL, 0, NULL);
out:
	kq_sbuf_free(share);
	kq_wipe(ctx, sizeof(ctx));
	return r;
}

static const char *
needed_list(struct eng *e, char *buf, size_t cap)
{
	size_t i, o = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < e->cs->n_holders; i++) {
		if (e->used[i] || e->cs->holders[i].enrolled == 0)
			continue;
		n = snprintf(buf + o, cap - o, "%s%s", o ? ", " : "",
		    e->cs->holders[i].name);
		if (n < 0 || (size_t)n >= cap - o)
			break;
		o += (size_t)n;
	}
	return buf;
}

/* One holder, start to end.  r is the holder's outcome. */
static int
eng_one(struct eng *e, size_t idx, const char *uri_str,
    const struct ceremony_sink *sink, char *detail)
{
	const struct custody_holder *h = &e->cs->holders[idx];
	struct eng_tok t;
	char label[sizeof(t.label)];
	int r;

	e->used[idx] = 1;
	if ((r = eng_tok_open(e, h, uri_str, &t, detail)) != KQ_OK)
		goto out;
	ceremony_log(e->o->transcript, e->cs, e->o->op, "token-found", h->name,
	    h->fingerprint, NULL, t.label);
	eng_emit(e, CEREMONY_EV_TOKEN_FOUND, h->name, t.label, h->fingerprint,
	    0, NULL);
	r = eng_holder_share(e, h, &t, sink, detail);
	snprintf(label, sizeof(label), "%s", t.label);
	eng_tok_close(&t);
	if (r == KQ_OK && e->o->holders == NULL)
		eng_emit(
		    e, CEREMONY_EV_REMOVE_TOKEN, h->name, label, NULL, 0, NULL);
out:
	if (r != KQ_OK) {
		if (r == KQ_ERR_INTERRUPTED || eng_stopped(e))
			return KQ_ERR_INTERRUPTED;
		ceremony_log(e->o->transcript, e->cs, e->o->op, "error",
		    h->name, h->fingerprint, NULL, detail);
		eng_emit(e, CEREMONY_EV_ERROR, h->name, NULL, h->fingerprint, r,
		    "%s", detail != NULL ? detail : kq_strerror(r));
	}
	return r;
}

/*
 * Interactive: look over every module's slots for a token holding the key
 * of a holder not yet used.  KQ_OK with *idx and uri, or KQ_ERR_NOT_FOUND.
 */
static int
eng_scan(struct eng *e, int enrolled, size_t *idx, char *uri, size_t cap,
    char *detail)
{
	struct hsm_slot *slots = NULL;
	struct hsm_keyinfo *keys = NULL;
	size_t ns = 0, nk = 0, i, j, m;
	uint8_t fpr[HSM_FP_LEN];
	struct custody_holder *h;
	struct hsm_ctx *c;
	int r = KQ_ERR_NOT_FOUND;

	/* Make sure each holder's module is loaded once. */
	for (i = 0; i < e->cs->n_holders; i++) {
		struct hsm_uri *u = NULL;

		if (e->used[i])
			continue;
		if (hsm_uri_parse(e->cs->holders[i].token_uri, &u, NULL, 0) ==
		    KQ_OK) {
			(void)eng_ctx(e, u, &c, detail);
			hsm_uri_free(u);
		}
	}
	for (m = 0; m < e->n_ctx && r == KQ_ERR_NOT_FOUND; m++) {
		if (hsm_slots(e->ctx[m], &slots, &ns) != KQ_OK)
			continue;
		for (i = 0; i < ns && r == KQ_ERR_NOT_FOUND; i++) {
			if (!slots[i].token_present)
				continue;
			if (hsm_keys(e->ctx[m], slots[i].id, &keys, &nk) !=
			    KQ_OK)
				continue;
			for (j = 0; j < nk; j++) {
				if (hsm_fingerprint_parse(
				        keys[j].fingerprint, fpr) != KQ_OK)
					continue;
				h = custody_holder_by_fpr(e->cs, fpr);
				if (h == NULL ||
				    e->used[(size_t)(h - e->cs->holders)] ||
				    (enrolled && h->enrolled == 0))
					continue;
				if (strlen(keys[j].uri) >= cap)
					continue;
				memcpy(
				    uri, keys[j].uri, strlen(keys[j].uri) + 1);
				*idx = (size_t)(h - e->cs->holders);
				r = KQ_OK;
				break;
			}
			free(keys);
			keys = NULL;
		}
		free(slots);
		slots = NULL;
	}
	return r;
}

static int
eng_next_interactive(
    struct eng *e, size_t *idx, char *uri, size_t cap, char *detail)
{
	char needed[1024], last[1024];
	time_t start = time(NULL);
	long poll = e->o->poll_ms > 0 ? e->o->poll_ms : 500;
	int r;

	last[0] = '\0';
	for (;;) {
		if (eng_stopped(e))
			return KQ_ERR_INTERRUPTED;
		needed_list(e, needed, sizeof(needed));
		if (needed[0] == '\0')
			return KQ_ERR_QUORUM_SHORT;
		if ((r = eng_scan(e, 1, idx, uri, cap, detail)) == KQ_OK)
			return KQ_OK;
		if (strcmp(needed, last) != 0) {
			eng_emit(e, CEREMONY_EV_WAITING, NULL, NULL, NULL, 0,
			    "insert the token of one of: %s", needed);
			memcpy(last, needed, sizeof(last));
		}
		if (e->o->wait_s > 0 && time(NULL) - start >= e->o->wait_s) {
			cer_detail(detail,
			    "no holder's token appeared within %ld s "
			    "(still needed: %s)",
			    e->o->wait_s, needed);
			return KQ_ERR_TIMEOUT;
		}
		if (eng_wait_insert(e, poll))
			return KQ_ERR_INTERRUPTED;
	}
}

int
eng_begin(struct eng *e, const struct custody_set *cs,
    const struct ceremony_opts *o, char *detail)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	e->cs = cs;
	e->o = o;
	if ((e->used = calloc(cs->n_holders + 1, 1)) == NULL)
		return KQ_ERR_NOMEM;
	for (i = 0; o->holders != NULL && i < o->n_holders; i++) {
		if (custody_holder_by_name(cs, o->holders[i]) == NULL) {
			cer_detail(detail, "the set has no holder named \"%s\"",
			    o->holders[i]);
			free(e->used);
			e->used = NULL;
			return KQ_ERR_HOLDER_UNKNOWN;
		}
	}
	return KQ_OK;
}

void
eng_end(struct eng *e)
{
	pcsc_close(e->pcsc);
	e->pcsc = NULL;
	eng_release(e);
	free(e->used);
	e->used = NULL;
}

int
ceremony_collect(const struct custody_set *cs, const struct ceremony_opts *o,
    const struct ceremony_sink *sink, int *status, char *detail)
{
	struct eng e;
	char uri[URI_MAX], d[CEREMONY_DETAIL_MAX];
	size_t next = 0, idx;
	int r, hr;

	if (status != NULL)
		memset(status, 0, cs->n_holders * sizeof(*status));
	if ((r = eng_begin(&e, cs, o, detail)) != KQ_OK)
		return r;
	ceremony_log(o->transcript, cs, o->op, "started", NULL, NULL, NULL,
	    o->holders != NULL ? "scripted" : "interactive");
	for (;;) {
		if (eng_stopped(&e)) {
			r = KQ_ERR_INTERRUPTED;
			break;
		}
		d[0] = '\0';
		if (o->holders != NULL) {
			const struct custody_holder *h;

			if (next == o->n_holders) {
				r = o->keep_going ? KQ_OK : KQ_ERR_QUORUM_SHORT;
				break;
			}
			h = custody_holder_by_name(cs, o->holders[next++]);
			idx = (size_t)(h - cs->holders);
			if (e.used[idx])
				continue; /* named twice: once is enough */
			hr = eng_one(&e, idx, h->token_uri, sink, d);
		} else {
			r = eng_next_interactive(&e, &idx, uri, sizeof(uri), d);
			if ((r == KQ_ERR_QUORUM_SHORT || r == KQ_ERR_TIMEOUT) &&
			    o->keep_going) {
				r = KQ_OK; /* every holder who came was asked */
				break;
			}
			if (r != KQ_OK) {
				cer_detail(detail, "%s", d);
				break;
			}
			hr = eng_one(&e, idx, uri, sink, d);
		}
		if (status != NULL)
			status[idx] = hr == KQ_OK ? 1 : hr;
		if (hr == KQ_ERR_INTERRUPTED) {
			r = hr;
			break;
		}
		if (hr != KQ_OK) {
			if (o->keep_going)
				continue;
			/* Interactive: another holder may still come. */
			if (o->holders == NULL && hr != KQ_ERR_PROGRESS_LOST &&
			    kq_exit_status(hr) != KQ_EXIT_VAULT)
				continue;
			cer_detail(detail, "%s", d);
			r = hr;
			break;
		}
		if (e.progress.done ||
		    (o->max_shares > 0 && e.accepted >= o->max_shares)) {
			r = KQ_OK;
			break;
		}
	}
	if (r == KQ_ERR_INTERRUPTED) {
		cer_detail(detail, "interrupted by a signal");
		ceremony_log(o->transcript, cs, o->op, "aborted", NULL, NULL,
		    e.progress.has_vault ? &e.progress : NULL,
		    "interrupted by a signal; shares wiped, tokens logged out");
	} else if (r == KQ_OK) {
		ceremony_log(o->transcript, cs, o->op, "done", NULL, NULL,
		    e.progress.has_vault ? &e.progress : NULL, NULL);
	} else {
		if (r == KQ_ERR_QUORUM_SHORT && d[0] == '\0')
			cer_detail(detail,
			    "%zu share%s accepted; the holders given "
			    "are exhausted",
			    e.accepted, e.accepted == 1 ? "" : "s");
		ceremony_log(o->transcript, cs, o->op, "error", NULL, NULL,
		    e.progress.has_vault ? &e.progress : NULL, detail);
	}
	eng_end(&e);
	return r;
}

int
ceremony_collect_pubkeys(const struct custody_set *cs,
    const struct ceremony_opts *o, struct hsm_pubkey **keys, char *detail)
{
	struct eng e;
	struct eng_tok t;
	char uri[URI_MAX], d[CEREMONY_DETAIL_MAX], last[1024] = "";
	size_t i, idx, got = 0;
	int r;

	memset(keys, 0, cs->n_holders * sizeof(*keys));
	if ((r = eng_begin(&e, cs, o, detail)) != KQ_OK)
		return r;
	while (got < cs->n_holders) {
		const struct custody_holder *h;

		d[0] = '\0';
		if (eng_stopped(&e)) {
			r = KQ_ERR_INTERRUPTED;
			break;
		}
		if (o->holders != NULL) {
			if (got >= o->n_holders) {
				cer_detail(detail,
				    "every holder's token is needed; "
				    "--holders names %zu of %zu",
				    o->n_holders, cs->n_holders);
				r = KQ_ERR_QUORUM_SHORT;
				break;
			}
			h = custody_holder_by_name(cs, o->holders[got]);
			idx = (size_t)(h - cs->holders);
			snprintf(uri, sizeof(uri), "%s", h->token_uri);
		} else {
			/* Any holder (not yet enrolled) whose key appears. */
			r = KQ_ERR_NOT_FOUND;
			for (;;) {
				char needed[1024];

				for (i = 0, needed[0] = '\0'; i < cs->n_holders;
				     i++)
					if (!e.used[i])
						snprintf(
						    needed + strlen(needed),
						    sizeof(needed) -
						        strlen(needed),
						    "%s%s",
						    needed[0] ? ", " : "",
						    cs->holders[i].name);
				r = eng_scan(&e, 0, &idx, uri, sizeof(uri), d);
				if (r == KQ_OK)
					break;
				if (strcmp(needed, last) != 0)
					eng_emit(&e, CEREMONY_EV_WAITING, NULL,
					    NULL, NULL, 0,
					    "insert the token of one of: %s",
					    needed);
				snprintf(last, sizeof(last), "%s", needed);
				if (eng_wait_insert(&e,
				        o->poll_ms > 0 ? o->poll_ms : 500)) {
					r = KQ_ERR_INTERRUPTED;
					break;
				}
			}
			if (r != KQ_OK)
				break;
			h = &cs->holders[idx];
		}
		if (e.used[idx]) {
			cer_detail(detail, "holder %s is named twice", h->name);
			r = KQ_ERR_USAGE;
			break;
		}
		e.used[idx] = 1;
		if ((r = eng_tok_open(&e, h, uri, &t, d)) != KQ_OK) {
			cer_detail(detail, "%s", d);
			eng_emit(&e, CEREMONY_EV_ERROR, h->name, NULL,
			    h->fingerprint, r, "%s", d);
			break;
		}
		eng_emit(&e, CEREMONY_EV_TOKEN_FOUND, h->name, t.label,
		    h->fingerprint, 0, "public key read (no PIN needed)");
		ceremony_log(o->transcript, cs, o->op, "public-key", h->name,
		    h->fingerprint, NULL, t.label);
		keys[idx] = t.k;
		t.k = NULL;
		eng_tok_close(&t);
		got++;
	}
	if (r != KQ_OK) {
		for (i = 0; i < cs->n_holders; i++) {
			hsm_pubkey_free(keys[i]);
			keys[i] = NULL;
		}
		if (r == KQ_ERR_INTERRUPTED)
			cer_detail(detail, "interrupted by a signal");
	}
	eng_end(&e);
	return r;
}

int
ceremony_seal_share(struct custody_set *cs, size_t index,
    const struct hsm_pubkey *k, const uint8_t *share, size_t len, char *detail)
{
	struct custody_holder *h = &cs->holders[index];
	uint8_t ctx[CEREMONY_CTX_MAX], com[CUSTODY_COMMIT_LEN];
	uint8_t *blob = NULL;
	size_t ctx_len, blob_len;
	uint8_t x;
	int r;

	if (len < CUSTODY_MIN_SHARE) {
		cer_detail(detail,
		    "holder %s: a share of %zu bytes is under 128 bits",
		    h->name, len);
		r = KQ_ERR_INVALID;
		goto out;
	}
	if (memcmp(hsm_pubkey_fingerprint(k), h->fingerprint,
	        CUSTODY_FPR_LEN) != 0) {
		cer_detail(detail, "holder %s: not the holder's key", h->name);
		r = KQ_ERR_WRONG_TOKEN;
		goto out;
	}
	x = share[len - 1];
	if ((r = custody_commitment(cs->set_id, x, share, len, com)) != KQ_OK)
		goto out;
	if ((r = ceremony_share_context(
	         cs, h, x, ctx, sizeof(ctx), &ctx_len)) != KQ_OK)
		goto out;
	if ((r = hsm_seal(k, ctx, ctx_len, share, len, &blob, &blob_len)) !=
	    KQ_OK) {
		cer_detail(detail, "holder %s: sealing failed: %s", h->name,
		    kq_strerror(r));
		goto out;
	}
	r = custody_holder_set_share(cs, index, x, com, blob, blob_len, detail);
out:
	free(blob);
	kq_wipe(ctx, sizeof(ctx));
	return r;
}

int
ceremony_holder_pubkey(const struct custody_set *cs,
    const struct ceremony_opts *o, size_t index, struct hsm_pubkey **out,
    char *detail)
{
	const struct custody_holder *h = &cs->holders[index];
	struct eng e;
	struct eng_tok t;
	int r;

	if ((r = eng_begin(&e, cs, o, detail)) != KQ_OK)
		return r;
	if ((r = eng_tok_open(&e, h, h->token_uri, &t, detail)) == KQ_OK) {
		eng_emit(&e, CEREMONY_EV_TOKEN_FOUND, h->name, t.label,
		    h->fingerprint, 0, "public key read (no PIN needed)");
		*out = t.k;
		t.k = NULL;
		eng_tok_close(&t);
	}
	eng_end(&e);
	return r;
}
