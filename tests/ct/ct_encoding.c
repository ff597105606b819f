/*
 * ct_encoding: the constant-time check of the hex and base64 codecs
 * (common/encoding.c and its kernels), run under valgrind's memcheck by
 * tests/integration/ct-encoding.sh (the ctgrind method; tests/ct/ct.h).
 * The AVX-512 VBMI kernel, which valgrind cannot run, is not checked:
 * MemorySanitizer (the other checker in ct.h) does not know its permute
 * and multishift instructions and would report every one of them.
 *
 * Every data byte given to a codec, binary or text, is marked undefined;
 * memcheck then reports any conditional jump, move or memory address that
 * depends on one.  The codecs are compiled here with -DKQ_CTGRIND, so the
 * values that legitimately become public (the verdict returned, the decoded
 * length) are marked defined where they do.  This program marks outputs
 * defined again only to compare them with libsodium's.
 *
 *   ct_encoding                check every kernel memcheck can run
 *   ct_encoding --list         the kernels, and which this CPU offers
 *   ct_encoding --negative-branch | --negative-index | --negative-sodium
 *                              a leak that memcheck must report (the last:
 *                              libsodium's own base64 decoder, which stops
 *                              at the first character outside the alphabet)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/encoding.h"
#include "common/encoding_impl.h"
#include "common/err.h"
#include "common/secmem.h"
#include "tests/ct/ct.h"

static int failures;
static const char *kname = "?";

static void
report(int ok, const char *what, size_t len)
{
	printf("%s - ct %s kernel=%s len=%zu\n", ok ? "ok" : "not ok", what,
	    kname, len);
	if (!ok)
		failures++;
}

static void
rnd(void *p, size_t n)
{
	randombytes_buf(p, n);
}

/* Encode secret bytes; compare with libsodium on a public copy. */
static void
check_encode(size_t n)
{
	uint8_t *bin = malloc(n + 1);
	size_t hcap = n * 2 + 1, bcap = n / 3 * 4 + 5;
	char *h = malloc(hcap), *hr = malloc(hcap);
	char *b = malloc(bcap), *br = malloc(bcap);
	int ok = 1, r, v;

	if (bin == NULL || h == NULL || hr == NULL || b == NULL || br == NULL)
		abort();
	rnd(bin, n);
	sodium_bin2hex(hr, hcap, bin, n);
	SECRET(bin, n);
	r = kq_hex_encode(h, hcap, bin, n);
	PUBLIC(h, hcap);
	ok = r == KQ_OK && strcmp(h, hr) == 0;
	report(ok, "hex encode", n);
	for (v = 0; v < 2; v++) {
		PUBLIC(bin, n);
		memset(br, 0, bcap);
		sodium_bin2base64(br, bcap, bin, n,
		    v ? sodium_base64_VARIANT_ORIGINAL_NO_PADDING
		      : sodium_base64_VARIANT_ORIGINAL);
		SECRET(bin, n);
		r = kq_b64_encode(
		    b, bcap, bin, n, v ? KQ_B64_RAW : KQ_B64_PADDED);
		PUBLIC(b, bcap);
		ok = r == KQ_OK && memcmp(b, br, bcap) == 0;
		report(ok, v ? "b64 raw encode" : "b64 encode", n);
	}
	free(bin);
	free(h);
	free(hr);
	free(b);
	free(br);
}

/*
 * Decode secret text: the encoding of n random bytes, or that with one
 * character at a random place replaced by `bad` (0: left valid), with
 * output room `slack` bytes off the decoded length (negative: too small).
 */
