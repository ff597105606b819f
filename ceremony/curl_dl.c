/* keyquorum: loading libcurl on first use (see curl_dl.h for why). */
#include "ceremony/curl_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#include "ceremony/ceremony.h"
#include "ceremony/cer_int.h"

#define KQ_LIBCURL "libcurl.so.4"

static struct kq_curl kq_curl_fns;
static const struct kq_curl *kq_curl_loaded;
static char kq_curl_why[CEREMONY_DETAIL_MAX];
static pthread_once_t kq_curl_once = PTHREAD_ONCE_INIT;

/* dlsym into a function pointer without the object/function cast warning. */
#define KQ_CURL_SYM(h, field, name)                                            \
	do {                                                                   \
		void *sym_ = dlsym(h, name);                                   \
		if (sym_ == NULL)                                              \
			goto missing;                                          \
		*(void **)(&kq_curl_fns.field) = sym_;                         \
		what = name;                                                   \
	} while (0)

static void
kq_curl_load(void)
{
	const char *what = "";
	const char *err;
	void *h;

	if ((h = dlopen(KQ_LIBCURL, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		cer_detail(kq_curl_why, "cannot load %s (%s): install libcurl4",
		    KQ_LIBCURL, err != NULL ? err : "not found");
		return;
	}
	KQ_CURL_SYM(h, global_init_mem, "curl_global_init_mem");
	KQ_CURL_SYM(h, version_info, "curl_version_info");
	KQ_CURL_SYM(h, easy_init, "curl_easy_init");
	KQ_CURL_SYM(h, easy_cleanup, "curl_easy_cleanup");
	KQ_CURL_SYM(h, easy_setopt, "curl_easy_setopt");
	KQ_CURL_SYM(h, easy_perform, "curl_easy_perform");
	KQ_CURL_SYM(h, easy_reset, "curl_easy_reset");
	KQ_CURL_SYM(h, easy_strerror, "curl_easy_strerror");
	KQ_CURL_SYM(h, easy_getinfo, "curl_easy_getinfo");
	KQ_CURL_SYM(h, slist_append, "curl_slist_append");
	KQ_CURL_SYM(h, slist_free_all, "curl_slist_free_all");
	/* Never dlclose: curl's global state lives until exit. */
	kq_curl_loaded = &kq_curl_fns;
	return;
missing:
	cer_detail(
	    kq_curl_why, "%s lacks a function after %s", KQ_LIBCURL, what);
	dlclose(h);
}

const struct kq_curl *
kq_curl_get(char *detail)
{
	(void)pthread_once(&kq_curl_once, kq_curl_load);
	if (kq_curl_loaded == NULL && detail != NULL)
		cer_detail(detail, "%s", kq_curl_why);
	return kq_curl_loaded;
}
