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
#define CNM_FLAG_FIN_SENT 1    // the socket queued its FIN (entered FIN_WAIT1 or LAST_ACK)
#define CNM_FLAG_HANDSHAKEN 2  // reached ESTABLISHED: the byte bases are set
#define CNM_FLAG_IN_SLOT 4     // the entry is in the slot array, not in the map

// One TCP connection as seen by one socket, found by the socket's kernel address while open
// (in its slot or keyed by it in the map).
struct cnm_conn {
  __u8 saddr[16];  // IPv4 in the first 4 bytes
  __u8 daddr[16];
  __u16 sport;  // host byte order
  __u16 dport;
  __u8 family;  // 4 or 6
  __u8 direction;
  __u8 closed;
  __u8 flags;  // CNM_FLAG_*
  __u32 pid;
  __u32 netns;
  __u32 sk_err;  // the socket's error at close: why the kernel ended it (0: the process did)
  __u64 cgroup_id;
  __u64 sk;        // kernel address, with start_ns the connection's identity
  __u64 start_ns;  // bpf_ktime_get_ns() when first seen
  __u64 end_ns;
  __u64 bytes_sent;
  __u64 bytes_received;
  __u64 packets_sent;
  __u64 packets_received;
  __u64 acked_base;     // tcp_sock bytes_acked that is not data (the SYN), or at the snapshot
  __u64 received_base;  // tcp_sock bytes_received then
  __u32 retransmits;
  __u32 rtt_us;
  __u32 rttvar_us;
  __u32 pad2;
  char comm[CNM_TASK_COMM_LEN];
};

// The legacy object's settings (it has no global data): one entry of its `settings` map.
struct cnm_settings {
  __u32 disable_ipv6;  // ignore IPv6 sockets
};

// Indexes into the per-CPU drop counter array.
enum cnm_counter {
  CNM_CNT_CONN_MAP_FULL = 0,
  CNM_CNT_RINGBUF_FULL = 1,
  CNM_CNT_OPENED = 2,
  CNM_CNT_CLOSED = 3,
  CNM_CNT_SNAPSHOT = 4,        // already open at start, found by the snapshot iterator
  CNM_CNT_STALE_REPLACED = 5,  // entries of sockets whose close was lost, replaced at reuse
  CNM_CNT_MAX = 6,
};
