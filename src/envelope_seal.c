/*
 * keyquorum ceremony seal-envelope: a file or a rollback plan (validated
 * first, in secure memory) into a new envelope file, and with
 * --store-in-hsm also into the HSM as a private data object beside a
 * public copy of its header.  Nothing is written unless all of it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/ceremony.h"
#include "cli.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/secio.h"
#include "common/secmem.h"
#include "envelope_int.h"

/* Does the input look like a rollback plan (its version key up front)? */
static int
looks_like_plan(int fd)
{
	char buf[4096];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	ssize_t i;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (i = 0; i < n &&
	     (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' ||
	         buf[i] == '\t');
	     i++)
		;
	return i < n && buf[i] == '{' &&
	    strstr(buf, "\"keyquorum_rollback_plan\"") != NULL;
}

static int
seal_store(struct envelope_prep *p, const uint8_t *env, size_t n)
{
	char lab[128], plab[128];
	int r;

	envelope_object_label(p->info.id, 0, lab, sizeof(lab));
	envelope_object_label(p->info.id, 1, plab, sizeof(plab));
	if ((r = hsm_data_create(p->hs, lab, env, n)) != KQ_OK)
		return env_fail(p, r,
		    "storing the envelope in HSM token \"%s\": %s: %s; "
		    "nothing was written",
		    p->tid.label, kq_strerror(r), hsm_ctx_detail(p->hc));
	r = hsm_pubdata_create(p->hs, plab, env, p->info.header_len);
	if (r != KQ_OK) {
		(void)hsm_data_delete(p->hs, lab);
		return env_fail(p, r,
		    "storing the envelope's public header in HSM token "
		    "\"%s\": %s: %s; nothing was written",
		    p->tid.label, kq_strerror(r), hsm_ctx_detail(p->hc));
	}
	return 0;
}

static void
unstore(struct envelope_prep *p)
{
	char lab[128];

	envelope_object_label(p->info.id, 0, lab, sizeof(lab));
	(void)hsm_data_delete(p->hs, lab);
	envelope_object_label(p->info.id, 1, lab, sizeof(lab));
	(void)hsm_pubdata_delete(p->hs, lab);
}

/* What is sealed: the input file, or a validated plan in secure memory. */
struct seal_in {
	int fd;
	struct kq_sbuf *plan_text;
	struct rollback_plan *plan;
	struct envelope_src src;
};

static void
seal_in_free(struct seal_in *in)
{
	if (in->fd >= 0)
		close(in->fd);
	kq_sbuf_free(in->plan_text);
	rollback_plan_free(in->plan);
}

/*
 * Open the input, settle its type, refuse what the HSM cannot store, and
 * read and validate a plan: all before any holder is asked.
 */
static int
seal_input(struct envelope_prep *p, struct env_args *a, struct seal_in *in)
{
	struct stat st;
	int r;

	in->fd = strcmp(a->in, "-") == 0 ? dup(STDIN_FILENO)
	                                 : open(a->in, O_RDONLY | O_CLOEXEC);
	if (in->fd < 0 || fstat(in->fd, &st) != 0) {
		r = kq_errno_to_err(errno);
		return env_fail(p, r, "%s: %s", a->in, kq_strerror(r));
	}
	if (!a->have_type)
		a->type = S_ISREG(st.st_mode) && looks_like_plan(in->fd)
		    ? ENVELOPE_ROLLBACK_PLAN
		    : ENVELOPE_FILE;
	if (a->store && !S_ISREG(st.st_mode))
		return env_fail(p, KQ_ERR_USAGE,
		    "--store-in-hsm needs a regular file as --in: its size "
		    "must be known before the ceremony");
	if (a->store &&
	    (uint64_t)st.st_size + ENVELOPE_HEADER_MAX +
	            ((uint64_t)st.st_size / ENVELOPE_CHUNK + 1) *
	                ENVELOPE_ABYTES >
	        ENVELOPE_HSM_MAX)
		return env_fail(p, KQ_ERR_TOO_LONG,
		    "%s is %lld bytes: an envelope stored in the HSM holds at "
		    "most about %d bytes (the HSM's data objects are limited "
		    "to %d); seal it to a file without --store-in-hsm",
		    a->in, (long long)st.st_size,
		    ENVELOPE_HSM_MAX - ENVELOPE_HEADER_MAX - ENVELOPE_ABYTES,
		    ENVELOPE_HSM_MAX);
	in->src.fd = in->fd;
	if (a->type != ENVELOPE_ROLLBACK_PLAN)
		return 0;
	/* A plan is read whole (secure memory) and validated first. */
	if ((r = kq_read_all_fd(in->fd, ROLLBACK_PLAN_MAX, &in->plan_text)) !=
	    KQ_OK)
		return env_fail(p, r, "%s: %s", a->in, kq_strerror(r));
	p->detail[0] = '\0';
	r = rollback_plan_parse(kq_sbuf_ptr(in->plan_text),
	    kq_sbuf_len(in->plan_text), &in->plan, p->detail);
	if (r != KQ_OK)
		return env_fail(p, r, "%s: %s: %s; nothing was sealed", a->in,
		    kq_strerror(r), p->detail);
	ui_say(p->ui, CEREMONY_EV_INFO, 0, NULL,
	    "rollback plan: %zu entr%s, valid", rollback_plan_count(in->plan),
	    rollback_plan_count(in->plan) == 1 ? "y" : "ies");
	in->src.fd = -1;
	in->src.buf = kq_sbuf_ptr(in->plan_text);
	in->src.len = kq_sbuf_len(in->plan_text);
	return 0;
}

