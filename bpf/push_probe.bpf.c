// SPDX-License-Identifier: GPL-2.0
/*
 * push_probe.bpf.c - what each connection and each transport of pushd costs.
 *
 * Hooks, stable ones first:
 *   tp_btf/inet_sock_set_state   connection open/close, lifetime, fold by
 *                                transport at close
 *   tp_btf/tcp_retransmit_skb    retransmits
 *   tp_btf/sys_{enter,exit}      pushd's syscalls, per fd's socket
 *   tp_btf/sched_switch          pushd's CPU time
 *   tp/push/push_{publish,read,record_read}  the module's own events
 *   cgroup_skb/{egress,ingress}  IP bytes and segments per socket, headers
 *                                included: no tracepoint sees them
 * A connection is one socket to the local port push_port, keyed by socket
 * cookie; pushd says which transport it is through push_conn_tags.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "push/probe.h"
#include "push_probe.bpf.h"

/* Options, set by push-probe before load. */
const volatile __u16 push_port = 8080;
const volatile __u32 target_tgid;	/* 0: match by comm */
const volatile union {
	char s[PUSH_PROBE_COMM_LEN];
	__u64 w[2];
} target_comm = { .s = "pushd" };
/* Field offsets and sizes in the push:* tracepoint records, read by
 * push-probe from tracefs (the module owns their layout). */
const volatile __u32 off_pub_len, sz_pub_len;
const volatile __u32 off_pub_write_ns, off_pub_commit_ns;
const volatile __u32 off_read_count, sz_read_count;
const volatile __u32 off_read_bytes, sz_read_bytes;
const volatile __u32 off_rr_age_ns;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PUSH_PROBE_MAX_CONNS);
	__type(key, __u64);
	__type(value, struct push_conn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} push_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PUSH_PROBE_MAX_CONNS);
	__type(key, __u64);
	__type(value, struct push_conn_tag);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} push_conn_tags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PUSH_TRANSPORT_MAX);
	__type(key, __u32);
	__type(value, struct push_closed_conns);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} push_transports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, PUSH_TRANSPORT_MAX);
	__type(key, __u32);
	__type(value, struct push_delivery);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} push_delivered SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct push_proc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} push_proc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PUSH_LAT_MAX);
	__type(key, __u32);
	__type(value, struct push_lat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} push_latency SEC(".maps");

/* A syscall of pushd in flight: when it began, which connection. */
struct push_inflight {
	__u64 start_ns;
	__u64 cookie;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct push_inflight);
} push_inflight SEC(".maps");

/* Per CPU: ktime of the last context switch, i.e. when the running task
 * got the CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} push_cpu_in SEC(".maps");

static __always_inline struct push_proc *proc_stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&push_proc, &zero);
}

/* Is the current task one of pushd's threads? */
static __always_inline bool is_target(void)
{
	struct task_struct *task;
	__u64 comm[2] = {};

	if (target_tgid)
		return bpf_get_current_pid_tgid() >> 32 == target_tgid;
	/* Threads may rename themselves: match the group leader's name. */
	task = (struct task_struct *)bpf_get_current_task();
	task = BPF_CORE_READ(task, group_leader);
	if (bpf_probe_read_kernel(comm, sizeof(comm), &task->comm))
		return false;
	return comm[0] == target_comm.w[0] && comm[1] == target_comm.w[1];
}

/* The same for @task, a BTF pointer (tp_btf programs): direct loads, one
 * helper call; these run on every syscall and context switch. */
static __always_inline bool is_target_task(struct task_struct *task)
{
	__u64 comm[2] = {};

	if (target_tgid)
		return task->tgid == target_tgid;
	if (bpf_probe_read_kernel(comm, sizeof(comm), task->group_leader->comm))
		return false;
	return comm[0] == target_comm.w[0] && comm[1] == target_comm.w[1];
}

/* Cookie of the socket behind the current task's @fd if it is a
 * connection to push_port whose cookie exists, else 0. */
