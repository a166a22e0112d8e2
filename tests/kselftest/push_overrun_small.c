// SPDX-License-Identifier: GPL-2.0
/*
 * push_overrun_small - push_overrun again in a boot with a 64 KiB ring,
 * where the history wraps every few dozen messages (devices=2: the boot
 * it shares with push_devices).
 *
 * vm-params: ring_size=65536 max_msg_size=4096 devices=2
 */
#include "push_overrun.c"
