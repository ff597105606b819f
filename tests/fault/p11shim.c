/*
 * libkqfault.so: a PKCS#11 fault-injection shim for tests.
 *
 * It is a PKCS#11 module whose C_GetFunctionList hands out a table of
 * wrappers.  Every wrapper forwards to a real module (SoftHSM, OpenSC ...)
 * unless a fault rule fires, counts the calls (in all and per function)
 * and logs each one: sequence number, function, per-function count and
 * result.  Never an argument: no PIN, no key, no data reaches the log.
 *
 * Configuration (environment, or KQ_FAULT_CONFIG naming a file of
 * "key = value" lines with the keys module, fault and log; the environment
 * wins over the file):
 *
 *   KQ_FAULT_MODULE  path of the real module (required)
 *   KQ_FAULT         rules, comma-separated: FUNC:CKR:N[:MODE]
 *                      FUNC  C_Decrypt ..., or * for any function
 *                      CKR   CKR_DEVICE_REMOVED ..., or a number (0x30);
 *                            or SIGINT / SIGTERM: the process gets that
 *                            signal as the call starts, and the call
 *                            then reaches the module as usual
 *                      N     the Nth call of FUNC (of any function for *),
 *                            counted from 1 over the life of the process
 *                      MODE  once    (default) only that call fails
 *                            sticky  that call and every later one of FUNC
 *                            gone    that call fails, and from then on the
 *                                    device is gone: every slot or token
 *                                    call returns CKR_DEVICE_REMOVED, every
 *                                    session call CKR_SESSION_HANDLE_INVALID
 *                                    (close, logout and find-final still
 *                                    reach the real module so that it
 *                                    frees its state); library calls
 *                                    (C_Initialize, C_Finalize, C_GetInfo)
 *                                    still work
 *   KQ_FAULT_LOG     append one line per call to this file:
 *                      SEQ FUNC NTH RESULT [TAG]
 *                    TAG: injected, gone, signalled, or for C_Login in
 *                    PIN-pad mode pinpad (no PIN from the host: the pad's
 *                    PIN was used) or host-pin (the host sent a PIN)
 *
 * Reader simulation (keys pinpad and token_flags in the file):
 *
 *   KQ_FAULT_PINPAD  the token sits in a reader with a PIN pad: every
 *                    C_GetTokenInfo reports CKF_PROTECTED_AUTHENTICATION_PATH,
 *                    and a user C_Login without a PIN (the protected path)
 *                    is forwarded with the PIN "typed on the pad": the
 *                    first line of this file, read at that moment (a test
 *                    changes it between calls).  A missing file is the
 *                    holder cancelling on the pad: CKR_FUNCTION_CANCELED.
 *   KQ_FAULT_TOKEN_FLAGS  names OR'ed into every C_GetTokenInfo's flags,
 *                    separated by |: CKF_USER_PIN_COUNT_LOW,
 *                    CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED (a token
 *                    whose PIN tries are running out, without spending
 *                    any)
 *
 * A faulted call does not reach the real module (except the clean-ups
 * above in the gone state).  The shim is linked with -z nodelete so that
 * its counters live as long as the process even when the caller unloads
 * and reloads it; the real module is loaded once and never unloaded.
 * C_GetFunctionList counts as a call (a fault there is "the module cannot
 * be loaded").  A configuration error makes C_GetFunctionList fail with
 * CKR_GENERAL_ERROR after one line on standard error: a test must never
 * run without the faults it asked for.
 */
#define CRYPTOKI_COMPAT 1
#include <p11-kit/pkcs11.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fault/p11funcs.h"

enum kqf_fn {
#define KQF_X_ENUM(name, kind, params, args) F_##name,
	P11_FUNCS(KQF_X_ENUM)
#undef KQF_X_ENUM
	F_C_GetFunctionList,
	F_COUNT,
	F_ANY = -1,
};

static const char *const kqf_names[F_COUNT] = {
#define KQF_X_NAME(name, kind, params, args) [F_##name] = #name,
    P11_FUNCS(KQF_X_NAME)
#undef KQF_X_NAME
        [F_C_GetFunctionList] = "C_GetFunctionList",
};

#define KQF_R(x)                                                               \
	{                                                                      \
		x, #x                                                          \
	}
