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
cli_action_dispatch(const char *verb, int argc, char **argv,
    const struct cli_action *actions, size_t n, const char *help)
{
	char list[256];
	size_t i, used = 0;

	for (i = 0; argc >= 2 && i < n; i++)
		if (strcmp(argv[1], actions[i].name) == 0)
			return actions[i].fn(argc - 1, argv + 1);
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return cli_help(help);
	/* "create, show or enroll" */
	list[0] = '\0';
	for (i = 0; i < n && used < sizeof(list); i++)
		used +=
		    (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
		        i == 0           ? ""
		            : i + 1 == n ? " or "
		                         : ", ",
		        actions[i].name);
	if (argc < 2)
		return cli_usage_error(verb, "%s?", list);
	return cli_usage_error(verb, "unknown action '%s' (%s)", argv[1], list);
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
