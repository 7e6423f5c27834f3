// Kernel side of the TCP tracer. Raw tracepoints only (no kprobes on the target kernels, no
// tracefs needed): inet_sock_set_state opens and closes entries, sock_send/recv_length add the
// application's exact bytes, tcp_retransmit_skb counts retransmits. At close the kernel's own
// tcp_sock counters are read (as bcc's tcplife does) and the entry goes to a ring buffer.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tcp_tracer.h"

#define AF_INET 2
#define AF_INET6 10
#define MSG_PEEK 2
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7
// Open connections' tcp_sock counters (packets, RTT, retransmit total) are read again on the
// I/O path at most this often, in units of 2^20 ns (~1.05 ms): ~1 s. Reading them costs six
// probe reads, which on every send and receive was most of the probe's keep-alive overhead.
// Bytes stay exact on every call, retransmits are counted by their own hook, and every
// counter is read exactly at close.
#define REFRESH_UNITS 954

// Set by the daemon before load.
const volatile bool disable_ipv6 = false;
// True when the send/recv hooks are attached: bytes then always come from them (exact
// application bytes), never from tcp_sock, even for a connection that moved no data.
const volatile bool app_bytes_hooks = false;

// Sized by the daemon (max_tracked_connections) before load.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, struct cnm_conn);
} conns SEC(".maps");

// Closed connections, sized by the daemon (max_closed_connections_buffered).
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 22);
} closed SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, CNM_CNT_MAX);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

// Scratch space: struct cnm_conn is too large for the 512-byte stack with everything else.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cnm_conn);
} scratch SEC(".maps");

static __always_inline void count(__u32 which) {
  __u64* v = bpf_map_lookup_elem(&counters, &which);
  if (v) *v += 1;
}

// Fills pid, comm and cgroup when running in a process (not softirq) context.
static __always_inline void set_task(struct cnm_conn* c) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 pid = pid_tgid >> 32;
  if (pid == 0) return;
  c->pid = pid;
  bpf_get_current_comm(c->comm, sizeof(c->comm));
  c->cgroup_id = bpf_get_current_cgroup_id();
}

static __always_inline bool is_tcp(const struct sock* sk) {
  return BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP &&
         BPF_CORE_READ(sk, sk_type) == 1 /* SOCK_STREAM */;
}

// Reads the tuple and netns; false for families we do not track.
static __always_inline bool fill_tuple(struct cnm_conn* c, const struct sock* sk) {
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  if (family == AF_INET) {
    c->family = 4;
    bpf_core_read(c->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
    bpf_core_read(c->daddr, 4, &sk->__sk_common.skc_daddr);
  } else if (family == AF_INET6 && !disable_ipv6) {
    c->family = 6;
    bpf_core_read(c->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
    bpf_core_read(c->daddr, 16, &sk->__sk_common.skc_v6_daddr);
  } else {
    return false;
  }
  c->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
  c->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  c->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
  return true;
}

// The kernel's own counters, exact at close.
static __always_inline void read_tcp_counters(struct cnm_conn* c, const struct sock* sk) {
  const struct tcp_sock* tp = (const struct tcp_sock*)sk;
  c->packets_sent = BPF_CORE_READ(tp, segs_out);
  c->packets_received = BPF_CORE_READ(tp, segs_in);
  c->retransmits = BPF_CORE_READ(tp, total_retrans);
  c->rtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
  c->rttvar_us = BPF_CORE_READ(tp, mdev_us) >> 2;
  if (!app_bytes_hooks) {
    c->bytes_sent = BPF_CORE_READ(tp, bytes_acked);
    c->bytes_received = BPF_CORE_READ(tp, bytes_received);
  }
}

static __always_inline void on_open(const struct sock* sk, __u8 direction) {
  __u32 zero = 0;
  struct cnm_conn* c = bpf_map_lookup_elem(&scratch, &zero);
  if (!c) return;
  __builtin_memset(c, 0, sizeof(*c));
  if (!fill_tuple(c, sk)) return;
  c->direction = direction;
  c->sk = (__u64)sk;
  c->start_ns = bpf_ktime_get_ns();
  set_task(c);
  __u64 key = (__u64)sk;
  if (bpf_map_update_elem(&conns, &key, c, BPF_NOEXIST) == 0) {
    count(CNM_CNT_OPENED);
  } else if (!bpf_map_lookup_elem(&conns, &key)) {
    count(CNM_CNT_CONN_MAP_FULL);
  }
}

static __always_inline void on_close(const struct sock* sk) {
  __u64 key = (__u64)sk;
  struct cnm_conn* c = bpf_map_lookup_elem(&conns, &key);
  if (!c) return;
  if (c->pid == 0) set_task(c);
  if (c->sport == 0) fill_tuple(c, sk);  // closed before the handshake finished
  read_tcp_counters(c, sk);
  c->closed = 1;
  c->end_ns = bpf_ktime_get_ns();
  count(CNM_CNT_CLOSED);
  // No wakeup per record: the daemon drains the ring on a timer, in batches.
  if (bpf_ringbuf_output(&closed, c, sizeof(*c), BPF_RB_NO_WAKEUP) != 0)
    count(CNM_CNT_RINGBUF_FULL);
  bpf_map_delete_elem(&conns, &key);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state, const struct sock* sk, int oldstate, int newstate) {
  if (!is_tcp(sk)) return 0;
  if (newstate == TCP_SYN_SENT && oldstate == TCP_CLOSE) {
    on_open(sk, CNM_DIR_OUTGOING);
  } else if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT) {
    // connect() moves to SYN_SENT before it picks the source port (and, for an unbound
    // socket, the source address): read the tuple again now that it is final.
    __u64 key = (__u64)sk;
    struct cnm_conn* c = bpf_map_lookup_elem(&conns, &key);
    if (c) fill_tuple(c, sk);
  } else if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV) {
    // Runs in softirq: pid and comm come later, from the accepting process's first call.
    on_open(sk, CNM_DIR_INCOMING);
  } else if (newstate == TCP_CLOSE) {
    on_close(sk);
  }
  return 0;
}

static __always_inline void on_io(struct sock* sk, int ret, int flags, bool sent) {
  if (ret <= 0) return;
  if (!sent && (flags & MSG_PEEK)) return;
  __u64 key = (__u64)sk;
  struct cnm_conn* c = bpf_map_lookup_elem(&conns, &key);
  if (!c) return;
  if (c->pid == 0) set_task(c);
  if (sent)
    __sync_fetch_and_add(&c->bytes_sent, (__u64)ret);
  else
    __sync_fetch_and_add(&c->bytes_received, (__u64)ret);
  // Keep open connections' kernel counters fresh for clients that poll them, rate-limited.
  // The u32 difference is wrap-safe.
  const __u32 now = (__u32)(bpf_ktime_get_ns() >> 20);
  if (now - c->refreshed >= REFRESH_UNITS) {
    c->refreshed = now;
    read_tcp_counters(c, sk);
  }
}

SEC("raw_tp/sock_send_length")
int BPF_PROG(sock_send_length, struct sock* sk, int ret, int flags) {
  on_io(sk, ret, flags, true);
  return 0;
}

SEC("raw_tp/sock_recv_length")
int BPF_PROG(sock_recv_length, struct sock* sk, int ret, int flags) {
  on_io(sk, ret, flags, false);
  return 0;
}

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit_skb, const struct sock* sk) {
  __u64 key = (__u64)sk;
  struct cnm_conn* c = bpf_map_lookup_elem(&conns, &key);
  if (c) __sync_fetch_and_add(&c->retransmits, 1);
  return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
