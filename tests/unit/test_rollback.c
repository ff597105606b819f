/*
 * Unit tests for ceremony/rollback.c: plan validation (errors name the
 * entry and the field, never a value), durations, and rendering as a
 * checklist and as canonical JSON that parses back to the same plan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ceremony/ceremony.h"
#include "common/err.h"
#include "common/secmem.h"

#define SECRET1 "PREV-value-\\u001b[31m-one"
#define PLAN                                                                   \
	"{\"keyquorum_rollback_plan\":1,\"title\":\"T\",\"entries\":["         \
	"{\"credential\":\"db/app\",\"previous_value\":\"" SECRET1 "\","       \
	"\"revert\":\"step 1\\nstep 2\",\"verify\":\"check\","                 \
	"\"time_limit\":\"15m\"},"                                             \
	"{\"credential\":\"aws/key\",\"previous_value\":\"PREV-two\","         \
	"\"revert\":\"r\",\"verify\":\"v\",\"time_limit\":\"1h30m\"}]}"

static int
parse(const char *s, struct rollback_plan **p, char *detail)
{
	detail[0] = '\0';
	return rollback_plan_parse((const uint8_t *)s, strlen(s), p, detail);
}

static void
test_valid_plan(void **state)
{
	struct rollback_plan *p = NULL;
	char detail[CEREMONY_DETAIL_MAX];

	(void)state;
	assert_int_equal(parse(PLAN, &p, detail), KQ_OK);
	assert_int_equal(rollback_plan_count(p), 2);
	rollback_plan_free(p);
	rollback_plan_free(NULL);
}

struct bad_case {
	const char *plan;
	const char *want; /* in the detail */
};

static void
test_invalid_plans_named(void **state)
{
	static const struct bad_case cases[] = {
	    {"[]", "must be a JSON object"},
	    {"{\"entries\":[]}", "\"keyquorum_rollback_plan\" must be 1"},
	    {"{\"keyquorum_rollback_plan\":2,\"entries\":[]}", "must be 1"},
	    {"{\"keyquorum_rollback_plan\":1,\"entries\":[]}",
	        "\"entries\" must be a non-empty array"},
	    {"{\"keyquorum_rollback_plan\":1,\"x\":1,\"entries\":[]}",
	        "unknown top-level field \"x\""},
	    {"{\"keyquorum_rollback_plan\":1,\"entries\":[{\"credential\":"
	     "\"c\",\"previous_value\":\"PREV-s\",\"revert\":\"r\","
	     "\"time_limit\":\"1m\"}]}",
	        "entry 1 (\"c\"): field \"verify\" is missing"},
	    {"{\"keyquorum_rollback_plan\":1,\"entries\":[{\"credential\":"
	     "\"c\",\"previous_value\":\"\",\"revert\":\"r\",\"verify\":"
	     "\"v\",\"time_limit\":\"1m\"}]}",
	        "entry 1 (\"c\"): field \"previous_value\" must be a "
	        "non-empty string"},
	    {"{\"keyquorum_rollback_plan\":1,\"entries\":[{\"credential\":"
	     "\"c\",\"previous_value\":\"PREV-s\",\"revert\":\"r\","
	     "\"verify\":\"v\",\"time_limit\":\"later\"}]}",
	        "field \"time_limit\" \"later\" is not a duration"},
	    {"{\"keyquorum_rollback_plan\":1,\"entries\":[{\"credential\":"
	     "\"c\",\"previous_value\":\"PREV-s\",\"revert\":\"r\","
	     "\"verify\":\"v\",\"time_limit\":\"1m\",\"note\":\"n\"}]}",
	        "entry 1 (\"c\"): unknown field \"note\""},
	    {"{\"keyquorum_rollback_plan\":1,\"entries\":[{\"credential\":"
	     "\"c\",\"previous_value\":\"PREV-s\",\"revert\":\"r\","
	     "\"verify\":\"v\",\"time_limit\":\"1m\"},{\"credential\":"
	     "\"c\",\"previous_value\":\"PREV-t\",\"revert\":\"r\","
	     "\"verify\":\"v\",\"time_limit\":\"1m\"}]}",
	        "entries 1 and 2 name the same credential \"c\""},
	    {"{\"keyquorum_rollback_plan\":1,\"entries\":[7]}",
	        "entry 1: must be an object"},
	    {"{\"keyquorum_rollback_plan\":1,", "not valid JSON"},
	    {"{\"keyquorum_rollback_plan\":1,\"keyquorum_rollback_plan\":1}",
	        "not valid JSON"},
	};
	struct rollback_plan *p = NULL;
	char detail[CEREMONY_DETAIL_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].plan, &p, detail), KQ_ERR_PLAN);
		if (strstr(detail, cases[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, detail,
			    cases[i].want);
		/* A value is never repeated in an error. */
		assert_null(strstr(detail, "PREV-"));
	}
}

