// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// Structs shared by the kernel side (tcp_tracer.bpf.c) and the daemon (tracer.cpp).
// Plain fixed-width fields only, so both compilers lay them out the same way.
#pragma once

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CNM_TASK_COMM_LEN 16

enum cnm_direction {
  CNM_DIR_LOCAL = 0,  // first seen after the handshake: who opened it is unknown
  CNM_DIR_OUTGOING = 1,
  CNM_DIR_INCOMING = 2,
};

// cnm_conn.flags
#define CNM_FLAG_FIN_SENT 1    // the socket queued its FIN (set on the closed record only)
#define CNM_FLAG_HANDSHAKEN 2  // reached ESTABLISHED: the byte bases are set
#define CNM_FLAG_IN_SLOT 4     // the entry is in the slot array, not in the map
// The closed record was made by refresh_open from an open entry whose socket had closed without
// the state program seeing it (set on the closed record only).
#define CNM_FLAG_CLOSE_RECOVERED 8

// One TCP connection as seen by one socket, found by the socket's kernel address while open
// (in its slot or keyed by it in the map). A socket's transitions run on more than one CPU (its
// process's, and where its packets are processed), so every cache line of its entry that one
// transition writes, the next one on the other CPU must fetch: the layout keeps what the
// transitions between open and close touch in the first 32 bytes (sk to find it; pid, comm and
// flags, written when an accepted socket's process closes it), and the struct at 160 bytes, so
// that in the slot array every entry starts on a cache line or half-way into one and those 32
// bytes never straddle two lines.
struct cnm_conn {
  __u64 sk;  // kernel address, with start_ns the connection's identity
  __u32 pid;
  __u8 family;  // 4 or 6
  __u8 direction;
  __u8 closed;
  __u8 flags;  // CNM_FLAG_*
  char comm[CNM_TASK_COMM_LEN];
  __u64 start_ns;  // bpf_ktime_get_ns() when first seen
  __u64 cgroup_id;
  __u16 sport;  // host byte order
  __u16 dport;
  __u32 netns;
  __u32 sk_err;  // the socket's error at close: why the kernel ended it (0: the process did)
  __u32 retransmits;
  __u8 saddr[16];  // IPv4 in the first 4 bytes
  __u8 daddr[16];
  __u32 rtt_us;
  __u32 rttvar_us;
  __u64 end_ns;
  __u64 bytes_sent;
  __u64 bytes_received;
  __u64 packets_sent;
  __u64 packets_received;
  __u64 acked_base;     // tcp_sock bytes_acked that is not data (the SYN), or at the snapshot
  __u64 received_base;  // tcp_sock bytes_received then
};
#ifdef __cplusplus
static_assert(sizeof(cnm_conn) == 160, "cache-line layout of the slots (above)");
#else
_Static_assert(sizeof(struct cnm_conn) == 160, "cache-line layout of the slots (above)");
#endif

// The legacy object's settings (it has no global data): one entry of its `settings` map.
struct cnm_settings {
  __u32 disable_ipv6;  // ignore IPv6 sockets
};

// Who runs a program, for the per-CPU memory it uses (tcp_tracer.bpf.c: scratch, bulk and the
// counters, which hold CNM_CNT_MAX per kind; the daemon adds the kinds up): the attached hooks,
// or the daemon from a system call (the snapshot iterator, refresh_open), which a hook's run can
// interrupt on the same CPU.
enum cnm_run_kind {
  CNM_RUN_HOOK = 0,
  CNM_RUN_DAEMON = 1,
  CNM_RUN_KINDS = 2,
};

// Indexes into the per-CPU drop counter array.
enum cnm_counter {
  CNM_CNT_CONN_MAP_FULL = 0,
  CNM_CNT_RINGBUF_FULL = 1,
  CNM_CNT_OPENED = 2,
  CNM_CNT_CLOSED = 3,
  CNM_CNT_SNAPSHOT = 4,         // already open at start, found by the snapshot iterator
  CNM_CNT_STALE_REPLACED = 5,   // entries of sockets whose close was lost, replaced at reuse
  CNM_CNT_CLOSE_RECOVERED = 6,  // closes the state program missed, found by refresh_open
  CNM_CNT_MAX = 7,
};
