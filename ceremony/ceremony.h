/*
 * keyquorum: the ceremony layer's public header: custody sets, the Vault /
 * OpenBao client, the ceremony engine, rollback envelopes, the transcript,
 * and the generate-root token codec.
 *
 *  - JSON with wiping allocators (ceremony_json_*)
 *  - custody sets and their file format (custody_*; keyquorum-custody(5))
 *  - the hash-chained audit transcript (transcript_*; docs/transcript.md)
 *  - the Vault / OpenBao HTTP client (vault_*)
 *
 * Conventions: functions return KQ_OK or a negative kq_err code; outputs
 * are written only on success; every _new/_open/_load has a _free/_close
 * that accepts NULL.  Where a code alone does not say enough, a `detail`
 * buffer of CEREMONY_DETAIL_MAX bytes (may be NULL) receives a sentence for
 * a person on failure.  Details never contain secret material.
 */
#ifndef KQ_CEREMONY_H
#define KQ_CEREMONY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CEREMONY_DETAIL_MAX 256

/* ---- Root token decoding (ceremony/roottoken.c) ------------------------ */

/* Longest root token / OTP handled (OpenBao namespace tokens are 35). */
#define ROOT_TOKEN_MAX 128

/*
 * Decode a generate-root encoded token with its OTP, as
 * `vault operator generate-root -decode` does (VAULT_API.md "Root token and
 * OTP").  otp_length > 0: the encoded token is RawStd base64 of
 * (token XOR otp) and must decode to exactly otp_length bytes; otp_length
 * == 0 (legacy, Vault < 0.11): both are padded base64 of 16 bytes and the
 * XOR is printed as a lowercase UUID.  otp_length < 0: detect from the OTP
 * (16-byte padded base64 -> legacy, otherwise its length).
 *
 * token (cap >= ROOT_TOKEN_MAX + 1, secure memory) receives the
 * NUL-terminated token and *token_len its length.  Returns KQ_OK,
 * KQ_ERR_ENCODING (not base64 of the right variant), KQ_ERR_OTP (lengths
 * do not fit, or the OTP has characters no OTP has, or the result is not a
 * printable token), KQ_ERR_TOO_LONG.  Constant time in the token and OTP
 * bytes except for their lengths.  token is wiped on failure.
 */
int root_token_decode(const char *encoded, size_t encoded_len, const char *otp,
    size_t otp_len, int otp_length, char *token, size_t cap, size_t *token_len);

/* ------------------------------------------------------------------ */
/* JSON (ceremony/json.c)                                             */
/* ------------------------------------------------------------------ */

/*
 * Install jansson's allocators (process-wide): every block jansson frees
 * is wiped first.  Blocks come from the ordinary heap (size header, wiped
 * on free) except while a secret body is parsed with ceremony_json_loadb
 * (secret != 0), when they come from kq_secalloc (guarded, locked, not
 * dumped).  Call once at the start of main(), before any other jansson
 * call (a block allocated by jansson's default malloc must never reach the
 * wiping free).  Idempotent.  KQ_OK.
 */
int ceremony_json_init(void);

/*
 * Parse n bytes at p as one JSON value (JSON_REJECT_DUPLICATES, no
 * trailing data).  With secret != 0 every block of the resulting tree (and
 * of the parser's scratch buffers) is in secure memory.  Returns a new
 * reference or NULL (malformed; a short reason without input text in
 * `detail` when it is not NULL).  The return type is json_t *, kept as
 * void * so that this header does not include jansson.
 */
void *ceremony_json_loadb(const void *p, size_t n, int secret, char *detail);

/* ------------------------------------------------------------------ */
/* Custody sets (ceremony/custody.c, keyquorum-custody(5))            */
/* ------------------------------------------------------------------ */

#define CUSTODY_VERSION 1
#define CUSTODY_SET_ID_LEN 16
#define CUSTODY_FPR_LEN 32 /* SHA-256 of the token key's public key */
#define CUSTODY_COMMIT_LEN 32
#define CUSTODY_MAX_HOLDERS 255
#define CUSTODY_MAX_SEALED 8192 /* bytes of one sealed share */
#define CUSTODY_MIN_SHARE 17 /* 128-bit secret + x: below, no commitment */

enum custody_kind {
	CUSTODY_VAULT_UNSEAL,
	CUSTODY_VAULT_RECOVERY,
	CUSTODY_HSM_PIN,
	CUSTODY_SECRET,
};

/*
 * A holder.  `x`, `commitment`, `sealed`/`sealed_len` and `enrolled` are
 * set together once a share is enrolled (`enrolled` != 0); before that the
 * holder is only a name, a token URI and a key fingerprint.  Strings and
 * `sealed` are owned by the set (heap; custody_free releases them).
 */
struct custody_holder {
	char *name;
	char *token_uri;
	uint8_t fingerprint[CUSTODY_FPR_LEN];
	uint8_t x;
	uint8_t commitment[CUSTODY_COMMIT_LEN];
	uint8_t *sealed; /* the hsm layer's sealed blob, opaque here */
	size_t sealed_len;
	time_t enrolled; /* 0: no share yet */
	time_t last_drill; /* 0: never drilled */
};

