/*
 * keyquorum custody create --kind hsm-pin: the HSM's user PIN becomes a
 * quorum secret.  keyquorum draws a 256-bit PIN, splits it, seals each
 * share to its holder's token, and only then sets it on the HSM; from
 * then on no person knows the PIN.
 *
 * The order makes every failure recoverable (docs/rollback-plan.md,
 * "Recovery"):
 *   1. read each holder's public key from their token (no PIN);
 *   2. read the authorising PIN (SO PIN, or the current user PIN) once;
 *   3. draw the PIN, split it, seal the shares: all in memory;
 *   4. write the complete set to FILE.pending (atomic, 0600): the marker;
 *   5. set the PIN on the HSM (C_InitPIN as SO, or C_SetPIN); on failure
 *      FILE.pending is removed and the HSM is as it was;
 *   6. rename FILE.pending to FILE; on failure the error says that the
 *      PIN IS changed and its shares are in FILE.pending;
 *   7. log in with the new PIN and make the envelope key if missing (a
 *      failure here is repaired by the first seal-envelope).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/ceremony.h"
#include "cli.h"
#include "common/encoding.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/secio.h"
#include "common/secmem.h"
#include "envelope_cli.h"
#include "hsm/hsm.h"
#include "shamir/shamir.h"

#define PIN_RANDOM 32 /* bytes: 256 bits */
#define AUTH_PIN_MAX 256

static const char hsm_pin_help[] =
    "usage: keyquorum custody create --kind hsm-pin --name N --threshold T\n"
    "            --holder NAME=URI ... --hsm URI --out FILE\n"
    "            [--hsm-module PATH] [--module PATH] [--key-label L]\n"
    "            [--so-pin-source SRC | --user-pin-source SRC | "
    "--user-pin]\n"
    "            [--force]\n"
    "\n"
    "Generates a 256-bit user PIN for the HSM token --hsm, splits it T of\n"
    "n, seals each share to its holder's token key, writes FILE, then sets\n"
    "the PIN on the HSM (as its security officer by default, the SO PIN\n"
    "asked once on the terminal or read from --so-pin-source file:PATH or\n"
    "fd:N; with --user-pin or --user-pin-source, C_SetPIN with the current\n"
    "user PIN) and makes the HSM's non-extractable AES-256 envelope key\n"
    "(label --key-label, default " ENVELOPE_KEY_LABEL ") if missing.\n"
    "From then on no person knows the HSM's PIN.\n";

int
cli_custody_wants_hsm_pin(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--kind=hsm-pin") == 0)
			return 1;
		if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc &&
		    strcmp(argv[i + 1], "hsm-pin") == 0)
			return 1;
	}
	return 0;
}

struct pin_args {
	const char *name, *out, *hsm, *hsm_module, *module, *key_label;
	const char *so_src, *user_src;
	int user_pin, force;
	unsigned threshold;
	char *holders[CUSTODY_MAX_HOLDERS];
	size_t nh;
};

