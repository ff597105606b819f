/*
 * keyquorum: the Vault client's private parts (vault.c, vault_ops.c).
 */
#ifndef KQ_CEREMONY_VAULT_INT_H
#define KQ_CEREMONY_VAULT_INT_H

#include <stddef.h>

#include <curl/curl.h>

#include "ceremony/ceremony.h"

struct kq_sbuf;

struct vault_client {
	CURL *curl;
	char *address; /* https://host:port, no trailing slash */
	char *ca_cert, *ca_path, *client_cert, *client_key, *namespace;
	char *token; /* secure memory, NUL-terminated, or NULL */
	long timeout_s, connect_timeout_s;
	enum vault_flavor flavor;
	int gr_auth; /* generate-root through the authenticated variant */
	long http_status;
	unsigned tls_ctx_calls; /* times on_ssl_ctx ran */
	int tls_cleanse; /* the last SSL_CTX had SSL_OP_CLEANSE_PLAINTEXT */
	int tls_alert; /* fatal TLS alert from the server, -1: none */
	char detail[CEREMONY_DETAIL_MAX];
	char errbuf[CURL_ERROR_SIZE];
};

/*
 * One request: method "GET"/"PUT"/"DELETE", path under /v1/, body (may be
 * NULL; sent from the caller's buffer, not copied), auth adds the token.
 * KQ_OK with *out the (secure) response body of a 2xx; otherwise the
 * mapped error with vc->detail set.
 */
int vault_request(struct vault_client *vc, const char *method, const char *path,
    const char *body, size_t body_len, int auth, struct kq_sbuf **out);

#endif
