/*
 * keyquorum: the Vault / OpenBao HTTP client: configuration, transport,
 * and the one boundary where CURLcode and HTTP status become kq_err.
 *
 * libcurl with OpenSSL.  TLS peer and host verification are always on
 * (there is no option to turn them off), only https:// is spoken, no
 * redirect is followed (an unseal must reach the node it names).  Proxies:
 * libcurl honours https_proxy / HTTPS_PROXY / all_proxy / no_proxy, as the
 * vault CLI honours its Go equivalents.
 *
 * Secrets in transit: request bodies that carry a key are built in
 * kq_secalloc memory; the response body is collected into a kq_sbuf;
 * libcurl's own buffers come from wiping allocators (curl_global_init_mem)
 * and OpenSSL cleanses its plaintext copies (SSL_OP_CLEANSE_PLAINTEXT).
 * The operation functions are in vault_ops.c.
 */
#include "ceremony/vault_int.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "ceremony/cer_int.h"
#include "ceremony/curl_dl.h"
#include "common/err.h"
#include "common/secio.h"
#include "common/secmem.h"

#define VAULT_RESPONSE_MAX ((size_t)1 << 20)
#define VAULT_TOKEN_MAX 4096

/* ---- libcurl's allocators: a size header, wiped on free ---------------- */

struct curl_hdr {
	size_t size;
	size_t magic;
};
#define CURL_HDR_MAGIC ((size_t)0x6b71637572ULL)

static void *
cm_malloc(size_t n)
{
	struct curl_hdr *h;

	if (n > SIZE_MAX - sizeof(*h) || (h = malloc(sizeof(*h) + n)) == NULL)
		return NULL;
	h->size = n;
	h->magic = CURL_HDR_MAGIC;
	return h + 1;
}

static void
cm_free(void *p)
{
	struct curl_hdr *h;

	if (p == NULL)
		return;
	h = (struct curl_hdr *)p - 1;
	if (h->magic != CURL_HDR_MAGIC)
		abort();
	kq_wipe(h, sizeof(*h) + h->size);
	free(h);
}

static void *
cm_realloc(void *p, size_t n)
{
	void *np;
	size_t old;

	if (p == NULL)
		return cm_malloc(n);
	if ((np = cm_malloc(n)) == NULL)
		return NULL;
	old = ((struct curl_hdr *)p - 1)->size;
	memcpy(np, p, old < n ? old : n);
	cm_free(p);
	return np;
}

static char *
cm_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = cm_malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

