/*
 * keyquorum hsm: smartcard readers and card events through PC/SC.
 *
 * Card events come from SCardGetStatusChange.  pcsclite keeps a per-reader
 * counter of card events in the high 16 bits of dwEventState, so a card
 * pulled and put back between two looks is still seen as a removal.
 *
 * Cancelling: SCardCancel is meant for another thread, and it is not
 * async-signal-safe.  pcsc_cancel therefore only writes a byte to a pipe;
 * while pcsc_wait blocks in pcscd, a helper thread watches that pipe and
 * calls SCardCancel (again every 50 ms until the wait returns, so a cancel
 * that lands just before the blocking call is not lost).  The byte stays
 * in the pipe until pcsc_cancel_clear: cancelling is sticky.
 */
#include "hsm/pcsc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#include "common/err.h"

#define PCSC_PNP "\\\\?PnP?\\Notification"
#define PCSC_COUNTER(s) ((uint32_t)((s) >> 16) & 0xffffu)
#define PCSC_CANCEL_REPEAT_MS 50

struct pcsc_ctx {
	SCARDCONTEXT h;
	int cancel_rd; /* readable once pcsc_cancel ran */
	int cancel_wr;
};

/* The one place where SCARD_* codes become kq_err codes. */
int
pcsc_err(long rv)
{
	switch (rv) {
	case SCARD_S_SUCCESS:
		return KQ_OK;
	case SCARD_E_TIMEOUT:
		return KQ_ERR_TIMEOUT;
	case SCARD_E_CANCELLED:
		return KQ_ERR_INTERRUPTED;
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
		return KQ_ERR_PCSC_NO_SERVICE;
	case SCARD_E_NO_READERS_AVAILABLE:
		return KQ_ERR_NO_READERS;
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_READER_UNAVAILABLE:
		return KQ_ERR_READER_NOT_FOUND;
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NO_SMARTCARD:
		return KQ_ERR_TOKEN_REMOVED;
	case SCARD_E_NO_MEMORY:
		return KQ_ERR_NOMEM;
	case SCARD_E_INVALID_HANDLE:
	case SCARD_E_INVALID_PARAMETER:
	case SCARD_E_INVALID_VALUE:
		return KQ_ERR_INVALID;
	default:
		return KQ_ERR_READER;
	}
}

int
pcsc_open(struct pcsc_ctx **out)
{
	struct pcsc_ctx *c = NULL;
	int fds[2] = {-1, -1};
	long rv;
	int r = KQ_ERR_INVALID;

	if (out == NULL)
		goto out;
	r = KQ_ERR_NOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	r = KQ_ERR_READER;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
		goto out;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &c->h);
	if (rv != SCARD_S_SUCCESS) {
		r = pcsc_err(rv);
		goto out;
	}
	c->cancel_rd = fds[0];
	c->cancel_wr = fds[1];
	fds[0] = fds[1] = -1;
	*out = c;
	c = NULL;
	r = KQ_OK;
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	free(c);
	return r;
}

void
pcsc_close(struct pcsc_ctx *ctx)
{
	if (ctx == NULL)
		return;
	(void)SCardReleaseContext(ctx->h);
	close(ctx->cancel_rd);
	close(ctx->cancel_wr);
	free(ctx);
}

void
pcsc_cancel(struct pcsc_ctx *ctx)
{
	int saved = errno;
	char b = 'c';

	if (ctx != NULL && write(ctx->cancel_wr, &b, 1) < 0) {
		/* the pipe is full: a cancel is pending already */
	}
	errno = saved;
}

void
pcsc_cancel_clear(struct pcsc_ctx *ctx)
{
	char buf[64];

	if (ctx == NULL)
		return;
	while (read(ctx->cancel_rd, buf, sizeof(buf)) > 0)
		continue;
}

