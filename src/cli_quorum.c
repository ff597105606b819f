/* keyquorum CLI: the options every quorum ceremony takes (cli_quorum.h). */
#include "cli_quorum.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* --holders NAME,NAME,...: the order holders are asked in. */
static int
split_holders(struct cli_quorum *q, const char *s)
{
	char *p, *save = NULL;

	free(q->holders_buf);
	if ((q->holders_buf = strdup(s)) == NULL)
		return -1;
	q->n_holders = 0;
	for (p = strtok_r(q->holders_buf, ",", &save); p != NULL;
	     p = strtok_r(NULL, ",", &save)) {
		if (q->n_holders == CUSTODY_MAX_HOLDERS)
			return -1;
		q->holders[q->n_holders++] = p;
	}
	return q->n_holders > 0 ? 0 : -1;
}

int
cli_quorum_option(struct cli_quorum *q, const char *verb, int ch, char *arg)
{
	unsigned v;

	switch (ch) {
	case 'c':
		q->custody = arg;
		return 0;
	case 'H':
		if (split_holders(q, arg) != 0)
			return cli_usage_error(verb,
			    "--holders wants NAME,NAME,... (at most %d)",
			    CUSTODY_MAX_HOLDERS);
		return 0;
	case 'p':
		if (cli_pin_source_add(
		        arg, q->pins, &q->n_pins, CUSTODY_MAX_HOLDERS) != 0)
			return cli_usage_error(verb,
			    "--pin-source wants NAME=file:PATH or NAME=fd:N");
		return 0;
	case 'F':
		q->allow_final_try = 1;
		return 0;
	case 'E':
		q->pinentry = arg != NULL ? arg : "";
		return 0;
	case 'j':
		q->json = 1;
		return 0;
	case 't':
		q->transcript = arg;
		return 0;
	case 'm':
		if (q->n_modules == CLI_QUORUM_MAX_MODULES)
			return cli_usage_error(verb, "too many --module");
		q->modules[q->n_modules++] = arg;
		/* One --module serves every holder; several only allow the
		 * custody file's module-path values. */
		q->module = q->n_modules == 1 ? arg : NULL;
		return 0;
	case 'M':
		q->hsm_module = arg;
		return 0;
	case 'w':
		if (cli_parse_uint(arg, 1, 86400 * 7, &v) != 0)
			return cli_usage_error(verb, "--wait wants seconds");
		q->wait_s = (long)v;
		return 0;
	default:
		return -1;
	}
}

void
cli_quorum_apply(const struct cli_quorum *q, struct ceremony_opts *o)
{
	o->module = q->module;
	o->modules = q->modules;
	o->n_modules = q->n_modules;
	if (q->n_holders > 0) {
		o->holders = q->holders;
		o->n_holders = q->n_holders;
	}
	o->pins = q->pins;
	o->n_pins = q->n_pins;
	o->allow_final_try = q->allow_final_try;
	o->pinentry = q->pinentry;
	o->wait_s = q->wait_s;
}

void
cli_quorum_free(struct cli_quorum *q)
{
	free(q->holders_buf);
	q->holders_buf = NULL;
	q->n_holders = 0;
}
