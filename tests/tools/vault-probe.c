/*
 * vault-probe: drives keyquorum's Vault client (ceremony/vault*.c) one call
 * at a time, for tests/integration/vault-client.sh against the Vault API
 * test server.  A test tool, not part of keyquorum: it writes keys, OTPs
 * and tokens to files (mode 0600, created exclusively) so that the script
 * can chain calls; it never prints them.
 *
 *   vault-probe [--timeout S] [--token-file F] [--ca-cert F] [--address A]
 *               [--tls-info] CMD
 *   status | init N T [recovery] DIR | unseal KEYFILE | unseal-reset |
 *   gr-start DIR | gr-status | gr-cancel | gr-update NONCE KEYFILE DIR |
 *   decode ENCFILE OTPFILE OUT | decode-remote ENCFILE OTPFILE OUT
 *
 * Prints key=value lines; on failure "err=KQ_ERR_...", "msg=..." (the
 * code's message) and "detail=...", and exits with keyquorum's exit status
 * for the code.  --tls-info adds, success or not, tls_ctx_calls=N (how
 * often the client's SSL_CTX callback ran) and tls_cleanse=0|1 (whether
 * the last SSL_CTX had SSL_OP_CLEANSE_PLAINTEXT, read back from it).
 * VAULT_CAPATH, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY and VAULT_NAMESPACE
 * come from the environment, as in keyquorum.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/ceremony.h"
#include "common/encoding.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/secio.h"
#include "common/secmem.h"

static const char *flavors[] = {"unknown", "vault", "openbao"};

static int
write_secret(const char *path, const char *p, size_t n)
{
	int fd, r;

	if ((r = kq_file_create_excl(path, 0600, &fd)) != KQ_OK)
		return r;
	r = kq_write_all(fd, p, n);
	if (close(fd) != 0 && r == KQ_OK)
		r = KQ_ERR_IO;
	return r;
}

/* A one-line secret file into secure memory, NUL-terminated. */
static int
read_secret(const char *path, char **out)
{
	struct kq_sbuf *b = NULL;
	size_t n;
	char *p;
	int r;

	if ((r = kq_read_all_file(path, 4096, &b)) != KQ_OK)
		return r;
	n = kq_sbuf_len(b);
	while (n > 0 && (kq_sbuf_ptr(b)[n - 1] == '\n'))
		n--;
	r = KQ_ERR_NOMEM;
	if ((p = kq_secalloc(n + 1)) != NULL) {
		memcpy(p, kq_sbuf_ptr(b), n);
		*out = p;
		r = KQ_OK;
	}
	kq_sbuf_free(b);
	return r;
}

static int
read_key(const char *path, uint8_t **key, size_t *len)
{
	char *hex = NULL;
	uint8_t *k = NULL;
	int r;

	if ((r = read_secret(path, &hex)) != KQ_OK)
		return r;
	r = KQ_ERR_NOMEM;
	if ((k = kq_secalloc(strlen(hex) / 2 + 1)) == NULL)
		goto out;
	if ((r = kq_hex_decode(
	         k, strlen(hex) / 2 + 1, len, hex, strlen(hex))) != KQ_OK)
		goto out;
	*key = k;
	k = NULL;
out:
	kq_secfree(k);
	kq_secfree(hex);
	return r;
}

static void
print_status(const struct vault_seal_status *st)
{
	printf("initialized=%d\nsealed=%d\nt=%u\nn=%u\nprogress=%u\n"
	       "type=%s\nversion=%s\nflavor=%s\nrecovery_seal=%d\n"
	       "nonce_set=%d\ncluster_id_set=%d\n",
	    st->initialized, st->sealed, st->t, st->n, st->progress, st->type,
	    st->version, flavors[st->flavor], st->recovery_seal,
	    st->nonce[0] != '\0', st->cluster_id[0] != '\0');
}

static void
print_gr(const struct vault_generate_root_status *st)
{
	printf("nonce=%s\nstarted=%d\nprogress=%u\nrequired=%u\ncomplete=%d\n"
	       "otp_length=%u\n",
	    st->nonce, st->started, st->progress, st->required, st->complete,
	    st->otp_length);
}

struct init_ctx {
	const char *dir;
};

static int
save_key(void *arg, unsigned index, const uint8_t *key, size_t len)
{
	struct init_ctx *c = arg;
	char path[512], *hex;
	size_t cap = 2 * len + 2;
	int r;

	snprintf(path, sizeof(path), "%s/key.%u", c->dir, index);
	if ((hex = kq_secalloc(cap)) == NULL)
		return KQ_ERR_NOMEM;
	kq_hex_encode(hex, cap, key, len);
	hex[2 * len] = '\n';
	r = write_secret(path, hex, 2 * len + 1);
	kq_secfree(hex);
	return r;
}

static int
cmd_init(struct vault_client *vc, int argc, char **argv)
{
	struct init_ctx c;
	char *root = NULL, path[512];
	unsigned n, t;
	int rec, r;

	if (argc < 4)
		return KQ_ERR_USAGE;
	n = (unsigned)atoi(argv[1]);
	t = (unsigned)atoi(argv[2]);
	rec = argc > 4 && strcmp(argv[3], "recovery") == 0;
	c.dir = argv[argc - 1];
	if ((r = vault_init(vc, n, t, rec, save_key, &c, &root)) != KQ_OK)
		return r;
	snprintf(path, sizeof(path), "%s/root", c.dir);
	r = write_secret(path, root, strlen(root));
	printf("keys=%u\nroot_token_len=%zu\n", n, strlen(root));
	kq_secfree(root);
	return r;
}

