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
#undef KQ_VERB_OFFLINE
#undef KQ_VERB

/* ---- the mains (src/cli_main.c; src/main.c and src/front.c) ---- */

/* A row of src/verbs.def; fn is NULL where the front execs the full binary. */
struct cli_verb {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
};

/*
 * The verb that `keyquorum ARGV...` names (argv[1], or argv[2] after
 * "help"), or NULL when argv names none.
 */
const struct cli_verb *cli_verb_of(
    int argc, char **argv, const struct cli_verb *verbs, size_t n);

/*
 * main() after the process is set up: the usage, --help, help VERB,
 * --version, or the verb (then kq_scrub_stack()).  Returns the exit
 * status.  An unknown verb, or one whose fn is NULL, is a usage error.
 */
int cli_dispatch(int argc, char **argv, const struct cli_verb *verbs, size_t n);

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
 * For struct hsm_login_opts.on_pinpad, with the verb as arg: tells the
 * holder on stderr to type the PIN of the token on the reader's PIN pad.
 */
void cli_pinpad_notice(const void *verb, const char *token_label);

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

/* A verb's action (keyquorum VERB ACTION ...). */
struct cli_action {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the action */
};

/*
 * Run the action argv[1] names (of the n in actions) with argc - 1,
 * argv + 1; --help or -h prints help.  A missing or unknown action is a
 * usage error naming verb and listing the actions.
 */
int cli_action_dispatch(const char *verb, int argc, char **argv,
    const struct cli_action *actions, size_t n, const char *help);

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
 * The same into out (cli_decode_cap(f, inlen) bytes, which it may use
 * all of; its contents are undefined on failure).
 */
size_t cli_decode_cap(enum cli_fmt f, size_t inlen);
int cli_decode_into(enum cli_fmt f, const uint8_t *in, size_t inlen,
    uint8_t *out, size_t *outlen);

/*
 * Encode p in format f (RAW, HEX, BASE64 padded) in scratch (as below)
 * and write it to fd with write(2), then a newline if nl; wipes its copy.
 */
int cli_write_encoded(int fd, enum cli_fmt f, const uint8_t *p, size_t n,
    int nl, char *scratch, size_t scratch_len);

/*
 * The same for count items of n bytes each, the ith at p + i * n, each
 * followed by a newline.  The lines are encoded into scratch (scratch_len
 * bytes, wiped before return; NULL: a secure buffer of its own) as many
 * at a time as fit, each batch one write(2).  cli_encoded_lines_scratch()
 * is the size that batches every line (or, past 64 KiB, one at a time):
 * a caller with a secure allocation of its own can take it from there.
 */
size_t cli_encoded_lines_scratch(enum cli_fmt f, size_t n, size_t count);
int cli_write_encoded_lines(int fd, enum cli_fmt f, const uint8_t *p, size_t n,
    size_t count, char *scratch, size_t scratch_len);

#endif
