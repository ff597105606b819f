/*
 * keyquorum ceremony: a quorum of holders, one token at a time, acting on
 * Vault / OpenBao (init, unseal, generate-root) or proving their shares
 * open (drill).  The engine (ceremony/engine.c) does the work; this file
 * parses options, talks to Vault around it and renders what happens.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/ceremony.h"
#include "cli.h"
#include "cli_quorum.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/secio.h"
#include "common/secmem.h"
#include "envelope_cli.h"
#include "hsm/hsm.h"
#include "ui.h"

static const char ceremony_help[] =
    "usage: keyquorum ceremony init --custody FILE [--recovery]\n"
    "                          [--root-token-out FILE] [options]\n"
    "       keyquorum ceremony unseal --custody FILE [options]\n"
    "       keyquorum ceremony generate-root --custody FILE [--nonce N]\n"
    "                          [--out FILE] [--otp-out FILE] [--otp-file FILE]\n"
    "                          [--cancel] [options]\n"
    "                          [--seal-envelope HSM-PIN-SET\n"
    "                           [--envelope-holders A,B] [--envelope-label L]\n"
    "                           [--hsm-module PATH]]\n"
    "       keyquorum ceremony drill --custody FILE [options]\n"
    "       keyquorum ceremony seal-envelope --custody HSM-PIN-SET ...\n"
    "       keyquorum ceremony open-envelope --custody HSM-PIN-SET ...\n"
    "                          ('keyquorum ceremony seal-envelope --help')\n"
    "\n"
    "Collect a quorum of holders, one token at a time: each token is\n"
    "identified by its key's fingerprint, its PIN asked, the holder's share\n"
    "unsealed on the token and checked against its commitment before use.\n"
    "\n"
    "  --custody FILE          the custody set (keyquorum-custody(5))\n"
    "  --holders A,B,C         scripted: these holders' tokens, in order\n"
    "                          (default: interactive, wait for tokens)\n"
    "  --holder NAME           remote holder: only NAME's part; Vault\n"
    "                          aggregates the progress\n"
    "  --pin-source NAME=SRC   SRC is file:PATH or fd:N (repeatable)\n"
    "  --allow-final-try       may spend a PIN's last try\n"
    "  --pinentry[=PROGRAM]    ask PINs through pinentry (docs/pinentry.md)\n"
    "  --yes                   do not ask for confirmation\n"
    "  --json                  one JSON event per line (docs/json-events.md)\n"
    "  --transcript FILE       default: the custody file + .transcript\n"
    "  --module PATH           PKCS#11 module for every holder; repeat it\n"
    "                          to allow the module-path of several\n"
    "                          holders' URIs (never loaded otherwise)\n"
    "  --wait SECONDS          interactive: give up waiting after SECONDS\n"
    "  --address URL, --ca-cert FILE, --ca-path DIR, --client-cert FILE,\n"
    "  --client-key FILE, --token-file FILE, --namespace NS, --timeout S\n"
    "                          Vault connection (else VAULT_ADDR, ...)\n"
    "init:\n"
    "  --recovery              recovery keys (auto-unseal; kind vault-recovery)\n"
    "  --root-token-out FILE   write the initial root token (0600, new file)\n"
    "generate-root:\n"
    "  --nonce N               join the attempt N instead of starting one\n"
    "  --out FILE              write the root token (0600, new file)\n"
    "  --otp-out FILE          keep the OTP of an attempt started here\n"
    "  --otp-file FILE         the OTP, to decode a token completed here\n"
    "  --cancel                cancel the attempt in progress\n"
    "  --seal-envelope SET     put the new root token straight into a\n"
    "                          rollback envelope of the hsm-pin set SET\n"
    "                          (its quorum runs first; never displayed)\n"
    "  --envelope-holders A,B  that set's holders, in order (scripted)\n"
    "  --envelope-label L      the envelope's label\n"
    "  --hsm-module PATH       the HSM's PKCS#11 module\n"
    "\n"
    "Exit status: 0 ok, 1 error or interrupted, 2 usage, 3 PIN, 4 token,\n"
    "5 Vault, 6 integrity (tampered share, commitment, failed drill).\n";

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct cer_args {
	const char *sub;
	struct cli_quorum q; /* the options every quorum ceremony takes */
	const char *holder_one;
	int yes, recovery, cancel;
	const char *root_out, *out, *nonce, *otp_out, *otp_file;
	const char *seal_env, *env_label, *env_holders;
	struct vault_config vcfg;
};

/* What every sub-verb holds; released by cer_end. */
struct cer_run {
	struct cer_args *a;
	struct ui ui;
	struct custody_set *cs;
	struct transcript *tr;
	struct vault_client *vc;
	struct ceremony_opts o;
	char tr_path[4096];
	char detail[CEREMONY_DETAIL_MAX * 2];
};

