/*
 * keyquorum: the ceremony transcript (docs/transcript.md).
 *
 * Append-only JSON lines, each the canonical serialisation (jansson
 * JSON_COMPACT | JSON_SORT_KEYS, so no newline inside) of one object whose
 * "prev" is the SHA-256 of the previous line's bytes (without its newline)
 * and whose "seq" counts from 1.  Nothing secret is ever written: the API
 * only takes public fields and hashes the Vault nonce.
 */
#include "ceremony/ceremony.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ceremony/cer_int.h"
#include "common/encoding.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/secio.h"

#define TR_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)
#define TR_LINE_MAX 16384 /* longest line transcript_open will read back */
#define TR_FILE_MAX ((size_t)256 << 20)
#define TR_LOCK_TRIES 100 /* x 50 ms */

struct transcript {
	int fd;
	unsigned long long next_seq;
	uint8_t prev[32];
};

static const char *const tr_keys[] = {"seq", "time", "prev", "op", "set_id",
    "holder", "fingerprint", "vault", "outcome", "detail", NULL};

static int
tr_lock(int fd)
{
	struct timespec ts = {0, 50 * 1000 * 1000};
	int i;

	for (i = 0; i < TR_LOCK_TRIES; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return KQ_OK;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return KQ_ERR_IO;
		nanosleep(&ts, NULL);
	}
	return KQ_ERR_TIMEOUT;
}

/* The last line (without its newline) of the size-byte file on fd. */
static int
tr_read_tail(struct transcript *t, off_t size, char *detail)
{
	char *buf = NULL, *line;
	json_t *j = NULL, *seq;
	size_t n, len;
	off_t off;
	int r = KQ_ERR_NOMEM;

	n = size > TR_LINE_MAX + 1 ? TR_LINE_MAX + 1 : (size_t)size;
	off = size - (off_t)n;
	if ((buf = malloc(n)) == NULL)
		goto out;
	r = KQ_ERR_IO;
	if (pread(t->fd, buf, n, off) != (ssize_t)n)
		goto out;
	r = KQ_ERR_CHAIN;
	if (buf[n - 1] != '\n') {
		cer_detail(detail,
		    "the last line has no newline (a write was "
		    "cut short?): not appending to a corrupt tail");
		goto out;
	}
	line = memrchr(buf, '\n', n - 1);
	if (line == NULL && off != 0) {
		cer_detail(detail, "the last line is longer than %d bytes",
		    TR_LINE_MAX);
		goto out;
	}
	line = line == NULL ? buf : line + 1;
	len = (size_t)(buf + n - 1 - line);
	j = ceremony_json_loadb(line, len, 0, NULL);
	seq = json_object_get(j, "seq");
	if (!json_is_integer(seq) || json_integer_value(seq) < 1) {
		cer_detail(detail, "the last line is not a transcript line");
		goto out;
	}
	t->next_seq = (unsigned long long)json_integer_value(seq) + 1;
	cer_sha256(t->prev, line, len);
	r = KQ_OK;
out:
	json_decref(j);
	free(buf);
	return r;
}

