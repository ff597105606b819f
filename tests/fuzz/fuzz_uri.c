/*
 * PKCS#11 URIs (RFC 7512): hsm_uri_parse (p11-kit's parser plus our
 * checks for unknown attributes, pin-value, labels and ids) and every
 * accessor on what it returns.  Half the inputs are parsed with pin-value
 * allowed (the tests-only switch), so both branches are reached.
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

static void
touch(const char *s)
{
	if (s != NULL)
		FUZZ_CHECK(strlen(s) < (size_t)1 << 20);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsm_uri *u = NULL;
	const uint8_t *id;
	char why[128], *s;
	size_t idlen, i;
	unsigned sum = 0;
	int r;

	if (size < 1 || size > 8192)
		return 0;
	if (data[0] & 1)
		setenv(HSM_ENV_ALLOW_PIN_VALUE, "1", 1);
	else
		unsetenv(HSM_ENV_ALLOW_PIN_VALUE);
	s = fuzz_strndup(data + 1, size - 1);
	memset(why, 'x', sizeof(why));
	r = hsm_uri_parse(s, &u, (data[0] & 2) ? why : NULL, sizeof(why));
	if (r == KQ_OK) {
		FUZZ_CHECK(u != NULL);
		touch(hsm_uri_module_path(u));
		touch(hsm_uri_module_name(u));
		touch(hsm_uri_pin_source(u));
		touch(hsm_uri_object(u));
		if ((id = hsm_uri_id(u, &idlen)) != NULL) {
			for (i = 0; i < idlen; i++)
				sum += id[i];
		}
		(void)hsm_uri_has_token_attrs(u);
		hsm_uri_free(u);
	} else {
		FUZZ_CHECK(r == KQ_ERR_URI || r == KQ_ERR_PIN_VALUE_REFUSED ||
		    r == KQ_ERR_NOMEM);
		if (data[0] & 2)
			FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL);
	}
	(void)sum;
	free(s);
	return 0;
}