static __always_inline __u64 fd_cookie(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file = NULL;
	struct socket *sock;
	struct sock *sk;
	umode_t mode;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	/* Only sockets: their private_data is the struct socket. */
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & PUSH_S_IFMT) != PUSH_S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_num) != push_port)
		return 0;
	/* Made by cgroup_skb on the first packet, or by pushd's SO_COOKIE. */
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

/* Does x86-64 syscall @nr take a socket-capable fd as its first argument? */
static __always_inline bool fd_syscall(long nr)
{
	switch (nr) {
	case 0:		/* read */
	case 1:		/* write */
	case 3:		/* close */
	case 16:	/* ioctl */
	case 19:	/* readv */
	case 20:	/* writev */
	case 40:	/* sendfile, out_fd */
	case 44:	/* sendto */
	case 45:	/* recvfrom */
	case 46:	/* sendmsg */
	case 47:	/* recvmsg */
	case 48:	/* shutdown */
	case 51:	/* getsockname */
	case 52:	/* getpeername */
	case 54:	/* setsockopt */
	case 55:	/* getsockopt */
	case 72:	/* fcntl */
	case 299:	/* recvmmsg */
	case 307:	/* sendmmsg */
		return true;
	}
	return false;
}

/* raw_syscalls as raw tracepoints: no trace record is built, which matters
 * since every syscall of every process runs them. */
