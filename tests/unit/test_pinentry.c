/*
 * Unit tests for hsm/pinentry.c: the Assuan data decoding and reply
 * parser (strict, robust to malformed input), the text escaping, finding
 * the program, and whole GETPIN exchanges through libassuan with small
 * pinentry stand-ins written as shell scripts (each a real program on a
 * pipe; the real pinentry-tty runs in tests/integration/pinentry.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/secmem.h"
#include "hsm/pinentry.h"

static char dir[] = "/tmp/kq-pinentry-test.XXXXXX";

static int
sbuf_is(const struct kq_sbuf *b, const char *want, size_t n)
{
	return kq_sbuf_len(b) == n && memcmp(kq_sbuf_ptr(b), want, n) == 0;
}

static int
decode(const char *s, struct kq_sbuf *b)
{
	return pinentry_decode_data(s, strlen(s), b);
}

static void
test_decode_plain_and_escaped(void **state)
{
	struct kq_sbuf *b = kq_sbuf_new(64);

	(void)state;
	assert_int_equal(decode("1234", b), KQ_OK);
	assert_true(sbuf_is(b, "1234", 4));
	kq_sbuf_truncate(b, 0);
	assert_int_equal(decode("a%25b%0Ac%0d%7e%7E%2", b), KQ_ERR_FORMAT);
	assert_int_equal(kq_sbuf_len(b), 0);
	assert_int_equal(decode("a%25b%0Ac%0d%7e%7E", b), KQ_OK);
	assert_true(sbuf_is(b, "a%b\nc\r~~", 8));
	/* appends to what is there */
	assert_int_equal(decode("%ff%80x", b), KQ_OK);
	assert_true(sbuf_is(b, "a%b\nc\r~~\xff\x80x", 11));
	kq_sbuf_truncate(b, 0);
	assert_int_equal(decode("", b), KQ_OK);
	assert_int_equal(kq_sbuf_len(b), 0);
	kq_sbuf_free(b);
}

static void
test_decode_rejects_malformed_and_keeps_old_length(void **state)
{
	static const char *bad[] = {"%", "%4", "ab%", "ab%4", "%G0", "%0G",
	    "%-1", "% 1", "%00", "x%00y", "%%41", "%+4"};
	struct kq_sbuf *b = kq_sbuf_new(64);
	size_t i;

	(void)state;
	assert_int_equal(decode("keep", b), KQ_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(decode(bad[i], b), KQ_ERR_FORMAT);
		assert_true(sbuf_is(b, "keep", 4));
	}
	/* a raw NUL inside the counted bytes */
	assert_int_equal(pinentry_decode_data("a\0b", 3, b), KQ_ERR_FORMAT);
	assert_true(sbuf_is(b, "keep", 4));
	kq_sbuf_free(b);
}

static void
test_decode_respects_the_maximum(void **state)
{
	struct kq_sbuf *b = kq_sbuf_new(8);

	(void)state;
	assert_int_equal(decode("12345678", b), KQ_OK);
	assert_int_equal(decode("9", b), KQ_ERR_TOO_LONG);
	assert_int_equal(kq_sbuf_len(b), 8);
	kq_sbuf_truncate(b, 0);
	assert_int_equal(decode("1234%35%36%37%38%39", b), KQ_ERR_TOO_LONG);
	assert_int_equal(kq_sbuf_len(b), 0);
	kq_sbuf_free(b);
}

static void
test_escape_round_trips_every_byte(void **state)
{
	char in[256], esc[1024];
	struct kq_sbuf *b = kq_sbuf_new(256);
	size_t i, n;

	(void)state;
	for (i = 0; i < 255; i++)
		in[i] = (char)(i + 1);
	in[255] = '\0';
	n = pinentry_escape(in, esc, sizeof(esc));
	assert_int_equal(n, strlen(esc));
	assert_null(strpbrk(esc, "\r\n"));
	assert_int_equal(pinentry_decode_data(esc, n, b), KQ_OK);
	assert_true(sbuf_is(b, in, 255));
	kq_sbuf_free(b);

	assert_int_equal(pinentry_escape("a%b\nc", esc, sizeof(esc)), 9);
	assert_string_equal(esc, "a%25b%0Ac");
	/* an escape that does not fit is left out, never split */
	assert_int_equal(pinentry_escape("ab%", esc, 5), 2);
	assert_string_equal(esc, "ab");
	assert_int_equal(pinentry_escape("abcdef", esc, 4), 3);
	assert_string_equal(esc, "abc");
	assert_int_equal(pinentry_escape("abc", esc, 1), 0);
	assert_string_equal(esc, "");
}

static int
feed(struct pinentry_reply *r, const char *line)
{
	return pinentry_reply_line(r, line, strlen(line));
}

