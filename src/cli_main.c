/*
 * keyquorum CLI: what both mains share (src/main.c, the full binary, and
 * src/front.c, the small front that runs the offline verbs in-process):
 * the usage listing every verb of src/verbs.def, and the dispatch.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/harden.h"

static int
cli_usage(FILE *f, const struct cli_verb *verbs, size_t n)
{
	size_t i;

	fprintf(f,
	    "usage: keyquorum VERB [options]\n"
	    "       keyquorum --help | --version\n\nverbs:\n");
	for (i = 0; i < n; i++)
		fprintf(f, "  %-14s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f,
	    "\n'keyquorum VERB --help' describes a verb.\n"
	    "exit status: 0 ok, 1 error, 2 usage, 3 PIN/auth,\n"
	    "             4 token/reader, 5 Vault, 6 integrity\n");
	return 0;
}

const struct cli_verb *
cli_verb_of(int argc, char **argv, const struct cli_verb *verbs, size_t n)
{
	const char *name;
	size_t i;

	if (argc < 2)
		return NULL;
	name = argc > 2 && strcmp(argv[1], "help") == 0 ? argv[2] : argv[1];
	for (i = 0; i < n; i++) {
		if (strcmp(name, verbs[i].name) == 0)
			return &verbs[i];
	}
	return NULL;
}

int
cli_dispatch(int argc, char **argv, const struct cli_verb *verbs, size_t n)
{
	const struct cli_verb *v;
	int r;

	if (argc < 2) {
		cli_usage(stderr, verbs, n);
		return KQ_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0)
			argv[1] = argv[2], argv[2] = (char *)"--help", argc = 3;
		else
			return cli_usage(stdout, verbs, n);
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("keyquorum %s\n", KQ_VERSION);
		return 0;
	}
	if ((v = cli_verb_of(argc, argv, verbs, n)) != NULL && v->fn != NULL) {
		r = v->fn(argc - 1, argv + 1);
		kq_scrub_stack();
		return r;
	}
	cli_errx(NULL, "unknown verb '%s' (try 'keyquorum --help')", argv[1]);
	return KQ_EXIT_USAGE;
}
