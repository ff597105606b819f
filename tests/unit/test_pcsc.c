/*
 * hsm/pcsc.c without the rig: the SCARD_* -> kq_err boundary, NULL
 * handling, and the sticky cancel (when pcscd runs).  The card events
 * themselves are tested against the rig in tests/integration/pcsc.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <PCSC/pcsclite.h>

#include "common/err.h"
#include "hsm/pcsc.h"

static void
test_err_maps_scard_codes_to_words(void **state)
{
	(void)state;
	assert_int_equal(pcsc_err(SCARD_S_SUCCESS), KQ_OK);
	assert_int_equal(pcsc_err(SCARD_E_TIMEOUT), KQ_ERR_TIMEOUT);
	assert_int_equal(pcsc_err(SCARD_E_CANCELLED), KQ_ERR_INTERRUPTED);
	assert_int_equal(pcsc_err(SCARD_E_NO_SERVICE), KQ_ERR_PCSC_NO_SERVICE);
	assert_int_equal(
	    pcsc_err(SCARD_E_SERVICE_STOPPED), KQ_ERR_PCSC_NO_SERVICE);
	assert_int_equal(
	    pcsc_err(SCARD_E_NO_READERS_AVAILABLE), KQ_ERR_NO_READERS);
	assert_int_equal(
	    pcsc_err(SCARD_E_UNKNOWN_READER), KQ_ERR_READER_NOT_FOUND);
	assert_int_equal(pcsc_err(SCARD_W_REMOVED_CARD), KQ_ERR_TOKEN_REMOVED);
	assert_int_equal(pcsc_err(SCARD_E_NO_SMARTCARD), KQ_ERR_TOKEN_REMOVED);
	assert_int_equal(pcsc_err(SCARD_E_NO_MEMORY), KQ_ERR_NOMEM);
	/* Anything else is the generic reader error, never a raw number. */
	assert_int_equal(pcsc_err(SCARD_F_INTERNAL_ERROR), KQ_ERR_READER);
	assert_int_equal(pcsc_err(0x12345678L), KQ_ERR_READER);
}

static void
test_every_mapped_code_has_a_message(void **state)
{
	static const long codes[] = {SCARD_E_TIMEOUT, SCARD_E_CANCELLED,
	    SCARD_E_NO_SERVICE, SCARD_E_NO_READERS_AVAILABLE,
	    SCARD_E_UNKNOWN_READER, SCARD_W_REMOVED_CARD,
	    SCARD_F_UNKNOWN_ERROR};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		int e = pcsc_err(codes[i]);

		assert_true(e < 0);
		assert_string_not_equal(kq_errname(e), "");
		assert_non_null(kq_strerror(e));
	}
}

static void
test_null_arguments_are_refused(void **state)
{
	struct pcsc_event ev;
	struct pcsc_mark m;
	struct pcsc_reader *rd = NULL;
	size_t n = 0;

	(void)state;
	pcsc_close(NULL);
	pcsc_cancel(NULL);
	pcsc_cancel_clear(NULL);
	assert_int_equal(pcsc_open(NULL), KQ_ERR_INVALID);
	assert_int_equal(pcsc_list(NULL, &rd, &n), KQ_ERR_INVALID);
	assert_null(rd);
	assert_int_equal(
	    pcsc_wait(NULL, NULL, PCSC_WAIT_INSERT, 0, &ev), KQ_ERR_INVALID);
	assert_int_equal(pcsc_mark(NULL, "r", &m), KQ_ERR_INVALID);
	assert_int_equal(pcsc_check(NULL, &m), KQ_ERR_INVALID);
}

/* With pcscd: a cancel before the wait is not lost, and it sticks. */
static void
test_cancel_is_sticky_until_cleared(void **state)
{
	struct pcsc_ctx *ctx = NULL;
	struct pcsc_event ev;
	int r;

	(void)state;
	r = pcsc_open(&ctx);
	if (r == KQ_ERR_PCSC_NO_SERVICE)
		skip();
	assert_int_equal(r, KQ_OK);
	assert_int_equal(pcsc_wait(ctx, NULL, 0, 0, &ev), KQ_ERR_INVALID);
	pcsc_cancel(ctx);
	assert_int_equal(pcsc_wait(ctx, NULL, PCSC_WAIT_INSERT, 5000, &ev),
	    KQ_ERR_INTERRUPTED);
	assert_int_equal(pcsc_wait(ctx, NULL, PCSC_WAIT_REMOVE, 5000, &ev),
	    KQ_ERR_INTERRUPTED);
	pcsc_cancel_clear(ctx);
	r = pcsc_wait(
	    ctx, "keyquorum no such reader", PCSC_WAIT_INSERT, 50, &ev);
	assert_int_equal(r, KQ_ERR_READER_NOT_FOUND);
	pcsc_close(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_err_maps_scard_codes_to_words),
	    cmocka_unit_test(test_every_mapped_code_has_a_message),
	    cmocka_unit_test(test_null_arguments_are_refused),
	    cmocka_unit_test(test_cancel_is_sticky_until_cleared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