/*
 * A custody set.  A plain record (not opaque): the ceremony engine and the
 * CLI read every field.  Change it with the functions below, or directly
 * and then call custody_validate() (custody_save does).
 */
struct custody_set {
	uint8_t set_id[CUSTODY_SET_ID_LEN];
	char *name;
	enum custody_kind kind;
	unsigned threshold;
	char *vault_address; /* NULL: none recorded */
	char *vault_cluster_id; /* NULL: none recorded */
	char *hsm_token_uri; /* kind hsm-pin: the HSM's token, or NULL */
	char *hsm_key_label; /* kind hsm-pin: its AES key's label, or NULL */
	time_t created;
	size_t n_holders;
	struct custody_holder *holders;
};

/* "vault-unseal" ...; NULL for an unknown value. */
const char *custody_kind_name(enum custody_kind k);
/* KQ_OK and *k, or KQ_ERR_FORMAT for an unknown name. */
int custody_kind_parse(const char *s, enum custody_kind *k);

/*
 * A new set with a fresh random set id, no holders, created now.
 * KQ_OK (*out owned by the caller), KQ_ERR_INVALID, KQ_ERR_NOMEM,
 * KQ_ERR_RANDOM.  Threshold is checked by custody_validate, once the
 * holders are known.
 */
int custody_new(const char *name, enum custody_kind kind, unsigned threshold,
    struct custody_set **out);

/*
 * Append a holder without a share (name, token URI, fingerprint copied).
 * KQ_OK and *index of the new holder (may be NULL); KQ_ERR_FORMAT with
 * detail for a duplicate name or fingerprint, or 255 holders already;
 * KQ_ERR_NOMEM.
 */
int custody_holder_add(struct custody_set *cs, const char *name,
    const char *token_uri, const uint8_t fpr[CUSTODY_FPR_LEN], size_t *index,
    char *detail);

/*
 * Record a holder's enrolled share: x, commitment and sealed blob (copied),
 * enrolment time now.  KQ_OK, KQ_ERR_INVALID (x 0, blob empty or over
 * CUSTODY_MAX_SEALED), KQ_ERR_FORMAT (x used by another holder),
 * KQ_ERR_NOMEM.
 */
int custody_holder_set_share(struct custody_set *cs, size_t index, uint8_t x,
    const uint8_t commitment[CUSTODY_COMMIT_LEN], const uint8_t *sealed,
    size_t sealed_len, char *detail);

/*
 * Set or clear (NULL) an optional string: *field is one of the set's
 * char * members.  KQ_OK or KQ_ERR_NOMEM.
 */
int custody_set_string(char **field, const char *value);

/*
 * Check everything the format requires (see keyquorum-custody(5), CONSTRAINTS).
 * KQ_OK or KQ_ERR_FORMAT with detail naming the field and the holder.
 */
int custody_validate(const struct custody_set *cs, char *detail);

/*
 * Load and strictly parse a custody file.  KQ_OK (*out owned by the
 * caller), KQ_ERR_NOT_FOUND, KQ_ERR_IO, KQ_ERR_TOO_LONG (over 4 MiB),
 * KQ_ERR_VERSION (keyquorum_custody is not 1), KQ_ERR_FORMAT (bad JSON,
 * missing, ill-typed or unknown field, broken constraint; detail names the
 * field and, where it applies, the holder), KQ_ERR_NOMEM.
 */
int custody_load(const char *path, struct custody_set **out, char *detail);

/* The same from a buffer (for tests and fuzzing). */
int custody_parse(
    const void *p, size_t n, struct custody_set **out, char *detail);

/*
 * Validate, then write atomically (temporary file, fsync, rename, fsync of
 * the directory), mode 0600.  Without force an existing file is
 * KQ_ERR_EXISTS and untouched.  KQ_OK, KQ_ERR_FORMAT, KQ_ERR_EXISTS,
 * KQ_ERR_NOSPC, KQ_ERR_PERM, KQ_ERR_IO, KQ_ERR_NOMEM.
 */
int custody_save(
    const struct custody_set *cs, const char *path, int force, char *detail);

/* Serialise (validated) to a new heap string (free()); NULL on failure. */
char *custody_dumps(const struct custody_set *cs, char *detail);

void custody_free(struct custody_set *cs);

/* The holder named name / with fingerprint fpr, or NULL. */
struct custody_holder *custody_holder_by_name(
    const struct custody_set *cs, const char *name);
struct custody_holder *custody_holder_by_fpr(
    const struct custody_set *cs, const uint8_t fpr[CUSTODY_FPR_LEN]);

/*
 * The share commitment: SHA-256 over "keyquorum/share-commitment/v1", NUL,
 * set id (16), x (1), the share's length (4, big-endian) and the share
 * (Vault layout, x last).  KQ_OK; KQ_ERR_INVALID when the share is shorter
 * than CUSTODY_MIN_SHARE bytes (under 128 bits: never committed to) or its
 * last byte is not x.  The hash state lives on the stack and is wiped.
 */
