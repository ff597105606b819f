# tests/ct: the constant-time check (run by tests/integration/ct-valgrind.sh).
#
# ct_shamir links its own copy of shamir/ and src/common/, compiled with
# -DKQ_CTGRIND (shamir/ct.h then marks legitimately public values for
# memcheck) and without sanitizers in every build, since valgrind cannot run
# AddressSanitizer binaries.  kq_random is wrapped so that every random byte
# the library draws is marked secret.
CT_SRCS := $(SHAMIR_SRCS) $(COMMON_SRCS)
CT_OBJS := $(patsubst %.c,$(B)/tests/ct/obj/%.o,$(CT_SRCS))
CT_CFLAGS = $(filter-out -fsanitize=% -fno-sanitize-recover=%,$(ALL_CFLAGS)) \
	-DKQ_CTGRIND=1
CT_LDFLAGS = $(filter-out -fsanitize=%,$(ALL_LDFLAGS))
CT_BIN := $(B)/tests/ct/ct_shamir
TEST_BINS += $(CT_BIN)

$(B)/tests/ct/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CT_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/ct/ct_shamir.o: tests/ct/ct_shamir.c
	@mkdir -p $(dir $@)
	$(CC) $(CT_CFLAGS) -MMD -MP -c -o $@ $<

$(CT_BIN): $(B)/tests/ct/ct_shamir.o $(CT_OBJS)
	$(CC) $(CT_LDFLAGS) -Wl,--wrap=kq_random -o $@ $^ $(KQ_LIBS)
tests: $(CT_BIN)

# ct_encoding: the same for the hex and base64 codecs (src/common/encoding*),
# run by tests/integration/ct-encoding.sh.
CT_ENC_OBJS := $(patsubst %.c,$(B)/tests/ct/obj/%.o,$(COMMON_SRCS))
CT_ENC_BIN := $(B)/tests/ct/ct_encoding
TEST_BINS += $(CT_ENC_BIN)

$(B)/tests/ct/ct_encoding.o: tests/ct/ct_encoding.c
	@mkdir -p $(dir $@)
	$(CC) $(CT_CFLAGS) -MMD -MP -c -o $@ $<

$(CT_ENC_BIN): $(B)/tests/ct/ct_encoding.o $(CT_ENC_OBJS)
	$(CC) $(CT_LDFLAGS) -o $@ $^ $(KQ_LIBS)
tests: $(CT_ENC_BIN)

# ct_shamir_msan: the same program under MemorySanitizer (clang), run by
# tests/integration/ct-msan.sh.  MSan runs the code natively, so it checks
# the kernels valgrind cannot decode (GFNI, AVX-512) too.  It links shamir/
# alone, compiled here with -DKQ_CTMSAN (MSan wants what it watches
# instrumented); ct_shamir.c stands in for the few src/common functions
# shamir/ calls (tests/ct/ct.h).
CT_MSAN_CC ?= clang
CT_MSAN_CFLAGS = -std=c11 -D_GNU_SOURCE -O2 -g -fsanitize=memory \
	-fno-omit-frame-pointer -Wall -Wextra -Wshadow -Wvla \
	$(if $(filter 1,$(WERROR)),-Werror) -I. -Isrc -DKQ_CTMSAN=1
CT_MSAN_OBJS := $(patsubst %.c,$(B)/tests/ct/msan/%.o,$(SHAMIR_SRCS) \
	tests/ct/ct_shamir.c)
CT_MSAN_BIN := $(B)/tests/ct/ct_shamir_msan
TEST_BINS += $(CT_MSAN_BIN)

$(B)/tests/ct/msan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CT_MSAN_CC) $(CT_MSAN_CFLAGS) -MMD -MP -c -o $@ $<

$(CT_MSAN_BIN): $(CT_MSAN_OBJS)
	$(CT_MSAN_CC) -fsanitize=memory -o $@ $^
tests: $(CT_MSAN_BIN)
