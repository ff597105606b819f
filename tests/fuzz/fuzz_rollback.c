/*
 * Rollback plans (ceremony/rollback.c, docs/rollback-plan.md): the first
 * byte picks rollback_plan_parse (the rest is the plan's JSON) or
 * rollback_parse_duration (the rest is a duration).  A plan it accepts
 * must render as JSON that parses back and renders identically, and as
 * the checklist for people, with and without an envelope header.
 */
#include "fuzz.h"

#include "ceremony/ceremony.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	ceremony_json_init();
	return 0;
}

static void
plan(const uint8_t *p, size_t n)
{
	struct rollback_plan *pl = NULL, *again = NULL;
	struct kq_sbuf *j1 = NULL, *j2 = NULL, *txt = NULL;
	struct envelope_info info;
	char detail[CEREMONY_DETAIL_MAX];
	int r;

	detail[0] = '\0';
	r = rollback_plan_parse(p, n, &pl, detail);
	if (r != KQ_OK) {
		FUZZ_CHECK(r == KQ_ERR_PLAN || r == KQ_ERR_TOO_LONG ||
		    r == KQ_ERR_NOMEM);
		FUZZ_CHECK(memchr(detail, '\0', sizeof(detail)) != NULL);
		return;
	}
	FUZZ_CHECK(rollback_plan_count(pl) >= 1);
	FUZZ_CHECK(rollback_plan_render(pl, NULL, 1, &j1) == KQ_OK);
	FUZZ_CHECK(rollback_plan_parse(kq_sbuf_ptr(j1), kq_sbuf_len(j1), &again,
	               detail) == KQ_OK);
	FUZZ_CHECK(rollback_plan_count(again) == rollback_plan_count(pl));
	FUZZ_CHECK(rollback_plan_render(again, NULL, 1, &j2) == KQ_OK);
	FUZZ_CHECK(kq_sbuf_len(j1) == kq_sbuf_len(j2) &&
	    memcmp(kq_sbuf_ptr(j1), kq_sbuf_ptr(j2), kq_sbuf_len(j1)) == 0);
	FUZZ_CHECK(rollback_plan_render(pl, NULL, 0, &txt) == KQ_OK);
	kq_sbuf_free(txt);
	memset(&info, 0, sizeof(info));
	info.content = ENVELOPE_ROLLBACK_PLAN;
	info.chunk_size = ENVELOPE_CHUNK;
	info.created = 1764400000;
	snprintf(info.label, sizeof(info.label), "Q4 rotation");
	snprintf(info.quorum, sizeof(info.quorum), "alice,bob");
	txt = NULL;
	FUZZ_CHECK(rollback_plan_render(pl, &info, 0, &txt) == KQ_OK);
	kq_sbuf_free(txt);
	kq_sbuf_free(j1);
	kq_sbuf_free(j2);
	rollback_plan_free(again);
	rollback_plan_free(pl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long secs = 0;
	char *s;

	if (size < 1 || size > 256 * 1024)
		return 0;
	if (data[0] & 1) {
		s = fuzz_strndup(data + 1, size - 1);
		if (rollback_parse_duration(s, &secs) == KQ_OK)
			FUZZ_CHECK(secs > 0 && secs <= 30UL * 86400);
		free(s);
	} else {
		plan(data + 1, size - 1);
	}
	return 0;
}
