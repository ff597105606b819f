/* Tests for hsm/ against a real SoftHSM token made in a temporary
 * directory: login and PIN sources, AES-256-GCM inside the HSM with a
 * non-extractable key, private data objects. */
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

#include "common/err.h"
#include "common/secmem.h"
#include "hsm/hsm.h"

#define SOFTHSM "/usr/lib/softhsm/libsofthsm2.so"

static char dir[] = "/tmp/kq-hsm-sym.XXXXXX";
static char pinfile[128], badpin[128], uri[256], baduri[256];

static int
setup(void **state)
{
	char p[256], cmd[512];
	FILE *f;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/tok", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/softhsm2.conf", dir);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	fprintf(f,
	    "directories.tokendir = %s/tok\nobjectstore.backend = "
	    "file\nlog.level = ERROR\n",
	    dir);
	fclose(f);
	setenv("SOFTHSM2_CONF", p, 1);
	snprintf(cmd, sizeof(cmd),
	    "softhsm2-util --init-token --free --label "
	    "symtest --so-pin 87654321 --pin 123456 >/dev/null");
	if (system(cmd) != 0)
		return -1;
	snprintf(pinfile, sizeof(pinfile), "%s/pin", dir);
	snprintf(badpin, sizeof(badpin), "%s/badpin", dir);
	if ((f = fopen(pinfile, "w")) == NULL)
		return -1;
	fputs("123456\n", f);
	fclose(f);
	if ((f = fopen(badpin, "w")) == NULL)
		return -1;
	fputs("000000", f);
	fclose(f);
	chmod(pinfile, 0600);
	chmod(badpin, 0600);
	snprintf(
	    uri, sizeof(uri), "pkcs11:token=symtest?pin-source=%s", pinfile);
	snprintf(baduri, sizeof(baduri), "pkcs11:token=symtest?pin-source=%s",
	    badpin);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct open3 {
	struct hsm_uri *u;
	struct hsm_ctx *c;
	struct hsm_session *s;
};

static void
open_login(struct open3 *o, const char *which, int expect_login)
{
	char why[256];
	struct hsm_login_opts lo = {.no_tty = 1};

	assert_int_equal(
	    hsm_open(SOFTHSM, which, 1, &o->u, &o->c, &o->s, why, sizeof(why)),
	    KQ_OK);
	assert_int_equal(hsm_session_login(o->s, o->u, &lo), expect_login);
}

static void
test_login_wrong_pin_then_right(void **state)
{
	struct open3 o;

	(void)state;
	open_login(&o, baduri, KQ_ERR_PIN_INCORRECT);
	assert_non_null(strstr(hsm_ctx_detail(o.c), "symtest"));
	assert_non_null(strstr(hsm_ctx_detail(o.c), "not locked"));
	hsm_close(o.u, o.c, o.s);
	open_login(&o, uri, KQ_OK);
	hsm_close(o.u, o.c, o.s);
}

static void
test_pin_sources(void **state)
{
	struct kq_sbuf *b = NULL;
	char why[256], src[200];

	(void)state;
	assert_int_equal(
	    hsm_pin_from_source(pinfile, &b, why, sizeof(why)), KQ_OK);
	assert_int_equal(kq_sbuf_len(b), 6);
	assert_memory_equal(kq_sbuf_ptr(b), "123456", 6);
	kq_sbuf_free(b);
	snprintf(src, sizeof(src), "file:%s", badpin);
	assert_int_equal(hsm_pin_from_source(src, &b, why, sizeof(why)), KQ_OK);
	assert_int_equal(kq_sbuf_len(b), 6);
	kq_sbuf_free(b);
	chmod(pinfile, 0640);
	assert_int_equal(hsm_pin_from_source(pinfile, &b, why, sizeof(why)),
	    KQ_ERR_PIN_SOURCE);
	assert_non_null(strstr(why, "0640"));
	chmod(pinfile, 0600);
	assert_int_equal(hsm_pin_from_source("fd:x", &b, why, sizeof(why)),
	    KQ_ERR_PIN_SOURCE);
	assert_int_equal(
	    hsm_pin_from_source("/nonexistent/pin", &b, why, sizeof(why)),
	    KQ_ERR_PIN_SOURCE);
}

