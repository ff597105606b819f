/*
 * pcsc-probe: drives hsm/pcsc.c against the test rig (tests/integration/
 * pcsc.sh).  Not installed.
 *
 *   pcsc-probe list
 *       one line per reader: NAME<TAB>card|empty<TAB>ATR-hex
 *   pcsc-probe wait insert|remove|any [-r READER] [-t MS] [-n] [-c MS]
 *       prints "waiting", then "inserted NAME" or "removed NAME";
 *       -n returns at once when the state already holds (PCSC_WAIT_NOW),
 *       -c cancels from a SIGALRM handler after MS; SIGINT cancels too.
 *   pcsc-probe hold READER MS
 *       marks the card, prints "marked", sleeps MS, prints the check.
 *
 * Failures print the error's symbolic name ("KQ_ERR_TIMEOUT") and exit 1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "hsm/pcsc.h"

static struct pcsc_ctx *probe_ctx;

static void
probe_on_signal(int sig)
{
	(void)sig;
	pcsc_cancel(probe_ctx);
}

static int
probe_fail(int r)
{
	printf("%s: %s\n", kq_errname(r), kq_strerror(r));
	return 1;
}

static void
probe_hex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int
probe_list(void)
{
	struct pcsc_reader *rd = NULL;
	size_t n = 0, i;
	int r;

	if ((r = pcsc_list(probe_ctx, &rd, &n)) != KQ_OK)
		return probe_fail(r);
	for (i = 0; i < n; i++) {
		printf(
		    "%s\t%s\t", rd[i].name, rd[i].present ? "card" : "empty");
		probe_hex(rd[i].atr, rd[i].atr_len);
		printf("\n");
	}
	free(rd);
	return 0;
}

static int
probe_wait(int argc, char **argv)
{
	struct pcsc_event ev;
	struct sigaction sa;
	struct itimerval it;
	const char *reader = NULL;
	unsigned what;
	long timeout = -1, cancel_ms = -1;
	int c, r;

	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "insert") == 0)
		what = PCSC_WAIT_INSERT;
	else if (strcmp(argv[1], "remove") == 0)
		what = PCSC_WAIT_REMOVE;
	else if (strcmp(argv[1], "any") == 0)
		what = PCSC_WAIT_INSERT | PCSC_WAIT_REMOVE;
	else
		return 2;
	optind = 2;
	while ((c = getopt(argc, argv, "r:t:nc:")) != -1) {
		switch (c) {
		case 'r':
			reader = optarg;
			break;
		case 't':
			timeout = strtol(optarg, NULL, 10);
			break;
		case 'n':
			what |= PCSC_WAIT_NOW;
			break;
		case 'c':
			cancel_ms = strtol(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = probe_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	if (cancel_ms >= 0) {
		memset(&it, 0, sizeof(it));
		it.it_value.tv_sec = cancel_ms / 1000;
		it.it_value.tv_usec = (cancel_ms % 1000) * 1000;
		setitimer(ITIMER_REAL, &it, NULL);
	}
	printf("waiting\n");
	fflush(stdout);
	r = pcsc_wait(probe_ctx, reader, what, timeout, &ev);
	if (r != KQ_OK)
		return probe_fail(r);
	printf("%s %s\n", ev.inserted ? "inserted" : "removed", ev.reader);
	return 0;
}

static int
probe_hold(int argc, char **argv)
{
	struct pcsc_mark m;
	struct timespec ts;
	long ms;
	int r;

	if (argc != 3)
		return 2;
	ms = strtol(argv[2], NULL, 10);
	if ((r = pcsc_mark(probe_ctx, argv[1], &m)) != KQ_OK)
		return probe_fail(r);
	printf("marked\n");
	fflush(stdout);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0)
		continue;
	if ((r = pcsc_check(probe_ctx, &m)) != KQ_OK)
		return probe_fail(r);
	printf("still there\n");
	return 0;
}

int
main(int argc, char **argv)
{
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(
		    stderr, "usage: pcsc-probe list | wait ... | hold ...\n");
		return 2;
	}
	if ((r = pcsc_open(&probe_ctx)) != KQ_OK)
		return probe_fail(r);
	if (strcmp(argv[1], "list") == 0)
		r = probe_list();
	else if (strcmp(argv[1], "wait") == 0)
		r = probe_wait(argc - 1, argv + 1);
	else if (strcmp(argv[1], "hold") == 0)
		r = probe_hold(argc - 1, argv + 1);
	else
		r = 2;
	if (r == 2)
		fprintf(stderr, "pcsc-probe: bad arguments\n");
	pcsc_close(probe_ctx);
	return r;
}
