/*
 * keyquorum CLI: rollback envelopes (src/cmd_envelope.c, src/envelope_pin.c).
 * The entry points other verbs dispatch to, and the two-step sealer that
 * `ceremony generate-root --seal-envelope` uses.
 */
#ifndef KQ_ENVELOPE_CLI_H
#define KQ_ENVELOPE_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "ceremony/ceremony.h"
#include "ui.h"

/* `keyquorum ceremony seal-envelope ...` (argv[0] is "seal-envelope"). */
int cli_ceremony_seal_envelope(int argc, char **argv);
/* `keyquorum ceremony open-envelope ...` (argv[0] is "open-envelope"). */
int cli_ceremony_open_envelope(int argc, char **argv);
/* 1 when `custody create` argv asks for --kind hsm-pin. */
int cli_custody_wants_hsm_pin(int argc, char **argv);
/* `keyquorum custody create --kind hsm-pin ...` (argv[0] is "create"). */
int cli_custody_create_hsm_pin(int argc, char **argv);

/*
 * Sealing in two steps, for a secret that exists only after another
 * ceremony (generate-root --seal-envelope): envelope_cli_prepare runs the
 * hsm-pin set's quorum, has the HSM encrypt a fresh data key and logs out
 * again; nothing is written and out_path must not exist.  Then
 * envelope_cli_finish seals n bytes into out_path (0600, created only when
 * complete).  base supplies holders, PIN sources, module and events; its
 * transcript is replaced by the hsm-pin set's.  Both return an exit
 * status (0 ok) after saying what went wrong through ui.
 */
struct envelope_prep;
int envelope_cli_prepare(const char *custody_path, const char *label,
    const char *out_path, enum envelope_content content, const char *hsm_module,
    const struct ceremony_opts *base, struct ui *ui,
    struct envelope_prep **out);
int envelope_cli_finish(struct envelope_prep *p, const uint8_t *data, size_t n);
void envelope_cli_free(struct envelope_prep *p);

/*
 * generate-root --seal-envelope SET [--envelope-holders A,B]
 * [--envelope-label L] [--hsm-module PATH] --out FILE: envelope_cli_prepare
 * for a root token, with the hsm-pin set's own scripted holders (NULL:
 * interactive).  will_decode: the token will be decoded here (the attempt
 * is started here, or --otp-file); otherwise a usage error.
 */
int cli_envelope_for_root(const char *set, const char *label,
    const char *holders, const char *out_path, const char *hsm_module,
    int will_decode, const struct ceremony_opts *base, struct ui *ui,
    struct envelope_prep **out);

#endif
