/*
 * keyquorum: asking for a PIN through GnuPG's pinentry programs, spoken to
 * over libassuan (the protocol gpg-agent uses).
 *
 * Where the PIN goes: pinentry writes "D <percent-escaped PIN>" on its
 * stdout; libassuan read(2)s it into the line buffer of its context, and
 * that context (with every other allocation libassuan makes for it) comes
 * from kq_secalloc through assuan_new_ext's allocator hooks, so it is
 * locked, kept out of core dumps and wiped on free.  GETPIN's reply is
 * read with assuan_read_line (which leaves D lines escaped, unlike
 * assuan_transact) and decoded by pinentry_reply_line straight into a
 * kq_sbuf; each D line is wiped in libassuan's buffer right after.  The
 * context is marked confidential during GETPIN and its log callback
 * refuses every category, so ASSUAN_DEBUG cannot print the PIN.
 */
#include "hsm/pinentry.h"

#include <assuan.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/secmem.h"

struct pinentry {
	assuan_context_t ctx;
	char program[PATH_MAX];
	int sigpipe_blocked; /* we blocked SIGPIPE and must restore it */
	sigset_t oldmask;
};

/* ---- the reply parser (fuzzed) ------------------------------------------ */

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
pinentry_decode_data(const char *s, size_t n, struct kq_sbuf *out)
{
	int r = KQ_ERR_FORMAT, hi, lo;
	size_t i = 0, start = kq_sbuf_len(out);
	uint8_t *p;
	unsigned char c;

	while (i < n) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3 ||
			    (hi = hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)s[i + 2])) < 0)
				goto out;
			c = (unsigned char)(hi << 4 | lo);
			i += 3;
		} else
			i++;
		if (c == '\0')
			goto out;
		if ((r = kq_sbuf_reserve(out, 1, &p)) != KQ_OK)
			goto out;
		*p = c;
		r = KQ_ERR_FORMAT;
	}
	c = 0;
	r = KQ_OK;
out:
	if (r != KQ_OK)
		kq_sbuf_truncate(out, start);
	return r;
}

