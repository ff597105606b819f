/*
 * keyquorum: choosing the GF(2^8) kernel at run time.
 *
 * The automatic choice is the first usable kernel of the list, fastest
 * first; what the CPU offers comes from glibc's record of it (KQ_CPU,
 * common/cpu.h), which also checks that the OS saves the wide registers.
 * Nothing here touches secret data.
 */
#include "shamir/gf256.h"

#include "common/err.h"

static const struct gf256_kernel *const kernels[] = {
#if defined(__x86_64__) || defined(__i386__)
    &gf256_kernel_gfni512,
    &gf256_kernel_gfni256,
    &gf256_kernel_avx2,
    &gf256_kernel_ssse3,
#endif
    &gf256_kernel_portable,
};

#define NKERNELS (sizeof(kernels) / sizeof(kernels[0]))

/* Set only by tests and benchmarks (shamir_kernel_select: not thread-safe). */
static const struct gf256_kernel *forced;

const struct gf256_kernel *const *
gf256_kernel_list(size_t *n)
{
	*n = NKERNELS;
	return kernels;
}

void
gf256_kernel_force(const struct gf256_kernel *k)
{
	forced = k;
}

/* The fastest usable kernel implementing id (AUTO: any), or NULL. */
static const struct gf256_kernel *
kernel_find(enum shamir_kernel id)
{
	size_t i;

	for (i = 0; i < NKERNELS; i++) {
		if (id != SHAMIR_KERNEL_AUTO && kernels[i]->id != id)
			continue;
		if (kernels[i]->usable())
			return kernels[i];
	}
	return NULL;
}

/* The automatic choice, made once when the program loads. */
static const struct gf256_kernel *automatic;

__attribute__((constructor)) static void
kernel_init(void)
{
	automatic = kernel_find(SHAMIR_KERNEL_AUTO);
}

const struct gf256_kernel *
gf256_kernel(void)
{
	const struct gf256_kernel *k = forced;

	if (k == NULL)
		k = automatic;
	if (k == NULL) /* called before the constructors ran */
		k = kernel_find(SHAMIR_KERNEL_AUTO);
	return k;
}

int
shamir_kernel_select(enum shamir_kernel id)
{
	const struct gf256_kernel *k;

	if (id == SHAMIR_KERNEL_AUTO) {
		forced = NULL;
		return KQ_OK;
	}
	if (id < SHAMIR_KERNEL_PORTABLE || id > SHAMIR_KERNEL_GFNI)
		return KQ_ERR_INVALID;
	if ((k = kernel_find(id)) == NULL)
		return KQ_ERR_UNSUPPORTED;
	forced = k;
	return KQ_OK;
}

enum shamir_kernel
shamir_kernel_active(void)
{
	return gf256_kernel()->id;
}

int
shamir_kernel_supported(enum shamir_kernel id)
{
	if (id < SHAMIR_KERNEL_AUTO || id > SHAMIR_KERNEL_GFNI)
		return 0;
	return kernel_find(id) != NULL;
}

const char *
shamir_kernel_name(enum shamir_kernel id)
{
	switch (id) {
	case SHAMIR_KERNEL_AUTO:
		return "auto";
	case SHAMIR_KERNEL_PORTABLE:
		return "portable";
	case SHAMIR_KERNEL_SSSE3:
		return "ssse3";
	case SHAMIR_KERNEL_AVX2:
		return "avx2";
	case SHAMIR_KERNEL_GFNI:
		return "gfni";
	}
	return "unknown";
}
