/*
 * keyquorum ceremony open-envelope: an envelope from a file or from the
 * HSM (--id), checked against the custody set and the HSM before anyone is
 * asked, then opened chunk by chunk; a rollback plan is validated and
 * printed as a checklist (or JSON), anything else goes to a new file that
 * appears only once every chunk has been verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/ceremony.h"
#include "cli.h"
#include "common/encoding.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/secio.h"
#include "common/secmem.h"
#include "envelope_int.h"

static int
open_read_header_file(struct envelope_prep *p, const char *path, int *fd,
    uint8_t *hdr, size_t *hl)
{
	int r;

	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = kq_errno_to_err(errno);
		return env_fail(p, r, "%s: %s", path, kq_strerror(r));
	}
	r = envelope_header_read(*fd, hdr, hl, &p->info);
	if (r != KQ_OK)
		return env_fail(p, r, "%s: %s: %s", path, kq_strerror(r),
		    r == KQ_ERR_ENVELOPE_TRUNCATED
		        ? "the header is cut short"
		        : "not a keyquorum envelope (keyquorum-envelope(5))");
	return 0;
}

/* Cheap checks before any holder is asked. */
static int
open_precheck(struct envelope_prep *p)
{
	char a[CUSTODY_SET_ID_LEN * 2 + 1], b[CUSTODY_SET_ID_LEN * 2 + 1];

	if (memcmp(p->info.set_id, p->cs->set_id, CUSTODY_SET_ID_LEN) != 0) {
		kq_hex_encode(a, sizeof(a), p->info.set_id, CUSTODY_SET_ID_LEN);
		kq_hex_encode(b, sizeof(b), p->cs->set_id, CUSTODY_SET_ID_LEN);
		return env_fail(p, KQ_ERR_ENVELOPE_WRONG_SET,
		    "the envelope was sealed under custody set %s, not %s "
		    "(\"%s\"): no holder was asked",
		    a, b, p->cs->name);
	}
	if (strcmp(p->info.token_serial, p->tid.serial) != 0 ||
	    strcmp(p->info.token_label, p->tid.label) != 0)
		return env_fail(p, KQ_ERR_ENVELOPE_WRONG_HSM,
		    "the envelope was sealed in HSM token \"%s\" (serial %s), "
		    "but the set's HSM is token \"%s\" (serial %s): no holder "
		    "was asked",
		    p->info.token_label, p->info.token_serial, p->tid.label,
		    p->tid.serial);
	return 0;
}

/* The content's checks, once the header is known. */
static int
open_checks(struct envelope_prep *p, const struct env_args *a)
{
	int ret;

	if ((ret = open_precheck(p)) != 0)
		return ret;
	if (p->info.content != ENVELOPE_ROLLBACK_PLAN && a->out == NULL)
		return env_fail(p, KQ_ERR_USAGE,
		    "the envelope holds a %s: give --out FILE (new, 0600), or "
		    "--out - for standard output once every chunk is verified",
		    envelope_content_name(p->info.content));
	return 0;
}

/* Where the envelope is read from, and its header. */
struct open_src {
	int fd; /* --envelope */
	struct kq_sbuf *obj; /* --id: the HSM's object, read after login */
	uint8_t id[ENVELOPE_ID_LEN];
	uint8_t hdr[ENVELOPE_HEADER_MAX];
	size_t hl; /* 0: header not known yet */
	struct envelope_src src;
};

/*
 * Before the quorum: the file's header, or the HSM's public copy of it
 * (when it was stored with one), and the checks that need no PIN.
 */
static int
open_locate(
    struct envelope_prep *p, const struct env_args *a, struct open_src *o)
{
	char lab[128];
	uint8_t *pub = NULL;
	size_t pl = 0;
	int ret;

	if (a->envelope != NULL) {
		if ((ret = open_read_header_file(
		         p, a->envelope, &o->fd, o->hdr, &o->hl)) != 0)
			return ret;
		o->src.fd = o->fd;
	} else {
		envelope_object_label(o->id, 1, lab, sizeof(lab));
		if (hsm_pubdata_read(p->hs, lab, &pub, &pl) == KQ_OK &&
		    envelope_header_parse(pub, pl, &p->info) == KQ_OK)
			o->hl = p->info.header_len;
		free(pub);
	}
	if (o->hl > 0 && (ret = open_checks(p, a)) != 0)
		return ret;
	if (a->out != NULL && strcmp(a->out, "-") != 0 &&
	    access(a->out, F_OK) == 0)
		return env_fail(p, KQ_ERR_EXISTS,
		    "%s exists: nothing is overwritten", a->out);
	return 0;
}

