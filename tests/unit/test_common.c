/* Unit tests for src/common: codecs, secure buffers, line iterator, files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <valgrind/valgrind.h>

#include "common/encoding.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/harden.h"
#include "common/secio.h"
#include "common/secmem.h"

static void
test_hex_round_trip_and_errors(void **state)
{
	uint8_t in[256], out[256];
	char txt[513];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	assert_int_equal(
	    kq_hex_encode(txt, sizeof(txt), in, sizeof(in)), KQ_OK);
	assert_memory_equal(txt, "000102", 6);
	assert_int_equal(kq_hex_decode(out, sizeof(out), &n, txt, 512), KQ_OK);
	assert_int_equal(n, 256);
	assert_memory_equal(in, out, 256);
	assert_int_equal(kq_hex_decode(out, sizeof(out), &n, "ABcd", 4), KQ_OK);
	assert_int_equal(out[0], 0xab);
	assert_int_equal(
	    kq_hex_decode(out, sizeof(out), &n, "abc", 3), KQ_ERR_ENCODING);
	assert_int_equal(
	    kq_hex_decode(out, sizeof(out), &n, "zz", 2), KQ_ERR_ENCODING);
	assert_int_equal(
	    kq_hex_decode(out, sizeof(out), &n, "a b ", 4), KQ_ERR_ENCODING);
	assert_int_equal(kq_hex_decode(out, 1, &n, "abcd", 4), KQ_ERR_TOO_LONG);
	assert_int_equal(kq_hex_encode(txt, 4, in, 2), KQ_ERR_INVALID);
}

static void
test_base64_variants(void **state)
{
	uint8_t out[64];
	char txt[64];
	size_t n;

	(void)state;
	assert_int_equal(kq_b64_encode(txt, sizeof(txt),
	                     (const uint8_t *)"hello", 5, KQ_B64_PADDED),
	    KQ_OK);
	assert_string_equal(txt, "aGVsbG8=");
	assert_int_equal(kq_b64_encode(txt, sizeof(txt),
	                     (const uint8_t *)"hello", 5, KQ_B64_RAW),
	    KQ_OK);
	assert_string_equal(txt, "aGVsbG8");
	assert_int_equal(
	    kq_b64_decode(out, sizeof(out), &n, "aGVsbG8=", 8, KQ_B64_PADDED),
	    KQ_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	/* padding required in one variant, refused in the other */
	assert_int_equal(
	    kq_b64_decode(out, sizeof(out), &n, "aGVsbG8", 7, KQ_B64_PADDED),
	    KQ_ERR_ENCODING);
	assert_int_equal(
	    kq_b64_decode(out, sizeof(out), &n, "aGVsbG8=", 8, KQ_B64_RAW),
	    KQ_ERR_ENCODING);
	assert_int_equal(
	    kq_b64_decode(out, sizeof(out), &n, "aGVsbG8", 7, KQ_B64_RAW),
	    KQ_OK);
	/* URL-safe alphabet is not standard base64 */
	assert_int_equal(
	    kq_b64_decode(out, sizeof(out), &n, "-_-_", 4, KQ_B64_PADDED),
	    KQ_ERR_ENCODING);
	assert_int_equal(
	    kq_b64_decode(out, 2, &n, "aGVsbG8=", 8, KQ_B64_PADDED),
	    KQ_ERR_TOO_LONG);
}

static void
test_vault_key_rule(void **state)
{
	uint8_t out[64];
	char hex33[67];
	size_t n, i;

	(void)state;
	for (i = 0; i < 66; i++)
		hex33[i] = "0123456789abcdef"[i % 16];
	hex33[66] = '\0';
	/* 33 bytes of hex: taken as hex */
	assert_int_equal(
	    kq_key_decode_vault(out, sizeof(out), &n, hex33, 66), KQ_OK);
	assert_int_equal(n, 33);
	assert_int_equal(out[0], 0x01);
	/* 8 bytes of hex is outside 16..33: decoded as base64 instead */
	assert_int_equal(
	    kq_key_decode_vault(out, sizeof(out), &n, "0123456789abcdef", 16),
	    KQ_OK);
	assert_int_equal(n, 12);
	assert_int_equal(kq_key_decode_vault(out, sizeof(out), &n, "!!!!", 4),
	    KQ_ERR_ENCODING);
}

static void
test_sbuf_grows_and_limits(void **state)
{
	struct kq_sbuf *b;
	uint8_t chunk[1000];
	int i;

	(void)state;
	memset(chunk, 0x5a, sizeof(chunk));
	assert_non_null(b = kq_sbuf_new(10000));
	for (i = 0; i < 10; i++)
		assert_int_equal(kq_sbuf_put(b, chunk, sizeof(chunk)), KQ_OK);
	assert_int_equal(kq_sbuf_len(b), 10000);
	assert_int_equal(kq_sbuf_put(b, chunk, 1), KQ_ERR_TOO_LONG);
	assert_int_equal(kq_sbuf_ptr(b)[9999], 0x5a);
	kq_sbuf_truncate(b, 3);
	assert_int_equal(kq_sbuf_len(b), 3);
	kq_sbuf_free(b);
	kq_sbuf_free(NULL);
}

