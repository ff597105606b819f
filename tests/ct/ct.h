/*
 * What the constant-time checks (tests/ct/ct_shamir.c, ct_encoding.c)
 * share: how a byte is made secret or public for the checker, and the two
 * deliberate leaks every check must see reported (its negative controls).
 *
 * Two checkers, one program each:
 * - valgrind's memcheck (the ctgrind method): a secret byte is undefined;
 *   memcheck reports a conditional jump or move, or a memory address,
 *   that depends on one.  It emulates a CPU without GFNI, AVX-512 or VAES.
 * - MemorySanitizer (built with -DKQ_CTMSAN, clang -fsanitize=memory): a
 *   secret byte is poisoned; MSan reports a branch or an address that
 *   depends on one.  It runs natively, so it checks every kernel the CPU
 *   offers; it propagates through the intrinsics it knows and checks the
 *   operands of the ones it does not (a report, never a silence).  A
 *   select (cmov) on a secret is not reported by it: that is constant time
 *   anyway.
 */
#ifndef KQ_TESTS_CT_CT_H
#define KQ_TESTS_CT_CT_H

#include <stdint.h>
#include <stdio.h>

#ifdef KQ_CTMSAN
#include <sanitizer/msan_interface.h>
#define SECRET(p, n) __msan_poison((p), (n))
#define PUBLIC(p, n) __msan_unpoison((p), (n))
#define CT_TOOL "MemorySanitizer"
#else
#include <valgrind/memcheck.h>
#define SECRET(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#define PUBLIC(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#define CT_TOOL (RUNNING_ON_VALGRIND ? "valgrind" : "no checker")
#endif

static volatile int ct_sink;

/* A call in one arm: a jump the compiler cannot turn into a select. */
__attribute__((noinline, unused)) static void
ct_leak_branch(const uint8_t *s)
{
	if (s[0] & 1)
		printf("# negative control: odd\n");
	ct_sink = 2;
}

__attribute__((noinline, unused)) static void
ct_leak_index(const uint8_t *s)
{
	static const uint8_t table[256] = {1};

	ct_sink = table[s[0]];
}

/*
 * Run the negative control "--negative-branch" or "--negative-index" on
 * the secret byte s[0]; 0 when which names neither.
 */
__attribute__((unused)) static int
ct_negative(const char *which, uint8_t *s)
{
	SECRET(s, 1);
	if (which[11] == 'b') /* --negative-branch */
		ct_leak_branch(s);
	else if (which[11] == 'i') /* --negative-index */
		ct_leak_index(s);
	else
		return 0;
	printf("# negative control %s ran\n", which);
	return 1;
}

#endif
