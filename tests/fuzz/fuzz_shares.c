/*
 * Shares text, as `keyquorum combine` reads it: the first byte picks the
 * format (auto, hex, base64; raw as `split` reads a secret), the rest is
 * split into lines (kq_lines), blank lines skipped, each line decoded with
 * cli_decode, then the set checked (shamir_check_shares) and, when it
 * passes, combined (shamir_combine).  The whole text is also decoded once,
 * as `split --in` does.
 */
#include "fuzz.h"

#include "cli.h"
#include "common/secio.h"
#include "shamir/shamir.h"

static const enum cli_fmt fmts[] = {
    CLI_FMT_AUTO, CLI_FMT_HEX, CLI_FMT_BASE64, CLI_FMT_RAW};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *sh[SHAMIR_MAX_PARTS + 1], *whole = NULL, *secret;
	size_t lens[SHAMIR_MAX_PARTS + 1], n = 0, i, k, len, wl;
	const uint8_t *line;
	struct kq_lines it;
	enum cli_fmt f;
	int r;

	if (size < 1)
		return 0;
	f = fmts[data[0] % 4];
	data++, size--;

	/* split's path: the whole text as one secret. */
	if (cli_decode(f, data, size, &whole, &wl) == KQ_OK) {
		FUZZ_CHECK(f == CLI_FMT_RAW ? wl == size : wl <= size);
		FUZZ_CHECK(kq_secsize(whole) >= wl);
		kq_secfree(whole);
	}

	/* combine's path. */
	kq_lines_init(&it, data, size);
	while (n <= SHAMIR_MAX_PARTS && kq_lines_next(&it, &line, &len) == 0) {
		FUZZ_CHECK(line >= data && line + len <= data + size);
		for (k = 0; k < len && (line[k] == ' ' || line[k] == '\t'); k++)
			;
		if (k == len)
			continue;
		if (cli_decode(f, line, len, &sh[n], &lens[n]) != KQ_OK)
			goto out;
		n++;
	}
	r = shamir_check_shares((const uint8_t *const *)sh, lens, n);
	if (r == KQ_OK) {
		FUZZ_CHECK(n >= 2 && lens[0] >= 2);
		secret = kq_secalloc(lens[0] - 1);
		FUZZ_CHECK(secret != NULL);
		r = shamir_combine(
		    (const uint8_t *const *)sh, n, lens[0], secret);
		FUZZ_CHECK(r == KQ_OK);
		kq_secfree(secret);
	} else {
		FUZZ_CHECK(r == KQ_ERR_SHAMIR_TOO_FEW ||
		    r == KQ_ERR_SHAMIR_SHORT || r == KQ_ERR_SHAMIR_LENGTH ||
		    r == KQ_ERR_SHAMIR_ZERO_X || r == KQ_ERR_SHAMIR_DUP_X);
	}
out:
	for (i = 0; i < n; i++)
		kq_secfree(sh[i]);
	return 0;
}
