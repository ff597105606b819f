/*
 * keyquorum: libcurl, loaded when the first Vault client is made.
 *
 * libcurl (OpenSSL flavour) pulls in some 27 further shared libraries
 * (GnuTLS through LDAP and RTMP, Kerberos, SASL, nghttp2 ...).  Linking it
 * into the binary would make every offline verb pay for mapping and
 * relocating them: about 8 ms, six times /bin/true.  Only the ceremonies
 * talk to Vault, so they alone load it, through this table.
 * Private to ceremony/.
 */
#ifndef KQ_CEREMONY_CURL_DL_H
#define KQ_CEREMONY_CURL_DL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

struct kq_curl {
	CURLcode (*global_init_mem)(long, curl_malloc_callback,
	    curl_free_callback, curl_realloc_callback, curl_strdup_callback,
	    curl_calloc_callback);
	curl_version_info_data *(*version_info)(CURLversion);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	void (*easy_reset)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};

/*
 * The loaded library's functions (libcurl.so.4 from the system's library
 * path), or NULL when it cannot be loaded; detail (CEREMONY_DETAIL_MAX,
 * may be NULL) then says why.  Thread-safe; loads once.
 */
const struct kq_curl *kq_curl_get(char *detail);

#endif
