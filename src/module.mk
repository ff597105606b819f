# src/: the CLI, one file per verb, as two binaries.
#
# $(B)/keyquorum-full (src/main.c): every verb, linked with every library.
# $(B)/keyquorum (src/front.c): the front users run.  It links only what
# the offline verbs (KQ_VERB_OFFLINE in src/verbs.def) need, libsodium
# (its archive, unless FRONT_SODIUM=shared) and libc, runs them in-process, and execs keyquorum-full for the rest
# (installed as $(PKGLIBEXECDIR)/keyquorum-full; beside it in the build
# tree).  tests/integration/front.sh checks that it maps no libcrypto.
FRONT_SRCS := src/front.c src/cli_main.c src/cli.c src/cli_codec.c \
	src/cmd_split.c src/cmd_combine.c src/cmd_decode_root.c
CLI_SRCS := $(filter-out src/front.c,$(wildcard src/*.c))
CLI_OBJS := $(patsubst %.c,$(B)/%.o,$(CLI_SRCS))
FRONT_OBJS := $(patsubst %.c,$(B)/%.o,$(FRONT_SRCS)) $(B)/ceremony/roottoken.o
BINS += $(B)/keyquorum $(B)/keyquorum-full

# Only libsodium: a library added here is mapped by every offline verb.
# FRONT_SODIUM=static (the default) links libsodium's archive into the
# front: loading the shared library costs an offline verb about 0.1 ms,
# most of it the 189 symbols libsodium.so binds at load (it is linked
# -z now), a sixth of a short split's whole run (docs/performance.md).
# The cost of static: a libsodium security update needs the front rebuilt
# (a package declares it, as Debian's Built-Using does).
# FRONT_SODIUM=shared links libsodium.so instead.  keyquorum-full is
# always linked to the shared library.
FRONT_SODIUM ?= static
ifeq ($(FRONT_SODIUM),static)
FRONT_LIBS := $(shell $(PKG_CONFIG) --libs-only-L libsodium 2>/dev/null) \
	-Wl,-Bstatic -lsodium -Wl,-Bdynamic -pthread
else ifeq ($(FRONT_SODIUM),shared)
FRONT_LIBS := -Wl,--as-needed $(shell $(PKG_CONFIG) --libs libsodium 2>/dev/null) \
	-Wl,--no-as-needed
else
$(error FRONT_SODIUM is static or shared, not '$(FRONT_SODIUM)')
endif

$(B)/keyquorum-full: $(CLI_OBJS) $(CEREMONY_LIB) $(HSM_LIB) $(SHAMIR_LIB) $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(CEREMONY_LIB) $(HSM_LIB) $(SHAMIR_LIB) $(COMMON_LIB) $(KQ_LIBS)

$(B)/keyquorum: $(FRONT_OBJS) $(SHAMIR_LIB) $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(FRONT_OBJS) $(SHAMIR_LIB) $(COMMON_LIB) $(FRONT_LIBS)

# Where the front finds keyquorum-full once installed: relative to
# BINDIR, so the installed tree can move as a whole.  The stamp holds the
# value, so a changed BINDIR or LIBEXECDIR rebuilds front.o.
FRONT_FULL_REL := $(shell realpath -m --relative-to='$(BINDIR)' '$(PKGLIBEXECDIR)')/keyquorum-full
$(B)/src/front.o: KQ_CFLAGS += -DKQ_FULL_REL='"$(FRONT_FULL_REL)"'
$(B)/src/front.o: $(B)/src/front-path.stamp
$(B)/src/front-path.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(FRONT_FULL_REL)' >$@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

.PHONY: FORCE
FORCE:
