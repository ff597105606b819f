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

/* in without the white space at its edges (none trimmed for RAW). */
static void
cli_trim(enum cli_fmt f, const uint8_t **in, size_t *inlen)
{
	if (f == CLI_FMT_RAW)
		return;
	while (*inlen > 0 && cli_is_space((*in)[0]))
		(*in)++, (*inlen)--;
	while (*inlen > 0 && cli_is_space((*in)[*inlen - 1]))
		(*inlen)--;
}

size_t
cli_decode_cap(enum cli_fmt f, size_t inlen)
{
	/* Base64 is the least dense of the text formats. */
	return f == CLI_FMT_RAW ? inlen : inlen / 4 * 3 + 3;
}

int
cli_decode_into(enum cli_fmt f, const uint8_t *in, size_t inlen, uint8_t *out,
    size_t *outlen)
{
	size_t cap = cli_decode_cap(f, inlen);

	cli_trim(f, &in, &inlen);
	if (inlen == 0)
		return KQ_ERR_EMPTY;
	switch (f) {
	case CLI_FMT_RAW:
		memcpy(out, in, inlen);
		*outlen = inlen;
		return KQ_OK;
	case CLI_FMT_HEX:
		return kq_hex_decode(out, cap, outlen, (const char *)in, inlen);
	case CLI_FMT_BASE64:
		return kq_b64_decode(
		    out, cap, outlen, (const char *)in, inlen, KQ_B64_PADDED);
	case CLI_FMT_AUTO:
		return kq_key_decode_vault(
		    out, cap, outlen, (const char *)in, inlen);
	default:
		return KQ_ERR_INVALID;
	}
}

int
cli_decode(enum cli_fmt f, const uint8_t *in, size_t inlen, uint8_t **out,
    size_t *outlen)
{
	uint8_t *buf;
	size_t cap, n = 0;
	int r;

	cli_trim(f, &in, &inlen);
	if (inlen == 0)
		return KQ_ERR_EMPTY;
	cap = cli_decode_cap(f, inlen);
	if ((buf = kq_secalloc(cap)) == NULL)
		return KQ_ERR_NOMEM;
	if ((r = cli_decode_into(f, in, inlen, buf, &n)) != KQ_OK) {
		kq_secfree(buf);
		return r;
	}
	*out = buf;
	*outlen = n;
	return KQ_OK;
}

/* Characters of one encoded item (hex or base64) of n bytes and its
 * newline, if any. */
static size_t
line_size(enum cli_fmt f, size_t n, int nl)
{
	/* The encoded sizes count a NUL: it is where the newline goes. */
	return (f == CLI_FMT_HEX ? kq_hex_encoded_size(n)
	                         : kq_b64_encoded_size(n, KQ_B64_PADDED)) -
	    (nl ? 0 : 1);
}

/* Lines batched into one write: up to this many bytes of them. */
#define CLI_WRITE_BATCH 65536

size_t
cli_encoded_lines_scratch(enum cli_fmt f, size_t n, size_t count)
{
	size_t line = line_size(f, n, 1);

	if (f == CLI_FMT_RAW)
		return 0;
	if (count > 0 && line <= CLI_WRITE_BATCH / count)
		return line * count + 1; /* + 1: the encoder's NUL */
	return line + 1;
}

/*
 * Encode items [0, count) of p, each line_size(f, n, nl) characters, into
 * buf (of cap bytes, at least one line and a NUL) as many at a time as
 * fit, and write each batch.
 */
static int
write_items(int fd, enum cli_fmt f, char *buf, size_t cap, const uint8_t *p,
    size_t n, size_t count, int nl)
{
	size_t i, used = 0, line = line_size(f, n, nl);
	int r = KQ_OK;

	for (i = 0; i < count && r == KQ_OK; i++) {
		if (cap - used < line + 1) {
			r = kq_write_all(fd, buf, used);
			used = 0;
			if (r != KQ_OK)
				break;
		}
		r = f == CLI_FMT_HEX
		    ? kq_hex_encode(buf + used, cap - used, p + i * n, n)
		    : kq_b64_encode(
		          buf + used, cap - used, p + i * n, n, KQ_B64_PADDED);
		if (r != KQ_OK)
			break;
		if (nl)
			buf[used + line - 1] = '\n';
		used += line;
	}
	if (r == KQ_OK && used > 0)
		r = kq_write_all(fd, buf, used);
	return r;
}

static int
write_encoded(int fd, enum cli_fmt f, const uint8_t *p, size_t n, size_t count,
    int nl, char *scratch, size_t scratch_len)
{
	char *own = NULL;
	size_t i;
	int r = KQ_OK;

	if (f == CLI_FMT_RAW) { /* written where it is: no copy */
		for (i = 0; i < count && r == KQ_OK; i++)
			if ((r = kq_write_all(fd, p + i * n, n)) == KQ_OK && nl)
				r = kq_write_all(fd, "\n", 1);
		return r;
	}
	if (scratch == NULL || scratch_len < line_size(f, n, nl) + 1) {
		/* Enough for one line with its newline, whatever nl. */
		scratch_len = cli_encoded_lines_scratch(f, n, count);
		if ((own = kq_secalloc(scratch_len)) == NULL)
			return KQ_ERR_NOMEM;
		scratch = own;
	}
	r = write_items(fd, f, scratch, scratch_len, p, n, count, nl);
	if (own != NULL)
		kq_secfree(own);
	else
		kq_wipe(scratch, scratch_len);
	return r;
}

int
cli_write_encoded(int fd, enum cli_fmt f, const uint8_t *p, size_t n, int nl,
    char *scratch, size_t scratch_len)
{
	return write_encoded(fd, f, p, n, 1, nl, scratch, scratch_len);
}

int
cli_write_encoded_lines(int fd, enum cli_fmt f, const uint8_t *p, size_t n,
    size_t count, char *scratch, size_t scratch_len)
{
	return write_encoded(fd, f, p, n, count, 1, scratch, scratch_len);
}