static const struct {
	CK_RV rv;
	const char *name;
} kqf_ckr[] = {
    KQF_R(CKR_OK),
    KQF_R(CKR_CANCEL),
    KQF_R(CKR_HOST_MEMORY),
    KQF_R(CKR_SLOT_ID_INVALID),
    KQF_R(CKR_GENERAL_ERROR),
    KQF_R(CKR_FUNCTION_FAILED),
    KQF_R(CKR_ARGUMENTS_BAD),
    KQF_R(CKR_NO_EVENT),
    KQF_R(CKR_NEED_TO_CREATE_THREADS),
    KQF_R(CKR_CANT_LOCK),
    KQF_R(CKR_ATTRIBUTE_READ_ONLY),
    KQF_R(CKR_ATTRIBUTE_SENSITIVE),
    KQF_R(CKR_ATTRIBUTE_TYPE_INVALID),
    KQF_R(CKR_ATTRIBUTE_VALUE_INVALID),
    KQF_R(CKR_ACTION_PROHIBITED),
    KQF_R(CKR_DATA_INVALID),
    KQF_R(CKR_DATA_LEN_RANGE),
    KQF_R(CKR_DEVICE_ERROR),
    KQF_R(CKR_DEVICE_MEMORY),
    KQF_R(CKR_DEVICE_REMOVED),
    KQF_R(CKR_ENCRYPTED_DATA_INVALID),
    KQF_R(CKR_ENCRYPTED_DATA_LEN_RANGE),
    KQF_R(CKR_FUNCTION_CANCELED),
    KQF_R(CKR_FUNCTION_NOT_PARALLEL),
    KQF_R(CKR_FUNCTION_NOT_SUPPORTED),
    KQF_R(CKR_KEY_HANDLE_INVALID),
    KQF_R(CKR_KEY_SIZE_RANGE),
    KQF_R(CKR_KEY_TYPE_INCONSISTENT),
    KQF_R(CKR_KEY_NOT_NEEDED),
    KQF_R(CKR_KEY_CHANGED),
    KQF_R(CKR_KEY_NEEDED),
    KQF_R(CKR_KEY_INDIGESTIBLE),
    KQF_R(CKR_KEY_FUNCTION_NOT_PERMITTED),
    KQF_R(CKR_KEY_NOT_WRAPPABLE),
    KQF_R(CKR_KEY_UNEXTRACTABLE),
    KQF_R(CKR_MECHANISM_INVALID),
    KQF_R(CKR_MECHANISM_PARAM_INVALID),
    KQF_R(CKR_OBJECT_HANDLE_INVALID),
    KQF_R(CKR_OPERATION_ACTIVE),
    KQF_R(CKR_OPERATION_NOT_INITIALIZED),
    KQF_R(CKR_PIN_INCORRECT),
    KQF_R(CKR_PIN_INVALID),
    KQF_R(CKR_PIN_LEN_RANGE),
    KQF_R(CKR_PIN_EXPIRED),
    KQF_R(CKR_PIN_LOCKED),
    KQF_R(CKR_SESSION_CLOSED),
    KQF_R(CKR_SESSION_COUNT),
    KQF_R(CKR_SESSION_HANDLE_INVALID),
    KQF_R(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
    KQF_R(CKR_SESSION_READ_ONLY),
    KQF_R(CKR_SESSION_EXISTS),
    KQF_R(CKR_SESSION_READ_ONLY_EXISTS),
    KQF_R(CKR_SESSION_READ_WRITE_SO_EXISTS),
    KQF_R(CKR_SIGNATURE_INVALID),
    KQF_R(CKR_SIGNATURE_LEN_RANGE),
    KQF_R(CKR_TEMPLATE_INCOMPLETE),
    KQF_R(CKR_TEMPLATE_INCONSISTENT),
    KQF_R(CKR_TOKEN_NOT_PRESENT),
    KQF_R(CKR_TOKEN_NOT_RECOGNIZED),
    KQF_R(CKR_TOKEN_WRITE_PROTECTED),
    KQF_R(CKR_UNWRAPPING_KEY_SIZE_RANGE),
    KQF_R(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT),
    KQF_R(CKR_USER_ALREADY_LOGGED_IN),
    KQF_R(CKR_USER_NOT_LOGGED_IN),
    KQF_R(CKR_USER_PIN_NOT_INITIALIZED),
    KQF_R(CKR_USER_TYPE_INVALID),
    KQF_R(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
    KQF_R(CKR_USER_TOO_MANY_TYPES),
    KQF_R(CKR_WRAPPED_KEY_INVALID),
    KQF_R(CKR_WRAPPED_KEY_LEN_RANGE),
    KQF_R(CKR_WRAPPING_KEY_HANDLE_INVALID),
    KQF_R(CKR_WRAPPING_KEY_SIZE_RANGE),
    KQF_R(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
    KQF_R(CKR_RANDOM_SEED_NOT_SUPPORTED),
    KQF_R(CKR_RANDOM_NO_RNG),
    KQF_R(CKR_DOMAIN_PARAMS_INVALID),
    KQF_R(CKR_CURVE_NOT_SUPPORTED),
    KQF_R(CKR_BUFFER_TOO_SMALL),
    KQF_R(CKR_SAVED_STATE_INVALID),
    KQF_R(CKR_INFORMATION_SENSITIVE),
    KQF_R(CKR_STATE_UNSAVEABLE),
    KQF_R(CKR_CRYPTOKI_NOT_INITIALIZED),
    KQF_R(CKR_CRYPTOKI_ALREADY_INITIALIZED),
    KQF_R(CKR_MUTEX_BAD),
    KQF_R(CKR_MUTEX_NOT_LOCKED),
    KQF_R(CKR_NEW_PIN_MODE),
    KQF_R(CKR_NEXT_OTP),
    KQF_R(CKR_EXCEEDED_MAX_ITERATIONS),
    KQF_R(CKR_FIPS_SELF_TEST_FAILED),
    KQF_R(CKR_LIBRARY_LOAD_FAILED),
    KQF_R(CKR_PIN_TOO_WEAK),
    KQF_R(CKR_PUBLIC_KEY_INVALID),
    KQF_R(CKR_FUNCTION_REJECTED),
};
#undef KQF_R

enum kqf_mode {
	KQF_ONCE,
	KQF_STICKY,
	KQF_GONE,
};

struct kqf_rule {
	int fn; /* enum kqf_fn or F_ANY */
	CK_RV rv;
	int sig; /* SIGINT or SIGTERM: send it, then forward the call */
	unsigned long n;
	enum kqf_mode mode;
	int fired;
};

#define KQF_MAX_RULES 32

/* What call_begin decided. */
enum kqf_act {
	KQF_FORWARD, /* call the real module, return its result */
	KQF_FAIL, /* do not call it, return the fault */
	KQF_FREE, /* call it (to free its state), return the fault */
};

struct kqf_call {
	int fn;
	unsigned long seq, nth;
	CK_RV rv;
	const char *tag; /* NULL, "injected", "gone" or "signalled" */
};

/*
 * The shim's state.  A test shim is the one place with mutable globals:
 * the PKCS#11 entry points carry no context.  Guarded by kqf_lock after
 * kqf_once has run.
 */
static pthread_once_t kqf_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t kqf_lock = PTHREAD_MUTEX_INITIALIZER;
static char kqf_error[256]; /* a configuration error, or "" */
static CK_FUNCTION_LIST *kqf_real;
static struct kqf_rule kqf_rules[KQF_MAX_RULES];
static size_t kqf_nrules;
static int kqf_log_fd = -1;
static unsigned long kqf_total;
static unsigned long kqf_counts[F_COUNT];
static int kqf_gone;
/* Reader simulation: the pad's PIN file, extra token flags. */
static char *kqf_pad_file;
static CK_FLAGS kqf_extra_flags;
static CK_FUNCTION_LIST kqf_fwd_list; /* kqf_real, pad functions over it */
static CK_FUNCTION_LIST *kqf_fwd; /* where wrappers forward */
static __thread const char *kqf_note; /* a tag the forwarded call set */

static const char *
ckr_name(CK_RV rv, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(kqf_ckr) / sizeof(kqf_ckr[0]); i++)
		if (kqf_ckr[i].rv == rv)
			return kqf_ckr[i].name;
	snprintf(buf, len, "CKR_0x%lx", (unsigned long)rv);
	return buf;
}

static int
ckr_parse(const char *s, CK_RV *out)
{
	size_t i;
	char *end;
	unsigned long v;

	for (i = 0; i < sizeof(kqf_ckr) / sizeof(kqf_ckr[0]); i++) {
		if (strcmp(kqf_ckr[i].name, s) == 0) {
			*out = kqf_ckr[i].rv;
			return 0;
		}
	}
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static void
trim(char **s)
{
	char *e;

	while (**s == ' ' || **s == '\t')
		(*s)++;
	e = *s + strlen(*s);
	while (e > *s &&
	    (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
}

/* One rule, FUNC:CKR:N[:MODE], into kqf_rules; -1 on error. */
static int
rule_parse(char *s)
{
	char *f[4] = {NULL, NULL, NULL, NULL}, *save = NULL, *end, *tok;
	struct kqf_rule *r;
	size_t i, nf = 0;
	int fn = -2;

	for (tok = strtok_r(s, ":", &save); tok != NULL;
	     tok = strtok_r(NULL, ":", &save)) {
		if (nf == 4)
			return -1;
		f[nf++] = tok;
	}
	if (nf < 3 || kqf_nrules == KQF_MAX_RULES)
		return -1;
	for (i = 0; i < nf; i++)
		trim(&f[i]);
	r = &kqf_rules[kqf_nrules];
	if (strcmp(f[0], "*") == 0)
		fn = F_ANY;
	for (i = 0; i < F_COUNT && fn == -2; i++)
		if (strcmp(kqf_names[i], f[0]) == 0)
			fn = (int)i;
	r->sig = 0;
	if (strcmp(f[1], "SIGINT") == 0)
		r->sig = SIGINT;
	else if (strcmp(f[1], "SIGTERM") == 0)
		r->sig = SIGTERM;
	if (fn == -2 || (r->sig == 0 && ckr_parse(f[1], &r->rv) != 0))
		return -1;
	r->fn = fn;
	errno = 0;
	r->n = strtoul(f[2], &end, 10);
	if (errno != 0 || end == f[2] || *end != '\0' || r->n == 0)
		return -1;
	if (nf < 4 || strcmp(f[3], "once") == 0)
		r->mode = KQF_ONCE;
	else if (strcmp(f[3], "sticky") == 0)
		r->mode = KQF_STICKY;
	else if (strcmp(f[3], "gone") == 0)
		r->mode = KQF_GONE;
	else
		return -1;
	kqf_nrules++;
	return 0;
}

static int
rules_parse(const char *spec)
{
	char *copy, *one, *save = NULL;
	int r = 0;

	if ((copy = strdup(spec)) == NULL)
		return -1;
	for (one = strtok_r(copy, ",", &save); one != NULL && r == 0;
	     one = strtok_r(NULL, ",", &save)) {
		char *t = one;

		trim(&t);
		if (*t != '\0' && rule_parse(t) != 0) {
			snprintf(kqf_error, sizeof(kqf_error),
			    "bad rule \"%.100s\" (FUNC:CKR:N[:once|sticky|gone])",
			    t);
			r = -1;
		}
	}
	free(copy);
	return r;
}

/* Read KQ_FAULT_CONFIG's "key = value" lines into the three settings. */
static int
config_read(const char *path, char **module, char **fault, char **log,
    char **pad, char **flags)
{
	FILE *fp;
	char line[1024];
	int r = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(
		    kqf_error, sizeof(kqf_error), "cannot open %.200s", path);
		return -1;
	}
	while (r == 0 && fgets(line, sizeof(line), fp) != NULL) {
		char *k = line, *v = strchr(line, '='), **slot = NULL;

		trim(&k);
		if (*k == '#' || *k == '\0')
			continue;
		if (v == NULL) {
			r = -1;
			break;
		}
		*v++ = '\0';
		trim(&k);
		trim(&v);
		if (strcmp(k, "module") == 0)
			slot = module;
		else if (strcmp(k, "fault") == 0)
			slot = fault;
		else if (strcmp(k, "log") == 0)
			slot = log;
		else if (strcmp(k, "pinpad") == 0)
			slot = pad;
		else if (strcmp(k, "token_flags") == 0)
			slot = flags;
		else
			r = -1;
		if (slot != NULL) {
			free(*slot);
			if ((*slot = strdup(v)) == NULL)
				r = -1;
		}
	}
	fclose(fp);
	if (r != 0)
		snprintf(kqf_error, sizeof(kqf_error),
		    "%.200s: lines are "
		    "module|fault|log|pinpad|token_flags = VALUE",
		    path);
	return r;
}

static void
setting(char **slot, const char *env)
{
	const char *v = getenv(env);

	if (v != NULL && *v != '\0') {
		free(*slot);
		*slot = strdup(v);
	}
}

/* token_flags: NAME|NAME... into kqf_extra_flags; -1 on error. */
static int
flags_parse(const char *spec)
{
	static const struct {
		const char *name;
		CK_FLAGS f;
	} names[] = {
	    {"CKF_USER_PIN_COUNT_LOW", CKF_USER_PIN_COUNT_LOW},
	    {"CKF_USER_PIN_FINAL_TRY", CKF_USER_PIN_FINAL_TRY},
	    {"CKF_USER_PIN_LOCKED", CKF_USER_PIN_LOCKED},
	};
	char *copy, *one, *save = NULL;
	size_t i;
	int r = 0;

	if ((copy = strdup(spec)) == NULL)
		return -1;
	for (one = strtok_r(copy, "|", &save); one != NULL && r == 0;
	     one = strtok_r(NULL, "|", &save)) {
		char *t = one;

		trim(&t);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(t, names[i].name) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0])) {
			snprintf(kqf_error, sizeof(kqf_error),
			    "bad token flag \"%.100s\"", t);
			r = -1;
		} else
			kqf_extra_flags |= names[i].f;
	}
	free(copy);
	return r;
}

static CK_RV
pad_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR ti)
{
	CK_RV rv = kqf_real->C_GetTokenInfo(slot, ti);

	if (rv == CKR_OK && ti != NULL) {
		if (kqf_pad_file != NULL)
			ti->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
		ti->flags |= kqf_extra_flags;
	}
	return rv;
}

