/*
 * The sealed share blob (docs/sealed-blob.md): hsm_blob_parse, which reads
 * untrusted custody-file bytes before any key is involved.  What it
 * returns must point inside the input and add up to its length.
 */
#include "fuzz.h"

#include "hsm/hsm.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

static int
inside(const uint8_t *p, size_t len, const uint8_t *b, size_t n)
{
	return p >= b && len <= n && (size_t)(p - b) <= n - len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsm_blob b;
	uint8_t *copy, h[32];
	int r;

	/* An exact-size heap copy: any read past the end is caught. */
	FUZZ_CHECK((copy = malloc(size == 0 ? 1 : size)) != NULL);
	if (size > 0)
		memcpy(copy, data, size);
	r = hsm_blob_parse(copy, size, &b);
	if (r == KQ_OK) {
		FUZZ_CHECK(b.version == HSM_BLOB_VERSION);
		FUZZ_CHECK(inside(b.fingerprint, HSM_FP_LEN, copy, size));
		FUZZ_CHECK(inside(b.context_hash, 32, copy, size));
		FUZZ_CHECK(inside(b.kem, b.kem_len, copy, size));
		FUZZ_CHECK(inside(b.nonce, HSM_BLOB_NONCE_LEN, copy, size));
		FUZZ_CHECK(inside(b.ct, b.ct_len, copy, size));
		FUZZ_CHECK(b.ct_len >= HSM_BLOB_TAG_LEN);
		FUZZ_CHECK(b.header_len + b.ct_len == size);
		FUZZ_CHECK(b.ct == copy + b.header_len);
		/* Touch every byte the parser handed out. */
		hsm_blob_context_hash(b.kem, b.kem_len, h);
		hsm_blob_context_hash(b.ct, b.ct_len, h);
	} else {
		FUZZ_CHECK(r == KQ_ERR_FORMAT || r == KQ_ERR_VERSION);
	}
	free(copy);
	return 0;
}
