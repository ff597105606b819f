/* keyquorum CLI: error printing and small parsing helpers. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/ceremony.h"
#include "common/err.h"

void
cli_errx(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "keyquorum: %s%s", verb != NULL ? verb : "",
	    verb != NULL ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cli_pinpad_notice(const void *verb, const char *token_label)
{
	cli_errx((const char *)verb,
	    "enter the PIN of token \"%s\" on the reader's PIN pad",
	    token_label);
}

int
cli_fail(const char *verb, int code, const char *what)
{
	if (what != NULL && *what != '\0')
		cli_errx(verb, "%s: %s", what, kq_strerror(code));
	else
		cli_errx(verb, "%s", kq_strerror(code));
	return kq_exit_status(code);
}

int
cli_fail_detail(const char *verb, int code, const char *detail)
{
	if (detail != NULL && *detail != '\0')
		cli_errx(verb, "%s: %s", kq_strerror(code), detail);
	else
		cli_errx(verb, "%s", kq_strerror(code));
	return kq_exit_status(code);
}

int
cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "keyquorum: %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'keyquorum %s --help'.\n", verb);
	return KQ_EXIT_USAGE;
}

int
cli_pin_source_add(
    char *arg, struct ceremony_pin_source *pins, size_t *n, size_t max)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg || *n >= max)
		return -1;
	if (strncmp(eq + 1, "file:", 5) != 0 && strncmp(eq + 1, "fd:", 3) != 0)
		return -1;
	*eq = '\0';
	pins[*n].holder = arg;
	pins[*n].source = eq + 1;
	(*n)++;
	return 0;
}

int
cli_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
cli_help(const char *text)
{
	fputs(text, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
cli_isatty(int fd)
{
	return isatty(fd) == 1;
}

int
cli_colour(int fd)
{
	const char *nc = getenv("NO_COLOR");

	return cli_isatty(fd) && (nc == NULL || *nc == '\0');
}
