/* keyquorum: error messages and exit statuses, generated from KQ_ERRORS. */
#include "common/err.h"

#include <stddef.h>

struct kq_errinfo {
	int code;
	int exitc;
	const char *name;
	const char *msg;
};

static const struct kq_errinfo kq_errtab[] = {
#define KQ_X_TAB(name, value, exitc, msg) {value, exitc, #name, msg},
    KQ_ERRORS(KQ_X_TAB)
#undef KQ_X_TAB
};

static const struct kq_errinfo *
kq_errlookup(int code)
{
	size_t i;

	for (i = 0; i < sizeof(kq_errtab) / sizeof(kq_errtab[0]); i++) {
		if (kq_errtab[i].code == code)
			return &kq_errtab[i];
	}
	return NULL;
}

const char *
kq_strerror(int code)
{
	const struct kq_errinfo *e;

	if (code == KQ_OK)
		return "success";
	if ((e = kq_errlookup(code)) == NULL)
		return "unknown error";
	return e->msg;
}

const char *
kq_errname(int code)
{
	const struct kq_errinfo *e;

	if (code == KQ_OK)
		return "KQ_OK";
	if ((e = kq_errlookup(code)) == NULL)
		return "KQ_ERR_UNKNOWN";
	return e->name;
}

int
kq_exit_status(int code)
{
	const struct kq_errinfo *e;

	if (code == KQ_OK)
		return KQ_EXIT_OK;
	if ((e = kq_errlookup(code)) == NULL)
		return KQ_EXIT_ERROR;
	return e->exitc;
}