static void
test_secalloc_zeroed_and_sized(void **state)
{
	uint8_t *p;
	size_t i;

	(void)state;
	assert_non_null(p = kq_secalloc(100));
	for (i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	assert_int_equal(kq_secsize(p), 100);
	kq_secfree(p);
	kq_secfree(NULL);
	assert_int_equal(kq_memeq_ct("abc", "abc", 3), 0);
	assert_int_equal(kq_memeq_ct("abc", "abd", 3), -1);
}

static void
test_lines_iterator(void **state)
{
	const char *txt = "one\r\ntwo\n\nthree";
	struct kq_lines it;
	const uint8_t *l;
	size_t n;

	(void)state;
	kq_lines_init(&it, (const uint8_t *)txt, strlen(txt));
	assert_int_equal(kq_lines_next(&it, &l, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(l, "one", 3);
	assert_int_equal(kq_lines_next(&it, &l, &n), 0);
	assert_memory_equal(l, "two", 3);
	assert_int_equal(kq_lines_next(&it, &l, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(kq_lines_next(&it, &l, &n), 0);
	assert_memory_equal(l, "three", 5);
	assert_int_equal(kq_lines_next(&it, &l, &n), 1);
}

static void
test_atomic_write_refuses_overwrite(void **state)
{
	char dir[] = "/tmp/kqtest-file-XXXXXX", path[64];
	struct kq_sbuf *b = NULL;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(kq_file_write_atomic(path, "one", 3, 0600, 0), KQ_OK);
	assert_int_equal(
	    kq_file_write_atomic(path, "two", 3, 0600, 0), KQ_ERR_EXISTS);
	assert_int_equal(kq_read_all_file(path, 100, &b), KQ_OK);
	assert_memory_equal(kq_sbuf_ptr(b), "one", 3);
	kq_sbuf_free(b);
	assert_int_equal(
	    kq_file_write_atomic(path, "three", 5, 0600, 1), KQ_OK);
	assert_int_equal(kq_read_all_file(path, 100, &b), KQ_OK);
	assert_int_equal(kq_sbuf_len(b), 5);
	kq_sbuf_free(b);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(kq_read_all_file(path, 2, &b), KQ_ERR_TOO_LONG);
	unlink(path);
	rmdir(dir);
}

static void
test_error_table(void **state)
{
	(void)state;
	assert_int_equal(kq_exit_status(KQ_OK), 0);
	assert_int_equal(kq_exit_status(KQ_ERR_PIN_LOCKED), KQ_EXIT_AUTH);
	assert_int_equal(
	    kq_exit_status(KQ_ERR_SHAMIR_DUP_X), KQ_EXIT_INTEGRITY);
	assert_int_equal(kq_exit_status(KQ_ERR_TOKEN_REMOVED), KQ_EXIT_TOKEN);
	assert_int_equal(kq_exit_status(KQ_ERR_VAULT_SEALED), KQ_EXIT_VAULT);
	assert_int_equal(kq_exit_status(-9999), KQ_EXIT_ERROR);
	assert_string_equal(kq_errname(KQ_ERR_PIN_LOCKED), "KQ_ERR_PIN_LOCKED");
	assert_string_equal(kq_strerror(-9999), "unknown error");
}

/* The stack scrub: a secret a returned frame left deep on the stack. */
#define SCRUB_PLANT (96 * 1024)
static const uint8_t scrub_mark[16] = {0x6b, 0x71, 0x2d, 0x73, 0x74, 0x61, 0x63,
    0x6b, 0x2d, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x21};

/* Fill 96 KiB of this frame with the mark, and return. */
__attribute__((noinline)) static void
scrub_plant(void)
{
	volatile uint8_t buf[SCRUB_PLANT];
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = scrub_mark[i % sizeof(scrub_mark)];
}

/*
 * Marks left between 8 KiB and 88 KiB below this frame: memory scrub_plant
 * wrote (called from the same frame), read as it is, below the stack
 * pointer, with no call made while reading.
 */
__attribute__((noinline, no_sanitize_address)) static size_t
scrub_count(void)
{
	const volatile uint8_t *top =
	    (const volatile uint8_t *)__builtin_frame_address(0);
	size_t off, k, found = 0;

	for (off = 8 * 1024; off < 88 * 1024; off++) {
		for (k = 0; k < sizeof(scrub_mark); k++)
			if (top[(ptrdiff_t)k - (ptrdiff_t)off] != scrub_mark[k])
				break;
		found += k == sizeof(scrub_mark);
	}
	return found;
}

static void
test_scrub_stack(void **state)
{
	(void)state;
	if (RUNNING_ON_VALGRIND)
		skip(); /* memcheck rightly calls reads below the stack invalid */
	/* The control: without the scrub, the reader sees the marks. */
	scrub_plant();
	assert_true(scrub_count() > 1000);
	scrub_plant();
	kq_scrub_stack();
	assert_int_equal(scrub_count(), 0);
	/* Twice: the second scrub measures a deeper resident stack. */
	scrub_plant();
	kq_scrub_stack();
	assert_int_equal(scrub_count(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hex_round_trip_and_errors),
	    cmocka_unit_test(test_base64_variants),
	    cmocka_unit_test(test_vault_key_rule),
	    cmocka_unit_test(test_sbuf_grows_and_limits),
	    cmocka_unit_test(test_secalloc_zeroed_and_sized),
	    cmocka_unit_test(test_lines_iterator),
	    cmocka_unit_test(test_atomic_write_refuses_overwrite),
	    cmocka_unit_test(test_error_table),
	    cmocka_unit_test(test_scrub_stack),
	};

	if (kq_secmem_init() != KQ_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