static int
parse_pin_args(int argc, char **argv, struct pin_args *a)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"kind", required_argument, NULL, 'k'},
	    {"threshold", required_argument, NULL, 't'},
	    {"holder", required_argument, NULL, 'H'},
	    {"out", required_argument, NULL, 'o'},
	    {"hsm", required_argument, NULL, 'u'},
	    {"hsm-module", required_argument, NULL, 'M'},
	    {"module", required_argument, NULL, 'm'},
	    {"key-label", required_argument, NULL, 'l'},
	    {"so-pin-source", required_argument, NULL, 'S'},
	    {"user-pin-source", required_argument, NULL, 'U'},
	    {"user-pin", no_argument, NULL, 'P'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "custody create";
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			a->name = optarg;
			break;
		case 'k':
			if (strcmp(optarg, "hsm-pin") != 0)
				return cli_usage_error(verb, "--kind hsm-pin");
			break;
		case 't':
			if (cli_parse_uint(optarg, 2, 255, &a->threshold) != 0)
				return cli_usage_error(verb,
				    "--threshold wants 2..255 (a PIN no single "
				    "holder can rebuild)");
			break;
		case 'H':
			if (a->nh == CUSTODY_MAX_HOLDERS ||
			    strchr(optarg, '=') == NULL || optarg[0] == '=')
				return cli_usage_error(
				    verb, "--holder wants NAME=URI");
			a->holders[a->nh++] = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'u':
			a->hsm = optarg;
			break;
		case 'M':
			a->hsm_module = optarg;
			break;
		case 'm':
			a->module = optarg;
			break;
		case 'l':
			a->key_label = optarg;
			break;
		case 'S':
			a->so_src = optarg;
			break;
		case 'U':
			a->user_src = optarg;
			break;
		case 'P':
			a->user_pin = 1;
			break;
		case 'f':
			a->force = 1;
			break;
		case 'h':
			cli_help(hsm_pin_help);
			return -1;
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind != argc || a->name == NULL || a->threshold == 0 ||
	    a->nh == 0 || a->out == NULL || a->hsm == NULL)
		return cli_usage_error(verb,
		    "--name, --threshold, --holder, --hsm and --out are "
		    "required");
	if (a->threshold > a->nh)
		return cli_usage_error(verb,
		    "a threshold of %u needs at least %u holders", a->threshold,
		    a->threshold);
	if ((a->so_src != NULL) + (a->user_src != NULL) + a->user_pin > 1)
		return cli_usage_error(verb,
		    "--so-pin-source, --user-pin-source and --user-pin "
		    "exclude each other");
	if (a->key_label == NULL)
		a->key_label = ENVELOPE_KEY_LABEL;
	return 0;
}

/* The authorising PIN, read once into secure memory. */
static int
read_auth_pin(const struct pin_args *a, const char *token, struct kq_sbuf **pin,
    char *why, size_t whylen)
{
	const char *src = a->so_src != NULL ? a->so_src : a->user_src;
	char prompt[160];

	if (src != NULL) {
		if (strncmp(src, "file:", 5) == 0)
			src += 5;
		return hsm_pin_from_source(src, pin, why, whylen);
	}
	snprintf(prompt, sizeof(prompt), "%s PIN of HSM token \"%s\": ",
	    a->user_pin ? "Current user" : "Security officer (SO)", token);
	return kq_read_secret_tty(prompt, AUTH_PIN_MAX, pin);
}

/* Each holder's key from their token; the set gets names and keys. */
static int
read_holders(
    const struct pin_args *a, struct custody_set *cs, struct hsm_pubkey **keys)
{
	char why[512], fp[HSM_FP_STR_LEN], detail[CEREMONY_DETAIL_MAX];
	size_t i;
	int r = KQ_OK;

	for (i = 0; i < a->nh && r == KQ_OK; i++) {
		char *eq = strchr(a->holders[i], '=');
		struct hsm_uri *u = NULL;
		struct hsm_ctx *c = NULL;
		struct hsm_session *s = NULL;

		*eq = '\0';
		why[0] = detail[0] = '\0';
		r = hsm_open(
		    a->module, eq + 1, 0, &u, &c, &s, why, sizeof(why));
		if (r == KQ_OK &&
		    (r = hsm_pubkey_from_token(s, u, &keys[i])) != KQ_OK)
			snprintf(why, sizeof(why), "%s", hsm_ctx_detail(c));
		if (r == KQ_OK) {
			hsm_fingerprint_str(
			    hsm_pubkey_fingerprint(keys[i]), fp);
			printf("%s: token \"%s\", %s key, %s\n", a->holders[i],
			    hsm_session_token_label(s),
			    hsm_key_type_name(hsm_pubkey_type(keys[i])), fp);
			r = custody_holder_add(cs, a->holders[i], eq + 1,
			    hsm_pubkey_fingerprint(keys[i]), NULL, detail);
			if (r != KQ_OK)
				snprintf(why, sizeof(why), "%s", detail);
		}
		hsm_close(u, c, s);
		if (r != KQ_OK)
			cli_errx("custody create", "holder %s: %s%s%s",
			    a->holders[i], kq_strerror(r), why[0] ? ": " : "",
			    why);
	}
	return r;
}

