/*
 * keyquorum: hardware-backed custody of Vault / OpenBao unseal keys.
 * main() hardens the process and dispatches the verb from a table.
 */
#include <stdio.h>
#include <string.h>

#include "ceremony/ceremony.h"
#include "cli.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"

struct verb {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
};

static const struct verb verbs[] = {
#define KQ_VERB(name, fn, summary) {name, fn, summary},
#include "verbs.def"
#undef KQ_VERB
};

static int
usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: keyquorum VERB [options]\n"
	    "       keyquorum --help | --version\n\nverbs:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-14s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f,
	    "\n'keyquorum VERB --help' describes a verb.\n"
	    "exit status: 0 ok, 1 error, 2 usage, 3 PIN/auth,\n"
	    "             4 token/reader, 5 Vault, 6 integrity\n");
	return 0;
}

int
main(int argc, char **argv)
{
	size_t i;
	int r;

	if ((r = kq_harden_process()) != KQ_OK)
		return cli_fail(NULL, r, "hardening the process");
	if ((r = kq_secmem_init()) != KQ_OK)
		return cli_fail(NULL, r, "initialising libsodium");
	/* Before any JSON is made: every jansson block is wiped on free. */
	if ((r = ceremony_json_init()) != KQ_OK)
		return cli_fail(NULL, r, "initialising JSON");
	if (argc < 2) {
		usage(stderr);
		return KQ_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0)
			argv[1] = argv[2], argv[2] = (char *)"--help", argc = 3;
		else
			return usage(stdout);
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("keyquorum %s\n", KQ_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].name) == 0) {
			r = verbs[i].fn(argc - 1, argv + 1);
			kq_scrub_stack();
			return r;
		}
	}
	cli_errx(NULL, "unknown verb '%s' (try 'keyquorum --help')", argv[1]);
	return KQ_EXIT_USAGE;
}
