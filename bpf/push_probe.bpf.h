/* SPDX-License-Identifier: GPL-2.0 */
/* push_probe.bpf.h - BPF-side helpers of push_probe.bpf.c. */
#ifndef PUSH_PROBE_BPF_H
#define PUSH_PROBE_BPF_H

/* From include/net/tcp_states.h and uapi headers, which vmlinux.h lacks. */
#define PUSH_TCP_ESTABLISHED	1
#define PUSH_TCP_SYN_RECV	3
#define PUSH_TCP_CLOSE		7
#define PUSH_TCP_LISTEN		10
#define PUSH_AF_INET		2
#define PUSH_AF_INET6		10
#define PUSH_IPPROTO_TCP	6
#define PUSH_ETH_P_IP		0x0800
#define PUSH_ETH_P_IPV6		0x86DD
#define PUSH_S_IFMT		00170000
#define PUSH_S_IFSOCK		0140000

/* Add @v to *@p atomically (maps are shared by every CPU). */
#define push_add(p, v)	__sync_fetch_and_add((p), (v))

/* Index of the highest set bit of @v (0 for 0 and 1). */
static __always_inline __u32 push_log2(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

#endif /* PUSH_PROBE_BPF_H */