/*
 * A new PIN as text the token accepts: 64 hex digits, or 43 characters of
 * unpadded base64url when the token takes fewer than 64.
 */
static int
new_pin(const struct hsm_token_id *tid, uint8_t **pin, size_t *len)
{
	uint8_t raw[PIN_RANDOM];
	uint8_t *p = NULL;
	size_t i, n;
	int r;

	if (tid->max_pin_len >= 64 && tid->min_pin_len <= 64)
		n = 64;
	else if (tid->max_pin_len >= 43 && tid->min_pin_len <= 43)
		n = 43;
	else
		return KQ_ERR_PIN_LEN;
	if ((p = kq_secalloc(n + 3)) == NULL)
		return KQ_ERR_NOMEM;
	if ((r = kq_random(raw, sizeof(raw))) != KQ_OK)
		goto out;
	if (n == 64) {
		r = kq_hex_encode((char *)p, n + 1, raw, sizeof(raw));
	} else {
		r = kq_b64_encode(
		    (char *)p, n + 3, raw, sizeof(raw), KQ_B64_RAW);
		for (i = 0; r == KQ_OK && i < n; i++)
			p[i] = p[i] == '+' ? '-' : p[i] == '/' ? '_' : p[i];
	}
out:
	kq_wipe(raw, sizeof(raw));
	if (r != KQ_OK) {
		kq_secfree(p);
		return r;
	}
	*pin = p;
	*len = n;
	return KQ_OK;
}

/* Split the PIN and seal one share to each holder. */
static int
seal_pin_shares(struct custody_set *cs, struct hsm_pubkey **keys,
    const uint8_t *pin, size_t len, char *detail)
{
	uint8_t *shares[CUSTODY_MAX_HOLDERS];
	size_t i;
	int r;

	memset(shares, 0, sizeof(shares));
	for (i = 0; i < cs->n_holders; i++)
		if ((shares[i] = kq_secalloc(len + 1)) == NULL) {
			r = KQ_ERR_NOMEM;
			goto out;
		}
	r = shamir_split(
	    pin, len, cs->threshold, (unsigned)cs->n_holders, shares);
	for (i = 0; r == KQ_OK && i < cs->n_holders; i++)
		r = ceremony_seal_share(
		    cs, i, keys[i], shares[i], len + 1, detail);
out:
	for (i = 0; i < cs->n_holders; i++)
		kq_secfree(shares[i]);
	return r;
}

/* Everything one custody create holds; released by pin_run_free. */
struct pin_run {
	struct pin_args a;
	struct custody_set *cs;
	struct hsm_pubkey *keys[CUSTODY_MAX_HOLDERS];
	struct hsm_uri *u;
	struct hsm_ctx *c;
	struct hsm_session *s;
	struct hsm_token_id tid;
	struct kq_sbuf *auth; /* the SO or current user PIN */
	uint8_t *pin; /* the new PIN, secure */
	size_t pin_len;
	struct transcript *tr;
	char pending[PATH_MAX], trp[PATH_MAX];
	char detail[CEREMONY_DETAIL_MAX * 2];
};

static void
pin_run_free(struct pin_run *pr)
{
	size_t i;

	kq_sbuf_free(pr->auth);
	kq_secfree(pr->pin);
	transcript_close(pr->tr);
	hsm_close(pr->u, pr->c, pr->s);
	for (i = 0; i < CUSTODY_MAX_HOLDERS; i++)
		hsm_pubkey_free(pr->keys[i]);
	custody_free(pr->cs);
}

