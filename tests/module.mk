# Unit tests: every tests/unit/test_*.c becomes $(B)/tests/unit/test_*,
# linked against every library and cmocka.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst %.c,$(B)/%,$(UNIT_SRCS))
TEST_BINS += $(UNIT_BINS)

# Libraries in link order (higher layers first).
KQ_LIBS_ALL = $(wildcard $(CEREMONY_LIB)) $(HSM_LIB) $(SHAMIR_LIB) $(COMMON_LIB)

$(B)/tests/unit/test_%: $(B)/tests/unit/test_%.o $(CEREMONY_LIB) $(HSM_LIB) $(SHAMIR_LIB) $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(CEREMONY_LIB) $(HSM_LIB) $(SHAMIR_LIB) $(COMMON_LIB) $(KQ_LIBS) $(shell $(PKG_CONFIG) --libs cmocka)
