# src/: the CLI, one file per verb.
CLI_SRCS := $(wildcard src/*.c)
CLI_OBJS := $(patsubst %.c,$(B)/%.o,$(CLI_SRCS))
BINS += $(B)/keyquorum

$(B)/keyquorum: $(CLI_OBJS) $(CEREMONY_LIB) $(HSM_LIB) $(SHAMIR_LIB) $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(CEREMONY_LIB) $(HSM_LIB) $(SHAMIR_LIB) $(COMMON_LIB) $(KQ_LIBS)
