/* keyquorum: process hardening at start, and the stack scrub at the end. */
#include "common/harden.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/cpu.h"
#include "common/err.h"
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

/* Bytes of stack below the caller wiped by kq_scrub_stack(). */
#define KQ_SCRUB_STACK_BYTES (256 * 1024)

#if defined(__x86_64__)
__attribute__((target("avx"))) static void
kq_clear_ymm(void)
{
	__asm__ volatile("vzeroall" ::: "memory");
}

__attribute__((target("avx512f"))) static void
kq_clear_zmm_high(void)
{
	/* vzeroall leaves zmm16..31 alone; the AVX-512 kernels may use them. */
	__asm__ volatile("vpxord %%zmm16, %%zmm16, %%zmm16\n\t"
	                 "vpxord %%zmm17, %%zmm17, %%zmm17\n\t"
	                 "vpxord %%zmm18, %%zmm18, %%zmm18\n\t"
	                 "vpxord %%zmm19, %%zmm19, %%zmm19\n\t"
	                 "vpxord %%zmm20, %%zmm20, %%zmm20\n\t"
	                 "vpxord %%zmm21, %%zmm21, %%zmm21\n\t"
	                 "vpxord %%zmm22, %%zmm22, %%zmm22\n\t"
	                 "vpxord %%zmm23, %%zmm23, %%zmm23\n\t"
	                 "vpxord %%zmm24, %%zmm24, %%zmm24\n\t"
	                 "vpxord %%zmm25, %%zmm25, %%zmm25\n\t"
	                 "vpxord %%zmm26, %%zmm26, %%zmm26\n\t"
	                 "vpxord %%zmm27, %%zmm27, %%zmm27\n\t"
	                 "vpxord %%zmm28, %%zmm28, %%zmm28\n\t"
	                 "vpxord %%zmm29, %%zmm29, %%zmm29\n\t"
	                 "vpxord %%zmm30, %%zmm30, %%zmm30\n\t"
	                 "vpxord %%zmm31, %%zmm31, %%zmm31" ::
	                     : "memory");
}
#endif

__attribute__((noinline)) static void
kq_scrub_stack_area(void)
{
	uint8_t area[KQ_SCRUB_STACK_BYTES];

	sodium_memzero(area, sizeof(area));
	__asm__ volatile("" : : "r"(area) : "memory");
}

void
kq_scrub_stack(void)
{
#if defined(__x86_64__)
	if (KQ_CPU(AVX512F))
		kq_clear_zmm_high();
	if (KQ_CPU(AVX))
		kq_clear_ymm();
#endif
	kq_scrub_stack_area();
}