static int
cmd_gr_update(struct vault_client *vc, char **argv)
{
	struct vault_generate_root_status st;
	uint8_t *key = NULL;
	char *enc = NULL, path[512];
	size_t len;
	int r;

	if ((r = read_key(argv[2], &key, &len)) != KQ_OK)
		return r;
	r = vault_generate_root_update(vc, argv[1], key, len, &st, &enc);
	kq_secfree(key);
	if (r != KQ_OK)
		return r;
	print_gr(&st);
	if (enc != NULL) {
		snprintf(path, sizeof(path), "%s/encoded", argv[3]);
		r = write_secret(path, enc, strlen(enc));
		kq_secfree(enc);
	}
	return r;
}

static int
cmd_decode(struct vault_client *vc, char **argv, int remote)
{
	char *enc = NULL, *otp = NULL, *tok = NULL;
	size_t tl = 0;
	int r;

	if ((r = read_secret(argv[1], &enc)) != KQ_OK ||
	    (r = read_secret(argv[2], &otp)) != KQ_OK)
		goto out;
	if (remote) {
		if ((r = vault_decode_token(vc, enc, otp, &tok)) != KQ_OK)
			goto out;
		tl = strlen(tok);
	} else {
		r = KQ_ERR_NOMEM;
		if ((tok = kq_secalloc(ROOT_TOKEN_MAX + 1)) == NULL)
			goto out;
		if ((r = root_token_decode(enc, strlen(enc), otp, strlen(otp),
		         (int)strlen(otp), tok, ROOT_TOKEN_MAX + 1, &tl)) !=
		    KQ_OK)
			goto out;
	}
	r = write_secret(argv[3], tok, tl);
	printf("token_len=%zu\n", tl);
out:
	kq_secfree(enc);
	kq_secfree(otp);
	kq_secfree(tok);
	return r;
}

static int
run(struct vault_client *vc, int argc, char **argv)
{
	struct vault_seal_status ss;
	struct vault_generate_root_status gs;
	const char *c = argv[0];
	uint8_t *key = NULL;
	char *otp = NULL, path[512];
	size_t len;
	int r;

	if (strcmp(c, "status") == 0) {
		if ((r = vault_seal_status(vc, &ss)) == KQ_OK)
			print_status(&ss);
	} else if (strcmp(c, "init") == 0) {
		r = cmd_init(vc, argc, argv);
	} else if (strcmp(c, "unseal") == 0 && argc == 2) {
		if ((r = read_key(argv[1], &key, &len)) != KQ_OK)
			return r;
		r = vault_unseal(vc, key, len, &ss);
		kq_secfree(key);
		if (r == KQ_OK)
			print_status(&ss);
	} else if (strcmp(c, "unseal-reset") == 0) {
		if ((r = vault_unseal_reset(vc, &ss)) == KQ_OK)
			print_status(&ss);
	} else if (strcmp(c, "gr-start") == 0 && argc == 2) {
		if ((r = vault_generate_root_start(vc, &otp, &gs)) != KQ_OK)
			return r;
		print_gr(&gs);
		snprintf(path, sizeof(path), "%s/otp", argv[1]);
		r = write_secret(path, otp, strlen(otp));
		kq_secfree(otp);
	} else if (strcmp(c, "gr-status") == 0) {
		if ((r = vault_generate_root_status(vc, &gs)) == KQ_OK)
			print_gr(&gs);
	} else if (strcmp(c, "gr-cancel") == 0) {
		r = vault_generate_root_cancel(vc);
	} else if (strcmp(c, "gr-update") == 0 && argc == 4) {
		r = cmd_gr_update(vc, argv);
	} else if (strcmp(c, "decode") == 0 && argc == 4) {
		r = cmd_decode(vc, argv, 0);
	} else if (strcmp(c, "decode-remote") == 0 && argc == 4) {
		r = cmd_decode(vc, argv, 1);
	} else {
		r = KQ_ERR_USAGE;
	}
	if (r == KQ_OK)
		printf("flavor_seen=%s\n", flavors[vault_client_flavor(vc)]);
	return r;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"token-file", required_argument, NULL, 'k'},
	    {"ca-cert", required_argument, NULL, 'c'},
	    {"address", required_argument, NULL, 'a'},
	    {"tls-info", no_argument, NULL, 'i'},
	    {NULL, 0, NULL, 0},
	};
	struct vault_config cfg = {0};
	struct vault_client *vc = NULL;
	char detail[CEREMONY_DETAIL_MAX] = "";
	unsigned calls = 0;
	int c, r, tls_info = 0;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			cfg.timeout_s = atol(optarg);
			break;
		case 'k':
			cfg.token_file = optarg;
			break;
		case 'c':
			cfg.ca_cert = optarg;
			break;
		case 'a':
			cfg.address = optarg;
			break;
		case 'i':
			tls_info = 1;
			break;
		default:
			return KQ_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: vault-probe [options] CMD ...\n");
		return KQ_EXIT_USAGE;
	}
	if (kq_secmem_init() != KQ_OK || ceremony_json_init() != KQ_OK)
		return KQ_EXIT_ERROR;
	if ((r = vault_client_new(&cfg, &vc, detail)) == KQ_OK) {
		r = run(vc, argc - optind, argv + optind);
		if (r != KQ_OK)
			snprintf(detail, sizeof(detail), "%s",
			    vault_client_detail(vc));
		if (tls_info) {
			c = vault_client_tls_ctx(vc, &calls);
			printf("tls_ctx_calls=%u\ntls_cleanse=%d\n", calls, c);
		}
	}
	if (r != KQ_OK)
		printf("err=%s\nmsg=%s\ndetail=%s\n", kq_errname(r),
		    kq_strerror(r), detail);
	vault_client_free(vc);
	fflush(stdout);
	return kq_exit_status(r);
}
