/*
 * Unit tests for kq_random (src/common/rand.c: the ChaCha20 pool for
 * small requests, AES-256-CTR through libcrypto loaded at run time for
 * large ones) and for the run-time loader (src/common/dl.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <valgrind/valgrind.h>

#include "common/dl.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"

/* Sizes either side of the pool's limit and of the 4 KiB zero block. */
static const size_t sizes[] = {
    1, 15, 16, 17, 104, 1024, 1025, 4095, 4096, 4097, 65536, 65537, 1000003};

/* Nonzero when two 16-byte-aligned blocks of a and b are equal. */
static int
share_block(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	size_t i, j;

	for (i = 0; i + 16 <= na; i += 16)
		for (j = 0; j + 16 <= nb; j += 16)
			if (memcmp(a + i, b + j, 16) == 0)
				return 1;
	return 0;
}

/* Nonzero when two 16-byte-aligned blocks of a are equal. */
static int
repeats_block(const uint8_t *a, size_t n)
{
	size_t i, j;

	for (i = 0; i + 16 <= n; i += 16)
		for (j = i + 16; j + 16 <= n; j += 16)
			if (memcmp(a + i, a + j, 16) == 0)
				return 1;
	return 0;
}

/* Chi-square of the byte histogram of p against uniform (255 dof). */
static double
chi2(const uint8_t *p, size_t n)
{
	size_t h[256] = {0}, i;
	double e = (double)n / 256, c = 0;

	for (i = 0; i < n; i++)
		h[p[i]]++;
	for (i = 0; i < 256; i++)
		c += ((double)h[i] - e) * ((double)h[i] - e) / e;
	return c;
}

static void
test_random_sizes_fill(void **state)
{
	uint8_t *a, *b;
	size_t i, n;

	(void)state;
	assert_int_equal(kq_random(NULL, 0), KQ_OK);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		a = calloc(1, n + 32);
		b = calloc(1, n + 32);
		assert_non_null(a);
		assert_non_null(b);
		memset(a + n, 0xa5, 32);
		assert_int_equal(kq_random(a, n), KQ_OK);
		assert_int_equal(kq_random(b, n), KQ_OK);
		/* Nothing written past the end. */
		for (size_t j = 0; j < 32; j++)
			assert_int_equal(a[n + j], 0xa5);
		/* Two draws differ (for n >= 16: by chance 2^-128). */
		if (n >= 16)
			assert_memory_not_equal(a, b, n);
		/* The tail (the partial last AES block) is filled too. */
		if (n >= 1024) {
			assert_true(chi2(a, n) < 2 * 255 + 200);
			assert_memory_not_equal(a + n - 8, b + n - 8, 8);
		}
		free(a);
		free(b);
	}
}

/*
 * Fast key erasure: each large request starts from a new key, so no
 * 16-byte block of one request's output recurs in the next one.  With one
 * key and a counter, an off-by-one in the counter would repeat blocks.
 */
static void
test_random_large_requests_unrelated(void **state)
{
	enum {
		N = 8192
	};
	uint8_t *a = malloc(N), *b = malloc(N), *c = malloc(N + 7);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(kq_random(a, N), KQ_OK);
	assert_int_equal(kq_random(b, N), KQ_OK);
	assert_int_equal(kq_random(c, N + 7), KQ_OK);
	assert_false(share_block(a, N, b, N));
	assert_false(share_block(b, N, c, N + 7));
	assert_false(repeats_block(a, N));
	free(a);
	free(b);
	free(c);
}

/* One request across a reseed (2^26 bytes per getrandom key). */
static void
test_random_across_reseed(void **state)
{
	size_t n = ((size_t)1 << 26) + 4096 + 5, i;
	uint8_t *p = malloc(n);
	uint8_t zero[64] = {0};

	(void)state;
	if (RUNNING_ON_VALGRIND) {
		/* 64 MiB of AES under valgrind takes most of a minute. */
		free(p);
		skip();
	}
	assert_non_null(p);
	memset(p, 0, n);
	assert_int_equal(kq_random(p, n), KQ_OK);
	/* No 64-byte run left zero anywhere (a skipped chunk would be). */
	for (i = 0; i + 64 <= n; i += 64)
		if (memcmp(p + i, zero, 64) == 0)
			fail_msg("zero run at %zu", i);
	assert_true(chi2(p, n) < 2 * 255 + 200);
	free(p);
}

/* After fork, parent and child draw different bytes, small and large. */
static void
test_random_fork_differs(void **state)
{
	size_t ns[] = {32, 65536}, k;
	int fds[2];
	pid_t pid;
	int st;

	(void)state;
	for (k = 0; k < 2; k++) {
		size_t n = ns[k];
		uint8_t *mine = malloc(n), *theirs = malloc(n);
		size_t got = 0;
		ssize_t r;

		assert_non_null(mine);
		assert_non_null(theirs);
		/* Warm the state up so the child inherits it. */
		assert_int_equal(kq_random(mine, n), KQ_OK);
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			int ok;

			close(fds[0]);
			ok = kq_random(mine, n) == KQ_OK &&
			    write(fds[1], mine, n) == (ssize_t)n;
			free(
			    mine); /* memcheck checks the child for leaks too */
			free(theirs);
			_exit(ok ? 0 : 1);
		}
		close(fds[1]);
		assert_int_equal(kq_random(mine, n), KQ_OK);
		while (got < n && (r = read(fds[0], theirs + got, n - got)) > 0)
			got += (size_t)r;
		close(fds[0]);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		assert_int_equal(got, n);
		assert_false(share_block(mine, n, theirs, n));
		free(mine);
		free(theirs);
	}
}

