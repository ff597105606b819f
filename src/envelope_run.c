/*
 * keyquorum ceremony seal-envelope / open-envelope: the ceremony around
 * the hsm-pin custody set.  The engine's local combine sink rebuilds the
 * HSM's user PIN in secure memory from a quorum of holders; the HSM is
 * logged in, encrypts or decrypts the envelope's data key, and is logged
 * out again at once; the PIN is wiped.  Also the two-step sealer of
 * generate-root --seal-envelope.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ceremony/ceremony.h"
#include "cli.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/secio.h"
#include "common/secmem.h"
#include "envelope_int.h"
#include "hsm/hsm.h"
#include "ui.h"

const char env_help[] =
    "usage: keyquorum envelope show FILE [--json]\n"
    "       keyquorum envelope list --hsm URI [--module PATH] [--json]\n"
    "       keyquorum ceremony seal-envelope --custody HSM-PIN-SET --in FILE\n"
    "                 --label L [--out FILE] [--type file|rollback-plan]\n"
    "                 [--store-in-hsm] [ceremony options]\n"
    "       keyquorum ceremony open-envelope --custody HSM-PIN-SET\n"
    "                 (--envelope FILE | --id ID) [--out FILE]\n"
    "                 [--format text|json] [ceremony options]\n"
    "\n"
    "show   prints an envelope's header (no secret: the data key appears\n"
    "       only encrypted under the HSM's key).\n"
    "list   lists the envelopes stored in the HSM by their public headers,\n"
    "       without a PIN; the envelopes themselves are private objects.\n"
    "seal-envelope / open-envelope collect a quorum of the hsm-pin set's\n"
    "       holders (as every ceremony: --holders, --pin-source, --module,\n"
    "       --json, --transcript, --allow-final-try, --pinentry[=PROGRAM],\n"
    "       --wait), rebuild the HSM's PIN in locked memory, and have the\n"
    "       HSM encrypt or decrypt the data key.  --hsm-module PATH names\n"
    "       the HSM's PKCS#11 module when the set's URI does not.  A rollback\n"
    "       plan opens as a\n"
    "       checklist (--format json for machines); other content needs\n"
    "       --out FILE (new, 0600, appears only complete) or --out - (standard\n"
    "       output, after a first pass has verified every chunk).\n";

volatile sig_atomic_t env_stop;

static void
on_signal(int sig)
{
	(void)sig;
	env_stop = 1;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ---- the ceremony around the hsm-pin set ---- */

/* Say what failed (ui), record it, return the exit status. */
int
env_fail(struct envelope_prep *p, int r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->tr != NULL)
		ceremony_log(
		    p->tr, p->cs, p->o.op, "error", NULL, NULL, NULL, msg);
	ui_say(p->ui, CEREMONY_EV_ERROR, r, NULL, "%s", msg);
	return kq_exit_status(r);
}

void
env_close_hsm(struct envelope_prep *p)
{
	if (p->hs != NULL)
		hsm_session_logout(p->hs);
	hsm_close(p->hu, p->hc, p->hs);
	p->hu = NULL;
	p->hc = NULL;
	p->hs = NULL;
}

void
envelope_cli_free(struct envelope_prep *p)
{
	if (p == NULL)
		return;
	env_close_hsm(p);
	kq_secfree(p->key);
	transcript_close(p->tr);
	custody_free(p->cs);
	free(p);
}

/*
 * Load the hsm-pin set, open its transcript and a session on its HSM
 * (before any holder is bothered: the HSM must be there).
 */
