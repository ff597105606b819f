/*
 * keyquorum tokens: the slots and tokens a PKCS#11 module shows, their PIN
 * state, and the keys on them usable for sealing, with fingerprints and
 * URIs.  No login.
 * Readers and card presence come from PC/SC (hsm/pcsc.h); no pcscd is not
 * an error here, only a line that says so.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/err.h"
#include "common/fileio.h"
#include "hsm/hsm.h"

#define SLOT_TOKEN_PRESENT 0x1UL /* CKF_TOKEN_PRESENT */

static const char tokens_help[] =
    "usage: keyquorum tokens [--module PATH] [--json]\n"
    "\n"
    "List the slots and tokens of a PKCS#11 module (default: p11-kit's\n"
    "proxy, which shows every registered module), with each token's PIN\n"
    "state and the keys usable for sealing: type, fingerprint and URI.\n";

/* The readers, or NULL with *why when PC/SC cannot be asked. */
static struct pcsc_reader *
readers(size_t *n, int *why)
{
	struct pcsc_ctx *p = NULL;
	struct pcsc_reader *v = NULL;

	*n = 0;
	if ((*why = pcsc_open(&p)) == KQ_OK)
		*why = pcsc_list(p, &v, n);
	pcsc_close(p);
	return *why == KQ_OK ? v : NULL;
}

static const char *
pin_state(unsigned long f)
{
	if (f & HSM_TF_USER_PIN_LOCKED)
		return "locked";
	if (f & HSM_TF_USER_PIN_FINAL_TRY)
		return "final-try";
	if (f & HSM_TF_USER_PIN_COUNT_LOW)
		return "count-low";
	if (!(f & HSM_TF_USER_PIN_INITIALIZED))
		return "not-initialized";
	return "ok";
}

/*
 * What could not be read of slot v (C_GetSlotInfo or C_GetTokenInfo failed
 * in hsm_slots: the slot's description, which a module space-pads, was
 * never filled, or the slot says a token is present but gave no token
 * information), or NULL.
 */
static const char *
slot_unread(const struct hsm_slot *v)
{
	size_t i;

	for (i = 0; i < sizeof(v->description); i++)
		if (v->description[i] != 0)
			break;
	if (i == sizeof(v->description))
		return "reading the slot's information failed";
	if ((v->slot_flags & SLOT_TOKEN_PRESENT) != 0 && !v->token_present)
		return "a token is present but its information could not be read";
	return NULL;
}

/*
 * Report on stderr a part of the listing that could not be read: which
 * slot (and token), and what failed.  Counts it in *bad; *first keeps
 * the first failure's code (the exit status's class).
 */
static void
tokens_unread(const char *verb, const struct hsm_slot *v, const char *what,
    int code, int *first, unsigned *bad)
{
	if (*first == KQ_OK)
		*first = code;
	if (v->token_present)
		cli_errx(verb, "slot %lu, token \"%.*s\": %s", v->id,
		    (int)hsm_field_len(v->label, sizeof(v->label)), v->label,
		    what);
	else
		cli_errx(verb, "slot %lu: %s", v->id, what);
	(*bad)++;
}

/* A trimmed copy of a fixed-width field (for JSON). */
static json_t *
jfield(const unsigned char *f, size_t w)
{
	return json_stringn((const char *)f, hsm_field_len(f, w));
}

