/*
 * keyquorum fuzz harnesses: what they share.  Each fuzz_NAME.c defines
 * LLVMFuzzerTestOneInput (and calls fuzz_init from LLVMFuzzerInitialize).
 * A harness frees everything a parser returns (LeakSanitizer runs) and
 * aborts when a parser breaks one of its documented promises.
 */
#ifndef KQ_FUZZ_H
#define KQ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/secmem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A promise broken: report it and abort (libFuzzer saves the input). */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			    __LINE__, #cond);                                  \
			abort();                                               \
		}                                                              \
	} while (0)

/* A NUL-terminated heap copy of data (free()); aborts on ENOMEM. */
static inline char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_CHECK(s != NULL);
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* libsodium (kq_secmem_init); JSON harnesses also call ceremony_json_init. */
static inline void
fuzz_init(void)
{
	FUZZ_CHECK(kq_secmem_init() == KQ_OK);
}

#endif
