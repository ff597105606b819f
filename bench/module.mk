# bench/: benchmarks (`make bench` builds bench-bins, then runs bench/run).
BENCH_BINS := $(B)/bench/bench_shamir

.PHONY: bench-bins
bench-bins: $(BENCH_BINS)

$(B)/bench/bench_shamir: $(B)/bench/bench_shamir.o $(SHAMIR_LIB) $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(SHAMIR_LIB) $(COMMON_LIB) $(KQ_LIBS)
