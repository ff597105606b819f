/*
 * vcard-bridge: one virtual CAC smartcard for the test rig.
 *
 * Connects libcacard (a CAC card emulator whose keys live in an NSS
 * database, here one that loads a SoftHSM token) to the vpcd reader driver
 * of pcscd.  vpcd listens on TCP; this program is its client.  Every
 * message either way is a 2-byte big-endian length and a payload.  From
 * vpcd, a 1-byte payload is a control (0 power off, 1 power on, 2 reset,
 * 4 "send the ATR"); a longer one is a command APDU, answered by the
 * response APDU.  vpcd counts the card as present while a client is
 * connected and answers the ATR request, so a removal is a closed
 * connection and an insertion a new one.
 *
 *   vcard-bridge -d DBDIR [-H HOST] [-p PORT] [-r READER] [-l LOG]
 *                [-s TOKEN -c CERT [-c CERT ...]]
 *
 * Without -s, libcacard mirrors every removable hardware token the NSS
 * database loads (use_hw), and runs a thread per module that waits for
 * token events.  With -s, the card is a "soft" card: the certificates
 * named by -c (NSS nicknames, "TOKEN:LABEL"; at most 3) and their keys on
 * token TOKEN, and no event thread (use_hw=no).  That thread, polling a
 * SoftHSM module that has no C_WaitForSlotEvent, was seen to deadlock
 * with a login that closely follows a simulated pull or insertion; the
 * rig uses -s.
 *
 * Signals: SIGUSR1 pulls the card (libcacard forgets the login, vpcd sees
 * the reader empty), SIGUSR2 inserts it again, SIGRTMIN arms a pull at the
 * next private-key operation (the card leaves instead of answering the
 * CAC SIGN/DECRYPT command: a card pulled during a decrypt, on cue),
 * SIGHUP reconnects, SIGTERM
 * and SIGINT end the program cleanly.  Signals are read from a signalfd
 * in the main loop; no work happens in a handler.
 *
 * The PIN retry counter.  libcacard keeps none: NSS checks the PIN, a
 * wrong one is answered 6985 (conditions of use not satisfied), which no
 * real CAC or PIV card sends (OpenSC then reports CKR_GENERAL_ERROR), and
 * a VERIFY without data (how a host asks for the tries left) is answered
 * 6A88.  The bridge holds the counter a real card holds, as ISO 7816-4
 * says: BRIDGE_PIN_TRIES tries; a VERIFY with data that libcacard refuses
 * costs one and is answered 63Cx (x tries left), or 6983 when that was the
 * last (the PIN is then blocked: every later VERIFY is 6983 without
 * reaching libcacard, for the life of the bridge); a right PIN is 9000 and
 * restores the count; a VERIFY without data is 9000 when the PIN was
 * verified since the card was last powered, else 63Cx, or 6983.  The PIN
 * check itself stays libcacard's.
 *
 * This is a test tool, not part of keyquorum: it handles no secret of its
 * own (the card's PIN passes through inside APDUs, as on a real reader).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libcacard.h>

#define BRIDGE_MAX_MSG 65535
#define BRIDGE_RETRY_MS 100
#define BRIDGE_CAC_SIGN_DECRYPT 0x42 /* INS of the CAC private-key command */
#define BRIDGE_INS_VERIFY 0x20
#define BRIDGE_PIN_TRIES 3

struct bridge {
	const char *db;
	const char *host;
	const char *port;
	const char *reader_name; /* substring to pick a reader, or NULL */
	const char *soft_token; /* -s: a soft card of this token's certs */
	const char *soft_certs[3];
	int nsoft_certs;
	int logfd;
	int sigfd;
	int sock; /* -1 while disconnected */
	int inserted;
	int pull_armed; /* pull the card at the next SIGN/DECRYPT APDU */
	int pin_tries; /* left; 0: blocked */
	int pin_verified; /* since the card was last powered */
	VReader *reader;
	unsigned char atr[64];
	int atr_len;
	unsigned long apdus;
};