static json_t *
tokens_json(struct hsm_ctx *c, const struct hsm_slot *v, size_t n,
    const char *verb, int *first, unsigned *bad)
{
	json_t *root = json_object(), *slots = json_array();
	size_t i, j, nk;

	struct pcsc_reader *rd;
	size_t nr;
	int why;
	json_t *ra = json_array();

	rd = readers(&nr, &why);
	for (i = 0; i < nr; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(rd[i].name));
		json_object_set_new(
		    o, "card_present", json_boolean(rd[i].present));
		json_object_set_new(o, "in_use", json_boolean(rd[i].in_use));
		json_array_append_new(ra, o);
	}
	free(rd);
	json_object_set_new(root, "readers", ra);
	if (why != KQ_OK)
		json_object_set_new(
		    root, "readers_error", json_string(kq_strerror(why)));
	json_object_set_new(root, "module", json_string(hsm_ctx_module(c)));
	for (i = 0; i < n; i++) {
		json_t *s = json_object(), *t, *keys;
		struct hsm_keyinfo *k = NULL;
		const char *what;
		int kr, inited;

		json_object_set_new(s, "id", json_integer((json_int_t)v[i].id));
		json_object_set_new(s, "description",
		    jfield(v[i].description, sizeof(v[i].description)));
		json_object_set_new(
		    s, "token_present", json_boolean(v[i].token_present));
		if ((what = slot_unread(&v[i])) != NULL) {
			tokens_unread(
			    verb, &v[i], what, KQ_ERR_TOKEN, first, bad);
			json_object_set_new(s, "error", json_string(what));
		}
		if (v[i].token_present) {
			t = json_object();
			json_object_set_new(
			    t, "label", jfield(v[i].label, sizeof(v[i].label)));
			json_object_set_new(t, "manufacturer",
			    jfield(v[i].token_manufacturer,
			        sizeof(v[i].token_manufacturer)));
			json_object_set_new(
			    t, "model", jfield(v[i].model, sizeof(v[i].model)));
			json_object_set_new(t, "serial",
			    jfield(v[i].serial, sizeof(v[i].serial)));
			json_object_set_new(t, "flags",
			    json_integer((json_int_t)v[i].token_flags));
			json_object_set_new(t, "initialized",
			    json_boolean(
			        v[i].token_flags & HSM_TF_TOKEN_INITIALIZED));
			json_object_set_new(t, "pin_state",
			    json_string(pin_state(v[i].token_flags)));
			json_object_set_new(t, "protected_auth_path",
			    json_boolean(
			        v[i].token_flags & HSM_TF_PROTECTED_AUTH_PATH));
			keys = json_array();
			/* An uninitialised token has no keys (and no session
			 * opens on it): nothing to read. */
			inited =
			    (v[i].token_flags & HSM_TF_TOKEN_INITIALIZED) != 0;
			if (inited &&
			    (kr = hsm_keys(c, v[i].id, &k, &nk)) == KQ_OK) {
				for (j = 0; j < nk; j++) {
					json_t *kj = json_object();

					json_object_set_new(kj, "type",
					    json_string(
					        hsm_key_type_name(k[j].type)));
					json_object_set_new(kj, "bits",
					    json_integer(k[j].bits));
					json_object_set_new(kj, "label",
					    json_string(k[j].label));
					json_object_set_new(kj, "fingerprint",
					    json_string(k[j].fingerprint));
					json_object_set_new(
					    kj, "uri", json_string(k[j].uri));
					json_object_set_new(kj, "source",
					    json_string(k[j].from_cert
					            ? "certificate"
					            : "public-key"));
					json_array_append_new(keys, kj);
				}
				free(k);
			} else if (inited) {
				tokens_unread(verb, &v[i], hsm_ctx_detail(c),
				    kr, first, bad);
				json_object_set_new(t, "keys_error",
				    json_string(hsm_ctx_detail(c)));
			}
			json_object_set_new(t, "keys", keys);
			json_object_set_new(s, "token", t);
		}
		json_array_append_new(slots, s);
	}
	json_object_set_new(root, "slots", slots);
	json_object_set_new(root, "complete", json_boolean(*bad == 0));
	return root;
}

