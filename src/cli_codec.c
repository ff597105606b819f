/*
 * keyquorum CLI: decoding secret text into secure memory and writing
 * encoded secrets with write(2).  The codecs are constant time
 * (src/common/encoding.c); only white space at the edges is trimmed.
 */
#include "cli.h"

#include <string.h>

#include "common/encoding.h"
#include "common/err.h"
#include "common/secio.h"
#include "common/secmem.h"

static const struct {
	const char *name;
	enum cli_fmt fmt;
} cli_fmts[] = {
    {"raw", CLI_FMT_RAW},
    {"hex", CLI_FMT_HEX},
    {"base64", CLI_FMT_BASE64},
    {"auto", CLI_FMT_AUTO},
};

int
cli_parse_fmt(const char *s, unsigned allowed, enum cli_fmt *out)
{
	size_t i;

	for (i = 0; i < sizeof(cli_fmts) / sizeof(cli_fmts[0]); i++) {
		if ((allowed & (unsigned)cli_fmts[i].fmt) != 0 &&
		    strcmp(s, cli_fmts[i].name) == 0) {
			*out = cli_fmts[i].fmt;
			return 0;
		}
	}
	return -1;
}

static int
cli_is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
cli_decode(enum cli_fmt f, const uint8_t *in, size_t inlen, uint8_t **out,
    size_t *outlen)
{
	uint8_t *buf;
	size_t cap, n = 0;
	int r;

	if (f != CLI_FMT_RAW) {
		while (inlen > 0 && cli_is_space(in[0]))
			in++, inlen--;
		while (inlen > 0 && cli_is_space(in[inlen - 1]))
			inlen--;
	}
	if (inlen == 0)
		return KQ_ERR_EMPTY;
	cap = f == CLI_FMT_RAW ? inlen : inlen / 4 * 3 + 3;
	if ((buf = kq_secalloc(cap)) == NULL)
		return KQ_ERR_NOMEM;
	switch (f) {
	case CLI_FMT_RAW:
		memcpy(buf, in, inlen);
		n = inlen;
		r = KQ_OK;
		break;
	case CLI_FMT_HEX:
		r = kq_hex_decode(buf, cap, &n, (const char *)in, inlen);
		break;
	case CLI_FMT_BASE64:
		r = kq_b64_decode(
		    buf, cap, &n, (const char *)in, inlen, KQ_B64_PADDED);
		break;
	case CLI_FMT_AUTO:
		r = kq_key_decode_vault(buf, cap, &n, (const char *)in, inlen);
		break;
	default:
		r = KQ_ERR_INVALID;
		break;
	}
	if (r != KQ_OK) {
		kq_secfree(buf);
		return r;
	}
	*out = buf;
	*outlen = n;
	return KQ_OK;
}

/* Encode items [0, count) of p into txt (of cap + 1 bytes) and write them. */
static int
write_items(int fd, enum cli_fmt f, char *txt, size_t cap, const uint8_t *p,
    size_t n, size_t count, int nl)
{
	size_t i, len;
	int r = KQ_OK;

	for (i = 0; i < count && r == KQ_OK; i++) {
		r = f == CLI_FMT_HEX
		    ? kq_hex_encode(txt, cap, p + i * n, n)
		    : kq_b64_encode(txt, cap, p + i * n, n, KQ_B64_PADDED);
		if (r != KQ_OK)
			break;
		len = strlen(txt);
		if (nl)
			txt[len++] = '\n';
		r = kq_write_all(fd, txt, len);
	}
	return r;
}

static int
write_encoded(
    int fd, enum cli_fmt f, const uint8_t *p, size_t n, size_t count, int nl)
{
	char *txt = NULL;
	size_t cap, i;
	int r = KQ_OK;

	if (f == CLI_FMT_RAW) {
		for (i = 0; i < count && r == KQ_OK; i++)
			if ((r = kq_write_all(fd, p + i * n, n)) == KQ_OK && nl)
				r = kq_write_all(fd, "\n", 1);
		return r;
	}
	cap = f == CLI_FMT_HEX ? kq_hex_encoded_size(n)
	                       : kq_b64_encoded_size(n, KQ_B64_PADDED);
	if ((txt = kq_secalloc(cap + 1)) == NULL)
		return KQ_ERR_NOMEM;
	r = write_items(fd, f, txt, cap, p, n, count, nl);
	kq_secfree(txt);
	return r;
}

int
cli_write_encoded(int fd, enum cli_fmt f, const uint8_t *p, size_t n, int nl)
{
	return write_encoded(fd, f, p, n, 1, nl);
}

int
cli_write_encoded_lines(
    int fd, enum cli_fmt f, const uint8_t *p, size_t n, size_t count)
{
	return write_encoded(fd, f, p, n, count, 1);
}