int custody_commitment(const uint8_t set_id[CUSTODY_SET_ID_LEN], uint8_t x,
    const uint8_t *share, size_t len, uint8_t out[CUSTODY_COMMIT_LEN]);

/*
 * Does share (from secure memory) match the holder's commitment?  The
 * comparison is constant-time.  KQ_OK, KQ_ERR_COMMITMENT (mismatch, or the
 * share's x is not the holder's), KQ_ERR_INVALID (holder not enrolled,
 * share too short).
 */
int custody_check_share(const struct custody_set *cs,
    const struct custody_holder *h, const uint8_t *share, size_t len);

/* ------------------------------------------------------------------ */
/* Transcript (ceremony/transcript.c, docs/transcript.md)             */
/* ------------------------------------------------------------------ */

/*
 * One line.  Only non-secret fields exist: the nonce is recorded as its
 * SHA-256.  NULL / 0 members are left out of the line.
 */
struct transcript_entry {
	const char *op; /* required: "unseal", "generate-root", ... */
	const char *outcome; /* required: "ok", "error", "aborted", ... */
	const uint8_t *set_id; /* CUSTODY_SET_ID_LEN bytes or NULL */
	const char *holder; /* or NULL */
	const uint8_t *fingerprint; /* CUSTODY_FPR_LEN bytes or NULL */
	int has_vault; /* adds "vault": {...} */
	unsigned vault_progress;
	unsigned vault_threshold;
	const char *vault_nonce; /* hashed before it is written; or NULL */
	const char *detail; /* or NULL */
};

struct transcript;

/*
 * Open (creating with mode 0600) a transcript for appending and take an
 * exclusive flock (waiting at most 5 s: KQ_ERR_TIMEOUT).  The last line is
 * read to continue the chain; nothing else is verified.  A file that does
 * not end in a newline, or whose last line is not a transcript line, is
 * KQ_ERR_CHAIN (never appended to).  KQ_OK (*out owned by the caller),
 * KQ_ERR_IO, KQ_ERR_PERM, KQ_ERR_NOMEM.
 */
int transcript_open(const char *path, struct transcript **out, char *detail);

/*
 * Append one line (seq, time now, prev) and fsync it.  On a failed write
 * the file is cut back to its previous length.  KQ_OK, KQ_ERR_INVALID
 * (op/outcome missing), KQ_ERR_IO, KQ_ERR_NOSPC, KQ_ERR_NOMEM.
 */
int transcript_append(struct transcript *t, const struct transcript_entry *e);

/* The next sequence number (1 for an empty transcript). */
unsigned long long transcript_next_seq(const struct transcript *t);

/* Unlock and close; NULL accepted. */
void transcript_close(struct transcript *t);

/*
 * Verify a whole transcript: every line ends in a newline, is canonical
 * JSON of a transcript line, has seq one more than the line before
 * (first: 1) and prev equal to the SHA-256 of the line before (first:
 * 64 zeros).  KQ_OK and *n_lines; KQ_ERR_CHAIN with *first_bad (1-based)
 * and detail saying why; KQ_ERR_NOT_FOUND, KQ_ERR_IO, KQ_ERR_NOMEM.
 */
int transcript_verify(const char *path, unsigned long long *n_lines,
    unsigned long long *first_bad, char *detail);

/* ------------------------------------------------------------------ */
/* Vault / OpenBao client (ceremony/vault.c, vault_parse.c)           */
/* ------------------------------------------------------------------ */

/*
 * Where and how to connect.  NULL members fall back to the environment as
 * the vault CLI reads it (VAULT_ADDR, VAULT_CACERT, VAULT_CAPATH,
 * VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_NAMESPACE, VAULT_TOKEN)
 * unless no_env is set.  The token is read from token_file when given,
 * else from VAULT_TOKEN, into secure memory.  TLS verification is always
 * on: there is no way to turn it off (VAULT_SKIP_VERIFY is ignored).  Only
 * https:// addresses; redirects are not followed.
 * Proxies: libcurl's standard variables (https_proxy, HTTPS_PROXY,
 * all_proxy, no_proxy) apply, as they do to the vault CLI.
 */
struct vault_config {
	const char *address; /* https://host:port */
	const char *ca_cert; /* PEM file of trusted CAs */
	const char *ca_path; /* directory of hashed CA certificates */
	const char *client_cert; /* PEM client certificate */
	const char *client_key; /* PEM client key */
	const char *token_file; /* a file holding the token */
	const char *namespace; /* X-Vault-Namespace */
	long timeout_s; /* whole request; 0: 60 s */
	long connect_timeout_s; /* 0: 10 s */
	int no_env;
};

enum vault_flavor {
	VAULT_FLAVOR_UNKNOWN,
	VAULT_FLAVOR_VAULT,
	VAULT_FLAVOR_OPENBAO,
};

struct vault_seal_status {
	char type[32]; /* seal type: shamir, pkcs11, awskms, ... */
	int initialized;
	int sealed;
	unsigned t, n, progress; /* under auto-unseal: recovery t/n */
	char nonce[64];
	char version[64];
	char build_date[40];
	char cluster_name[128];
	char cluster_id[64];
	char storage_type[32];
	int recovery_seal;
	enum vault_flavor flavor; /* from version / build info */
};

