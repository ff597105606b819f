/*
 * keyquorum: reading secrets into secure memory and writing output with
 * write(2).  No stdio buffer ever holds a secret.
 */
#include "common/secio.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "common/err.h"
#include "common/secmem.h"

#define KQ_READ_CHUNK 65536

int
kq_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return errno == ENOSPC ? KQ_ERR_NOSPC : KQ_ERR_IO;
		}
		c += w;
		n -= (size_t)w;
	}
	return KQ_OK;
}

int
kq_read_all_fd(int fd, size_t max, struct kq_sbuf **out)
{
	struct kq_sbuf *b;
	struct stat st;
	uint8_t *spare, probe;
	size_t room, n, want = 4096, target = 0;
	ssize_t got;
	int r;

	if ((b = kq_sbuf_new(max)) == NULL)
		return KQ_ERR_NOMEM;
	/*
	 * A regular file says how big it is: one allocation of that size
	 * (plus one byte to see EOF) instead of doubling, each step of which
	 * costs a guarded allocation, a copy and a wipe.
	 */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size < (uint64_t)max)
		target = (size_t)st.st_size + 1;
	for (;;) {
		if (kq_sbuf_len(b) == max) {
			/* At the limit: one more byte means too long. */
			got = read(fd, &probe, 1);
			kq_wipe(&probe, sizeof(probe));
			if (got < 0 && errno == EINTR)
				continue;
			if (got == 0)
				break;
			r = got < 0 ? KQ_ERR_IO : KQ_ERR_TOO_LONG;
			goto fail;
		}
		/*
		 * Room up to the file's size, else grow geometrically from
		 * 4 KiB: small secrets stay small.
		 */
		n = target > kq_sbuf_len(b) ? target - kq_sbuf_len(b) : want;
		if (n > max - kq_sbuf_len(b))
			n = max - kq_sbuf_len(b);
		if ((r = kq_sbuf_spare(b, n, &spare, &room)) != KQ_OK)
			goto fail;
		got = read(
		    fd, spare, room > KQ_READ_CHUNK ? KQ_READ_CHUNK : room);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = KQ_ERR_IO;
			goto fail;
		}
		if (got == 0)
			break;
		kq_sbuf_commit(b, (size_t)got);
		if ((size_t)got == room && want < KQ_READ_CHUNK)
			want *= 2;
	}
	*out = b;
	return KQ_OK;
fail:
	kq_sbuf_free(b);
	return r;
}

int
kq_read_all_file(const char *path, size_t max, struct kq_sbuf **out)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? KQ_ERR_NOT_FOUND
		    : errno == EACCES  ? KQ_ERR_PERM
		                       : KQ_ERR_IO;
	r = kq_read_all_fd(fd, max, out);
	close(fd);
	return r;
}

int
kq_read_line_fd(int fd, size_t max, struct kq_sbuf **out)
{
	struct kq_sbuf *b;
	uint8_t c;
	ssize_t got;
	int r, any = 0;

	if ((b = kq_sbuf_new(max)) == NULL)
		return KQ_ERR_NOMEM;
	for (;;) {
		got = read(fd, &c, 1);
		if (got < 0) {
			if (errno == EINTR) {
				r = KQ_ERR_INTERRUPTED;
				goto fail;
			}
			r = KQ_ERR_IO;
			goto fail;
		}
		if (got == 0) {
			if (!any) {
				r = KQ_ERR_EMPTY;
				goto fail;
			}
			break;
		}
		any = 1;
		if (c == '\n')
			break;
		if ((r = kq_sbuf_put(b, &c, 1)) != KQ_OK)
			goto fail;
	}
	if (kq_sbuf_len(b) > 0 && kq_sbuf_ptr(b)[kq_sbuf_len(b) - 1] == '\r')
		kq_sbuf_truncate(b, kq_sbuf_len(b) - 1);
	kq_wipe(&c, sizeof(c));
	*out = b;
	return KQ_OK;
fail:
	kq_wipe(&c, sizeof(c));
	kq_sbuf_free(b);
	return r;
}