static void bridge_log(struct bridge *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
bridge_log(struct bridge *b, const char *fmt, ...)
{
	char line[512];
	struct timespec ts;
	va_list ap;
	int n, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line),
	    "%lld.%03ld vcard-bridge[%d]: ", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000000, (int)getpid());
	if (n < 0)
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line: lines from the event thread do not interleave. */
	if (write(b->logfd, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}

static int
read_full(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_full(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = send(fd, p, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
bridge_disconnect(struct bridge *b, const char *why)
{
	if (b->sock < 0)
		return;
	close(b->sock);
	b->sock = -1;
	bridge_log(
	    b, "disconnected from vpcd (%s) after %lu APDUs", why, b->apdus);
}

/* One attempt to connect to vpcd.  0 when connected, -1 otherwise. */
static int
bridge_connect(struct bridge *b)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, one = 1, r = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(b->host, b->port, &hints, &res) != 0)
		goto out;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		goto out;
	/* Without these every APDU waits for a delayed ACK (~40-50 ms). */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one)) != 0) {
		close(fd);
		fd = -1;
		goto out;
	}
	b->sock = fd;
	b->apdus = 0;
	bridge_log(b, "connected to vpcd at %s:%s", b->host, b->port);
	r = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return r;
}

static int
bridge_send(struct bridge *b, const unsigned char *p, size_t n)
{
	unsigned char hdr[2];

	if (n > BRIDGE_MAX_MSG)
		return -1;
	hdr[0] = (unsigned char)(n >> 8);
	hdr[1] = (unsigned char)n;
	if (write_full(b->sock, hdr, 2) != 0 || write_full(b->sock, p, n) != 0)
		return -1;
	return 0;
}

static void
bridge_power_on(struct bridge *b)
{
	int len = (int)sizeof(b->atr);

	b->pin_verified = 0;
	if (vreader_power_on(b->reader, b->atr, &len) == VREADER_OK)
		b->atr_len = len;
	else
		bridge_log(b, "power on failed: no card in the emulator");
}

/* Pull the card: the emulator forgets it, vpcd sees the reader empty. */
static void
bridge_pull(struct bridge *b, const char *why)
{
	if (b->inserted) {
		vcard_emul_force_card_remove(b->reader);
		b->inserted = 0;
	}
	b->pin_verified = 0;
	bridge_disconnect(b, why);
}

/* A 2-byte status word into out. */
static int
bridge_sw(unsigned char *out, unsigned sw)
{
	out[0] = (unsigned char)(sw >> 8);
	out[1] = (unsigned char)sw;
	return 2;
}

/* The status word for "tries left", or blocked. */
static unsigned
bridge_tries_sw(const struct bridge *b)
{
	return b->pin_tries == 0 ? 0x6983u : 0x63c0u | (unsigned)b->pin_tries;
}

/*
 * A VERIFY (the PIN retry counter: see the top of the file).  in/n is the
 * command; the answer goes to out/outlen.  Returns 1 when it answered
 * without libcacard, 0 when libcacard must be asked (then
 * bridge_verify_after adjusts its answer).
 */
static int
bridge_verify_before(
    struct bridge *b, size_t n, unsigned char *out, int *outlen)
{
	int with_data = n > 5;

	if (b->pin_tries == 0) {
		*outlen = bridge_sw(out, 0x6983);
		return 1;
	}
	if (!with_data) {
		*outlen = bridge_sw(
		    out, b->pin_verified ? 0x9000 : bridge_tries_sw(b));
		return 1;
	}
	return 0;
}

static void
bridge_verify_after(struct bridge *b, unsigned char *out, int *outlen)
{
	unsigned sw;

	if (*outlen < 2)
		return;
	sw = ((unsigned)out[*outlen - 2] << 8) | out[*outlen - 1];
	if (sw == 0x9000) {
		b->pin_tries = BRIDGE_PIN_TRIES;
		b->pin_verified = 1;
		return;
	}
	if (sw == 0x6985 || sw == 0x6982 || (sw & 0xfff0) == 0x63c0) {
		b->pin_tries--;
		b->pin_verified = 0;
		*outlen = bridge_sw(out, bridge_tries_sw(b));
		bridge_log(b, "wrong PIN: %d tries left%s", b->pin_tries,
		    b->pin_tries == 0 ? ", PIN blocked" : "");
	}
}

/*
 * Handle one message from vpcd.  0 to go on, -1 to drop the connection,
 * 1 when the card was pulled (the connection is closed already).
 */
