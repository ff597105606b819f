# ceremony/: custody sets, the Vault/OpenBao client, the ceremony engine,
# rollback envelopes, the transcript.
CEREMONY_SRCS := $(wildcard ceremony/*.c)
CEREMONY_OBJS := $(patsubst %.c,$(B)/%.o,$(CEREMONY_SRCS))
CEREMONY_LIB := $(B)/libceremony.a

$(CEREMONY_LIB): $(CEREMONY_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