static void
test_durations(void **state)
{
	unsigned long s;

	(void)state;
	assert_int_equal(rollback_parse_duration("90s", &s), KQ_OK);
	assert_int_equal(s, 90);
	assert_int_equal(rollback_parse_duration("1h30m", &s), KQ_OK);
	assert_int_equal(s, 5400);
	assert_int_equal(rollback_parse_duration("2d", &s), KQ_OK);
	assert_int_equal(s, 172800);
	assert_int_equal(rollback_parse_duration("30d", &s), KQ_OK);
	assert_int_equal(rollback_parse_duration("31d", &s), KQ_ERR_PLAN);
	assert_int_equal(rollback_parse_duration("0m", &s), KQ_ERR_PLAN);
	assert_int_equal(rollback_parse_duration("", &s), KQ_ERR_PLAN);
	assert_int_equal(rollback_parse_duration("15", &s), KQ_ERR_PLAN);
	assert_int_equal(rollback_parse_duration("m", &s), KQ_ERR_PLAN);
	assert_int_equal(rollback_parse_duration("1x", &s), KQ_ERR_PLAN);
	assert_int_equal(
	    rollback_parse_duration("99999999999999999999s", &s), KQ_ERR_PLAN);
}

static void
test_checklist(void **state)
{
	struct rollback_plan *p = NULL;
	struct kq_sbuf *out = NULL;
	struct envelope_info in;
	char detail[CEREMONY_DETAIL_MAX], *text;

	(void)state;
	memset(&in, 0, sizeof(in));
	snprintf(in.label, sizeof(in.label), "L");
	snprintf(in.creator, sizeof(in.creator), "me@host");
	snprintf(in.quorum, sizeof(in.quorum), "alice,bob");
	assert_int_equal(parse(PLAN, &p, detail), KQ_OK);
	assert_int_equal(rollback_plan_render(p, &in, 0, &out), KQ_OK);
	assert_non_null(text = calloc(1, kq_sbuf_len(out) + 1));
	memcpy(text, kq_sbuf_ptr(out), kq_sbuf_len(out));
	assert_non_null(strstr(text, "ROLLBACK PLAN: T\n"));
	assert_non_null(strstr(text, "[ ] 1. db/app\n"));
	assert_non_null(strstr(text, "[ ] 2. aws/key\n"));
	assert_non_null(strstr(text, "time limit:     1h30m"));
	assert_non_null(strstr(text, "longest rollback may take 5400s"));
	/* Multi-line text stays in its column; no raw escape reaches the
	 * terminal. */
	assert_non_null(strstr(text, "step 1\n                       step 2"));
	assert_null(strchr(text, '\033'));
	assert_non_null(strstr(text, "PREV-value-\\x1b[31m-one"));
	assert_non_null(strstr(text, "(quorum: alice,bob)"));
	free(text);
	kq_sbuf_free(out);
	rollback_plan_free(p);
}

static void
test_json_round_trip(void **state)
{
	struct rollback_plan *p = NULL, *q = NULL;
	struct kq_sbuf *out = NULL;
	char detail[CEREMONY_DETAIL_MAX];
	json_t *a, *b;

	(void)state;
	assert_int_equal(parse(PLAN, &p, detail), KQ_OK);
	assert_int_equal(rollback_plan_render(p, NULL, 1, &out), KQ_OK);
	assert_int_equal(
	    rollback_plan_parse(kq_sbuf_ptr(out), kq_sbuf_len(out), &q, detail),
	    KQ_OK);
	a = json_loads(PLAN, 0, NULL);
	b = json_loadb(
	    (const char *)kq_sbuf_ptr(out), kq_sbuf_len(out), 0, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	kq_sbuf_free(out);
	rollback_plan_free(p);
	rollback_plan_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_plan),
	    cmocka_unit_test(test_invalid_plans_named),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_checklist),
	    cmocka_unit_test(test_json_round_trip),
	};

	if (kq_secmem_init() != KQ_OK || ceremony_json_init() != KQ_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
