/*
 * keyquorum: marking values public for the constant-time check (private).
 *
 * tests/ct/ct_shamir runs split and combine under valgrind's memcheck with
 * every secret byte marked undefined, so that a branch or an address that
 * depends on one is reported.  Where a value legitimately becomes public
 * (the error code that is returned anyway), CT_DECLASSIFY says so.  The ct
 * binary compiles shamir/ with -DKQ_CTGRIND; its MemorySanitizer twin
 * (tests/ct/ct_shamir_msan, which also checks the kernels valgrind cannot
 * run) with -DKQ_CTMSAN; everywhere else it is empty.
 */
#ifndef KQ_SHAMIR_CT_H
#define KQ_SHAMIR_CT_H

#if defined(KQ_CTGRIND)
#include <valgrind/memcheck.h>
#define CT_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#elif defined(KQ_CTMSAN)
#include <sanitizer/msan_interface.h>
#define CT_DECLASSIFY(p, n) __msan_unpoison((p), (n))
#else
#define CT_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

#endif
