# bench/: benchmarks (`make bench` builds bench-bins, then runs bench/run).
BENCH_BINS := $(B)/bench/bench_shamir $(B)/bench/bench_codec

.PHONY: bench-bins
bench-bins: $(BENCH_BINS)

$(B)/bench/bench_shamir: $(B)/bench/bench_shamir.o $(SHAMIR_LIB) $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(SHAMIR_LIB) $(COMMON_LIB) $(KQ_LIBS)

# libkqtime.so: the PKCS#11 pass-through that times every call, for
# bench/ceremony.sh (the top of bench/p11time.c).  A shared object:
# -fPIC instead of -fPIE, -shared instead of -pie.
KQTIME_SO := $(B)/bench/libkqtime.so
bench-bins: $(KQTIME_SO)

$(B)/bench/p11time.pic.o: bench/p11time.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -fPIE,$(ALL_CFLAGS)) -fPIC -MMD -MP -c -o $@ $<

$(KQTIME_SO): $(B)/bench/p11time.pic.o
	$(CC) $(filter-out -pie,$(ALL_LDFLAGS)) -shared -Wl,-z,nodelete \
		-Wl,-soname,libkqtime.so -o $@ $< -ldl -lpthread

$(B)/bench/bench_codec: $(B)/bench/bench_codec.o $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(COMMON_LIB) $(KQ_LIBS)

# `make bench-plot`: docs/perf-size.png and docs/perf-threshold.png
# (bench/plot.sh; gnuplot-nox).
.PHONY: bench-plot
bench-plot:
	@$(MAKE) --no-print-directory OPT=-O3 bench-bins
	@B=$(B) ./bench/plot.sh
