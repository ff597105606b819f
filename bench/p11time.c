/*
 * libkqtime.so: a PKCS#11 pass-through module that times every call, for
 * bench/ceremony.sh (it splits a ceremony's time into the token's part and
 * the rest).
 *
 * Its C_GetFunctionList loads the real module named by KQ_TIME_MODULE and
 * hands out a table of wrappers, one for each of the 67 functions of the
 * PKCS#11 2.40 list (the list follows <p11-kit/pkcs11.h>, so no function
 * reaches the real module untimed).  A wrapper reads CLOCK_REALTIME before
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
#define CRYPTOKI_GNU 1 /* the header's own lower-case names */
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

/* X(name, parameters, arguments): struct ck_function_list order. */
#define KQT_FUNCS(X)                                                           \
	X(C_Initialize, (void *init_args), (init_args))                        \
	X(C_Finalize, (void *reserved), (reserved))                            \
	X(C_GetInfo, (struct ck_info * info), (info))                          \
	X(C_GetSlotList,                                                       \
	    (unsigned char token_present, ck_slot_id_t *slot_list,             \
	        unsigned long *count),                                         \
	    (token_present, slot_list, count))                                 \
	X(C_GetSlotInfo, (ck_slot_id_t slot_id, struct ck_slot_info * info),   \
	    (slot_id, info))                                                   \
	X(C_GetTokenInfo, (ck_slot_id_t slot_id, struct ck_token_info * info), \
	    (slot_id, info))                                                   \
	X(C_GetMechanismList,                                                  \
	    (ck_slot_id_t slot_id, ck_mechanism_type_t * mechanism_list,       \
	        unsigned long *count),                                         \
	    (slot_id, mechanism_list, count))                                  \
	X(C_GetMechanismInfo,                                                  \
	    (ck_slot_id_t slot_id, ck_mechanism_type_t type,                   \
	        struct ck_mechanism_info * info),                              \
	    (slot_id, type, info))                                             \
	X(C_InitToken,                                                         \
	    (ck_slot_id_t slot_id, unsigned char *pin, unsigned long pin_len,  \
	        unsigned char *label),                                         \
	    (slot_id, pin, pin_len, label))                                    \
	X(C_InitPIN,                                                           \
	    (ck_session_handle_t session, unsigned char *pin,                  \
	        unsigned long pin_len),                                        \
	    (session, pin, pin_len))                                           \
	X(C_SetPIN,                                                            \
	    (ck_session_handle_t session, unsigned char *old_pin,              \
	        unsigned long old_len, unsigned char *new_pin,                 \
	        unsigned long new_len),                                        \
	    (session, old_pin, old_len, new_pin, new_len))                     \
	X(C_OpenSession,                                                       \
	    (ck_slot_id_t slot_id, ck_flags_t flags, void *application,        \
	        ck_notify_t notify, ck_session_handle_t *session),             \
	    (slot_id, flags, application, notify, session))                    \
	X(C_CloseSession, (ck_session_handle_t session), (session))            \
	X(C_CloseAllSessions, (ck_slot_id_t slot_id), (slot_id))               \
	X(C_GetSessionInfo,                                                    \
	    (ck_session_handle_t session, struct ck_session_info * info),      \
	    (session, info))                                                   \
	X(C_GetOperationState,                                                 \
	    (ck_session_handle_t session, unsigned char *operation_state,      \
	        unsigned long *operation_state_len),                           \
	    (session, operation_state, operation_state_len))                   \
	X(C_SetOperationState,                                                 \
	    (ck_session_handle_t session, unsigned char *operation_state,      \
	        unsigned long operation_state_len,                             \
	        ck_object_handle_t encryption_key,                             \
	        ck_object_handle_t authentiation_key),                         \
	    (session, operation_state, operation_state_len, encryption_key,    \
	        authentiation_key))                                            \
	X(C_Login,                                                             \
	    (ck_session_handle_t session, ck_user_type_t user_type,            \
	        unsigned char *pin, unsigned long pin_len),                    \
	    (session, user_type, pin, pin_len))                                \
	X(C_Logout, (ck_session_handle_t session), (session))                  \
	X(C_CreateObject,                                                      \
	    (ck_session_handle_t session, struct ck_attribute * templ,         \
	        unsigned long count, ck_object_handle_t *object),              \
	    (session, templ, count, object))                                   \
	X(C_CopyObject,                                                        \
	    (ck_session_handle_t session, ck_object_handle_t object,           \
	        struct ck_attribute * templ, unsigned long count,              \
	        ck_object_handle_t *new_object),                               \
	    (session, object, templ, count, new_object))                       \
	X(C_DestroyObject,                                                     \
	    (ck_session_handle_t session, ck_object_handle_t object),          \
	    (session, object))                                                 \
	X(C_GetObjectSize,                                                     \
	    (ck_session_handle_t session, ck_object_handle_t object,           \
	        unsigned long *size),                                          \
	    (session, object, size))                                           \
	X(C_GetAttributeValue,                                                 \
	    (ck_session_handle_t session, ck_object_handle_t object,           \
	        struct ck_attribute * templ, unsigned long count),             \
	    (session, object, templ, count))                                   \
	X(C_SetAttributeValue,                                                 \
	    (ck_session_handle_t session, ck_object_handle_t object,           \
	        struct ck_attribute * templ, unsigned long count),             \
	    (session, object, templ, count))                                   \
	X(C_FindObjectsInit,                                                   \
	    (ck_session_handle_t session, struct ck_attribute * templ,         \
	        unsigned long count),                                          \
	    (session, templ, count))                                           \
	X(C_FindObjects,                                                       \
	    (ck_session_handle_t session, ck_object_handle_t * object,         \
	        unsigned long max_object_count, unsigned long *object_count),  \
	    (session, object, max_object_count, object_count))                 \
	X(C_FindObjectsFinal, (ck_session_handle_t session), (session))        \
	X(C_EncryptInit,                                                       \
	    (ck_session_handle_t session, struct ck_mechanism * mechanism,     \
	        ck_object_handle_t key),                                       \
	    (session, mechanism, key))                                         \
	X(C_Encrypt,                                                           \
	    (ck_session_handle_t session, unsigned char *data,                 \
	        unsigned long data_len, unsigned char *encrypted_data,         \
	        unsigned long *encrypted_data_len),                            \
	    (session, data, data_len, encrypted_data, encrypted_data_len))     \
	X(C_EncryptUpdate,                                                     \
	    (ck_session_handle_t session, unsigned char *part,                 \
	        unsigned long part_len, unsigned char *encrypted_part,         \
	        unsigned long *encrypted_part_len),                            \
	    (session, part, part_len, encrypted_part, encrypted_part_len))     \
	X(C_EncryptFinal,                                                      \
	    (ck_session_handle_t session, unsigned char *last_encrypted_part,  \
	        unsigned long *last_encrypted_part_len),                       \
	    (session, last_encrypted_part, last_encrypted_part_len))           \
	X(C_DecryptInit,                                                       \
	    (ck_session_handle_t session, struct ck_mechanism * mechanism,     \
	        ck_object_handle_t key),                                       \
	    (session, mechanism, key))                                         \
	X(C_Decrypt,                                                           \
	    (ck_session_handle_t session, unsigned char *encrypted_data,       \
	        unsigned long encrypted_data_len, unsigned char *data,         \
	        unsigned long *data_len),                                      \
	    (session, encrypted_data, encrypted_data_len, data, data_len))     \
	X(C_DecryptUpdate,                                                     \
	    (ck_session_handle_t session, unsigned char *encrypted_part,       \
	        unsigned long encrypted_part_len, unsigned char *part,         \
	        unsigned long *part_len),                                      \
	    (session, encrypted_part, encrypted_part_len, part, part_len))     \
	X(C_DecryptFinal,                                                      \
	    (ck_session_handle_t session, unsigned char *last_part,            \
	        unsigned long *last_part_len),                                 \
	    (session, last_part, last_part_len))                               \
	X(C_DigestInit,                                                        \
	    (ck_session_handle_t session, struct ck_mechanism * mechanism),    \
	    (session, mechanism))                                              \
	X(C_Digest,                                                            \
	    (ck_session_handle_t session, unsigned char *data,                 \
	        unsigned long data_len, unsigned char *digest,                 \
	        unsigned long *digest_len),                                    \
	    (session, data, data_len, digest, digest_len))                     \
	X(C_DigestUpdate,                                                      \
	    (ck_session_handle_t session, unsigned char *part,                 \
	        unsigned long part_len),                                       \
	    (session, part, part_len))                                         \
	X(C_DigestKey, (ck_session_handle_t session, ck_object_handle_t key),  \
	    (session, key))                                                    \
	X(C_DigestFinal,                                                       \
	    (ck_session_handle_t session, unsigned char *digest,               \
	        unsigned long *digest_len),                                    \
	    (session, digest, digest_len))                                     \
	X(C_SignInit,                                                          \
	    (ck_session_handle_t session, struct ck_mechanism * mechanism,     \
	        ck_object_handle_t key),                                       \
	    (session, mechanism, key))                                         \
	X(C_Sign,                                                              \
	    (ck_session_handle_t session, unsigned char *data,                 \
	        unsigned long data_len, unsigned char *signature,              \
	        unsigned long *signature_len),                                 \
	    (session, data, data_len, signature, signature_len))               \
	X(C_SignUpdate,                                                        \
	    (ck_session_handle_t session, unsigned char *part,                 \
	        unsigned long part_len),                                       \
	    (session, part, part_len))                                         \
	X(C_SignFinal,                                                         \
	    (ck_session_handle_t session, unsigned char *signature,            \
	        unsigned long *signature_len),                                 \
	    (session, signature, signature_len))                               \
	X(C_SignRecoverInit,                                                   \
	    (ck_session_handle_t session, struct ck_mechanism * mechanism,     \
	        ck_object_handle_t key),                                       \
	    (session, mechanism, key))                                         \
	X(C_SignRecover,                                                       \
	    (ck_session_handle_t session, unsigned char *data,                 \
	        unsigned long data_len, unsigned char *signature,              \
	        unsigned long *signature_len),                                 \
	    (session, data, data_len, signature, signature_len))               \
	X(C_VerifyInit,                                                        \
	    (ck_session_handle_t session, struct ck_mechanism * mechanism,     \
	        ck_object_handle_t key),                                       \
	    (session, mechanism, key))                                         \
	X(C_Verify,                                                            \
	    (ck_session_handle_t session, unsigned char *data,                 \
	        unsigned long data_len, unsigned char *signature,              \
	        unsigned long signature_len),                                  \
	    (session, data, data_len, signature, signature_len))               \
	X(C_VerifyUpdate,                                                      \
	    (ck_session_handle_t session, unsigned char *part,                 \
	        unsigned long part_len),                                       \
	    (session, part, part_len))                                         \
	X(C_VerifyFinal,                                                       \
	    (ck_session_handle_t session, unsigned char *signature,            \
	        unsigned long signature_len),                                  \
	    (session, signature, signature_len))                               \
	X(C_VerifyRecoverInit,                                                 \
	    (ck_session_handle_t session, struct ck_mechanism * mechanism,     \
	        ck_object_handle_t key),                                       \
	    (session, mechanism, key))                                         \
	X(C_VerifyRecover,                                                     \
	    (ck_session_handle_t session, unsigned char *signature,            \
	        unsigned long signature_len, unsigned char *data,              \
	        unsigned long *data_len),                                      \
	    (session, signature, signature_len, data, data_len))               \
	X(C_DigestEncryptUpdate,                                               \
	    (ck_session_handle_t session, unsigned char *part,                 \
	        unsigned long part_len, unsigned char *encrypted_part,         \
	        unsigned long *encrypted_part_len),                            \
	    (session, part, part_len, encrypted_part, encrypted_part_len))     \
	X(C_DecryptDigestUpdate,                                               \
	    (ck_session_handle_t session, unsigned char *encrypted_part,       \
	        unsigned long encrypted_part_len, unsigned char *part,         \
	        unsigned long *part_len),                                      \
	    (session, encrypted_part, encrypted_part_len, part, part_len))     \
	X(C_SignEncryptUpdate,                                                 \
	    (ck_session_handle_t session, unsigned char *part,                 \
	        unsigned long part_len, unsigned char *encrypted_part,         \
	        unsigned long *encrypted_part_len),                            \
	    (session, part, part_len, encrypted_part, encrypted_part_len))     \
	X(C_DecryptVerifyUpdate,                                               \
	    (ck_session_handle_t session, unsigned char *encrypted_part,       \
	        unsigned long encrypted_part_len, unsigned char *part,         \
	        unsigned long *part_len),                                      \
	    (session, encrypted_part, encrypted_part_len, part, part_len))     \
	X(C_GenerateKey,                                                       \
	    (ck_session_handle_t session, struct ck_mechanism * mechanism,     \
	        struct ck_attribute * templ, unsigned long count,              \
	        ck_object_handle_t *key),                                      \
	    (session, mechanism, templ, count, key))                           \
	X(C_GenerateKeyPair,                                                   \
	    (ck_session_handle_t session, struct ck_mechanism * mechanism,     \
	        struct ck_attribute * public_key_template,                     \
	        unsigned long public_key_attribute_count,                      \
	        struct ck_attribute *private_key_template,                     \
	        unsigned long private_key_attribute_count,                     \
	        ck_object_handle_t *public_key,                                \
	        ck_object_handle_t *private_key),                              \
	    (session, mechanism, public_key_template,                          \
	        public_key_attribute_count, private_key_template,              \
	        private_key_attribute_count, public_key, private_key))         \
	X(C_WrapKey,                                                           \
	    (ck_session_handle_t session, struct ck_mechanism * mechanism,     \
	        ck_object_handle_t wrapping_key, ck_object_handle_t key,       \
	        unsigned char *wrapped_key, unsigned long *wrapped_key_len),   \
	    (session, mechanism, wrapping_key, key, wrapped_key,               \
	        wrapped_key_len))                                              \
	X(C_UnwrapKey,                                                         \
	    (ck_session_handle_t session, struct ck_mechanism * mechanism,     \
	        ck_object_handle_t unwrapping_key, unsigned char *wrapped_key, \
	        unsigned long wrapped_key_len, struct ck_attribute *templ,     \
	        unsigned long attribute_count, ck_object_handle_t *key),       \
	    (session, mechanism, unwrapping_key, wrapped_key, wrapped_key_len, \
	        templ, attribute_count, key))                                  \
	X(C_DeriveKey,                                                         \
	    (ck_session_handle_t session, struct ck_mechanism * mechanism,     \
	        ck_object_handle_t base_key, struct ck_attribute * templ,      \
	        unsigned long attribute_count, ck_object_handle_t *key),       \
	    (session, mechanism, base_key, templ, attribute_count, key))       \
	X(C_SeedRandom,                                                        \
	    (ck_session_handle_t session, unsigned char *seed,                 \
	        unsigned long seed_len),                                       \
	    (session, seed, seed_len))                                         \
	X(C_GenerateRandom,                                                    \
	    (ck_session_handle_t session, unsigned char *random_data,          \
	        unsigned long random_len),                                     \
	    (session, random_data, random_len))                                \
	X(C_GetFunctionStatus, (ck_session_handle_t session), (session))       \
	X(C_CancelFunction, (ck_session_handle_t session), (session))          \
	X(C_WaitForSlotEvent,                                                  \
	    (ck_flags_t flags, ck_slot_id_t * slot, void *reserved),           \
	    (flags, slot, reserved))

