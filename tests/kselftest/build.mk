# tests/kselftest/build.mk - extra flags for the kselftest binaries.
# kselftest_harness.h compares ASSERT_EQ(expected, seen) operands of any
# integer types, as the kernel's own selftests do (they build without
# -Wextra); keep -Wextra for the rest and drop only its sign-compare part.
$(O)/tests/kselftest/%: CFLAGS += -Wno-sign-compare
# push_mmap and push_cluster include lib/push_ring_reader.c, the reader under test.
$(O)/tests/kselftest/%: CFLAGS += -Ilib
$(O)/tests/kselftest/push_mmap $(O)/tests/kselftest/push_mmap_small $(O)/tests/kselftest/push_cluster: lib/push_ring_reader.c lib/push_ring_reader.h