static void *
cm_calloc(size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if ((p = cm_malloc(nmemb * size)) != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
/* libcurl's functions, loaded on first use (curl_dl.h says why). */
static const struct kq_curl *kc;

static void
curl_init_once(void)
{
	if ((kc = kq_curl_get(NULL)) == NULL)
		return;
	curl_init_rc = kc->global_init_mem(CURL_GLOBAL_DEFAULT, cm_malloc,
	    cm_free, cm_realloc, cm_strdup, cm_calloc);
}

/* ---- configuration ------------------------------------------------------ */

static const char *
pick(const char *v, const char *env, int no_env)
{
	const char *e;

	if (v != NULL && *v != '\0')
		return v;
	if (no_env || (e = getenv(env)) == NULL || *e == '\0')
		return NULL;
	return e;
}

static int
dup_opt(char **dst, const char *v)
{
	if (v == NULL)
		return KQ_OK;
	return (*dst = strdup(v)) == NULL ? KQ_ERR_NOMEM : KQ_OK;
}

/* Header values must not be able to smuggle a CR/LF or a space. */
static int
header_safe(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	}
	return n != 0;
}

static int
load_token(struct vault_client *vc, const char *file, int no_env)
{
	struct kq_sbuf *b = NULL;
	const char *env;
	size_t n;
	int r;

	if (file != NULL) {
		if ((r = kq_read_all_file(file, VAULT_TOKEN_MAX, &b)) !=
		    KQ_OK) {
			cer_detail(vc->detail, "cannot read the token file");
			return r;
		}
		n = kq_sbuf_len(b);
		while (n > 0 &&
		    (kq_sbuf_ptr(b)[n - 1] == '\n' ||
		        kq_sbuf_ptr(b)[n - 1] == '\r' ||
		        kq_sbuf_ptr(b)[n - 1] == ' '))
			n--;
		r = KQ_ERR_USAGE;
		if (!header_safe((const char *)kq_sbuf_ptr(b), n)) {
			cer_detail(vc->detail,
			    "the token file does not hold "
			    "one token");
			goto out;
		}
		r = KQ_ERR_NOMEM;
		if ((vc->token = kq_secalloc(n + 1)) == NULL)
			goto out;
		memcpy(vc->token, kq_sbuf_ptr(b), n);
		r = KQ_OK;
		goto out;
	}
	if (no_env || (env = getenv("VAULT_TOKEN")) == NULL || *env == '\0')
		return KQ_OK;
	n = strlen(env);
	if (n > VAULT_TOKEN_MAX || !header_safe(env, n)) {
		cer_detail(vc->detail, "VAULT_TOKEN does not hold one token");
		return KQ_ERR_USAGE;
	}
	if ((vc->token = kq_secalloc(n + 1)) == NULL)
		return KQ_ERR_NOMEM;
	memcpy(vc->token, env, n);
	r = KQ_OK;
out:
	kq_sbuf_free(b);
	return r;
}

int
vault_client_new(
    const struct vault_config *cfg, struct vault_client **out, char *detail)
{
	static const struct vault_config none;
	const curl_version_info_data *vi;
	struct vault_client *vc;
	const char *addr, *ns;
	size_t n;
	int r = KQ_ERR_NOMEM;

	if (cfg == NULL)
		cfg = &none;
	pthread_once(&curl_once, curl_init_once);
	if (kc == NULL) {
		(void)kq_curl_get(detail);
		return KQ_ERR_UNSUPPORTED;
	}
	vi = kc->version_info(CURLVERSION_NOW);
	if (curl_init_rc != CURLE_OK || vi == NULL || vi->ssl_version == NULL ||
	    strncmp(vi->ssl_version, "OpenSSL", 7) != 0) {
		cer_detail(detail, "libcurl must use OpenSSL (it uses %s)",
		    vi != NULL && vi->ssl_version ? vi->ssl_version : "none");
		return KQ_ERR_UNSUPPORTED;
	}
	if ((vc = calloc(1, sizeof(*vc))) == NULL)
		return KQ_ERR_NOMEM;
	addr = pick(cfg->address, "VAULT_ADDR", cfg->no_env);
	r = KQ_ERR_USAGE;
	if (addr == NULL) {
		cer_detail(
		    detail, "no Vault address (--address or VAULT_ADDR)");
		goto out;
	}
	if (strncasecmp(addr, "https://", 8) != 0 || addr[8] == '\0') {
		cer_detail(detail,
		    "the Vault address must be https://...: "
		    "keys are never sent in clear text");
		goto out;
	}
	ns = pick(cfg->namespace, "VAULT_NAMESPACE", cfg->no_env);
	if (ns != NULL && !header_safe(ns, strlen(ns))) {
		cer_detail(detail,
		    "the namespace has spaces or control "
		    "characters");
		goto out;
	}
	r = KQ_ERR_NOMEM;
	if ((r = dup_opt(&vc->address, addr)) != KQ_OK ||
	    (r = dup_opt(&vc->ca_cert,
	         pick(cfg->ca_cert, "VAULT_CACERT", cfg->no_env))) != KQ_OK ||
	    (r = dup_opt(&vc->ca_path,
	         pick(cfg->ca_path, "VAULT_CAPATH", cfg->no_env))) != KQ_OK ||
	    (r = dup_opt(&vc->client_cert,
	         pick(cfg->client_cert, "VAULT_CLIENT_CERT", cfg->no_env))) !=
	        KQ_OK ||
	    (r = dup_opt(&vc->client_key,
	         pick(cfg->client_key, "VAULT_CLIENT_KEY", cfg->no_env))) !=
	        KQ_OK ||
	    (r = dup_opt(&vc->namespace, ns)) != KQ_OK)
		goto out;
	n = strlen(vc->address);
	while (n > 8 && vc->address[n - 1] == '/')
		vc->address[--n] = '\0';
	vc->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 60;
	vc->connect_timeout_s =
	    cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 10;
	if ((r = load_token(vc, cfg->token_file, cfg->no_env)) != KQ_OK) {
		cer_detail(detail, "%s", vc->detail);
		goto out;
	}
	r = KQ_ERR_NOMEM;
	if ((vc->curl = kc->easy_init()) == NULL)
		goto out;
	*out = vc;
	vc = NULL;
	r = KQ_OK;
out:
	vault_client_free(vc);
	return r;
}

void
vault_client_free(struct vault_client *vc)
{
	if (vc == NULL)
		return;
	if (vc->curl != NULL)
		kc->easy_cleanup(vc->curl);
	kq_secfree(vc->token);
	free(vc->address);
	free(vc->ca_cert);
	free(vc->ca_path);
	free(vc->client_cert);
	free(vc->client_key);
	free(vc->namespace);
	free(vc);
}

const char *
vault_client_detail(const struct vault_client *vc)
{
	return vc->detail;
}

long
vault_client_http_status(const struct vault_client *vc)
{
	return vc->http_status;
}

enum vault_flavor
vault_client_flavor(const struct vault_client *vc)
{
	return vc->flavor;
}

int
vault_client_has_token(const struct vault_client *vc)
{
	return vc->token != NULL;
}

int
vault_client_tls_ctx(const struct vault_client *vc, unsigned *calls)
{
	if (calls != NULL)
		*calls = vc->tls_ctx_calls;
	return vc->tls_cleanse;
}

/* ---- transport ------------------------------------------------------------ */

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct kq_sbuf *b = arg;
	size_t n = size * nmemb;

	return kq_sbuf_put(b, p, n) == KQ_OK ? n : 0;
}

