/* keyquorum: loading a shared library at run time (see dl.h). */
#include "common/dl.h"

#include <dlfcn.h>
#include <stdio.h>

void *
kq_dl_load(
    const char *lib, const struct kq_dl_sym *syms, size_t n, char *detail)
{
	const char *err;
	void *h, *r = NULL;
	size_t i;

	(void)dlerror();
	if ((h = dlopen(lib, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		if (detail != NULL)
			snprintf(detail, KQ_DL_DETAIL_MAX,
			    "cannot load %s (%s)", lib,
			    err != NULL ? err : "not found");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((*syms[i].slot = dlsym(h, syms[i].name)) == NULL) {
			if (detail != NULL)
				snprintf(detail, KQ_DL_DETAIL_MAX,
				    "%s lacks the function %s", lib,
				    syms[i].name);
			goto out;
		}
	}
	r = h;
	h = NULL;
out:
	if (r == NULL) {
		for (i = 0; i < n; i++)
			*syms[i].slot = NULL;
	}
	if (h != NULL)
		dlclose(h);
	return r;
}