static void
tokens_text(struct hsm_ctx *c, const struct hsm_slot *v, size_t n,
    const char *verb, int *first, unsigned *bad)
{
	size_t i, j, nk, nr;
	struct pcsc_reader *rd;
	int why;

	rd = readers(&nr, &why);
	if (why != KQ_OK)
		printf("readers: (%s)\n", kq_strerror(why));
	for (i = 0; i < nr; i++)
		printf("reader: %s: %s%s\n", rd[i].name,
		    rd[i].present ? "card present" : "no card",
		    rd[i].in_use ? " (in use)" : "");
	free(rd);
	printf("module: %s\n", hsm_ctx_module(c));
	for (i = 0; i < n; i++) {
		struct hsm_keyinfo *k = NULL;
		const char *what;
		int kr;

		if ((what = slot_unread(&v[i])) != NULL) {
			tokens_unread(
			    verb, &v[i], what, KQ_ERR_TOKEN, first, bad);
			printf("slot %lu: (unreadable: %s)\n", v[i].id, what);
			continue;
		}
		printf("slot %lu: %.*s\n", v[i].id,
		    (int)hsm_field_len(
		        v[i].description, sizeof(v[i].description)),
		    v[i].description);
		if (!v[i].token_present) {
			printf("  (no token)\n");
			continue;
		}
		if (!(v[i].token_flags & HSM_TF_TOKEN_INITIALIZED)) {
			printf("  token: (not initialised)\n");
			continue;
		}
		printf("  token: %.*s\n",
		    (int)hsm_field_len(v[i].label, sizeof(v[i].label)),
		    v[i].label);
		printf("  manufacturer: %.*s  model: %.*s  serial: %.*s\n",
		    (int)hsm_field_len(v[i].token_manufacturer,
		        sizeof(v[i].token_manufacturer)),
		    v[i].token_manufacturer,
		    (int)hsm_field_len(v[i].model, sizeof(v[i].model)),
		    v[i].model,
		    (int)hsm_field_len(v[i].serial, sizeof(v[i].serial)),
		    v[i].serial);
		printf("  PIN: %s%s%s\n", pin_state(v[i].token_flags),
		    (v[i].token_flags & HSM_TF_PROTECTED_AUTH_PATH)
		        ? ", PIN pad"
		        : "",
		    (v[i].token_flags & HSM_TF_LOGIN_REQUIRED)
		        ? ", login required"
		        : "");
		if ((kr = hsm_keys(c, v[i].id, &k, &nk)) != KQ_OK) {
			tokens_unread(
			    verb, &v[i], hsm_ctx_detail(c), kr, first, bad);
			printf("  keys: (unreadable: %s)\n", hsm_ctx_detail(c));
			continue;
		}
		for (j = 0; j < nk; j++)
			printf("  key: %s-%u %s \"%s\"%s\n    %s\n",
			    k[j].type == HSM_KEY_RSA ? "rsa" : "ec", k[j].bits,
			    k[j].fingerprint, k[j].label,
			    k[j].from_cert ? " (certificate)" : "", k[j].uri);
		free(k);
	}
}

int
cmd_tokens(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"module", required_argument, NULL, 'm'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "tokens", *module = NULL;
	struct hsm_ctx *c = NULL;
	struct hsm_slot *v = NULL;
	size_t n = 0;
	char why[512];
	int ch, r, json = 0, ret = KQ_EXIT_ERROR;
	unsigned bad = 0;
	int first = KQ_OK;
	json_t *root = NULL;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			module = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return cli_help(tokens_help);
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(verb, "takes no arguments");
	why[0] = '\0';
	if ((r = hsm_ctx_open(module, NULL, &c, why, sizeof(why))) != KQ_OK)
		goto fail;
	if ((r = hsm_slots(c, &v, &n)) != KQ_OK) {
		snprintf(why, sizeof(why), "%s", hsm_ctx_detail(c));
		goto fail;
	}
	if (json) {
		if ((root = tokens_json(c, v, n, verb, &first, &bad)) == NULL ||
		    json_dumpf(root, stdout, JSON_INDENT(2)) != 0) {
			r = KQ_ERR_IO;
			goto fail;
		}
		putchar('\n');
	} else
		tokens_text(c, v, n, verb, &first, &bad);
	if (fflush(stdout) != 0) {
		r = kq_errno_to_err(errno); /* a full disk: KQ_ERR_NOSPC */
		goto fail;
	}
	if (bad > 0) {
		/* What was read is shown; the listing says it is partial. */
		if (!json)
			printf("(listing incomplete: %u part%s unreadable)\n",
			    bad, bad == 1 ? "" : "s");
		(void)fflush(stdout);
		r = first != KQ_OK ? first : KQ_ERR_TOKEN;
		snprintf(why, sizeof(why),
		    "the listing is incomplete: %u slot%s or token%s could "
		    "not be read (see above)",
		    bad, bad == 1 ? "" : "s", bad == 1 ? "" : "s");
		goto fail;
	}
	ret = KQ_EXIT_OK;
	goto out;
fail:
	ret = cli_fail_detail(verb, r, why);
out:
	json_decref(root);
	free(v);
	hsm_ctx_close(c);
	return ret;
}