struct vault_generate_root_status {
	char nonce[64];
	int started;
	unsigned progress, required;
	int complete;
	unsigned otp_length;
	char pgp_fingerprint[128];
};

struct vault_client;

/* KQ_OK (*out owned), KQ_ERR_USAGE (no address, not https), KQ_ERR_NOMEM,
 * KQ_ERR_IO / KQ_ERR_NOT_FOUND (token file), KQ_ERR_UNSUPPORTED (libcurl
 * not built with OpenSSL). */
int vault_client_new(
    const struct vault_config *cfg, struct vault_client **out, char *detail);
void vault_client_free(struct vault_client *vc);

/* The detail of the last failure (the server's message, curl's reason). */
const char *vault_client_detail(const struct vault_client *vc);
/* Last HTTP status (0 when no answer came). */
long vault_client_http_status(const struct vault_client *vc);
/* The flavor detected (after a seal-status or a fallback); may be UNKNOWN. */
enum vault_flavor vault_client_flavor(const struct vault_client *vc);
int vault_client_has_token(const struct vault_client *vc);
/*
 * For tests: whether the last SSL_CTX this client's TLS set-up callback saw
 * had SSL_OP_CLEANSE_PLAINTEXT set (read back from the context), and in
 * *calls (may be NULL) how many contexts it has seen.
 */
int vault_client_tls_ctx(const struct vault_client *vc, unsigned *calls);

int vault_seal_status(struct vault_client *vc, struct vault_seal_status *st);

/* Submit one share (sent as hex, built in secure memory). */
int vault_unseal(struct vault_client *vc, const uint8_t *key, size_t len,
    struct vault_seal_status *st);
int vault_unseal_reset(struct vault_client *vc, struct vault_seal_status *st);

/*
 * Receives each key of an init answer, decoded, in secure memory that is
 * wiped as soon as the callback returns.  index counts from 0 in Vault's
 * order.  Return KQ_OK to go on; any other code stops the delivery and is
 * returned by vault_init (Vault is initialised by then: the keys not yet
 * delivered are lost).
 */
typedef int vault_key_cb(
    void *arg, unsigned index, const uint8_t *key, size_t len);

/*
 * PUT sys/init with shares/threshold (as recovery_* when recovery).  Each
 * key goes to cb; the root token, NUL-terminated, to *root_token in secure
 * memory (kq_secfree it), or is wiped when root_token is NULL.
 * KQ_OK, KQ_ERR_VAULT_INITIALIZED, KQ_ERR_VAULT_RESPONSE (count or
 * encodings wrong), the callback's code, and the transport codes.
 */
int vault_init(struct vault_client *vc, unsigned shares, unsigned threshold,
    int recovery, vault_key_cb *cb, void *arg, char **root_token);

/*
 * Start a generate-root attempt with a server-made OTP.  *otp (secure,
 * NUL-terminated; kq_secfree) and st (nonce, otp_length, required).
 * On OpenBao with a token, the authenticated sys/generate-root-token is
 * used.  KQ_ERR_VAULT_IN_PROGRESS, KQ_ERR_VAULT_DISABLED, ...
 */
int vault_generate_root_start(
    struct vault_client *vc, char **otp, struct vault_generate_root_status *st);
int vault_generate_root_status(
    struct vault_client *vc, struct vault_generate_root_status *st);
int vault_generate_root_cancel(struct vault_client *vc);

/*
 * Submit one share to the attempt `nonce`.  When the attempt completes,
 * *encoded_token (secure, NUL-terminated) holds the encoded token;
 * otherwise it is NULL.  st gets progress/required/complete.
 * KQ_ERR_VAULT_NONCE, KQ_ERR_VAULT_NO_ATTEMPT, KQ_ERR_VAULT_KEY_REJECTED...
 */
int vault_generate_root_update(struct vault_client *vc, const char *nonce,
    const uint8_t *key, size_t len, struct vault_generate_root_status *st,
    char **encoded_token);

/*
 * Decode with the server's sys/decode-token (a token is sent when there is
 * one): *token secure (kq_secfree).  root_token_decode() decodes locally
 * without a server; this is the cross-check OpenBao documents.
 */
int vault_decode_token(struct vault_client *vc, const char *encoded,
    const char *otp, char **token);

/* ---- parsing and error mapping, exposed for unit tests ---- */

/*
 * The kq_err for an HTTP answer: status and Vault's first error message
 * (may be NULL).  Pure function; no I/O.
 */
int vault_map_error(long http_status, const char *message);

/* Parse a seal-status body (JSON text).  KQ_OK or KQ_ERR_VAULT_RESPONSE. */
int vault_parse_seal_status(
    const char *body, size_t n, struct vault_seal_status *st);
/* Parse a generate-root attempt/update body; *secret_otp and *encoded may
 * be NULL (not wanted); when wanted they are set (secure) or NULL. */
