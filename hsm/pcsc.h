/*
 * keyquorum hsm: smartcard readers and card events through PC/SC
 * (pcsclite's pcscd).
 *
 * The ceremony engine uses this to list readers and card presence, to wait
 * for a holder to insert or pull a card, and to notice that a card left
 * during an operation.  PKCS#11 modules (OpenSC) reach the same readers
 * through the same pcscd; this layer never talks to the card itself.
 *
 * SCARD_* codes are mapped to kq_err codes in one place (pcsc.c); nothing
 * here prints.
 */
#ifndef KQ_HSM_PCSC_H
#define KQ_HSM_PCSC_H

#include <stddef.h>
#include <stdint.h>

#define PCSC_READER_NAME_MAX 128 /* pcsclite's MAX_READERNAME, with NUL */
#define PCSC_ATR_MAX 33

/* A connection to pcscd (an SCARDCONTEXT and a cancel channel). */
struct pcsc_ctx;

/* One reader and its card, as seen when listed. */
struct pcsc_reader {
	char name[PCSC_READER_NAME_MAX]; /* NUL-terminated */
	int present; /* a card is in the reader */
	int in_use; /* another program holds the card */
	int mute; /* a card that does not answer */
	uint8_t atr[PCSC_ATR_MAX]; /* valid when present */
	size_t atr_len;
};

/* What pcsc_wait waits for. */
#define PCSC_WAIT_INSERT 0x1 /* a card goes into a reader */
#define PCSC_WAIT_REMOVE 0x2 /* a card leaves a reader */
/* Also return at once when the state already holds (a card is present for
 * INSERT, absent for REMOVE) instead of waiting for a change. */
#define PCSC_WAIT_NOW 0x4

/* What happened. */
struct pcsc_event {
	char reader[PCSC_READER_NAME_MAX];
	int inserted; /* 1: a card is now in the reader; 0: it was removed */
	uint8_t atr[PCSC_ATR_MAX];
	size_t atr_len;
};

/* The card in one reader at one moment, to tell later whether it left. */
struct pcsc_mark {
	char reader[PCSC_READER_NAME_MAX];
	uint32_t events; /* pcsclite's insert/remove counter for the reader */
};

/*
 * Connect to pcscd.  *out owned by the caller (pcsc_close).
 * KQ_OK, KQ_ERR_PCSC_NO_SERVICE (pcscd not running), KQ_ERR_READER,
 * KQ_ERR_NOMEM.  *out untouched on failure.
 */
int pcsc_open(struct pcsc_ctx **out);

/* Release the context; NULL accepted.  Not while a pcsc_wait runs. */
void pcsc_close(struct pcsc_ctx *ctx);

/*
 * The readers and their cards.  *out (an array of *n, caller frees with
 * free()) may be empty (*n = 0) when no reader is connected.
 * KQ_OK, KQ_ERR_PCSC_NO_SERVICE, KQ_ERR_READER, KQ_ERR_NOMEM; outputs
 * untouched on failure.
 */
int pcsc_list(struct pcsc_ctx *ctx, struct pcsc_reader **out, size_t *n);

/*
 * Wait until a card is inserted into or removed from `reader` (its full
 * name), or any reader when reader is NULL (readers plugged in during the
 * wait are watched too).  `what` is PCSC_WAIT_INSERT and/or
 * PCSC_WAIT_REMOVE, optionally with PCSC_WAIT_NOW.  timeout_ms < 0 waits
 * forever.  A card pulled and put back between two looks counts as both.
 *
 * KQ_OK with *ev filled; KQ_ERR_TIMEOUT; KQ_ERR_INTERRUPTED after
 * pcsc_cancel (now or earlier: cancelling is sticky, see
 * pcsc_cancel_clear); KQ_ERR_READER_NOT_FOUND (a named reader that is not
 * there or goes away); KQ_ERR_PCSC_NO_SERVICE; KQ_ERR_READER; KQ_ERR_NOMEM.
 * *ev untouched unless KQ_OK.
 */
int pcsc_wait(struct pcsc_ctx *ctx, const char *reader, unsigned what,
    long timeout_ms, struct pcsc_event *ev);

/*
 * Make a running (or the next) pcsc_wait on ctx return
 * KQ_ERR_INTERRUPTED.  Async-signal-safe (one write(2) to a pipe): call it
 * from a SIGINT/SIGTERM handler.  ctx must stay valid until the wait ends.
 */
void pcsc_cancel(struct pcsc_ctx *ctx);

/* Forget an earlier pcsc_cancel so that waits work again. */
void pcsc_cancel_clear(struct pcsc_ctx *ctx);

/*
 * Remember the card now in `reader`.  KQ_OK; KQ_ERR_TOKEN_REMOVED when
 * there is no card; KQ_ERR_READER_NOT_FOUND; KQ_ERR_PCSC_NO_SERVICE;
 * KQ_ERR_READER.
 */
int pcsc_mark(struct pcsc_ctx *ctx, const char *reader, struct pcsc_mark *m);

/*
 * After an operation on the card (or when one failed): KQ_OK when the card
 * marked is still in its reader and was never out since;
 * KQ_ERR_TOKEN_REMOVED when it was removed (even if a card is back);
 * KQ_ERR_READER_NOT_FOUND when the reader itself is gone; or the codes of
 * pcsc_mark.
 */
int pcsc_check(struct pcsc_ctx *ctx, const struct pcsc_mark *m);

/* The kq_err code for a PC/SC return code (SCARD_S_SUCCESS -> KQ_OK). */
int pcsc_err(long scard_rv);

#endif