static void
test_reply_data_status_comment_ok(void **state)
{
	struct pinentry_reply r;

	(void)state;
	assert_int_equal(pinentry_reply_init(&r, 64), KQ_OK);
	assert_int_equal(feed(&r, "# a comment"), KQ_OK);
	assert_int_equal(feed(&r, "S PIN_REPEATED"), KQ_OK);
	assert_int_equal(feed(&r, "D 12%2534"), KQ_OK);
	assert_int_equal(feed(&r, "D 56"), KQ_OK);
	assert_int_equal(feed(&r, "D"), KQ_OK);
	assert_int_equal(feed(&r, "END"), KQ_OK);
	assert_false(r.done);
	assert_int_equal(feed(&r, "OK closing"), KQ_OK);
	assert_true(r.done);
	assert_int_equal(r.err, 0);
	assert_true(sbuf_is(r.data, "12%3456", 7));
	/* nothing after the end */
	assert_int_equal(feed(&r, "OK"), KQ_ERR_FORMAT);
	assert_int_equal(feed(&r, "D 99"), KQ_ERR_FORMAT);
	assert_true(sbuf_is(r.data, "12%3456", 7));
	pinentry_reply_clear(&r);
	assert_null(r.data);
}

static void
test_reply_err_code_and_text(void **state)
{
	struct pinentry_reply r;

	(void)state;
	assert_int_equal(pinentry_reply_init(&r, 64), KQ_OK);
	assert_int_equal(
	    feed(&r, "ERR 83886179 Operation cancelled <Pinentry>"), KQ_OK);
	assert_true(r.done);
	assert_int_equal(r.err, 83886179UL);
	assert_string_equal(r.errtext, "Operation cancelled <Pinentry>");
	pinentry_reply_clear(&r);

	assert_int_equal(pinentry_reply_init(&r, 64), KQ_OK);
	assert_int_equal(feed(&r, "ERR 4294967295 x\x01y\xc3"), KQ_OK);
	assert_int_equal(r.err, 4294967295UL);
	assert_string_equal(r.errtext, "x?y?"); /* printable ASCII only */
	pinentry_reply_clear(&r);

	assert_int_equal(pinentry_reply_init(&r, 64), KQ_OK);
	assert_int_equal(feed(&r, "INQUIRE QUALITY 1234"), KQ_OK);
	assert_true(r.inquire);
	assert_false(r.done);
	pinentry_reply_clear(&r);
}

static void
test_reply_malformed_lines(void **state)
{
	static const char *bad[] = {"", "OKAY", "ok", "ERR", "ERR ", "ERR x",
	    "ERR 0", "ERR 4294967296", "ERR 12345678901", "ERR 12x", "S", "S ",
	    "S  X", "INQUIRE", "INQUIRE  X", "D%41", "D %4", "D %00", "Dx",
	    "END x", "DATA 1", " OK", "BYE"};
	struct pinentry_reply r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pinentry_reply_init(&r, 64), KQ_OK);
		assert_int_equal(feed(&r, "D ok"), KQ_OK);
		if (feed(&r, bad[i]) != KQ_ERR_FORMAT)
			fail_msg("accepted malformed line \"%s\"", bad[i]);
		assert_false(r.done);
		assert_true(sbuf_is(r.data, "ok", 2));
		pinentry_reply_clear(&r);
	}
	/* a reply that was never initialised takes nothing */
	memset(&r, 0, sizeof(r));
	assert_int_equal(feed(&r, "OK"), KQ_ERR_FORMAT);
}

/* Random lines (a poor man's fuzzer; the libFuzzer harness goes further). */
static void
test_reply_random_lines_hold_invariants(void **state)
{
	static const char alpha[] = "DOKERSINQUIEND#% 0123456789abcdefABCDEFG";
	struct pinentry_reply r;
	char line[64];
	unsigned i, j, seed = 12345, n;
	int rc;

	(void)state;
	for (i = 0; i < 20000; i++) {
		assert_int_equal(pinentry_reply_init(&r, 16), KQ_OK);
		for (j = 0; j < 4 && !r.done; j++) {
			seed = seed * 1103515245u + 12345u;
			n = (seed >> 16) % sizeof(line);
			for (size_t k = 0; k < n; k++) {
				seed = seed * 1103515245u + 12345u;
				line[k] = (seed >> 24) % 5 == 0
				    ? (char)(seed >> 8)
				    : alpha[(seed >> 16) % (sizeof(alpha) - 1)];
			}
			rc = pinentry_reply_line(&r, line, n);
			assert_true(rc == KQ_OK || rc == KQ_ERR_FORMAT ||
			    rc == KQ_ERR_TOO_LONG);
			assert_true(kq_sbuf_len(r.data) <= 16);
		}
		pinentry_reply_clear(&r);
	}
}

