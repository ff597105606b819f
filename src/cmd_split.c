/*
 * keyquorum split: a secret in, Vault-compatible shares out, one per line.
 */
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "common/err.h"
#include "common/secio.h"
#include "common/secmem.h"
#include "shamir/shamir.h"

static const char split_help[] =
    "usage: keyquorum split -t K -n N [--in raw|hex|base64] [--out base64|hex]\n"
    "                       [--secret-file PATH]\n"
    "\n"
    "Split a secret into N Vault-compatible Shamir shares, any K of which\n"
    "recombine it (GF(2^8), x-coordinate as the last byte of each share).\n"
    "The secret is read from standard input (raw bytes unless --in says\n"
    "otherwise; on a terminal, one line without echo) or from --secret-file;\n"
    "shares are written one per line,\n"
    "padded standard base64 by default (Vault's keys_base64).\n"
    "\n"
    "  -t, --threshold K   shares needed to recombine (2..N)\n"
    "  -n, --shares N      shares to make (K..255)\n"
    "      --in FMT        how the secret is encoded: raw (default), hex, base64\n"
    "      --out FMT       how shares are printed: base64 (default), hex\n"
    "      --secret-file PATH  read the secret from PATH instead of stdin\n";

int
cmd_split(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"threshold", required_argument, NULL, 't'},
	    {"shares", required_argument, NULL, 'n'},
	    {"in", required_argument, NULL, 'i'},
	    {"out", required_argument, NULL, 'o'},
	    {"secret-file", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "split", *file = NULL;
	enum cli_fmt in = CLI_FMT_RAW, out = CLI_FMT_BASE64;
	unsigned threshold = 0, parts = 0, i;
	struct kq_sbuf *text = NULL;
	uint8_t *secret = NULL, *mem = NULL, **shares = NULL;
	const uint8_t *sec;
	size_t len = 0, scratch;
	int c, r, ret = KQ_EXIT_ERROR;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (cli_parse_uint(optarg, 0, 1000, &threshold) != 0)
				return cli_usage_error(verb,
				    "--threshold wants a number, not '%s'",
				    optarg);
			break;
		case 'n':
			if (cli_parse_uint(optarg, 0, 100000, &parts) != 0)
				return cli_usage_error(verb,
				    "--shares wants a number, not '%s'",
				    optarg);
			break;
		case 'i':
			if (cli_parse_fmt(optarg,
			        CLI_FMT_RAW | CLI_FMT_HEX | CLI_FMT_BASE64,
			        &in) != 0)
				return cli_usage_error(
				    verb, "--in is raw, hex or base64");
			break;
		case 'o':
			if (cli_parse_fmt(optarg, CLI_FMT_HEX | CLI_FMT_BASE64,
			        &out) != 0)
				return cli_usage_error(
				    verb, "--out is base64 or hex");
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			return cli_help(split_help);
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(
		    verb, "unexpected argument '%s'", argv[optind]);
	if (threshold == 0 || parts == 0)
		return cli_usage_error(verb, "-t K and -n N are required");
	if (threshold < 2 || threshold > parts)
		return cli_fail(verb, KQ_ERR_SHAMIR_THRESHOLD, "-t");
	if (parts > SHAMIR_MAX_PARTS)
		return cli_fail(verb, KQ_ERR_SHAMIR_PARTS, "-n");

	if (file != NULL)
		r = kq_read_all_file(file, CLI_SECRET_MAX, &text);
	else if (cli_isatty(STDIN_FILENO))
		r = kq_read_secret_tty("Secret (not echoed): ", 65536, &text);
	else
		r = kq_read_all_fd(STDIN_FILENO, CLI_SECRET_MAX, &text);
	if (r != KQ_OK) {
		ret = cli_fail(verb, r, file != NULL ? file : "standard input");
		goto out;
	}
	if (kq_sbuf_len(text) == 0) {
		ret = cli_fail(verb, KQ_ERR_SHAMIR_EMPTY_SECRET, NULL);
		goto out;
	}
	/* Raw input is the secret as read: no second copy. */
	if (in == CLI_FMT_RAW) {
		sec = kq_sbuf_ptr(text);
		len = kq_sbuf_len(text);
	} else {
		if ((r = cli_decode(in, kq_sbuf_ptr(text), kq_sbuf_len(text),
		         &secret, &len)) != KQ_OK) {
			ret = cli_fail(verb,
			    r == KQ_ERR_EMPTY ? KQ_ERR_SHAMIR_EMPTY_SECRET : r,
			    "the secret");
			goto out;
		}
		kq_sbuf_free(text);
		text = NULL;
		sec = secret;
	}

	/* One allocation for every share, each len + 1 bytes (x last), and
	 * the encoded lines after them. */
	scratch = cli_encoded_lines_scratch(out, len + 1, parts);
	if ((shares = calloc(parts, sizeof(*shares))) == NULL ||
	    (mem = kq_secalloc((size_t)parts * (len + 1) + scratch)) == NULL) {
		ret = cli_fail(verb, KQ_ERR_NOMEM, NULL);
		goto out;
	}
	for (i = 0; i < parts; i++)
		shares[i] = mem + (size_t)i * (len + 1);
	if ((r = shamir_split(sec, len, threshold, parts, shares)) != KQ_OK) {
		ret = cli_fail(verb, r, NULL);
		goto out;
	}
	kq_secfree(secret);
	secret = NULL;
	kq_sbuf_free(text);
	text = NULL;
	if ((r = cli_write_encoded_lines(STDOUT_FILENO, out, mem, len + 1,
	         parts, (char *)mem + (size_t)parts * (len + 1), scratch)) !=
	    KQ_OK) {
		ret = cli_fail(verb, r, "standard output");
		goto out;
	}
	ret = KQ_EXIT_OK;
out:
	kq_secfree(mem);
	free(shares);
	kq_secfree(secret);
	kq_sbuf_free(text);
	return ret;
}