int vault_parse_generate_root(const char *body, size_t n,
    struct vault_generate_root_status *st, char **otp, char **encoded);
/* The flavor a version string / build date suggests. */
enum vault_flavor vault_flavor_guess(const char *version);
/*
 * Copy Vault's error text (errors[] joined with "; ") from an error body
 * into out (cap bytes; control characters replaced by '?').  KQ_OK or
 * KQ_ERR_VAULT_RESPONSE (no errors array).
 */
int vault_parse_errors(const char *body, size_t n, char *out, size_t cap);

/* The "token" of a decode-token answer (top level or under "data"). */
int vault_parse_token(const char *body, size_t n, char **token);

/*
 * Parse an init answer: each key (hex "keys" / "recovery_keys", checked
 * against its base64 twin) goes to cb, the root token to *root_token.
 */
int vault_parse_init(const char *body, size_t n, unsigned expect, int recovery,
    vault_key_cb *cb, void *arg, char **root_token);

/* ------------------------------------------------------------------ */
/* The ceremony engine (ceremony/engine.c, engine_sinks.c)            */
/* ------------------------------------------------------------------ */

#include <signal.h>

struct hsm_pubkey;

/* Longest sealed-share context (see ceremony_share_context). */
#define CEREMONY_CTX_MAX 512

/*
 * The context bytes a share is sealed with (DESIGN.md "Sealed share"):
 * "keyquorum/sealed-share/v1", NUL, then set id (16), holder name length
 * (2, big-endian) and name, x (1), kind name length (1) and name,
 * threshold (2, big-endian), fingerprint (32).  The same bytes at seal and
 * unseal: a blob moved to another holder, set, x, kind or threshold fails
 * to open.  KQ_OK and *len; KQ_ERR_INVALID (name too long, cap too small).
 */
int ceremony_share_context(const struct custody_set *cs,
    const struct custody_holder *h, uint8_t x, uint8_t *out, size_t cap,
    size_t *len);

enum ceremony_event_type {
	CEREMONY_EV_WAITING, /* waiting-for-token: needed lists who may come */
	CEREMONY_EV_TOKEN_FOUND, /* token-found: holder, token, fingerprint */
	CEREMONY_EV_PIN_NEEDED, /* pin-needed: holder, token, message: source */
	CEREMONY_EV_SHARE_ACCEPTED, /* share-accepted: holder (commitment ok) */
	CEREMONY_EV_PROGRESS, /* progress: progress/threshold */
	CEREMONY_EV_REMOVE_TOKEN, /* remove-token: holder, token */
	CEREMONY_EV_DONE, /* done: message */
	CEREMONY_EV_ERROR, /* error: holder/token when known, code, message */
	CEREMONY_EV_INFO, /* info: message (state, hints) */
};

/* Strings in an event are valid during the callback only; no secrets. */
struct ceremony_event {
	enum ceremony_event_type type;
	const char *holder;
	const char *token; /* token label */
	const uint8_t *fingerprint; /* CUSTODY_FPR_LEN bytes or NULL */
	const char *needed; /* "alice, bob" */
	unsigned progress, threshold;
	int code; /* a kq_err code (error events) */
	const char *message;
};

/* "waiting-for-token", "token-found", ... */
const char *ceremony_event_name(enum ceremony_event_type t);
typedef void ceremony_event_cb(void *arg, const struct ceremony_event *ev);

/* --pin-source NAME=SOURCE: SOURCE is "file:PATH" or "fd:N". */
struct ceremony_pin_source {
	const char *holder;
	const char *source;
};

struct ceremony_opts {
	const char *op; /* transcript operation: "unseal", "drill", ... */
	const char *module; /* PKCS#11 module for every holder, or NULL */
	/*
	 * Modules the operator named (--module, repeatable).  A holder URI
	 * in the custody file that carries module-path is refused unless
	 * that path is here (or is module): editing the custody file must
	 * never make keyquorum load code.  module-name (p11-kit's registry,
	 * which the administrator controls) needs no listing.
	 */
	const char *const *modules;
	size_t n_modules;
	const char *const *holders; /* scripted order; NULL: interactive */
	size_t n_holders;
	const struct ceremony_pin_source *pins;
	size_t n_pins;
	int allow_final_try;
	int no_tty; /* never prompt for a PIN on the terminal */
	/* pinentry program for PINs (hsm_login_opts.pinentry), or NULL */
	const char *pinentry;
	int keep_going; /* a failing holder is recorded, the next is asked */
	unsigned
	    max_shares; /* stop after this many; 0: until the sink is done */
	long poll_ms; /* interactive slot polling interval; 0: 500 */
	long wait_s; /* interactive: give up after this long; 0: never */
	volatile sig_atomic_t *stop; /* set by a signal handler; may be NULL */
	ceremony_event_cb *on_event; /* may be NULL */
	void *event_arg;
	struct transcript *transcript; /* may be NULL */
};

/* What a sink reports after a share. */
struct ceremony_progress {
	int done; /* the sink needs no more shares */
	int has_vault;
	unsigned progress, threshold;
	char nonce[64]; /* Vault's attempt nonce, for the transcript digest */
};