static int
prep_open(struct envelope_prep *p, const char *custody_path,
    const char *transcript, const char *hsm_module, int rw)
{
	struct hsm_uri *u = NULL;
	char why[512];
	int r;

	p->detail[0] = '\0';
	if ((r = custody_load(custody_path, &p->cs, p->detail)) != KQ_OK)
		return env_fail(p, r, "%s: %s%s%s", custody_path,
		    kq_strerror(r), p->detail[0] ? ": " : "", p->detail);
	if (p->cs->kind != CUSTODY_HSM_PIN || p->cs->hsm_token_uri == NULL)
		return env_fail(p, KQ_ERR_USAGE,
		    "%s is a %s set%s: envelopes need the hsm-pin set made by "
		    "'keyquorum custody create --kind hsm-pin'",
		    custody_path, custody_kind_name(p->cs->kind),
		    p->cs->kind == CUSTODY_HSM_PIN ? " without an HSM" : "");
	snprintf(p->tr_path, sizeof(p->tr_path), "%s%s",
	    transcript != NULL ? transcript : custody_path,
	    transcript != NULL ? "" : ".transcript");
	if ((r = transcript_open(p->tr_path, &p->tr, p->detail)) != KQ_OK)
		return env_fail(p, r, "transcript %s: %s%s%s", p->tr_path,
		    kq_strerror(r), p->detail[0] ? ": " : "", p->detail);
	p->o.transcript = p->tr;
	why[0] = '\0';
	/* The custody file never makes keyquorum load code. */
	if (hsm_uri_parse(p->cs->hsm_token_uri, &u, why, sizeof(why)) ==
	        KQ_OK &&
	    hsm_uri_module_path(u) != NULL &&
	    (hsm_module == NULL ||
	        strcmp(hsm_module, hsm_uri_module_path(u)) != 0)) {
		r = env_fail(p, KQ_ERR_USAGE,
		    "the set's HSM URI names module-path %s: give --hsm-module "
		    "%s to allow it (a custody file never chooses the code "
		    "keyquorum loads)",
		    hsm_uri_module_path(u), hsm_uri_module_path(u));
		hsm_uri_free(u);
		return r;
	}
	hsm_uri_free(u);
	u = NULL;
	r = hsm_open(hsm_module, p->cs->hsm_token_uri, rw, &p->hu, &p->hc,
	    &p->hs, why, sizeof(why));
	if (r != KQ_OK)
		return env_fail(p, r, "the set's HSM (%s): %s%s%s",
		    p->cs->hsm_token_uri, kq_strerror(r), why[0] ? ": " : "",
		    why);
	if ((r = hsm_session_token_id(p->hs, &p->tid)) != KQ_OK)
		return env_fail(p, r, "the HSM: %s", hsm_ctx_detail(p->hc));
	return 0;
}

/* Names of the holders whose shares were used, "a,b,c". */
static void
quorum_names(
    const struct custody_set *cs, const int *status, char *out, size_t cap)
{
	size_t i, o = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < cs->n_holders; i++) {
		if (status[i] != 1)
			continue;
		n = snprintf(out + o, cap - o, "%s%s", o ? "," : "",
		    cs->holders[i].name);
		if (n < 0 || (size_t)n >= cap - o) {
			out[o] = '\0'; /* whole names only */
			break;
		}
		o += (size_t)n;
	}
}

/*
 * The quorum: the engine's local combine sink rebuilds the HSM PIN; the
 * HSM is logged in with it and the PIN wiped.  quorum gets the names.
 */