/* The SSL_CTX's ex_data slot that points back at the client. */
static pthread_once_t ssl_idx_once = PTHREAD_ONCE_INIT;
static int ssl_idx = -1;

static void
ssl_idx_init(void)
{
	ssl_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/*
 * A fatal alert from the server: under TLS 1.3 a refused client
 * certificate arrives as one on the first read, after libcurl thinks the
 * handshake is done, and libcurl reports a mere receive error.  Recorded
 * so that vault_request can say the server refused the connection.
 */
static void
on_ssl_info(const SSL *ssl, int where, int ret)
{
	struct vault_client *vc;

	/* SSL_CB_READ_ALERT shares its SSL_CB_ALERT bit with the write one. */
	if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT ||
	    (ret >> 8) != SSL3_AL_FATAL || ssl_idx < 0)
		return;
	vc = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ssl_idx);
	if (vc != NULL)
		vc->tls_alert = ret & 0xff;
}

static CURLcode
on_ssl_ctx(CURL *curl, void *sslctx, void *arg)
{
	struct vault_client *vc = arg;
	uint64_t o;

	(void)curl;
	pthread_once(&ssl_idx_once, ssl_idx_init);
	if (ssl_idx >= 0 &&
	    SSL_CTX_set_ex_data((SSL_CTX *)sslctx, ssl_idx, vc) == 1)
		SSL_CTX_set_info_callback((SSL_CTX *)sslctx, on_ssl_info);
	SSL_CTX_set_options((SSL_CTX *)sslctx, SSL_OP_CLEANSE_PLAINTEXT);
	o = SSL_CTX_get_options((SSL_CTX *)sslctx);
	/* What the context holds now, read back for vault_client_tls_ctx. */
	vc->tls_ctx_calls++;
	vc->tls_cleanse = (o & SSL_OP_CLEANSE_PLAINTEXT) != 0;
	return CURLE_OK;
}