/*
 * A sink receives each share after its commitment was checked, in secure
 * memory that is wiped as soon as accept returns.  accept returns KQ_OK
 * (p filled) or a code (detail: a sentence, no secret); a code stops the
 * ceremony unless keep_going.
 */
struct ceremony_sink {
	const char *name;
	int (*accept)(void *arg, const struct custody_holder *h,
	    const uint8_t *share, size_t len, struct ceremony_progress *p,
	    char *detail);
	void *arg;
};

/*
 * The loop: for each holder (scripted: in o->holders order; interactive:
 * whichever enrolled holder's token appears, by key fingerprint), open the
 * token, check that its key's fingerprint is the recorded one, log in
 * (pin-source map, terminal, PIN pad; never a final try unless allowed),
 * unseal the sealed share with ceremony_share_context, check its
 * commitment, hand it to the sink, wipe it, log out.  Events go to
 * o->on_event and a transcript line is written for every step (never a
 * secret), including an abort.
 *
 * status (may be NULL) has cs->n_holders entries: 1 accepted, 0 not
 * asked, or the holder's kq_err code.  Returns KQ_OK when the sink is done
 * or max_shares were accepted (or, with keep_going, every holder was
 * asked: see status); KQ_ERR_INTERRUPTED (*o->stop was set);
 * KQ_ERR_QUORUM_SHORT (holders exhausted); the failing holder's code
 * (detail names holder and token).
 */
int ceremony_collect(const struct custody_set *cs,
    const struct ceremony_opts *o, const struct ceremony_sink *sink,
    int *status, char *detail);

/*
 * Read every holder's public key from their token (no PIN), checking
 * each fingerprint against the set (the token, not the file, says who a
 * holder is).  keys has cs->n_holders entries, filled on success (free
 * each with hsm_pubkey_free).  Same returns as ceremony_collect.
 */
int ceremony_collect_pubkeys(const struct custody_set *cs,
    const struct ceremony_opts *o, struct hsm_pubkey **keys, char *detail);

/* One holder's key from their token (no PIN), fingerprint checked. */
int ceremony_holder_pubkey(const struct custody_set *cs,
    const struct ceremony_opts *o, size_t index, struct hsm_pubkey **out,
    char *detail);

/*
 * Seal one share (Vault layout: x last) to holder index's key k: the
 * commitment and the sealed blob are recorded in cs (custody_holder_set_share).
 * KQ_ERR_INVALID (share under CUSTODY_MIN_SHARE bytes), KQ_ERR_FORMAT
 * (x taken by another holder), KQ_ERR_WRONG_TOKEN (k is not the holder's
 * key), the hsm layer's codes.
 */
int ceremony_seal_share(struct custody_set *cs, size_t index,
    const struct hsm_pubkey *k, const uint8_t *share, size_t len, char *detail);

/* Append one transcript line for the set (t NULL: nothing). */
int ceremony_log(struct transcript *t, const struct custody_set *cs,
    const char *op, const char *outcome, const char *holder, const uint8_t *fpr,
    const struct ceremony_progress *p, const char *detail);

/* ---- sinks (ceremony/engine_sinks.c) ---- */

struct vault_client;

/* Vault unseal (also recovery under auto-unseal is not unsealed this way). */
struct ceremony_unseal_sink {
	struct vault_client *vc;
	struct vault_seal_status st; /* the last status seen */
	unsigned submitted;
};
/* Fill sink for s; s->vc and s->st (a fresh seal status) set by the caller. */
void ceremony_unseal_sink_init(
    struct ceremony_unseal_sink *s, struct ceremony_sink *sink);

struct ceremony_root_sink {
	struct vault_client *vc;
	char nonce[64];
	struct vault_generate_root_status st;
	char *encoded; /* secure, set once complete */
	unsigned submitted;
};
void ceremony_root_sink_init(
    struct ceremony_root_sink *s, struct ceremony_sink *sink);
/* Wipe and free what the sink holds. */
void ceremony_root_sink_clear(struct ceremony_root_sink *s);

/* Local combine: threshold shares recombined in secure memory. */
struct ceremony_combine_sink {
	unsigned threshold;
	size_t n;
	size_t share_len;
	uint8_t *shares[CUSTODY_MAX_HOLDERS];
	uint8_t *secret; /* secure, share_len - 1 bytes, once done */
	size_t secret_len;
};
void ceremony_combine_sink_init(struct ceremony_combine_sink *s,
    unsigned threshold, struct ceremony_sink *sink);
void ceremony_combine_sink_clear(struct ceremony_combine_sink *s);

/* Drill: the share opened and matched its commitment; nothing else. */
void ceremony_drill_sink_init(struct ceremony_sink *sink);

/* ------------------------------------------------------------------ */
/* Rollback envelopes (ceremony/envelope_fmt.c, envelope.c,           */
/* rollback.c; keyquorum-envelope(5), docs/rollback-plan.md)          */
/* ------------------------------------------------------------------ */

struct hsm_session;
struct kq_sbuf;

