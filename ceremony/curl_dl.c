/* keyquorum: loading libcurl on first use (see curl_dl.h for why). */
#include "ceremony/curl_dl.h"

#include <pthread.h>
#include <stddef.h>

#include "ceremony/ceremony.h"
#include "ceremony/cer_int.h"
#include "common/dl.h"

#define KQ_LIBCURL "libcurl.so.4"

static struct kq_curl kq_curl_fns;
static const struct kq_curl *kq_curl_loaded;
static char kq_curl_why[CEREMONY_DETAIL_MAX];
static pthread_once_t kq_curl_once = PTHREAD_ONCE_INIT;

static void
kq_curl_load(void)
{
	struct kq_curl *f = &kq_curl_fns;
	const struct kq_dl_sym syms[] = {
	    {"curl_global_init_mem", KQ_DL_SLOT(f->global_init_mem)},
	    {"curl_version_info", KQ_DL_SLOT(f->version_info)},
	    {"curl_easy_init", KQ_DL_SLOT(f->easy_init)},
	    {"curl_easy_cleanup", KQ_DL_SLOT(f->easy_cleanup)},
	    {"curl_easy_setopt", KQ_DL_SLOT(f->easy_setopt)},
	    {"curl_easy_perform", KQ_DL_SLOT(f->easy_perform)},
	    {"curl_easy_reset", KQ_DL_SLOT(f->easy_reset)},
	    {"curl_easy_strerror", KQ_DL_SLOT(f->easy_strerror)},
	    {"curl_easy_getinfo", KQ_DL_SLOT(f->easy_getinfo)},
	    {"curl_slist_append", KQ_DL_SLOT(f->slist_append)},
	    {"curl_slist_free_all", KQ_DL_SLOT(f->slist_free_all)},
	};
	char why[KQ_DL_DETAIL_MAX];

	/* Never dlclose: curl's global state lives until exit. */
	if (kq_dl_load(KQ_LIBCURL, syms, sizeof(syms) / sizeof(syms[0]), why) ==
	    NULL) {
		cer_detail(kq_curl_why, "%s: install libcurl4", why);
		return;
	}
	kq_curl_loaded = &kq_curl_fns;
}

const struct kq_curl *
kq_curl_get(char *detail)
{
	(void)pthread_once(&kq_curl_once, kq_curl_load);
	if (kq_curl_loaded == NULL && detail != NULL)
		cer_detail(detail, "%s", kq_curl_why);
	return kq_curl_loaded;
}