static void
check_decode(size_t n, char bad, long slack, const char *what)
{
	uint8_t *bin = malloc(n + 1), *out, *ref;
	size_t tcap = n * 2 + 8, len, cap, got = 0, rgot = 0, pos;
	char *t = malloc(tcap);
	int r, rr, v, ok;

	if (bin == NULL || t == NULL)
		abort();
	for (v = 0; v < 3; v++) {
		enum kq_b64 var = v == 2 ? KQ_B64_RAW : KQ_B64_PADDED;

		rnd(bin, n);
		if (v == 0)
			(void)kq_hex_encode(t, tcap, bin, n);
		else
			(void)kq_b64_encode(t, tcap, bin, n, var);
		len = strlen(t);
		if (bad != 0 && len > 0) {
			pos = randombytes_uniform((uint32_t)len);
			t[pos] = bad;
		}
		cap = (size_t)((long)n + slack);
		out = malloc(cap + 1);
		ref = malloc(cap + 1);
		if (out == NULL || ref == NULL)
			abort();
		/* The reference, on public data. */
		if (v == 0)
			rr = kq_hex_decode(ref, cap, &rgot, t, len);
		else
			rr = kq_b64_decode(ref, cap, &rgot, t, len, var);
		SECRET(t, len);
		if (v == 0)
			r = kq_hex_decode(out, cap, &got, t, len);
		else
			r = kq_b64_decode(out, cap, &got, t, len, var);
		PUBLIC(t, len);
		PUBLIC(out, cap);
		ok = r == rr &&
		    (r != KQ_OK || (got == rgot && memcmp(out, ref, got) == 0));
		if (r == KQ_OK && bad == 0 && slack >= 0)
			ok = ok && got == n && memcmp(out, bin, n) == 0;
		if (bad == 0 && slack >= 0)
			ok = ok && r == KQ_OK;
		{
			char w[80];

			snprintf(w, sizeof(w), "%s decode %s",
			    v == 0       ? "hex"
			        : v == 1 ? "b64"
			                 : "b64 raw",
			    what);
			report(ok, w, n);
		}
		free(out);
		free(ref);
	}
	free(bin);
	free(t);
}

static void
check_kernel(const struct kq_codec_kernel *k)
{
	static const size_t lens[] = {0, 1, 2, 3, 31, 32, 33, 64, 100, 1000};
	size_t i;

	kq_codec_kernel_force(k);
	kname = k->name;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		check_encode(lens[i]);
		check_decode(lens[i], 0, 0, "valid");
		check_decode(lens[i], 0, 3, "valid, room to spare");
		if (lens[i] > 0) {
			check_decode(lens[i], '*', 0, "bad character");
			check_decode(lens[i], '=', 0, "'=' somewhere");
			check_decode(lens[i], (char)0xc1, 0, "byte 0xc1");
			check_decode(lens[i], 0, -1, "room one short");
			check_decode(lens[i], '*', -1, "bad, one short");
		}
		if (lens[i] > 4)
			check_decode(lens[i], 0, -4, "room four short");
	}
	/* Non-canonical trailing bits and padding, as secrets. */
	{
		static const char *const odd[] = {"QR==", "QUF=", "QQ=A",
		    "Q===", "QUFBQR==", "QQ==", "QUE=", "===="};
		uint8_t out[8];
		size_t got, j;
		int r, want;
		char t[9];

		for (j = 0; j < sizeof(odd) / sizeof(odd[0]); j++) {
			want = j >= 5 && j < 7 ? KQ_OK : KQ_ERR_ENCODING;
			memcpy(t, odd[j], strlen(odd[j]) + 1);
			SECRET(t, strlen(odd[j]));
			r = kq_b64_decode(out, sizeof(out), &got, t,
			    strlen(odd[j]), KQ_B64_PADDED);
			report(r == want, odd[j], strlen(odd[j]));
		}
	}
	kq_codec_kernel_force(NULL);
}

/* ---- negative controls: the checker must report these -------------- */

static int
negative(const char *which)
{
	char t[45];
	uint8_t s[33];
	size_t got;

	rnd(s, sizeof(s));
	if (strcmp(which, "--negative-sodium") == 0) {
		sodium_bin2base64(
		    t, sizeof(t), s, 32, sodium_base64_VARIANT_ORIGINAL);
		SECRET(t, 44);
		ct_sink = sodium_base642bin(s, sizeof(s), t, 44, NULL, &got,
		    NULL, sodium_base64_VARIANT_ORIGINAL);
		printf("# negative control %s ran\n", which);
		return 0;
	}
	return ct_negative(which, s) ? 0 : 2;
}

int
main(int argc, char **argv)
{
	const struct kq_codec_kernel *const *ks;
	size_t n, i, checked = 0;

	if (kq_secmem_init() != KQ_OK || sodium_init() < 0)
		return 2;
	ks = kq_codec_kernel_list(&n);
	if (argc == 2 && strncmp(argv[1], "--negative-", 11) == 0)
		return negative(argv[1]);
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < n; i++)
			printf("%s %s\n", ks[i]->name,
			    ks[i]->usable() ? "usable" : "unavailable");
		return 0;
	}
	printf("# checker: %s\n", CT_TOOL);
	for (i = 0; i < n; i++) {
		if (!ks[i]->usable()) {
			printf("# kernel %s: not offered by this CPU "
			       "(as %s sees it), not checked\n",
			    ks[i]->name, CT_TOOL);
			continue;
		}
		printf("# kernel %s: checking\n", ks[i]->name);
		check_kernel(ks[i]);
		checked++;
	}
	return failures == 0 && checked > 0 ? 0 : 1;
}
