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