#define ENVELOPE_MAGIC "KQEV"
#define ENVELOPE_VERSION 1
#define ENVELOPE_ID_LEN 16
#define ENVELOPE_KEY_LEN 32 /* the data key (secretstream key) */
#define ENVELOPE_WRAPPED_LEN 60 /* HSM AES-GCM: IV 12, key 32, tag 16 */
#define ENVELOPE_SS_HEADER_LEN 24 /* secretstream header */
#define ENVELOPE_ABYTES 17 /* per chunk: secretstream tag + MAC */
#define ENVELOPE_CHUNK 65536 /* plaintext bytes per chunk (writer) */
#define ENVELOPE_CHUNK_MIN 1024 /* accepted by the reader */
#define ENVELOPE_CHUNK_MAX (1024 * 1024)
#define ENVELOPE_STR_MAX 255 /* each header string, bytes */
#define ENVELOPE_HEADER_MAX 2048
#define ENVELOPE_FIXED_LEN 52 /* magic .. set id */
/* Default HSM key label and object label prefixes. */
#define ENVELOPE_KEY_LABEL "keyquorum-envelope-key"
#define ENVELOPE_OBJ_PREFIX "keyquorum-envelope/"
#define ENVELOPE_PUB_PREFIX "keyquorum-envelope-header/"
/* Largest envelope stored as an HSM data object. */
#define ENVELOPE_HSM_MAX (64 * 1024)
/* Largest rollback plan (it is parsed whole, in secure memory). */
#define ROLLBACK_PLAN_MAX (4 * 1024 * 1024)

enum envelope_content {
	ENVELOPE_FILE = 1, /* any bytes */
	ENVELOPE_ROLLBACK_PLAN = 2, /* a rollback plan (JSON) */
	ENVELOPE_ROOT_TOKEN = 3, /* a Vault root token (generate-root) */
};

/* "file", "rollback-plan", "vault-root-token"; NULL when unknown. */
const char *envelope_content_name(enum envelope_content c);
int envelope_content_parse(const char *s, enum envelope_content *c);

/*
 * A header, parsed or to be written.  Nothing in it is secret: the data
 * key appears only encrypted under the HSM's key.  Strings are
 * NUL-terminated, at most ENVELOPE_STR_MAX bytes, without control
 * characters.
 */
struct envelope_info {
	unsigned version;
	enum envelope_content content;
	uint8_t id[ENVELOPE_ID_LEN];
	time_t created;
	uint32_t chunk_size;
	uint8_t set_id[CUSTODY_SET_ID_LEN];
	char label[ENVELOPE_STR_MAX + 1];
	char creator[ENVELOPE_STR_MAX + 1];
	char token_label[ENVELOPE_STR_MAX + 1]; /* the HSM token */
	char token_serial[ENVELOPE_STR_MAX + 1];
	char key_label[ENVELOPE_STR_MAX + 1]; /* its AES-256 key */
	char quorum[ENVELOPE_STR_MAX + 1]; /* holders who sealed, "a,b" */
	uint8_t wrapped[ENVELOPE_WRAPPED_LEN];
	uint8_t ss_header[ENVELOPE_SS_HEADER_LEN];
	size_t prefix_len; /* header bytes before `wrapped` */
	size_t header_len; /* the whole header */
};

/*
 * Encode info into out (cap >= ENVELOPE_HEADER_MAX): *len the header's
 * length, info->prefix_len and header_len set.  KQ_ERR_INVALID (a string
 * too long or with a control character, unknown content, chunk size out
 * of range).
 */
int envelope_header_encode(
    struct envelope_info *info, uint8_t *out, size_t cap, size_t *len);

/*
 * Parse the header at the start of b (n bytes; more may follow).
 * KQ_OK and *out; KQ_ERR_ENVELOPE_TRUNCATED (n is shorter than the
 * header), KQ_ERR_FORMAT (bad magic, lengths, strings, chunk size),
 * KQ_ERR_VERSION (another version or content type).
 */
int envelope_header_parse(
    const uint8_t *b, size_t n, struct envelope_info *out);

/*
 * The AES-GCM associated data of the data key:
 * "keyquorum/envelope/v1/data-key", NUL, then the header's first
 * prefix_len bytes.  out holds ENVELOPE_HEADER_MAX + 32 bytes.
 */
size_t envelope_key_aad(
    const uint8_t *hdr, size_t prefix_len, uint8_t *out, size_t cap);

/* Where the body goes: KQ_OK to go on, a code to stop. */
typedef int envelope_out_cb(void *arg, const uint8_t *p, size_t n);

/* Where bytes come from: a file descriptor, or a buffer when fd < 0. */
struct envelope_src {
	int fd;
	const uint8_t *buf;
	size_t len, off;
};

