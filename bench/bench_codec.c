/*
 * bench_codec: in-process throughput of the hex and base64 codecs
 * (common/encoding.h), per kernel, beside libsodium's constant-time codecs
 * (sodium_bin2hex, sodium_hex2bin, sodium_bin2base64, sodium_base642bin)
 * and memcpy of the same bytes.
 *
 * Throughput is in MB/s (10^6 bytes) of binary data: a decoder turning
 * 4/3 n characters into n bytes is credited with n.  Each figure is the
 * median of several runs of at least min_time seconds' worth of calls.
 * Prints a table, then one line per figure:
 *   BENCH name=codec_<op> kernel=<k> size=<bytes> k=- n=- value=<MB/s> unit=MB/s
 * where op is hex_encode, hex_decode, b64_encode, b64_decode, memcpy.
 *
 *   bench_codec           1 KiB, 1 MiB, 16 MiB
 *   bench_codec --quick   1 KiB, 1 MiB, shorter runs
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/encoding.h"
#include "common/encoding_impl.h"
#include "common/err.h"
#include "common/secmem.h"

#define REPS 5

static double min_time = 0.2;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum op {
	HEX_ENC,
	HEX_DEC,
	B64_ENC,
	B64_DEC,
	MEMCPY,
	NOPS
};

static const char *const op_name[NOPS] = {
    "hex_encode", "hex_decode", "b64_encode", "b64_decode", "memcpy"};

struct bufs {
	uint8_t *bin, *out;
	char *hex, *b64, *txt;
	size_t n, hexcap, b64cap;
};

static volatile int sink;

/* One call of op on the buffers; sodium: libsodium's codec instead. */
static void
run_once(enum op op, int sodium, struct bufs *b)
{
	size_t got = 0;
	int r = 0;

	switch (op) {
	case HEX_ENC:
		if (sodium)
			sodium_bin2hex(b->txt, b->hexcap, b->bin, b->n);
		else
			r = kq_hex_encode(b->txt, b->hexcap, b->bin, b->n);
		break;
	case HEX_DEC:
		if (sodium)
			r = sodium_hex2bin(
			    b->out, b->n, b->hex, 2 * b->n, NULL, &got, NULL);
		else
			r = kq_hex_decode(b->out, b->n, &got, b->hex, 2 * b->n);
		break;
	case B64_ENC:
		if (sodium)
			sodium_bin2base64(b->txt, b->b64cap, b->bin, b->n,
			    sodium_base64_VARIANT_ORIGINAL);
		else
			r = kq_b64_encode(
			    b->txt, b->b64cap, b->bin, b->n, KQ_B64_PADDED);
		break;
	case B64_DEC:
		if (sodium)
			r = sodium_base642bin(b->out, b->n, b->b64,
			    b->b64cap - 1, NULL, &got, NULL,
			    sodium_base64_VARIANT_ORIGINAL);
		else
			r = kq_b64_decode(b->out, b->n, &got, b->b64,
			    b->b64cap - 1, KQ_B64_PADDED);
		break;
	default:
		memcpy(b->out, b->bin, b->n);
		break;
	}
	sink += r + (int)got;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median MB/s over REPS runs of at least min_time each. */
static double
measure(enum op op, int sodium, struct bufs *b)
{
	double rates[REPS], t0, t;
	unsigned long calls, i;
	int rep;

	/* Calibrate: calls per min_time. */
	calls = 1;
	for (;;) {
		t0 = now();
		for (i = 0; i < calls; i++)
			run_once(op, sodium, b);
		t = now() - t0;
		if (t >= min_time / 4 || calls > (1UL << 30))
			break;
		calls *= 2;
	}
	calls = (unsigned long)((double)calls * min_time / (t > 0 ? t : 1e-9));
	if (calls == 0)
		calls = 1;
	for (rep = 0; rep < REPS; rep++) {
		t0 = now();
		for (i = 0; i < calls; i++)
			run_once(op, sodium, b);
		t = now() - t0;
		rates[rep] = (double)b->n * (double)calls / t / 1e6;
	}
	qsort(rates, REPS, sizeof(rates[0]), cmp_double);
	return rates[REPS / 2];
}

static void
figure(enum op op, const char *kernel, size_t n, double v)
{
	printf("%-12s %-10s %10zu %10.1f MB/s\n", op_name[op], kernel, n, v);
	printf("BENCH name=codec_%s kernel=%s size=%zu k=- n=- value=%.1f "
	       "unit=MB/s\n",
	    op_name[op], kernel, n, v);
}

int
main(int argc, char **argv)
{
	static const size_t full[] = {1024, 1024 * 1024, 16 * 1024 * 1024};
	const struct kq_codec_kernel *const *ks;
	size_t nsizes = 3, si, nk, ki;
	struct bufs b;
	int op;

	if (argc == 2 && strcmp(argv[1], "--quick") == 0) {
		min_time = 0.05;
		nsizes = 2;
	} else if (argc != 1) {
		fprintf(stderr, "usage: bench_codec [--quick]\n");
		return 2;
	}
	if (sodium_init() < 0 || kq_secmem_init() != KQ_OK)
		return 1;
	ks = kq_codec_kernel_list(&nk);
	printf(
	    "%-12s %-10s %10s %15s\n", "op", "kernel", "bytes", "throughput");
	for (si = 0; si < nsizes; si++) {
		memset(&b, 0, sizeof(b));
		b.n = full[si];
		b.hexcap = kq_hex_encoded_size(b.n);
		b.b64cap = kq_b64_encoded_size(b.n, KQ_B64_PADDED);
		b.bin = malloc(b.n);
		b.out = malloc(b.n);
		b.hex = malloc(b.hexcap);
		b.b64 = malloc(b.b64cap);
		b.txt = malloc(b.hexcap);
		if (b.bin == NULL || b.out == NULL || b.hex == NULL ||
		    b.b64 == NULL || b.txt == NULL)
			return 1;
		randombytes_buf(b.bin, b.n);
		sodium_bin2hex(b.hex, b.hexcap, b.bin, b.n);
		sodium_bin2base64(b.b64, b.b64cap, b.bin, b.n,
		    sodium_base64_VARIANT_ORIGINAL);
		memset(b.txt, 0, b.hexcap);
		memset(b.out, 0, b.n);
		for (op = 0; op < MEMCPY; op++) {
			for (ki = 0; ki < nk; ki++) {
				if (!ks[ki]->usable())
					continue;
				kq_codec_kernel_force(ks[ki]);
				figure((enum op)op, ks[ki]->name, b.n,
				    measure((enum op)op, 0, &b));
			}
			kq_codec_kernel_force(NULL);
			figure((enum op)op, "libsodium", b.n,
			    measure((enum op)op, 1, &b));
		}
		figure(MEMCPY, "-", b.n, measure(MEMCPY, 0, &b));
		free(b.bin);
		free(b.out);
		free(b.hex);
		free(b.b64);
		free(b.txt);
	}
	return 0;
}
