# tests/fuzz: libFuzzer harnesses (docs/fuzzing.md).  `make fuzz` only: not
# part of `all` or `tests`, since the normal build uses gcc.
#
# Every tests/fuzz/fuzz_NAME.c becomes $(B)/fuzz/fuzz_NAME (add a harness by
# adding a file, and a seed corpus in tests/fuzz/corpus/NAME/).  The library
# sources are compiled again here with clang and coverage instrumentation
# (never the gcc-built .a files) into $(B)/fuzz/libkqfuzz.a; a harness links
# only the objects it needs from it.  KQ_SANITIZE makes kq_secalloc plain
# malloc, so AddressSanitizer sees overflows of secure buffers too.
FUZZ_CC ?= clang
FUZZ_SAN ?= address,undefined
FUZZ_B := $(B)/fuzz
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_BINS := $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_NAMES))
FUZZ_LIB_SRCS := $(COMMON_SRCS) $(SHAMIR_SRCS) $(HSM_SRCS) $(CEREMONY_SRCS) \
	src/cli_codec.c
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_B)/obj/%.o,$(FUZZ_LIB_SRCS))
FUZZ_LIB := $(FUZZ_B)/libkqfuzz.a
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
	-Wall -Wextra -Wno-unused-command-line-argument \
	-I. -Isrc -DKQ_VERSION='"$(VERSION)"' -DKQ_SANITIZE=1 -DKQ_FUZZ=1 \
	-fsanitize=fuzzer-no-link,$(FUZZ_SAN) -fno-sanitize-recover=all \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
FUZZ_LDFLAGS := -fsanitize=fuzzer,$(FUZZ_SAN)

.PHONY: fuzz
fuzz: $(FUZZ_BINS)

$(FUZZ_B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_B)/fuzz_%: $(FUZZ_B)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $< $(FUZZ_LIB) $(KQ_LIBS)

# Keep the harness objects (make would delete them as intermediates).
.SECONDARY: $(patsubst %,$(FUZZ_B)/obj/tests/fuzz/fuzz_%.o,$(FUZZ_NAMES))
