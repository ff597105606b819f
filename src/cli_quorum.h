/*
 * keyquorum CLI: the options every quorum ceremony takes (ceremony's
 * Vault verbs, seal-envelope and open-envelope): the custody set, which
 * holders in which order, their PIN sources, the modules, the transcript.
 */
#ifndef KQ_CLI_QUORUM_H
#define KQ_CLI_QUORUM_H

#include <stddef.h>

#include "ceremony/ceremony.h"

#define CLI_QUORUM_MAX_MODULES 16

struct cli_quorum {
	const char *custody, *transcript;
	const char *module; /* the one --module, or NULL */
	const char *modules[CLI_QUORUM_MAX_MODULES]; /* every --module */
	size_t n_modules;
	const char *hsm_module; /* --hsm-module */
	char *holders_buf; /* --holders, split in place */
	const char *holders[CUSTODY_MAX_HOLDERS];
	size_t n_holders;
	struct ceremony_pin_source pins[CUSTODY_MAX_HOLDERS];
	size_t n_pins;
	int json, allow_final_try;
	const char *pinentry; /* --pinentry[=PROGRAM]: NULL, "" or a program */
	long wait_s;
};

/* Their getopt_long entries; the values are what cli_quorum_option takes. */
/* clang-format off */
#define CLI_QUORUM_LONGOPTS \
	{"custody", required_argument, NULL, 'c'}, \
	{"holders", required_argument, NULL, 'H'}, \
	{"pin-source", required_argument, NULL, 'p'}, \
	{"allow-final-try", no_argument, NULL, 'F'}, \
	{"pinentry", optional_argument, NULL, 'E'}, \
	{"json", no_argument, NULL, 'j'}, \
	{"transcript", required_argument, NULL, 't'}, \
	{"module", required_argument, NULL, 'm'}, \
	{"hsm-module", required_argument, NULL, 'M'}, \
	{"wait", required_argument, NULL, 'w'}
/* clang-format on */

/*
 * Take option ch (its argument arg) into q.  Returns -1 when ch is not
 * one of CLI_QUORUM_LONGOPTS, 0 when taken, or else the exit status of
 * the usage error it printed (naming verb).
 */
int cli_quorum_option(
    struct cli_quorum *q, const char *verb, int ch, char *arg);

/* Set what q says in a ceremony's options: modules, holders, PINs, wait. */
void cli_quorum_apply(const struct cli_quorum *q, struct ceremony_opts *o);

/* Free what q allocated (the --holders copy). */
void cli_quorum_free(struct cli_quorum *q);

#endif
