/*
 * keyquorum: the ceremony engine's private state (ceremony/engine*.c).
 */
#ifndef KQ_CEREMONY_ENGINE_INT_H
#define KQ_CEREMONY_ENGINE_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/ceremony.h"

struct hsm_ctx;
struct hsm_uri;
struct hsm_session;
struct hsm_pubkey;
struct pcsc_ctx;

#define ENG_MAX_MODULES 8

struct eng {
	const struct custody_set *cs;
	const struct ceremony_opts *o;
	unsigned char *used; /* per holder: asked already */
	size_t accepted;
	struct ceremony_progress progress;
	struct hsm_ctx *ctx[ENG_MAX_MODULES]; /* loaded modules, once each */
	char *ctx_key[ENG_MAX_MODULES];
	size_t n_ctx;
	struct pcsc_ctx *pcsc; /* card events while waiting, when pcscd runs */
	int pcsc_tried;
};

/* One holder's open token. */
struct eng_tok {
	struct hsm_uri *u;
	struct hsm_ctx *c; /* borrowed from struct eng */
	struct hsm_session *s;
	struct hsm_pubkey *k;
	char label[40];
};

int eng_begin(struct eng *e, const struct custody_set *cs,
    const struct ceremony_opts *o, char *detail);
void eng_end(struct eng *e);
void eng_release(struct eng *e);
void eng_emit(struct eng *e, enum ceremony_event_type type, const char *holder,
    const char *token, const uint8_t *fpr, int code, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
int eng_stopped(const struct eng *e);
int eng_sleep(struct eng *e, long ms);
int eng_ctx(
    struct eng *e, const struct hsm_uri *u, struct hsm_ctx **out, char *detail);
int eng_tok_open(struct eng *e, const struct custody_holder *h,
    const char *uri_str, struct eng_tok *t, char *detail);
void eng_tok_close(struct eng_tok *t);

#endif
