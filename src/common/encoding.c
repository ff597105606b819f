/*
 * keyquorum: hex and base64 codecs.
 *
 * Same results as libsodium's sodium_bin2hex, sodium_hex2bin (no ignore
 * set), sodium_bin2base64 and sodium_base642bin (ORIGINAL and
 * ORIGINAL_NO_PADDING, no ignore set) behind the checks of encoding.h,
 * including which error a bad input gets, but faster: whole quanta go
 * through 64-bit lanes (encoding_scalar.c) or a SIMD kernel
 * (encoding_x86.c: AVX2, AVX-512 VBMI) chosen at run time.  One deliberate
 * difference: libsodium 1.0.18 reads base64 text as signed char and takes
 * every byte 0x80..0xff for '/'; here those are outside the alphabet.
 *
 * Constant time: no branch and no memory address depends on a data byte
 * (text or binary), only on lengths.  Characters are classified and mapped
 * with arithmetic masks; whether each is in the alphabet is ORed into an
 * error mask that is looked at once, at the end.  (libsodium's decoders
 * stop at the first character outside the alphabet; these do not.)  The
 * values that become public anyway are the verdict (OK, not valid, too
 * long) and the decoded length, which padding sets.
 *
 * How sodium_base642bin decides, and so these: it decodes characters until
 * the first one outside the alphabet ('=' included) or the end; if it has
 * to write byte outcap + 1 before that point, the answer is "too long"
 * (ERANGE) whatever follows.  Otherwise the leftover bits must be fewer
 * than 6 and all zero (canonical encodings only, in both variants), then
 * exactly the padding they call for must follow (padded variant), then the
 * end.
 */
#include "common/encoding.h"

#include <string.h>

#include <sodium.h>

#include "common/encoding_impl.h"
#include "common/err.h"
#include "common/secmem.h"

static int
kq_b64_sodium_variant(enum kq_b64 v)
{
	return v == KQ_B64_RAW ? sodium_base64_VARIANT_ORIGINAL_NO_PADDING
	                       : sodium_base64_VARIANT_ORIGINAL;
}

/* ---- choosing a kernel ----------------------------------------------- */

static const struct kq_codec_kernel *codec_forced;
static const struct kq_codec_kernel *codec_best;

const struct kq_codec_kernel *const *
kq_codec_kernel_list(size_t *n)
{
	size_t m = 0;

	while (kq_codec_all[m] != NULL)
		m++;
	*n = m;
	return kq_codec_all;
}

const struct kq_codec_kernel *
kq_codec_kernel(void)
{
	const struct kq_codec_kernel *k, *const *list;
	size_t n;

	k = __atomic_load_n(&codec_forced, __ATOMIC_RELAXED);
	if (k != NULL)
		return k;
	k = __atomic_load_n(&codec_best, __ATOMIC_RELAXED);
	if (k != NULL)
		return k;
	list = kq_codec_kernel_list(&n);
	k = &kq_codec_scalar;
	while (n-- > 1) {
		if (list[n]->usable()) {
			k = list[n];
			break;
		}
	}
	__atomic_store_n(&codec_best, k, __ATOMIC_RELAXED);
	return k;
}

void
kq_codec_kernel_force(const struct kq_codec_kernel *k)
{
	__atomic_store_n(&codec_forced, k, __ATOMIC_RELAXED);
}

/* ---- the API ----------------------------------------------------------- */

size_t
kq_hex_encoded_size(size_t n)
{
	return n * 2 + 1;
}

size_t
kq_b64_encoded_size(size_t n, enum kq_b64 v)
{
	return sodium_base64_encoded_len(n, kq_b64_sodium_variant(v));
}

int
kq_hex_encode(char *out, size_t outcap, const uint8_t *in, size_t n)
{
	const struct kq_codec_kernel *k = kq_codec_kernel();
	size_t i;

	if (n > (SIZE_MAX - 1) / 2 || outcap < kq_hex_encoded_size(n))
		return KQ_ERR_INVALID;
	i = k->hex_enc(out, in, n);
	if (i < n)
		kq_codec_scalar.hex_enc(out + 2 * i, in + i, n - i);
	out[2 * n] = '\0';
	return KQ_OK;
}

