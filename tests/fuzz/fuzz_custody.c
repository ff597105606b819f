/*
 * The custody file (keyquorum-custody(5)): custody_parse, the strict
 * parser behind custody_load.  A set it accepts must validate, serialise
 * (custody_dumps), parse again and serialise to the same text; the holder
 * lookups and the commitment check run on what it returned.
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
exercise(const struct custody_set *cs)
{
	const struct custody_holder *h;
	uint8_t share[CUSTODY_MIN_SHARE];
	size_t i;
	int r;

	FUZZ_CHECK(custody_kind_name(cs->kind) != NULL);
	FUZZ_CHECK(cs->n_holders <= CUSTODY_MAX_HOLDERS);
	for (i = 0; i < cs->n_holders; i++) {
		h = &cs->holders[i];
		FUZZ_CHECK(h->name != NULL);
		FUZZ_CHECK(custody_holder_by_name(cs, h->name) == h);
		FUZZ_CHECK(custody_holder_by_fpr(cs, h->fingerprint) == h);
		if (h->enrolled == 0)
			continue;
		FUZZ_CHECK(h->x != 0 && h->sealed != NULL &&
		    h->sealed_len > 0 && h->sealed_len <= CUSTODY_MAX_SEALED);
		/* Touch the whole sealed blob. */
		FUZZ_CHECK(h->sealed[0] == h->sealed[0] &&
		    h->sealed[h->sealed_len - 1] ==
		        h->sealed[h->sealed_len - 1]);
		memset(share, 0xa5, sizeof(share));
		share[sizeof(share) - 1] = h->x;
		r = custody_check_share(cs, h, share, sizeof(share));
		FUZZ_CHECK(r == KQ_OK || r == KQ_ERR_COMMITMENT);
		share[sizeof(share) - 1] = (uint8_t)(h->x + 1);
		FUZZ_CHECK(custody_check_share(cs, h, share, sizeof(share)) ==
		    KQ_ERR_COMMITMENT);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct custody_set *cs = NULL, *again = NULL;
	char detail[CEREMONY_DETAIL_MAX], *t1 = NULL, *t2 = NULL;
	int r;

	if (size > 256 * 1024)
		return 0;
	detail[0] = '\0';
	r = custody_parse(data, size, &cs, detail);
	if (r != KQ_OK) {
		FUZZ_CHECK(r == KQ_ERR_FORMAT || r == KQ_ERR_VERSION ||
		    r == KQ_ERR_NOMEM);
		FUZZ_CHECK(memchr(detail, '\0', sizeof(detail)) != NULL);
		return 0;
	}
	FUZZ_CHECK(cs != NULL);
	FUZZ_CHECK(custody_validate(cs, detail) == KQ_OK);
	exercise(cs);
	FUZZ_CHECK((t1 = custody_dumps(cs, detail)) != NULL);
	FUZZ_CHECK(custody_parse(t1, strlen(t1), &again, detail) == KQ_OK);
	FUZZ_CHECK((t2 = custody_dumps(again, detail)) != NULL);
	FUZZ_CHECK(strcmp(t1, t2) == 0);
	free(t1);
	free(t2);
	custody_free(again);
	custody_free(cs);
	return 0;
}