static int
map_curl(CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return KQ_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return KQ_ERR_VAULT_CONNECT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return KQ_ERR_VAULT_TLS;
	case CURLE_OPERATION_TIMEDOUT:
		return KQ_ERR_VAULT_TIMEOUT;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return KQ_ERR_VAULT_DROPPED;
	case CURLE_WRITE_ERROR:
		return KQ_ERR_VAULT_RESPONSE; /* over VAULT_RESPONSE_MAX */
	case CURLE_OUT_OF_MEMORY:
		return KQ_ERR_NOMEM;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return KQ_ERR_USAGE;
	default:
		return KQ_ERR_VAULT_CONNECT;
	}
}

static int
set_opts(struct vault_client *vc, const char *url, struct curl_slist *hdrs,
    struct kq_sbuf *resp)
{
	CURL *c = vc->curl;
	CURLcode e = CURLE_OK;

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (e == CURLE_OK)                                             \
			e = kc->easy_setopt(c, opt, val);                      \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
	SET(CURLOPT_SSL_CTX_DATA, vc);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, vc->connect_timeout_s);
	SET(CURLOPT_TIMEOUT, vc->timeout_s);
	SET(CURLOPT_USERAGENT, "keyquorum/" KQ_VERSION);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, resp);
	SET(CURLOPT_ERRORBUFFER, vc->errbuf);
	/*
	 * As the vault CLI: the CA file, when given, is the only trust (a CA
	 * directory is then ignored); else the CA directory alone.  NULL turns
	 * off libcurl's built-in default bundle / directory.
	 */
	if (vc->ca_cert != NULL) {
		SET(CURLOPT_CAINFO, vc->ca_cert);
		SET(CURLOPT_CAPATH, (char *)NULL);
	} else if (vc->ca_path != NULL) {
		SET(CURLOPT_CAPATH, vc->ca_path);
		SET(CURLOPT_CAINFO, (char *)NULL);
	}
	if (vc->client_cert != NULL)
		SET(CURLOPT_SSLCERT, vc->client_cert);
	if (vc->client_key != NULL)
		SET(CURLOPT_SSLKEY, vc->client_key);
#undef SET
	return e == CURLE_OK ? KQ_OK : KQ_ERR_UNSUPPORTED;
}

/* Append "X-Vault-Token: <token>", built in secure memory. */
static struct curl_slist *
add_token(struct vault_client *vc, struct curl_slist *h)
{
	static const char pfx[] = "X-Vault-Token: ";
	size_t n = strlen(vc->token);
	struct curl_slist *nh;
	char *line;

	if ((line = kq_secalloc(sizeof(pfx) + n)) == NULL)
		return NULL;
	memcpy(line, pfx, sizeof(pfx) - 1);
	memcpy(line + sizeof(pfx) - 1, vc->token, n + 1);
	nh = kc->slist_append(h, line); /* its copy is wiped by cm_free */
	kq_secfree(line);
	return nh;
}

