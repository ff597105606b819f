/*
 * keyquorum: which instruction sets the CPU offers and the OS enables.
 *
 * Read from what glibc's dynamic loader found when the process started
 * (<sys/platform/x86.h>, glibc 2.33 and later; "active" includes the OS
 * saving the wide registers), never by running CPUID again: in a virtual
 * machine every CPUID traps to the hypervisor (about 10 us each on the
 * machines keyquorum is built on), and libgcc's __builtin_cpu_init runs a
 * dozen of them, a third of an offline verb's start-up.  Under valgrind
 * the loader sees valgrind's emulated CPU, so the answers agree with what
 * valgrind can run.
 */
#ifndef KQ_COMMON_CPU_H
#define KQ_COMMON_CPU_H

#if defined(__x86_64__) || defined(__i386__)
#include <sys/platform/x86.h>

/* KQ_CPU(AVX2), KQ_CPU(GFNI), KQ_CPU(AVX512F) ...: nonzero when usable. */
#define KQ_CPU(name) CPU_FEATURE_ACTIVE(name)
#endif

#endif