/* --id, logged in: the private object, its header checked again. */
static int
open_load_object(
    struct envelope_prep *p, const struct env_args *a, struct open_src *o)
{
	char lab[128];
	int r;

	envelope_object_label(o->id, 0, lab, sizeof(lab));
	if ((r = hsm_data_read(p->hs, lab, &o->obj)) != KQ_OK)
		return env_fail(p, r,
		    "HSM token \"%s\" holds no envelope %s: %s", p->tid.label,
		    a->id, hsm_ctx_detail(p->hc));
	r = envelope_header_parse(
	    kq_sbuf_ptr(o->obj), kq_sbuf_len(o->obj), &p->info);
	if (r != KQ_OK)
		return env_fail(
		    p, r, "the HSM's envelope %s: %s", a->id, kq_strerror(r));
	if (memcmp(p->info.id, o->id, ENVELOPE_ID_LEN) != 0)
		return env_fail(p, KQ_ERR_INTEGRITY,
		    "the HSM object %s holds another envelope", lab);
	o->hl = p->info.header_len;
	memcpy(o->hdr, kq_sbuf_ptr(o->obj), o->hl);
	o->src.fd = -1;
	o->src.buf = kq_sbuf_ptr(o->obj);
	o->src.len = kq_sbuf_len(o->obj);
	o->src.off = o->hl;
	return open_checks(p, a);
}

static int
discard(void *arg, const uint8_t *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return env_stop ? KQ_ERR_INTERRUPTED : KQ_OK;
}

static int
fd_write(void *arg, const uint8_t *p, size_t n)
{
	return kq_write_all(*(int *)arg, p, n);
}

/*
 * --out - for content other than a plan: every chunk is verified in a
 * first pass that writes nothing, then opened again onto standard output.
 * (Only a change to the envelope between the passes can fail the second;
 * the error then says what was printed.)
 */
static int
open_to_stdout(struct envelope_prep *p, const struct env_args *a,
    struct open_src *o, uint64_t *nout)
{
	size_t off = o->src.off;
	int r;

	r = envelope_stream_open(p->key, &p->info, o->hdr, o->hl, &o->src,
	    discard, NULL, nout, p->detail);
	if (r != KQ_OK)
		return r;
	if (o->src.fd >= 0 &&
	    lseek(o->src.fd, (off_t)o->hl, SEEK_SET) != (off_t)o->hl)
		return KQ_ERR_IO;
	o->src.off = off;
	r = envelope_stream_open(p->key, &p->info, o->hdr, o->hl, &o->src,
	    fd_write, (void *)(uintptr_t)&a->plan_fd, nout, p->detail);
	if (r != KQ_OK) {
		size_t l = strlen(p->detail);

		snprintf(p->detail + l, sizeof(p->detail) - l,
		    " (the envelope changed after it was verified: part of it "
		    "was printed already)");
	}
	return r;
}

/*
 * The body with the data key: a plan (or anything without --out) into
 * secure memory, validated; anything else into a file that appears only
 * when complete.  *mem gets the plaintext kept in memory.
 */
static int
open_body(struct envelope_prep *p, const struct env_args *a, struct open_src *o,
    struct kq_sbuf **mem, struct rollback_plan **plan, uint64_t *nout)
{
	struct env_outfile of = {.fd = -1};
	int r, ret = KQ_EXIT_ERROR,
	       keep = p->info.content == ENVELOPE_ROLLBACK_PLAN;