/*
 * The protected path: the PIN comes from the pad (the file), never from
 * the host.  It is held on the stack only for the forwarded call and
 * wiped.  A PIN the host sends is forwarded as it is (readers with a pad
 * still accept one) and tagged so that a test can tell.
 */
static CK_RV
pad_Login(
    CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	unsigned char typed[256];
	ssize_t n;
	CK_RV rv;
	int fd;

	if (kqf_pad_file == NULL)
		return kqf_real->C_Login(h, user, pin, len);
	if (pin != NULL) {
		kqf_note = "host-pin";
		return kqf_real->C_Login(h, user, pin, len);
	}
	kqf_note = "pinpad";
	if ((fd = open(kqf_pad_file, O_RDONLY | O_CLOEXEC)) < 0)
		return CKR_FUNCTION_CANCELED;
	n = read(fd, typed, sizeof(typed));
	close(fd);
	if (n < 0)
		n = 0;
	while (n > 0 && (typed[n - 1] == '\n' || typed[n - 1] == '\r'))
		n--;
	rv = kqf_real->C_Login(h, user, typed, (CK_ULONG)n);
	explicit_bzero(typed, sizeof(typed));
	return rv;
}

static void
kqf_init(void)
{
	char *module = NULL, *fault = NULL, *log = NULL, *flags = NULL;
	const char *cfg = getenv("KQ_FAULT_CONFIG");
	CK_C_GetFunctionList gfl;
	void *dl;

	if (cfg != NULL && *cfg != '\0' &&
	    config_read(cfg, &module, &fault, &log, &kqf_pad_file, &flags) != 0)
		goto out;
	setting(&module, "KQ_FAULT_MODULE");
	setting(&fault, "KQ_FAULT");
	setting(&log, "KQ_FAULT_LOG");
	setting(&kqf_pad_file, "KQ_FAULT_PINPAD");
	setting(&flags, "KQ_FAULT_TOKEN_FLAGS");
	if (fault != NULL && rules_parse(fault) != 0)
		goto out;
	if (flags != NULL && flags_parse(flags) != 0)
		goto out;
	if (log != NULL &&
	    (kqf_log_fd = open(
	         log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		snprintf(kqf_error, sizeof(kqf_error), "cannot open log %.200s",
		    log);
		goto out;
	}
	if (module == NULL) {
		snprintf(kqf_error, sizeof(kqf_error),
		    "no real module: set KQ_FAULT_MODULE or KQ_FAULT_CONFIG");
		goto out;
	}
	/* Loaded once, never unloaded. */
	if ((dl = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(kqf_error, sizeof(kqf_error), "%.240s", dlerror());
		goto out;
	}
	gfl = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
	if (gfl == NULL || gfl(&kqf_real) != CKR_OK || kqf_real == NULL) {
		kqf_real = NULL;
		snprintf(kqf_error, sizeof(kqf_error),
		    "%.200s: no usable C_GetFunctionList", module);
		goto out;
	}
	kqf_fwd_list = *kqf_real;
	kqf_fwd_list.C_GetTokenInfo = pad_GetTokenInfo;
	kqf_fwd_list.C_Login = pad_Login;
	kqf_fwd = &kqf_fwd_list;
out:
	free(module);
	free(fault);
	free(log);
	free(flags);
}

/* Count the call and decide its fate. */
static enum kqf_act
call_begin(struct kqf_call *c, int fn, enum p11f_kind kind)
{
	enum kqf_act act = KQF_FORWARD;
	size_t i;
	int sig = 0;

	c->fn = fn;
	c->tag = NULL;
	c->rv = CKR_OK;
	pthread_mutex_lock(&kqf_lock);
	c->seq = ++kqf_total;
	c->nth = ++kqf_counts[fn];
	if (kqf_gone && kind != P11F_LIB) {
		c->rv = kind == P11F_SESS || kind == P11F_SESS_FREE
		    ? CKR_SESSION_HANDLE_INVALID
		    : CKR_DEVICE_REMOVED;
		c->tag = "gone";
		act = kind == P11F_SESS_FREE || kind == P11F_SLOT_FREE
		    ? KQF_FREE
		    : KQF_FAIL;
		goto out;
	}
	for (i = 0; i < kqf_nrules; i++) {
		struct kqf_rule *r = &kqf_rules[i];
		int hit;

		if (r->fn == F_ANY)
			hit = c->seq == r->n ||
			    (r->mode == KQF_STICKY && r->fired);
		else
			hit = r->fn == fn &&
			    (c->nth == r->n ||
			        (r->mode == KQF_STICKY && r->fired));
		if (!hit)
			continue;
		r->fired = 1;
		if (r->sig != 0) {
			/* The signal arrives as the call starts; the call runs. */
			sig = r->sig;
			c->tag = "signalled";
			break;
		}
		c->rv = r->rv;
		c->tag = "injected";
		if (r->mode == KQF_GONE)
			kqf_gone = 1;
		act = KQF_FAIL;
		break;
	}
out:
	pthread_mutex_unlock(&kqf_lock);
	if (sig != 0)
		(void)kill(getpid(), sig);
	return act;
}

/* One log line, written whole (O_APPEND): never an argument. */
static void
call_end(const struct kqf_call *c)
{
	char line[160], buf[32];
	const char *tag = c->tag;
	int n;

	if (c->tag == NULL && kqf_note != NULL)
		tag = kqf_note;
	kqf_note = NULL;
	if (kqf_log_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%lu %s %lu %s%s%s\n", c->seq,
	    kqf_names[c->fn], c->nth, ckr_name(c->rv, buf, sizeof(buf)),
	    tag != NULL ? " " : "", tag != NULL ? tag : "");
	if (n > 0 && (size_t)n < sizeof(line))
		(void)!write(kqf_log_fd, line, (size_t)n);
}

#define KQF_X_WRAP(name, kind, params, args)                                   \
	static CK_RV w_##name params                                           \
	{                                                                      \
		struct kqf_call kqf_c;                                         \
		enum kqf_act kqf_a = call_begin(&kqf_c, F_##name, kind);       \
		CK_RV kqf_r;                                                   \
                                                                               \
		if (kqf_a != KQF_FAIL) {                                       \
			kqf_r = kqf_fwd->name != NULL                          \
			    ? kqf_fwd->name args                               \
			    : CKR_FUNCTION_NOT_SUPPORTED;                      \
			if (kqf_a == KQF_FORWARD)                              \
				kqf_c.rv = kqf_r;                              \
		}                                                              \
		call_end(&kqf_c);                                              \
		return kqf_c.rv;                                               \
	}
P11_FUNCS(KQF_X_WRAP)
#undef KQF_X_WRAP

static CK_FUNCTION_LIST kqf_list = {
    .version = {2, 40},
#define KQF_X_SLOT(name, kind, params, args) .name = w_##name,
    P11_FUNCS(KQF_X_SLOT)
#undef KQF_X_SLOT
        .C_GetFunctionList = C_GetFunctionList,
};

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	struct kqf_call c;

	pthread_once(&kqf_once, kqf_init);
	if (kqf_error[0] != '\0' || kqf_real == NULL) {
		fprintf(stderr, "libkqfault: %s\n",
		    kqf_error[0] != '\0' ? kqf_error : "not configured");
		return CKR_GENERAL_ERROR;
	}
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	if (call_begin(&c, F_C_GetFunctionList, P11F_LIB) == KQF_FORWARD) {
		*list = &kqf_list;
		c.rv = CKR_OK;
	}
	call_end(&c);
	return c.rv;
}
