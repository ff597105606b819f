/*
 * The PKCS#11 2.40 function list as one X-macro, for the test and bench
 * modules that wrap a real module function by function (the fault shim
 * tests/fault/p11shim.c, the timing module bench/p11time.c): one list, so
 * that no function reaches the real module unwrapped in either.
 *
 * P11_FUNCS(X) expands X(name, kind, parameters, arguments) for every
 * function but C_GetFunctionList, in CK_FUNCTION_LIST order, with the
 * types of <p11-kit/pkcs11.h> under CRYPTOKI_COMPAT (include it first).
 * kind says how the function behaves when the device is gone, for the
 * fault shim; others ignore it.
 */
#ifndef KQ_TESTS_FAULT_P11FUNCS_H
#define KQ_TESTS_FAULT_P11FUNCS_H

/* How a function behaves once the device is gone. */
enum p11f_kind {
	P11F_LIB, /* library-level: always forwarded */
	P11F_SLOT, /* slot or token: CKR_DEVICE_REMOVED */
	P11F_SESS, /* session: CKR_SESSION_HANDLE_INVALID */
	P11F_SLOT_FREE, /* slot clean-up: forwarded, then CKR_DEVICE_REMOVED */
	P11F_SESS_FREE, /* session clean-up: forwarded, then ..._INVALID */
};

