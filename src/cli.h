/*
 * keyquorum CLI: what the verb files share.  Only src/ uses this header;
 * the libraries never print.
 */
#ifndef KQ_CLI_H
#define KQ_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Every verb: argv[0] is the verb's name, options follow. */
#define KQ_VERB(name, fn, summary) int fn(int argc, char **argv);
#include "verbs.def"
#undef KQ_VERB

/* The CLI's upper bound on a secret read from stdin or a file. */
#define CLI_SECRET_MAX ((size_t)1 << 31)

/*
 * Print "keyquorum: VERB: message" to stderr.  Never pass secret material.
 */
void cli_errx(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Print "keyquorum: VERB: [what: ]<kq_strerror(code)>" and return the exit
 * status documented for code.  what may be NULL; it names the holder,
 * share, field or file concerned.
 */
int cli_fail(const char *verb, int code, const char *what);

/*
 * Print "keyquorum: VERB: <kq_strerror(code)>[: detail]" and return the exit
 * status documented for code.  detail (may be NULL or empty) is a library's
 * sentence about the failure; never secret material.
 */
int cli_fail_detail(const char *verb, int code, const char *detail);

/* Print a usage error with the verb's --help hint; returns KQ_EXIT_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parse a decimal integer in [min, max]; 0 on success, -1 otherwise. */
int cli_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out);

struct ceremony_pin_source;

/*
 * Parse one --pin-source NAME=file:PATH|NAME=fd:N (arg is split in place)
 * and append it to pins (*n of at most max).  0, or -1 when malformed or
 * full; the caller prints the usage error.
 */
int cli_pin_source_add(
    char *arg, struct ceremony_pin_source *pins, size_t *n, size_t max);

/* Write a help text (static, no secrets) to stdout; returns 0. */
int cli_help(const char *text);

/* 1 when fd is a terminal. */
int cli_isatty(int fd);

/* 1 when colour may be used on fd (a terminal, NO_COLOR unset). */
int cli_colour(int fd);

/* ---- secret text codecs (src/cli_codec.c) ---- */

enum cli_fmt {
	CLI_FMT_RAW = 1 << 0,
	CLI_FMT_HEX = 1 << 1,
	CLI_FMT_BASE64 = 1 << 2,
	CLI_FMT_AUTO =
	    1 << 3, /* Vault's rule: hex if 16..33 bytes, else base64 */
};

/* Parse "raw", "hex", "base64" or "auto" if its bit is in allowed. */
int cli_parse_fmt(const char *s, unsigned allowed, enum cli_fmt *out);

/*
 * Decode text (surrounding white space ignored) in format f into a new
 * secure allocation *out of *outlen bytes (free with kq_secfree).  RAW
 * copies the bytes as they are.  Returns a kq_err code; nothing is
 * allocated on failure.
 */
int cli_decode(enum cli_fmt f, const uint8_t *in, size_t inlen, uint8_t **out,
    size_t *outlen);

/*
 * Encode p in format f (RAW, HEX, BASE64 padded) in secure memory and
 * write it to fd with write(2), then a newline if nl; wipes its copy.
 */
int cli_write_encoded(
    int fd, enum cli_fmt f, const uint8_t *p, size_t n, int nl);

#endif
