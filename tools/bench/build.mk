# tools/bench/build.mk - the benchmark load generator (included by the top
# Makefile).  tools/bench/run uses it; see docs/BENCH.md.

BENCH_BINS := $(BIN)/push-load

all: $(BENCH_BINS)

PUSH_LOAD_OBJS := $(addprefix $(O)/tools/bench/,push-load.o load_util.o load_conn.o load_parse.o load_pub.o)
$(BIN)/push-load: $(PUSH_LOAD_OBJS)
	@mkdir -p $(BIN)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lpthread

# push-dev-bench: the device benchmark (tools/bench/device, docs/DEVICE.md).
BENCH_BINS += $(BIN)/push-dev-bench
all: $(BIN)/push-dev-bench
$(O)/tools/bench/push-dev-bench.o: CFLAGS += -Ilib
$(BIN)/push-dev-bench: $(O)/tools/bench/push-dev-bench.o $(O)/lib/push_ring_reader.o
	@mkdir -p $(BIN)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lpthread

# push-send-bench: per-client sendmsg() against one io_uring submission for
# a fan-out (issue 10 item 4; docs/PUSHD.md, "Batched sends").
BENCH_BINS += $(BIN)/push-send-bench
all: $(BIN)/push-send-bench
$(BIN)/push-send-bench: $(O)/tools/bench/push-send-bench.o
	@mkdir -p $(BIN)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -luring
