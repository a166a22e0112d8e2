# tools/bench/build.mk - the benchmark load generator (included by the top
# Makefile).  tools/bench/run uses it; see docs/BENCH.md.

BENCH_BINS := $(BIN)/push-load

all: $(BENCH_BINS)

$(BIN)/push-load: $(O)/tools/bench/push-load.o
	@mkdir -p $(BIN)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lpthread