/* ---- finding the program ------------------------------------------------ */

static void
write_script(const char *name, const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "#!/bin/sh\n%s", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0700), 0);
}

static void
test_resolve(void **state)
{
	char out[512], why[512], path[600], want[600];
	const char *old = getenv("PATH");
	char *saved = old != NULL ? strdup(old) : NULL;

	(void)state;
	write_script("pe-ok", "exit 0\n");
	snprintf(path, sizeof(path), "/nonexistent:%s", dir);
	snprintf(want, sizeof(want), "%s/pe-ok", dir);
	setenv("PATH", path, 1);
	unsetenv(PINENTRY_ENV);
	assert_int_equal(
	    pinentry_resolve("pe-ok", out, sizeof(out), why, sizeof(why)),
	    KQ_OK);
	assert_string_equal(out, want);
	/* the environment names the program when the option does not */
	setenv(PINENTRY_ENV, "pe-ok", 1);
	assert_int_equal(
	    pinentry_resolve("", out, sizeof(out), why, sizeof(why)), KQ_OK);
	assert_string_equal(out, want);
	assert_int_equal(
	    pinentry_resolve(NULL, out, sizeof(out), why, sizeof(why)), KQ_OK);
	unsetenv(PINENTRY_ENV);
	/* not found: the error names the program */
	assert_int_equal(
	    pinentry_resolve("pe-missing", out, sizeof(out), why, sizeof(why)),
	    KQ_ERR_PINENTRY);
	assert_non_null(strstr(why, "\"pe-missing\" is not on PATH"));
	assert_string_equal(out, "");
	/* the default is "pinentry" */
	assert_int_equal(
	    pinentry_resolve(NULL, out, sizeof(out), why, sizeof(why)),
	    KQ_ERR_PINENTRY);
	assert_non_null(strstr(why, "\"pinentry\""));
	/* a path must be an executable file */
	write_script("pe-noexec", "exit 0\n");
	snprintf(path, sizeof(path), "%s/pe-noexec", dir);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(
	    pinentry_resolve(path, out, sizeof(out), why, sizeof(why)),
	    KQ_ERR_PINENTRY);
	assert_non_null(strstr(why, path));
	assert_int_equal(
	    pinentry_resolve(dir, out, sizeof(out), why, sizeof(why)),
	    KQ_ERR_PINENTRY);
	assert_int_equal(
	    pinentry_resolve(want, out, sizeof(out), why, sizeof(why)), KQ_OK);
	assert_string_equal(out, want);
	if (saved != NULL) {
		setenv("PATH", saved, 1);
		free(saved);
	}
}

/* ---- whole exchanges through libassuan ---------------------------------- */

/*
 * A stand-in pinentry: greets, logs every command to DIR/log, answers OK,
 * and answers GETPIN with $1 (printf format).
 */
static void
write_fake(const char *name, const char *getpin_reply)
{
	char body[1024];

	snprintf(body, sizeof(body),
	    "echo 'OK Pleased to meet you'\n"
	    "while IFS= read -r line; do\n"
	    "  printf '%%s\\n' \"$line\" >>'%s/log'\n"
	    "  case \"$line\" in\n"
	    "  GETPIN) printf '%s' ;;\n"
	    "  BYE) exit 0 ;;\n"
	    "  *) echo OK ;;\n"
	    "  esac\n"
	    "done\n",
	    dir, getpin_reply);
	write_script(name, body);
}

static void
logged(char *buf, size_t n)
{
	char path[256];
	FILE *f;
	size_t k;

	snprintf(path, sizeof(path), "%s/log", dir);
	assert_non_null(f = fopen(path, "r"));
	k = fread(buf, 1, n - 1, f);
	buf[k] = '\0';
	fclose(f);
	unlink(path);
}

static int
run_fake(const char *name, const struct pinentry_ask *a, struct kq_sbuf **pin,
    char *why, size_t whylen)
{
	char path[256];
	struct pinentry *pe = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((r = pinentry_open(path, &pe, why, whylen)) != KQ_OK)
		return r;
	assert_string_equal(pinentry_program(pe), path);
	r = pinentry_getpin(pe, a, pin, why, whylen);
	pinentry_close(pe);
	return r;
}

