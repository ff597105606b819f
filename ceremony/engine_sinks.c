/*
 * keyquorum: the ceremony engine's sinks.  Each receives a share that has
 * opened on its holder's token and matched its commitment, uses it and
 * keeps nothing of it except (local combine) in secure memory.
 */
#include "ceremony/ceremony.h"

#include <stdio.h>
#include <string.h>

#include "ceremony/cer_int.h"
#include "common/err.h"
#include "common/secmem.h"
#include "shamir/shamir.h"

static void
copy_nonce(char dst[64], const char *src)
{
	snprintf(dst, 64, "%s", src);
}

/* ---- Vault unseal ---- */

static int
unseal_accept(void *arg, const struct custody_holder *h, const uint8_t *share,
    size_t len, struct ceremony_progress *p, char *detail)
{
	struct ceremony_unseal_sink *s = arg;
	struct vault_seal_status st, prev = s->st;
	unsigned expect;
	int r;

	memset(&st, 0, sizeof(st));
	if ((r = vault_unseal(s->vc, share, len, &st)) != KQ_OK) {
		if (vault_client_http_status(s->vc) > 0)
			cer_detail(detail,
			    "Vault did not take holder %s's share: %s (Vault "
			    "answered HTTP %ld)",
			    h->name, vault_client_detail(s->vc),
			    vault_client_http_status(s->vc));
		else
			cer_detail(detail,
			    "Vault did not take holder %s's share: %s: %s",
			    h->name, kq_strerror(r),
			    vault_client_detail(s->vc));
		return r;
	}
	s->submitted++;
	s->st = st;
	p->has_vault = 1;
	p->threshold = st.t;
	p->progress = st.sealed ? st.progress : st.t;
	copy_nonce(p->nonce, st.nonce);
	if (!st.sealed) {
		p->done = 1;
		return KQ_OK;
	}
	expect = prev.progress + 1;
	if (prev.progress > 0 && strcmp(prev.nonce, st.nonce) != 0) {
		cer_detail(detail,
		    "after holder %s's share Vault reports a new unseal "
		    "attempt (nonce changed), progress %u/%u: Vault was "
		    "restarted, resealed or its unseal attempt was reset, and "
		    "the shares given before are lost. Vault is sealed; run "
		    "the ceremony again",
		    h->name, st.progress, st.t);
		return KQ_ERR_PROGRESS_LOST;
	}
	if (st.progress == prev.progress) {
		/*
		 * Vault ignores a key it already has in this round (an
		 * earlier, interrupted ceremony gave it): nothing is lost.
		 * Said as the share's note; the next holder goes on.
		 */
		cer_detail(detail,
		    "Vault already had holder %s's share in this unseal "
		    "round (an earlier attempt gave it, or its answer was "
		    "lost and the request resent): progress stays "
		    "%u/%u; going on to the next holder",
		    h->name, st.progress, st.t);
		return KQ_OK;
	}
	if (st.progress < prev.progress) {
		cer_detail(detail,
		    "after holder %s's share Vault reports progress %u/%u, "
		    "down from %u/%u: Vault was restarted, resealed or its "
		    "unseal attempt was reset, and the shares given before "
		    "are lost. Vault is sealed; run the ceremony again",
		    h->name, st.progress, st.t, prev.progress, st.t);
		return KQ_ERR_PROGRESS_LOST;
	}
	if (st.progress != expect) {
		cer_detail(detail,
		    "after holder %s's share Vault reports progress %u/%u, "
		    "not %u/%u: someone else is giving unseal keys at the "
		    "same time. Vault is sealed; check who, then run the "
		    "ceremony again",
		    h->name, st.progress, st.t, expect, st.t);
		return KQ_ERR_VAULT;
	}
	return KQ_OK;
}

void
ceremony_unseal_sink_init(
    struct ceremony_unseal_sink *s, struct ceremony_sink *sink)
{
	s->submitted = 0;
	sink->name = "vault-unseal";
	sink->accept = unseal_accept;
	sink->arg = s;
}

/* ---- Vault generate-root ---- */

/*
 * The update failed: its answer may have been lost after Vault applied
 * the share (libcurl resends on a fresh connection, and the resend is
 * refused: "already provided", or "no root generation in progress" when
 * it was the last share).  Ask Vault where the attempt stands: KQ_OK when
 * the share counted (st filled, the ceremony goes on), else the code with
 * a detail that says, when the attempt is gone after the last share, that
 * a root token may have been generated that nobody holds.
 */
static int
root_after_failure(struct ceremony_root_sink *s, const struct custody_holder *h,
    int r, struct vault_generate_root_status *st, char *detail)
{
	struct vault_generate_root_status now;
	char why[512];
	long http = vault_client_http_status(s->vc);
	unsigned prev = s->st.progress;
	int last = s->st.required > 0 && prev + 1 >= s->st.required;
	int q;

	snprintf(why, sizeof(why), "%s", vault_client_detail(s->vc));
	memset(&now, 0, sizeof(now));
	q = vault_generate_root_status(s->vc, &now);
	if (q == KQ_OK && now.started && strcmp(now.nonce, s->nonce) == 0 &&
	    now.progress == prev + 1 && !now.complete) {
		/* Applied; only the answer was lost. */
		*st = now;
		cer_detail(detail,
		    "Vault's answer to holder %s's share was lost (%s), but "
		    "the attempt's progress shows it counted: %u/%u",
		    h->name, why, now.progress, now.required);
		return KQ_OK;
	}
	if (q == KQ_OK && now.started && strcmp(now.nonce, s->nonce) == 0) {
		cer_detail(detail,
		    "Vault did not take holder %s's share for generate-root: "
		    "%s%s; the share was not applied (the attempt stays at "
		    "%u/%u)",
		    h->name, why, http > 0 ? "" : " (no answer from Vault)",
		    now.progress, now.required);
		return r;
	}
	if (last) {
		cer_detail(detail,
		    "Vault's answer to holder %s's share (the last one "
		    "needed) did not arrive (%s), and %s: Vault may have "
		    "completed the attempt and generated a root token that "
		    "nobody holds (its encoded form cannot be fetched again). "
		    "Check 'vault operator generate-root -status' and Vault's "
		    "audit log, and revoke any root token made "
		    "('vault token revoke -accessor ...')",
		    h->name, why,
		    q != KQ_OK ? "the attempt's status cannot be read"
		               : "the attempt is no longer in progress");
		return r == KQ_OK ? KQ_ERR_VAULT_DROPPED : r;
	}
	cer_detail(detail,
	    "Vault did not take holder %s's share for generate-root: %s; %s",
	    h->name, why,
	    q != KQ_OK ? "the attempt's status cannot be read"
	               : "the attempt is no longer in progress (cancelled or "
	                 "Vault restarted): earlier shares are lost");
	return r;
}

