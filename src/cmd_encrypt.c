/*
 * keyquorum encrypt: seal standard input to a token's public key.  Needs
 * no PIN: only the public key (or certificate) is read from the token.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/err.h"
#include "common/secio.h"
#include "common/secmem.h"
#include "hsm/hsm.h"

static const char encrypt_help[] =
    "usage: keyquorum encrypt --to URI [--context STR] [--module PATH]\n"
    "\n"
    "Seal standard input (at most 1 MiB) to the token key the PKCS#11 URI\n"
    "names and write the sealed blob (docs/sealed-blob.md) to standard\n"
    "output.  Only the public key is used: no PIN is asked.  --context\n"
    "binds the blob to a string that decrypt must be given again.  The\n"
    "key's fingerprint is printed on standard error.\n";

int
cmd_encrypt(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"to", required_argument, NULL, 't'},
	    {"context", required_argument, NULL, 'c'},
	    {"module", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "encrypt", *to = NULL, *context = "", *module = NULL;
	struct hsm_uri *u = NULL;
	struct hsm_ctx *c = NULL;
	struct hsm_session *s = NULL;
	struct hsm_pubkey *k = NULL;
	struct kq_sbuf *in = NULL;
	uint8_t *blob = NULL;
	size_t blen = 0;
	char why[512], fp[HSM_FP_STR_LEN];
	int ch, r, ret = KQ_EXIT_ERROR;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			to = optarg;
			break;
		case 'c':
			context = optarg;
			break;
		case 'm':
			module = optarg;
			break;
		case 'h':
			return cli_help(encrypt_help);
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind != argc || to == NULL)
		return cli_usage_error(verb, "--to URI is required");
	why[0] = '\0';
	r = hsm_open(module, to, 0, &u, &c, &s, why, sizeof(why));
	if (r != KQ_OK)
		goto fail;
	if ((r = hsm_pubkey_from_token(s, u, &k)) != KQ_OK) {
		snprintf(why, sizeof(why), "%s", hsm_ctx_detail(c));
		goto fail;
	}
	r = kq_read_all_fd(STDIN_FILENO, HSM_BLOB_MAX_PAYLOAD, &in);
	if (r != KQ_OK) {
		snprintf(why, sizeof(why), "standard input");
		goto fail;
	}
	r = hsm_seal(k, (const uint8_t *)context, strlen(context),
	    kq_sbuf_ptr(in), kq_sbuf_len(in), &blob, &blen);
	if (r != KQ_OK)
		goto fail;
	if ((r = kq_write_all(STDOUT_FILENO, blob, blen)) != KQ_OK) {
		snprintf(why, sizeof(why), "standard output");
		goto fail;
	}
	hsm_fingerprint_str(hsm_pubkey_fingerprint(k), fp);
	cli_errx(verb, "sealed to %s key %s on token \"%s\"",
	    hsm_key_type_name(hsm_pubkey_type(k)), fp,
	    hsm_session_token_label(s));
	ret = KQ_EXIT_OK;
	goto out;
fail:
	ret = cli_fail_detail(verb, r, why);
out:
	free(blob);
	kq_sbuf_free(in);
	hsm_pubkey_free(k);
	hsm_close(u, c, s);
	return ret;
}
