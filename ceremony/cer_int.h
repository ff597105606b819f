/*
 * keyquorum: helpers private to ceremony/ (not part of the public API).
 */
#ifndef KQ_CEREMONY_INT_H
#define KQ_CEREMONY_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* snprintf into detail (CEREMONY_DETAIL_MAX bytes) when it is not NULL. */
void cer_detail(char *detail, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "YYYY-MM-DDTHH:MM:SSZ" (UTC); out holds at least CER_TIME_LEN bytes. */
#define CER_TIME_LEN 21
void cer_time_format(time_t t, char out[CER_TIME_LEN]);
/* Parse exactly that form.  0 and *t, or -1. */
int cer_time_parse(const char *s, time_t *t);

/* SHA-256 of n bytes (libsodium). */
void cer_sha256(uint8_t out[32], const void *p, size_t n);

/*
 * Read a whole non-secret file into a new heap buffer (free()), NUL added
 * after the *len bytes.  KQ_OK, KQ_ERR_NOT_FOUND, KQ_ERR_PERM, KQ_ERR_IO,
 * KQ_ERR_TOO_LONG (over max), KQ_ERR_NOMEM.
 */
int cer_read_file(const char *path, size_t max, char **buf, size_t *len);

#endif
