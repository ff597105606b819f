/*
 * keyquorum audit: check a ceremony transcript's hash chain.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ceremony/ceremony.h"
#include "cli.h"
#include "common/err.h"

static const char audit_help[] =
    "usage: keyquorum audit verify FILE\n"
    "\n"
    "Check a ceremony transcript (docs/transcript.md): every line must be a\n"
    "canonical transcript line, numbered one after the other, whose \"prev\"\n"
    "is the SHA-256 of the line before it.  Prints \"FILE: N lines, chain\n"
    "intact\", or names the first broken line and exits 6.\n"
    "\n"
    "A hash chain shows that lines were changed, removed or inserted before\n"
    "the last one; it cannot show that lines were cut from the end.  Keep a\n"
    "copy of the last line's hash (or the file) elsewhere to detect that.\n";

int
cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "audit";
	char detail[CEREMONY_DETAIL_MAX] = "";
	unsigned long long n = 0, bad = 0;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(audit_help);
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (argc - optind != 2 || strcmp(argv[optind], "verify") != 0)
		return cli_usage_error(verb, "want: audit verify FILE");
	ceremony_json_init();
	r = transcript_verify(argv[optind + 1], &n, &bad, detail);
	if (r == KQ_ERR_CHAIN) {
		cli_errx(
		    verb, "%s: chain broken at %s", argv[optind + 1], detail);
		return kq_exit_status(r);
	}
	if (r != KQ_OK) {
		cli_errx(verb, "%s: %s", detail[0] ? detail : argv[optind + 1],
		    kq_strerror(r));
		return kq_exit_status(r);
	}
	printf("%s: %llu line%s, chain intact\n", argv[optind + 1], n,
	    n == 1 ? "" : "s");
	return fflush(stdout) == 0 ? 0 : KQ_EXIT_ERROR;
}
