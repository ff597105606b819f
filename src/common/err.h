/*
 * keyquorum: one list of error codes for every layer.
 *
 * Codes are negative, 0 is success.  The list is append-only within each
 * range (numbers are never reused or renumbered): add a line to KQ_ERRORS in
 * the range of the layer that returns it.  Each code carries the exit status
 * class the CLI maps it to (see keyquorum(1), EXIT STATUS) and a message that
 * a person understands.  Messages never contain secret material.
 */
#ifndef KQ_COMMON_ERR_H
#define KQ_COMMON_ERR_H

/* Documented, frozen exit statuses. */
enum kq_exit {
	KQ_EXIT_OK = 0,
	KQ_EXIT_ERROR = 1, /* anything not below */
	KQ_EXIT_USAGE = 2, /* bad arguments or malformed input */
	KQ_EXIT_AUTH = 3, /* PIN or authentication */
	KQ_EXIT_TOKEN = 4, /* token, reader, module */
	KQ_EXIT_VAULT = 5, /* Vault / OpenBao server */
	KQ_EXIT_INTEGRITY = 6, /* a share, blob or file that fails its check */
};

/* X(name, value, exit class, message) */
/* One line per code reads better than any reflow. */
/* clang-format off */
#define KQ_ERRORS(X)                                                                            \
	/* general: -1 .. -99 */                                                                \
	X(KQ_ERR_NOMEM, -1, KQ_EXIT_ERROR, "out of memory (or secure memory)")                  \
	X(KQ_ERR_INVALID, -2, KQ_EXIT_ERROR,                                                    \
	    "invalid argument (internal error)")                                                \
	X(KQ_ERR_USAGE, -3, KQ_EXIT_USAGE, "invalid usage")                                     \
	X(KQ_ERR_IO, -4, KQ_EXIT_ERROR, "input/output error")                                   \
	X(KQ_ERR_RANDOM, -5, KQ_EXIT_ERROR,                                                     \
	    "the random number generator failed")                                               \
	X(KQ_ERR_CRYPTO, -6, KQ_EXIT_ERROR,                                                     \
	    "a cryptographic operation failed")                                                 \
	X(KQ_ERR_ENCODING, -7, KQ_EXIT_USAGE, "not valid hex or base64")                        \
	X(KQ_ERR_TOO_LONG, -8, KQ_EXIT_USAGE, "input is too long")                              \
	X(KQ_ERR_EMPTY, -9, KQ_EXIT_USAGE, "input is empty")                                    \
	X(KQ_ERR_INTERRUPTED, -10, KQ_EXIT_ERROR, "interrupted")                                \
	X(KQ_ERR_EXISTS, -11, KQ_EXIT_ERROR,                                                    \
	    "the file already exists (use --force to replace it)")                              \
	X(KQ_ERR_NOT_FOUND, -12, KQ_EXIT_ERROR, "no such file or object")                       \
	X(KQ_ERR_TTY, -13, KQ_EXIT_ERROR, "no terminal to ask on")                              \
	X(KQ_ERR_REFUSE_TTY, -14, KQ_EXIT_USAGE,                                                \
	    "refusing to write raw secret bytes to a terminal")                                 \
	X(KQ_ERR_BAD_LINE, -15, KQ_EXIT_USAGE, "a line of input is malformed")                  \
	X(KQ_ERR_TIMEOUT, -16, KQ_EXIT_ERROR, "timed out")                                      \
	X(KQ_ERR_NOSPC, -17, KQ_EXIT_ERROR, "no space left on the device")                      \
	X(KQ_ERR_UNSUPPORTED, -18, KQ_EXIT_ERROR, "not supported")                              \
	X(KQ_ERR_PERM, -19, KQ_EXIT_ERROR, "permission denied")                                 \
	/* shamir: -100 .. -199 */                                                              \
	X(KQ_ERR_SHAMIR_THRESHOLD, -100, KQ_EXIT_USAGE,                                         \
	    "threshold must be at least 2 and at most the number of shares")                    \
	X(KQ_ERR_SHAMIR_PARTS, -101, KQ_EXIT_USAGE,                                             \
	    "the number of shares must be between the threshold and 255")                       \
	X(KQ_ERR_SHAMIR_EMPTY_SECRET, -102, KQ_EXIT_USAGE,                                      \
	    "the secret is empty")                                                              \
	X(KQ_ERR_SHAMIR_TOO_FEW, -103, KQ_EXIT_INTEGRITY,                                       \
	    "at least 2 shares are needed to combine")                                          \
	X(KQ_ERR_SHAMIR_SHORT, -104, KQ_EXIT_INTEGRITY,                                         \
	    "a share is shorter than 2 bytes")                                                  \
	X(KQ_ERR_SHAMIR_LENGTH, -105, KQ_EXIT_INTEGRITY,                                        \
	    "the shares are not all the same length")                                           \
	X(KQ_ERR_SHAMIR_DUP_X, -106, KQ_EXIT_INTEGRITY,                                         \
	    "two shares have the same x-coordinate (the same share given twice?)")              \
	X(KQ_ERR_SHAMIR_ZERO_X, -107, KQ_EXIT_INTEGRITY,                                        \
	    "a share has x-coordinate 0, which no valid share has")                             \
	X(KQ_ERR_SHAMIR_SELFCHECK, -108, KQ_EXIT_ERROR,                                         \
	    "the split failed its own recombination check")                                     \
	/* PIN and authentication: -200 .. -299 */                                              \
	X(KQ_ERR_PIN_INCORRECT, -200, KQ_EXIT_AUTH, "the PIN is incorrect")                     \
	X(KQ_ERR_PIN_LOCKED, -201, KQ_EXIT_AUTH, "the PIN is locked")                           \
	X(KQ_ERR_PIN_FINAL_TRY, -202, KQ_EXIT_AUTH,                                             \
	    "only one PIN try is left; refusing to spend it without --allow-final-try")         \
	X(KQ_ERR_PIN_LEN, -203, KQ_EXIT_AUTH,                                                   \
	    "the PIN has the wrong length for this token")                                      \
	X(KQ_ERR_PIN_CANCELLED, -204, KQ_EXIT_AUTH, "PIN entry was cancelled")                  \
	X(KQ_ERR_PIN_SOURCE, -205, KQ_EXIT_AUTH,                                                \
	    "the PIN source cannot be used")                                                    \
	X(KQ_ERR_NOT_LOGGED_IN, -206, KQ_EXIT_AUTH,                                             \
	    "the token needs a login first")                                                    \
	X(KQ_ERR_PIN_VALUE_REFUSED, -207, KQ_EXIT_USAGE,                                        \
	    "pin-value in a PKCS#11 URI is refused outside tests (use pin-source)")             \
	X(KQ_ERR_PINENTRY, -208, KQ_EXIT_AUTH,                                                  \
	    "the pinentry program cannot be started or failed")                                 \
	/* token, reader, module: -300 .. -399 */                                               \
	X(KQ_ERR_MODULE, -300, KQ_EXIT_TOKEN,                                                   \
	    "the PKCS#11 module cannot be loaded or used")                                      \
	X(KQ_ERR_TOKEN_NOT_FOUND, -301, KQ_EXIT_TOKEN, "no token matches")                      \
	X(KQ_ERR_TOKEN_AMBIGUOUS, -302, KQ_EXIT_TOKEN,                                          \
	    "more than one token matches")                                                      \
	X(KQ_ERR_TOKEN_REMOVED, -303, KQ_EXIT_TOKEN,                                            \
	    "the token or card was removed")                                                    \
	X(KQ_ERR_TOKEN, -304, KQ_EXIT_TOKEN, "the token reported an error")                     \
	X(KQ_ERR_KEY_NOT_FOUND, -305, KQ_EXIT_TOKEN,                                            \
	    "no matching key on the token")                                                     \
	X(KQ_ERR_MECHANISM, -306, KQ_EXIT_TOKEN,                                                \
	    "the token does not support the mechanism")                                         \
	X(KQ_ERR_READER, -307, KQ_EXIT_TOKEN,                                                   \
	    "the smartcard reader service failed")                                              \
	X(KQ_ERR_URI, -308, KQ_EXIT_USAGE,                                                      \
	    "the PKCS#11 URI is malformed or has an unknown attribute")                         \
	X(KQ_ERR_WRONG_TOKEN, -309, KQ_EXIT_TOKEN,                                              \
	    "this token's key is not the one the data was sealed to")                           \
	X(KQ_ERR_TOKEN_FULL, -310, KQ_EXIT_TOKEN,                                               \
	    "the token has no room for the object")                                             \
	X(KQ_ERR_KEY_TYPE, -311, KQ_EXIT_TOKEN,                                                 \
	    "the key type is not usable for sealing")                                           \
	/* PC/SC (hsm/pcsc.c): -320 .. -329 */                                                  \
	X(KQ_ERR_READER_NOT_FOUND, -320, KQ_EXIT_TOKEN, "no such smartcard reader")             \
	X(KQ_ERR_NO_READERS, -321, KQ_EXIT_TOKEN,                                               \
	    "no smartcard reader is connected")                                                 \
	X(KQ_ERR_PCSC_NO_SERVICE, -322, KQ_EXIT_TOKEN,                                          \
	    "the smartcard service (pcscd) is not running")                                     \
	/* Vault / OpenBao: -400 .. -499 */                                                     \
	X(KQ_ERR_VAULT, -400, KQ_EXIT_VAULT,                                                    \
	    "the Vault server returned an error")                                               \
	X(KQ_ERR_VAULT_CONNECT, -401, KQ_EXIT_VAULT,                                            \
	    "cannot connect to the Vault server")                                               \
	X(KQ_ERR_VAULT_TLS, -402, KQ_EXIT_VAULT,                                                \
	    "the Vault server's TLS certificate was refused")                                   \
	X(KQ_ERR_VAULT_SEALED, -403, KQ_EXIT_VAULT, "Vault is sealed")                          \
	X(KQ_ERR_VAULT_RESPONSE, -404, KQ_EXIT_VAULT,                                           \
	    "the Vault server's answer is malformed")                                           \
	X(KQ_ERR_VAULT_KEY_REJECTED, -405, KQ_EXIT_VAULT,                                       \
	    "Vault rejected the key")                                                           \
	X(KQ_ERR_VAULT_NONCE, -406, KQ_EXIT_VAULT,                                              \
	    "the nonce does not match the attempt in progress")                                 \
	X(KQ_ERR_VAULT_IN_PROGRESS, -407, KQ_EXIT_VAULT,                                        \
	    "an attempt is already in progress")                                                \
	X(KQ_ERR_VAULT_NO_ATTEMPT, -408, KQ_EXIT_VAULT,                                         \
	    "no attempt is in progress")                                                        \
	X(KQ_ERR_VAULT_DISABLED, -409, KQ_EXIT_VAULT,                                           \
	    "the endpoint is disabled on this server (OpenBao: use the authenticated variant)") \
	X(KQ_ERR_VAULT_INITIALIZED, -410, KQ_EXIT_VAULT,                                        \
	    "Vault is already initialised")                                                     \
	X(KQ_ERR_VAULT_PERMISSION, -411, KQ_EXIT_VAULT,                                         \
	    "Vault refused the request: permission denied")                                     \
	X(KQ_ERR_VAULT_DROPPED, -412, KQ_EXIT_VAULT,                                            \
	    "the connection to Vault broke before its answer (check Vault's state)")           \
	X(KQ_ERR_VAULT_NOT_INITIALIZED, -413, KQ_EXIT_VAULT,                                    \
	    "Vault is not initialised")                                                         \
	X(KQ_ERR_VAULT_TIMEOUT, -414, KQ_EXIT_VAULT,                                            \
	    "Vault did not answer in time; the request may or may not have been applied")      \
	X(KQ_ERR_VAULT_TLS_REFUSED, -415, KQ_EXIT_VAULT,                                        \
	    "the Vault server refused the TLS connection (check VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)") \
	/* integrity: -500 .. -599 */                                                           \
	X(KQ_ERR_INTEGRITY, -500, KQ_EXIT_INTEGRITY,                                            \
	    "the data fails its integrity check")                                               \
	X(KQ_ERR_FORMAT, -501, KQ_EXIT_INTEGRITY,                                               \
	    "the file or blob is malformed")                                                    \
	X(KQ_ERR_VERSION, -502, KQ_EXIT_INTEGRITY,                                              \
	    "unsupported format version")                                                       \
	X(KQ_ERR_COMMITMENT, -503, KQ_EXIT_INTEGRITY,                                           \
	    "the share does not match its commitment")                                          \
	X(KQ_ERR_CONTEXT, -504, KQ_EXIT_INTEGRITY,                                              \
	    "the blob was sealed for another context")                                          \
	X(KQ_ERR_CHAIN, -505, KQ_EXIT_INTEGRITY,                                                \
	    "the transcript's hash chain is broken")                                            \
	X(KQ_ERR_OTP, -506, KQ_EXIT_INTEGRITY,                                                  \
	    "the OTP and the encoded token do not fit together")                                \
	/* ceremony engine: -600 .. -699 */                                                     \
	X(KQ_ERR_PROGRESS_LOST, -600, KQ_EXIT_VAULT,                                            \
	    "Vault lost the progress of this ceremony (restarted or reset)")                   \
	X(KQ_ERR_QUORUM_SHORT, -601, KQ_EXIT_ERROR,                                             \
	    "no more holders to ask: the quorum was not reached")                               \
	X(KQ_ERR_HOLDER_UNKNOWN, -602, KQ_EXIT_USAGE, "no holder of the set has that name")     \
	X(KQ_ERR_DRILL_FAILED, -603, KQ_EXIT_INTEGRITY,                                         \
	    "one or more holders failed the drill")                                             \
	X(KQ_ERR_NOT_ENROLLED, -604, KQ_EXIT_ERROR, "the holder has no share enrolled")         \
	/* rollback envelopes and the hsm-pin set: -650 .. -669 */                            \
	X(KQ_ERR_ENVELOPE_TRUNCATED, -650, KQ_EXIT_INTEGRITY,                                   \
	    "the envelope is truncated (its final chunk is missing)")                          \
	X(KQ_ERR_ENVELOPE_WRONG_SET, -651, KQ_EXIT_USAGE,                                       \
	    "the envelope belongs to another custody set")                                      \
	X(KQ_ERR_ENVELOPE_WRONG_HSM, -652, KQ_EXIT_TOKEN,                                       \
	    "the envelope was sealed in another HSM or under another key")                      \
	X(KQ_ERR_PLAN, -653, KQ_EXIT_USAGE, "the rollback plan is invalid")                     \
	X(KQ_ERR_HSM_PIN_STATE, -654, KQ_EXIT_ERROR,                                            \
	    "the HSM's PIN changed but the custody set is not in place")                        \
	/* end */

/* clang-format on */
enum kq_err {
#define KQ_X_ENUM(name, value, exitc, msg) name = value,
	KQ_OK = 0,
	KQ_ERRORS(KQ_X_ENUM)
#undef KQ_X_ENUM
};

/* A static message for code; never NULL.  Unknown codes get a generic text. */
const char *kq_strerror(int code);

/* The documented exit status for code (KQ_EXIT_OK for KQ_OK). */
int kq_exit_status(int code);

/* The symbolic name of code ("KQ_ERR_PIN_LOCKED"), for tests and --json. */
const char *kq_errname(int code);

#endif
