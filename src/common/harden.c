/* keyquorum: process hardening at start, and the stack scrub at the end. */
#include "common/harden.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
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

/* Most bytes of stack below the caller that kq_scrub_stack() wipes. */
#define KQ_SCRUB_STACK_BYTES (256 * 1024)
#define KQ_SCRUB_STACK_PAGES (KQ_SCRUB_STACK_BYTES / 4096)

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

/*
 * The one variable-length array in the tree: its size is the measured
 * depth (at most KQ_SCRUB_STACK_BYTES plus a page), and it is the only way
 * to own exactly the stack being wiped; -fstack-clash-protection probes it
 * page by page.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wvla"
__attribute__((noinline)) static void
kq_scrub_stack_area(size_t n)
{
	uint8_t area[n];

	sodium_memzero(area, n);
	__asm__ volatile("" : : "r"(area) : "memory");
}
#pragma GCC diagnostic pop

/* mincore(2) of one page: 1 if mapped, 0 if not, -1 on any other error. */
static int
kq_page_mapped(uintptr_t page, unsigned char *vec)
{
	if (mincore((void *)page, 1, vec) == 0)
		return 1;
	return errno == ENOMEM ? 0 : -1;
}

/*
 * How many bytes below `top` (page aligned) down to the lowest stack page
 * the process has touched, at most KQ_SCRUB_STACK_BYTES; or the most if
 * mincore(2) cannot tell.  A page the process never touched is not
 * resident and holds nothing; wiping it would only fault it in (64 page
 * faults cost about 0.25 ms here, a fifth of a short split's whole run).
 * The stack mapping is one range that grows down, so its lowest mapped
 * page is found by bisection, then one mincore(2) gives residency.  Pages
 * are taken as 4 KiB (x86-64): with larger ones mincore(2) refuses the
 * alignment (EINVAL) and the whole KQ_SCRUB_STACK_BYTES is wiped.
 */
static size_t
kq_stack_depth(uintptr_t top)
{
	unsigned char vec[KQ_SCRUB_STACK_PAGES];
	size_t lo = 0, hi = KQ_SCRUB_STACK_PAGES, mid, i;
	int m;

	/* Invariant: top - hi pages is unmapped or past the end, top - lo
	 * pages (the caller's) is mapped. */
	m = kq_page_mapped(top - (uintptr_t)hi * 4096, vec);
	if (m < 0)
		return KQ_SCRUB_STACK_BYTES;
	if (m == 0) {
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if ((m = kq_page_mapped(
			         top - (uintptr_t)mid * 4096, vec)) < 0)
				return KQ_SCRUB_STACK_BYTES;
			if (m)
				lo = mid;
			else
				hi = mid;
		}
		hi = lo; /* lowest mapped page: top - lo pages */
	}
	if (hi == 0)
		return 0;
	if (mincore((void *)(top - (uintptr_t)hi * 4096), hi * 4096, vec) != 0)
		return KQ_SCRUB_STACK_BYTES;
	for (i = 0; i < hi && !(vec[i] & 1); i++)
		;
	return (hi - i) * 4096;
}

void
kq_scrub_stack(void)
{
	uintptr_t top =
	    (uintptr_t)__builtin_frame_address(0) & ~(uintptr_t)4095;

#if defined(__x86_64__)
	if (KQ_CPU(AVX512F))
		kq_clear_zmm_high();
	if (KQ_CPU(AVX))
		kq_clear_ymm();
#endif
	/* The area starts somewhere on the page this frame is on: one page
	 * more makes sure it reaches the lowest touched page. */
	kq_scrub_stack_area(kq_stack_depth(top) + 4096);
}