static void
test_aes_gcm_in_hsm(void **state)
{
	struct open3 o;
	const uint8_t pt[] = "data key of a rollback envelope";
	const uint8_t aad[] = "envelope v1";
	uint8_t *ct = NULL;
	size_t n = 0;
	struct kq_sbuf *back = NULL;

	(void)state;
	open_login(&o, uri, KQ_OK);
	assert_int_equal(hsm_aes_keygen(o.s, "kq-envelope"), KQ_OK);
	assert_int_equal(hsm_aes_keygen(o.s, "kq-envelope"), KQ_ERR_EXISTS);
	assert_int_equal(hsm_aes_gcm_encrypt(o.s, "kq-envelope", aad,
	                     sizeof(aad), pt, sizeof(pt), &ct, &n),
	    KQ_OK);
	assert_int_equal(n, 12 + sizeof(pt) + 16);
	assert_int_equal(hsm_aes_gcm_decrypt(o.s, "kq-envelope", aad,
	                     sizeof(aad), ct, n, &back),
	    KQ_OK);
	assert_int_equal(kq_sbuf_len(back), sizeof(pt));
	assert_memory_equal(kq_sbuf_ptr(back), pt, sizeof(pt));
	kq_sbuf_free(back);
	back = NULL;
	/* A flipped bit, a wrong AAD: an integrity error, nothing out. */
	ct[20] ^= 1;
	assert_int_equal(hsm_aes_gcm_decrypt(o.s, "kq-envelope", aad,
	                     sizeof(aad), ct, n, &back),
	    KQ_ERR_INTEGRITY);
	assert_null(back);
	ct[20] ^= 1;
	assert_int_equal(hsm_aes_gcm_decrypt(
	                     o.s, "kq-envelope", pt, sizeof(pt), ct, n, &back),
	    KQ_ERR_INTEGRITY);
	assert_int_equal(hsm_aes_gcm_decrypt(o.s, "kq-envelope", aad,
	                     sizeof(aad), ct, 20, &back),
	    KQ_ERR_FORMAT);
	assert_int_equal(hsm_aes_gcm_decrypt(o.s, "no-such-key", aad,
	                     sizeof(aad), ct, n, &back),
	    KQ_ERR_NOT_FOUND);
	free(ct);
	hsm_close(o.u, o.c, o.s);
}

static void
test_data_objects(void **state)
{
	struct open3 o;
	const uint8_t v[] = {0, 1, 2, 3, 0xfe, 0xff};
	struct kq_sbuf *b = NULL;
	char **labels = NULL;
	size_t n = 0, i;
	int seen = 0;

	(void)state;
	open_login(&o, uri, KQ_OK);
	assert_int_equal(hsm_data_create(o.s, "kq-env-1", v, sizeof(v)), KQ_OK);
	assert_int_equal(
	    hsm_data_create(o.s, "kq-env-1", v, sizeof(v)), KQ_ERR_EXISTS);
	assert_int_equal(hsm_data_create(o.s, "kq-env-2", v, 2), KQ_OK);
	assert_int_equal(hsm_data_list(o.s, &labels, &n), KQ_OK);
	for (i = 0; i < n; i++)
		seen += strcmp(labels[i], "kq-env-1") == 0 ||
		    strcmp(labels[i], "kq-env-2") == 0;
	assert_int_equal(seen, 2);
	hsm_strings_free(labels, n);
	assert_int_equal(hsm_data_read(o.s, "kq-env-1", &b), KQ_OK);
	assert_int_equal(kq_sbuf_len(b), sizeof(v));
	assert_memory_equal(kq_sbuf_ptr(b), v, sizeof(v));
	kq_sbuf_free(b);
	assert_int_equal(hsm_data_delete(o.s, "kq-env-1"), KQ_OK);
	assert_int_equal(hsm_data_read(o.s, "kq-env-1", &b), KQ_ERR_NOT_FOUND);
	hsm_close(o.u, o.c, o.s);
	/* Private: not visible without login. */
	assert_int_equal(hsm_open(SOFTHSM, "pkcs11:token=symtest", 0, &o.u,
	                     &o.c, &o.s, NULL, 0),
	    KQ_OK);
	assert_int_equal(hsm_data_read(o.s, "kq-env-2", &b), KQ_ERR_NOT_FOUND);
	hsm_close(o.u, o.c, o.s);
}

static void
test_session_selection(void **state)
{
	struct open3 o = {NULL, NULL, NULL};
	char why[256];

	(void)state;
	assert_int_equal(hsm_open(SOFTHSM, "pkcs11:token=nobody", 0, &o.u, &o.c,
	                     &o.s, why, sizeof(why)),
	    KQ_ERR_TOKEN_NOT_FOUND);
	assert_null(o.s);
	assert_int_equal(hsm_open("/nonexistent.so", "pkcs11:", 0, &o.u, &o.c,
	                     &o.s, why, sizeof(why)),
	    KQ_ERR_MODULE);
	assert_non_null(strstr(why, "cannot load"));
	assert_int_equal(hsm_open("/usr/lib/x86_64-linux-gnu/libsodium.so.23",
	                     "pkcs11:", 0, &o.u, &o.c, &o.s, why, sizeof(why)),
	    KQ_ERR_MODULE);
	assert_non_null(strstr(why, "C_GetFunctionList"));
	assert_int_equal(hsm_open(SOFTHSM,
	                     "pkcs11:model=SoftHSM%20v2;"
	                     "token=symtest;library-manufacturer=nobody",
	                     0, &o.u, &o.c, &o.s, why, sizeof(why)),
	    KQ_ERR_TOKEN_NOT_FOUND);
	hsm_close(NULL, NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_login_wrong_pin_then_right),
	    cmocka_unit_test(test_pin_sources),
	    cmocka_unit_test(test_aes_gcm_in_hsm),
	    cmocka_unit_test(test_data_objects),
	    cmocka_unit_test(test_session_selection),
	};

	if (kq_secmem_init() != KQ_OK)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