/*
 * Seal: start a secretstream with key (ENVELOPE_KEY_LEN bytes, secure),
 * which fills info->ss_header; encode the header (info->wrapped must be
 * set) and give it to out; then read in to its end in chunks of
 * info->chunk_size, each pushed with the header's SHA-256 as associated
 * data, the last one tagged final (a final chunk always holds fewer than
 * chunk_size bytes, possibly none).  Memory: bounded (about 8 MiB of
 * batches, plaintext in secure memory), whatever the size.  A body larger
 * than one batch is read by a helper thread and written by another: out
 * is then called on that writer thread, one call at a time and in order.
 * *n_in (may be NULL) gets the plaintext length.  KQ_OK, KQ_ERR_IO,
 * KQ_ERR_NOMEM, KQ_ERR_INVALID, or out's code.
 */
int envelope_stream_seal(const uint8_t *key, struct envelope_info *info,
    struct envelope_src *in, envelope_out_cb *out, void *arg, uint64_t *n_in);

/*
 * Open: in is positioned just after the header hdr (hdr_len bytes, as
 * parsed into info).  Each chunk is checked before its plaintext (secure
 * memory, wiped after out returns) goes to out.  KQ_OK and *n_out;
 * KQ_ERR_INTEGRITY (a chunk fails: detail names it), KQ_ERR_ENVELOPE_
 * TRUNCATED (no final chunk), KQ_ERR_FORMAT (bytes after the final chunk),
 * KQ_ERR_IO, or out's code.  Callers that must not publish unverified
 * bytes write to a file that becomes visible only after KQ_OK.  Memory
 * and threads as envelope_stream_seal (out on the writer thread for a
 * body larger than one batch).
 */
int envelope_stream_open(const uint8_t *key, const struct envelope_info *info,
    const uint8_t *hdr, size_t hdr_len, struct envelope_src *in,
    envelope_out_cb *out, void *arg, uint64_t *n_out, char *detail);

/*
 * Read and parse a header from fd (exactly the header's bytes are
 * consumed).  hdr holds ENVELOPE_HEADER_MAX bytes.  Returns as
 * envelope_header_parse, plus KQ_ERR_IO.
 */
int envelope_header_read(
    int fd, uint8_t *hdr, size_t *hdr_len, struct envelope_info *info);

/* ---- with the HSM (ceremony/envelope.c) ---- */

/* A fresh random data key in secure memory (kq_secfree). */
int envelope_key_new(uint8_t **key);

/*
 * Have the HSM encrypt key under its AES-256 key key_label (AES-GCM inside
 * the HSM; the associated data binds the header prefix) into
 * info->wrapped.  hdr/prefix_len: info encoded once with wrapped zeroed.
 * s must be logged in.  The hsm layer's codes; detail says what failed.
 */
int envelope_wrap_key(struct hsm_session *s, struct envelope_info *info,
    const uint8_t *key, char *detail);

/*
 * The reverse, on the HSM: *key (secure, ENVELOPE_KEY_LEN bytes) from
 * info->wrapped.  KQ_ERR_ENVELOPE_WRONG_HSM (the key label is not on this
 * token), KQ_ERR_INTEGRITY (the header or data key was altered, or
 * another key of that label: detail says which can be told apart), the
 * hsm layer's codes.
 */
int envelope_unwrap_key(struct hsm_session *s, const uint8_t *hdr,
    const struct envelope_info *info, uint8_t **key, char *detail);

/* "keyquorum-envelope/<id hex>" and the public header's label. */
void envelope_object_label(
    const uint8_t id[ENVELOPE_ID_LEN], int header_only, char *out, size_t cap);

/* Lower-case hex of the id (33 bytes). */
void envelope_id_hex(const uint8_t id[ENVELOPE_ID_LEN], char out[33]);
/* Parse 32 hex digits.  KQ_OK or KQ_ERR_ENCODING. */
int envelope_id_parse(const char *s, uint8_t id[ENVELOPE_ID_LEN]);

/* ---- rollback plans (ceremony/rollback.c, docs/rollback-plan.md) ---- */

struct rollback_plan;

/*
 * Parse and validate a plan (n bytes of JSON at p).  Every JSON block of
 * the plan lives in secure memory (previous values are secrets).  KQ_OK
 * (*out owned by the caller); KQ_ERR_PLAN with detail naming the entry
 * (its index and credential name) and the field, never a value;
 * KQ_ERR_TOO_LONG; KQ_ERR_NOMEM.
 */
int rollback_plan_parse(
    const uint8_t *p, size_t n, struct rollback_plan **out, char *detail);
void rollback_plan_free(struct rollback_plan *plan);
size_t rollback_plan_count(const struct rollback_plan *plan);

/*
 * Render into a new secure buffer (*out, kq_sbuf_free): json != 0 the
 * plan as canonical JSON (sorted keys, one line per entry is not
 * promised); otherwise a checklist for people, with info (may be NULL)
 * naming the envelope.  KQ_OK, KQ_ERR_NOMEM, KQ_ERR_TOO_LONG.
 */
int rollback_plan_render(const struct rollback_plan *plan,
    const struct envelope_info *info, int json, struct kq_sbuf **out);

/*
 * A time limit as the plan writes it ("90s", "15m", "1h30m", "2d"; at
 * most 30 days) in seconds.  KQ_OK or KQ_ERR_PLAN.
 */
int rollback_parse_duration(const char *s, unsigned long *secs);

#endif
