/*
 * keyquorum: reading secrets and writing output without stdio buffers.
 *
 * Secrets are read with read(2) straight into secure memory; output that
 * may carry a secret is written with write(2).  Nothing here prints.
 */
#ifndef KQ_COMMON_SECIO_H
#define KQ_COMMON_SECIO_H

#include <stddef.h>
#include <stdint.h>

struct kq_sbuf;

/* Write all n bytes (retrying on EINTR/short writes).  KQ_OK or KQ_ERR_IO. */
int kq_write_all(int fd, const void *p, size_t n);

/*
 * Read fd to EOF into a new secure buffer of at most max bytes.
 * KQ_OK (*out owned by the caller), KQ_ERR_TOO_LONG, KQ_ERR_IO, KQ_ERR_NOMEM.
 */
int kq_read_all_fd(int fd, size_t max, struct kq_sbuf **out);

/* The same for a file (opened O_RDONLY|O_NOFOLLOW|O_CLOEXEC). */
int kq_read_all_file(const char *path, size_t max, struct kq_sbuf **out);

/*
 * Read one line from fd, byte by byte so that nothing past the newline is
 * consumed, into a new secure buffer (newline and a preceding CR removed).
 * KQ_OK, KQ_ERR_EMPTY (EOF before any byte), KQ_ERR_TOO_LONG, KQ_ERR_IO.
 */
int kq_read_line_fd(int fd, size_t max, struct kq_sbuf **out);

/*
 * Prompt on /dev/tty (or on the terminal fd 0 if /dev/tty cannot be
 * opened) and read one line with echo off; echo is restored on every path,
 * including SIGINT/SIGTERM while waiting.  KQ_ERR_TTY when there is no
 * terminal, KQ_ERR_INTERRUPTED when a signal cut the read.
 */
int kq_read_secret_tty(const char *prompt, size_t max, struct kq_sbuf **out);

/* Prompt on the terminal and read one line with echo on (non-secret). */
int kq_read_line_tty(const char *prompt, size_t max, struct kq_sbuf **out);

/*
 * An iterator over the lines of a buffer (for shares on stdin): returns
 * the next line (without CR/LF) in *line and *len, skipping nothing;
 * 0 when a line was returned, 1 at the end.
 */
struct kq_lines {
	const uint8_t *p;
	size_t len;
	size_t off;
};
void kq_lines_init(struct kq_lines *it, const uint8_t *p, size_t len);
int kq_lines_next(struct kq_lines *it, const uint8_t **line, size_t *len);

#endif
