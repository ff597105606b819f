/* Unit tests for the hash-chained transcript. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "ceremony/ceremony.h"
#include "common/err.h"
#include "common/secmem.h"

static char tmpdir[64];
static int counter;

static int
setup(void **state)
{
	(void)state;
	if (kq_secmem_init() != KQ_OK || ceremony_json_init() != KQ_OK)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kqtr.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
fresh_path(char *p, size_t n)
{
	snprintf(p, n, "%s/t%d.jsonl", tmpdir, counter++);
}

static void
append_n(const char *path, int n)
{
	struct transcript *t = NULL;
	uint8_t set_id[CUSTODY_SET_ID_LEN], fpr[CUSTODY_FPR_LEN];
	struct transcript_entry e = {0};
	int i;

	memset(set_id, 0x5a, sizeof(set_id));
	memset(fpr, 0xc3, sizeof(fpr));
	assert_int_equal(transcript_open(path, &t, NULL), KQ_OK);
	for (i = 0; i < n; i++) {
		e.op = "unseal";
		e.outcome = i % 2 ? "ok" : "share-accepted";
		e.set_id = set_id;
		e.holder = "alice \"the first\"\n";
		e.fingerprint = fpr;
		e.has_vault = 1;
		e.vault_progress = (unsigned)i;
		e.vault_threshold = 3;
		e.vault_nonce = "6f3e9a2c-1111-2222-3333-444455556666";
		e.detail = i == 1 ? "line\nbreak and \xc3\xa9" : NULL;
		assert_int_equal(transcript_append(t, &e), KQ_OK);
	}
	transcript_close(t);
}

static char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p = malloc(1 << 16);

	assert_non_null(f);
	assert_non_null(p);
	*n = fread(p, 1, (1 << 16) - 1, f);
	p[*n] = '\0';
	fclose(f);
	return p;
}

static void
spit(const char *path, const char *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void
test_append_and_verify_chain(void **state)
{
	char path[128], d[CEREMONY_DETAIL_MAX], *p;
	unsigned long long n = 0, bad = 0;
	struct stat sb;
	size_t len;

	(void)state;
	fresh_path(path, sizeof(path));
	append_n(path, 3);
	append_n(path, 2); /* reopened: the chain continues */
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(transcript_verify(path, &n, &bad, d), KQ_OK);
	assert_int_equal(n, 5);
	p = slurp(path, &len);
	/* The first line starts the chain from 64 zeros; seq counts from 1. */
	assert_non_null(strstr(p,
	    "\"prev\":\"00000000000000000000000000000000"
	    "00000000000000000000000000000000\""));
	assert_non_null(strstr(p, "\"seq\":5,"));
	/* Canonical: compact, keys sorted; the nonce only as its digest. */
	assert_null(strstr(p, "6f3e9a2c"));
	assert_non_null(strstr(p, "\"nonce_sha256\":\""));
	assert_true(strncmp(p, "{\"fingerprint\":", 15) == 0);
	free(p);
}

static void
test_prev_is_hash_of_previous_line(void **state)
{
	char path[128], *p, *nl, want[65];
	uint8_t h[32];
	size_t len;

	(void)state;
	fresh_path(path, sizeof(path));
	append_n(path, 2);
	p = slurp(path, &len);
	nl = strchr(p, '\n');
	assert_non_null(nl);
	crypto_hash_sha256(h, (const uint8_t *)p, (size_t)(nl - p));
	sodium_bin2hex(want, sizeof(want), h, sizeof(h));
	assert_non_null(strstr(nl + 1, want));
	free(p);
}

