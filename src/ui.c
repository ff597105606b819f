/*
 * keyquorum CLI: the ceremony's voice.  Terminal lines on stdout (errors
 * on stderr), or with --json one JSON object per line on stdout with the
 * fields of docs/json-events.md.
 *
 * A terminal line starts with a marker an operator can scan for:
 *   ==  the ceremony and what it needs
 *   --  waiting: who is still needed, which readers are watched
 *   >>  a holder's step (token found, PIN, share accepted)
 *   !!  remove your token
 * Colour (bold names, yellow waits, green success, red errors) only on a
 * terminal, never when NO_COLOR is set and not empty or TERM is dumb.
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

#define SGR_BOLD "\033[1m"
#define SGR_RED "\033[1;31m"
#define SGR_GREEN "\033[1;32m"
#define SGR_YELLOW "\033[1;33m"
#define SGR_REMOVE "\033[1;7;33m" /* bold, reverse, yellow */
#define SGR_OFF "\033[0m"

static int
term_ok(void)
{
	const char *t = getenv("TERM");

	return t == NULL || strcmp(t, "dumb") != 0;
}

void
ui_init(struct ui *u, int json)
{
	memset(u, 0, sizeof(*u));
	u->json = json;
	u->colour = !json && cli_colour(1) && term_ok();
	u->colour_err = cli_colour(2) && term_ok();
	u->unit = "share";
}

