/*
 * keyquorum: private to hsm/ (and its tests and fuzz harnesses).  Asking
 * for a PIN through one of GnuPG's pinentry programs, spoken to over
 * libassuan.
 *
 * The PIN travels from pinentry as percent-escaped "D" lines.  They are
 * read with assuan_read_line() from libassuan's line buffer, which lives
 * in secure memory (the context is made with wiping allocators), and
 * decoded by pinentry_reply_line() straight into a kq_sbuf; the line is
 * wiped right after.  Nothing here prints or exits.
 */
#ifndef KQ_HSM_PINENTRY_H
#define KQ_HSM_PINENTRY_H

#include <stddef.h>

struct kq_sbuf;
struct pinentry;

/* The program looked up on PATH when none is named. */
#define PINENTRY_DEFAULT "pinentry"
/* Names the program (never a PIN) when the caller asks for the default. */
#define PINENTRY_ENV "KEYQUORUM_PINENTRY"
/* The longest PIN accepted from pinentry. */
#define PINENTRY_PIN_MAX 256

/*
 * Decode percent-escaped Assuan data (the text after "D ", n bytes, not
 * NUL-terminated) and append it to out.  Strict: every '%' is followed by
 * two hex digits, and no byte (raw or decoded) is NUL.  KQ_OK,
 * KQ_ERR_FORMAT, KQ_ERR_TOO_LONG (past out's maximum), KQ_ERR_NOMEM; on
 * failure out keeps its old length (what was appended is wiped).
 */
int pinentry_decode_data(const char *s, size_t n, struct kq_sbuf *out);

/*
 * Percent-escape text for SETDESC, SETERROR ... ('%', CR, LF and every
 * other control byte become %XX) into out (outsz > 0 bytes, always
 * NUL-terminated).  An escape that does not fit is left out with all that
 * follows.  Returns the length written.
 */
size_t pinentry_escape(const char *in, char *out, size_t outsz);

/* The state of one reply, fed line by line. */
struct pinentry_reply {
	struct kq_sbuf *data; /* decoded D lines, secure memory */
	int done; /* an OK or ERR line ended the reply */
	unsigned long err; /* the ERR line's code (gpg_error_t), else 0 */
	char errtext[128]; /* the ERR line's text, printable ASCII only */
	int inquire; /* an INQUIRE came: answer END, then reset */
	unsigned long lines;
};

/* Start a reply whose data may hold max bytes.  KQ_OK or KQ_ERR_NOMEM. */
int pinentry_reply_init(struct pinentry_reply *r, size_t max);
/* Wipe and free the data; r may then be initialised again. */
void pinentry_reply_clear(struct pinentry_reply *r);

/*
 * Feed one line of a reply (without its LF; n bytes, not NUL-terminated):
 * "OK [text]", "ERR <code> [text]", "D <data>", "S <keyword> ...",
 * "INQUIRE <keyword> ...", "END", "# comment".  Anything else, a line
 * after the end, a malformed code or malformed data is KQ_ERR_FORMAT;
 * KQ_ERR_TOO_LONG when the data passes the maximum.  r->done is set by OK
 * and ERR, r->inquire by INQUIRE.
 */
int pinentry_reply_line(struct pinentry_reply *r, const char *line, size_t n);

/* What pinentry shows for one PIN. */
struct pinentry_ask {
	const char *title; /* SETTITLE; NULL: none */
	const char *desc; /* SETDESC; may hold "\n" */
	const char *prompt; /* SETPROMPT */
	const char *error; /* SETERROR (after a wrong PIN); NULL: none */
};

/*
 * Resolve the program to run: opt when it is not NULL or empty, else
 * $KEYQUORUM_PINENTRY when set and not empty, else "pinentry".  A name
 * without '/' is looked up on PATH.  The result must be an executable
 * regular file.  KQ_OK with out (outsz bytes) holding the path, or
 * KQ_ERR_PINENTRY with a sentence naming the program in why.
 */
int pinentry_resolve(
    const char *opt, char *out, size_t outsz, char *why, size_t whylen);

/*
 * Start the program (resolved as above) and greet it; when this process
 * has a terminal, tell pinentry its name, TERM and locale (OPTION
 * ttyname, ttytype, lc-ctype, lc-messages) as gpg-agent does.  SIGPIPE is
 * blocked until pinentry_close.  KQ_OK (*out owned by the caller),
 * KQ_ERR_PINENTRY (why names the program), KQ_ERR_NOMEM.
 */
int pinentry_open(
    const char *opt, struct pinentry **out, char *why, size_t whylen);

/*
 * Ask for one PIN.  KQ_OK with *pin in secure memory (possibly empty),
 * KQ_ERR_PIN_CANCELLED (the person cancelled), KQ_ERR_TIMEOUT,
 * KQ_ERR_TOO_LONG, KQ_ERR_PINENTRY (it failed, died or sent a malformed
 * reply; why says which), KQ_ERR_NOMEM.
 */
int pinentry_getpin(struct pinentry *pe, const struct pinentry_ask *a,
    struct kq_sbuf **pin, char *why, size_t whylen);

/* The resolved program's path. */
const char *pinentry_program(const struct pinentry *pe);

/* End the program and wait for it; restore SIGPIPE.  NULL accepted. */
void pinentry_close(struct pinentry *pe);

#endif
