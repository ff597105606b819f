/*
 * keyquorum: hardware-backed custody of Vault / OpenBao unseal keys.
 * The full binary: every verb.  main() hardens the process and dispatches
 * the verb from the table (src/cli_main.c).  Installed as
 * $(LIBEXECDIR)/keyquorum/keyquorum-full; the `keyquorum` users run is
 * the front (src/front.c), which execs this binary for every verb that
 * is not offline.
 */
#include "ceremony/ceremony.h"
#include "cli.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"

static const struct cli_verb verbs[] = {
#define KQ_VERB(name, fn, summary) {name, fn, summary},
#define KQ_VERB_OFFLINE(name, fn, summary) {name, fn, summary},
#include "verbs.def"
#undef KQ_VERB_OFFLINE
#undef KQ_VERB
};

int
main(int argc, char **argv)
{
	int r;

	if ((r = kq_harden_process()) != KQ_OK)
		return cli_fail(NULL, r, "hardening the process");
	if ((r = kq_secmem_init()) != KQ_OK)
		return cli_fail(NULL, r, "initialising libsodium");
	/* Before any JSON is made: every jansson block is wiped on free. */
	if ((r = ceremony_json_init()) != KQ_OK)
		return cli_fail(NULL, r, "initialising JSON");
	return cli_dispatch(
	    argc, argv, verbs, sizeof(verbs) / sizeof(verbs[0]));
}
