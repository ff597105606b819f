/*
 * keyquorum custody: create a custody set from the holders' tokens, show
 * one, and enrol an existing share (a Vault key) for one holder.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ceremony/ceremony.h"
#include "cli.h"
#include "common/encoding.h"
#include "common/err.h"
#include "common/secio.h"
#include "common/secmem.h"
#include "hsm/hsm.h"
#include "envelope_cli.h"
#include "ui.h"

static const char custody_help[] =
    "usage: keyquorum custody create --name N --kind KIND --threshold T\n"
    "                         --holder NAME=URI ... --out FILE\n"
    "                         [--vault-addr URL] [--module PATH] [--force]\n"
    "       keyquorum custody show FILE [--json]\n"
    "       keyquorum custody enroll FILE --holder NAME [--share-fd N]\n"
    "                         [--pin-source NAME=SRC] [--module PATH]\n"
    "                         [--allow-final-try] [--force] [--json]\n"
    "\n"
    "create  reads each holder's public key from their token (no PIN) and\n"
    "        records its fingerprint; KIND is vault-unseal, vault-recovery,\n"
    "        hsm-pin or secret.  FILE is not overwritten without --force.\n"
    "show    prints the set (--json: the file's canonical JSON).\n"
    "enroll  imports one existing share (hex or base64; read without echo\n"
    "        on the terminal, or one line from --share-fd N), seals it to\n"
    "        the holder's token key, proves the token opens it again (PIN\n"
    "        needed) and then writes FILE atomically.\n";

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int
custody_create(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"kind", required_argument, NULL, 'k'},
	    {"threshold", required_argument, NULL, 't'},
	    {"holder", required_argument, NULL, 'H'},
	    {"out", required_argument, NULL, 'o'},
	    {"vault-addr", required_argument, NULL, 'a'},
	    {"module", required_argument, NULL, 'm'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "custody create", *name = NULL, *out = NULL;
	const char *addr = NULL, *module = NULL;
	char *holders[CUSTODY_MAX_HOLDERS];
	size_t nh = 0, i;
	enum custody_kind kind = CUSTODY_VAULT_UNSEAL;
	int have_kind = 0, force = 0, ch, r, ret = KQ_EXIT_ERROR;
	unsigned threshold = 0;
	struct custody_set *cs = NULL;
	char detail[CEREMONY_DETAIL_MAX], why[512], fp[HSM_FP_STR_LEN];

	if (cli_custody_wants_hsm_pin(argc, argv))
		return cli_custody_create_hsm_pin(argc, argv);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			name = optarg;
			break;
		case 'k':
			if (custody_kind_parse(optarg, &kind) != KQ_OK)
				return cli_usage_error(verb,
				    "--kind is vault-unseal, vault-recovery, "
				    "hsm-pin or secret");
			have_kind = 1;
			break;
		case 't':
			if (cli_parse_uint(optarg, 1, 255, &threshold) != 0)
				return cli_usage_error(
				    verb, "--threshold wants 1..255");
			break;
		case 'H':
			if (nh == CUSTODY_MAX_HOLDERS ||
			    strchr(optarg, '=') == NULL || optarg[0] == '=')
				return cli_usage_error(
				    verb, "--holder wants NAME=URI");
			holders[nh++] = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'm':
			module = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			return cli_help(custody_help);
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind != argc || name == NULL || !have_kind || threshold == 0 ||
	    nh == 0 || out == NULL)
		return cli_usage_error(verb,
		    "--name, --kind, --threshold, --holder and --out are "
		    "required");
	if (threshold > nh)
		return cli_usage_error(verb,
		    "a threshold of %u needs at least %u holders", threshold,
		    threshold);
	if (!force && access(out, F_OK) == 0)
		return cli_fail(verb, KQ_ERR_EXISTS, out);
	ceremony_json_init();
	detail[0] = '\0';
	if ((r = custody_new(name, kind, threshold, &cs)) != KQ_OK)
		return cli_fail(verb, r, NULL);
	if (addr != NULL &&
	    (r = custody_set_string(&cs->vault_address, addr)) != KQ_OK)
		goto fail;
	for (i = 0; i < nh; i++) {
		char *eq = strchr(holders[i], '=');
		struct hsm_uri *u = NULL;
		struct hsm_ctx *c = NULL;
		struct hsm_session *s = NULL;
		struct hsm_pubkey *k = NULL;

		*eq = '\0';
		why[0] = '\0';
		r = hsm_open(module, eq + 1, 0, &u, &c, &s, why, sizeof(why));
		if (r == KQ_OK &&
		    (r = hsm_pubkey_from_token(s, u, &k)) != KQ_OK)
			snprintf(why, sizeof(why), "%s", hsm_ctx_detail(c));
		if (r == KQ_OK) {
			hsm_fingerprint_str(hsm_pubkey_fingerprint(k), fp);
			printf("%s: token \"%s\", %s key, %s\n", holders[i],
			    hsm_session_token_label(s),
			    hsm_key_type_name(hsm_pubkey_type(k)), fp);
			r = custody_holder_add(cs, holders[i], eq + 1,
			    hsm_pubkey_fingerprint(k), NULL, detail);
			if (r != KQ_OK)
				snprintf(why, sizeof(why), "%s", detail);
		}
		hsm_pubkey_free(k);
		hsm_close(u, c, s);
		if (r != KQ_OK) {
			cli_errx(verb, "holder %s: %s%s%s", holders[i],
			    kq_strerror(r), why[0] ? ": " : "", why);
			ret = kq_exit_status(r);
			goto out;
		}
	}
	if ((r = custody_save(cs, out, force, detail)) != KQ_OK)
		goto fail;
	printf("custody set \"%s\" (%s, %u of %zu) written to %s; check each "
	       "fingerprint with its holder\n",
	    name, custody_kind_name(kind), threshold, nh, out);
	ret = 0;
	goto out;
fail:
	cli_errx(verb, "%s%s%s", kq_strerror(r), detail[0] ? ": " : "", detail);
	ret = kq_exit_status(r);
out:
	custody_free(cs);
	return ret;
}

static void
fmt_time(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, cap, "never");
	else
		strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
custody_show(int argc, char **argv)
{
	const char *verb = "custody show", *path = NULL;
	struct custody_set *cs = NULL;
	char detail[CEREMONY_DETAIL_MAX], id[CUSTODY_SET_ID_LEN * 2 + 1];
	char fp[HSM_FP_STR_LEN], t1[32], t2[32], *js;
	int json = 0, i, r;
	size_t j;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--help") == 0)
			return cli_help(custody_help);
		else if (argv[i][0] == '-' || path != NULL)
			return cli_usage_error(verb, "show FILE [--json]");
		else
			path = argv[i];
	}
	if (path == NULL)
		return cli_usage_error(verb, "show FILE [--json]");
	ceremony_json_init();
	detail[0] = '\0';
	if ((r = custody_load(path, &cs, detail)) != KQ_OK) {
		cli_errx(verb, "%s: %s%s%s", path, kq_strerror(r),
		    detail[0] ? ": " : "", detail);
		return kq_exit_status(r);
	}
	if (json) {
		if ((js = custody_dumps(cs, detail)) == NULL) {
			custody_free(cs);
			return cli_fail(verb, KQ_ERR_NOMEM, NULL);
		}
		printf("%s\n", js);
		free(js);
		custody_free(cs);
		return 0;
	}
	kq_hex_encode(id, sizeof(id), cs->set_id, CUSTODY_SET_ID_LEN);
	fmt_time(cs->created, t1, sizeof(t1));
	printf("custody set \"%s\"\n  id         %s\n  kind       %s\n"
	       "  threshold  %u of %zu\n  created    %s\n",
	    cs->name, id, custody_kind_name(cs->kind), cs->threshold,
	    cs->n_holders, t1);
	if (cs->vault_address != NULL)
		printf("  vault      %s\n", cs->vault_address);
	if (cs->vault_cluster_id != NULL)
		printf("  cluster    %s\n", cs->vault_cluster_id);
	for (j = 0; j < cs->n_holders; j++) {
		const struct custody_holder *h = &cs->holders[j];

		hsm_fingerprint_str(h->fingerprint, fp);
		fmt_time(h->enrolled, t1, sizeof(t1));
		fmt_time(h->last_drill, t2, sizeof(t2));
		printf("holder %s\n  token      %s\n  key        %s\n", h->name,
		    h->token_uri, fp);
		if (h->enrolled)
			printf(
			    "  share      x=%u, sealed (%zu bytes), enrolled "
			    "%s, last drill %s\n",
			    h->x, h->sealed_len, t1, t2);
		else
			printf("  share      none enrolled\n");
	}
	custody_free(cs);
	return 0;
}

/* The comparison sink of enroll: the token gave back what was sealed. */
struct cmp_arg {
	const uint8_t *want;
	size_t len;
};