SEC("tp_btf/sys_enter")
int BPF_PROG(push_sys_enter, struct pt_regs *regs, long id)
{
	struct push_inflight in = {};
	__u32 tid;

	if (!is_target_task(bpf_get_current_task_btf()))
		return 0;
	/* probe_tag.c's own calls are the probes' cost, not pushd's: bpf()
	 * and getsockopt(SOL_SOCKET, SO_COOKIE).  x86-64 argument registers. */
	if (id == 321 || (id == 55 && regs->si == 1 && regs->dx == 57))
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	/* Note which connection, if any, before the fd may be closed. */
	if (fd_syscall(id))
		in.cookie = fd_cookie((long)regs->di);
	in.start_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&push_inflight, &tid, &in, BPF_ANY);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(push_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct push_inflight *in;
	struct push_conn *conn = NULL;
	struct push_proc *p;
	__u64 ns;

	in = bpf_map_lookup_elem(&push_inflight, &tid);
	if (!in)
		return 0;
	ns = bpf_ktime_get_ns() - in->start_ns;
	/* On a live connection: charge it; otherwise pushd as a whole. */
	if (in->cookie)
		conn = bpf_map_lookup_elem(&push_conns, &in->cookie);
	if (conn) {
		push_add(&conn->t.syscalls, 1);
		push_add(&conn->t.syscall_ns, ns);
	} else if ((p = proc_stats())) {
		push_add(&p->syscalls, 1);
		push_add(&p->syscall_ns, ns);
	}
	bpf_map_delete_elem(&push_inflight, &tid);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(push_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns(), *in, last;
	struct push_proc *p;
	__u32 zero = 0;

	in = bpf_map_lookup_elem(&push_cpu_in, &zero);
	if (!in)
		return 0;
	last = *in;
	*in = now;
	/* prev ran since the last switch on this CPU. */
	if (last && is_target_task(prev) && (p = proc_stats()))
		push_add(&p->cpu_ns, now - last);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(push_sock_state, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	struct push_conn *conn, fresh = {};
	struct push_conn_tag *tag;
	struct push_closed_conns *tr;
	struct push_proc *p;
	__u32 transport = PUSH_TRANSPORT_NONE;
	__u64 cookie;

	/* inet_sport, not skc_num: closing unbinds, zeroing skc_num first. */
	if (bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport)) != push_port ||
	    sk->sk_protocol != PUSH_IPPROTO_TCP)
		return 0;
	/* Passive open completed: a new connection to pushd. */
	if (newstate == PUSH_TCP_ESTABLISHED && oldstate == PUSH_TCP_SYN_RECV) {
		cookie = bpf_get_socket_cookie((void *)sk);
		fresh.open_ns = bpf_ktime_get_ns();
		bpf_map_update_elem(&push_conns, &cookie, &fresh, BPF_ANY);
		if ((p = proc_stats()))
			push_add(&p->conns_opened, 1);
		return 0;
	}
	if (newstate != PUSH_TCP_CLOSE)
		return 0;
	/* Closed: fold its counters into its transport's, then forget it. */
	cookie = bpf_get_socket_cookie((void *)sk);
	conn = bpf_map_lookup_elem(&push_conns, &cookie);
	if (!conn)
		return 0;
	tag = bpf_map_lookup_elem(&push_conn_tags, &cookie);
	if (tag && tag->transport < PUSH_TRANSPORT_MAX)
		transport = tag->transport;
	tr = bpf_map_lookup_elem(&push_transports, &transport);
	if (tr) {
		push_add(&tr->conns, 1);
		if (conn->open_ns) {
			push_add(&tr->timed, 1);
			push_add(&tr->lifetime_ns, bpf_ktime_get_ns() - conn->open_ns);
		}
		push_add(&tr->t.tx_bytes, conn->t.tx_bytes);
		push_add(&tr->t.tx_segs, conn->t.tx_segs);
		push_add(&tr->t.tx_payload, conn->t.tx_payload);
		push_add(&tr->t.rx_bytes, conn->t.rx_bytes);
		push_add(&tr->t.rx_segs, conn->t.rx_segs);
		push_add(&tr->t.rx_payload, conn->t.rx_payload);
		push_add(&tr->t.rx_dup_payload, conn->t.rx_dup_payload);
		push_add(&tr->t.retrans, conn->t.retrans);
		push_add(&tr->t.retrans_bytes, conn->t.retrans_bytes);
		push_add(&tr->t.syscalls, conn->t.syscalls);
		push_add(&tr->t.syscall_ns, conn->t.syscall_ns);
	}
	bpf_map_delete_elem(&push_conns, &cookie);
	bpf_map_delete_elem(&push_conn_tags, &cookie);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(push_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	struct push_conn *conn;
	__u64 cookie;

	if (sk->__sk_common.skc_num != push_port)
		return 0;
	cookie = bpf_get_socket_cookie((void *)sk);
	conn = bpf_map_lookup_elem(&push_conns, &cookie);
	if (conn) {
		push_add(&conn->t.retrans, 1);
		push_add(&conn->t.retrans_bytes, skb->len);
	}
	return 0;
}

/* Count one IP packet (or GSO train) of a connection to pushd. */
static __always_inline void count_skb(struct __sk_buff *skb, bool tx)
{
	struct push_conn *conn, fresh = {};
	struct bpf_sock *sk = skb->sk;
	__u32 len = skb->len, segs, iphdr, hdr, payload, wire, seq, dup = 0;
	struct bpf_tcp_sock *tp;
	__u8 b = 0;
	__s32 old;
	__u64 cookie;

	if (!sk)
		return;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != PUSH_IPPROTO_TCP || sk->src_port != push_port)
		return;
	if (sk->state == PUSH_TCP_LISTEN || sk->state == PUSH_TCP_CLOSE)
		return;
	cookie = bpf_get_socket_cookie(skb);
	conn = bpf_map_lookup_elem(&push_conns, &cookie);
	if (!conn) {
		/* Established before we attached: count it from now on. */
		bpf_map_update_elem(&push_conns, &cookie, &fresh, BPF_NOEXIST);
		conn = bpf_map_lookup_elem(&push_conns, &cookie);
		if (!conn)
			return;
	}
	/* Header lengths: IP (v4 IHL or fixed v6), then TCP data offset. */
	if (skb->protocol == bpf_htons(PUSH_ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, &b, 1))
			return;
		hdr = (b & 0xf) * 4;
	} else if (skb->protocol == bpf_htons(PUSH_ETH_P_IPV6)) {
		hdr = 40;
	} else {
		return;
	}
	if (hdr < 20 || bpf_skb_load_bytes(skb, hdr + 12, &b, 1))
		return;
	iphdr = hdr;
	hdr += (b >> 4) * 4;
	payload = len > hdr ? len - hdr : 0;
	/* Received data below rcv_nxt is a resend of what we already have
	 * (this runs before TCP processes the segment). */
	if (!tx && payload && (tp = bpf_tcp_sock(sk)) &&
	    !bpf_skb_load_bytes(skb, iphdr + 4, &seq, 4)) {
		old = (__s32)(tp->rcv_nxt - bpf_ntohl(seq));
		if (old > 0)
			dup = (__u32)old < payload ? (__u32)old : payload;
	}
	/* A GSO packet leaves as segs packets, each with its own headers. */
	segs = skb->gso_segs ? skb->gso_segs : 1;
	wire = len + (segs - 1) * hdr;
	if (tx) {
		push_add(&conn->t.tx_bytes, wire);
		push_add(&conn->t.tx_segs, segs);
		push_add(&conn->t.tx_payload, payload);
	} else {
		push_add(&conn->t.rx_bytes, wire);
		push_add(&conn->t.rx_segs, segs);
		push_add(&conn->t.rx_payload, payload);
		if (dup)
			push_add(&conn->t.rx_dup_payload, dup);
	}
}

