/*
 * libkqtime.so: a PKCS#11 pass-through module that times every call, for
 * bench/ceremony.sh (it splits a ceremony's time into the token's part and
 * the rest).
 *
 * Its C_GetFunctionList loads the real module named by KQ_TIME_MODULE and
 * hands out a table of wrappers, one for each of the 67 functions of the
 * PKCS#11 2.40 list (tests/fault/p11funcs.h, the list the fault shim
 * wraps too, so no function reaches the real module untimed).  A wrapper reads CLOCK_REALTIME before
 * and after forwarding the call and keeps one record in memory: start,
 * duration, function, result.  Loading the real module (dlopen and its
 * C_GetFunctionList) is recorded as "load".  The records go to the file
 * KQ_TIME_LOG (appended; nothing is written when unset) after C_Finalize
 * and at exit, one line each:
 *
 *   P11TIME <start, ns since the epoch> <duration ns> <function> <rv hex>
 *
 * Never an argument, so no PIN or key material reaches the log.  Keeping
 * the records in memory costs two clock reads per call, which is the
 * shim's whole overhead (tens of nanoseconds against calls of
 * microseconds to milliseconds).  Linked with -z nodelete: the records
 * survive the caller unloading the module.
 */
#define CRYPTOKI_COMPAT 1
#include <p11-kit/pkcs11.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/fault/p11funcs.h"

enum kqt_fn {
#define KQT_ENUM(name, k, p, a) F_##name,
	P11_FUNCS(KQT_ENUM)
#undef KQT_ENUM
	F_load,
	F_COUNT
};

static const char *const kqt_names[F_COUNT] = {
#define KQT_NAME(name, k, p, a) [F_##name] = #name,
    P11_FUNCS(KQT_NAME)
#undef KQT_NAME
        [F_load] = "load",
};

struct kqt_rec {
	int64_t start, dur;
	unsigned long rv;
	int fn;
};

#define KQT_MAX 65536

static struct kqt_rec kqt_recs[KQT_MAX];
static unsigned kqt_n;
static CK_FUNCTION_LIST *kqt_real;
static pthread_mutex_t kqt_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t
kqt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
kqt_record(int fn, int64_t t0, unsigned long rv)
{
	int64_t t1 = kqt_now();
	unsigned i = __atomic_fetch_add(&kqt_n, 1, __ATOMIC_RELAXED);

	if (i < KQT_MAX) {
		kqt_recs[i].start = t0;
		kqt_recs[i].dur = t1 - t0;
		kqt_recs[i].rv = rv;
		kqt_recs[i].fn = fn;
	}
}

/* Append the records to KQ_TIME_LOG and start again. */
static void
kqt_flush(void)
{
	const char *path = getenv("KQ_TIME_LOG");
	char line[128];
	unsigned i, n;
	int fd, len;

	pthread_mutex_lock(&kqt_lock);
	n = __atomic_exchange_n(&kqt_n, 0, __ATOMIC_RELAXED);
	if (n > KQT_MAX)
		n = KQT_MAX;
	if (path == NULL || n == 0)
		goto out;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) <
	    0)
		goto out;
	for (i = 0; i < n; i++) {
		len = snprintf(line, sizeof(line),
		    "P11TIME %lld %lld %s %#lx\n", (long long)kqt_recs[i].start,
		    (long long)kqt_recs[i].dur, kqt_names[kqt_recs[i].fn],
		    kqt_recs[i].rv);
		if (len > 0 && write(fd, line, (size_t)len) != len)
			break;
	}
	close(fd);
out:
	pthread_mutex_unlock(&kqt_lock);
}

__attribute__((destructor)) static void
kqt_fini(void)
{
	kqt_flush();
}

#define KQT_WRAP(name, kind, params, args)                                     \
	static CK_RV w_##name params                                           \
	{                                                                      \
		int64_t t0 = kqt_now();                                        \
		CK_RV rv = kqt_real->name args;                                \
                                                                               \
		kqt_record(F_##name, t0, rv);                                  \
		if (F_##name == F_C_Finalize)                                  \
			kqt_flush();                                           \
		return rv;                                                     \
	}
P11_FUNCS(KQT_WRAP)
#undef KQT_WRAP

static CK_FUNCTION_LIST kqt_list;

static CK_RV kqt_load_rv = CKR_GENERAL_ERROR;

static void
kqt_load(void)
{
	const char *path = getenv("KQ_TIME_MODULE");
	CK_RV (*gfl)(CK_FUNCTION_LIST **);
	int64_t t0 = kqt_now();
	void *dl;

	if (path == NULL) {
		fprintf(stderr, "libkqtime: KQ_TIME_MODULE is not set\n");
		return;
	}
	if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "libkqtime: %.200s\n", dlerror());
		return;
	}
	*(void **)&gfl = dlsym(dl, "C_GetFunctionList");
	if (gfl == NULL || gfl(&kqt_real) != CKR_OK || kqt_real == NULL) {
		fprintf(
		    stderr, "libkqtime: %.200s: no C_GetFunctionList\n", path);
		return;
	}
	kqt_list.version = kqt_real->version;
	kqt_list.C_GetFunctionList = C_GetFunctionList;
#define KQT_SET(name, k, p, a) kqt_list.name = w_##name;
	P11_FUNCS(KQT_SET)
#undef KQT_SET
	kqt_record(F_load, t0, CKR_OK);
	kqt_load_rv = CKR_OK;
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST **list)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_once(&once, kqt_load);
	if (kqt_load_rv != CKR_OK)
		return kqt_load_rv;
	*list = &kqt_list;
	return CKR_OK;
}