int
env_login(struct envelope_prep *p, char *quorum, size_t cap)
{
	struct ceremony_combine_sink cs;
	struct ceremony_sink sink;
	int *status = NULL, r, ret;

	if ((status = calloc(p->cs->n_holders + 1, sizeof(*status))) == NULL)
		return env_fail(
		    p, KQ_ERR_NOMEM, "%s", kq_strerror(KQ_ERR_NOMEM));
	ceremony_combine_sink_init(&cs, p->cs->threshold, &sink);
	ui_say(p->ui, CEREMONY_EV_INFO, 0, NULL,
	    "%s: %u of %zu holders of set \"%s\" rebuild the PIN of HSM "
	    "token \"%s\" (serial %s)",
	    p->o.op, p->cs->threshold, p->cs->n_holders, p->cs->name,
	    p->tid.label, p->tid.serial);
	p->detail[0] = '\0';
	r = ceremony_collect(p->cs, &p->o, &sink, status, p->detail);
	if (r != KQ_OK || cs.secret == NULL) {
		if (r == KQ_OK)
			r = KQ_ERR_QUORUM_SHORT;
		ceremony_combine_sink_clear(&cs);
		ret = env_fail(p, r, "%s%s%s; the HSM was not used",
		    r == KQ_ERR_QUORUM_SHORT ? "fewer than the threshold "
		                               "of holders opened their share"
		                             : kq_strerror(r),
		    p->detail[0] ? ": " : "", p->detail);
		free(status);
		return ret;
	}
	quorum_names(p->cs, status, quorum, cap);
	free(status);
	r = hsm_session_login_pin(
	    p->hs, cs.secret, cs.secret_len, p->o.allow_final_try);
	ceremony_combine_sink_clear(&cs); /* the PIN is wiped here */
	if (r != KQ_OK)
		return env_fail(p, r, "logging in to HSM token \"%s\": %s: %s",
		    p->tid.label, kq_strerror(r), hsm_ctx_detail(p->hc));
	ceremony_log(
	    p->tr, p->cs, p->o.op, "hsm-login", NULL, NULL, NULL, p->tid.label);
	return 0;
}

static void
creator_name(char *out, size_t cap)
{
	struct passwd *pw = getpwuid(getuid());
	char host[128];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	snprintf(out, cap, "%s@%s", pw != NULL ? pw->pw_name : "?", host);
}

