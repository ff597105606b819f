/*
 * keyquorum combine: Vault-compatible shares in, one per line; the secret
 * out.  Problems are named by the line they are on; no input is echoed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "common/err.h"
#include "common/secio.h"
#include "common/secmem.h"
#include "shamir/shamir.h"

static const char combine_help[] =
    "usage: keyquorum combine [--in auto|hex|base64] [--out raw|hex|base64]\n"
    "\n"
    "Combine Vault-compatible Shamir shares, one per line on standard input\n"
    "(blank lines are skipped), into the secret.\n"
    "\n"
    "  --in FMT    how the shares are encoded: auto (default: as Vault does,\n"
    "              hex when it decodes to 16..33 bytes, else padded base64),\n"
    "              hex, base64\n"
    "  --out FMT   how the secret is written: raw (default; refused when\n"
    "              standard output is a terminal), hex, base64\n"
    "\n"
    "Like Vault, combine cannot tell a wrong share or too few shares: the\n"
    "result is then a wrong secret.  Custody sets check share commitments.\n";

struct share_in {
	uint8_t *p;
	size_t len;
	size_t line;
};

/* 1 when line holds nothing but spaces and tabs. */
static int
combine_blank(const uint8_t *line, size_t len)
{
	size_t k;

	for (k = 0; k < len; k++)
		if (line[k] != ' ' && line[k] != '\t')
			return 0;
	return 1;
}

/*
 * Decode every non-blank line of text into *sharesp (*np of them), all in
 * one secure allocation *memp (a first pass sizes it).
 */
static int
combine_collect(const char *verb, struct kq_sbuf *text, enum cli_fmt in,
    struct share_in **sharesp, size_t *np, uint8_t **memp)
{
	struct kq_lines it;
	struct share_in *sh = NULL;
	const uint8_t *line;
	uint8_t *mem = NULL;
	size_t len, lineno = 0, n = 0, cap = 0, used = 0;
	char what[64];
	int r;

	kq_lines_init(&it, kq_sbuf_ptr(text), kq_sbuf_len(text));
	while (kq_lines_next(&it, &line, &len) == 0) {
		lineno++;
		if (combine_blank(line, len))
			continue;
		if (n == SHAMIR_MAX_PARTS) {
			snprintf(what, sizeof(what), "line %zu", lineno);
			return cli_fail(verb, KQ_ERR_SHAMIR_PARTS, what);
		}
		n++;
		cap += cli_decode_cap(in, len);
	}
	if (n > 0 &&
	    ((sh = calloc(n, sizeof(*sh))) == NULL ||
	        (mem = kq_secalloc(cap)) == NULL)) {
		free(sh);
		return cli_fail(verb, KQ_ERR_NOMEM, NULL);
	}
	n = lineno = 0;
	kq_lines_init(&it, kq_sbuf_ptr(text), kq_sbuf_len(text));
	while (kq_lines_next(&it, &line, &len) == 0) {
		lineno++;
		if (combine_blank(line, len))
			continue;
		sh[n].line = lineno;
		sh[n].p = mem + used;
		if ((r = cli_decode_into(in, line, len, sh[n].p, &sh[n].len)) !=
		    KQ_OK) {
			snprintf(
			    what, sizeof(what), "share on line %zu", lineno);
			kq_secfree(mem);
			free(sh);
			return cli_fail(verb, r, what);
		}
		used += cli_decode_cap(in, len);
		n++;
	}
	*sharesp = sh;
	*np = n;
	*memp = mem;
	return 0;
}

