# tests/fuzz/build.mk - libFuzzer targets for pushd's protocol code.
#
#   make fuzz          build build/tests/fuzz/*_fuzz and the seed generator
#   make fuzz-smoke    run each target FUZZ_SECS seconds (default 6) from a
#                      seed corpus generated in build/fuzz/; TAP output,
#                      non-zero on a crash (artifacts in build/fuzz/artifacts)
#   build/tests/fuzz/mkseeds /tmp/seeds && build/tests/fuzz/ws_fuzz build/fuzz/corpus/ws_fuzz /tmp/seeds/ws
#                      a longer run by hand
#
# The targets link pushd's protocol layer, userspace/protocol/: the code
# with no I/O (a file added there is fuzzable at once), and nettle.

FUZZ_CC       ?= clang
FUZZ_CFLAGS   := -g -O1 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
		 -I$(UAPI) -Iinclude -Iuserspace -Itests/fuzz -fno-omit-frame-pointer \
		 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_LIB_SRCS := $(sort $(wildcard userspace/protocol/*.c))
FUZZ_LIBS     := $(shell pkg-config --libs nettle zlib 2>/dev/null || echo -lnettle -lz)
FUZZ_LIB_HDRS := $(wildcard userspace/protocol/*.h) tests/fuzz/fuzz.h
FUZZ_SRCS     := $(sort $(wildcard tests/fuzz/*_fuzz.c))
FUZZ_BINS     := $(FUZZ_SRCS:tests/fuzz/%.c=$(O)/tests/fuzz/%)
FUZZ_SECS     ?= 6

.PHONY: fuzz fuzz-smoke

fuzz: $(FUZZ_BINS) $(O)/tests/fuzz/mkseeds

$(O)/tests/fuzz/%_fuzz: tests/fuzz/%_fuzz.c $(FUZZ_LIB_SRCS) $(FUZZ_LIB_HDRS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRCS) $(FUZZ_LIBS)

$(O)/tests/fuzz/mkseeds: tests/fuzz/mkseeds.c $(UAPI)/linux/push.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $<

fuzz-smoke: fuzz
	$(Q)tests/fuzz/smoke $(O) $(FUZZ_SECS)