int
kq_hex_decode(
    uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen)
{
	const struct kq_codec_kernel *k = kq_codec_kernel();
	uint32_t err = 0;
	size_t i;
	int r = KQ_ERR_ENCODING;

	if (inlen % 2 != 0)
		goto out;
	if (inlen / 2 > outcap) {
		r = KQ_ERR_TOO_LONG;
		goto out;
	}
	i = k->hex_dec(out, in, inlen, &err);
	if (i < inlen)
		kq_codec_scalar.hex_dec(out + i / 2, in + i, inlen - i, &err);
	KQ_ENC_DECLASSIFY(&err, sizeof(err));
	if (err != 0) {
		kq_wipe(out, outcap);
		goto out;
	}
	*outlen = inlen / 2;
	r = KQ_OK;
out:
	return r;
}

int
kq_b64_encode(
    char *out, size_t outcap, const uint8_t *in, size_t n, enum kq_b64 v)
{
	const struct kq_codec_kernel *k = kq_codec_kernel();
	size_t i, o, size;
	uint32_t t;

	if (n >= SIZE_MAX / 4 * 3)
		return KQ_ERR_INVALID;
	size = kq_b64_encoded_size(n, v);
	if (outcap < size)
		return KQ_ERR_INVALID;
	i = k->b64_enc(out, in, n);
	if (n - i >= 3)
		i += kq_codec_scalar.b64_enc(out + i / 3 * 4, in + i, n - i);
	o = i / 3 * 4;
	if (n - i == 2) {
		t = (uint32_t)in[i] << 10 | (uint32_t)in[i + 1] << 2;
		out[o++] = b64_chr(t >> 12);
		out[o++] = b64_chr((t >> 6) & 63);
		out[o++] = b64_chr(t & 63);
	} else if (n - i == 1) {
		t = (uint32_t)in[i] << 4;
		out[o++] = b64_chr(t >> 6);
		out[o++] = b64_chr(t & 63);
	}
	while (o < size - 1)
		out[o++] = '=';
	/* sodium_bin2base64 fills the rest of the buffer with NULs. */
	memset(out + o, 0, outcap - o);
	return KQ_OK;
}

/* 0, or nonzero when one of the first n characters is not in the alphabet. */
static uint32_t
b64_prefix_bad(const char *in, size_t n)
{
	uint32_t ok, bad = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		(void)b64_val((uint8_t)in[i], &ok);
		bad |= ~ok;
	}
	return bad;
}

/*
 * The last quantum when it is short or padded: XXXX, XXX= or XX== (padded)
 * or XX, XXX (raw), the unused bits zero.  Puts its bytes in tb and their
 * count in *last, the in-alphabet masks of its characters in ok; returns
 * all ones when it is not valid.
 */
static uint32_t
b64_tail(uint8_t tb[3], uint32_t *last, uint32_t ok[4], const char *in,
    size_t len, enum kq_b64 v)
{
	uint32_t d[4] = {0, 0, 0, 0}, err, pad2, pad3, t;
	size_t j;

	for (j = 0; j < 4; j++)
		ok[j] = ~0U;
	for (j = 0; j < len; j++)
		d[j] = b64_val((uint8_t)in[j], &ok[j]);
	err = ~(ok[0] & ok[1]);
	if (v == KQ_B64_PADDED) {
		pad2 = ct_eq((uint8_t)in[2], '=');
		pad3 = ct_eq((uint8_t)in[3], '=');
		err |= (~ok[2] & ~pad2) | (~ok[3] & ~pad3) | (pad2 & ~pad3) |
		    (pad2 & ct_nz(d[1] & 15)) |
		    (pad3 & ~pad2 & ct_nz(d[2] & 3));
		d[2] &= ~pad2;
		d[3] &= ~pad3;
		*last = 3 - (pad2 & 1) - (pad3 & 1);
	} else {
		*last = (uint32_t)len - 1;
		err |= ~ok[2] | (len == 2 ? ct_nz(d[1] & 15) : ct_nz(d[2] & 3));
	}
	t = d[0] << 18 | d[1] << 12 | d[2] << 6 | d[3];
	tb[0] = (uint8_t)(t >> 16);
	tb[1] = (uint8_t)(t >> 8);
	tb[2] = (uint8_t)t;
	return err;
}