enum kqt_fn {
#define KQT_ENUM(name, p, a) F_##name,
	KQT_FUNCS(KQT_ENUM)
#undef KQT_ENUM
	F_load,
	F_COUNT
};

static const char *const kqt_names[F_COUNT] = {
#define KQT_NAME(name, p, a) [F_##name] = #name,
    KQT_FUNCS(KQT_NAME)
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
static struct ck_function_list *kqt_real;
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

#define KQT_WRAP(name, params, args)                                           \
	static ck_rv_t w_##name params                                         \
	{                                                                      \
		int64_t t0 = kqt_now();                                        \
		ck_rv_t rv = kqt_real->name args;                              \
                                                                               \
		kqt_record(F_##name, t0, rv);                                  \
		if (F_##name == F_C_Finalize)                                  \
			kqt_flush();                                           \
		return rv;                                                     \
	}
KQT_FUNCS(KQT_WRAP)
#undef KQT_WRAP

static struct ck_function_list kqt_list;

static ck_rv_t kqt_load_rv = CKR_GENERAL_ERROR;

static void
kqt_load(void)
{
	const char *path = getenv("KQ_TIME_MODULE");
	ck_rv_t (*gfl)(struct ck_function_list **);
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
#define KQT_SET(name, p, a) kqt_list.name = w_##name;
	KQT_FUNCS(KQT_SET)
#undef KQT_SET
	kqt_record(F_load, t0, CKR_OK);
	kqt_load_rv = CKR_OK;
}

ck_rv_t
C_GetFunctionList(struct ck_function_list **list)
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