/* Name the lines behind a combine error (error path only). */
static int
combine_explain(const char *verb, int r, const struct share_in *sh, size_t n)
{
	char what[96];
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (r == KQ_ERR_SHAMIR_LENGTH && sh[i].len != sh[0].len) {
			snprintf(what, sizeof(what),
			    "share on line %zu has %zu bytes, on line %zu %zu",
			    sh[i].line, sh[i].len, sh[0].line, sh[0].len);
			return cli_fail(verb, r, what);
		}
		if (r == KQ_ERR_SHAMIR_SHORT && sh[i].len < 2) {
			snprintf(what, sizeof(what), "share on line %zu",
			    sh[i].line);
			return cli_fail(verb, r, what);
		}
		if (r == KQ_ERR_SHAMIR_ZERO_X && sh[i].p[sh[i].len - 1] == 0) {
			snprintf(what, sizeof(what), "share on line %zu",
			    sh[i].line);
			return cli_fail(verb, r, what);
		}
		for (j = i + 1; r == KQ_ERR_SHAMIR_DUP_X && j < n; j++) {
			if (sh[i].p[sh[i].len - 1] == sh[j].p[sh[j].len - 1]) {
				snprintf(what, sizeof(what),
				    "shares on lines %zu and %zu", sh[i].line,
				    sh[j].line);
				return cli_fail(verb, r, what);
			}
		}
	}
	return cli_fail(verb, r, NULL);
}

int
cmd_combine(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"in", required_argument, NULL, 'i'},
	    {"out", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "combine";
	enum cli_fmt in = CLI_FMT_AUTO, out = CLI_FMT_RAW;
	struct kq_sbuf *text = NULL;
	struct share_in *sh = NULL;
	const uint8_t **ptrs = NULL;
	size_t *lens = NULL, n = 0, i, scratch = 0;
	uint8_t *mem = NULL, *secret = NULL;
	int c, r, ret = KQ_EXIT_ERROR;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (cli_parse_fmt(optarg,
			        CLI_FMT_AUTO | CLI_FMT_HEX | CLI_FMT_BASE64,
			        &in) != 0)
				return cli_usage_error(
				    verb, "--in is auto, hex or base64");
			break;
		case 'o':
			if (cli_parse_fmt(optarg,
			        CLI_FMT_RAW | CLI_FMT_HEX | CLI_FMT_BASE64,
			        &out) != 0)
				return cli_usage_error(
				    verb, "--out is raw, hex or base64");
			break;
		case 'h':
			return cli_help(combine_help);
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(
		    verb, "unexpected argument '%s'", argv[optind]);
	if (out == CLI_FMT_RAW && cli_isatty(STDOUT_FILENO))
		return cli_fail(
		    verb, KQ_ERR_REFUSE_TTY, "use --out hex or --out base64");

	if ((r = kq_read_all_fd(STDIN_FILENO, (size_t)1 << 36, &text)) !=
	    KQ_OK) {
		ret = cli_fail(verb, r, "standard input");
		goto out;
	}
	if ((ret = combine_collect(verb, text, in, &sh, &n, &mem)) != 0)
		goto out;
	kq_sbuf_free(text);
	text = NULL;
	ret = KQ_EXIT_ERROR;
	if ((ptrs = calloc(n + 1, sizeof(*ptrs))) == NULL ||
	    (lens = calloc(n + 1, sizeof(*lens))) == NULL) {
		ret = cli_fail(verb, KQ_ERR_NOMEM, NULL);
		goto out;
	}
	for (i = 0; i < n; i++) {
		ptrs[i] = sh[i].p;
		lens[i] = sh[i].len;
	}
	if ((r = shamir_check_shares(ptrs, lens, n)) != KQ_OK) {
		ret = combine_explain(verb, r, sh, n);
		goto out;
	}
	/* The secret, and its encoded line after it. */
	scratch = cli_encoded_lines_scratch(out, sh[0].len - 1, 1);
	if ((secret = kq_secalloc(sh[0].len - 1 + scratch)) == NULL) {
		ret = cli_fail(verb, KQ_ERR_NOMEM, NULL);
		goto out;
	}
	if ((r = shamir_combine(ptrs, n, sh[0].len, secret)) != KQ_OK) {
		ret = combine_explain(verb, r, sh, n);
		goto out;
	}
	if ((r = cli_write_encoded(STDOUT_FILENO, out, secret, sh[0].len - 1,
	         out != CLI_FMT_RAW, (char *)secret + sh[0].len - 1,
	         scratch)) != KQ_OK) {
		ret = cli_fail(verb, r, "standard output");
		goto out;
	}
	ret = KQ_EXIT_OK;
out:
	kq_secfree(mem);
	free(sh);
	free(ptrs);
	free(lens);
	if (secret != NULL)
		kq_secfree(secret);
	kq_sbuf_free(text);
	return ret;
}