static int pin_say(int r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
pin_say(int r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_errx("custody create", "%s", msg);
	return kq_exit_status(r);
}

/* 1.-3.: keys, the HSM, the authorising PIN, the new PIN's shares. */
static int
pin_prepare(struct pin_run *pr)
{
	const struct pin_args *a = &pr->a;
	char why[512];
	int r;

	why[0] = '\0';
	if ((r = custody_new(
	         a->name, CUSTODY_HSM_PIN, a->threshold, &pr->cs)) != KQ_OK ||
	    (r = custody_set_string(&pr->cs->hsm_token_uri, a->hsm)) != KQ_OK ||
	    (r = custody_set_string(&pr->cs->hsm_key_label, a->key_label)) !=
	        KQ_OK)
		return pin_say(r, "%s", kq_strerror(r));
	if ((r = read_holders(a, pr->cs, pr->keys)) != KQ_OK)
		return kq_exit_status(r); /* said by read_holders */
	r = hsm_open(
	    a->hsm_module, a->hsm, 1, &pr->u, &pr->c, &pr->s, why, sizeof(why));
	if (r != KQ_OK)
		return pin_say(r, "the HSM %s: %s%s%s", a->hsm, kq_strerror(r),
		    why[0] ? ": " : "", why);
	if ((r = hsm_session_token_id(pr->s, &pr->tid)) != KQ_OK)
		return pin_say(r, "the HSM: %s", hsm_ctx_detail(pr->c));
	if (!a->user_pin && a->user_src == NULL &&
	    !(pr->tid.flags & HSM_TF_USER_PIN_INITIALIZED))
		printf("HSM token \"%s\" has no user PIN yet: the SO sets it\n",
		    pr->tid.label);
	if ((r = read_auth_pin(
	         a, pr->tid.label, &pr->auth, why, sizeof(why))) != KQ_OK)
		return pin_say(r, "reading the %s PIN: %s%s%s",
		    a->user_pin || a->user_src != NULL ? "user" : "SO",
		    kq_strerror(r), why[0] ? ": " : "", why);
	if ((r = new_pin(&pr->tid, &pr->pin, &pr->pin_len)) != KQ_OK)
		return pin_say(r,
		    "HSM token \"%s\" takes PINs of %lu..%lu characters: too "
		    "short for a 256-bit PIN (43 characters at least)",
		    pr->tid.label, pr->tid.min_pin_len, pr->tid.max_pin_len);
	pr->detail[0] = '\0';
	r = seal_pin_shares(pr->cs, pr->keys, pr->pin, pr->pin_len, pr->detail);
	if (r != KQ_OK)
		return pin_say(r, "%s: %s; the HSM was not changed",
		    kq_strerror(r), pr->detail);
	return 0;
}

/*
 * 4.-6.: the marker, the PIN change, the set in place.  One step for
 * signals: SIGINT, SIGTERM and SIGHUP wait until it is over.
 */
static int
pin_commit(struct pin_run *pr)
{
	const struct pin_args *a = &pr->a;
	sigset_t block, old;
	int r, ret;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	pr->detail[0] = '\0';
	if ((r = custody_save(pr->cs, pr->pending, 0, pr->detail)) != KQ_OK) {
		ret = pin_say(r, "%s: %s: %s; the HSM was not changed",
		    pr->pending, kq_strerror(r), pr->detail);
		goto out;
	}
	(void)transcript_open(pr->trp, &pr->tr, NULL);
	ceremony_log(pr->tr, pr->cs, "custody-create", "pending", NULL, NULL,
	    NULL, "hsm-pin shares sealed; the HSM's PIN is about to change");
	if (a->user_pin || a->user_src != NULL)
		r = hsm_set_user_pin(pr->s, kq_sbuf_ptr(pr->auth),
		    kq_sbuf_len(pr->auth), pr->pin, pr->pin_len);
	else
		r = hsm_init_user_pin(pr->s, kq_sbuf_ptr(pr->auth),
		    kq_sbuf_len(pr->auth), pr->pin, pr->pin_len);
	kq_sbuf_free(pr->auth);
	pr->auth = NULL;
	if (r != KQ_OK) {
		unlink(pr->pending);
		ceremony_log(pr->tr, pr->cs, "custody-create", "error", NULL,
		    NULL, NULL,
		    "the HSM refused the PIN change; nothing changed");
		ret = pin_say(r,
		    "%s: %s; the HSM's PIN was NOT changed and no custody file "
		    "was written",
		    kq_strerror(r), hsm_ctx_detail(pr->c));
		goto out;
	}
	ceremony_log(pr->tr, pr->cs, "custody-create", "pin-set", NULL, NULL,
	    NULL, pr->tid.label);
	if (rename(pr->pending, a->out) != 0) {
		ret = pin_say(KQ_ERR_HSM_PIN_STATE,
		    "the HSM's PIN IS changed, but %s could not be renamed to "
		    "%s (%s): the new PIN's shares are in %s; move it into "
		    "place (mv %s %s)",
		    pr->pending, a->out, strerror(errno), pr->pending,
		    pr->pending, a->out);
		goto out;
	}
	ret = 0;
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}

/* 7.: the envelope key, with the new PIN; a failure is only a warning. */
static void
pin_make_key(struct pin_run *pr)
{
	const struct pin_args *a = &pr->a;
	int r;

	r = hsm_session_login_pin(pr->s, pr->pin, pr->pin_len, 0);
	kq_secfree(pr->pin);
	pr->pin = NULL;
	if (r == KQ_OK) {
		r = hsm_aes_keygen(pr->s, a->key_label);
		hsm_session_logout(pr->s);
	}
	if (r == KQ_OK)
		printf("HSM token \"%s\": non-extractable AES-256 key \"%s\" "
		       "generated\n",
		    pr->tid.label, a->key_label);
	else if (r == KQ_ERR_EXISTS)
		printf("HSM token \"%s\": AES key \"%s\" exists and is kept\n",
		    pr->tid.label, a->key_label);
	else
		(void)pin_say(r,
		    "warning: the PIN is set and %s written, but the envelope "
		    "key \"%s\" could not be made (%s: %s); the first "
		    "seal-envelope makes it",
		    a->out, a->key_label, kq_strerror(r),
		    hsm_ctx_detail(pr->c));
}

int
cli_custody_create_hsm_pin(int argc, char **argv)
{
	const char *verb = "custody create";
	struct pin_run *pr;
	const struct pin_args *a;
	struct stat st;
	int ret;

	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		return cli_fail(verb, KQ_ERR_NOMEM, NULL);
	a = &pr->a;
	if ((ret = parse_pin_args(argc, argv, &pr->a)) != 0) {
		ret = ret < 0 ? 0 : ret;
		goto out;
	}
	ceremony_json_init();
	if (snprintf(pr->pending, sizeof(pr->pending), "%s.pending", a->out) >=
	        (int)sizeof(pr->pending) ||
	    snprintf(pr->trp, sizeof(pr->trp), "%s.transcript", a->out) >=
	        (int)sizeof(pr->trp)) {
		ret = cli_fail(verb, KQ_ERR_TOO_LONG, a->out);
		goto out;
	}
	if (!a->force && lstat(a->out, &st) == 0) {
		ret = cli_fail(verb, KQ_ERR_EXISTS, a->out);
		goto out;
	}
	if (lstat(pr->pending, &st) == 0) {
		ret = pin_say(KQ_ERR_HSM_PIN_STATE,
		    "%s exists: an earlier custody create was interrupted. If "
		    "the HSM's PIN was changed then, that file holds its "
		    "shares: move it to %s; otherwise remove it",
		    pr->pending, a->out);
		goto out;
	}
	if ((ret = pin_prepare(pr)) != 0 || (ret = pin_commit(pr)) != 0)
		goto out;
	pin_make_key(pr);
	ceremony_log(pr->tr, pr->cs, "custody-create", "ok", NULL, NULL, NULL,
	    "hsm-pin set in place");
	printf("custody set \"%s\" (hsm-pin, %u of %zu) written to %s; the "
	       "PIN of HSM token \"%s\" (serial %s) is now known to no one: "
	       "%u holders rebuild it\n",
	    a->name, a->threshold, a->nh, a->out, pr->tid.label, pr->tid.serial,
	    a->threshold);
	ret = 0;
out:
	pin_run_free(pr);
	free(pr);
	return ret;
}