/*
 * The body, after the HSM wrapped the data key: into the output file, and
 * for --store-in-hsm into memory first (it is at most ENVELOPE_HSM_MAX),
 * then into the HSM; the file is linked into place last.  *stored says
 * whether the HSM holds it.
 */
static int
seal_body(struct envelope_prep *p, struct env_args *a, struct seal_in *in,
    uint64_t *nin, int *stored)
{
	struct env_outfile of = {.fd = -1};
	struct kq_sbuf *mem = NULL;
	int r, ret = KQ_EXIT_ERROR;

	if (a->out != NULL && (r = env_out_begin(a->out, &of)) != KQ_OK) {
		ret = env_fail(p, r, "%s: %s", a->out, kq_strerror(r));
		goto out;
	}
	if (a->store) {
		if ((mem = kq_sbuf_new(ENVELOPE_HSM_MAX)) == NULL) {
			r = KQ_ERR_NOMEM;
		} else {
			r = envelope_stream_seal(p->key, &p->info, &in->src,
			    env_mem_write, mem, nin);
			if (r == KQ_OK && of.fd >= 0)
				r = env_out_write(
				    &of, kq_sbuf_ptr(mem), kq_sbuf_len(mem));
		}
	} else {
		r = envelope_stream_seal(
		    p->key, &p->info, &in->src, env_out_write, &of, nin);
	}
	kq_secfree(p->key);
	p->key = NULL;
	if (r == KQ_ERR_TOO_LONG && a->store) {
		ret = env_fail(p, r,
		    "%s grew past what the HSM stores (%d bytes) while it was "
		    "read; nothing was written",
		    a->in, ENVELOPE_HSM_MAX);
		goto out;
	}
	if (r != KQ_OK) {
		ret = env_fail(p, r, "sealing %s: %s; nothing was written",
		    a->in, kq_strerror(r));
		goto out;
	}
	if (a->store &&
	    (ret = seal_store(p, kq_sbuf_ptr(mem), kq_sbuf_len(mem))) != 0)
		goto out;
	*stored = a->store;
	if (of.fd >= 0 && (r = env_out_commit(&of)) != KQ_OK) {
		if (*stored)
			unstore(p);
		*stored = 0;
		ret = env_fail(p, r, "%s: %s; nothing was written", a->out,
		    kq_strerror(r));
		goto out;
	}
	ret = 0;
out:
	env_out_abort(&of);
	kq_sbuf_free(mem);
	return ret;
}

int
env_do_seal(struct envelope_prep *p, struct env_args *a)
{
	struct seal_in in;
	char quorum[ENVELOPE_STR_MAX + 1], id[33], msg[160], lab[128];
	struct stat st;
	uint64_t nin = 0;
	int ret, stored = 0;

	memset(&in, 0, sizeof(in));
	in.fd = -1;
	if (a->in == NULL || a->label == NULL)
		return cli_usage_error("ceremony seal-envelope",
		    "--in FILE and --label L are required");
	if (strlen(a->label) > ENVELOPE_STR_MAX)
		return cli_usage_error("ceremony seal-envelope",
		    "--label is at most %d bytes", ENVELOPE_STR_MAX);
	if (a->out == NULL && !a->store)
		return cli_usage_error("ceremony seal-envelope",
		    "give --out FILE, --store-in-hsm, or both");
	if (a->out != NULL && lstat(a->out, &st) == 0) {
		ret = env_fail(p, KQ_ERR_EXISTS,
		    "%s exists: envelopes are written to new files only",
		    a->out);
		goto out;
	}
	if ((ret = seal_input(p, a, &in)) != 0 ||
	    (ret = env_login(p, quorum, sizeof(quorum))) != 0 ||
	    (ret = env_wrap(p, a->label, a->type, quorum)) != 0)
		goto out;
	if (!a->store)
		env_close_hsm(p); /* logged out before the body is read */
	if ((ret = seal_body(p, a, &in, &nin, &stored)) != 0)
		goto out;
	envelope_id_hex(p->info.id, id);
	snprintf(msg, sizeof(msg), "envelope %s, %s, %llu bytes%s", id,
	    envelope_content_name(p->info.content), (unsigned long long)nin,
	    stored ? ", stored in the HSM" : "");
	ceremony_log(
	    p->tr, p->cs, "seal-envelope", "sealed", NULL, NULL, NULL, msg);
	envelope_object_label(p->info.id, 0, lab, sizeof(lab));
	ui_say(p->ui, CEREMONY_EV_DONE, 0, NULL,
	    "%s of %llu bytes sealed into envelope %s \"%s\" (HSM token "
	    "\"%s\", key \"%s\")%s%s%s%s",
	    envelope_content_name(p->info.content), (unsigned long long)nin, id,
	    p->info.label, p->info.token_label, p->info.key_label,
	    a->out != NULL ? "; written to " : "", a->out != NULL ? a->out : "",
	    stored ? "; stored in the HSM as " : "", stored ? lab : "");
	ret = 0;
out:
	seal_in_free(&in);
	return ret;
}
