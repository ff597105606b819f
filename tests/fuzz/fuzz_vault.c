/*
 * Vault / OpenBao answers (ceremony/vault_parse.c): the first byte picks
 * the parser (seal status, generate-root with and without the secrets
 * wanted, init with an expected count and recovery flag, decode-token,
 * errors into buffers of several sizes, the error mapping and the flavor
 * guess); the rest is the body.  Secrets returned are freed with
 * kq_secfree; every init key delivered is checked against its size.
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

struct keys {
	unsigned seen;
	unsigned stop_at;
};

static int
key_cb(void *arg, unsigned index, const uint8_t *key, size_t len)
{
	struct keys *k = arg;
	unsigned sum = 0;
	size_t i;

	FUZZ_CHECK(index == k->seen);
	FUZZ_CHECK(len > 0 && len <= 128);
	for (i = 0; i < len; i++)
		sum += key[i];
	(void)sum;
	k->seen++;
	return k->seen == k->stop_at ? KQ_ERR_IO : KQ_OK;
}

static void
check_secret(const char *s)
{
	if (s != NULL) {
		FUZZ_CHECK(strlen(s) > 0 && strlen(s) <= 4096);
		FUZZ_CHECK(kq_secsize(s) > strlen(s));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vault_seal_status st;
	struct vault_generate_root_status gr;
	struct keys k;
	char *otp = NULL, *enc = NULL, *tok = NULL, *body, msg[512];
	unsigned sel, arg;
	size_t n, cap;
	int r;

	if (size < 2 || size > 64 * 1024)
		return 0;
	sel = data[0];
	arg = data[1];
	n = size - 2;
	body = fuzz_strndup(data + 2, n);
	switch (sel % 8) {
	case 0:
		r = vault_parse_seal_status(body, n, &st);
		if (r == KQ_OK) {
			FUZZ_CHECK(memchr(st.version, 0, sizeof(st.version)));
			FUZZ_CHECK(memchr(st.nonce, 0, sizeof(st.nonce)));
			FUZZ_CHECK(memchr(st.type, 0, sizeof(st.type)));
		}
		break;
	case 1:
		r = vault_parse_generate_root(body, n, &gr, &otp, &enc);
		if (r == KQ_OK) {
			check_secret(otp);
			check_secret(enc);
		}
		break;
	case 2:
		r = vault_parse_generate_root(body, n, &gr,
		    (arg & 1) ? &otp : NULL, (arg & 2) ? &enc : NULL);
		if (r == KQ_OK) {
			check_secret(otp);
			check_secret(enc);
		}
		break;
	case 3:
	case 4:
		k.seen = 0;
		k.stop_at = (arg >> 4) == 15 ? 1 : 0;
		r = vault_parse_init(body, n, arg & 15, sel & 8 ? 1 : 0, key_cb,
		    &k, (arg & 0x20) ? NULL : &tok);
		if (r == KQ_OK) {
			FUZZ_CHECK(k.seen == (arg & 15));
			if (!(arg & 0x20))
				check_secret(tok);
		}
		break;
	case 5:
		r = vault_parse_token(body, n, &tok);
		if (r == KQ_OK)
			check_secret(tok);
		break;
	case 6:
		cap = 1 + arg % sizeof(msg);
		memset(msg, 'x', sizeof(msg));
		r = vault_parse_errors(body, n, msg, cap);
		FUZZ_CHECK(memchr(msg, 0, cap) != NULL);
		if (r == KQ_OK)
			(void)vault_map_error(400 + (long)arg, msg);
		break;
	default:
		(void)vault_flavor_guess(body);
		r = vault_map_error((long)arg * 3, body);
		FUZZ_CHECK(r <= 0);
		break;
	}
	kq_secfree(otp);
	kq_secfree(enc);
	kq_secfree(tok);
	free(body);
	return 0;
}
