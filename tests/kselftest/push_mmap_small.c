// SPDX-License-Identifier: GPL-2.0
/*
 * push_mmap_small - push_mmap again in a boot with a 64 KiB ring, where
 * concurrent writers overwrite what the mmap reader is copying all the
 * time, and records wrap (padding records) every few dozen messages.
 *
 * vm-params: ring_size=65536 max_msg_size=4096 devices=2
 */
#include "push_mmap.c"
