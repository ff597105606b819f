/*
 * keyquorum envelope show / list: an envelope's header from a file, and
 * the envelopes an HSM holds, by their public headers, without a PIN.
 * Nothing here is secret.  The ceremonies that seal and open envelopes
 * are src/envelope_run.c, envelope_seal.c and envelope_open.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ceremony/ceremony.h"
#include "cli.h"
#include "common/encoding.h"
#include "common/err.h"
#include "common/fileio.h"
#include "envelope_int.h"
#include "hsm/hsm.h"

/* ---- envelope show / list ---- */

void
env_print_header(const struct envelope_info *in, int json, const char *where)
{
	char id[33], set[CUSTODY_SET_ID_LEN * 2 + 1], when[32];
	struct tm tm;

	envelope_id_hex(in->id, id);
	kq_hex_encode(set, sizeof(set), in->set_id, CUSTODY_SET_ID_LEN);
	if (gmtime_r(&in->created, &tm) == NULL)
		snprintf(when, sizeof(when), "?");
	else
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (json) {
		/* Every string was checked free of control characters; '"'
		 * and '\\' are the only ones JSON needs escaped. */
		char buf[4096];
		size_t n;
		json_t *o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
		                      "s:s,s:s,s:i,s:i}",
		    "version", (int)in->version, "id", id, "label", in->label,
		    "content", envelope_content_name(in->content), "created",
		    when, "creator", in->creator, "custody_set", set,
		    "hsm_token", in->token_label, "hsm_serial",
		    in->token_serial, "hsm_key", in->key_label, "quorum",
		    in->quorum, "chunk_size", (int)in->chunk_size,
		    "header_bytes", (int)in->header_len);

		if (o == NULL)
			return;
		if (where != NULL)
			json_object_set_new(o, "stored_as", json_string(where));
		n = json_dumpb(
		    o, buf, sizeof(buf), JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (n > 0 && n < sizeof(buf))
			printf("%.*s\n", (int)n, buf);
		json_decref(o);
		return;
	}
	printf("envelope %s\n  version      %u\n  label        %s\n"
	       "  content      %s\n  created      %s\n  creator      %s\n"
	       "  custody set  %s\n  HSM token    \"%s\", serial %s\n"
	       "  HSM key      %s (AES-256-GCM inside the HSM)\n"
	       "  quorum       %s\n  body         secretstream "
	       "XChaCha20-Poly1305, %u-byte chunks\n",
	    id, in->version, in->label, envelope_content_name(in->content),
	    when, in->creator, set, in->token_label, in->token_serial,
	    in->key_label, in->quorum, in->chunk_size);
	if (where != NULL)
		printf("  stored as    %s (private object)\n", where);
}

static int
envelope_show(int argc, char **argv)
{
	const char *verb = "envelope show", *path = NULL;
	uint8_t hdr[ENVELOPE_HEADER_MAX];
	struct envelope_info in;
	size_t hl;
	int i, json = 0, fd, r;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--help") == 0)
			return cli_help(env_help);
		else if (argv[i][0] == '-' || path != NULL)
			return cli_usage_error(verb, "show FILE [--json]");
		else
			path = argv[i];
	}
	if (path == NULL)
		return cli_usage_error(verb, "show FILE [--json]");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cli_fail(verb, kq_errno_to_err(errno), path);
	r = envelope_header_read(fd, hdr, &hl, &in);
	close(fd);
	if (r != KQ_OK) {
		cli_errx(verb, "%s: %s%s", path, kq_strerror(r),
		    r == KQ_ERR_FORMAT ? " (not a keyquorum envelope)" : "");
		return kq_exit_status(r);
	}
	env_print_header(&in, json, NULL);
	if (!json)
		printf("  (the header only: the body is checked when the "
		       "envelope is opened)\n");
	return 0;
}

static int
envelope_list(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"hsm", required_argument, NULL, 'u'},
	    {"module", required_argument, NULL, 'm'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "envelope list", *uri = NULL, *module = NULL;
	struct hsm_uri *u = NULL;
	struct hsm_ctx *c = NULL;
	struct hsm_session *s = NULL;
	struct hsm_token_id tid;
	struct envelope_info in;
	char **labels = NULL, why[512], lab[128];
	size_t n = 0, i, shown = 0;
	uint8_t *v = NULL;
	size_t vl;
	int ch, json = 0, r, ret = KQ_EXIT_ERROR;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			uri = optarg;
			break;
		case 'm':
			module = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return cli_help(env_help);
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	if (uri == NULL || optind != argc)
		return cli_usage_error(verb, "list --hsm URI [--module PATH]");
	why[0] = '\0';
	if ((r = hsm_open(module, uri, 0, &u, &c, &s, why, sizeof(why))) !=
	    KQ_OK) {
		cli_errx(verb, "%s: %s%s%s", uri, kq_strerror(r),
		    why[0] ? ": " : "", why);
		return kq_exit_status(r);
	}
	if ((r = hsm_session_token_id(s, &tid)) != KQ_OK ||
	    (r = hsm_pubdata_list(s, ENVELOPE_PUB_PREFIX, &labels, &n)) !=
	        KQ_OK) {
		cli_errx(verb, "%s: %s", kq_strerror(r), hsm_ctx_detail(c));
		ret = kq_exit_status(r);
		goto out;
	}
	if (!json)
		printf("HSM token \"%s\" (serial %s), no login:\n", tid.label,
		    tid.serial);
	for (i = 0; i < n; i++) {
		if (hsm_pubdata_read(s, labels[i], &v, &vl) != KQ_OK)
			continue;
		if (envelope_header_parse(v, vl, &in) == KQ_OK) {
			envelope_object_label(in.id, 0, lab, sizeof(lab));
			env_print_header(&in, json, lab);
			shown++;
		}
		free(v);
		v = NULL;
	}
	if (!json)
		printf(
		    "%zu envelope%s listed from public headers.  Not visible "
		    "without the HSM's PIN (a quorum of its hsm-pin set): "
		    "the envelopes themselves (private objects), the "
		    "envelope key, and envelopes stored without a public "
		    "header; a header listed here may belong to an "
		    "envelope since deleted.\n",
		    shown, shown == 1 ? "" : "s");
	ret = 0;
out:
	hsm_strings_free(labels, n);
	hsm_close(u, c, s);
	return ret;
}

int
cmd_envelope(int argc, char **argv)
{
	static const struct cli_action actions[] = {
	    {"show", envelope_show},
	    {"list", envelope_list},
	};

	return cli_action_dispatch("envelope", argc, argv, actions,
	    sizeof(actions) / sizeof(actions[0]), env_help);
}
