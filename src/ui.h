/*
 * keyquorum CLI: rendering ceremony engine events as terminal lines or as
 * one JSON object per line (--json).  Events never carry secrets.
 *
 * On a terminal each line says what is happening now, who is still
 * needed, the progress as "k of n", which readers are watched, and when a
 * holder must remove their token.  Colour only where the stream is a
 * terminal and NO_COLOR is unset or empty.
 */
#ifndef KQ_UI_H
#define KQ_UI_H

#include "ceremony/ceremony.h"

struct ui {
	int json; /* one JSON object per line on stdout */
	int colour; /* stdout may carry colour */
	int colour_err; /* stderr may carry colour */
	/* What the operator is told the ceremony needs (0: not known). */
	unsigned progress, threshold;
	const char *unit; /* "share" (default) or e.g. "holder" (drill) */
	int count_found; /* init: a holder counts when their token is found */
	/* From ui_begin: the set, and which holders gave a share. */
	const struct custody_set *cs;
	unsigned char given[CUSTODY_MAX_HOLDERS];
};

void ui_init(struct ui *u, int json);

/*
 * Say which ceremony starts on which set: its holders and how many are
 * needed (threshold; 0 means every holder, as a drill).  Sets the
 * progress to 0 of that number.  Nothing with --json.
 */
void ui_begin(struct ui *u, const char *op, const struct custody_set *cs,
    unsigned threshold);

/* Vault's own numbers, when they differ from the set's (or progress > 0). */
void ui_progress(struct ui *u, unsigned progress, unsigned threshold);

/* A ceremony_event_cb: arg is a struct ui. */
void ui_event(void *arg, const struct ceremony_event *ev);

/* Emit an info / done / error event built here. */
void ui_say(struct ui *u, enum ceremony_event_type type, int code,
    const char *holder, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