static int
cmp_accept(void *arg, const struct custody_holder *h, const uint8_t *share,
    size_t len, struct ceremony_progress *p, char *detail)
{
	struct cmp_arg *c = arg;

	(void)p;
	if (len != c->len || kq_memeq_ct(share, c->want, len) != 0) {
		snprintf(detail, CEREMONY_DETAIL_MAX,
		    "holder %s: the token opened something other than the "
		    "share sealed",
		    h->name);
		return KQ_ERR_INTEGRITY;
	}
	return KQ_OK;
}

static int
custody_enroll(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"holder", required_argument, NULL, 'H'},
	    {"share-fd", required_argument, NULL, 's'},
	    {"pin-source", required_argument, NULL, 'p'},
	    {"module", required_argument, NULL, 'm'},
	    {"allow-final-try", no_argument, NULL, 'F'},
	    {"force", no_argument, NULL, 'f'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "custody enroll", *path = NULL, *name = NULL;
	struct ceremony_pin_source pins[CUSTODY_MAX_HOLDERS];
	size_t n_pins = 0;
	struct ceremony_opts o;
	struct ceremony_sink sink;
	struct cmp_arg ca;
	struct custody_set *cs = NULL;
	struct custody_holder *h;
	struct hsm_pubkey *k = NULL;
	struct kq_sbuf *text = NULL;
	struct sigaction sa;
	struct ui ui;
	const char *holders[1];
	uint8_t *share = NULL;
	size_t len = 0, i, idx;
	unsigned fdn = 0;
	int have_fd = 0, force = 0, json = 0, aft = 0, ch, r, ret;
	const char *module = NULL;
	char detail[CEREMONY_DETAIL_MAX * 2], prompt[160], trp[4096];
	struct transcript *tr = NULL;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			name = optarg;
			break;
		case 's':
			if (cli_parse_uint(optarg, 0, 1 << 20, &fdn) != 0)
				return cli_usage_error(
				    verb, "--share-fd wants a number");
			have_fd = 1;
			break;
		case 'p':
			if (cli_pin_source_add(optarg, pins, &n_pins,
			        CUSTODY_MAX_HOLDERS) != 0)
				return cli_usage_error(verb,
				    "--pin-source wants NAME=file:PATH or "
				    "NAME=fd:N");
			break;
		case 'm':
			module = optarg;
			break;
		case 'F':
			aft = 1;
			break;
		case 'f':
			force = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return cli_help(custody_help);
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind + 1 != argc || name == NULL)
		return cli_usage_error(verb, "enroll FILE --holder NAME");
	path = argv[optind];
	ui_init(&ui, json);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ceremony_json_init();
	detail[0] = '\0';
	if ((r = custody_load(path, &cs, detail)) != KQ_OK)
		goto fail;
	if ((h = custody_holder_by_name(cs, name)) == NULL) {
		r = KQ_ERR_HOLDER_UNKNOWN;
		snprintf(detail, sizeof(detail), "%s", name);
		goto fail;
	}
	idx = (size_t)(h - cs->holders);
	if (h->enrolled && !force) {
		r = KQ_ERR_EXISTS;
		snprintf(detail, sizeof(detail),
		    "holder %s already has a share (--force replaces it)",
		    name);
		goto fail;
	}
	/* The share: one line, never echoed, never in argv. */
	if (have_fd) {
		r = kq_read_line_fd((int)fdn, 4096, &text);
	} else {
		snprintf(prompt, sizeof(prompt),
		    "Share for %s (hex or base64, not echoed): ", name);
		r = kq_read_secret_tty(prompt, 4096, &text);
	}
	if (r != KQ_OK) {
		snprintf(detail, sizeof(detail), "reading the share");
		goto fail;
	}
	if ((share = kq_secalloc(kq_sbuf_len(text) + 1)) == NULL) {
		r = KQ_ERR_NOMEM;
		goto fail;
	}
	r = kq_key_decode_vault(share, kq_sbuf_len(text) + 1, &len,
	    (const char *)kq_sbuf_ptr(text), kq_sbuf_len(text));
	kq_sbuf_free(text);
	text = NULL;
	if (r != KQ_OK) {
		snprintf(detail, sizeof(detail),
		    "the share is not hex or base64 of a Vault key");
		goto fail;
	}
	if (len < CUSTODY_MIN_SHARE || share[len - 1] == 0) {
		r = KQ_ERR_INVALID;
		snprintf(detail, sizeof(detail),
		    "a share must be at least %d bytes with a non-zero "
		    "x-coordinate last",
		    CUSTODY_MIN_SHARE);
		goto fail;
	}
	for (i = 0; i < cs->n_holders; i++) {
		if (i != idx && cs->holders[i].enrolled &&
		    cs->holders[i].x == share[len - 1]) {
			r = KQ_ERR_SHAMIR_DUP_X;
			snprintf(detail, sizeof(detail),
			    "x-coordinate %u is holder %s's already: the same "
			    "share twice, or shares of different secrets",
			    share[len - 1], cs->holders[i].name);
			goto fail;
		}
	}
	memset(&o, 0, sizeof(o));
	o.op = "enroll";
	o.module = module;
	holders[0] = name;
	o.holders = holders;
	o.n_holders = 1;
	o.pins = pins;
	o.n_pins = n_pins;
	o.allow_final_try = aft;
	o.max_shares = 1;
	o.stop = &stop_flag;
	o.on_event = ui_event;
	o.event_arg = &ui;
	snprintf(trp, sizeof(trp), "%s.transcript", path);
	if ((r = transcript_open(trp, &tr, detail)) != KQ_OK)
		goto fail;
	o.transcript = tr;
	if ((r = ceremony_holder_pubkey(cs, &o, idx, &k, detail)) != KQ_OK)
		goto fail;
	if ((r = ceremony_seal_share(cs, idx, k, share, len, detail)) != KQ_OK)
		goto fail;
	/* Prove the token opens it again before anything is written. */
	ca.want = share;
	ca.len = len;
	sink.name = "enrolment check";
	sink.accept = cmp_accept;
	sink.arg = &ca;
	if ((r = ceremony_collect(cs, &o, &sink, NULL, detail)) != KQ_OK)
		goto fail;
	if ((r = custody_save(cs, path, 1, detail)) != KQ_OK)
		goto fail;
	ceremony_log(tr, cs, "enroll", "ok", name, h->fingerprint, NULL,
	    "share sealed to the holder's token and opened again");
	ui_say(&ui, CEREMONY_EV_DONE, 0, name,
	    "%s's share (x=%u) is sealed to the token key and opens again; "
	    "%s written",
	    name, h->x, path);
	ret = 0;
	goto out;
fail:
	if (!json || r == KQ_ERR_USAGE)
		cli_errx(verb, "%s%s%s", kq_strerror(r), detail[0] ? ": " : "",
		    detail);
	else
		ui_say(&ui, CEREMONY_EV_ERROR, r, name, "%s%s%s",
		    kq_strerror(r), detail[0] ? ": " : "", detail);
	ret = kq_exit_status(r);
	if (tr != NULL)
		ceremony_log(
		    tr, cs, "enroll", "error", name, NULL, NULL, detail);
out:
	transcript_close(tr);
	kq_sbuf_free(text);
	kq_secfree(share);
	hsm_pubkey_free(k);
	custody_free(cs);
	return ret;
}

int
cmd_custody(int argc, char **argv)
{
	static const struct cli_action actions[] = {
	    {"create", custody_create},
	    {"show", custody_show},
	    {"enroll", custody_enroll},
	};

	return cli_action_dispatch("custody", argc, argv, actions,
	    sizeof(actions) / sizeof(actions[0]), custody_help);
}