static int
pcsc_cancelled(const struct pcsc_ctx *ctx)
{
	struct pollfd p = {.fd = ctx->cancel_rd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/*
 * The readers as a pcsclite multi-string ("a\0b\0\0"), in *buf (free()).
 * No reader at all is KQ_OK with *count 0.
 */
static int
pcsc_reader_names(struct pcsc_ctx *ctx, char **buf, size_t *count)
{
	char *names = NULL, *p;
	DWORD len = 0;
	long rv;
	size_t n = 0;
	int tries, r = KQ_ERR_READER;

	for (tries = 0; tries < 5; tries++) {
		free(names);
		names = NULL;
		rv = SCardListReaders(ctx->h, NULL, NULL, &len);
		if (rv == SCARD_E_NO_READERS_AVAILABLE)
			break;
		if (rv != SCARD_S_SUCCESS) {
			r = pcsc_err(rv);
			goto out;
		}
		r = KQ_ERR_NOMEM;
		if ((names = malloc(len + 1)) == NULL)
			goto out;
		rv = SCardListReaders(ctx->h, NULL, names, &len);
		/* A reader plugged in between the two calls: ask again. */
		if (rv == SCARD_E_INSUFFICIENT_BUFFER)
			continue;
		if (rv == SCARD_E_NO_READERS_AVAILABLE) {
			free(names);
			names = NULL;
			break;
		}
		if (rv != SCARD_S_SUCCESS) {
			r = pcsc_err(rv);
			goto out;
		}
		names[len] = '\0';
		break;
	}
	r = KQ_ERR_READER;
	if (tries == 5)
		goto out;
	if (names == NULL) {
		r = KQ_ERR_NOMEM;
		if ((names = calloc(1, 2)) == NULL)
			goto out;
	}
	for (p = names; *p != '\0'; p += strlen(p) + 1)
		n++;
	*buf = names;
	*count = n;
	names = NULL;
	r = KQ_OK;
out:
	free(names);
	return r;
}

/* The current state of n readers (dwEventState filled), without waiting. */
static int
pcsc_look(struct pcsc_ctx *ctx, SCARD_READERSTATE *st, size_t n)
{
	size_t i;
	long rv;

	if (n == 0)
		return KQ_OK;
	for (i = 0; i < n; i++)
		st[i].dwCurrentState = SCARD_STATE_UNAWARE;
	rv = SCardGetStatusChange(ctx->h, 0, st, (DWORD)n);
	/* UNAWARE always reports a change; a timeout means "as it was". */
	if (rv == SCARD_E_TIMEOUT)
		rv = SCARD_S_SUCCESS;
	return pcsc_err(rv);
}

static void
pcsc_copy_name(char *dst, const char *src)
{
	size_t n = strnlen(src, PCSC_READER_NAME_MAX - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static size_t
pcsc_atr(const SCARD_READERSTATE *st, uint8_t *atr)
{
	size_t n = st->cbAtr;

	if (n > PCSC_ATR_MAX)
		n = PCSC_ATR_MAX;
	memcpy(atr, st->rgbAtr, n);
	return n;
}

int
pcsc_list(struct pcsc_ctx *ctx, struct pcsc_reader **out, size_t *n)
{
	SCARD_READERSTATE *st = NULL;
	struct pcsc_reader *rd = NULL;
	char *names = NULL, *p;
	size_t count = 0, i;
	int r = KQ_ERR_INVALID;

	if (ctx == NULL || out == NULL || n == NULL)
		goto out;
	if ((r = pcsc_reader_names(ctx, &names, &count)) != KQ_OK)
		goto out;
	r = KQ_ERR_NOMEM;
	if ((st = calloc(count + 1, sizeof(*st))) == NULL ||
	    (rd = calloc(count + 1, sizeof(*rd))) == NULL)
		goto out;
	for (i = 0, p = names; i < count; i++, p += strlen(p) + 1)
		st[i].szReader = p;
	if ((r = pcsc_look(ctx, st, count)) != KQ_OK)
		goto out;
	for (i = 0; i < count; i++) {
		pcsc_copy_name(rd[i].name, st[i].szReader);
		rd[i].present = (st[i].dwEventState & SCARD_STATE_PRESENT) != 0;
		rd[i].in_use =
		    (st[i].dwEventState &
		        (SCARD_STATE_INUSE | SCARD_STATE_EXCLUSIVE)) != 0;
		rd[i].mute = (st[i].dwEventState & SCARD_STATE_MUTE) != 0;
		if (rd[i].present)
			rd[i].atr_len = pcsc_atr(&st[i], rd[i].atr);
	}
	*out = rd;
	*n = count;
	rd = NULL;
	r = KQ_OK;
out:
	free(rd);
	free(st);
	free(names);
	return r;
}

/* The state of one named reader now.  KQ_ERR_READER_NOT_FOUND if absent. */
static int
pcsc_reader_now(struct pcsc_ctx *ctx, const char *reader, SCARD_READERSTATE *st)
{
	int r;

	memset(st, 0, sizeof(*st));
	st->szReader = reader;
	if ((r = pcsc_look(ctx, st, 1)) != KQ_OK)
		return r;
	if (st->dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE))
		return KQ_ERR_READER_NOT_FOUND;
	return KQ_OK;
}

int
pcsc_mark(struct pcsc_ctx *ctx, const char *reader, struct pcsc_mark *m)
{
	SCARD_READERSTATE st;
	int r = KQ_ERR_INVALID;

	if (ctx == NULL || reader == NULL || m == NULL)
		goto out;
	if ((r = pcsc_reader_now(ctx, reader, &st)) != KQ_OK)
		goto out;
	r = KQ_ERR_TOKEN_REMOVED;
	if (!(st.dwEventState & SCARD_STATE_PRESENT))
		goto out;
	pcsc_copy_name(m->reader, reader);
	m->events = PCSC_COUNTER(st.dwEventState);
	r = KQ_OK;
out:
	return r;
}

int
pcsc_check(struct pcsc_ctx *ctx, const struct pcsc_mark *m)
{
	SCARD_READERSTATE st;
	int r = KQ_ERR_INVALID;

	if (ctx == NULL || m == NULL)
		goto out;
	if ((r = pcsc_reader_now(ctx, m->reader, &st)) != KQ_OK)
		goto out;
	r = KQ_ERR_TOKEN_REMOVED;
	if (!(st.dwEventState & SCARD_STATE_PRESENT) ||
	    PCSC_COUNTER(st.dwEventState) != m->events)
		goto out;
	r = KQ_OK;
out:
	return r;
}

/* The wait's view of the readers: states[0..n) readers, then PnP. */
struct pcsc_watch {
	char *names;
	SCARD_READERSTATE *st;
	size_t n; /* readers */
	int pnp; /* states[n] is the PnP pseudo-reader */
};

static void
pcsc_watch_free(struct pcsc_watch *w)
{
	free(w->st);
	free(w->names);
	memset(w, 0, sizeof(*w));
}

/*
 * (Re)build the watch.  Readers already watched keep their last state;
 * a new reader starts as "empty", so a card already in it counts as
 * inserted.
 */
static int
pcsc_watch_build(struct pcsc_ctx *ctx, const char *reader, struct pcsc_watch *w)
{
	struct pcsc_watch nw;
	char *p;
	size_t i, j;
	int r;

	memset(&nw, 0, sizeof(nw));
	if (reader != NULL) {
		r = KQ_ERR_NOMEM;
		if ((nw.names = strdup(reader)) == NULL)
			goto out;
		nw.n = 1;
	} else {
		if ((r = pcsc_reader_names(ctx, &nw.names, &nw.n)) != KQ_OK)
			goto out;
		nw.pnp = 1;
	}
	r = KQ_ERR_NOMEM;
	if ((nw.st = calloc(nw.n + 1, sizeof(*nw.st))) == NULL)
		goto out;
	for (i = 0, p = nw.names; i < nw.n; i++, p += strlen(p) + 1)
		nw.st[i].szReader = p;
	if ((r = pcsc_look(ctx, nw.st, nw.n)) != KQ_OK)
		goto out;
	for (i = 0; i < nw.n; i++) {
		if (nw.st[i].dwEventState & SCARD_STATE_UNKNOWN) {
			r = KQ_ERR_READER_NOT_FOUND;
			if (reader != NULL)
				goto out;
			nw.st[i].dwEventState = SCARD_STATE_IGNORE;
			nw.st[i].dwCurrentState = SCARD_STATE_IGNORE;
			continue;
		}
		nw.st[i].dwCurrentState =
		    (nw.st[i].dwEventState &
		        ~(DWORD)(SCARD_STATE_PRESENT | SCARD_STATE_CHANGED)) |
		    SCARD_STATE_EMPTY;
		for (j = 0; w->st != NULL && j < w->n; j++) {
			if (strcmp(w->st[j].szReader, nw.st[i].szReader) == 0)
				nw.st[i].dwCurrentState =
				    w->st[j].dwCurrentState;
		}
	}
	if (nw.pnp) {
		nw.st[nw.n].szReader = PCSC_PNP;
		nw.st[nw.n].dwCurrentState = (DWORD)nw.n << 16;
	}
	pcsc_watch_free(w);
	*w = nw;
	memset(&nw, 0, sizeof(nw));
	r = KQ_OK;
out:
	pcsc_watch_free(&nw);
	return r;
}

/*
 * Did reader i change in a way `what` asks for?  1 with *ev filled, else
 * 0; the reader's current state moves on either way.
 */
static int
pcsc_watch_event(SCARD_READERSTATE *st, unsigned what, struct pcsc_event *ev)
{
	DWORD was = st->dwCurrentState, now = st->dwEventState;
	int was_in = (was & SCARD_STATE_PRESENT) != 0;
	int is_in = (now & SCARD_STATE_PRESENT) != 0;
	int counted = PCSC_COUNTER(was) != PCSC_COUNTER(now);
	int inserted, removed;

	inserted = is_in && (!was_in || counted);
	removed =
	    (was_in && (!is_in || counted)) || (!was_in && !is_in && counted);
	st->dwCurrentState = now & ~(DWORD)SCARD_STATE_CHANGED;
	/* Both happened: report the one that matches the reader now. */
	if ((what & PCSC_WAIT_INSERT) && inserted &&
	    (is_in || !(what & PCSC_WAIT_REMOVE))) {
		ev->inserted = 1;
		ev->atr_len = pcsc_atr(st, ev->atr);
	} else if ((what & PCSC_WAIT_REMOVE) && removed) {
		ev->inserted = 0;
		ev->atr_len = 0;
	} else {
		return 0;
	}
	pcsc_copy_name(ev->reader, st->szReader);
	return 1;
}

/* The helper thread that turns a pcsc_cancel into SCardCancel. */
struct pcsc_canceller {
	struct pcsc_ctx *ctx;
	int done_rd;
};

static void *
pcsc_canceller_main(void *arg)
{
	struct pcsc_canceller *cc = arg;
	struct pollfd p[2];
	int timeout = -1;

	for (;;) {
		p[0].fd = cc->done_rd;
		p[0].events = POLLIN;
		p[1].fd = cc->ctx->cancel_rd;
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		if (poll(p, timeout < 0 ? 2 : 1, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents != 0)
			break;
		if (timeout >= 0 || (p[1].revents & POLLIN)) {
			(void)SCardCancel(cc->ctx->h);
			timeout = PCSC_CANCEL_REPEAT_MS;
		}
	}
	return NULL;
}

static long
pcsc_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms;
}

static int
pcsc_wait_loop(struct pcsc_ctx *ctx, const char *reader, unsigned what,
    long timeout_ms, struct pcsc_watch *w, struct pcsc_event *ev)
{
	struct timespec deadline;
	DWORD tmo;
	long rv, left = 0;
	size_t i, total;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	if (timeout_ms >= 0) {
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
	}
	for (;;) {
		if (pcsc_cancelled(ctx))
			return KQ_ERR_INTERRUPTED;
		if (timeout_ms >= 0) {
			left = pcsc_ms_left(&deadline);
			if (left == 0)
				return KQ_ERR_TIMEOUT;
		}
		tmo = timeout_ms >= 0 ? (DWORD)left : INFINITE;
		total = w->n + (size_t)w->pnp;
		rv = SCardGetStatusChange(ctx->h, tmo, w->st, (DWORD)total);
		if (rv == SCARD_E_TIMEOUT)
			continue; /* the deadline check decides */
		if (rv == SCARD_E_CANCELLED)
			continue; /* ours, or stray: the cancel check decides */
		if (rv != SCARD_S_SUCCESS)
			return pcsc_err(rv);
		for (i = 0; i < w->n; i++) {
			if (!(w->st[i].dwEventState & SCARD_STATE_CHANGED))
				continue;
			if (w->st[i].dwEventState &
			    (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE)) {
				if (reader != NULL)
					return KQ_ERR_READER_NOT_FOUND;
				/* Unplugged: PnP rebuilds the watch. */
				w->st[i].dwCurrentState = SCARD_STATE_IGNORE;
				continue;
			}
			if (pcsc_watch_event(&w->st[i], what, ev))
				return KQ_OK;
		}
		if (w->pnp &&
		    (w->st[w->n].dwEventState & SCARD_STATE_CHANGED)) {
			if ((r = pcsc_watch_build(ctx, reader, w)) != KQ_OK)
				return r;
		}
	}
}

int
pcsc_wait(struct pcsc_ctx *ctx, const char *reader, unsigned what,
    long timeout_ms, struct pcsc_event *ev)
{
	struct pcsc_canceller cc = {.ctx = ctx, .done_rd = -1};
	struct pcsc_watch w;
	struct pcsc_event e;
	pthread_t th;
	int done[2] = {-1, -1}, started = 0, r = KQ_ERR_INVALID;
	size_t i;

	memset(&w, 0, sizeof(w));
	memset(&e, 0, sizeof(e));
	if (ctx == NULL || ev == NULL ||
	    (what & (PCSC_WAIT_INSERT | PCSC_WAIT_REMOVE)) == 0)
		goto out;
	r = KQ_ERR_INTERRUPTED;
	if (pcsc_cancelled(ctx))
		goto out;
	if ((r = pcsc_watch_build(ctx, reader, &w)) != KQ_OK)
		goto out;
	if (what & PCSC_WAIT_NOW) {
		for (i = 0; i < w.n; i++) {
			if (w.st[i].dwEventState & SCARD_STATE_IGNORE)
				continue;
			/* Compare with the opposite state: it "happened". */
			w.st[i].dwCurrentState =
			    (w.st[i].dwEventState & SCARD_STATE_PRESENT)
			    ? SCARD_STATE_EMPTY
			    : SCARD_STATE_PRESENT;
			w.st[i].dwCurrentState |=
			    w.st[i].dwEventState & 0xffff0000u;
			if (pcsc_watch_event(&w.st[i], what, &e)) {
				r = KQ_OK;
				goto out;
			}
		}
	}
	/* From here on, the last state seen is the reference. */
	for (i = 0; i < w.n; i++) {
		if (!(w.st[i].dwEventState & SCARD_STATE_IGNORE))
			w.st[i].dwCurrentState =
			    w.st[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	}
	r = KQ_ERR_READER;
	if (pipe2(done, O_CLOEXEC) != 0)
		goto out;
	cc.done_rd = done[0];
	if (pthread_create(&th, NULL, pcsc_canceller_main, &cc) != 0)
		goto out;
	started = 1;
	r = pcsc_wait_loop(ctx, reader, what, timeout_ms, &w, &e);
out:
	if (started) {
		char b = 'd';

		if (write(done[1], &b, 1) != 1) {
			/* cannot happen on a fresh pipe; join would hang */
		}
		(void)pthread_join(th, NULL);
	}
	if (done[0] >= 0)
		close(done[0]);
	if (done[1] >= 0)
		close(done[1]);
	pcsc_watch_free(&w);
	if (r == KQ_OK)
		*ev = e;
	return r;
}