	p->detail[0] = '\0';
	if (keep) {
		if ((*mem = kq_sbuf_new(ROLLBACK_PLAN_MAX)) == NULL)
			r = KQ_ERR_NOMEM;
		else
			r = envelope_stream_open(p->key, &p->info, o->hdr,
			    o->hl, &o->src, env_mem_write, *mem, nout,
			    p->detail);
	} else if (strcmp(a->out, "-") == 0) {
		r = open_to_stdout(p, a, o, nout);
	} else if ((r = env_out_begin(a->out, &of)) == KQ_OK) {
		r = envelope_stream_open(p->key, &p->info, o->hdr, o->hl,
		    &o->src, env_out_write, &of, nout, p->detail);
	}
	kq_secfree(p->key);
	p->key = NULL;
	if (r != KQ_OK) {
		ret = env_fail(p, r, "%s%s%s; nothing was written",
		    kq_strerror(r), p->detail[0] ? ": " : "", p->detail);
		goto out;
	}
	if (keep) {
		r = rollback_plan_parse(
		    kq_sbuf_ptr(*mem), kq_sbuf_len(*mem), plan, p->detail);
		if (r != KQ_OK) {
			ret = env_fail(p, r,
			    "the envelope opened but its plan is invalid: %s",
			    p->detail);
			goto out;
		}
		if (a->out != NULL && strcmp(a->out, "-") == 0 &&
		    (r = kq_write_all(a->plan_fd, kq_sbuf_ptr(*mem),
		         kq_sbuf_len(*mem))) != KQ_OK) {
			ret = env_fail(
			    p, r, "standard output: %s", kq_strerror(r));
			goto out;
		}
		if (a->out != NULL && strcmp(a->out, "-") != 0 &&
		    ((r = env_out_begin(a->out, &of)) != KQ_OK ||
		        (r = env_out_write(&of, kq_sbuf_ptr(*mem),
		             kq_sbuf_len(*mem))) != KQ_OK)) {
			ret = env_fail(p, r, "%s: %s", a->out, kq_strerror(r));
			goto out;
		}
	}
	if (of.fd >= 0 && (r = env_out_commit(&of)) != KQ_OK) {
		ret = env_fail(p, r, "%s: %s; nothing was written", a->out,
		    kq_strerror(r));
		goto out;
	}
	ret = 0;
out:
	env_out_abort(&of);
	return ret;
}

int
env_do_open(struct envelope_prep *p, struct env_args *a)
{
	struct open_src o;
	struct kq_sbuf *mem = NULL, *render = NULL;
	struct rollback_plan *plan = NULL;
	char quorum[ENVELOPE_STR_MAX + 1], id[33], msg[160];
	uint64_t nout = 0;
	int r, ret, json;

	memset(&o, 0, sizeof(o));
	o.fd = -1;
	json = a->format != NULL && strcmp(a->format, "json") == 0;
	if ((a->envelope == NULL) == (a->id == NULL))
		return cli_usage_error("ceremony open-envelope",
		    "give one of --envelope FILE and --id ID");
	if (a->id != NULL && envelope_id_parse(a->id, o.id) != KQ_OK)
		return cli_usage_error("ceremony open-envelope",
		    "--id wants the envelope's 32 hex digits");
	if ((ret = open_locate(p, a, &o)) != 0 ||
	    (ret = env_login(p, quorum, sizeof(quorum))) != 0 ||
	    (a->id != NULL && (ret = open_load_object(p, a, &o)) != 0))
		goto out;
	p->detail[0] = '\0';
	r = envelope_unwrap_key(p->hs, o.hdr, &p->info, &p->key, p->detail);
	env_close_hsm(p); /* logged out before the body is read */
	if (r != KQ_OK) {
		ret = env_fail(p, r, "%s: %s; nothing was written",
		    kq_strerror(r), p->detail);
		goto out;
	}
	if ((ret = open_body(p, a, &o, &mem, &plan, &nout)) != 0)
		goto out;
	if (a->out == NULL) {
		r = rollback_plan_render(plan, &p->info, json, &render);
		if (r == KQ_OK)
			r = kq_write_all(a->plan_fd, kq_sbuf_ptr(render),
			    kq_sbuf_len(render));
		if (r != KQ_OK) {
			ret = env_fail(
			    p, r, "printing the plan: %s", kq_strerror(r));
			goto out;
		}
	}
	envelope_id_hex(p->info.id, id);
	snprintf(msg, sizeof(msg), "envelope %s, %s, %llu bytes", id,
	    envelope_content_name(p->info.content), (unsigned long long)nout);
	ceremony_log(
	    p->tr, p->cs, "open-envelope", "opened", NULL, NULL, NULL, msg);
	ui_say(p->ui, a->out != NULL ? CEREMONY_EV_DONE : CEREMONY_EV_INFO, 0,
	    NULL, "envelope %s \"%s\" opened (%llu bytes)%s%s", id,
	    p->info.label, (unsigned long long)nout,
	    a->out != NULL ? "; written to " : "",
	    a->out == NULL                 ? ""
	        : strcmp(a->out, "-") == 0 ? "standard output"
	                                   : a->out);
	ret = 0;
out:
	if (o.fd >= 0)
		close(o.fd);
	kq_sbuf_free(o.obj);
	kq_sbuf_free(render);
	kq_sbuf_free(mem);
	rollback_plan_free(plan);
	return ret;
}
