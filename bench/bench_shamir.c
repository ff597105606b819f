/*
 * bench_shamir: in-process throughput and latency of shamir_split and
 * shamir_combine, per kernel, beside the floors they cannot beat: memcpy
 * bandwidth, the CSPRNG (kq_random in 64 KiB requests, as split draws;
 * OpenSSL's RAND_bytes and libsodium's ChaCha20 keystream for comparison).
 *
 * Prints a table, then one line per figure for scripts:
 *   BENCH name=<what> kernel=<k> size=<bytes> k=<t> n=<n> value=<v> unit=<u>
 * Each figure is the median wall time over repeated runs (the machine is
 * shared, so medians are steadier than means), with the median CPU time
 * beside it.  Runs that spent more than 2% of their wall time off the CPU
 * (wall time minus the process's CPU time: another process had the core)
 * measure the neighbours, not the code: they are left out of the medians
 * when at least 3 runs were not, and counted in the table ("pre" k/n).
 * (A context switch alone says little: a kernel thread that runs for a
 * few microseconds every few milliseconds preempts nearly every run.)
 *
 *   bench_shamir                 32 B .. 256 MiB, 3-of-5, 5-of-10, 10-of-20,
 *                                each kernel at 32 B, 1 MiB, 16 MiB
 *   bench_shamir --quick         sizes up to 16 MiB, shorter runs
 *   bench_shamir --sweep size    for bench/plot.sh: split and combine time
 *                                (us) at 1 KiB .. 256 MiB, 3-of-5 and 5-of-10
 *   bench_shamir --sweep threshold
 *                                for bench/plot.sh: split and combine time
 *                                (us) of 1 MiB at k = 2 .. 20 of n = 20, each
 *                                kernel
 * The sweeps print only lines
 *   BENCH name=sweep_<split|combine> kernel=<k> size=<bytes> k=<t> n=<n> value=<us> unit=us
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <sodium.h>

#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"
#include "shamir/gf256.h"
#include "shamir/shamir.h"

#define MIB (1024u * 1024u)
#define MAXREP 64

static double min_time = 0.25; /* seconds per figure */

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double
now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static double
cpu_now(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* What one timed run does: `calls` operations. */
struct job {
	int (*fn)(struct job *j);
	const uint8_t *secret;
	uint8_t *out;
	uint8_t **shares;
	size_t len, size;
	unsigned k, n;
	long calls;
};

/*
 * Seconds per operation: runs of j->calls operations, repeated until
 * min_time has passed (at least 3 runs, and if need be up to 8 * min_time
 * to get 3 runs that stayed on the CPU), median of the wall time of the
 * runs that stayed on the CPU (off it for at most 2% of their wall time;
 * of all runs when fewer than 3 did).  The median CPU time of the same
 * runs goes to last_cpu: on a shared machine it shows what the code costs
 * when it is not waiting for a core.  last_pre and last_runs count the
 * runs left out and all runs.
 */
static double last_cpu;
static int last_pre, last_runs;

static double
measure(struct job *j)
{
	double t[MAXREP], u[MAXREP], tc[MAXREP], uc[MAXREP], t0, u0, el;
	double start = now();
	int reps = 0, clean = 0;
	long c;

	do {
		t0 = now();
		u0 = cpu_now();
		for (c = 0; c < j->calls; c++)
			if (j->fn(j) != KQ_OK) {
				fprintf(stderr, "bench: operation failed\n");
				exit(1);
			}
		u[reps] = (cpu_now() - u0) / (double)j->calls;
		t[reps] = (now() - t0) / (double)j->calls;
		if (t[reps] - u[reps] <= 0.02 * t[reps]) {
			tc[clean] = t[reps];
			uc[clean++] = u[reps];
		}
		reps++;
		el = now() - start;
	} while (reps < MAXREP &&
	    (reps < 3 || el < min_time || (clean < 3 && el < 8 * min_time)));
	last_pre = reps - clean;
	last_runs = reps;
	if (clean >= 3) {
		last_cpu = median(uc, clean);
		return median(tc, clean);
	}
	last_cpu = median(u, reps);
	return median(t, reps);
}

static int
op_split(struct job *j)
{
	return shamir_split(j->secret, j->len, j->k, j->n, j->shares);
}

static int
op_combine(struct job *j)
{
	return shamir_combine(
	    (const uint8_t *const *)j->shares, j->k, j->len + 1, j->out);
}

static int
op_memcpy(struct job *j)
{
	memcpy(j->out, j->secret, j->size);
	return KQ_OK;
}

static int
op_rand(struct job *j)
{
	size_t o;

	for (o = 0; o < j->size; o += 65536)
		if (RAND_bytes(j->out + o, 65536) != 1)
			return KQ_ERR_RANDOM;
	return KQ_OK;
}

static int
op_kq_random(struct job *j)
{
	size_t o;

	for (o = 0; o < j->size; o += 65536)
		if (kq_random(j->out + o, 65536) != KQ_OK)
			return KQ_ERR_RANDOM;
	return KQ_OK;
}

static int
op_rand_small(struct job *j)
{
	return kq_random(j->out, j->size);
}

static int
op_chacha(struct job *j)
{
	static const uint8_t key[32], nonce[8];
	size_t o;

	for (o = 0; o < j->size; o += 65536)
		crypto_stream_chacha20(j->out + o, 65536, nonce, key);
	return KQ_OK;
}

static void
emit(const char *name, const char *kernel, size_t size, unsigned k, unsigned n,
    double value, const char *unit)
{
	printf("BENCH name=%s kernel=%s size=%zu k=%u n=%u value=%.3f "
	       "unit=%s\n",
	    name, kernel, size, k, n, value, unit);
}

static void
fill(uint8_t *p, size_t n)
{
	if (kq_random(p, n) != KQ_OK)
		exit(1);
}

/* Floors: MB/s of memcpy, kq_random, RAND_bytes, ChaCha20. */
static double fl_memcpy, fl_kq, fl_rand, fl_chacha;

static void
floors(uint8_t *a, uint8_t *b)
{
	struct job j = {0};
	double s;

	printf("\n%-44s %12s\n", "floor", "MB/s");
	j.secret = a;
	j.out = b;
	j.size = 16 * MIB;
	j.calls = 1;
	j.fn = op_memcpy;
	s = measure(&j);
	fl_memcpy = (double)j.size / s / 1e6;
	printf("%-44s %12.0f\n", "memcpy 16 MiB", fl_memcpy);
	emit("floor_memcpy", "-", j.size, 0, 0, fl_memcpy, "MB/s");
	j.fn = op_kq_random;
	s = measure(&j);
	fl_kq = (double)j.size / s / 1e6;
	printf("%-44s %12.0f\n", "kq_random, 64 KiB requests", fl_kq);
	emit("floor_kq_random", "-", j.size, 0, 0, fl_kq, "MB/s");
	j.fn = op_rand;
	s = measure(&j);
	fl_rand = (double)j.size / s / 1e6;
	printf("%-44s %12.0f\n", "RAND_bytes, 64 KiB requests", fl_rand);
	emit("floor_rand_bytes", "-", j.size, 0, 0, fl_rand, "MB/s");
	j.fn = op_chacha;
	s = measure(&j);
	fl_chacha = (double)j.size / s / 1e6;
	printf("%-44s %12.0f\n", "crypto_stream_chacha20, 64 KiB requests",
	    fl_chacha);
	emit("floor_chacha20", "-", j.size, 0, 0, fl_chacha, "MB/s");
	j.fn = op_rand_small;
	j.size = 104; /* what a 32-byte 3-of-5 split draws */
	j.calls = 2000;
	s = measure(&j);
	printf("%-44s %9.0f ns\n", "kq_random(104 bytes), one call", s * 1e9);
	emit("floor_kq_random_call", "-", j.size, 0, 0, s * 1e9, "ns");
}

/*
 * Split and combine of one (size, k, n) with the current kernel, seconds
 * per call: t[0] split (median wall), t[1] its CPU time, t[2] combine,
 * t[3] its CPU time.  pre (may be NULL): preempted runs and all runs of
 * split, then of combine.
 */
static void
time_pair(uint8_t *secret, uint8_t *out, uint8_t **shares, size_t len,
    unsigned k, unsigned n, double t[4], int *pre)
{
	struct job j = {0};
	uint8_t *sh[20];
	unsigned i;

	/*
	 * The shares one after another, each len + 1 bytes, as the CLI lays
	 * them out (one allocation): spread a buffer's length apart, the
	 * same rows ran a third slower here (16 MiB split 1.1 against 1.8
	 * GB/s, with 256 MiB apart), an artefact of where the pages fall.
	 */
	for (i = 0; i < n; i++)
		sh[i] = shares[0] + (size_t)i * (len + 1);
	j.secret = secret;
	j.out = out;
	j.shares = sh;
	j.len = len;
	j.k = k;
	j.n = n;
	j.calls = len <= 4096 ? 20000 : 1;
	j.fn = op_split;
	/*
	 * One untimed split first: it maps the share buffers (a first touch
	 * costs about 2 us per 4 KiB page here, 40 ms for 16 MiB at 3-of-5).
	 */
	if (op_split(&j) != KQ_OK) {
		fprintf(stderr, "bench: operation failed\n");
		exit(1);
	}
	t[0] = measure(&j);
	t[1] = last_cpu;
	if (pre != NULL) {
		pre[0] = last_pre;
		pre[1] = last_runs;
	}
	j.fn = op_combine;
	t[2] = measure(&j);
	t[3] = last_cpu;
	if (pre != NULL) {
		pre[2] = last_pre;
		pre[3] = last_runs;
	}
	if (memcmp(out, secret, len) != 0) {
		fprintf(stderr, "bench: combine gave a wrong secret\n");
		exit(1);
	}
}

/* One (kernel, size, k, n) row: split and combine. */
static void
row(const char *kname, uint8_t *secret, uint8_t *out, uint8_t **shares,
    size_t len, unsigned k, unsigned n)
{
	double t[4], ss, sc, ssu, scu, rnd = fl_kq, mcpy = fl_memcpy;
	int pre[4];

	time_pair(secret, out, shares, len, k, n, t, pre);
	ss = t[0];
	ssu = t[1];
	sc = t[2];
	scu = t[3];
	if (len <= 4096) {
		printf("%-12s %9zu %3u-of-%-3u split %7.3f us (cpu %7.3f)  "
		       "combine %7.3f us (cpu %7.3f)  pre %d/%d %d/%d\n",
		    kname, len, k, n, ss * 1e6, ssu * 1e6, sc * 1e6, scu * 1e6,
		    pre[0], pre[1], pre[2], pre[3]);
		emit("split_latency", kname, len, k, n, ss * 1e6, "us");
		emit("split_latency_cpu", kname, len, k, n, ssu * 1e6, "us");
		emit("combine_latency", kname, len, k, n, sc * 1e6, "us");
		emit("combine_latency_cpu", kname, len, k, n, scu * 1e6, "us");
		return;
	}
	printf("%-12s %9zu %3u-of-%-3u split %6.0f MB/s (cpu %6.0f, x%.2f of "
	       "kq_random/(k-1))  combine %6.0f MB/s (cpu %6.0f, x%.2f of "
	       "memcpy)  pre %d/%d %d/%d\n",
	    kname, len, k, n, (double)len / ss / 1e6, (double)len / ssu / 1e6,
	    (double)len / ss / 1e6 / (rnd / (k - 1)), (double)len / sc / 1e6,
	    (double)len / scu / 1e6, (double)len / sc / 1e6 / mcpy, pre[0],
	    pre[1], pre[2], pre[3]);
	emit("split", kname, len, k, n, (double)len / ss / 1e6, "MB/s");
	emit("split_cpu", kname, len, k, n, (double)len / ssu / 1e6, "MB/s");
	emit("combine", kname, len, k, n, (double)len / sc / 1e6, "MB/s");
	emit("combine_cpu", kname, len, k, n, (double)len / scu / 1e6, "MB/s");
	emit("split_vs_kq_random_floor", kname, len, k, n,
	    (double)len / ss / 1e6 / (rnd / (k - 1)), "ratio");
	emit("split_vs_rand_floor", kname, len, k, n,
	    (double)len / ss / 1e6 / (fl_rand / (k - 1)), "ratio");
	emit("split_vs_chacha_floor", kname, len, k, n,
	    (double)len / ss / 1e6 / (fl_chacha / (k - 1)), "ratio");
	emit("combine_vs_memcpy", kname, len, k, n,
	    (double)len / sc / 1e6 / mcpy, "ratio");
}

/* --sweep size | threshold: the data of bench/plot.sh. */
static void
sweep(int by_size, uint8_t *secret, uint8_t *out, uint8_t **shares)
{
	static const unsigned kn[][2] = {{3, 5}, {5, 10}};
	const struct gf256_kernel *const *ks;
	size_t nk, i, len;
	unsigned k, c;
	double t[4];

	min_time = by_size ? 0.1 : 0.05;
	if (by_size) {
		for (c = 0; c < 2; c++)
			for (len = 1024; len <= 256 * MIB; len *= 4) {
				time_pair(secret, out, shares, len, kn[c][0],
				    kn[c][1], t, NULL);
				emit("sweep_split", gf256_kernel()->name, len,
				    kn[c][0], kn[c][1], t[0] * 1e6, "us");
				emit("sweep_combine", gf256_kernel()->name, len,
				    kn[c][0], kn[c][1], t[2] * 1e6, "us");
				fflush(stdout);
			}
		return;
	}
	ks = gf256_kernel_list(&nk);
	for (i = 0; i < nk; i++) {
		if (!ks[i]->usable())
			continue;
		gf256_kernel_force(ks[i]);
		for (k = 2; k <= 20; k++) {
			time_pair(secret, out, shares, MIB, k, 20, t, NULL);
			emit("sweep_split", ks[i]->name, MIB, k, 20, t[0] * 1e6,
			    "us");
			emit("sweep_combine", ks[i]->name, MIB, k, 20,
			    t[2] * 1e6, "us");
			fflush(stdout);
		}
	}
	gf256_kernel_force(NULL);
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = {32, MIB, 16 * MIB, 64 * MIB, 256 * MIB};
	static const unsigned kn[][2] = {{3, 5}, {5, 10}, {10, 20}};
	const struct gf256_kernel *const *ks;
	size_t nk, i, si, ci, maxlen = 256 * MIB;
	uint8_t *secret, *out, *mem, *shares[20];
	int quick = 0, sweep_by = -1;

	if (argc == 2 && strcmp(argv[1], "--quick") == 0)
		quick = 1;
	else if (argc == 3 && strcmp(argv[1], "--sweep") == 0 &&
	    strcmp(argv[2], "size") == 0)
		sweep_by = 1;
	else if (argc == 3 && strcmp(argv[1], "--sweep") == 0 &&
	    strcmp(argv[2], "threshold") == 0)
		sweep_by = 0;
	else if (argc != 1) {
		fprintf(stderr,
		    "usage: bench_shamir [--quick | --sweep "
		    "size|threshold]\n");
		return 2;
	}
	if (kq_secmem_init() != KQ_OK)
		return 1;
	if (quick) {
		min_time = 0.05;
		maxlen = 16 * MIB;
	}
	if (sweep_by == 0)
		maxlen = MIB;
	/*
	 * The share buffers are not touched before use: a (size, k, n) row
	 * maps only its n shares (10-of-20 at 256 MiB: 5.6 GB in all).
	 */
	secret = malloc(maxlen);
	out = malloc(maxlen);
	mem = malloc(20 * (maxlen + 1));
	if (secret == NULL || out == NULL || mem == NULL)
		return 1;
	fill(secret, maxlen);
	memset(out, 0, maxlen);
	for (i = 0; i < 20; i++)
		shares[i] = mem + i * (maxlen + 1);
	if (sweep_by >= 0) {
		sweep(sweep_by, secret, out, shares);
		goto out;
	}

	printf("keyquorum shamir benchmark (in-process; auto kernel: %s)\n",
	    gf256_kernel()->name);
	floors(secret, out);

	/* The automatic kernel: every size and (k, n). */
	printf("\n%-12s %9s %10s\n", "kernel", "bytes", "k-of-n");
	for (ci = 0; ci < 3; ci++)
		for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			if (sizes[si] > maxlen)
				continue;
			row("auto", secret, out, shares, sizes[si], kn[ci][0],
			    kn[ci][1]);
			fflush(stdout);
		}

	/*
	 * Each kernel: 32 B, 1 MiB and 16 MiB at 3-of-5, 32 B and 1 MiB at
	 * 10-of-20 (16 MiB there takes the portable kernel seconds a call).
	 */
	ks = gf256_kernel_list(&nk);
	for (i = 0; i < nk; i++) {
		if (!ks[i]->usable())
			continue;
		gf256_kernel_force(ks[i]);
		for (ci = 0; ci < 3; ci += 2)
			for (si = 0; si < (ci == 0 ? 3u : 2u); si++) {
				row(ks[i]->name, secret, out, shares, sizes[si],
				    kn[ci][0], kn[ci][1]);
				fflush(stdout);
			}
	}
	gf256_kernel_force(NULL);
out:
	free(secret);
	free(out);
	free(mem);
	return 0;
}