static void
test_getpin_through_assuan(void **state)
{
	struct pinentry_ask a = {
	    "keyquorum", "Token \"h1\"\nholder 50%", "PIN:", NULL};
	struct kq_sbuf *pin = NULL;
	char why[512], log[4096];

	(void)state;
	write_fake(
	    "pe-good", "S PIN_REPEATED\\n# hi\\nD 12%%25%%0A\\nD 34\\nOK\\n");
	assert_int_equal(
	    run_fake("pe-good", &a, &pin, why, sizeof(why)), KQ_OK);
	assert_true(sbuf_is(pin, "12%\n34", 6));
	kq_sbuf_free(pin);
	pin = NULL;
	logged(log, sizeof(log));
	assert_non_null(strstr(log, "SETTITLE keyquorum\n"));
	assert_non_null(strstr(log, "SETDESC Token \"h1\"%0Aholder 50%25\n"));
	assert_non_null(strstr(log, "SETPROMPT PIN:\n"));
	assert_null(strstr(log, "SETERROR"));
	assert_non_null(strstr(log, "GETPIN\n"));

	/* after a wrong PIN: SETERROR; an INQUIRE is answered with END */
	a.error = "Wrong PIN: 2 tries left.";
	write_fake("pe-inq", "INQUIRE QUALITY 12\\n");
	/* the fake answers END with OK: the reply ends there, no data */
	assert_int_equal(run_fake("pe-inq", &a, &pin, why, sizeof(why)), KQ_OK);
	assert_int_equal(kq_sbuf_len(pin), 0);
	kq_sbuf_free(pin);
	pin = NULL;
	logged(log, sizeof(log));
	assert_non_null(strstr(log, "SETERROR Wrong PIN: 2 tries left.\n"));
	assert_non_null(strstr(log, "GETPIN\nEND\n"));
}

static void
test_getpin_errors_mapped(void **state)
{
	struct pinentry_ask a = {NULL, "d", "PIN:", NULL};
	struct kq_sbuf *pin = NULL;
	char why[512], log[4096];

	(void)state;
	write_fake(
	    "pe-cancel", "ERR 83886179 Operation cancelled <Pinentry>\\n");
	assert_int_equal(run_fake("pe-cancel", &a, &pin, why, sizeof(why)),
	    KQ_ERR_PIN_CANCELLED);
	assert_null(pin);
	write_fake("pe-timeout", "ERR 83886142 Timeout <Pinentry>\\n");
	assert_int_equal(
	    run_fake("pe-timeout", &a, &pin, why, sizeof(why)), KQ_ERR_TIMEOUT);
	write_fake("pe-other", "ERR 83886081 General error <Pinentry>\\n");
	assert_int_equal(
	    run_fake("pe-other", &a, &pin, why, sizeof(why)), KQ_ERR_PINENTRY);
	assert_non_null(strstr(why, "General error <Pinentry>"));
	assert_non_null(strstr(why, "pe-other"));
	write_fake("pe-bad", "D 12%%zz\\nOK\\n");
	assert_int_equal(
	    run_fake("pe-bad", &a, &pin, why, sizeof(why)), KQ_ERR_PINENTRY);
	assert_non_null(strstr(why, "malformed"));
	{
		char longd[PINENTRY_PIN_MAX + 32];

		memset(longd, '7', sizeof(longd));
		memcpy(longd, "D ", 2);
		memcpy(longd + sizeof(longd) - 7, "\\nOK\\n", 7);
		write_fake("pe-long", longd);
	}
	assert_int_equal(
	    run_fake("pe-long", &a, &pin, why, sizeof(why)), KQ_ERR_TOO_LONG);
	/* dies on GETPIN */
	write_fake("pe-dies", "'; exit 1; printf '");
	assert_int_equal(
	    run_fake("pe-dies", &a, &pin, why, sizeof(why)), KQ_ERR_PINENTRY);
	assert_non_null(strstr(why, "ended before answering"));
	/* never greets: did not start */
	write_script("pe-mute", "exit 0\n");
	assert_int_equal(
	    run_fake("pe-mute", &a, &pin, why, sizeof(why)), KQ_ERR_PINENTRY);
	assert_non_null(strstr(why, "pe-mute did not start"));
	assert_null(pin);
	logged(log, sizeof(log));
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_plain_and_escaped),
	    cmocka_unit_test(
	        test_decode_rejects_malformed_and_keeps_old_length),
	    cmocka_unit_test(test_decode_respects_the_maximum),
	    cmocka_unit_test(test_escape_round_trips_every_byte),
	    cmocka_unit_test(test_reply_data_status_comment_ok),
	    cmocka_unit_test(test_reply_err_code_and_text),
	    cmocka_unit_test(test_reply_malformed_lines),
	    cmocka_unit_test(test_reply_random_lines_hold_invariants),
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_getpin_through_assuan),
	    cmocka_unit_test(test_getpin_errors_mapped),
	};

	if (kq_secmem_init() != KQ_OK)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
