/*
 * keyquorum CLI: what the envelope sources share (src/envelope_*.c,
 * src/cmd_envelope.c).  Private to src/.
 */
#ifndef KQ_ENVELOPE_INT_H
#define KQ_ENVELOPE_INT_H

#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/ceremony.h"
#include "cli_quorum.h"
#include "envelope_cli.h"
#include "hsm/hsm.h"
#include "ui.h"

extern const char env_help[];

/* Set by SIGINT/SIGTERM during an envelope ceremony. */
extern volatile sig_atomic_t env_stop;

/* ---- output files that appear only when complete (envelope_io.c) ---- */

struct env_outfile {
	int fd;
	const char *path;
	char tmp[PATH_MAX]; /* named fallback; "" with O_TMPFILE */
	uint64_t off; /* bytes written */
	uint64_t started, done; /* writeback started up to, waited up to */
	int no_hint; /* sync_file_range refused: fsync alone */
};

/*
 * Reserve path: KQ_ERR_EXISTS when it exists; otherwise an unnamed file
 * (O_TMPFILE, mode 0600) in its directory, or a hidden temporary name
 * when the file system has no O_TMPFILE.
 */
int env_out_begin(const char *path, struct env_outfile *of);
/*
 * An envelope_out_cb writing to of; KQ_ERR_INTERRUPTED once env_stop.
 * Every 4 MiB it starts the writeback of what was written since
 * (sync_file_range); with more than 16 MiB in flight it waits for the
 * oldest and drops them from the page cache: commit's fsync has little
 * left to do, and a big envelope neither fills the page cache with dirty
 * pages nor leaves its plaintext there.
 */
int env_out_write(void *arg, const uint8_t *p, size_t n);
/* fsync, link into place (never over a file), fsync the directory. */
int env_out_commit(struct env_outfile *of);
/* Close and forget; nothing is left.  Safe after commit, and twice. */
void env_out_abort(struct env_outfile *of);

/* An envelope_out_cb appending to a secure buffer (arg: struct kq_sbuf). */
int env_mem_write(void *arg, const uint8_t *p, size_t n);

/* ---- the ceremony around the hsm-pin set (envelope_run.c) ---- */

struct env_args {
	struct cli_quorum q; /* the options every quorum ceremony takes */
	int store, have_type;
	const char *in, *label, *out, *envelope, *id, *format;
	enum envelope_content type;
	int plan_fd; /* where a plan is printed (the real stdout) */
};

struct envelope_prep {
	struct ui *ui;
	struct ceremony_opts o;
	struct custody_set *cs;
	struct transcript *tr;
	char tr_path[PATH_MAX];
	struct hsm_uri *hu;
	struct hsm_ctx *hc;
	struct hsm_session *hs;
	struct hsm_token_id tid;
	struct envelope_info info;
	uint8_t *key; /* the data key, secure */
	const char *out_path;
	char detail[CEREMONY_DETAIL_MAX * 2];
};

/* Say what failed (ui), record it in the transcript; the exit status. */
int env_fail(struct envelope_prep *p, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Log out of the HSM and close it (idempotent). */
void env_close_hsm(struct envelope_prep *p);
/*
 * The quorum: the engine's local combine sink rebuilds the HSM PIN, the
 * HSM is logged in with it, the PIN wiped.  quorum gets "a,b".  0 or an
 * exit status (said).
 */
int env_login(struct envelope_prep *p, char *quorum, size_t cap);
/* After env_login: the AES key (made if missing), a data key wrapped. */
int env_wrap(struct envelope_prep *p, const char *label,
    enum envelope_content content, const char *quorum);

/* ---- the two ceremonies (envelope_seal.c, envelope_open.c) ---- */

int env_do_seal(struct envelope_prep *p, struct env_args *a);
int env_do_open(struct envelope_prep *p, struct env_args *a);

/* Print a header for people or as one JSON line (cmd_envelope.c). */
void env_print_header(
    const struct envelope_info *in, int json, const char *where);

#endif
