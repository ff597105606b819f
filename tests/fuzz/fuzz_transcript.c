/*
 * The transcript verifier, transcript_verify, on a file holding the input
 * (written to a private temporary file each run; the verifier reads a
 * path).  With the first byte odd, every line's "prev":"<64 hex>" is first
 * rewritten to the SHA-256 of the line before, as an honest writer would
 * have: otherwise the fuzzer could never get past line 1 of the hash
 * chain.  A transcript that verifies must then open (transcript_open reads
 * its last line), take one appended line and still verify, one line longer.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <unistd.h>

#include <sodium.h>

#include "ceremony/ceremony.h"
#include "common/encoding.h"

static char path[64];

static void
rm_tmp(void)
{
	unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	int fd;

	(void)argc;
	(void)argv;
	fuzz_init();
	ceremony_json_init();
	snprintf(path, sizeof(path), "%s/kqfuzz-tr.XXXXXX", dir);
	FUZZ_CHECK((fd = mkstemp(path)) >= 0);
	close(fd);
	atexit(rm_tmp);
	return 0;
}

/* Rewrite each line's prev to chain to the line before (in place). */
static void
fix_chain(uint8_t *p, size_t n)
{
	static const char key[] = "\"prev\":\"";
	uint8_t h[32];
	char hex[65];
	uint8_t *line = p, *nl, *at;
	size_t len;

	memset(h, 0, sizeof(h));
	while (line < p + n) {
		nl = memchr(line, '\n', (size_t)(p + n - line));
		len = nl != NULL ? (size_t)(nl - line) : (size_t)(p + n - line);
		at = memmem(line, len, key, sizeof(key) - 1);
		if (at != NULL &&
		    (size_t)(at - line) + sizeof(key) - 1 + 64 <= len) {
			FUZZ_CHECK(
			    kq_hex_encode(hex, sizeof(hex), h, 32) == KQ_OK);
			memcpy(at + sizeof(key) - 1, hex, 64);
		}
		crypto_hash_sha256(h, line, len);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
}

static void
put_file(const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transcript_entry e = {.op = "fuzz", .outcome = "ok"};
	unsigned long long lines = 0, bad = 0, lines2 = 0;
	char detail[CEREMONY_DETAIL_MAX];
	struct transcript *t = NULL;
	uint8_t *buf;
	int r;

	if (size < 1 || size > 64 * 1024)
		return 0;
	FUZZ_CHECK((buf = malloc(size)) != NULL);
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1)
		fix_chain(buf, size - 1);
	put_file(buf, size - 1);
	free(buf);

	detail[0] = '\0';
	r = transcript_verify(path, &lines, &bad, detail);
	if (r != KQ_OK) {
		FUZZ_CHECK(r == KQ_ERR_CHAIN || r == KQ_ERR_NOMEM);
		FUZZ_CHECK(r != KQ_ERR_CHAIN || bad >= 1);
		return 0;
	}
	r = transcript_open(path, &t, detail);
	FUZZ_CHECK(r == KQ_OK);
	FUZZ_CHECK(transcript_next_seq(t) == lines + 1);
	if (data[0] & 2) {
		e.has_vault = 1;
		e.vault_progress = data[0];
		e.vault_threshold = 3;
		e.vault_nonce = "nonce";
		e.detail = "fuzz \"detail\"\n";
	}
	FUZZ_CHECK(transcript_append(t, &e) == KQ_OK);
	transcript_close(t);
	FUZZ_CHECK(transcript_verify(path, &lines2, &bad, detail) == KQ_OK);
	FUZZ_CHECK(lines2 == lines + 1);
	return 0;
}
