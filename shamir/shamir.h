/*
 * keyquorum: Vault-compatible Shamir secret sharing over GF(2^8) (0x11B).
 *
 * Share layout (Vault's): y_1 .. y_L then the x-coordinate as the last byte;
 * a share is one byte longer than the secret.  x-coordinates are distinct,
 * drawn from the CSPRNG in 1..255.
 *
 * Constant time: no branch and no memory index depends on a secret byte, a
 * share byte (x included) or a random coefficient, in any kernel.
 *
 * No I/O: the caller owns every buffer and puts secrets in secure memory.
 */
#ifndef KQ_SHAMIR_H
#define KQ_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#define SHAMIR_MAX_PARTS 255

/*
 * Split the len-byte secret into `parts` shares needing `threshold` to
 * recombine.  shares[i] must hold len + 1 bytes, for i < parts.  Before
 * returning, split recombines threshold-sized subsets in memory and compares
 * them with the secret (in constant time); the subsets rotate over the
 * secret's blocks so that every share is checked somewhere.
 * Returns KQ_OK, KQ_ERR_SHAMIR_EMPTY_SECRET, KQ_ERR_SHAMIR_THRESHOLD
 * (threshold < 2), KQ_ERR_SHAMIR_PARTS (parts < threshold or > 255),
 * KQ_ERR_INVALID (a NULL pointer), KQ_ERR_RANDOM, KQ_ERR_NOMEM,
 * KQ_ERR_SHAMIR_SELFCHECK.  Argument errors leave shares untouched; on any
 * later failure every shares[i] is wiped.
 * Small secrets use a wiped stack scratch; larger ones kq_secalloc memory.
 */
int shamir_split(const uint8_t *secret, size_t len, unsigned threshold,
    unsigned parts, uint8_t *const *shares);

/*
 * Combine n shares of share_len bytes each into secret (share_len - 1 bytes).
 * Returns KQ_OK, KQ_ERR_SHAMIR_TOO_FEW (n < 2), KQ_ERR_SHAMIR_SHORT
 * (share_len < 2), KQ_ERR_SHAMIR_ZERO_X, KQ_ERR_SHAMIR_DUP_X (zero x is
 * reported first when both), KQ_ERR_INVALID (a NULL pointer).  Any n is
 * accepted; more than 255 shares necessarily repeat an x.
 * Like Vault, it cannot tell fewer than threshold or wrong shares: callers
 * that hold commitments check them.  On failure secret is wiped.
 */
int shamir_combine(
    const uint8_t *const *shares, size_t n, size_t share_len, uint8_t *secret);

/*
 * The same check combine makes, on shares of unequal lengths too:
 * KQ_ERR_SHAMIR_LENGTH when lens differ.  Lets the CLI name the problem
 * before allocating.  Codes in this order of precedence: KQ_ERR_INVALID,
 * KQ_ERR_SHAMIR_TOO_FEW, KQ_ERR_SHAMIR_SHORT, KQ_ERR_SHAMIR_LENGTH,
 * KQ_ERR_SHAMIR_ZERO_X, KQ_ERR_SHAMIR_DUP_X.
 */
int shamir_check_shares(
    const uint8_t *const *shares, const size_t *lens, size_t n);

/* GF(2^8) kernels; all give identical results. */
enum shamir_kernel {
	SHAMIR_KERNEL_AUTO = 0,
	SHAMIR_KERNEL_PORTABLE,
	SHAMIR_KERNEL_SSSE3,
	SHAMIR_KERNEL_AVX2,
	SHAMIR_KERNEL_GFNI, /* GFNI at AVX-512 width when present, else AVX2 */
};

/*
 * Select a kernel (for tests and benchmarks); AUTO picks the fastest the
 * CPU has.  KQ_ERR_UNSUPPORTED when the CPU lacks it.  Not thread-safe.
 */
int shamir_kernel_select(enum shamir_kernel k);
enum shamir_kernel shamir_kernel_active(void);
const char *shamir_kernel_name(enum shamir_kernel k);
int shamir_kernel_supported(enum shamir_kernel k);

#endif