/* X(name, kind, parameters, arguments): CK_FUNCTION_LIST order. */
#define P11_FUNCS(X)                                                           \
	X(C_Initialize, P11F_LIB, (CK_VOID_PTR a), (a))                        \
	X(C_Finalize, P11F_LIB, (CK_VOID_PTR a), (a))                          \
	X(C_GetInfo, P11F_LIB, (CK_INFO_PTR a), (a))                           \
	X(C_GetSlotList, P11F_SLOT,                                            \
	    (CK_BBOOL a, CK_SLOT_ID_PTR b, CK_ULONG_PTR c), (a, b, c))         \
	X(C_GetSlotInfo, P11F_SLOT, (CK_SLOT_ID a, CK_SLOT_INFO_PTR b),        \
	    (a, b))                                                            \
	X(C_GetTokenInfo, P11F_SLOT, (CK_SLOT_ID a, CK_TOKEN_INFO_PTR b),      \
	    (a, b))                                                            \
	X(C_GetMechanismList, P11F_SLOT,                                       \
	    (CK_SLOT_ID a, CK_MECHANISM_TYPE_PTR b, CK_ULONG_PTR c),           \
	    (a, b, c))                                                         \
	X(C_GetMechanismInfo, P11F_SLOT,                                       \
	    (CK_SLOT_ID a, CK_MECHANISM_TYPE b, CK_MECHANISM_INFO_PTR c),      \
	    (a, b, c))                                                         \
	X(C_InitToken, P11F_SLOT,                                              \
	    (CK_SLOT_ID a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d),  \
	    (a, b, c, d))                                                      \
	X(C_InitPIN, P11F_SESS,                                                \
	    (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c), (a, b, c))   \
	X(C_SetPIN, P11F_SESS,                                                 \
	    (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c,               \
	        CK_UTF8CHAR_PTR d, CK_ULONG e),                                \
	    (a, b, c, d, e))                                                   \
	X(C_OpenSession, P11F_SLOT,                                            \
	    (CK_SLOT_ID a, CK_FLAGS b, CK_VOID_PTR c, CK_NOTIFY d,             \
	        CK_SESSION_HANDLE_PTR e),                                      \
	    (a, b, c, d, e))                                                   \
	X(C_CloseSession, P11F_SESS_FREE, (CK_SESSION_HANDLE a), (a))          \
	X(C_CloseAllSessions, P11F_SLOT_FREE, (CK_SLOT_ID a), (a))             \
	X(C_GetSessionInfo, P11F_SESS,                                         \
	    (CK_SESSION_HANDLE a, CK_SESSION_INFO_PTR b), (a, b))              \
	X(C_GetOperationState, P11F_SESS,                                      \
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c), (a, b, c))   \
	X(C_SetOperationState, P11F_SESS,                                      \
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c,                   \
	        CK_OBJECT_HANDLE d, CK_OBJECT_HANDLE e),                       \
	    (a, b, c, d, e))                                                   \
	X(C_Login, P11F_SESS,                                                  \
	    (CK_SESSION_HANDLE a, CK_USER_TYPE b, CK_UTF8CHAR_PTR c,           \
	        CK_ULONG d),                                                   \
	    (a, b, c, d))                                                      \
	X(C_Logout, P11F_SESS_FREE, (CK_SESSION_HANDLE a), (a))                \
	X(C_CreateObject, P11F_SESS,                                           \
	    (CK_SESSION_HANDLE a, CK_ATTRIBUTE_PTR b, CK_ULONG c,              \
	        CK_OBJECT_HANDLE_PTR d),                                       \
	    (a, b, c, d))                                                      \
	X(C_CopyObject, P11F_SESS,                                             \
	    (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c,      \
	        CK_ULONG d, CK_OBJECT_HANDLE_PTR e),                           \
	    (a, b, c, d, e))                                                   \
	X(C_DestroyObject, P11F_SESS,                                          \
	    (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b), (a, b))                 \
	X(C_GetObjectSize, P11F_SESS,                                          \
	    (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ULONG_PTR c),         \
	    (a, b, c))                                                         \
	X(C_GetAttributeValue, P11F_SESS,                                      \
	    (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c,      \
	        CK_ULONG d),                                                   \
	    (a, b, c, d))                                                      \
	X(C_SetAttributeValue, P11F_SESS,                                      \
	    (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c,      \
	        CK_ULONG d),                                                   \
	    (a, b, c, d))                                                      \
	X(C_FindObjectsInit, P11F_SESS,                                        \
	    (CK_SESSION_HANDLE a, CK_ATTRIBUTE_PTR b, CK_ULONG c), (a, b, c))  \
	X(C_FindObjects, P11F_SESS,                                            \
	    (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE_PTR b, CK_ULONG c,          \
	        CK_ULONG_PTR d),                                               \
	    (a, b, c, d))                                                      \
	X(C_FindObjectsFinal, P11F_SESS_FREE, (CK_SESSION_HANDLE a), (a))      \
	P11F_CRYPT(X, Encrypt)                                                 \
	P11F_CRYPT(X, Decrypt)                                                 \
	X(C_DigestInit, P11F_SESS, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b),  \
	    (a, b))                                                            \
	X(C_Digest, P11F_SESS, P11F_P5, P11F_A5)                               \
	X(C_DigestUpdate, P11F_SESS, P11F_P3, P11F_A3)                         \
	X(C_DigestKey, P11F_SESS, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b),   \
	    (a, b))                                                            \
	X(C_DigestFinal, P11F_SESS, P11F_PF, P11F_A3)                          \
	X(C_SignInit, P11F_SESS, P11F_PI, P11F_A3)                             \
	X(C_Sign, P11F_SESS, P11F_P5, P11F_A5)                                 \
	X(C_SignUpdate, P11F_SESS, P11F_P3, P11F_A3)                           \
	X(C_SignFinal, P11F_SESS, P11F_PF, P11F_A3)                            \
	X(C_SignRecoverInit, P11F_SESS, P11F_PI, P11F_A3)                      \
	X(C_SignRecover, P11F_SESS, P11F_P5, P11F_A5)                          \
	X(C_VerifyInit, P11F_SESS, P11F_PI, P11F_A3)                           \
	X(C_Verify, P11F_SESS,                                                 \
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d,    \
	        CK_ULONG e),                                                   \
	    P11F_A5)                                                           \
	X(C_VerifyUpdate, P11F_SESS, P11F_P3, P11F_A3)                         \
	X(C_VerifyFinal, P11F_SESS, P11F_P3, P11F_A3)                          \
	X(C_VerifyRecoverInit, P11F_SESS, P11F_PI, P11F_A3)                    \
	X(C_VerifyRecover, P11F_SESS, P11F_P5, P11F_A5)                        \
	X(C_DigestEncryptUpdate, P11F_SESS, P11F_P5, P11F_A5)                  \
	X(C_DecryptDigestUpdate, P11F_SESS, P11F_P5, P11F_A5)                  \
	X(C_SignEncryptUpdate, P11F_SESS, P11F_P5, P11F_A5)                    \
	X(C_DecryptVerifyUpdate, P11F_SESS, P11F_P5, P11F_A5)                  \
	X(C_GenerateKey, P11F_SESS,                                            \
	    (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c,      \
	        CK_ULONG d, CK_OBJECT_HANDLE_PTR e),                           \
	    (a, b, c, d, e))                                                   \
	X(C_GenerateKeyPair, P11F_SESS,                                        \
	    (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c,      \
	        CK_ULONG d, CK_ATTRIBUTE_PTR e, CK_ULONG f,                    \
	        CK_OBJECT_HANDLE_PTR g, CK_OBJECT_HANDLE_PTR h),               \
	    (a, b, c, d, e, f, g, h))                                          \
	X(C_WrapKey, P11F_SESS,                                                \
	    (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c,      \
	        CK_OBJECT_HANDLE d, CK_BYTE_PTR e, CK_ULONG_PTR f),            \
	    (a, b, c, d, e, f))                                                \
	X(C_UnwrapKey, P11F_SESS,                                              \
	    (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c,      \
	        CK_BYTE_PTR d, CK_ULONG e, CK_ATTRIBUTE_PTR f, CK_ULONG g,     \
	        CK_OBJECT_HANDLE_PTR h),                                       \
	    (a, b, c, d, e, f, g, h))                                          \
	X(C_DeriveKey, P11F_SESS,                                              \
	    (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c,      \
	        CK_ATTRIBUTE_PTR d, CK_ULONG e, CK_OBJECT_HANDLE_PTR f),       \
	    (a, b, c, d, e, f))                                                \
	X(C_SeedRandom, P11F_SESS, P11F_P3, P11F_A3)                           \
	X(C_GenerateRandom, P11F_SESS, P11F_P3, P11F_A3)                       \
	X(C_GetFunctionStatus, P11F_SESS, (CK_SESSION_HANDLE a), (a))          \
	X(C_CancelFunction, P11F_SESS, (CK_SESSION_HANDLE a), (a))             \
	X(C_WaitForSlotEvent, P11F_SLOT,                                       \
	    (CK_FLAGS a, CK_SLOT_ID_PTR b, CK_VOID_PTR c), (a, b, c))

/* Shapes shared by many functions. */
#define P11F_P3 (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c)
#define P11F_A3 (a, b, c)
#define P11F_P5                                                                \
	(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d,        \
	    CK_ULONG_PTR e)
#define P11F_A5 (a, b, c, d, e)
#define P11F_PF (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c)
#define P11F_PI (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c)
#define P11F_CRYPT(X, op)                                                      \
	X(C_##op##Init, P11F_SESS, P11F_PI, P11F_A3)                           \
	X(C_##op, P11F_SESS, P11F_P5, P11F_A5)                                 \
	X(C_##op##Update, P11F_SESS, P11F_P5, P11F_A5)                         \
	X(C_##op##Final, P11F_SESS, P11F_PF, P11F_A3)

#endif
