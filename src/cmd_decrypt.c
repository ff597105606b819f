/*
 * keyquorum decrypt: open a sealed blob with the private key on its token.
 * The blob's key fingerprint and context are checked before any PIN is
 * asked; the PIN comes from the URI's pin-source, the reader's PIN pad, a
 * pinentry program (--pinentry) or the terminal.  The plaintext goes to
 * standard output with write(2).
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

static const char decrypt_help[] =
    "usage: keyquorum decrypt --with URI [--context STR] [--module PATH]\n"
    "                         [--allow-final-try] [--force-tty]\n"
    "                         [--pinentry[=PROGRAM]]\n"
    "\n"
    "Read a sealed blob on standard input, open it with the token key the\n"
    "PKCS#11 URI names (logging in: pin-source=FILE or fd:N in the URI,\n"
    "the reader's PIN pad, a pinentry program with --pinentry, or the\n"
    "terminal) and write the plaintext to standard output.  --pinentry\n"
    "alone runs $KEYQUORUM_PINENTRY, else pinentry from PATH.  A token\n"
    "with one PIN try left is refused unless --allow-final-try.  Plaintext\n"
    "is not written to a terminal unless --force-tty.\n"
    "\n"
    "Exit status: 3 PIN (wrong, locked, final try, cancelled, pinentry\n"
    "failed), 4 token (wrong token or key, removed, missing), 6 tampered\n"
    "blob or wrong context.\n";

int
cmd_decrypt(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"with", required_argument, NULL, 'w'},
	    {"context", required_argument, NULL, 'c'},
	    {"module", required_argument, NULL, 'm'},
	    {"allow-final-try", no_argument, NULL, 'F'},
	    {"pinentry", optional_argument, NULL, 'P'},
	    {"force-tty", no_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "decrypt", *with = NULL, *context = "";
	const char *module = NULL;
	struct hsm_login_opts lo = {0};
	struct hsm_uri *u = NULL;
	struct hsm_ctx *c = NULL;
	struct hsm_session *s = NULL;
	struct hsm_pubkey *k = NULL;
	struct hsm_blob b;
	struct kq_sbuf *in = NULL, *pt = NULL;
	char why[512];
	int ch, r, ret = KQ_EXIT_ERROR, force_tty = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			with = optarg;
			break;
		case 'c':
			context = optarg;
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
		case 'T':
			force_tty = 1;
			break;
		case 'h':
			return cli_help(decrypt_help);
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind != argc || with == NULL)
		return cli_usage_error(verb, "--with URI is required");
	why[0] = '\0';
	if (!force_tty && cli_isatty(STDOUT_FILENO)) {
		r = KQ_ERR_REFUSE_TTY;
		goto fail;
	}
	r = kq_read_all_fd(
	    STDIN_FILENO, HSM_BLOB_MAX_PAYLOAD + HSM_BLOB_TAG_LEN + 2048, &in);
	if (r != KQ_OK) {
		snprintf(why, sizeof(why), "standard input");
		goto fail;
	}
	if ((r = hsm_blob_parse(kq_sbuf_ptr(in), kq_sbuf_len(in), &b)) !=
	    KQ_OK) {
		snprintf(why, sizeof(why), "the sealed blob on standard input");
		goto fail;
	}
	r = hsm_open(module, with, 0, &u, &c, &s, why, sizeof(why));
	if (r != KQ_OK)
		goto fail;
	if ((r = hsm_pubkey_from_token(s, u, &k)) != KQ_OK) {
		snprintf(why, sizeof(why), "%s", hsm_ctx_detail(c));
		goto fail;
	}
	/* Before the PIN: the right key?  The right context? */
	if ((r = hsm_blob_check(
	         &b, k, (const uint8_t *)context, strlen(context))) != KQ_OK) {
		char have[HSM_FP_STR_LEN], want[HSM_FP_STR_LEN];

		hsm_fingerprint_str(hsm_pubkey_fingerprint(k), have);
		hsm_fingerprint_str(b.fingerprint, want);
		if (r == KQ_ERR_WRONG_TOKEN)
			snprintf(why, sizeof(why),
			    "the blob is sealed to %s; "
			    "token \"%s\" has %s",
			    want, hsm_session_token_label(s), have);
		goto fail;
	}
	lo.on_pinpad = cli_pinpad_notice;
	lo.on_pinpad_arg = verb;
	if ((r = hsm_session_login(s, u, &lo)) != KQ_OK) {
		snprintf(why, sizeof(why), "%s", hsm_ctx_detail(c));
		goto fail;
	}
	r = hsm_unseal(s, u, kq_sbuf_ptr(in), kq_sbuf_len(in),
	    (const uint8_t *)context, strlen(context), &pt);
	if (r != KQ_OK) {
		snprintf(why, sizeof(why), "%s", hsm_ctx_detail(c));
		goto fail;
	}
	if ((r = kq_write_all(
	         STDOUT_FILENO, kq_sbuf_ptr(pt), kq_sbuf_len(pt))) != KQ_OK) {
		snprintf(why, sizeof(why), "standard output");
		goto fail;
	}
	ret = KQ_EXIT_OK;
	goto out;
fail:
	ret = cli_fail_detail(verb, r, why);
out:
	kq_sbuf_free(pt);
	kq_sbuf_free(in);
	hsm_pubkey_free(k);
	hsm_close(u, c, s);
	return ret;
}
