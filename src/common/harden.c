/* keyquorum: process hardening at start, and the CSPRNG. */
#include "common/harden.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/err.h"
#include "common/secmem.h"

int
kq_harden_process(void)
{
	struct rlimit rl = {0, 0};
	int fd;

	umask(077);
	/* No core dumps, not even by a privileged debugger attach. */
	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		return KQ_ERR_PERM;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return KQ_ERR_PERM;
	/* Make sure 0, 1, 2 are open so no secret file lands on them. */
	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2)
		(void)fcntl(fd, F_SETFD, 0);
	if (fd > 2)
		close(fd);
	return KQ_OK;
}

int
kq_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	/* RAND_bytes takes an int: feed it in chunks. */
	while (n > 0) {
		size_t chunk = n > (1u << 30) ? (1u << 30) : n;

		if (RAND_bytes(p, (int)chunk) != 1) {
			kq_wipe(buf, (size_t)(p - (uint8_t *)buf) + n);
			return KQ_ERR_RANDOM;
		}
		p += chunk;
		n -= chunk;
	}
	return KQ_OK;
}
