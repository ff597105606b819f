# src/common: the base every layer may use.
COMMON_SRCS := $(wildcard src/common/*.c)
COMMON_OBJS := $(patsubst %.c,$(B)/%.o,$(COMMON_SRCS))
COMMON_LIB := $(B)/libkqcommon.a

$(COMMON_LIB): $(COMMON_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
