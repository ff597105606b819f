/*
 * keyquorum CLI: the ceremony's voice.  Terminal lines on stdout (errors
 * on stderr), or with --json one JSON object per line on stdout with the
 * fields of docs/json-events.md.
 */
#include "ui.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "common/err.h"
#include "hsm/hsm.h"

void
ui_init(struct ui *u, int json)
{
	u->json = json;
	u->colour = !json && cli_colour(1);
}

static void
ui_json(const struct ceremony_event *ev)
{
	json_t *o = json_object();
	char fp[HSM_FP_STR_LEN], buf[4096];
	size_t n;

	if (o == NULL)
		return;
	json_object_set_new(
	    o, "event", json_string(ceremony_event_name(ev->type)));
	if (ev->holder != NULL)
		json_object_set_new(o, "holder", json_string(ev->holder));
	if (ev->token != NULL)
		json_object_set_new(o, "token", json_string(ev->token));
	if (ev->fingerprint != NULL) {
		hsm_fingerprint_str(ev->fingerprint, fp);
		json_object_set_new(o, "fingerprint", json_string(fp));
	}
	if (ev->needed != NULL)
		json_object_set_new(o, "needed", json_string(ev->needed));
	if (ev->type == CEREMONY_EV_PROGRESS || ev->threshold > 0) {
		json_object_set_new(o, "progress", json_integer(ev->progress));
		json_object_set_new(
		    o, "threshold", json_integer(ev->threshold));
	}
	if (ev->code != 0) {
		json_object_set_new(
		    o, "code", json_string(kq_errname(ev->code)));
		json_object_set_new(
		    o, "exit_status", json_integer(kq_exit_status(ev->code)));
	}
	if (ev->message != NULL)
		json_object_set_new(o, "message", json_string(ev->message));
	/* Into a local buffer: jansson's allocator is the wiping one. */
	n = json_dumpb(o, buf, sizeof(buf), JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (n > 0 && n < sizeof(buf))
		printf("%.*s\n", (int)n, buf);
	json_decref(o);
	fflush(stdout);
}

void
ui_event(void *arg, const struct ceremony_event *ev)
{
	struct ui *u = arg;
	char fp[HSM_FP_STR_LEN];
	const char *b = u->colour ? "\033[1m" : "",
	           *n = u->colour ? "\033[0m" : "";
	const char *m = ev->message != NULL ? ev->message : "";

	if (u->json) {
		ui_json(ev);
		return;
	}
	switch (ev->type) {
	case CEREMONY_EV_WAITING:
		printf("... waiting: %s\n", m);
		break;
	case CEREMONY_EV_TOKEN_FOUND:
		hsm_fingerprint_str(ev->fingerprint, fp);
		printf("%s%s%s: token \"%s\", key %s matches%s%s\n", b,
		    ev->holder, n, ev->token != NULL ? ev->token : "?", fp,
		    *m ? "; " : "", m);
		break;
	case CEREMONY_EV_PIN_NEEDED:
		printf("%s%s%s: PIN for token \"%s\" (%s)\n", b, ev->holder, n,
		    ev->token != NULL ? ev->token : "?", m);
		break;
	case CEREMONY_EV_SHARE_ACCEPTED:
		printf("%s%s%s: share opened on the token, commitment "
		       "matches, given to %s\n",
		    b, ev->holder, n, m);
		break;
	case CEREMONY_EV_PROGRESS:
		printf("    progress %u/%u\n", ev->progress, ev->threshold);
		break;
	case CEREMONY_EV_REMOVE_TOKEN:
		printf("%s%s%s: done with token \"%s\"; remove it now\n", b,
		    ev->holder, n, ev->token != NULL ? ev->token : "?");
		break;
	case CEREMONY_EV_DONE:
		printf("%sdone%s: %s\n", b, n, m);
		break;
	case CEREMONY_EV_ERROR:
		fflush(stdout);
		fprintf(stderr, "keyquorum: ceremony: %s\n",
		    *m ? m : kq_strerror(ev->code));
		break;
	case CEREMONY_EV_INFO:
		printf("%s\n", m);
		break;
	}
	fflush(stdout);
}

void
ui_say(struct ui *u, enum ceremony_event_type type, int code,
    const char *holder, const char *fmt, ...)
{
	struct ceremony_event ev;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.code = code;
	ev.holder = holder;
	ev.message = msg;
	ui_event(u, &ev);
}