size_t
pinentry_escape(const char *in, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	unsigned char c;

	for (; *in != '\0'; in++) {
		c = (unsigned char)*in;
		if (c == '%' || c < 0x20 || c == 0x7f) {
			if (outsz - o < 4)
				break;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			if (outsz - o < 2)
				break;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o;
}

int
pinentry_reply_init(struct pinentry_reply *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	if ((r->data = kq_sbuf_new(max)) == NULL)
		return KQ_ERR_NOMEM;
	return KQ_OK;
}

void
pinentry_reply_clear(struct pinentry_reply *r)
{
	kq_sbuf_free(r->data);
	memset(r, 0, sizeof(*r));
}

/* line is the keyword kw alone or followed by a space; *rest after it. */
static int
keyword(const char *line, size_t n, const char *kw, size_t *rest)
{
	size_t k = strlen(kw);

	if (n < k || memcmp(line, kw, k) != 0)
		return 0;
	if (n == k) {
		*rest = n;
		return 1;
	}
	if (line[k] != ' ')
		return 0;
	*rest = k + 1;
	return 1;
}

static int
parse_err(struct pinentry_reply *r, const char *s, size_t n)
{
	unsigned long v = 0;
	size_t i = 0, o = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9') {
		if (i >= 10)
			return KQ_ERR_FORMAT;
		v = v * 10 + (unsigned long)(s[i] - '0');
		i++;
	}
	/* gpg_error_t is 32 bits; 0 is no error at all. */
	if (i == 0 || v == 0 || v > 0xffffffffUL || (i < n && s[i] != ' '))
		return KQ_ERR_FORMAT;
	while (i < n && s[i] == ' ')
		i++;
	for (; i < n && o + 1 < sizeof(r->errtext); i++)
		r->errtext[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	r->errtext[o] = '\0';
	r->err = v;
	return KQ_OK;
}

int
pinentry_reply_line(struct pinentry_reply *r, const char *line, size_t n)
{
	size_t rest;

	if (r->done || r->data == NULL)
		return KQ_ERR_FORMAT;
	r->lines++;
	if (n > 0 && line[0] == '#')
		return KQ_OK;
	if (keyword(line, n, "D", &rest))
		return pinentry_decode_data(line + rest, n - rest, r->data);
	if (keyword(line, n, "OK", &rest)) {
		r->done = 1;
		return KQ_OK;
	}
	if (keyword(line, n, "ERR", &rest)) {
		if (parse_err(r, line + rest, n - rest) != KQ_OK)
			return KQ_ERR_FORMAT;
		r->done = 1;
		return KQ_OK;
	}
	if (keyword(line, n, "S", &rest))
		return rest < n && line[rest] != ' ' ? KQ_OK : KQ_ERR_FORMAT;
	if (keyword(line, n, "INQUIRE", &rest)) {
		if (rest >= n || line[rest] == ' ')
			return KQ_ERR_FORMAT;
		r->inquire = 1;
		return KQ_OK;
	}
	if (keyword(line, n, "END", &rest) && rest == n)
		return KQ_OK;
	return KQ_ERR_FORMAT;
}

/* ---- finding the program ------------------------------------------------ */

static int
executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

int
pinentry_resolve(
    const char *opt, char *out, size_t outsz, char *why, size_t whylen)
{
	int r = KQ_ERR_PINENTRY, n;
	const char *prog = opt, *path, *p, *e;

	if (prog == NULL || prog[0] == '\0')
		prog = getenv(PINENTRY_ENV);
	if (prog == NULL || prog[0] == '\0')
		prog = PINENTRY_DEFAULT;
	if (strchr(prog, '/') != NULL) {
		if (!executable(prog)) {
			snprintf(why, whylen,
			    "the pinentry program %s is not an "
			    "executable file",
			    prog);
			goto out;
		}
		n = snprintf(out, outsz, "%s", prog);
		if (n < 0 || (size_t)n >= outsz) {
			snprintf(why, whylen, "the pinentry path is too long");
			goto out;
		}
		r = KQ_OK;
		goto out;
	}
	if ((path = getenv("PATH")) == NULL || path[0] == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p != '\0'; p = *e == ':' ? e + 1 : e) {
		if ((e = strchr(p, ':')) == NULL)
			e = p + strlen(p);
		if (e == p) /* an empty entry means ".": not searched */
			continue;
		n = snprintf(out, outsz, "%.*s/%s", (int)(e - p), p, prog);
		if (n > 0 && (size_t)n < outsz && executable(out)) {
			r = KQ_OK;
			goto out;
		}
	}
	snprintf(why, whylen,
	    "the pinentry program \"%s\" is not on PATH "
	    "(install pinentry-tty or pinentry-curses, or name one with "
	    "--pinentry=PATH or %s)",
	    prog, PINENTRY_ENV);
out:
	if (r != KQ_OK && outsz > 0)
		out[0] = '\0';
	return r;
}

/* ---- libassuan ---------------------------------------------------------- */

/* Every allocation of the context: secure memory, wiped on free. */
static void *
pe_malloc(size_t n)
{
	return kq_secalloc(n);
}

static void *
pe_realloc(void *p, size_t n)
{
	void *q;
	size_t old;

	if (p == NULL)
		return kq_secalloc(n);
	old = kq_secsize(p);
	if ((q = kq_secalloc(n)) == NULL)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	kq_secfree(p);
	return q;
}

static void
pe_free(void *p)
{
	kq_secfree(p);
}

/* libassuan never logs (nor may ASSUAN_DEBUG make it). */
static int
pe_log(assuan_context_t ctx, void *hook, unsigned int cat, const char *msg)
{
	(void)ctx;
	(void)hook;
	(void)cat;
	(void)msg;
	return 0;
}

static gpg_error_t
pe_status(void *arg, const char *line)
{
	(void)arg;
	(void)line;
	return 0;
}

static gpg_error_t
pe_inquire(void *arg, const char *line)
{
	(void)arg;
	(void)line;
	return 0; /* answer with no data ("END") */
}

/* Send one command that expects no data; 0 or the assuan error. */
static gpg_error_t
pe_cmd(struct pinentry *pe, const char *line)
{
	return assuan_transact(
	    pe->ctx, line, NULL, NULL, pe_inquire, NULL, pe_status, NULL);
}

/* "CMD escaped-text", bounded by the Assuan line length. */
static gpg_error_t
pe_cmd_text(struct pinentry *pe, const char *cmd, const char *text)
{
	char line[ASSUAN_LINELENGTH - 2];
	size_t k = strlen(cmd);

	if (k + 2 > sizeof(line))
		return gpg_error(GPG_ERR_TOO_LARGE);
	memcpy(line, cmd, k);
	line[k] = ' ';
	pinentry_escape(text, line + k + 1, sizeof(line) - k - 1);
	return pe_cmd(pe, line);
}

/* An OPTION whose value must stay on one line. */
static void
pe_option(struct pinentry *pe, const char *name, const char *value)
{
	char line[512];
	int n;

	if (value == NULL || value[0] == '\0' || strpbrk(value, "\r\n") != NULL)
		return;
	n = snprintf(line, sizeof(line), "OPTION %s=%s", name, value);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	/* An older pinentry may not know an option: not an error. */
	(void)pe_cmd(pe, line);
}

/* The terminal's name: stderr, stdin or stdout, else /dev/tty. */
static int
pe_ttyname(char *out, size_t outsz)
{
	static const int fds[] = {STDERR_FILENO, STDIN_FILENO, STDOUT_FILENO};
	size_t i;
	int fd;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (isatty(fds[i]) && ttyname_r(fds[i], out, outsz) == 0)
			return 1;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return 0;
	close(fd);
	snprintf(out, outsz, "/dev/tty");
	return 1;
}

static void
pe_tty_options(struct pinentry *pe)
{
	char tty[PATH_MAX];
	const char *lc;

	if (!pe_ttyname(tty, sizeof(tty)))
		return;
	pe_option(pe, "ttyname", tty);
	pe_option(pe, "ttytype", getenv("TERM"));
	if ((lc = getenv("LC_ALL")) == NULL || lc[0] == '\0')
		if ((lc = getenv("LC_CTYPE")) == NULL || lc[0] == '\0')
			lc = getenv("LANG");
	pe_option(pe, "lc-ctype", lc);
	if ((lc = getenv("LC_ALL")) == NULL || lc[0] == '\0')
		if ((lc = getenv("LC_MESSAGES")) == NULL || lc[0] == '\0')
			lc = getenv("LANG");
	pe_option(pe, "lc-messages", lc);
}

int
pinentry_open(const char *opt, struct pinentry **out, char *why, size_t whylen)
{
	static struct assuan_malloc_hooks hooks = {
	    pe_malloc, pe_realloc, pe_free};
	int r = KQ_ERR_NOMEM;
	struct pinentry *pe = NULL;
	const char *argv[2];
	const char *base;
	assuan_fd_t keep[2];
	sigset_t pipe;
	gpg_error_t err;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((pe = calloc(1, sizeof(*pe))) == NULL)
		goto out;
	if ((r = pinentry_resolve(
	         opt, pe->program, sizeof(pe->program), why, whylen)) != KQ_OK)
		goto out;
	err = assuan_new_ext(
	    &pe->ctx, GPG_ERR_SOURCE_DEFAULT, &hooks, pe_log, NULL);
	if (err != 0) {
		r = gpg_err_code(err) == GPG_ERR_ENOMEM ? KQ_ERR_NOMEM
		                                        : KQ_ERR_PINENTRY;
		snprintf(why, whylen, "libassuan: %s", gpg_strerror(err));
		goto out;
	}
	/* A pinentry that dies must not kill us with SIGPIPE. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &pipe, &pe->oldmask) == 0)
		pe->sigpipe_blocked = !sigismember(&pe->oldmask, SIGPIPE);
	base = strrchr(pe->program, '/');
	argv[0] = base != NULL ? base + 1 : pe->program;
	argv[1] = NULL;
	/* pinentry's own complaints (no terminal, ...) go to our stderr. */
	keep[0] = fcntl(STDERR_FILENO, F_GETFD) != -1 ? STDERR_FILENO
	                                              : ASSUAN_INVALID_FD;
	keep[1] = ASSUAN_INVALID_FD;
	err = assuan_pipe_connect(
	    pe->ctx, pe->program, argv, keep, NULL, NULL, 0);
	if (err != 0) {
		r = KQ_ERR_PINENTRY;
		snprintf(why, whylen,
		    "the pinentry program %s did not start: %s", pe->program,
		    gpg_strerror(err));
		goto out;
	}
	pe_tty_options(pe);
	*out = pe;
	pe = NULL;
	r = KQ_OK;
out:
	pinentry_close(pe);
	return r;
}

const char *
pinentry_program(const struct pinentry *pe)
{
	return pe->program;
}

static int
pe_err(gpg_error_t err)
{
	switch (gpg_err_code(err)) {
	case GPG_ERR_CANCELED:
	case GPG_ERR_FULLY_CANCELED:
	case GPG_ERR_ASS_CANCELED:
	case GPG_ERR_NOT_CONFIRMED:
		return KQ_ERR_PIN_CANCELLED;
	case GPG_ERR_TIMEOUT:
		return KQ_ERR_TIMEOUT;
	case GPG_ERR_ENOMEM:
		return KQ_ERR_NOMEM;
	default:
		return KQ_ERR_PINENTRY;
	}
}

/* Read GETPIN's reply into rep. */
static int
pe_read_reply(
    struct pinentry *pe, struct pinentry_reply *rep, char *why, size_t whylen)
{
	int r = KQ_ERR_PINENTRY;
	char *line;
	size_t n;
	gpg_error_t err;

	while (!rep->done) {
		if ((err = assuan_read_line(pe->ctx, &line, &n)) != 0) {
			snprintf(why, whylen,
			    "the pinentry program %s "
			    "ended before answering: %s",
			    pe->program, gpg_strerror(err));
			goto out;
		}
		r = pinentry_reply_line(rep, line, n);
		/* The D line held the PIN: wipe libassuan's copy now. */
		kq_wipe(line, n);
		if (r == KQ_ERR_TOO_LONG) {
			snprintf(why, whylen, "the PIN is longer than %d bytes",
			    PINENTRY_PIN_MAX);
			goto out;
		}
		if (r != KQ_OK) {
			r = r == KQ_ERR_NOMEM ? r : KQ_ERR_PINENTRY;
			snprintf(why, whylen,
			    "the pinentry program %s "
			    "sent a malformed reply",
			    pe->program);
			goto out;
		}
		if (rep->inquire) {
			rep->inquire = 0;
			if ((err = assuan_write_line(pe->ctx, "END")) != 0) {
				r = KQ_ERR_PINENTRY;
				snprintf(why, whylen,
				    "cannot answer the pinentry "
				    "program %s: %s",
				    pe->program, gpg_strerror(err));
				goto out;
			}
		}
	}
	r = KQ_OK;
out:
	return r;
}

int
pinentry_getpin(struct pinentry *pe, const struct pinentry_ask *a,
    struct kq_sbuf **pin, char *why, size_t whylen)
{
	int r = KQ_ERR_PINENTRY, conf = 0;
	struct pinentry_reply rep;
	gpg_error_t err;

	memset(&rep, 0, sizeof(rep));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((a->title != NULL &&
	        (err = pe_cmd_text(pe, "SETTITLE", a->title)) != 0) ||
	    (err = pe_cmd_text(pe, "SETDESC", a->desc)) != 0 ||
	    (err = pe_cmd_text(pe, "SETPROMPT", a->prompt)) != 0 ||
	    (a->error != NULL &&
	        (err = pe_cmd_text(pe, "SETERROR", a->error)) != 0)) {
		snprintf(why, whylen, "the pinentry program %s: %s",
		    pe->program, gpg_strerror(err));
		r = pe_err(err);
		goto out;
	}
	if ((r = pinentry_reply_init(&rep, PINENTRY_PIN_MAX)) != KQ_OK)
		goto out;
	assuan_begin_confidential(pe->ctx);
	conf = 1;
	if ((err = assuan_write_line(pe->ctx, "GETPIN")) != 0) {
		snprintf(why, whylen, "the pinentry program %s: %s",
		    pe->program, gpg_strerror(err));
		r = KQ_ERR_PINENTRY;
		goto out;
	}
	if ((r = pe_read_reply(pe, &rep, why, whylen)) != KQ_OK)
		goto out;
	if (rep.err != 0) {
		r = pe_err((gpg_error_t)rep.err);
		if (r == KQ_ERR_PINENTRY)
			snprintf(why, whylen,
			    "the pinentry program %s failed: "
			    "%s",
			    pe->program,
			    rep.errtext[0] != '\0' ? rep.errtext
			                           : "(no reason given)");
		goto out;
	}
	*pin = rep.data;
	rep.data = NULL;
	r = KQ_OK;
out:
	if (conf)
		assuan_end_confidential(pe->ctx);
	pinentry_reply_clear(&rep);
	return r;
}

void
pinentry_close(struct pinentry *pe)
{
	sigset_t pipe, pending;
	struct timespec zero = {0, 0};

	if (pe == NULL)
		return;
	/* Closes the pipes (pinentry ends on EOF) and waits for it. */
	assuan_release(pe->ctx);
	if (pe->sigpipe_blocked) {
		sigemptyset(&pipe);
		sigaddset(&pipe, SIGPIPE);
		if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
			(void)sigtimedwait(&pipe, NULL, &zero);
		(void)pthread_sigmask(SIG_SETMASK, &pe->oldmask, NULL);
	}
	kq_wipe(pe, sizeof(*pe));
	free(pe);
}