/* Open the controlling terminal for a prompt; -1 when there is none. */
static int
kq_tty_open(int *owned)
{
	int fd;

	*owned = 0;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0) {
		*owned = 1;
		return fd;
	}
	return isatty(STDIN_FILENO) ? STDIN_FILENO : -1;
}

/* The signal that interrupted a terminal read (0: none). */
static volatile sig_atomic_t kq_tty_signo;

static void
kq_tty_handler(int signo)
{
	kq_tty_signo = signo;
}

static const int kq_tty_signals[] = {
    SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
#define KQ_TTY_NSIG (sizeof(kq_tty_signals) / sizeof(kq_tty_signals[0]))

/*
 * Read a line from the terminal, echo off when secret (the pattern of
 * OpenBSD's readpassphrase(3)).  While the terminal is changed, the job
 * control and termination signals are caught: the read is interrupted
 * (no SA_RESTART), the terminal restored, the old dispositions put back,
 * and the signal raised again so that its usual action (terminate, stop)
 * happens with echo back on.  A caller that survives it (a handler of its
 * own) gets KQ_ERR_INTERRUPTED.
 */
static int
kq_tty_read(const char *prompt, size_t max, int secret, struct kq_sbuf **out)
{
	struct sigaction sa, saved_sa[KQ_TTY_NSIG];
	struct termios saved, quiet;
	size_t i;
	int fd, owned, r, restore = 0, signo;

	if ((fd = kq_tty_open(&owned)) < 0)
		return KQ_ERR_TTY;
	kq_tty_signo = 0;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the read returns EINTR */
	sa.sa_handler = kq_tty_handler;
	for (i = 0; i < KQ_TTY_NSIG; i++)
		(void)sigaction(kq_tty_signals[i], &sa, &saved_sa[i]);
	if (prompt != NULL &&
	    (r = kq_write_all(fd, prompt, strlen(prompt))) != KQ_OK)
		goto out;
	if (secret) {
		if (tcgetattr(fd, &saved) != 0) {
			r = KQ_ERR_TTY;
			goto out;
		}
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
			r = KQ_ERR_TTY;
			goto out;
		}
		restore = 1;
	}
	r = kq_tty_signo != 0 ? KQ_ERR_INTERRUPTED
	                      : kq_read_line_fd(fd, max, out);
	if (r == KQ_ERR_EMPTY && secret)
		r = KQ_ERR_PIN_CANCELLED;
out:
	if (restore) {
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
		(void)kq_write_all(fd, "\n", 1);
	}
	if (owned)
		close(fd);
	for (i = 0; i < KQ_TTY_NSIG; i++)
		(void)sigaction(kq_tty_signals[i], &saved_sa[i], NULL);
	if ((signo = kq_tty_signo) != 0) {
		if (r == KQ_OK) {
			kq_sbuf_free(*out);
			*out = NULL;
		}
		r = KQ_ERR_INTERRUPTED;
		kq_tty_signo = 0;
		(void)raise(signo);
	}
	return r;
}

int
kq_read_secret_tty(const char *prompt, size_t max, struct kq_sbuf **out)
{
	return kq_tty_read(prompt, max, 1, out);
}

int
kq_read_line_tty(const char *prompt, size_t max, struct kq_sbuf **out)
{
	return kq_tty_read(prompt, max, 0, out);
}

void
kq_lines_init(struct kq_lines *it, const uint8_t *p, size_t len)
{
	it->p = p;
	it->len = len;
	it->off = 0;
}

int
kq_lines_next(struct kq_lines *it, const uint8_t **line, size_t *len)
{
	const uint8_t *s, *nl;
	size_t n;

	if (it->off >= it->len)
		return 1;
	s = it->p + it->off;
	nl = memchr(s, '\n', it->len - it->off);
	n = nl != NULL ? (size_t)(nl - s) : it->len - it->off;
	it->off += n + (nl != NULL ? 1 : 0);
	if (n > 0 && s[n - 1] == '\r')
		n--;
	*line = s;
	*len = n;
	return 0;
}