int
transcript_open(const char *path, struct transcript **out, char *detail)
{
	struct transcript *t;
	struct stat sb;
	int r = KQ_ERR_NOMEM;

	if (path == NULL || out == NULL)
		return KQ_ERR_INVALID;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return KQ_ERR_NOMEM;
	t->next_seq = 1;
	t->fd = open(
	    path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (t->fd < 0) {
		r = kq_errno_to_err(errno);
		cer_detail(detail, "%s: cannot open the transcript", path);
		goto out;
	}
	if ((r = tr_lock(t->fd)) != KQ_OK) {
		cer_detail(
		    detail, "%s: another process holds the transcript", path);
		goto out;
	}
	r = KQ_ERR_IO;
	if (fstat(t->fd, &sb) != 0)
		goto out;
	if (!S_ISREG(sb.st_mode)) {
		cer_detail(detail, "%s: not a regular file", path);
		goto out;
	}
	if (sb.st_size > 0 &&
	    (r = tr_read_tail(t, sb.st_size, detail)) != KQ_OK)
		goto out;
	*out = t;
	t = NULL;
	r = KQ_OK;
out:
	transcript_close(t);
	return r;
}

unsigned long long
transcript_next_seq(const struct transcript *t)
{
	return t->next_seq;
}

void
transcript_close(struct transcript *t)
{
	if (t == NULL)
		return;
	if (t->fd >= 0)
		close(t->fd); /* releases the flock */
	free(t);
}

static int
put(json_t *o, const char *k, json_t *v)
{
	/* json_string gives NULL for text that is not UTF-8, too. */
	if (v == NULL)
		return KQ_ERR_INVALID;
	return json_object_set_new(o, k, v) == 0 ? KQ_OK : KQ_ERR_NOMEM;
}

static json_t *
hexj(const uint8_t *p, size_t n)
{
	char buf[65];

	if (n > 32 || kq_hex_encode(buf, sizeof(buf), p, n) != KQ_OK)
		return NULL;
	return json_string(buf);
}

static int
tr_build(
    const struct transcript *t, const struct transcript_entry *e, json_t *o)
{
	char ts[CER_TIME_LEN];
	uint8_t nd[32];
	json_t *v;
	int r;

	cer_time_format(time(NULL), ts);
	if ((r = put(o, "seq", json_integer((json_int_t)t->next_seq))) ||
	    (r = put(o, "time", json_string(ts))) ||
	    (r = put(o, "prev", hexj(t->prev, 32))) ||
	    (r = put(o, "op", json_string(e->op))) ||
	    (r = put(o, "outcome", json_string(e->outcome))))
		return r;
	if (e->set_id != NULL &&
	    (r = put(o, "set_id", hexj(e->set_id, CUSTODY_SET_ID_LEN))))
		return r;
	if (e->holder != NULL && (r = put(o, "holder", json_string(e->holder))))
		return r;
	if (e->fingerprint != NULL &&
	    (r = put(o, "fingerprint", hexj(e->fingerprint, CUSTODY_FPR_LEN))))
		return r;
	if (e->detail != NULL && (r = put(o, "detail", json_string(e->detail))))
		return r;
	if (e->has_vault) {
		if ((r = put(o, "vault", v = json_object())) ||
		    (r = put(v, "progress", json_integer(e->vault_progress))) ||
		    (r = put(v, "threshold", json_integer(e->vault_threshold))))
			return r;
		if (e->vault_nonce != NULL) {
			cer_sha256(nd, e->vault_nonce, strlen(e->vault_nonce));
			if ((r = put(v, "nonce_sha256", hexj(nd, 32))))
				return r;
		}
	}
	return KQ_OK;
}

int
transcript_append(struct transcript *t, const struct transcript_entry *e)
{
	json_t *o = NULL;
	char *line = NULL;
	struct stat sb;
	size_t n;
	int r = KQ_ERR_INVALID;

	if (t == NULL || e == NULL || e->op == NULL || e->outcome == NULL)
		return KQ_ERR_INVALID;
	if ((o = json_object()) == NULL)
		return KQ_ERR_NOMEM;
	if ((r = tr_build(t, e, o)) != KQ_OK)
		goto out;
	r = KQ_ERR_NOMEM;
	if ((n = json_dumpb(o, NULL, 0, TR_FLAGS)) == 0 ||
	    (line = malloc(n + 1)) == NULL ||
	    json_dumpb(o, line, n, TR_FLAGS) != n)
		goto out;
	line[n] = '\n';
	r = KQ_ERR_IO;
	if (fstat(t->fd, &sb) != 0)
		goto out;
	if ((r = kq_write_all(t->fd, line, n + 1)) != KQ_OK ||
	    fsync(t->fd) != 0) {
		r = errno == ENOSPC ? KQ_ERR_NOSPC : KQ_ERR_IO;
		/* We hold the lock: cut back what a short write left. */
		if (ftruncate(t->fd, sb.st_size) == 0)
			(void)fsync(t->fd);
		goto out;
	}
	cer_sha256(t->prev, line, n);
	t->next_seq++;
	r = KQ_OK;
out:
	free(line);
	json_decref(o);
	return r;
}

/* Check one line (len bytes, no newline) against what the chain expects. */
static int
tr_check_line(const char *p, size_t len, unsigned long long seq,
    const uint8_t prev[32], char *detail)
{
	json_t *j, *v;
	const char *k;
	char want[65], *canon = NULL;
	time_t tm;
	size_t i, n;
	int r = KQ_ERR_CHAIN;

	if ((j = ceremony_json_loadb(p, len, 0, NULL)) == NULL ||
	    !json_is_object(j)) {
		cer_detail(detail, "not a JSON object");
		goto out;
	}
	json_object_foreach(j, k, v)
	{
		for (i = 0; tr_keys[i] != NULL && strcmp(k, tr_keys[i]) != 0;
		     i++)
			;
		if (tr_keys[i] == NULL) {
			cer_detail(detail, "unknown field \"%.40s\"", k);
			goto out;
		}
	}
	v = json_object_get(j, "seq");
	if (!json_is_integer(v) ||
	    (unsigned long long)json_integer_value(v) != seq) {
		cer_detail(
		    detail, "seq is not %llu (a line removed or added?)", seq);
		goto out;
	}
	kq_hex_encode(want, sizeof(want), prev, 32);
	if (!json_is_string(json_object_get(j, "prev")) ||
	    strcmp(json_string_value(json_object_get(j, "prev")), want) != 0) {
		cer_detail(detail,
		    "prev does not match the SHA-256 of the "
		    "line before (that line was changed?)");
		goto out;
	}
	if (!json_is_string(json_object_get(j, "op")) ||
	    !json_is_string(json_object_get(j, "outcome")) ||
	    cer_time_parse(
	        json_string_value(json_object_get(j, "time")), &tm) != 0) {
		cer_detail(detail, "op, outcome or time is missing or invalid");
		goto out;
	}
	n = json_dumpb(j, NULL, 0, TR_FLAGS);
	if (n != len || (canon = malloc(n)) == NULL ||
	    json_dumpb(j, canon, n, TR_FLAGS) != n ||
	    memcmp(canon, p, n) != 0) {
		cer_detail(detail, "not in canonical form (edited by hand?)");
		goto out;
	}
	r = KQ_OK;
out:
	free(canon);
	json_decref(j);
	return r;
}

int
transcript_verify(const char *path, unsigned long long *n_lines,
    unsigned long long *first_bad, char *detail)
{
	char *buf = NULL;
	const char *p, *nl;
	char why[CEREMONY_DETAIL_MAX];
	uint8_t prev[32] = {0};
	unsigned long long line = 0;
	size_t len, left;
	int r;

	ceremony_json_init();
	if ((r = cer_read_file(path, TR_FILE_MAX, &buf, &left)) != KQ_OK) {
		cer_detail(detail, "%s: cannot read the transcript", path);
		return r;
	}
	p = buf;
	while (left > 0) {
		line++;
		if ((nl = memchr(p, '\n', left)) == NULL) {
			r = KQ_ERR_CHAIN;
			cer_detail(detail,
			    "line %llu: no newline at the end "
			    "(a write was cut short?)",
			    line);
			goto out;
		}
		len = (size_t)(nl - p);
		if ((r = tr_check_line(p, len, line, prev, why)) != KQ_OK) {
			cer_detail(detail, "line %llu: %s", line, why);
			goto out;
		}
		cer_sha256(prev, p, len);
		p = nl + 1;
		left -= len + 1;
	}
	*n_lines = line;
	r = KQ_OK;
out:
	if (r == KQ_ERR_CHAIN && first_bad != NULL)
		*first_bad = line;
	free(buf);
	return r;
}