int
vault_request(struct vault_client *vc, const char *method, const char *path,
    const char *body, size_t body_len, int auth, struct kq_sbuf **out)
{
	struct curl_slist *h = NULL, *nh;
	struct kq_sbuf *resp = NULL;
	char *url = NULL, nsh[300], msg[CEREMONY_DETAIL_MAX];
	size_t ulen;
	CURLcode c;
	int r = KQ_ERR_NOMEM;

	vc->detail[0] = '\0';
	vc->errbuf[0] = '\0';
	vc->http_status = 0;
	vc->tls_alert = -1;
	if (auth && vc->token == NULL) {
		cer_detail(vc->detail,
		    "this call needs a token (VAULT_TOKEN "
		    "or --token-file)");
		return KQ_ERR_VAULT_PERMISSION;
	}
	ulen = strlen(vc->address) + strlen(path) + 5;
	if ((url = malloc(ulen)) == NULL ||
	    (resp = kq_sbuf_new(VAULT_RESPONSE_MAX)) == NULL)
		goto out;
	snprintf(url, ulen, "%s/v1/%s", vc->address, path);
	if ((h = kc->slist_append(NULL, "X-Vault-Request: true")) == NULL)
		goto out;
	if (body != NULL) {
		if ((nh = kc->slist_append(
		         h, "Content-Type: application/json")) == NULL)
			goto out;
		h = nh;
	}
	if (vc->namespace != NULL) {
		snprintf(
		    nsh, sizeof(nsh), "X-Vault-Namespace: %s", vc->namespace);
		if ((nh = kc->slist_append(h, nsh)) == NULL)
			goto out;
		h = nh;
	}
	if (auth) {
		if ((nh = add_token(vc, h)) == NULL)
			goto out;
		h = nh;
	}
	kc->easy_reset(vc->curl); /* keeps the connection cache */
	if ((r = set_opts(vc, url, h, resp)) != KQ_OK)
		goto out;
	if (body != NULL) {
		/* Not copied by libcurl: it sends from our secure buffer. */
		kc->easy_setopt(vc->curl, CURLOPT_POSTFIELDS, body);
		kc->easy_setopt(vc->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len);
	}
	if (strcmp(method, "GET") != 0)
		kc->easy_setopt(vc->curl, CURLOPT_CUSTOMREQUEST, method);
	c = kc->easy_perform(vc->curl);
	if (c != CURLE_OK) {
		r = map_curl(c);
		if (vc->tls_alert >= 0 && r != KQ_ERR_VAULT_TIMEOUT &&
		    r != KQ_ERR_NOMEM) {
			r = KQ_ERR_VAULT_TLS_REFUSED;
			cer_detail(vc->detail,
			    "%s %s: the server sent the TLS "
			    "alert '%s' (%s)",
			    method, path,
			    SSL_alert_desc_string_long(vc->tls_alert),
			    vc->errbuf[0] ? vc->errbuf : kc->easy_strerror(c));
			goto out;
		}
		cer_detail(vc->detail, "%s %s: %s%s", method, path,
		    vc->errbuf[0] ? vc->errbuf : kc->easy_strerror(c),
		    r == KQ_ERR_VAULT_TLS && getenv("VAULT_SKIP_VERIFY") != NULL
		        ? " (VAULT_SKIP_VERIFY is ignored: keyquorum always "
		          "verifies; give the CA with --ca-cert or "
		          "VAULT_CACERT)"
		        : "");
		goto out;
	}
	kc->easy_getinfo(vc->curl, CURLINFO_RESPONSE_CODE, &vc->http_status);
	if (vc->http_status >= 200 && vc->http_status < 300) {
		*out = resp;
		resp = NULL;
		r = KQ_OK;
		goto out;
	}
	msg[0] = '\0';
	vault_parse_errors((const char *)kq_sbuf_ptr(resp), kq_sbuf_len(resp),
	    msg, sizeof(msg));
	r = vault_map_error(vc->http_status, msg);
	/* The server's words, labelled as the server's: a nonce in them is
	 * the server's nonce, never one we sent. */
	cer_detail(vc->detail, "%s %s: HTTP %ld%s%s", method, path,
	    vc->http_status, msg[0] ? ", server says: " : "", msg);
out:
	if (vc->curl != NULL) {
		/* Drop our pointers (body, headers) from the handle. */
		kc->easy_setopt(vc->curl, CURLOPT_POSTFIELDS, NULL);
		kc->easy_setopt(vc->curl, CURLOPT_HTTPHEADER, NULL);
	}
	kc->slist_free_all(h);
	kq_sbuf_free(resp);
	free(url);
	return r;
}
