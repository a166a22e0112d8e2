# bridge/build.mk - push-bridge, the cluster bridge (docs/CLUSTER.md),
# included by the top Makefile.  libnats (Debian's libnats-dev) for NATS
# JetStream, nettle for the epoch's hash, jansson for the status file.

BRIDGE_SRCS := $(sort $(wildcard bridge/*.c))
BRIDGE_OBJS := $(BRIDGE_SRCS:%.c=$(O)/%.o)
BRIDGE_LIBS := $(shell pkg-config --libs libnats nettle jansson 2>/dev/null || echo -lnats -lnettle -ljansson) -lpthread

all: $(BIN)/push-bridge

$(BIN)/push-bridge: $(BRIDGE_OBJS)
	@mkdir -p $(BIN)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(BRIDGE_LIBS)

# The subject mapping and the gap classification are pure: their unit
# tests link them alone.
$(O)/tests/unit/test_bridge_subject: $(O)/san/bridge/subject.o
$(O)/tests/unit/test_bridge_subject: CFLAGS += -I.
$(O)/tests/unit/test_bridge_gap: $(O)/san/bridge/gap.o
$(O)/tests/unit/test_bridge_gap: CFLAGS += -I.
