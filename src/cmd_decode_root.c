/*
 * keyquorum decode-root: the encoded token from generate-root and its OTP
 * in, the root token out (like `vault operator generate-root -decode`).
 * Neither value is ever taken from argv.
 */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/ceremony.h"
#include "cli.h"
#include "common/err.h"
#include "common/secio.h"
#include "common/secmem.h"

static const char decode_root_help[] =
    "usage: keyquorum decode-root [--otp-length N]\n"
    "\n"
    "Decode the encoded root token that generate-root returned, with the\n"
    "OTP of the attempt.  Reads the encoded token, then the OTP, one per\n"
    "line from standard input; on a terminal it asks for each (the OTP\n"
    "without echo).  Prints the root token on standard output.\n"
    "\n"
    "Every variant is handled: hvs./s./hvr. tokens (OTP of 26 or 28\n"
    "characters), OpenBao namespace tokens (33 or 35), and legacy Vault\n"
    "(< 0.11) UUID tokens (a base64 OTP).  The variant is detected from\n"
    "the OTP's length unless --otp-length says (0 means legacy).\n";

/* Trim white space at both ends of [p, p+*n); returns the new start. */
static const char *
decode_root_trim(const uint8_t *p, size_t *n)
{
	while (*n > 0 && (p[0] == ' ' || p[0] == '\t'))
		p++, (*n)--;
	while (*n > 0 && (p[*n - 1] == ' ' || p[*n - 1] == '\t'))
		(*n)--;
	return (const char *)p;
}

int
cmd_decode_root(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"otp-length", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "decode-root", *enc, *otp;
	struct kq_sbuf *encbuf = NULL, *otpbuf = NULL;
	char *token = NULL;
	size_t enclen, otplen, toklen = 0;
	unsigned ol = 0;
	int c, r, otp_length = -1, tty, ret = KQ_EXIT_ERROR;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (cli_parse_uint(optarg, 0, ROOT_TOKEN_MAX, &ol) != 0)
				return cli_usage_error(verb,
				    "--otp-length wants 0..%d", ROOT_TOKEN_MAX);
			otp_length = (int)ol;
			break;
		case 'h':
			return cli_help(decode_root_help);
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(verb,
		    "takes no arguments: the token and OTP come on stdin");

	tty = cli_isatty(STDIN_FILENO);
	r = tty ? kq_read_line_tty("Encoded token: ", 1024, &encbuf)
	        : kq_read_line_fd(STDIN_FILENO, 1024, &encbuf);
	if (r != KQ_OK) {
		ret = cli_fail(verb, r, "the encoded token (first line)");
		goto out;
	}
	r = tty ? kq_read_secret_tty("OTP (not echoed): ", 1024, &otpbuf)
	        : kq_read_line_fd(STDIN_FILENO, 1024, &otpbuf);
	if (r != KQ_OK) {
		ret = cli_fail(verb, r == KQ_ERR_EMPTY ? KQ_ERR_EMPTY : r,
		    "the OTP (second line)");
		goto out;
	}
	enclen = kq_sbuf_len(encbuf);
	otplen = kq_sbuf_len(otpbuf);
	enc = decode_root_trim(kq_sbuf_ptr(encbuf), &enclen);
	otp = decode_root_trim(kq_sbuf_ptr(otpbuf), &otplen);
	if (enclen == 0 || otplen == 0) {
		ret = cli_fail(verb, KQ_ERR_EMPTY,
		    enclen == 0 ? "the encoded token" : "the OTP");
		goto out;
	}
	if ((token = kq_secalloc(ROOT_TOKEN_MAX + 2)) == NULL) {
		ret = cli_fail(verb, KQ_ERR_NOMEM, NULL);
		goto out;
	}
	r = root_token_decode(enc, enclen, otp, otplen, otp_length, token,
	    ROOT_TOKEN_MAX + 1, &toklen);
	if (r != KQ_OK) {
		ret = cli_fail(verb, r,
		    r == KQ_ERR_ENCODING ? "the encoded token or the OTP"
		                         : NULL);
		goto out;
	}
	token[toklen++] = '\n';
	if ((r = kq_write_all(STDOUT_FILENO, token, toklen)) != KQ_OK) {
		ret = cli_fail(verb, r, "standard output");
		goto out;
	}
	ret = KQ_EXIT_OK;
out:
	kq_secfree(token);
	kq_sbuf_free(encbuf);
	kq_sbuf_free(otpbuf);
	return ret;
}