int
kq_b64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in,
    size_t inlen, enum kq_b64 v)
{
	const struct kq_codec_kernel *k = kq_codec_kernel();
	uint32_t err = 0, body_err = 0, toolong = 0, last = 0, ok[4];
	size_t maxout, q = SIZE_MAX, body, nout, i, j;
	uint8_t tb[3];
	int r = KQ_ERR_ENCODING;

	if ((v == KQ_B64_PADDED && inlen % 4 != 0) ||
	    (v == KQ_B64_RAW && inlen % 4 == 1))
		goto out;
	maxout = inlen / 4 * 3 + (inlen % 4 == 0 ? 0 : inlen % 4 - 1);
	if (outcap < maxout) {
		/* libsodium would have to write byte outcap + 1 at char q. */
		q = outcap / 3 * 4 + outcap % 3 + 1;
		if (q + (v == KQ_B64_PADDED ? 2 : 0) < inlen) {
			/*
			 * Too long, unless a character up to q is not in the
			 * alphabet: then not valid, as padding ('=') can only
			 * be in the last two places.
			 */
			err = b64_prefix_bad(in, q + 1);
			KQ_ENC_DECLASSIFY(&err, sizeof(err));
			r = err != 0 ? KQ_ERR_ENCODING : KQ_ERR_TOO_LONG;
			goto fail;
		}
	}

	/* Whole quanta without padding, then what is left. */
	body = inlen - inlen % 4;
	if (v == KQ_B64_PADDED && inlen > 0)
		body -= 4;
	i = k->b64_dec(out, in, body, &body_err);
	if (i < body)
		kq_codec_scalar.b64_dec(
		    out + i / 4 * 3, in + i, body - i, &body_err);
	nout = body / 4 * 3;
	body_err = ct_nz(body_err);
	err = body_err;
	if (inlen > body) {
		err |= b64_tail(tb, &last, ok, in + body, inlen - body, v);
		/* libsodium's overflow at char q, in the last quantum. */
		if (q < inlen) {
			toolong = ~body_err & ok[0] & ok[1] & ok[2];
			if (q == inlen - 1)
				toolong &= ok[3];
		}
		/* Bytes past the decoded length (padding) keep their value. */
		for (j = 0; j < 3 && nout + j < outcap; j++)
			out[nout + j] = ct_select8(
			    ct_lt((uint32_t)j, last), tb[j], out[nout + j]);
	}
	KQ_ENC_DECLASSIFY(&err, sizeof(err));
	KQ_ENC_DECLASSIFY(&toolong, sizeof(toolong));
	if (toolong != 0) {
		r = KQ_ERR_TOO_LONG;
		goto fail;
	}
	if (err != 0)
		goto fail;
	/* The decoded length is public: it is returned. */
	KQ_ENC_DECLASSIFY(&last, sizeof(last));
	*outlen = nout + last;
	r = KQ_OK;
	goto out;
fail:
	kq_wipe(out, outcap);
out:
	return r;
}

int
kq_key_decode_vault(
    uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen)
{
	size_t n = 0;

	/* Vault: hex first, accepted only when it is 16..33 bytes long. */
	if (inlen % 2 == 0 && inlen / 2 >= 16 && inlen / 2 <= 33 &&
	    inlen / 2 <= outcap &&
	    kq_hex_decode(out, outcap, &n, in, inlen) == KQ_OK) {
		*outlen = n;
		return KQ_OK;
	}
	return kq_b64_decode(out, outcap, outlen, in, inlen, KQ_B64_PADDED);
}
