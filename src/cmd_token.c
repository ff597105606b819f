/*
 * keyquorum token keygen: make a sealing key pair on a token (the private
 * key sensitive and never extractable) and print its URI and fingerprint.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/err.h"
#include "hsm/hsm.h"

static const char token_help[] =
    "usage: keyquorum token keygen --token URI --label LABEL\n"
    "                              [--type ec-p256|ec-p384|rsa-2048|rsa-3072]\n"
    "                              [--module PATH] [--allow-final-try]\n"
    "                              [--pinentry[=PROGRAM]]\n"
    "\n"
    "Generate a key pair for sealing on the token the PKCS#11 URI names\n"
    "(default type ec-p256).  Logs in (pin-source in the URI, PIN pad,\n"
    "a pinentry program with --pinentry, or the terminal).  Prints the\n"
    "key's URI and its fingerprint (SHA256:<base64 of SHA-256 over the\n"
    "DER SubjectPublicKeyInfo>).\n";

static int
token_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"token", required_argument, NULL, 't'},
	    {"label", required_argument, NULL, 'l'},
	    {"type", required_argument, NULL, 'y'},
	    {"module", required_argument, NULL, 'm'},
	    {"allow-final-try", no_argument, NULL, 'F'},
	    {"pinentry", optional_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "token keygen", *tok = NULL, *label = NULL;
	const char *type = "ec-p256", *module = NULL;
	struct hsm_login_opts lo = {0};
	struct hsm_uri *u = NULL;
	struct hsm_ctx *c = NULL;
	struct hsm_session *s = NULL;
	struct hsm_pubkey *k = NULL;
	uint8_t id[16];
	char why[512], fp[HSM_FP_STR_LEN], *uri = NULL;
	int ch, r, ret = KQ_EXIT_ERROR;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			tok = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		case 'y':
			type = optarg;
			break;
		case 'm':
			module = optarg;
			break;
		case 'F':
			lo.allow_final_try = 1;
			break;
		case 'P':
			/* "": $KEYQUORUM_PINENTRY, else pinentry on PATH */
			lo.pinentry = optarg != NULL ? optarg : "";
			break;
		case 'h':
			return cli_help(token_help);
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind != argc || tok == NULL || label == NULL || label[0] == '\0')
		return cli_usage_error(verb,
		    "--token URI and --label LABEL "
		    "are required");
	if (strcmp(type, "ec-p256") != 0 && strcmp(type, "ec-p384") != 0 &&
	    strcmp(type, "rsa-2048") != 0 && strcmp(type, "rsa-3072") != 0)
		return cli_usage_error(verb,
		    "--type is ec-p256, ec-p384, "
		    "rsa-2048 or rsa-3072");
	why[0] = '\0';
	if ((r = hsm_open(module, tok, 1, &u, &c, &s, why, sizeof(why))) !=
	    KQ_OK)
		goto fail;
	lo.on_pinpad = cli_pinpad_notice;
	lo.on_pinpad_arg = verb;
	if ((r = hsm_session_login(s, u, &lo)) != KQ_OK ||
	    (r = hsm_keygen(s, type, label, &k, id)) != KQ_OK ||
	    (r = hsm_key_uri(s, label, id, sizeof(id), &uri)) != KQ_OK) {
		snprintf(why, sizeof(why), "%s", hsm_ctx_detail(c));
		goto fail;
	}
	hsm_fingerprint_str(hsm_pubkey_fingerprint(k), fp);
	printf("uri: %s\nfingerprint: %s\ntype: %s\nbits: %u\n", uri, fp, type,
	    hsm_pubkey_bits(k));
	if (fflush(stdout) != 0) {
		r = KQ_ERR_IO;
		goto fail;
	}
	ret = KQ_EXIT_OK;
	goto out;
fail:
	ret = cli_fail_detail(verb, r, why);
out:
	free(uri);
	hsm_pubkey_free(k);
	hsm_close(u, c, s);
	return ret;
}

int
cmd_token(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		if (argc < 2)
			return cli_usage_error("token",
			    "which operation? "
			    "(keygen)");
		return cli_help(token_help);
	}
	if (strcmp(argv[1], "keygen") == 0)
		return token_keygen(argc - 1, argv + 1);
	return cli_usage_error(
	    "token", "unknown operation \"%s\" (keygen)", argv[1]);
}