struct draw {
	uint8_t buf[3][65536];
	int r;
};

static void *
draw_thread(void *arg)
{
	struct draw *d = arg;
	int i;

	d->r = KQ_OK;
	for (i = 0; i < 3 && d->r == KQ_OK; i++)
		d->r = kq_random(d->buf[i], sizeof(d->buf[i]));
	return NULL;
}

/* Threads have their own states; a thread's state is freed when it ends. */
static void
test_random_threads(void **state)
{
	struct draw *d = calloc(2, sizeof(*d));
	pthread_t th[2];
	int i;

	(void)state;
	assert_non_null(d);
	for (i = 0; i < 2; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, draw_thread, &d[i]), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(d[0].r, KQ_OK);
	assert_int_equal(d[1].r, KQ_OK);
	assert_false(share_block(d[0].buf[0], sizeof(d[0].buf[0]), d[1].buf[0],
	    sizeof(d[1].buf[0])));
	assert_false(share_block(d[0].buf[2], sizeof(d[0].buf[2]), d[1].buf[2],
	    sizeof(d[1].buf[2])));
	free(d);
}

/*
 * A new thread's first small requests go straight to getrandom(2), the
 * later ones come from its ChaCha20 pool: 48 requests of 512 bytes cross
 * from one to the other.  No 16-byte block repeats anywhere, and each
 * side's bytes are flat (chi-square over 256 cells).
 */
#define SMALL_N 48
#define SMALL_LEN 512

static void *
small_thread(void *arg)
{
	uint8_t *buf = arg;
	int i, r = KQ_OK;

	for (i = 0; i < SMALL_N && r == KQ_OK; i++)
		r = kq_random(buf + (size_t)i * SMALL_LEN, SMALL_LEN);
	return r == KQ_OK ? buf : NULL;
}

static void
test_random_small_direct_then_pool(void **state)
{
	uint8_t *buf = calloc(SMALL_N, SMALL_LEN);
	pthread_t th;
	void *res = NULL;
	size_t direct = 16 * SMALL_LEN, all = SMALL_N * SMALL_LEN;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(pthread_create(&th, NULL, small_thread, buf), 0);
	assert_int_equal(pthread_join(th, &res), 0);
	assert_ptr_equal(res, buf);
	assert_false(repeats_block(buf, all));
	assert_true(chi2(buf, direct) < 2 * 255 + 200);
	assert_true(chi2(buf + direct, all - direct) < 2 * 255 + 200);
	free(buf);
}

/* ---- the loader ------------------------------------------------------- */

static void
test_dl_load_resolves(void **state)
{
	size_t (*len)(const char *) = NULL;
	int (*abs_)(int) = NULL;
	const struct kq_dl_sym syms[] = {
	    {"strlen", KQ_DL_SLOT(len)},
	    {"abs", KQ_DL_SLOT(abs_)},
	};
	char detail[KQ_DL_DETAIL_MAX] = "";
	void *h;

	(void)state;
	h = kq_dl_load("libc.so.6", syms, 2, detail);
	assert_non_null(h);
	assert_non_null(len);
	assert_non_null(abs_);
	assert_int_equal(len("keyquorum"), 9);
	assert_int_equal(abs_(-3), 3);
	assert_string_equal(detail, "");
}

static void
test_dl_load_missing_library(void **state)
{
	void *fn = (void *)&fn;
	const struct kq_dl_sym syms[] = {{"f", &fn}};
	char detail[KQ_DL_DETAIL_MAX] = "";

	(void)state;
	assert_null(kq_dl_load("libkq-no-such-library.so.9", syms, 1, detail));
	assert_null(fn);
	assert_non_null(
	    strstr(detail, "cannot load libkq-no-such-library.so.9"));
	/* detail may be NULL. */
	assert_null(kq_dl_load("libkq-no-such-library.so.9", syms, 1, NULL));
}

static void
test_dl_load_missing_symbol(void **state)
{
	size_t (*len)(const char *) = NULL;
	void (*nope)(void) = NULL;
	const struct kq_dl_sym syms[] = {
	    {"strlen", KQ_DL_SLOT(len)},
	    {"kq_no_such_function", KQ_DL_SLOT(nope)},
	};
	char detail[KQ_DL_DETAIL_MAX] = "";

	(void)state;
	assert_null(kq_dl_load("libc.so.6", syms, 2, detail));
	/* All or nothing: the symbol found is cleared again. */
	assert_null(len);
	assert_null(nope);
	assert_string_equal(
	    detail, "libc.so.6 lacks the function kq_no_such_function");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_sizes_fill),
	    cmocka_unit_test(test_random_large_requests_unrelated),
	    cmocka_unit_test(test_random_across_reseed),
	    cmocka_unit_test(test_random_fork_differs),
	    cmocka_unit_test(test_random_threads),
	    cmocka_unit_test(test_random_small_direct_then_pool),
	    cmocka_unit_test(test_dl_load_resolves),
	    cmocka_unit_test(test_dl_load_missing_library),
	    cmocka_unit_test(test_dl_load_missing_symbol),
	};

	if (kq_secmem_init() != KQ_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