static void
copy_str(char *dst, const char *src)
{
	size_t i;

	snprintf(dst, ENVELOPE_STR_MAX + 1, "%s", src);
	for (i = 0; dst[i] != '\0'; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = '?';
}

/*
 * After the login: the HSM's AES key (made now if it is missing), a new
 * data key encrypted by it, the header filled.
 */
int
env_wrap(struct envelope_prep *p, const char *label,
    enum envelope_content content, const char *quorum)
{
	const char *kl = p->cs->hsm_key_label != NULL ? p->cs->hsm_key_label
	                                              : ENVELOPE_KEY_LABEL;
	struct envelope_info *in = &p->info;
	int r;

	r = hsm_aes_keygen(p->hs, kl);
	if (r == KQ_OK)
		ui_say(p->ui, CEREMONY_EV_INFO, 0, NULL,
		    "the HSM had no key \"%s\": a non-extractable AES-256 key "
		    "was generated",
		    kl);
	else if (r != KQ_ERR_EXISTS)
		return env_fail(p, r, "the HSM's envelope key \"%s\": %s: %s",
		    kl, kq_strerror(r), hsm_ctx_detail(p->hc));
	memset(in, 0, sizeof(*in));
	in->content = content;
	in->created = time(NULL);
	in->chunk_size = ENVELOPE_CHUNK;
	memcpy(in->set_id, p->cs->set_id, CUSTODY_SET_ID_LEN);
	copy_str(in->label, label);
	creator_name(in->creator, sizeof(in->creator));
	copy_str(in->token_label, p->tid.label);
	copy_str(in->token_serial, p->tid.serial);
	copy_str(in->key_label, kl);
	copy_str(in->quorum, quorum);
	if ((r = kq_random(in->id, ENVELOPE_ID_LEN)) != KQ_OK ||
	    (r = envelope_key_new(&p->key)) != KQ_OK)
		return env_fail(p, r, "%s", kq_strerror(r));
	p->detail[0] = '\0';
	if ((r = envelope_wrap_key(p->hs, in, p->key, p->detail)) != KQ_OK)
		return env_fail(p, r, "%s%s%s", p->detail,
		    *hsm_ctx_detail(p->hc) ? ": " : "", hsm_ctx_detail(p->hc));
	return 0;
}

static void
prep_opts(struct envelope_prep *p, const struct env_args *a, const char *op,
    struct ui *ui)
{
	p->ui = ui;
	p->o.op = op;
	cli_quorum_apply(&a->q, &p->o);
	p->o.stop = &env_stop;
	p->o.on_event = ui_event;
	p->o.event_arg = ui;
}

int
envelope_cli_prepare(const char *custody_path, const char *label,
    const char *out_path, enum envelope_content content, const char *hsm_module,
    const struct ceremony_opts *base, struct ui *ui, struct envelope_prep **out)
{
	struct envelope_prep *p;
	char quorum[ENVELOPE_STR_MAX + 1];
	struct stat st;
	int ret;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return kq_exit_status(KQ_ERR_NOMEM);
	p->ui = ui;
	p->o = *base;
	p->o.op = "seal-envelope";
	p->out_path = out_path;
	if (lstat(out_path, &st) == 0) {
		ret = env_fail(p, KQ_ERR_EXISTS,
		    "%s exists: the envelope is "
		    "written to a new file only",
		    out_path);
		goto out;
	}
	if ((ret = prep_open(p, custody_path, NULL, hsm_module, 1)) != 0 ||
	    (ret = env_login(p, quorum, sizeof(quorum))) != 0 ||
	    (ret = env_wrap(p, label, content, quorum)) != 0)
		goto out;
	env_close_hsm(p); /* logged out: the data key is all we need */
	*out = p;
	p = NULL;
	ret = 0;
out:
	envelope_cli_free(p);
	return ret;
}

int
envelope_cli_finish(struct envelope_prep *p, const uint8_t *data, size_t n)
{
	struct envelope_src src = {-1, data, n, 0};
	struct env_outfile of;
	char id[33], msg[128];
	uint64_t nin = 0;
	int r;

	if ((r = env_out_begin(p->out_path, &of)) != KQ_OK)
		return env_fail(p, r, "%s: %s", p->out_path, kq_strerror(r));
	r = envelope_stream_seal(
	    p->key, &p->info, &src, env_out_write, &of, &nin);
	if (r == KQ_OK)
		r = env_out_commit(&of);
	else
		env_out_abort(&of);
	kq_secfree(p->key);
	p->key = NULL;
	if (r != KQ_OK)
		return env_fail(p, r,
		    "writing the envelope %s: %s; nothing was "
		    "written",
		    p->out_path, kq_strerror(r));
	envelope_id_hex(p->info.id, id);
	snprintf(msg, sizeof(msg), "envelope %s, %s, %llu bytes", id,
	    envelope_content_name(p->info.content), (unsigned long long)nin);
	ceremony_log(
	    p->tr, p->cs, "seal-envelope", "sealed", NULL, NULL, NULL, msg);
	ui_say(p->ui, CEREMONY_EV_DONE, 0, NULL,
	    "%s sealed into envelope %s (%s, HSM token \"%s\"); written to %s",
	    envelope_content_name(p->info.content), id, p->info.label,
	    p->info.token_label, p->out_path);
	return 0;
}

int
cli_envelope_for_root(const char *set, const char *label, const char *holders,
    const char *out_path, const char *hsm_module, int will_decode,
    const struct ceremony_opts *base, struct ui *ui, struct envelope_prep **out)
{
	const char *names[CUSTODY_MAX_HOLDERS];
	struct ceremony_opts o = *base;
	char *buf = NULL, *q, *save = NULL;
	size_t n = 0;
	int ret;

	if (out_path == NULL)
		return cli_usage_error("ceremony generate-root",
		    "--seal-envelope needs --out FILE: the envelope");
	if (!will_decode)
		return cli_usage_error("ceremony generate-root",
		    "--seal-envelope seals the decoded token: start the "
		    "attempt here, or give --otp-file");
	o.holders = NULL;
	o.n_holders = 0;
	o.max_shares = 0;
	if (holders != NULL) {
		if ((buf = strdup(holders)) == NULL)
			return kq_exit_status(KQ_ERR_NOMEM);
		for (q = strtok_r(buf, ",", &save);
		     q != NULL && n < CUSTODY_MAX_HOLDERS;
		     q = strtok_r(NULL, ",", &save))
			names[n++] = q;
		o.holders = names;
		o.n_holders = n;
	}
	ret = envelope_cli_prepare(set,
	    label != NULL ? label : "Vault root token", out_path,
	    ENVELOPE_ROOT_TOKEN, hsm_module, &o, ui, out);
	free(buf);
	return ret;
}

/* ---- option parsing shared by seal-envelope and open-envelope ---- */

static int
parse_env_args(const char *verb, int argc, char **argv, struct env_args *a)
{
	static const struct option opts[] = {
	    CLI_QUORUM_LONGOPTS,
	    {"in", required_argument, NULL, 'i'},
	    {"label", required_argument, NULL, 'l'},
	    {"out", required_argument, NULL, 'o'},
	    {"type", required_argument, NULL, 'T'},
	    {"store-in-hsm", no_argument, NULL, 's'},
	    {"envelope", required_argument, NULL, 'e'},
	    {"id", required_argument, NULL, 'I'},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if ((r = cli_quorum_option(&a->q, verb, ch, optarg)) >= 0) {
			if (r != 0)
				return r;
			continue;
		}
		switch (ch) {
		case 'i':
			a->in = optarg;
			break;
		case 'l':
			a->label = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'T':
			if (envelope_content_parse(optarg, &a->type) != KQ_OK ||
			    a->type == ENVELOPE_ROOT_TOKEN)
				return cli_usage_error(
				    verb, "--type is file or rollback-plan");
			a->have_type = 1;
			break;
		case 's':
			a->store = 1;
			break;
		case 'e':
			a->envelope = optarg;
			break;
		case 'I':
			a->id = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "text") != 0 &&
			    strcmp(optarg, "json") != 0)
				return cli_usage_error(
				    verb, "--format is text or json");
			a->format = optarg;
			break;
		case 'h':
			cli_help(env_help);
			return -1;
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(
		    verb, "unexpected argument '%s'", argv[optind]);
	if (a->q.custody == NULL)
		return cli_usage_error(
		    verb, "--custody HSM-PIN-SET is required");
	return 0;
}

static int
run_env_ceremony(int argc, char **argv, int seal)
{
	const char *verb =
	    seal ? "ceremony seal-envelope" : "ceremony open-envelope";
	struct env_args a;
	struct envelope_prep *p = NULL;
	struct ui ui;
	int ret;

	memset(&a, 0, sizeof(a));
	if ((ret = parse_env_args(verb, argc, argv, &a)) != 0) {
		cli_quorum_free(&a.q);
		return ret < 0 ? 0 : ret;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		cli_quorum_free(&a.q);
		return cli_fail(verb, KQ_ERR_NOMEM, NULL);
	}
	/* Plans print on stdout: ceremony lines go to stderr then. */
	ui_init(&ui, a.q.json);
	catch_signals();
	a.plan_fd = STDOUT_FILENO;
	if (!seal && (a.out == NULL || strcmp(a.out, "-") == 0)) {
		/* The plan alone on stdout; the ceremony speaks on stderr. */
		fflush(stdout);
		if ((a.plan_fd = dup(STDOUT_FILENO)) < 0 ||
		    dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			free(p);
			cli_quorum_free(&a.q);
			return cli_fail(verb, KQ_ERR_IO, "standard output");
		}
	}
	ceremony_json_init();
	prep_opts(p, &a, seal ? "seal-envelope" : "open-envelope", &ui);
	ret = prep_open(p, a.q.custody, a.q.transcript, a.q.hsm_module, seal);
	if (ret == 0)
		ret = seal ? env_do_seal(p, &a) : env_do_open(p, &a);
	envelope_cli_free(p);
	cli_quorum_free(&a.q);
	if (a.plan_fd != STDOUT_FILENO) {
		fflush(stdout);
		(void)dup2(a.plan_fd, STDOUT_FILENO);
		close(a.plan_fd);
	}
	if (ret == 0 && env_stop)
		ret = kq_exit_status(KQ_ERR_INTERRUPTED);
	return ret;
}

int
cli_ceremony_seal_envelope(int argc, char **argv)
{
	return run_env_ceremony(argc, argv, 1);
}

int
cli_ceremony_open_envelope(int argc, char **argv)
{
	return run_env_ceremony(argc, argv, 0);
}