static int
root_accept(void *arg, const struct custody_holder *h, const uint8_t *share,
    size_t len, struct ceremony_progress *p, char *detail)
{
	struct ceremony_root_sink *s = arg;
	struct vault_generate_root_status st;
	unsigned prev = s->st.progress;
	char *enc = NULL;
	int r;

	memset(&st, 0, sizeof(st));
	r = vault_generate_root_update(s->vc, s->nonce, share, len, &st, &enc);
	if (r != KQ_OK && r != KQ_ERR_NOMEM)
		r = root_after_failure(s, h, r, &st, detail);
	if (r != KQ_OK)
		return r;
	s->submitted++;
	s->st = st;
	p->has_vault = 1;
	p->threshold = st.required;
	p->progress = st.complete ? st.required : st.progress;
	copy_nonce(p->nonce, s->nonce);
	if (enc != NULL) {
		kq_secfree(s->encoded);
		s->encoded = enc;
		p->done = 1;
		return KQ_OK;
	}
	if (st.complete) {
		cer_detail(detail,
		    "Vault reports the attempt complete but sent no "
		    "encoded token");
		return KQ_ERR_VAULT_RESPONSE;
	}
	if (st.progress != prev + 1) {
		cer_detail(detail,
		    "after holder %s's share the generate-root attempt "
		    "reports progress %u/%u, not %u: the attempt was "
		    "restarted and earlier shares are lost",
		    h->name, st.progress, st.required, prev + 1);
		return KQ_ERR_PROGRESS_LOST;
	}
	return KQ_OK;
}

void
ceremony_root_sink_init(
    struct ceremony_root_sink *s, struct ceremony_sink *sink)
{
	s->encoded = NULL;
	s->submitted = 0;
	sink->name = "vault-generate-root";
	sink->accept = root_accept;
	sink->arg = s;
}

void
ceremony_root_sink_clear(struct ceremony_root_sink *s)
{
	kq_secfree(s->encoded);
	s->encoded = NULL;
}

/* ---- local combine ---- */

static int
combine_accept(void *arg, const struct custody_holder *h, const uint8_t *share,
    size_t len, struct ceremony_progress *p, char *detail)
{
	struct ceremony_combine_sink *s = arg;
	int r;

	if (s->n > 0 && len != s->share_len) {
		cer_detail(detail,
		    "holder %s's share is %zu bytes, the others %zu", h->name,
		    len, s->share_len);
		return KQ_ERR_SHAMIR_LENGTH;
	}
	if (s->n >= CUSTODY_MAX_HOLDERS || s->n >= s->threshold)
		return KQ_ERR_INVALID;
	if ((s->shares[s->n] = kq_secalloc(len)) == NULL)
		return KQ_ERR_NOMEM;
	memcpy(s->shares[s->n], share, len);
	s->share_len = len;
	s->n++;
	p->threshold = s->threshold;
	p->progress = (unsigned)s->n;
	if (s->n < s->threshold)
		return KQ_OK;
	if ((s->secret = kq_secalloc(len - 1)) == NULL)
		return KQ_ERR_NOMEM;
	r = shamir_combine(
	    (const uint8_t *const *)s->shares, s->n, len, s->secret);
	if (r != KQ_OK) {
		kq_secfree(s->secret);
		s->secret = NULL;
		cer_detail(
		    detail, "the shares do not combine: %s", kq_strerror(r));
		return r;
	}
	s->secret_len = len - 1;
	p->done = 1;
	return KQ_OK;
}

void
ceremony_combine_sink_init(struct ceremony_combine_sink *s, unsigned threshold,
    struct ceremony_sink *sink)
{
	memset(s, 0, sizeof(*s));
	s->threshold = threshold;
	sink->name = "local-combine";
	sink->accept = combine_accept;
	sink->arg = s;
}

void
ceremony_combine_sink_clear(struct ceremony_combine_sink *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		kq_secfree(s->shares[i]);
		s->shares[i] = NULL;
	}
	kq_secfree(s->secret);
	s->secret = NULL;
	s->n = s->secret_len = 0;
}

/* ---- drill ---- */

static int
drill_accept(void *arg, const struct custody_holder *h, const uint8_t *share,
    size_t len, struct ceremony_progress *p, char *detail)
{
	(void)arg;
	(void)h;
	(void)share;
	(void)len;
	(void)p;
	(void)detail;
	return KQ_OK; /* it opened on the token and matched its commitment */
}

void
ceremony_drill_sink_init(struct ceremony_sink *sink)
{
	sink->name = "drill";
	sink->accept = drill_accept;
	sink->arg = NULL;
}
