// SPDX-License-Identifier: GPL-2.0
/*
 * push_stress_small - push_stress again in a boot with a 64 KiB ring, so
 * that readers fall behind all the time and every loss must be reported
 * in gap records that account for it exactly, under concurrency.
 *
 * vm-params: ring_size=65536 max_msg_size=4096 devices=2
 */
#include "push_stress.c"