static int
bridge_handle(struct bridge *b)
{
	static unsigned char in[BRIDGE_MAX_MSG], out[BRIDGE_MAX_MSG];
	unsigned char hdr[2];
	size_t n;
	int outlen, one = 1, verify;

	/*
	 * vpcd writes the length and the payload separately with Nagle on:
	 * its payload waits for our ACK of the length, so ACK at once
	 * (TCP_QUICKACK does not stick; set it after every read).
	 */
	if (read_full(b->sock, hdr, 2) != 0)
		return -1;
	(void)setsockopt(b->sock, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	n = ((size_t)hdr[0] << 8) | hdr[1];
	if (n == 0 || read_full(b->sock, in, n) != 0)
		return -1;
	(void)setsockopt(b->sock, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	if (n == 1) {
		switch (in[0]) {
		case 0x00:
			vreader_power_off(b->reader);
			b->pin_verified = 0;
			return 0;
		case 0x01:
		case 0x02:
			bridge_power_on(b);
			return 0;
		case 0x04:
			return bridge_send(b, b->atr, (size_t)b->atr_len);
		default:
			bridge_log(b, "unknown control byte 0x%02x", in[0]);
			return 0;
		}
	}
	if (b->pull_armed && n >= 4 && in[1] == BRIDGE_CAC_SIGN_DECRYPT) {
		b->pull_armed = 0;
		bridge_pull(b, "card pulled during a private-key operation");
		return 1;
	}
	verify = n >= 4 && in[1] == BRIDGE_INS_VERIFY && in[2] == 0x00;
	b->apdus++;
	if (verify && bridge_verify_before(b, n, out, &outlen))
		return bridge_send(b, out, (size_t)outlen);
	outlen = (int)sizeof(out);
	if (vreader_xfr_bytes(b->reader, in, (int)n, out, &outlen) !=
	    VREADER_OK) {
		/* No card in the emulator: "no precise diagnosis". */
		outlen = bridge_sw(out, 0x6f00);
	} else if (verify)
		bridge_verify_after(b, out, &outlen);
	return bridge_send(b, out, (size_t)outlen);
}

static VReader *
bridge_find_reader(struct bridge *b)
{
	VReaderList *list;
	VReaderListEntry *e;
	VReader *found = NULL, *r;
	const char *name;

	list = vreader_get_reader_list();
	if (list == NULL)
		return NULL;
	for (e = vreader_list_get_first(list); e != NULL;
	     e = vreader_list_get_next(e)) {
		r = vreader_list_get_reader(e);
		name = vreader_get_name(r);
		bridge_log(b, "emulator reader \"%s\": %s",
		    name != NULL ? name : "?",
		    vreader_card_is_present(r) == VREADER_OK ? "card"
		                                             : "no card");
		if (found != NULL || vreader_card_is_present(r) != VREADER_OK)
			continue;
		if (b->reader_name != NULL &&
		    (name == NULL || strstr(name, b->reader_name) == NULL))
			continue;
		found = vreader_reference(r);
	}
	vreader_list_delete(list);
	return found;
}

/* libcacard queues card and reader events; log them and let them go. */
static gpointer
bridge_events(gpointer arg)
{
	struct bridge *b = arg;
	static const char *const names[] = {"reader inserted", "reader removed",
	    "card inserted", "card removed"};
	VEvent *ev;

	while ((ev = vevent_wait_next_vevent()) != NULL) {
		/* Other slots' events (SoftHSM's empty slot) are noise. */
		if (ev->reader == b->reader && ev->type < VEVENT_LAST)
			bridge_log(b, "emulator event: %s", names[ev->type]);
		vevent_delete(ev);
	}
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: vcard-bridge -d NSSDBDIR [-H HOST] [-p PORT] [-r READER] "
	    "[-l LOGFILE] [-s TOKEN -c CERT [-c CERT ...]]\n");
}

static int
bridge_setup(struct bridge *b)
{
	char opts[1024];
	VCardEmulOptions *eo;
	sigset_t set;
	int i, n;

	/* Block the signals before libcacard starts threads: all inherit it. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	b->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (b->sigfd < 0)
		return -1;

	if (b->soft_token == NULL)
		n = snprintf(opts, sizeof(opts),
		    "db=\"sql:%s\" use_hw=removable", b->db);
	else
		n = snprintf(opts, sizeof(opts),
		    "db=\"sql:%s\" use_hw=no soft=(%s,%s,CAC,,%s%s%s%s%s)",
		    b->db, b->soft_token, b->soft_token, b->soft_certs[0],
		    b->nsoft_certs > 1 ? "," : "",
		    b->nsoft_certs > 1 ? b->soft_certs[1] : "",
		    b->nsoft_certs > 2 ? "," : "",
		    b->nsoft_certs > 2 ? b->soft_certs[2] : "");
	if (n < 0 || (size_t)n >= sizeof(opts))
		return -1;
	eo = vcard_emul_options(opts);
	if (eo == NULL || vcard_emul_init(eo) != VCARD_EMUL_OK) {
		bridge_log(b, "vcard_emul_init failed for %s", opts);
		return -1;
	}
	if (g_thread_try_new("vevents", bridge_events, b, NULL) == NULL)
		return -1;
	/* The emulator mirrors the tokens it finds; give it a moment. */
	for (i = 0; i < 50 && b->reader == NULL; i++) {
		b->reader = bridge_find_reader(b);
		if (b->reader == NULL)
			usleep(100 * 1000);
	}
	if (b->reader == NULL) {
		bridge_log(b,
		    "no emulated reader with a card (is the token's "
		    "slot removable and does it hold certificates?)");
		return -1;
	}
	bridge_power_on(b);
	if (b->atr_len <= 0)
		return -1;
	bridge_log(b, "card ready in \"%s\", ATR of %d bytes",
	    vreader_get_name(b->reader), b->atr_len);
	return 0;
}

/* 1 to go on, 0 to end. */
static int
bridge_signal(struct bridge *b)
{
	struct signalfd_siginfo si;

	if (read_full(b->sigfd, &si, sizeof(si)) != 0)
		return 0;
	if ((int)si.ssi_signo == SIGRTMIN) {
		b->pull_armed = 1;
		bridge_log(b,
		    "armed: the card leaves at the next private-key "
		    "operation");
		return 1;
	}
	switch (si.ssi_signo) {
	case SIGUSR1:
		bridge_pull(b, "card removed by SIGUSR1");
		return 1;
	case SIGUSR2:
		if (!b->inserted) {
			vcard_emul_force_card_insert(b->reader);
			b->inserted = 1;
			bridge_power_on(b);
			bridge_log(b, "card inserted by SIGUSR2");
		}
		return 1;
	case SIGHUP:
		bridge_disconnect(b, "SIGHUP");
		return 1;
	default:
		bridge_log(b, "ending on signal %u", si.ssi_signo);
		return 0;
	}
}

static int
bridge_run(struct bridge *b)
{
	struct pollfd pfd[2];
	int timeout, n;

	for (;;) {
		if (b->sock < 0 && b->inserted)
			(void)bridge_connect(b);
		pfd[0].fd = b->sigfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = b->sock;
		pfd[1].events = POLLIN;
		timeout = (b->sock < 0 && b->inserted) ? BRIDGE_RETRY_MS : -1;
		n = poll(pfd, b->sock >= 0 ? 2 : 1, timeout);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			if (!bridge_signal(b))
				return 0;
			continue;
		}
		if (b->sock >= 0 &&
		    (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    bridge_handle(b) < 0)
			bridge_disconnect(b, "vpcd closed the connection");
	}
}

int
main(int argc, char **argv)
{
	struct bridge b;
	const char *logpath = NULL;
	int c, r = 1;

	memset(&b, 0, sizeof(b));
	b.host = "127.0.0.1";
	b.port = "35963";
	b.sock = -1;
	b.sigfd = -1;
	b.logfd = STDERR_FILENO;
	b.inserted = 1;
	b.pin_tries = BRIDGE_PIN_TRIES;
	while ((c = getopt(argc, argv, "d:H:p:r:l:s:c:h")) != -1) {
		switch (c) {
		case 's':
			b.soft_token = optarg;
			break;
		case 'c':
			if (b.nsoft_certs == 3) {
				usage();
				return 2;
			}
			b.soft_certs[b.nsoft_certs++] = optarg;
			break;
		case 'd':
			b.db = optarg;
			break;
		case 'H':
			b.host = optarg;
			break;
		case 'p':
			b.port = optarg;
			break;
		case 'r':
			b.reader_name = optarg;
			break;
		case 'l':
			logpath = optarg;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (b.db == NULL || optind != argc ||
	    (b.soft_token != NULL) != (b.nsoft_certs > 0)) {
		usage();
		return 2;
	}
	if (logpath != NULL) {
		b.logfd = open(
		    logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (b.logfd < 0) {
			fprintf(stderr, "vcard-bridge: %s: %s\n", logpath,
			    strerror(errno));
			return 1;
		}
	}
	if (bridge_setup(&b) != 0) {
		bridge_log(&b, "setup failed");
		goto out;
	}
	r = bridge_run(&b) == 0 ? 0 : 1;
out:
	bridge_disconnect(&b, "exit");
	if (b.reader != NULL)
		vreader_free(b.reader);
	bridge_log(&b, "exit %d", r);
	/* vcard_emul_finalize() joins NSS's slot thread, which can block on a
	 * removable slot; the process ends here anyway. */
	return r;
}
