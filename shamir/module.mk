# shamir/: constant-time GF(2^8) and Vault-compatible split/combine.
SHAMIR_SRCS := $(wildcard shamir/*.c)
SHAMIR_OBJS := $(patsubst %.c,$(B)/%.o,$(SHAMIR_SRCS))
SHAMIR_LIB := $(B)/libshamir.a

$(SHAMIR_LIB): $(SHAMIR_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
