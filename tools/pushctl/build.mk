# tools/pushctl/build.mk - pushctl links lib/'s mmap reader.
CFLAGS += -Ilib
$(BIN)/pushctl: $(O)/lib/push_ring_reader.o
