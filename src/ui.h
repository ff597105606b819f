/*
 * keyquorum CLI: rendering ceremony engine events as terminal lines or as
 * one JSON object per line (--json).  Events never carry secrets.
 */
#ifndef KQ_UI_H
#define KQ_UI_H

#include "ceremony/ceremony.h"

struct ui {
	int json; /* one JSON object per line on stdout */
	int colour;
};

void ui_init(struct ui *u, int json);

/* A ceremony_event_cb: arg is a struct ui. */
void ui_event(void *arg, const struct ceremony_event *ev);

/* Emit an info / done / error event built here. */
void ui_say(struct ui *u, enum ceremony_event_type type, int code,
    const char *holder, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
