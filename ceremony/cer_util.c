/* keyquorum: small helpers shared by the ceremony layer's files. */
#include "ceremony/cer_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ceremony/ceremony.h"
#include "common/err.h"
#include "common/fileio.h"

void
cer_detail(char *detail, const char *fmt, ...)
{
	va_list ap;

	if (detail == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, CEREMONY_DETAIL_MAX, fmt, ap);
	va_end(ap);
}

void
cer_time_format(time_t t, char out[CER_TIME_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, CER_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		memcpy(out, "1970-01-01T00:00:00Z", CER_TIME_LEN);
}

int
cer_time_parse(const char *s, time_t *t)
{
	struct tm tm;
	const char *end;
	char back[CER_TIME_LEN];
	time_t v;

	if (s == NULL || strlen(s) != CER_TIME_LEN - 1)
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	v = timegm(&tm);
	if (v == (time_t)-1)
		return -1;
	/* Refuse what strptime/timegm normalised (Feb 30, 24:00...). */
	cer_time_format(v, back);
	if (strcmp(back, s) != 0)
		return -1;
	*t = v;
	return 0;
}

void
cer_sha256(uint8_t out[32], const void *p, size_t n)
{
	crypto_hash_sha256(out, p, n);
}

int
cer_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat sb;
	char *p = NULL;
	size_t n = 0;
	ssize_t got;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return kq_errno_to_err(errno);
	r = KQ_ERR_IO;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		goto out;
	r = KQ_ERR_TOO_LONG;
	if ((size_t)sb.st_size > max)
		goto out;
	r = KQ_ERR_NOMEM;
	if ((p = malloc((size_t)sb.st_size + 1)) == NULL)
		goto out;
	r = KQ_ERR_IO;
	while (n < (size_t)sb.st_size) {
		got = read(fd, p + n, (size_t)sb.st_size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			goto out; /* shrank under us, or an error */
		n += (size_t)got;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	p = NULL;
	r = KQ_OK;
out:
	free(p);
	close(fd);
	return r;
}