/* The escape sequence s, or nothing without colour. */
static const char *
sgr(const struct ui *u, const char *s)
{
	return u->colour ? s : "";
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
ui_begin(struct ui *u, const char *op, const struct custody_set *cs,
    unsigned threshold)
{
	size_t i;

	u->progress = 0;
	u->threshold = threshold;
	u->cs = cs;
	memset(u->given, 0, sizeof(u->given));
	if (u->json)
		return;
	printf("%s== keyquorum ceremony %s: set \"%s\" (%s), ",
	    sgr(u, SGR_BOLD), op, cs->name != NULL ? cs->name : "?",
	    custody_kind_name(cs->kind));
	if (threshold > 0 && threshold >= cs->n_holders)
		printf("all %zu holders needed ==%s\n", cs->n_holders,
		    sgr(u, SGR_OFF));
	else if (threshold > 0)
		printf("%u of %zu holders needed ==%s\n", threshold,
		    cs->n_holders, sgr(u, SGR_OFF));
	else
		printf(
		    "every holder present takes part ==%s\n", sgr(u, SGR_OFF));
	printf("   holders:");
	for (i = 0; i < cs->n_holders; i++)
		printf("%s %s", i > 0 ? "," : "", cs->holders[i].name);
	printf("\n");
	fflush(stdout);
}

void
ui_progress(struct ui *u, unsigned progress, unsigned threshold)
{
	u->progress = progress;
	u->threshold = threshold;
}

/* The set's holders who have not given a share yet, "a, b". */
static const char *
not_given(const struct ui *u, char *buf, size_t cap)
{
	size_t i, o = 0;
	int k;

	buf[0] = '\0';
	for (i = 0;
	     u->cs != NULL && i < u->cs->n_holders && i < CUSTODY_MAX_HOLDERS;
	     i++) {
		if (u->given[i])
			continue;
		k = snprintf(buf + o, cap - o, "%s%s", o > 0 ? ", " : "",
		    u->cs->holders[i].name);
		if (k < 0 || (size_t)k >= cap - o)
			break;
		o += (size_t)k;
	}
	return buf;
}

static void
mark_given(struct ui *u, const char *holder)
{
	size_t i;

	for (i = 0; holder != NULL && u->cs != NULL && i < u->cs->n_holders &&
	     i < CUSTODY_MAX_HOLDERS;
	     i++)
		if (strcmp(u->cs->holders[i].name, holder) == 0)
			u->given[i] = 1;
}

/* "reader "X" (empty), reader "Y" (card present)" into buf. */
static void
readers_line(char *buf, size_t cap)
{
	struct pcsc_ctx *pc = NULL;
	struct pcsc_reader *rd = NULL;
	size_t n = 0, i, o = 0;
	int k;

	buf[0] = '\0';
	if (pcsc_open(&pc) != KQ_OK) {
		snprintf(buf, cap,
		    "no PC/SC service (pcscd): smartcards "
		    "are not watched");
		return;
	}
	if (pcsc_list(pc, &rd, &n) != KQ_OK || n == 0)
		snprintf(buf, cap, "no smartcard reader is connected");
	for (i = 0; i < n && o < cap; i++) {
		k = snprintf(buf + o, cap - o, "%sreader \"%s\" (%s)",
		    i > 0 ? ", " : "", rd[i].name,
		    !rd[i].present     ? "empty"
		        : rd[i].in_use ? "card in use"
		        : rd[i].mute   ? "card does not answer"
		                       : "card present");
		if (k < 0)
			break;
		o += (size_t)k;
	}
	free(rd);
	pcsc_close(pc);
}

static void
ui_waiting(struct ui *u, const struct ceremony_event *ev)
{
	const char *m = ev->message != NULL ? ev->message : "";
	const char *names = ev->needed, *p;
	unsigned have = ev->threshold > 0 ? ev->progress : u->progress;
	unsigned need = ev->threshold > 0 ? ev->threshold : u->threshold;
	char rd[1024];

	/* The engine says "insert the token of one of: a, b". */
	if (names == NULL && (p = strstr(m, "one of: ")) != NULL)
		names = p + strlen("one of: ");
	printf(
	    "%s-- waiting for a token%s", sgr(u, SGR_YELLOW), sgr(u, SGR_OFF));
	if (need > 0)
		printf(" (progress %u of %u)", have, need);
	printf("\n");
	if (names != NULL && need > have)
		printf("   still needed: %u more %s%s from %s%s%s\n",
		    need - have, u->unit, need - have == 1 ? "" : "s",
		    sgr(u, SGR_BOLD), names, sgr(u, SGR_OFF));
	else if (names != NULL)
		printf("   still to come: %s%s%s\n", sgr(u, SGR_BOLD), names,
		    sgr(u, SGR_OFF));
	else
		printf("   %s\n", m);
	readers_line(rd, sizeof(rd));
	printf("   watching: %s; and the token slots of each holder's "
	       "PKCS#11 module\n",
	    rd);
	printf("   insert one of these holders' tokens (Ctrl-C stops; "
	       "nothing is kept)\n");
}

void
ui_event(void *arg, const struct ceremony_event *ev)
{
	struct ui *u = arg;
	char fp[HSM_FP_STR_LEN];
	const char *b = sgr(u, SGR_BOLD), *n = sgr(u, SGR_OFF);
	const char *m = ev->message != NULL ? ev->message : "";
	const char *tok = ev->token != NULL ? ev->token : "?";
	unsigned have, need;
	char left[1024];

	if (u->json) {
		ui_json(ev);
		return;
	}
	switch (ev->type) {
	case CEREMONY_EV_WAITING:
		ui_waiting(u, ev);
		break;
	case CEREMONY_EV_TOKEN_FOUND:
		if (u->count_found) {
			mark_given(u, ev->holder);
			u->progress++;
		}
		hsm_fingerprint_str(ev->fingerprint, fp);
		printf(
		    ">> %s%s%s: token \"%s\" found; its key %s is %s's%s%s\n",
		    b, ev->holder, n, tok, fp, ev->holder, *m ? "; " : "", m);
		break;
	case CEREMONY_EV_PIN_NEEDED:
		if (strcmp(m, "file") == 0 || strcmp(m, "fd") == 0)
			printf(">> %s%s%s: PIN for token \"%s\" from the "
			       "pin source (%s)\n",
			    b, ev->holder, n, tok, m);
		else if (strcmp(m, "PIN pad") == 0)
			printf(">> %s%s%s: enter the PIN for token \"%s\" on "
			       "the reader's PIN pad\n",
			    b, ev->holder, n, tok);
		else if (strcmp(m, "pinentry") == 0)
			printf(">> %s%s%s: type the PIN for token \"%s\" in "
			       "the pinentry window\n",
			    b, ev->holder, n, tok);
		else
			printf(">> %s%s%s: type the PIN for token \"%s\" at "
			       "the prompt (it is not shown)\n",
			    b, ev->holder, n, tok);
		break;
	case CEREMONY_EV_SHARE_ACCEPTED:
		mark_given(u, ev->holder);
		printf(">> %s%s%s: %sshare opened%s on the token, commitment "
		       "matches, given to %s\n",
		    b, ev->holder, n, sgr(u, SGR_GREEN), n, m);
		break;
	case CEREMONY_EV_PROGRESS:
		have = ev->progress;
		need = ev->threshold;
		u->progress = have;
		u->threshold = need;
		printf("   progress %u/%u: %s%u of %u%s %ss", have, need, b,
		    have, need, n, u->unit);
		if (have < need && *not_given(u, left, sizeof(left)))
			printf(
			    ", %u more needed from: %s\n", need - have, left);
		else if (have < need)
			printf(", %u more needed\n", need - have);
		else
			printf(", enough\n");
		break;
	case CEREMONY_EV_REMOVE_TOKEN:
		printf("%s!! %s: remove your token \"%s\" now%s (share wiped, "
		       "token logged out)\n",
		    sgr(u, SGR_REMOVE), ev->holder, tok, n);
		break;
	case CEREMONY_EV_DONE:
		printf("%sdone%s: %s\n", sgr(u, SGR_GREEN), n, m);
		break;
	case CEREMONY_EV_ERROR:
		fflush(stdout);
		fprintf(stderr, "%skeyquorum: ceremony:%s %s\n",
		    u->colour_err ? SGR_RED : "", u->colour_err ? SGR_OFF : "",
		    *m ? m : kq_strerror(ev->code));
		break;
	case CEREMONY_EV_INFO:
		/* A holder's step ("alice: key 1 sealed ...") is marked. */
		printf("%s%s\n", ev->holder != NULL ? ">> " : "", m);
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