static int
parse_args(int argc, char **argv, struct cer_args *a)
{
	static const struct option opts[] = {
	    CLI_QUORUM_LONGOPTS,
	    {"holder", required_argument, NULL, 'O'},
	    {"yes", no_argument, NULL, 'y'},
	    {"address", required_argument, NULL, 'A'},
	    {"ca-cert", required_argument, NULL, 'C'},
	    {"ca-path", required_argument, NULL, 'P'},
	    {"client-cert", required_argument, NULL, 'X'},
	    {"client-key", required_argument, NULL, 'K'},
	    {"token-file", required_argument, NULL, 'T'},
	    {"namespace", required_argument, NULL, 'N'},
	    {"timeout", required_argument, NULL, 'S'},
	    {"recovery", no_argument, NULL, 'R'},
	    {"root-token-out", required_argument, NULL, 'r'},
	    {"nonce", required_argument, NULL, 'n'},
	    {"out", required_argument, NULL, 'o'},
	    {"otp-out", required_argument, NULL, 'u'},
	    {"otp-file", required_argument, NULL, 'U'},
	    {"cancel", no_argument, NULL, 'x'},
	    {"seal-envelope", required_argument, NULL, 1001},
	    {"envelope-label", required_argument, NULL, 1002},
	    {"envelope-holders", required_argument, NULL, 1003},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "ceremony";
	unsigned v;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if ((r = cli_quorum_option(&a->q, verb, ch, optarg)) >= 0) {
			if (r != 0)
				return r;
			continue;
		}
		switch (ch) {
		case 'O':
			a->holder_one = optarg;
			break;
		case 'y':
			a->yes = 1;
			break;
		case 'A':
			a->vcfg.address = optarg;
			break;
		case 'C':
			a->vcfg.ca_cert = optarg;
			break;
		case 'P':
			a->vcfg.ca_path = optarg;
			break;
		case 'X':
			a->vcfg.client_cert = optarg;
			break;
		case 'K':
			a->vcfg.client_key = optarg;
			break;
		case 'T':
			a->vcfg.token_file = optarg;
			break;
		case 'N':
			a->vcfg.namespace = optarg;
			break;
		case 'S':
			if (cli_parse_uint(optarg, 1, 3600, &v) != 0)
				return cli_usage_error(
				    verb, "--timeout wants seconds");
			a->vcfg.timeout_s = (long)v;
			break;
		case 'R':
			a->recovery = 1;
			break;
		case 'r':
			a->root_out = optarg;
			break;
		case 'n':
			a->nonce = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'u':
			a->otp_out = optarg;
			break;
		case 'U':
			a->otp_file = optarg;
			break;
		case 'x':
			a->cancel = 1;
			break;
		case 1001:
			a->seal_env = optarg;
			break;
		case 1002:
			a->env_label = optarg;
			break;
		case 1003:
			a->env_holders = optarg;
			break;
		case 'h':
			cli_help(ceremony_help);
			return -1;
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(
		    verb, "unexpected argument '%s'", argv[optind]);
	if (a->q.custody == NULL)
		return cli_usage_error(verb, "--custody FILE is required");
	if (a->holder_one != NULL && a->q.holders_buf != NULL)
		return cli_usage_error(
		    verb, "--holder and --holders exclude each other");
	return 0;
}

/* Ask once on the terminal; --yes answers.  1: go on. */
static int
confirm(struct cer_run *run, const char *question)
{
	struct kq_sbuf *ans = NULL;
	int ok = 0;

	if (run->a->yes)
		return 1;
	if (kq_read_line_tty(question, 16, &ans) != KQ_OK)
		return 0;
	ok = kq_sbuf_len(ans) >= 1 &&
	    (kq_sbuf_ptr(ans)[0] == 'y' || kq_sbuf_ptr(ans)[0] == 'Y');
	kq_sbuf_free(ans);
	return ok;
}

static int cer_fail(struct cer_run *run, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
cer_fail(struct cer_run *run, int r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ui_say(&run->ui, CEREMONY_EV_ERROR, r, NULL, "%s", msg);
	return kq_exit_status(r);
}

static int
cer_begin(
    struct cer_run *run, struct cer_args *a, const char *op, int need_vault)
{
	struct sigaction sa;
	const char *env;
	int r;

	run->a = a;
	ui_init(&run->ui, a->q.json);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: blocking waits end */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ceremony_json_init();
	run->detail[0] = '\0';
	r = custody_load(a->q.custody, &run->cs, run->detail);
	if (r != KQ_OK)
		return cer_fail(run, r, "%s: %s%s%s", a->q.custody,
		    kq_strerror(r), run->detail[0] ? ": " : "", run->detail);
	if (a->q.transcript != NULL)
		snprintf(
		    run->tr_path, sizeof(run->tr_path), "%s", a->q.transcript);
	else
		snprintf(run->tr_path, sizeof(run->tr_path), "%s.transcript",
		    a->q.custody);
	if ((r = transcript_open(run->tr_path, &run->tr, run->detail)) != KQ_OK)
		return cer_fail(run, r, "transcript %s: %s%s%s", run->tr_path,
		    kq_strerror(r), run->detail[0] ? ": " : "", run->detail);
	if (a->holder_one != NULL) {
		a->q.holders[0] = a->holder_one;
		a->q.n_holders = 1;
	}
	run->o.op = op;
	cli_quorum_apply(&a->q, &run->o);
	run->o.stop = &stop_flag;
	run->o.on_event = ui_event;
	run->o.event_arg = &run->ui;
	run->o.transcript = run->tr;
	if (!need_vault)
		return 0;
	/*
	 * --address, then VAULT_ADDR (as the vault CLI).  The address the
	 * custody file records is never used on its own: whoever can edit
	 * the file could otherwise send every share to a server of theirs.
	 * It is compared, and a difference is said.
	 */
	env = getenv("VAULT_ADDR");
	if (a->vcfg.address == NULL && (env == NULL || *env == '\0')) {
		if (run->cs->vault_address != NULL)
			return cer_fail(run, KQ_ERR_USAGE,
			    "no Vault address given: the custody file records "
			    "%s, but an address from the custody file alone is "
			    "never used; pass --address %s or set VAULT_ADDR",
			    run->cs->vault_address, run->cs->vault_address);
		return cer_fail(run, KQ_ERR_USAGE,
		    "no Vault address given: pass --address URL or set "
		    "VAULT_ADDR");
	}
	if (run->cs->vault_address != NULL &&
	    strcmp(run->cs->vault_address,
	        a->vcfg.address != NULL ? a->vcfg.address : env) != 0)
		ui_say(&run->ui, CEREMONY_EV_INFO, 0, NULL,
		    "note: Vault address %s is not the one the custody set "
		    "records (%s)",
		    a->vcfg.address != NULL ? a->vcfg.address : env,
		    run->cs->vault_address);
	r = vault_client_new(&a->vcfg, &run->vc, run->detail);
	if (r != KQ_OK)
		return cer_fail(run, r, "Vault client: %s%s%s", kq_strerror(r),
		    run->detail[0] ? ": " : "", run->detail);
	return 0;
}

static void
cer_end(struct cer_run *run)
{
	vault_client_free(run->vc);
	transcript_close(run->tr);
	custody_free(run->cs);
	cli_quorum_free(&run->a->q);
}

static int
vault_fail(struct cer_run *run, int r, const char *what)
{
	ceremony_log(run->tr, run->cs, run->o.op, "error", NULL, NULL, NULL,
	    vault_client_detail(run->vc));
	return cer_fail(run, r, "%s: %s: %s", what, kq_strerror(r),
	    vault_client_detail(run->vc));
}

/* Vault's state, checked against the set; shown to the operator. */
static int
vault_state(struct cer_run *run, struct vault_seal_status *st)
{
	const char *addr, *from;
	int r;

	memset(st, 0, sizeof(*st));
	if ((r = vault_seal_status(run->vc, st)) != KQ_OK)
		return vault_fail(run, r, "reading Vault's seal status");
	if (run->cs->vault_cluster_id != NULL && st->cluster_id[0] != '\0' &&
	    strcmp(run->cs->vault_cluster_id, st->cluster_id) != 0)
		return cer_fail(run, KQ_ERR_VAULT,
		    "Vault's cluster id is %s but the custody set belongs to "
		    "cluster %s: wrong Vault",
		    st->cluster_id, run->cs->vault_cluster_id);
	/* Where the shares will go, and who said so. */
	addr = run->a->vcfg.address;
	from = addr == NULL ? "VAULT_ADDR" : "--address";
	if (addr == NULL && (addr = getenv("VAULT_ADDR")) == NULL)
		addr = "?";
	ui_say(&run->ui, CEREMONY_EV_INFO, 0, NULL,
	    "%s %s at %s (from %s): %s, %s, seal type %s, progress %u/%u "
	    "(%u key%s)",
	    st->flavor == VAULT_FLAVOR_OPENBAO ? "OpenBao" : "Vault",
	    st->version[0] ? st->version : "?", addr, from,
	    st->initialized ? "initialised" : "not initialised",
	    st->sealed ? "sealed" : "unsealed", st->type[0] ? st->type : "?",
	    st->progress, st->t, st->n, st->n == 1 ? "" : "s");
	return 0;
}

static int
collect(struct cer_run *run, const struct ceremony_sink *sink, int *status)
{
	int r;

	run->detail[0] = '\0';
	r = ceremony_collect(run->cs, &run->o, sink, status, run->detail);
	if (r == KQ_ERR_INTERRUPTED)
		ui_say(&run->ui, CEREMONY_EV_ERROR, r, NULL,
		    "interrupted: shares wiped, tokens logged out; the abort "
		    "is recorded in %s",
		    run->tr_path);
	else if (r != KQ_OK && run->o.holders != NULL)
		ui_say(&run->ui, CEREMONY_EV_ERROR, r, NULL, "%s",
		    run->detail[0] ? run->detail : kq_strerror(r));
	return r;
}

/* ---- write a secret to a new file or the terminal, never both ---- */

/* Bytes reserved in a token or OTP file: a Vault token is ~100 bytes. */
#define SECRET_OUT_RESERVE 4096

static int
open_secret_out(struct cer_run *run, const char *path, int *fd)
{
	int r;

	*fd = -1;
	if (path == NULL) {
		if (!cli_isatty(STDOUT_FILENO) || run->a->q.json)
			return cer_fail(run, KQ_ERR_REFUSE_TTY,
			    "the token would be printed, but standard output "
			    "is not a terminal (or --json): give a file "
			    "(created 0600, never overwritten)");
		return 0;
	}
	if ((r = kq_file_create_excl(path, 0600, fd)) != KQ_OK)
		return cer_fail(run, r, "%s: %s", path, kq_strerror(r));
	/* Room for the token now, so that once Vault has made it, writing
	 * it cannot fail for lack of space. */
	if ((r = kq_file_reserve_fd(*fd, SECRET_OUT_RESERVE)) != KQ_OK) {
		close(*fd);
		*fd = -1;
		(void)unlink(path);
		return cer_fail(run, r,
		    "%s: %s: no room for the token; nothing was changed in Vault",
		    path, kq_strerror(r));
	}
	return 0;
}

static int
write_secret(int fd, const char *s)
{
	int r;

	if (fd < 0)
		fd = STDOUT_FILENO;
	if ((r = kq_write_all(fd, s, strlen(s))) == KQ_OK)
		r = kq_write_all(fd, "\n", 1);
	/* A file: cut the reserved room down to what was written. */
	if (r == KQ_OK && fd != STDOUT_FILENO &&
	    ((ftruncate(fd, (off_t)strlen(s) + 1) != 0 && errno != EINVAL) ||
	        fsync(fd) != 0))
		r = kq_errno_to_err(errno);
	return r;
}

/* ---- init ---- */

struct init_arg {
	struct custody_set *cs;
	struct hsm_pubkey **keys;
	unsigned sealed;
	int first_err;
	char detail[CEREMONY_DETAIL_MAX];
	struct ui *ui;
};

static int
init_key(void *arg, unsigned index, const uint8_t *key, size_t len)
{
	struct init_arg *ia = arg;
	struct custody_holder *h;
	int r;

	if (index >= ia->cs->n_holders)
		return KQ_ERR_VAULT_RESPONSE;
	h = &ia->cs->holders[index];
	/* Sealed the moment it arrives; the plaintext is wiped by vault_init. */
	r = ceremony_seal_share(
	    ia->cs, index, ia->keys[index], key, len, ia->detail);
	if (r != KQ_OK) {
		if (ia->first_err == KQ_OK)
			ia->first_err = r;
		ui_say(ia->ui, CEREMONY_EV_ERROR, r, h->name,
		    "key %u could not be sealed to %s: %s", index + 1, h->name,
		    ia->detail);
		return KQ_OK; /* keep sealing the others: never lose more */
	}
	ia->sealed++;
	ui_say(ia->ui, CEREMONY_EV_INFO, 0, h->name,
	    "%s: key %u sealed to the token key (x=%u); never displayed",
	    h->name, index + 1, h->x);
	return KQ_OK;
}

/*
 * An upper bound of the custody file's size once every holder has a
 * sealed share: the set as it is now, plus for each holder a share sealed
 * to its key (measured: a trial seal of a dummy share longer than any
 * Vault key), base64, with its commitment and fields, plus the cluster id.
 */
static int
init_room(const struct custody_set *cs, struct hsm_pubkey **keys, size_t *room,
    char *detail)
{
	uint8_t ctx[CEREMONY_CTX_MAX], dummy[128], *blob = NULL;
	size_t i, blob_len = 0;
	char *text;
	int r = KQ_OK;

	if ((text = custody_dumps(cs, detail)) == NULL)
		return KQ_ERR_NOMEM;
	*room = strlen(text) + 4096;
	free(text);
	memset(ctx, 0, sizeof(ctx));
	memset(dummy, 0x5a, sizeof(dummy));
	for (i = 0; i < cs->n_holders && r == KQ_OK; i++) {
		if ((r = hsm_seal(keys[i], ctx, sizeof(ctx), dummy,
		         sizeof(dummy), &blob, &blob_len)) != KQ_OK) {
			snprintf(detail, CEREMONY_DETAIL_MAX,
			    "holder %s: trial seal: %s", cs->holders[i].name,
			    kq_strerror(r));
			break;
		}
		free(blob);
		blob = NULL;
		*room += (blob_len + 2) / 3 * 4 + 1024;
	}
	return r;
}

static int
do_init(struct cer_run *run)
{
	struct cer_args *a = run->a;
	struct custody_set *cs = run->cs;
	struct hsm_pubkey **keys = NULL;
	struct vault_seal_status st;
	struct init_arg ia;
	struct kq_file_resv main_rv, rescue_rv;
	char *root = NULL, *text = NULL, q[512], rescue[4096];
	int r, ret, fd = -1, recovery;
	size_t i, room = 0;

	memset(&ia, 0, sizeof(ia));
	main_rv.fd = rescue_rv.fd = -1;
	main_rv.tmp[0] = rescue_rv.tmp[0] = '\0';
	recovery = cs->kind == CUSTODY_VAULT_RECOVERY;
	if (cs->kind != CUSTODY_VAULT_UNSEAL && !recovery)
		return cer_fail(run, KQ_ERR_USAGE,
		    "the set's kind is %s: init needs vault-unseal or "
		    "vault-recovery",
		    custody_kind_name(cs->kind));
	if (a->recovery && !recovery)
		return cer_fail(run, KQ_ERR_USAGE,
		    "--recovery needs a set of kind vault-recovery");
	if (a->holder_one != NULL)
		return cer_fail(run, KQ_ERR_USAGE,
		    "init needs every holder's token; --holder is for "
		    "unseal and generate-root");
	for (i = 0; i < cs->n_holders; i++)
		if (cs->holders[i].enrolled != 0)
			return cer_fail(run, KQ_ERR_EXISTS,
			    "holder %s already has a share in %s: init makes "
			    "new keys for a fresh set only",
			    cs->holders[i].name, a->q.custody);
	if ((ret = vault_state(run, &st)) != 0)
		return ret;
	if (st.initialized)
		return cer_fail(run, KQ_ERR_VAULT_INITIALIZED,
		    "Vault is already initialised; nothing was changed");
	if ((ret = open_secret_out(run, a->root_out, &fd)) != 0)
		return ret;
	ret = KQ_EXIT_ERROR;
	ui_begin(&run->ui, "init", cs, (unsigned)cs->n_holders);
	run->ui.unit = "holder";
	run->ui.count_found = 1;
	snprintf(q, sizeof(q),
	    "Initialise Vault with %u-of-%zu %s keys sealed to the holders' "
	    "tokens? [y/N] ",
	    cs->threshold, cs->n_holders, recovery ? "recovery" : "unseal");
	if (!confirm(run, q)) {
		ret = cer_fail(run, KQ_ERR_USAGE,
		    "not confirmed (--yes to skip the question)");
		goto out;
	}
	if ((keys = calloc(cs->n_holders, sizeof(*keys))) == NULL) {
		ret = cer_fail(
		    run, KQ_ERR_NOMEM, "%s", kq_strerror(KQ_ERR_NOMEM));
		goto out;
	}
	/* Every holder's key read from the token before Vault is asked. */
	run->detail[0] = '\0';
	r = ceremony_collect_pubkeys(cs, &run->o, keys, run->detail);
	if (r != KQ_OK) {
		ceremony_log(run->tr, cs, "init",
		    r == KQ_ERR_INTERRUPTED ? "aborted" : "error", NULL, NULL,
		    NULL, run->detail);
		ret = cer_fail(run, r, "%s; Vault was not initialised",
		    run->detail[0] ? run->detail : kq_strerror(r));
		goto out;
	}
	if (stop_flag) {
		ceremony_log(run->tr, cs, "init", "aborted", NULL, NULL, NULL,
		    "interrupted before Vault was initialised");
		ret = cer_fail(run, KQ_ERR_INTERRUPTED,
		    "interrupted; Vault was not initialised");
		goto out;
	}
	/*
	 * Room for the custody file (and its rescue copy) before Vault makes
	 * keys that exist nowhere else: after sys/init, writing the set must
	 * not fail for lack of space.
	 */
	snprintf(rescue, sizeof(rescue), "%s.rescue-%ld", a->q.custody,
	    (long)getpid());
	run->detail[0] = '\0';
	if ((r = init_room(cs, keys, &room, run->detail)) != KQ_OK ||
	    (r = kq_file_reserve(&main_rv, a->q.custody, room, 0600)) !=
	        KQ_OK ||
	    (r = kq_file_reserve(&rescue_rv, rescue, room, 0600)) != KQ_OK) {
		kq_file_abandon(&main_rv);
		ceremony_log(run->tr, cs, "init", "error", NULL, NULL, NULL,
		    "no room for the custody file");
		ret = cer_fail(run, r,
		    "%s: %s%s%s: the custody file (%zu bytes, twice: with "
		    "its rescue copy) cannot be reserved beside %s; Vault "
		    "was not initialised",
		    a->q.custody, kq_strerror(r), run->detail[0] ? ": " : "",
		    run->detail, room, a->q.custody);
		goto out;
	}
	ia.cs = cs;
	ia.keys = keys;
	ia.ui = &run->ui;
	ceremony_log(run->tr, cs, "init", "requested", NULL, NULL, NULL,
	    recovery ? "recovery keys" : "unseal keys");
	r = vault_init(run->vc, (unsigned)cs->n_holders, cs->threshold,
	    recovery, init_key, &ia, &root);
	if (r != KQ_OK && ia.sealed == 0) {
		ceremony_log(run->tr, cs, "init", "error", NULL, NULL, NULL,
		    vault_client_detail(run->vc));
		ret = cer_fail(run, r,
		    "Vault init failed: %s: %s. No key arrived; if Vault "
		    "answered at all, check its state (vault status)",
		    kq_strerror(r), vault_client_detail(run->vc));
		goto out;
	}
	/* Vault is initialised from here on: say exactly what we hold. */
	if (ia.sealed < cs->n_holders)
		ui_say(&run->ui, CEREMONY_EV_ERROR, KQ_ERR_INTEGRITY, NULL,
		    "Vault IS initialised, but only %u of %zu keys were sealed "
		    "to their holders (%s); the others are lost. %s",
		    ia.sealed, cs->n_holders,
		    ia.first_err ? kq_strerror(ia.first_err) : kq_strerror(r),
		    ia.sealed >= cs->threshold
		        ? "The threshold is still reachable: rekey soon."
		        : "The threshold is NOT reachable: the Vault cannot be "
		          "unsealed; re-initialise its storage.");
	if (root != NULL) {
		if ((r = write_secret(fd, root)) != KQ_OK)
			ui_say(&run->ui, CEREMONY_EV_ERROR, r, NULL,
			    "Vault IS initialised but the root token could not "
			    "be written to %s (%s); generate a new one with "
			    "'keyquorum ceremony generate-root'",
			    a->root_out, kq_strerror(r));
		else if (fd < 0)
			ui_say(&run->ui, CEREMONY_EV_INFO, 0, NULL,
			    "^ the initial root token, shown once and saved "
			    "nowhere: use it to set up authentication, then "
			    "revoke it (vault token revoke -self)");
		else
			ui_say(&run->ui, CEREMONY_EV_INFO, 0, NULL,
			    "the initial root token is in %s (0600); revoke it "
			    "once authentication is set up",
			    a->root_out);
		kq_secfree(root);
		root = NULL;
	}
	/* Last: the custody file, atomically. */
	if (st.cluster_id[0] != '\0' && cs->vault_cluster_id == NULL)
		(void)custody_set_string(&cs->vault_cluster_id, st.cluster_id);
	run->detail[0] = '\0';
	if ((text = custody_dumps(cs, run->detail)) == NULL)
		r = KQ_ERR_NOMEM;
	else if ((r = kq_file_commit(&main_rv, text, strlen(text), 1)) != KQ_OK)
		snprintf(run->detail, sizeof(run->detail), "%s: %s",
		    a->q.custody, kq_strerror(r));
	if (r != KQ_OK) {
		int r2 = text != NULL
		    ? kq_file_commit(&rescue_rv, text, strlen(text), 0)
		    : KQ_ERR_NOMEM;

		if (r2 == KQ_OK)
			ret = cer_fail(run, r,
			    "Vault IS initialised and %u shares are sealed, "
			    "but %s could not be written (%s): the set was "
			    "saved to %s; move it into place",
			    ia.sealed, a->q.custody, run->detail, rescue);
		else
			ret = cer_fail(run, r,
			    "Vault IS initialised and %u shares were sealed, "
			    "but the custody file could not be written (%s; "
			    "the rescue copy: %s): the keys are lost once this "
			    "process ends",
			    ia.sealed, run->detail, kq_strerror(r2));
		ceremony_log(run->tr, cs, "init", "error", NULL, NULL, NULL,
		    "custody file not written");
		goto out;
	}
	for (i = 0; i < cs->n_holders; i++)
		if (cs->holders[i].enrolled)
			ceremony_log(run->tr, cs, "init", "sealed",
			    cs->holders[i].name, cs->holders[i].fingerprint,
			    NULL, NULL);
	ceremony_log(run->tr, cs, "init",
	    ia.sealed == cs->n_holders ? "ok" : "partial", NULL, NULL, NULL,
	    NULL);
	if (ia.sealed < cs->n_holders) {
		ret = kq_exit_status(KQ_ERR_INTEGRITY);
		goto out;
	}
	ui_say(&run->ui, CEREMONY_EV_DONE, 0, NULL,
	    "Vault initialised; %zu %s keys sealed to their holders, %u "
	    "needed; custody set written to %s",
	    cs->n_holders, recovery ? "recovery" : "unseal", cs->threshold,
	    a->q.custody);
	ret = 0;
out:
	kq_file_abandon(&main_rv);
	kq_file_abandon(&rescue_rv);
	free(text);
	if (fd >= 0) {
		close(fd);
		/* An empty token file helps no one; one with a token stays. */
		if (ret != 0 && a->root_out != NULL && ia.sealed == 0)
			unlink(a->root_out);
	}
	kq_secfree(root);
	for (i = 0; keys != NULL && i < cs->n_holders; i++)
		hsm_pubkey_free(keys[i]);
	free(keys);
	return ret;
}

/* ---- unseal ---- */

static int
do_unseal(struct cer_run *run)
{
	struct ceremony_unseal_sink us;
	struct ceremony_sink sink;
	struct vault_seal_status st;
	int r, ret;

	if (run->cs->kind != CUSTODY_VAULT_UNSEAL)
		return cer_fail(run, KQ_ERR_USAGE,
		    "the set's kind is %s: only vault-unseal keys unseal a "
		    "Vault (recovery keys serve generate-root under "
		    "auto-unseal)",
		    custody_kind_name(run->cs->kind));
	if ((ret = vault_state(run, &st)) != 0)
		return ret;
	if (!st.initialized)
		return cer_fail(run, KQ_ERR_VAULT_NOT_INITIALIZED,
		    "Vault is not initialised: run 'keyquorum ceremony init'");
	if (!st.sealed) {
		ui_say(&run->ui, CEREMONY_EV_DONE, 0, NULL,
		    "Vault is already unsealed; no share was used");
		ceremony_log(run->tr, run->cs, "unseal", "already-unsealed",
		    NULL, NULL, NULL, NULL);
		return 0;
	}
	if (st.recovery_seal)
		return cer_fail(run, KQ_ERR_USAGE,
		    "this Vault uses auto-unseal (seal type %s): it unseals "
		    "itself; recovery keys do not unseal it",
		    st.type);
	if (st.t != run->cs->threshold || st.n != run->cs->n_holders)
		ui_say(&run->ui, CEREMONY_EV_INFO, 0, NULL,
		    "note: Vault reports %u-of-%u, the custody set %u-of-%zu "
		    "(Vault's numbers drive the ceremony)",
		    st.t, st.n, run->cs->threshold, run->cs->n_holders);
	ui_begin(&run->ui, "unseal", run->cs, st.t);
	ui_progress(&run->ui, st.progress, st.t);
	memset(&us, 0, sizeof(us));
	us.vc = run->vc;
	us.st = st;
	ceremony_unseal_sink_init(&us, &sink);
	if (run->a->holder_one != NULL)
		run->o.max_shares = 1;
	r = collect(run, &sink, NULL);
	if (r == KQ_ERR_PROGRESS_LOST || (r != KQ_OK && us.submitted > 0))
		ui_say(&run->ui, CEREMONY_EV_INFO, 0, NULL,
		    "Vault's state now: %s, progress %u/%u",
		    us.st.sealed ? "sealed" : "unsealed", us.st.progress,
		    us.st.t);
	if (r != KQ_OK)
		return kq_exit_status(r);
	if (us.st.sealed)
		ui_say(&run->ui, CEREMONY_EV_DONE, 0, NULL,
		    "%u share%s submitted; Vault is still sealed, progress "
		    "%u/%u: other holders continue",
		    us.submitted, us.submitted == 1 ? "" : "s", us.st.progress,
		    us.st.t);
	else
		ui_say(&run->ui, CEREMONY_EV_DONE, 0, NULL,
		    "Vault is unsealed (%u share%s from this ceremony)",
		    us.submitted, us.submitted == 1 ? "" : "s");
	return 0;
}

/* ---- generate-root ---- */

static int
read_otp_file(struct cer_run *run, const char *path, char **otp)
{
	struct kq_sbuf *b = NULL;
	int r;

	if ((r = kq_read_all_file(path, ROOT_TOKEN_MAX, &b)) != KQ_OK)
		return r;
	while (kq_sbuf_len(b) > 0 &&
	    (kq_sbuf_ptr(b)[kq_sbuf_len(b) - 1] == '\n' ||
	        kq_sbuf_ptr(b)[kq_sbuf_len(b) - 1] == '\r'))
		kq_sbuf_truncate(b, kq_sbuf_len(b) - 1);
	if ((*otp = kq_secalloc(kq_sbuf_len(b) + 1)) == NULL) {
		kq_sbuf_free(b);
		return KQ_ERR_NOMEM;
	}
	memcpy(*otp, kq_sbuf_ptr(b), kq_sbuf_len(b));
	kq_sbuf_free(b);
	(void)run;
	return KQ_OK;
}

static int
do_generate_root(struct cer_run *run)
{
	struct cer_args *a = run->a;
	struct ceremony_root_sink rs;
	struct ceremony_sink sink;
	struct vault_seal_status vst;
	struct vault_generate_root_status st;
	char *otp = NULL, *tok = NULL;
	struct envelope_prep *env = NULL;
	size_t tl;
	int r, ret, fd = -1, otp_fd = -1;

	memset(&rs, 0, sizeof(rs));
	if (run->cs->kind != CUSTODY_VAULT_UNSEAL &&
	    run->cs->kind != CUSTODY_VAULT_RECOVERY)
		return cer_fail(run, KQ_ERR_USAGE,
		    "the set's kind is %s: generate-root needs unseal or "
		    "recovery keys",
		    custody_kind_name(run->cs->kind));
	if ((ret = vault_state(run, &vst)) != 0)
		return ret;
	if (a->cancel) {
		if ((r = vault_generate_root_cancel(run->vc)) != KQ_OK)
			return vault_fail(run, r, "cancelling generate-root");
		ceremony_log(run->tr, run->cs, "generate-root", "cancelled",
		    NULL, NULL, NULL, NULL);
		ui_say(&run->ui, CEREMONY_EV_DONE, 0, NULL,
		    "the generate-root attempt is cancelled");
		return 0;
	}
	memset(&st, 0, sizeof(st));
	if ((r = vault_generate_root_status(run->vc, &st)) != KQ_OK)
		return vault_fail(run, r, "reading the generate-root status");
	if (a->nonce != NULL) {
		if (!st.started || strcmp(st.nonce, a->nonce) != 0)
			return cer_fail(run, KQ_ERR_VAULT_NONCE,
			    "Vault's attempt is %s%s, not %s: nothing submitted",
			    st.started ? "nonce " : "none",
			    st.started ? st.nonce : "", a->nonce);
	} else if (st.started) {
		return cer_fail(run, KQ_ERR_VAULT_IN_PROGRESS,
		    "a generate-root attempt is in progress (nonce %s, %u/%u): "
		    "join it with --nonce %s or cancel it with --cancel",
		    st.nonce, st.progress, st.required, st.nonce);
	}
	/*
	 * Where the token goes, decided before anything starts (a remote
	 * holder whose share cannot complete the attempt needs no place).
	 */
	if (a->seal_env != NULL) {
		if ((ret = cli_envelope_for_root(a->seal_env, a->env_label,
		         a->env_holders, a->out, a->q.hsm_module,
		         a->nonce == NULL || a->otp_file != NULL, &run->o,
		         &run->ui, &env)) != 0)
			return ret;
	} else if (a->holder_one == NULL || a->out != NULL ||
	    (a->nonce != NULL ? st.progress + 1 >= st.required : vst.t <= 1))
		if ((ret = open_secret_out(run, a->out, &fd)) != 0)
			return ret;
	ret = KQ_EXIT_ERROR;
	if (a->otp_file != NULL &&
	    (r = read_otp_file(run, a->otp_file, &otp)) != KQ_OK) {
		ret = cer_fail(run, r, "%s: %s", a->otp_file, kq_strerror(r));
		goto out;
	}
	if (a->nonce == NULL) {
		if (a->holder_one != NULL && a->otp_out == NULL) {
			ret = cer_fail(run, KQ_ERR_USAGE,
			    "a remote holder who starts the attempt must keep "
			    "its OTP: --otp-out FILE");
			goto out;
		}
		if (a->otp_out != NULL &&
		    ((r = kq_file_create_excl(a->otp_out, 0600, &otp_fd)) !=
		            KQ_OK ||
		        (r = kq_file_reserve_fd(otp_fd, SECRET_OUT_RESERVE)) !=
		            KQ_OK)) {
			if (otp_fd >= 0) {
				close(otp_fd);
				otp_fd = -1;
				(void)unlink(a->otp_out);
			}
			ret = cer_fail(
			    run, r, "%s: %s", a->otp_out, kq_strerror(r));
			goto out;
		}
		if (!confirm(run, "Start a generate-root attempt? [y/N] ")) {
			ret = cer_fail(run, KQ_ERR_USAGE,
			    "not confirmed (--yes to skip the question)");
			goto out;
		}
		kq_secfree(otp);
		otp = NULL;
		if ((r = vault_generate_root_start(run->vc, &otp, &st)) !=
		    KQ_OK) {
			ret = vault_fail(run, r, "starting generate-root");
			goto out;
		}
		if (otp_fd >= 0 && (r = write_secret(otp_fd, otp)) != KQ_OK) {
			ret = cer_fail(run, r,
			    "%s: the OTP could not be written (%s); cancel the "
			    "attempt (--cancel)",
			    a->otp_out, kq_strerror(r));
			goto out;
		}
		ceremony_log(run->tr, run->cs, "generate-root",
		    "started-attempt", NULL, NULL, NULL, NULL);
		ui_say(&run->ui, CEREMONY_EV_INFO, 0, NULL,
		    "generate-root attempt started: nonce %s, %u shares "
		    "needed; the OTP stays in locked memory%s%s",
		    st.nonce, st.required, otp_fd >= 0 ? " and in " : "",
		    otp_fd >= 0 ? a->otp_out : "");
	} else {
		ui_say(&run->ui, CEREMONY_EV_INFO, 0, NULL,
		    "joining generate-root attempt %s (%u/%u)", st.nonce,
		    st.progress, st.required);
	}
	ui_begin(&run->ui, "generate-root", run->cs, st.required);
	ui_progress(&run->ui, st.progress, st.required);
	rs.vc = run->vc;
	rs.st = st;
	snprintf(rs.nonce, sizeof(rs.nonce), "%s", st.nonce);
	ceremony_root_sink_init(&rs, &sink);
	if (a->holder_one != NULL)
		run->o.max_shares = 1;
	if ((r = collect(run, &sink, NULL)) != KQ_OK) {
		ret = kq_exit_status(r);
		if (r != KQ_ERR_INTERRUPTED)
			ui_say(&run->ui, CEREMONY_EV_INFO, 0, NULL,
			    "the attempt %s stays open at %u/%u: continue with "
			    "--nonce %s, or cancel it with --cancel",
			    rs.nonce, rs.st.progress, rs.st.required, rs.nonce);
		goto out;
	}
	if (rs.encoded == NULL) {
		ui_say(&run->ui, CEREMONY_EV_DONE, 0, NULL,
		    "share submitted to attempt %s: %u/%u", rs.nonce,
		    rs.st.progress, rs.st.required);
		ret = 0;
		goto out;
	}
	if (otp == NULL) {
		/* Encoded only: useless without the OTP, still not logged. */
		if ((r = write_secret(fd, rs.encoded)) != KQ_OK) {
			ret = cer_fail(run, r, "writing the encoded token: %s",
			    kq_strerror(r));
			goto out;
		}
		ui_say(&run->ui, CEREMONY_EV_DONE, 0, NULL,
		    "attempt complete; that is the ENCODED token: decode it "
		    "with the OTP of the operator who started the attempt "
		    "(keyquorum decode-root)");
		ceremony_log(run->tr, run->cs, "generate-root",
		    "complete-encoded", NULL, NULL, NULL, NULL);
		ret = 0;
		goto out;
	}
	if ((tok = kq_secalloc(ROOT_TOKEN_MAX + 1)) == NULL) {
		ret = cer_fail(
		    run, KQ_ERR_NOMEM, "%s", kq_strerror(KQ_ERR_NOMEM));
		goto out;
	}
	r = root_token_decode(rs.encoded, strlen(rs.encoded), otp, strlen(otp),
	    (int)rs.st.otp_length > 0 ? (int)rs.st.otp_length : -1, tok,
	    ROOT_TOKEN_MAX + 1, &tl);
	if (r != KQ_OK) {
		ret = cer_fail(
		    run, r, "decoding the root token: %s", kq_strerror(r));
		goto out;
	}
	if (env != NULL) {
		if ((ret = envelope_cli_finish(
		         env, (const uint8_t *)tok, tl)) != 0)
			goto out;
	} else if ((r = write_secret(fd, tok)) != KQ_OK) {
		ret = cer_fail(run, r,
		    "writing the root token: %s. Vault generated a root token "
		    "that nobody holds: revoke it (check Vault's audit log)",
		    kq_strerror(r));
		goto out;
	}
	ceremony_log(run->tr, run->cs, "generate-root", "ok", NULL, NULL, NULL,
	    "root token decoded and handed over");
	ui_say(&run->ui, CEREMONY_EV_DONE, 0, NULL,
	    "root token generated%s%s; revoke it when the task is done",
	    fd >= 0 || env != NULL ? (env != NULL ? " and sealed into the "
	                                            "envelope "
	                                          : " and written to ")
	                           : " (shown once above)",
	    fd >= 0 || env != NULL ? a->out : "");
	ret = 0;
out:
	if (fd >= 0) {
		close(fd);
		if (ret != 0)
			unlink(a->out);
	}
	if (otp_fd >= 0)
		close(otp_fd);
	kq_secfree(tok);
	kq_secfree(otp);
	ceremony_root_sink_clear(&rs);
	envelope_cli_free(env);
	return ret;
}

/* ---- drill ---- */

static int
do_drill(struct cer_run *run)
{
	struct custody_set *cs = run->cs;
	struct ceremony_sink sink;
	int *status = NULL, r, same, ret = KQ_EXIT_ERROR;
	size_t i, ok = 0, bad = 0;
	time_t now = time(NULL);
	char names[2048];

	if ((status = calloc(cs->n_holders, sizeof(*status))) == NULL)
		return cer_fail(
		    run, KQ_ERR_NOMEM, "%s", kq_strerror(KQ_ERR_NOMEM));
	ui_begin(&run->ui, "drill", cs, 0);
	run->ui.unit = "holder";
	ceremony_drill_sink_init(&sink);
	run->o.keep_going = 1;
	r = collect(run, &sink, status);
	if (r != KQ_OK && r != KQ_ERR_TIMEOUT) {
		ret = kq_exit_status(r);
		goto out;
	}
	names[0] = '\0';
	for (i = 0; i < cs->n_holders; i++) {
		if (status[i] == 1) {
			cs->holders[i].last_drill = now;
			ok++;
		} else if (status[i] < 0) {
			bad++;
			snprintf(names + strlen(names),
			    sizeof(names) - strlen(names), "%s%s (%s)",
			    names[0] ? ", " : "", cs->holders[i].name,
			    kq_strerror(status[i]));
		}
	}
	if (ok > 0) {
		run->detail[0] = '\0';
		if ((r = custody_save(cs, run->a->q.custody, 1, run->detail)) !=
		    KQ_OK) {
			ret = cer_fail(run, r,
			    "the drill passed for %zu holders but %s could not "
			    "be updated: %s: %s",
			    ok, run->a->q.custody, kq_strerror(r), run->detail);
			goto out;
		}
	}
	for (i = 0; i < cs->n_holders; i++)
		if (status[i] == 0)
			ui_say(&run->ui, CEREMONY_EV_INFO, 0,
			    cs->holders[i].name,
			    "%s: not drilled (not present)",
			    cs->holders[i].name);
	if (bad > 0) {
		ceremony_log(
		    run->tr, cs, "drill", "failed", NULL, NULL, NULL, names);
		ret = cer_fail(run, KQ_ERR_DRILL_FAILED,
		    "drill: %zu holder%s passed, %zu failed: %s", ok,
		    ok == 1 ? "" : "s", bad, names);
		/*
		 * When every failure is of one kind (all PIN, all token, all
		 * integrity), exit with that kind's status so a script can
		 * tell a wrong PIN from a corrupt share.
		 */
		for (i = 0, same = -1; i < cs->n_holders; i++) {
			if (status[i] >= 0)
				continue;
			if (same == -1)
				same = kq_exit_status(status[i]);
			else if (same != kq_exit_status(status[i]))
				same = -2;
		}
		if (same >= 0)
			ret = same;
		goto out;
	}
	ui_say(&run->ui, CEREMONY_EV_DONE, 0, NULL,
	    "drill passed: %zu of %zu holders opened their share and matched "
	    "its commitment; nothing was sent to Vault",
	    ok, cs->n_holders);
	ret = ok > 0 ? 0 : kq_exit_status(KQ_ERR_QUORUM_SHORT);
out:
	free(status);
	return ret;
}

int
cmd_ceremony(int argc, char **argv)
{
	struct cer_args a;
	struct cer_run run;
	const char *sub;
	int ret;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		return argc < 2 ? (cli_usage_error("ceremony",
		                      "init, unseal, generate-root or drill?"))
		                : cli_help(ceremony_help);
	sub = argv[1];
	if (strcmp(sub, "seal-envelope") == 0)
		return cli_ceremony_seal_envelope(argc - 1, argv + 1);
	if (strcmp(sub, "open-envelope") == 0)
		return cli_ceremony_open_envelope(argc - 1, argv + 1);
	memset(&a, 0, sizeof(a));
	memset(&run, 0, sizeof(run));
	a.sub = sub;
	if (strcmp(sub, "init") != 0 && strcmp(sub, "unseal") != 0 &&
	    strcmp(sub, "generate-root") != 0 && strcmp(sub, "drill") != 0)
		return cli_usage_error(
		    "ceremony", "unknown ceremony '%s'", sub);
	if ((ret = parse_args(argc - 1, argv + 1, &a)) != 0) {
		cli_quorum_free(&a.q);
		return ret < 0 ? 0 : ret;
	}
	if (strcmp(sub, "drill") == 0 && a.holder_one != NULL) {
		a.q.holders[0] = a.holder_one;
		a.q.n_holders = 1;
	}
	ret = cer_begin(&run, &a, sub, strcmp(sub, "drill") != 0);
	if (ret == 0) {
		if (strcmp(sub, "init") == 0)
			ret = do_init(&run);
		else if (strcmp(sub, "unseal") == 0)
			ret = do_unseal(&run);
		else if (strcmp(sub, "generate-root") == 0)
			ret = do_generate_root(&run);
		else
			ret = do_drill(&run);
	}
	/*
	 * A signal that came after the ceremony reached its goal (during
	 * the clean-up: logout, close, finalize) changes nothing of it:
	 * exit 0, and say so (keyquorum(1), EXIT STATUS).
	 */
	if (ret == 0 && stop_flag)
		cli_errx("ceremony",
		    "%s; interrupted during clean-up (the ceremony had "
		    "completed)",
		    strcmp(sub, "unseal") == 0 ? "Vault is unsealed"
		        : strcmp(sub, "init") == 0
		        ? "Vault is initialised and the custody set written"
		        : strcmp(sub, "generate-root") == 0
		        ? "the root token was written"
		        : "the drill's outcome above stands");
	cer_end(&run);
	return ret;
}