static void
test_verify_names_first_broken_line(void **state)
{
	char path[128], d[CEREMONY_DETAIL_MAX], *p, *q;
	unsigned long long n = 0, bad = 0;
	size_t len;

	(void)state;
	fresh_path(path, sizeof(path));
	append_n(path, 5);
	p = slurp(path, &len);
	/* Change one byte of line 2's detail: line 3's prev no longer fits
	 * (line 2 itself still parses). */
	q = strstr(p, "line\\nbreak");
	assert_non_null(q);
	q[0] = 'L';
	spit(path, p, len);
	assert_int_equal(transcript_verify(path, &n, &bad, d), KQ_ERR_CHAIN);
	assert_int_equal(bad, 3);
	assert_non_null(strstr(d, "line 3"));
	assert_non_null(strstr(d, "prev"));
	q[0] = 'l';
	/* Remove line 4: line 4 (was 5) has the wrong seq. */
	{
		char *l4 = p, *l5;
		int i;

		for (i = 0; i < 3; i++)
			l4 = strchr(l4, '\n') + 1;
		l5 = strchr(l4, '\n') + 1;
		memmove(l4, l5, len - (size_t)(l5 - p));
		len -= (size_t)(l5 - l4);
	}
	spit(path, p, len);
	assert_int_equal(transcript_verify(path, &n, &bad, d), KQ_ERR_CHAIN);
	assert_int_equal(bad, 4);
	assert_non_null(strstr(d, "seq"));
	/* Garbage on line 1. */
	p[0] = '[';
	spit(path, p, len);
	assert_int_equal(transcript_verify(path, &n, &bad, d), KQ_ERR_CHAIN);
	assert_int_equal(bad, 1);
	free(p);
}

static void
test_truncated_tail_refused(void **state)
{
	struct transcript *t = NULL;
	char path[128], d[CEREMONY_DETAIL_MAX], *p;
	unsigned long long n = 0, bad = 0;
	size_t len;

	(void)state;
	fresh_path(path, sizeof(path));
	append_n(path, 3);
	p = slurp(path, &len);
	spit(path, p, len - 10); /* a write cut short */
	assert_int_equal(transcript_open(path, &t, d), KQ_ERR_CHAIN);
	assert_null(t);
	assert_int_equal(transcript_verify(path, &n, &bad, d), KQ_ERR_CHAIN);
	assert_int_equal(bad, 3);
	assert_non_null(strstr(d, "newline"));
	free(p);
}

static void
test_empty_and_missing(void **state)
{
	char path[128], d[CEREMONY_DETAIL_MAX];
	unsigned long long n = 99, bad = 0;
	struct transcript *t = NULL;
	struct transcript_entry e = {0};

	(void)state;
	fresh_path(path, sizeof(path));
	assert_int_equal(
	    transcript_verify(path, &n, &bad, d), KQ_ERR_NOT_FOUND);
	assert_int_equal(transcript_open(path, &t, d), KQ_OK);
	assert_int_equal(transcript_next_seq(t), 1);
	/* op and outcome are required. */
	assert_int_equal(transcript_append(t, &e), KQ_ERR_INVALID);
	transcript_close(t);
	assert_int_equal(transcript_verify(path, &n, &bad, d), KQ_OK);
	assert_int_equal(n, 0);
}

static void
test_lock_is_exclusive(void **state)
{
	struct transcript *t = NULL;
	char path[128];
	pid_t pid;
	int st;

	(void)state;
	fresh_path(path, sizeof(path));
	assert_int_equal(transcript_open(path, &t, NULL), KQ_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct transcript *t2 = NULL;
		/* flock is per open file: the child's own open must wait,
		 * then time out. */
		_exit(
		    transcript_open(path, &t2, NULL) == KQ_ERR_TIMEOUT ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	transcript_close(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_and_verify_chain),
	    cmocka_unit_test(test_prev_is_hash_of_previous_line),
	    cmocka_unit_test(test_verify_names_first_broken_line),
	    cmocka_unit_test(test_truncated_tail_refused),
	    cmocka_unit_test(test_empty_and_missing),
	    cmocka_unit_test(test_lock_is_exclusive),
	};

	return cmocka_run_group_tests_name(
	    "transcript", tests, setup, teardown);
}