SEC("cgroup_skb/egress")
int push_egress(struct __sk_buff *skb)
{
	count_skb(skb, true);
	return 1;	/* observe only: always let it through */
}

SEC("cgroup_skb/ingress")
int push_ingress(struct __sk_buff *skb)
{
	count_skb(skb, false);
	return 1;
}

/* Read an unsigned field of @size bytes at @off of a tracepoint record. */
static __always_inline __u64 tp_field(void *ctx, __u32 off, __u32 size)
{
	__u64 v = 0;
	__u32 v32 = 0;

	if (size == 8) {
		bpf_probe_read_kernel(&v, sizeof(v), ctx + off);
		return v;
	}
	bpf_probe_read_kernel(&v32, sizeof(v32), ctx + off);
	return v32;
}

static __always_inline void lat_add(__u32 which, __u64 ns)
{
	struct push_lat *lat = bpf_map_lookup_elem(&push_latency, &which);
	__u32 slot = push_log2(ns);

	if (!lat)
		return;
	push_add(&lat->count, 1);
	push_add(&lat->sum_ns, ns);
	if (ns > lat->max_ns)
		lat->max_ns = ns;	/* racy but monotone enough for a max */
	if (slot >= PUSH_LAT_SLOTS)
		slot = PUSH_LAT_SLOTS - 1;
	push_add(&lat->slots[slot], 1);
}

SEC("tp/push/push_publish")
int push_publish(void *ctx)
{
	__u64 w = tp_field(ctx, off_pub_write_ns, 8);
	__u64 c = tp_field(ctx, off_pub_commit_ns, 8);
	struct push_proc *p = proc_stats();

	if (p) {
		push_add(&p->published, 1);
		push_add(&p->published_bytes, tp_field(ctx, off_pub_len, sz_pub_len));
	}
	if (w && c >= w)
		lat_add(PUSH_LAT_PUBLISH, c - w);
	return 0;
}

SEC("tp/push/push_read")
int push_read(void *ctx)
{
	struct push_proc *p;

	if (!is_target() || !(p = proc_stats()))
		return 0;
	push_add(&p->dev_reads, 1);
	push_add(&p->dev_records, tp_field(ctx, off_read_count, sz_read_count));
	push_add(&p->dev_bytes, tp_field(ctx, off_read_bytes, sz_read_bytes));
	return 0;
}

SEC("tp/push/push_record_read")
int push_record_read(void *ctx)
{
	if (is_target())
		lat_add(PUSH_LAT_DEVICE, tp_field(ctx, off_rr_age_ns, 8));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
