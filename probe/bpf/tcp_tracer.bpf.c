// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// Kernel side of the TCP tracer: inet_sock_set_state (or the kernel function that fires it)
// opens and closes entries, tcp_retransmit_skb counts retransmits. Counters are the kernel's own
// tcp_sock ones (as bcc's tcplife reads them), read at close, where the entry goes to the daemon,
// and for open connections by refresh_open, which the daemon runs (BPF_PROG_TEST_RUN) before it
// reads the map. Nothing runs per send or receive unless the daemon opts into
// sock_send/recv_length (per_call_hooks), which count the application's bytes call by call and
// learn an accepted socket's pid at its first I/O.
//
// One source, two objects, for the rungs of the daemon's ladder (probe/ladder.cpp):
// - tcp_tracer.bpf.o: inet_sock_set_state as tp_btf (BTF-typed arguments, so the socket is read
//   with plain loads; Linux 5.9+) or as raw_tp (every read a probe-read helper call), the TCP
//   socket iterator, refresh_open and the per-call hooks; closed connections through a ring
//   buffer (Linux 5.8+), settings in read-only globals, connection slots where the kernel has
//   BPF compare-and-swap;
// - tcp_tracer_legacy.bpf.o (CNM_LEGACY): for older kernels: the same logic as raw_tp or as a
//   kprobe on tcp_set_state, closed connections through a perf event array, no global data,
//   bpf_probe_read only (see the CNM_LEGACY block below).
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
#define TCP_FIN_WAIT1 4
#define TCP_FIN_WAIT2 5
#define TCP_TIME_WAIT 6
#define TCP_CLOSE 7
#define TCP_CLOSE_WAIT 8
#define TCP_LAST_ACK 9
#define TCP_CLOSING 11

#ifdef CNM_LEGACY
// Kernels before 5.2 have no global data (BPF_PSEUDO_MAP_VALUE, commit d8eca5bbb2be, "bpf:
// implement lookup-free direct value access for maps"): the daemon's one setting comes from a map,
// there are no connection slots (BPF compare-and-swap is Linux 5.12) and no per-call hooks (their
// tracepoints are Linux 6.4).
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cnm_settings);
} settings SEC(".maps");

static __always_inline bool ipv6_disabled(void) {
  __u32 zero = 0;
  const struct cnm_settings* s = bpf_map_lookup_elem(&settings, &zero);
  return s && s->disable_ipv6;
}
#define SLOT_BITS 0U
#define APP_BYTES_HOOKS false

// bpf_probe_read_kernel came in Linux 5.5 (commit 6ae08ae3dea2, "bpf: Add probe_read_{user,
// kernel} and probe_read_{user, kernel}_str helpers"); bpf_probe_read does the same on x86, whose
// user and kernel addresses never overlap. Every read below, CO-RE ones included, goes through it.
#define bpf_probe_read_kernel bpf_probe_read

// A helper of a later kernel is called only where the kernel's BTF (or the BTF file given for it)
// declares it: elsewhere the constant is 0 and the verifier never visits the call.
#define KERNEL_HAS_HELPER(id) bpf_core_enum_value_exists(enum bpf_func_id, id)
#else
// Set by the daemon before load.
const volatile bool disable_ipv6 = false;
// True when the send/recv hooks are attached: bytes then always come from them (the
// application's calls), never from tcp_sock, even for a connection that moved no data.
const volatile bool app_bytes_hooks = false;
static __always_inline bool ipv6_disabled(void) { return disable_ipv6; }
#define APP_BYTES_HOOKS app_bytes_hooks
// Every helper the modern build calls exists on the kernels that have its ring buffer (5.8).
#define KERNEL_HAS_HELPER(id) 1
#endif

// Open connections live in two places. First `slots`, an array indexed by a hash of the
// socket's address: finding, adding and removing an entry there is a few inline loads and one
// compare-and-swap. A hash map insert or delete takes a bucket lock and several kernel function
// calls, and on CPUs that need return-stack mitigations every call and return is costly: with
// slots the state program's time per loopback connection fell by ~40% on the CI machine
// (bpf_stats). A socket whose slot is taken goes to `conns`, the hash map. The daemon sizes
// both so that together they hold max_tracked_connections: slots are at most an eighth of it,
// so once the map is nearly full every slot is taken (none sits empty while the map refuses).
// slot_bits 0 (no slots) on kernels without BPF compare-and-swap (before Linux 5.12).
#ifndef CNM_LEGACY
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cnm_conn);
} slots SEC(".maps");
const volatile __u32 slot_bits = 0;  // log2 of the slots
#define SLOT_BITS slot_bits
#endif

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, struct cnm_conn);
} conns SEC(".maps");

#ifdef CNM_LEGACY
static __always_inline void map_used_add(__s64 delta) {}
static __always_inline bool map_maybe_used(void) { return true; }

// Closed connections: a perf event array (the BPF ring buffer is Linux 5.8, commit 457f44363a88,
// "bpf: Implement BPF ring buffer and verifier support for it"), one buffer per CPU, sized by the
// daemon. A full one refuses the record, counted as with the ring buffer.
struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} closed SEC(".maps");

static __always_inline long emit_closed(void* ctx, struct cnm_conn* c) {
  return bpf_perf_event_output(ctx, &closed, BPF_F_CURRENT_CPU, c, sizeof(*c));
}
#else
// Entries in `conns`, so that a socket not in its slot is looked up there only when the map
// holds any (a lookup is a function call). Written only with atomic adds.
__u64 map_used = 0;
static __always_inline void map_used_add(__s64 delta) { __sync_fetch_and_add(&map_used, delta); }
static __always_inline bool map_maybe_used(void) { return map_used != 0; }

// Closed connections, sized by the daemon (max_closed_connections_buffered).
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 22);
} closed SEC(".maps");

// No wakeup per record: the daemon drains the ring on a timer, in batches.
static __always_inline long emit_closed(void* ctx, struct cnm_conn* c) {
  return bpf_ringbuf_output(&closed, c, sizeof(*c), BPF_RB_NO_WAKEUP);
}
#endif

// Per-CPU memory comes in two sets, one per kind of run (enum cnm_run_kind). Attached programs
// (the state and per-call hooks) share one: a program is never re-entered on the same CPU (the
// kernel skips, and counts, a nested run of a running program), and none of them is interrupted
// by another that uses it. The programs the daemon runs from a system call get the other: the
// snapshot iterator runs with only migration disabled (bpf_iter_run_prog), refresh_open under
// BPF_PROG_TEST_RUN with interrupts on, so a state change in softirq, or another task, can run on
// the same CPU between their writes to the memory and their reads of it (or in the middle of a
// counter's increment).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, CNM_CNT_MAX* CNM_RUN_KINDS);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

// Scratch space: struct cnm_conn is too large for the 512-byte stack with everything else.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, CNM_RUN_KINDS);
  __type(key, __u32);
  __type(value, struct cnm_conn);
} scratch SEC(".maps");

// Bulk reads. A probe read costs far more than the bytes it copies (on the CI machine the
// probe reads were nearly all of the probe's cost per new connection), so a program copies a
// struct's region holding every field it needs in one read and picks the fields from the copy
// at the running kernel's offsets (CO-RE). A layout that spreads them wider than the buffer
// falls back to a read per field.
#define BULK_MAX 2048
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, CNM_RUN_KINDS);
  __type(key, __u32);
  __type(value, __u8[BULK_MAX]);
} bulk SEC(".maps");

#define FOFF(s, f) ((__u32)bpf_core_field_offset(s, f))
#define FEND(s, f) (FOFF(s, f) + (__u32)bpf_core_field_size(s, f))
#define MIN2(a, b) ((a) < (b) ? (a) : (b))
#define MAX2(a, b) ((a) > (b) ? (a) : (b))
#define PICK(T, buf, lo, s, f) (*(const T*)bulk_at(buf, lo, FOFF(s, f), sizeof(T)))
// CO-RE relocates against the kernel's struct names (a local typedef would not match).
#define SC struct sock_common
#define TS struct tcp_sock

// A field of a kernel object: a plain load in a tp_btf program (the verifier knows the type and
// guards the load), a probe read in a raw_tp one. `direct` is a constant in every caller, so
// each program keeps only its own way.
#define RD(direct, p, f) ((direct) ? (p)->f : BPF_CORE_READ(p, f))

// Copies [lo, hi) of the object at p into the CPU's buffer; NULL when it does not fit.
static __always_inline const __u8* bulk_read(const void* p, __u32 lo, __u32 hi,
                                             enum cnm_run_kind who) {
  __u32 key = who;
  __u8* buf = bpf_map_lookup_elem(&bulk, &key);
  const __u32 len = hi - lo;
  if (!buf || len == 0 || len > BULK_MAX) return 0;
  if (bpf_probe_read_kernel(buf, len, (const __u8*)p + lo) != 0) return 0;
  return buf;
}

// Where the field at offset off (sz bytes) is in the copy of [lo, hi) at buf. The bound is never
// exceeded ([lo, hi) was computed from these very fields); it is there for the verifier: clang
// computes buf - lo once as buf + (-lo), and the 5.10 verifier forgets the range of a negated
// register (seen on Debian 11's 5.10.0-46: "math between map_value pointer and register with
// unbounded min value is not allowed"; 6.1 keeps it), so without a bound no field is readable.
static __always_inline const __u8* bulk_at(const __u8* buf, __u32 lo, __u32 off, __u32 sz) {
  __u32 rel = off - lo;
  if (rel > BULK_MAX - sz) rel = 0;
  return buf + rel;
}

static __always_inline void count_in(__u32 which, enum cnm_run_kind who) {
  __u32 key = which + CNM_CNT_MAX * (__u32)who;
  __u64* v = bpf_map_lookup_elem(&counters, &key);
  if (v) *v += 1;
}

static __always_inline void count(__u32 which) { count_in(which, CNM_RUN_HOOK); }

// A kernel object's address as a number. In a tp_btf program a socket pointer is typed, and
// the verifier allows no arithmetic on it (the slot hash multiplies it); read back from map
// memory it is a plain number.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} addr_scratch SEC(".maps");

static __always_inline __u64 addr_of(const void* p, bool direct) {
  if (!direct) return (__u64)p;  // a raw argument is a number already
  __u32 zero = 0;
  volatile __u64* a = bpf_map_lookup_elem(&addr_scratch, &zero);
  if (!a) return 0;
  *a = (__u64)p;
  return *a;
}

// The slot a socket may hold (multiplicative hashing: its top bits), or NULL without slots.
static __always_inline struct cnm_conn* slot_of(__u64 sk) {
#ifdef CNM_LEGACY
  return 0;
#else
  if (slot_bits == 0) return 0;
  __u32 i = (__u32)((sk * 0x9E3779B97F4A7C15ULL) >> (64 - slot_bits));
  return bpf_map_lookup_elem(&slots, &i);
#endif
}

// The entry keyed by a socket's address, in its slot or in the map, live or dead: refresh_open
// leaves the entry of a close it recovered (see there) with start_ns 0 and its sk, dead until a
// new socket at that address takes it over (track).
static __always_inline struct cnm_conn* find_entry(__u64 sk) {
  struct cnm_conn* s = slot_of(sk);
  if (s && sk != 0 && s->sk == sk) return s;
  if (SLOT_BITS != 0 && !map_maybe_used()) return 0;
  return bpf_map_lookup_elem(&conns, &sk);
}

// A socket's live entry. Transitions of one socket are serialized by its lock, so an entry found
// here is that socket's until its own close releases it (or refresh_open recovers its close).
static __always_inline struct cnm_conn* find(__u64 sk) {
  struct cnm_conn* c = find_entry(sk);
  return c && c->start_ns != 0 ? c : 0;
}

// The slot code uses BPF atomics of Linux 5.12 (compare-and-swap, exchange), which an older
// kernel refuses anywhere in a program, even where slot_bits 0 makes it dead: it checks every
// instruction before it follows any branch. So the programs that take and free slots come in
// two builds from one source, `slots` a constant in each, and the daemon loads one set.

// Fills the slot s from c, start_ns last: the daemon reads the slots while they change and
// skips an entry whose start_ns is 0 (being filled or freed). Exchanges are fully ordered.
// `taken` when s was free: its release cleared start_ns (a full barrier) before it freed sk, so
// start_ns is 0 already and one locked instruction fewer publishes it.
static __always_inline void fill_slot(struct cnm_conn* s, struct cnm_conn* c, bool taken) {
  const __u64 start = c->start_ns;
  if (!taken) __sync_lock_test_and_set(&s->start_ns, 0);
  c->start_ns = 0;
  c->flags |= CNM_FLAG_IN_SLOT;
  __builtin_memcpy(s, c, sizeof(*s));
  __sync_lock_test_and_set(&s->start_ns, start);
}

// Takes the socket's slot if it is free (sk 0) and fills it from c.
static __always_inline bool claim_slot(struct cnm_conn* c) {
  struct cnm_conn* s = slot_of(c->sk);
  if (!s || c->sk == 0 || __sync_val_compare_and_swap(&s->sk, 0, c->sk) != 0) return false;
  fill_slot(s, c, true);
  return true;
}

// Frees a closed connection's entry: its slot (start_ns cleared first), or its map entry.
static __always_inline void release(struct cnm_conn* c, __u64 sk, bool slots) {
  if (slots && (c->flags & CNM_FLAG_IN_SLOT)) {
    __sync_lock_test_and_set(&c->start_ns, 0);
    c->sk = 0;
    return;
  }
  if (bpf_map_delete_elem(&conns, &sk) == 0) map_used_add(-1);
}

// Fills pid, comm and cgroup from the current task. Called only on transitions made by the
// process that owns the socket (connect, close, shutdown, its sends and receives): in softirq,
// where handshakes and resets of accepted sockets are processed, the current task is whichever
// process the packet interrupted (over loopback, the connecting client).
static __always_inline void set_task(struct cnm_conn* c, bool direct) {
  // bpf_get_current_task_btf came in Linux 5.11 (commit 3ca1032ab7ab, "bpf: Implement
  // get_current_task_btf and RET_PTR_TO_BTF_ID"); 5.10 refuses a program that calls it ("invalid
  // func unknown#158"). Asked of the kernel's BTF (CO-RE): where it is missing the constant is 0,
  // the verifier never visits the call, and the three helpers below do the same job.
  if (direct && bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)) {
    // One helper call for the task, then plain loads: what bpf_get_current_comm and
    // bpf_get_current_cgroup_id read (task_dfl_cgroup(current)->kn->id), without two more calls.
    const struct task_struct* t = bpf_get_current_task_btf();
    const __u32 pid = t->tgid;
    if (pid == 0) return;
    c->pid = pid;
    __builtin_memcpy(c->comm, t->comm, sizeof(c->comm));
    c->cgroup_id = t->cgroups->dfl_cgrp->kn->id;
    return;
  }
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 pid = pid_tgid >> 32;
  if (pid == 0) return;
  c->pid = pid;
  bpf_get_current_comm(c->comm, sizeof(c->comm));
  // bpf_get_current_cgroup_id: Linux 4.18 (commit bf6fa2c893c5, "bpf: implement
  // bpf_get_current_cgroup_id() helper"). Without it a process gone before its connection is
  // read has no container id (a live one's comes from /proc).
  if (KERNEL_HAS_HELPER(BPF_FUNC_get_current_cgroup_id)) c->cgroup_id = bpf_get_current_cgroup_id();
}

// sk_protocol was a bitfield before Linux 5.6: read it the way that works for both. IPPROTO_TCP
// alone decides (a TCP socket is a stream socket).
static __always_inline bool is_tcp(const struct sock* sk, bool direct) {
  if (direct) return BPF_CORE_READ_BITFIELD(sk, sk_protocol) == IPPROTO_TCP;
  return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) == IPPROTO_TCP;
}

// Sets the tuple from the family, addresses and ports in hand; false for untracked families.
static __always_inline bool set_tuple(struct cnm_conn* c, __u16 family, const void* saddr4,
                                      const void* daddr4, const void* saddr6, const void* daddr6,
                                      __u16 sport, __u16 dport_be) {
  if (family == AF_INET) {
    c->family = 4;
    __builtin_memcpy(c->saddr, saddr4, 4);
    __builtin_memcpy(c->daddr, daddr4, 4);
  } else if (family == AF_INET6 && !ipv6_disabled()) {
    c->family = 6;
    __builtin_memcpy(c->saddr, saddr6, 16);
    __builtin_memcpy(c->daddr, daddr6, 16);
  } else {
    return false;
  }
  c->sport = sport;
  c->dport = bpf_ntohs(dport_be);
  return true;
}

// tp_btf: the tuple and netns with plain loads.
static __always_inline bool fill_tuple_direct(struct cnm_conn* c, const struct sock* sk) {
  const struct sock_common* skc = &sk->__sk_common;
  if (!set_tuple(c, skc->skc_family, &skc->skc_rcv_saddr, &skc->skc_daddr, &skc->skc_v6_rcv_saddr,
                 &skc->skc_v6_daddr, skc->skc_num, skc->skc_dport))
    return false;
  c->netns = skc->skc_net.net->ns.inum;
  return true;
}

// tcp_set_state() releases the local port (skc_num = 0) before the CLOSE tracepoint fires, so a
// socket that closes before ESTABLISHED (a refused or timed-out connect) has lost it there;
// inet_sock keeps the port it was bound to (inet_sport) until the socket is reused.
static __always_inline void sport_from_inet_sock(struct cnm_conn* c, const struct sock* sk,
                                                 bool direct) {
  if (c->sport) return;
  if (direct) {
    const struct tcp_sock* tp = bpf_skc_to_tcp_sock((void*)sk);
    if (tp) c->sport = bpf_ntohs(tp->inet_conn.icsk_inet.inet_sport);
  } else {
    c->sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock*)sk, inet_sport));
  }
}

// Reads the tuple and netns; false for families we do not track (or an unreadable socket). The
// local port is skc_num's: 0 at SYN_SENT for an unbound socket (fill_after_syn_sent reads it
// later).
// raw_tp: one bulk read of the front of sock_common (addresses, ports, family, netns pointer),
// one for the netns inode. sock_common is ~136 bytes on every kernel, so the region always fits.
// The bulk buffer is the hooks' (the snapshot iterator, the daemon's other reader, passes
// direct).
static __always_inline bool fill_tuple(struct cnm_conn* c, const struct sock* sk, bool direct) {
  if (direct) return fill_tuple_direct(c, sk);
  const struct sock_common* skc = &sk->__sk_common;
  __u32 lo = ~0U, hi = 0;
#define SKC_SPAN(f) (lo = MIN2(lo, FOFF(SC, f)), hi = MAX2(hi, FEND(SC, f)))
  SKC_SPAN(skc_daddr);
  SKC_SPAN(skc_rcv_saddr);
  SKC_SPAN(skc_dport);
  SKC_SPAN(skc_num);
  SKC_SPAN(skc_family);
  SKC_SPAN(skc_net);
  SKC_SPAN(skc_v6_daddr);
  SKC_SPAN(skc_v6_rcv_saddr);
#undef SKC_SPAN
  lo &= ~7U;
  const __u8* b = bulk_read(skc, lo, hi, CNM_RUN_HOOK);
  if (!b) return false;
#define AT(f) bulk_at(b, lo, FOFF(SC, f), sizeof(((SC*)0)->f))
  if (!set_tuple(c, PICK(__u16, b, lo, SC, skc_family), AT(skc_rcv_saddr), AT(skc_daddr),
                 AT(skc_v6_rcv_saddr), AT(skc_v6_daddr), PICK(__u16, b, lo, SC, skc_num),
                 PICK(__u16, b, lo, SC, skc_dport)))
    return false;
#undef AT
  const struct net* net = PICK(struct net*, b, lo, SC, skc_net);
  c->netns = BPF_CORE_READ(net, ns.inum);
  return true;
}

// What connect() sets after the SYN_SENT transition, read at ESTABLISHED or at a CLOSE before it:
// an unbound socket's local port (inet_hash_connect assigns it after tcp_set_state(SYN_SENT) in
// tcp_v4_connect and tcp_v6_connect, 3.10 to 6.x) and a dual-stack socket's v4-mapped source:
// before Linux 4.1 (so only under the kprobe rung) tcp_v6_connect set it once tcp_v4_connect
// had returned; since then sk_rcv_saddr_set writes it with the v4 source, before SYN_SENT, so on
// the kernels the tests boot this read changes nothing. The peer, the family, any other source and
// the netns were read at SYN_SENT and cannot change since, so they are not read again: on raw_tp
// that saves a bulk read and the netns's probe read per connection.
static __always_inline void fill_after_syn_sent(struct cnm_conn* c, const struct sock* sk,
                                                bool direct) {
  const struct sock_common* skc = &sk->__sk_common;
  c->sport = RD(direct, skc, skc_num);
  if (c->family != 6) return;
  if (direct)
    __builtin_memcpy(c->saddr, &skc->skc_v6_rcv_saddr, 16);
  else
    BPF_CORE_READ_INTO(&c->saddr, skc, skc_v6_rcv_saddr);
}

// The tcp_sock counters the probe reports, listed once: the struct, the bulk region and the
// reads all come from this list. The region fits the buffer on the kernels seen (668 bytes on
// 6.18); a layout that spreads them wider is read one field at a time.
// clang-format off
#define TCP_FIELDS(X)                                                                 \
  X(__u64, bytes_acked) X(__u64, bytes_received) X(__u32, segs_out) X(__u32, segs_in) \
  X(__u32, total_retrans) X(__u32, srtt_us) X(__u32, mdev_us) X(__u32, write_seq)     \
  X(__u32, snd_una)
// clang-format on

struct tcp_fields {
#define DECLARE(T, f) T f;
  TCP_FIELDS(DECLARE)
#undef DECLARE
};

// False when the socket is not a full TCP socket (never for the sockets traced here).
static __always_inline bool read_tcp_fields(const struct sock* sk, struct tcp_fields* t,
                                            bool direct, enum cnm_run_kind who) {
  if (direct) {
    // bpf_skc_to_tcp_sock hands back the socket typed as tcp_sock: plain loads again.
    const struct tcp_sock* tp = bpf_skc_to_tcp_sock((void*)sk);
    if (!tp) return false;
#define GET(T, f) t->f = tp->f;
    TCP_FIELDS(GET)
#undef GET
    return true;
  }
  const struct tcp_sock* tp = (const struct tcp_sock*)sk;
  __u32 lo = ~0U, hi = 0;
#define SPAN(T, f) lo = MIN2(lo, FOFF(TS, f)), hi = MAX2(hi, FEND(TS, f));
  TCP_FIELDS(SPAN)
#undef SPAN
  lo &= ~7U;
  const __u8* b = bulk_read(tp, lo, hi, who);
#define GET(T, f) t->f = b ? PICK(T, b, lo, TS, f) : BPF_CORE_READ(tp, f);
  TCP_FIELDS(GET)
#undef GET
  return true;
}

// Where the handshake leaves the byte counters, known without reading the socket: tcp_ack()
// counts the SYN in bytes_acked on the connecting side (1), an accepted socket starts past its
// SYN-ACK (tcp_create_openreq_child sets snd_una = isn + 1: 0), and neither SYN is counted in
// bytes_received (data in a Fast Open SYN is). Constants rather than a read at ESTABLISHED: a
// run the kernel skips (one nesting in a running one) cannot leave a connection without them.
static __always_inline void set_byte_bases(struct cnm_conn* c, __u8 direction) {
  c->acked_base = direction == CNM_DIR_OUTGOING ? 1 : 0;
  c->received_base = 0;
}

// tcp_fin() sets SOCK_DONE when a FIN arrives (nothing else does before the socket closes).
static __always_inline bool fin_received(const struct sock* sk, bool direct) {
  const unsigned long flags = RD(direct, sk, __sk_common.skc_flags);
  return flags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE));
}

// Whether a socket in this state has queued its FIN: tcp_close_state() moves it to FIN_WAIT1 or
// LAST_ACK right before tcp_send_fin(), and the states that follow those (FIN_WAIT2, CLOSING,
// TIME_WAIT) are reached only through them. At close this is the state the socket leaves, so
// no transition before the close has to mark the entry (a write to a line that the close, often
// on another CPU, must then fetch back).
static __always_inline bool fin_queued_in(int state) {
  return state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 || state == TCP_TIME_WAIT ||
         state == TCP_LAST_ACK || state == TCP_CLOSING;
}

// The kernel's own counters. Without the per-call hooks, bytes are derived from them exactly:
//   sent     = data acknowledged since the handshake + data still queued (write_seq - snd_una)
//              - 1 once a FIN was queued (a FIN takes a sequence number, acked or queued);
//   received = data received in order since the handshake - 1 once a FIN arrived.
// The 32-bit difference is bounded by the send queue; the totals are the kernel's 64-bit ones.
static __always_inline void apply_tcp_counters(struct cnm_conn* c, const struct tcp_fields* t,
                                               bool fin_out, bool fin_in) {
  c->packets_sent = t->segs_out;
  c->packets_received = t->segs_in;
  c->retransmits = t->total_retrans;
  c->rtt_us = t->srtt_us >> 3;
  c->rttvar_us = t->mdev_us >> 2;
  // A connection that never completed its handshake moved no data (its SYN is not data). Its
  // ESTABLISHED run may have been skipped: an acknowledged SYN says the handshake completed.
  if (APP_BYTES_HOOKS || (!(c->flags & CNM_FLAG_HANDSHAKEN) && t->bytes_acked == 0)) return;
  const __u32 queued = t->write_seq - t->snd_una;
  __u64 sent = t->bytes_acked - c->acked_base + queued;
  if (fin_out && sent > 0) sent -= 1;
  __u64 received = t->bytes_received - c->received_base;
  if (received > 0 && fin_in) received -= 1;
  c->bytes_sent = sent;
  c->bytes_received = received;
}

static __always_inline void read_tcp_counters(struct cnm_conn* c, const struct sock* sk,
                                              bool direct) {
  struct tcp_fields t;
  if (!read_tcp_fields(sk, &t, direct, CNM_RUN_HOOK)) return;
  apply_tcp_counters(c, &t, c->flags & CNM_FLAG_FIN_SENT, fin_received(sk, direct));
}

// Takes over the entry `old` of an earlier socket at c's address for c. Its close was lost (the
// kernel skips a run that would nest in a running one), so it is counted closed and stale, unless
// refresh_open recovered that close first: then the entry is dead (start_ns 0) and was counted
// closed there. The two race for a live entry by compare-and-swap of its start_ns, in the slots
// build; the other build (no BPF compare-and-swap) runs beside refresh_open only when the daemon
// tracks fewer than 128 connections (no slots), where a recovery at the very moment of the reuse
// counts that close twice.
static __always_inline bool replace_stale(struct cnm_conn* old, struct cnm_conn* c, bool slots) {
  const __u64 seen = old->start_ns;
  bool lost_here = seen != 0;
  if (slots && lost_here) lost_here = __sync_val_compare_and_swap(&old->start_ns, seen, 0) == seen;
  if (slots && (old->flags & CNM_FLAG_IN_SLOT)) {
    fill_slot(old, c, true);  // start_ns is 0 now: published like a new slot entry
  } else {
    __u64 key = c->sk;
    if (bpf_map_update_elem(&conns, &key, c, BPF_EXIST) != 0) return false;
  }
  if (lost_here) {
    count(CNM_CNT_STALE_REPLACED);
    count(CNM_CNT_CLOSED);
  }
  count(CNM_CNT_OPENED);
  return true;
}

// Puts a new entry in its slot or the map; false when it was there already or both are full,
// which is counted. A socket that is opening (a hook's run) cannot have an entry of its own
// yet: one there is of an earlier socket at the same address (replace_stale), never merged into
// the new connection. The snapshot (the daemon's run) keeps a live entry that is there (the
// tracepoint saw the socket first).
static __always_inline bool track(struct cnm_conn* c, enum cnm_run_kind who, bool slots) {
  __u64 key = c->sk;
  struct cnm_conn* old = find_entry(key);
  if (!old) {
    if (slots && claim_slot(c)) {
      count_in(CNM_CNT_OPENED, who);
      return true;
    }
    if (bpf_map_update_elem(&conns, &key, c, BPF_NOEXIST) == 0) {
      map_used_add(1);
      count_in(CNM_CNT_OPENED, who);
      return true;
    }
    count_in(CNM_CNT_CONN_MAP_FULL, who);
    return false;
  }
  // Simultaneous open (and connect to itself): a connecting socket goes SYN_SENT -> SYN_RECV
  // -> ESTABLISHED, so "accepted" here is the entry's own handshake completing, not a new
  // connection; its SYN is acknowledged (base 1, kept).
  if (c->direction == CNM_DIR_INCOMING && old->direction == CNM_DIR_OUTGOING &&
      !(old->flags & CNM_FLAG_HANDSHAKEN) && old->start_ns != 0) {
    __builtin_memcpy(old->saddr, c->saddr, sizeof old->saddr);  // the final tuple, as read now
    __builtin_memcpy(old->daddr, c->daddr, sizeof old->daddr);
    old->sport = c->sport;
    old->dport = c->dport;
    old->netns = c->netns;
    old->flags |= CNM_FLAG_HANDSHAKEN;
    return false;
  }
  if (who != CNM_RUN_HOOK) return false;
  return replace_stale(old, c, slots);
}

// An outgoing socket is recorded at SYN_SENT, in the connecting process (pid, comm, cgroup),
// with its peer and netns (tcp_v4_connect and tcp_v6_connect set them, and the source address,
// before this transition) but its source port only if it was bound: an unbound socket gets one
// after the transition, so the port (and an AF_INET6 socket's source) is read again at
// ESTABLISHED, or at close if it never got there (fill_after_syn_sent). The peer is known from here
// on because a close no program saw is recovered from the entry long after the socket may have been
// freed and reused (recover_close). An incoming one is recorded at ESTABLISHED with its final
// tuple, in softirq: its process is learnt later, when that process closes or shuts it down (or at
// its first send or receive with the per-call hooks).
static __always_inline void on_open(const struct sock* sk, __u8 direction, bool direct,
                                    bool slots) {
  __u32 mem = CNM_RUN_HOOK;
  struct cnm_conn* c = bpf_map_lookup_elem(&scratch, &mem);
  if (!c) return;
  __builtin_memset(c, 0, sizeof(*c));
  if (!fill_tuple(c, sk, direct)) return;
  if (direction == CNM_DIR_INCOMING)
    c->flags |= CNM_FLAG_HANDSHAKEN;
  else
    set_task(c, direct);
  set_byte_bases(c, direction);
  c->direction = direction;
  c->sk = (__u64)sk;
  c->start_ns = bpf_ktime_get_ns();
  track(c, CNM_RUN_HOOK, slots);
}

// CLOSE comes in process context (close() with unread data, SO_LINGER 0, and packets the
// socket's owner processes from its backlog) or in softirq (the last ACK, a reset). The owner
// holds the socket lock (sk_lock.owned) exactly in the first case, and softirq never runs on an
// owned socket (it queues to the backlog instead), so the task is taken only then; an accepted
// socket reset by its peer while its process was not in a socket call keeps pid 0 (unknown).
// The record is completed in the entry itself: its release writes the entry anyway, and writing
// its lines early starts taking them from the CPU that last wrote them (measured: building the
// record in a per-CPU copy instead left the release's locked exchange waiting for that line).
static __always_inline void on_close(void* ctx, const struct sock* sk, struct cnm_conn* c,
                                     int oldstate, bool direct, bool slots) {
  const __u64 key = c->sk;
  if (c->pid == 0 && RD(direct, sk, sk_lock.owned)) set_task(c, direct);
  // Closed before ESTABLISHED: what connect() set after SYN_SENT, the port from inet_sock, which
  // keeps it once skc_num is released.
  if (!(c->flags & CNM_FLAG_HANDSHAKEN)) {
    fill_after_syn_sent(c, sk, direct);
    sport_from_inet_sock(c, sk, direct);
  }
  if (fin_queued_in(oldstate)) c->flags |= CNM_FLAG_FIN_SENT;
  read_tcp_counters(c, sk, direct);
  // tcp_reset() and tcp_write_err() set sk_err right before tcp_done() moves the socket here
  // (ECONNREFUSED in SYN_SENT, ECONNRESET/EPIPE later, ETIMEDOUT); a close by the process
  // leaves it 0. The daemon names the failure.
  c->sk_err = (__u32)RD(direct, sk, sk_err);
  c->closed = 1;
  c->end_ns = bpf_ktime_get_ns();
  count(CNM_CNT_CLOSED);
  if (emit_closed(ctx, c) != 0) count(CNM_CNT_RINGBUF_FULL);
  release(c, key, slots);
}

// Every connection passes here about ten times, so states are compared before anything is read:
// only the two opening transitions look at the socket, every later one is of a socket already
// tracked (find says so) or of no interest.
static __always_inline int on_state(void* ctx, const struct sock* sk, int oldstate, int newstate,
                                    bool direct, bool slots) {
  if (newstate == TCP_SYN_SENT && oldstate == TCP_CLOSE) {
    if (is_tcp(sk, direct)) on_open(sk, CNM_DIR_OUTGOING, direct, slots);
    return 0;
  }
  if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV) {
    if (is_tcp(sk, direct)) on_open(sk, CNM_DIR_INCOMING, direct, slots);
    return 0;
  }
  if (newstate != TCP_ESTABLISHED && newstate != TCP_FIN_WAIT1 && newstate != TCP_LAST_ACK &&
      newstate != TCP_CLOSE)
    return 0;
  struct cnm_conn* c = find(addr_of(sk, direct));
  if (!c) return 0;
  if (newstate == TCP_ESTABLISHED) {
    // From SYN_SENT: the tuple is final now.
    fill_after_syn_sent(c, sk, direct);
    c->flags |= CNM_FLAG_HANDSHAKEN;
  } else if (newstate == TCP_CLOSE) {
    on_close(ctx, sk, c, oldstate, direct, slots);
  } else if (c->pid == 0) {
    // FIN_WAIT1 or LAST_ACK: only close() or shutdown() by the process that holds the socket
    // enters these (tcp_close_state), so an accepted socket gets its pid here if it has none
    // yet. That its FIN was queued is known at close from the state it leaves (fin_queued_in):
    // an entry that has its pid is only read here.
    set_task(c, direct);
  }
  return 0;
}

// A retransmission of a tracked connection, counted as it happens (the count at close is the
// kernel's own, total_retrans).
static __always_inline int on_retransmit(const struct sock* sk) {
  struct cnm_conn* c = find((__u64)sk);
  if (c) __sync_fetch_and_add(&c->retransmits, 1);
  return 0;
}

#ifdef CNM_LEGACY
// The legacy object's programs: the same state machine, every read a probe read.

// inet_sock_set_state as a raw tracepoint (Linux 4.17, commit c4f6699dfcb8, "bpf: introduce
// BPF_RAW_TRACEPOINT"; the tracepoint itself is 4.16), for kernels without the ring buffer.
SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(perf_set_state, const struct sock* sk, int oldstate, int newstate) {
  return on_state(ctx, sk, oldstate, newstate, false, false);
}

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(perf_retransmit, const struct sock* sk) { return on_retransmit(sk); }

// A kprobe on the function that fires inet_sock_set_state (tcp_set_state(), which every TCP
// state change the probe follows goes through, on every kernel since long before the tracepoint
// moved there in 4.16): at its entry the socket still holds the old state, as the tracepoint
// reports it. The daemon attaches it to the kernel function it finds (probe/ladder.cpp).
SEC("kprobe/tcp_set_state")
int BPF_KPROBE(kprobe_set_state, struct sock* sk, int state) {
  const int old = BPF_CORE_READ(sk, __sk_common.skc_state);
  return on_state(ctx, sk, old, state, false, false);
}

SEC("kprobe/tcp_retransmit_skb")
int BPF_KPROBE(kprobe_retransmit, struct sock* sk) { return on_retransmit(sk); }
#else
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state_btf, const struct sock* sk, int oldstate, int newstate) {
  return on_state(ctx, sk, oldstate, newstate, true, false);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state_btf_slots, const struct sock* sk, int oldstate, int newstate) {
  return on_state(ctx, sk, oldstate, newstate, true, true);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state, const struct sock* sk, int oldstate, int newstate) {
  return on_state(ctx, sk, oldstate, newstate, false, false);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state_slots, const struct sock* sk, int oldstate, int newstate) {
  return on_state(ctx, sk, oldstate, newstate, false, true);
}

// snapshot: connections already open when the daemon started, read once by a TCP socket
// iterator (Linux 5.9+, loaded with the tp_btf programs) right after the tracepoints are
// attached. The kernel (5.15+) runs this with the socket locked and skips unhashed ones, so a
// socket cannot close between this run and its entry: its CLOSE finds the entry. Who opened it is
// unknown (direction local); counters start at this moment (the bases include what was already
// sent, queued and received, and a FIN already received); pid comes with its close or shutdown.
static __always_inline int take_snapshot(struct bpf_iter__tcp* ctx, bool slots) {
  const struct sock_common* skc = ctx->sk_common;
  if (!skc) return 0;
  const int state = skc->skc_state;
  if (state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT) return 0;
  const struct tcp_sock* tp = bpf_skc_to_tcp_sock((void*)skc);
  if (!tp) return 0;
  const struct sock* sk = (const struct sock*)tp;
  __u32 mem = CNM_RUN_DAEMON;
  struct cnm_conn* c = bpf_map_lookup_elem(&scratch, &mem);
  if (!c) return 0;
  __builtin_memset(c, 0, sizeof(*c));
  if (!fill_tuple(c, sk, true)) return 0;
  struct tcp_fields t;
  if (!read_tcp_fields(sk, &t, true, CNM_RUN_DAEMON)) return 0;
  c->acked_base = t.bytes_acked + (__u32)(t.write_seq - t.snd_una);
  c->received_base = t.bytes_received - (fin_received(sk, true) ? 1 : 0);
  c->flags = CNM_FLAG_HANDSHAKEN;
  c->direction = CNM_DIR_LOCAL;
  c->sk = (__u64)sk;
  c->start_ns = bpf_ktime_get_ns();
  if (track(c, CNM_RUN_DAEMON, slots)) count_in(CNM_CNT_SNAPSHOT, CNM_RUN_DAEMON);
  return 0;
}

SEC("iter/tcp")
int snapshot(struct bpf_iter__tcp* ctx) { return take_snapshot(ctx, false); }

SEC("iter/tcp")
int snapshot_slots(struct bpf_iter__tcp* ctx) { return take_snapshot(ctx, true); }

static __always_inline void on_io(struct sock* sk, int ret, int flags, bool sent) {
  if (ret <= 0) return;
  if (!sent && (flags & MSG_PEEK)) return;
  struct cnm_conn* c = find((__u64)sk);
  if (!c) return;
  if (c->pid == 0) set_task(c, false);
  if (sent)
    __sync_fetch_and_add(&c->bytes_sent, (__u64)ret);
  else
    __sync_fetch_and_add(&c->bytes_received, (__u64)ret);
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
int BPF_PROG(tcp_retransmit_skb, const struct sock* sk) { return on_retransmit(sk); }

// refresh_open: reads the tcp_sock counters of open connections into their entries, the slots'
// then the map's. Never attached: the daemon runs it with BPF_PROG_TEST_RUN before reading
// them, in chunks (ctx[0] entries to skip, ctx[1] to refresh) so no single run walks a full map
// with preemption off. Returns how many it refreshed; the daemon stops when that is below the
// chunk. An entry whose socket is closing meanwhile is read harmlessly (probe reads) and
// superseded by its closed record. A slot, or a map entry (the map reuses freed entries at
// once), can be freed and taken by another socket while its socket is read: the counters go in
// only if the entry still holds the same connection.
struct refresh_ctx {
  __u64 skip, budget, seen, done;
};

// How long an entry must have been open before a socket found closed is taken for a close the
// state program missed: the tracepoint fires before tcp_set_state() stores the new state, so a
// socket that has just entered SYN_SENT still reads CLOSE for a moment.
#define LOST_CLOSE_AFTER_NS 1000000000ULL

// Whether the socket at sk (an entry's, read while it may be freed and reused: the TCP slab is
// SLAB_TYPESAFE_BY_RCU) is still the connection in the record: same peer address and port, and
// same local port where the record knows it (an unbound socket closed before ESTABLISHED).
static __always_inline bool same_connection(const struct sock* s, const struct cnm_conn* rec) {
  const __u16 dport = bpf_ntohs(BPF_CORE_READ(s, __sk_common.skc_dport));
  const __u16 sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock*)s, inet_sport));
  if (dport != rec->dport || (rec->sport != 0 && sport != rec->sport)) return false;
  __u32 peer[4] = {};
  if (rec->family == 4)
    peer[0] = BPF_CORE_READ(s, __sk_common.skc_daddr);
  else
    BPF_CORE_READ_INTO(&peer, s, __sk_common.skc_v6_daddr);
  const __u32* want = (const __u32*)rec->daddr;
  return peer[0] == want[0] && peer[1] == want[1] && peer[2] == want[2] && peer[3] == want[3];
}

// A close the state program did not see (a run the kernel skipped, counted or not: see
// hook_runs_skipped in probe/README.md), found by refresh_open: the entry's socket reads CLOSE
// long after it opened. Its closed record is made from a copy of the entry, with the socket's
// final counters when the socket is still that connection (else those of the last refresh), and
// marked CNM_FLAG_CLOSE_RECOVERED: its end time is when it was found, and its failure only what
// sk_err still holds (a process that saw the error cleared it). The entry is claimed by a
// compare-and-swap of start_ns to 0, which fails if a new socket at the same address took it
// over meanwhile (replace_stale), and left dead: sk stays, since writing 0 there would free a
// slot that such a socket may be filling with the very same sk. Its next socket takes it over.
static __always_inline void recover_close(struct cnm_conn* c, const struct sock* s, __u64 start,
                                          const struct tcp_fields* t) {
  __u32 mem = CNM_RUN_DAEMON;
  struct cnm_conn* rec = bpf_map_lookup_elem(&scratch, &mem);
  if (!rec) return;
  __builtin_memcpy(rec, c, sizeof(*rec));
  if (rec->sk != (__u64)s || rec->start_ns != start) return;  // replaced while copied
  if (__sync_val_compare_and_swap(&c->start_ns, start, 0) != start) return;
  if (same_connection(s, rec)) {
    // Closed before ESTABLISHED: only the port can be missing (refresh_open needs 5.13, where
    // the source is set before SYN_SENT), and inet_sock keeps it.
    if (!(rec->flags & CNM_FLAG_HANDSHAKEN)) sport_from_inet_sock(rec, s, false);
    apply_tcp_counters(rec, t, false, fin_received(s, false));
    // Whether a FIN was queued is known from the state the socket left, which only the missed run
    // saw (tcp_done() sets every socket's sk_shutdown): bytes sent are the data the socket
    // transmitted instead (each byte once; a FIN carries none), Linux 4.19+ (commit ba113c3aa79a,
    // "tcp: add data bytes sent stats"), which refresh_open's 5.13 implies. Data still queued
    // when a reset ended the connection is not counted.
    if (!APP_BYTES_HOOKS && (rec->flags & CNM_FLAG_HANDSHAKEN) &&
        bpf_core_field_exists(struct tcp_sock, bytes_retrans)) {
      const struct tcp_sock* tp = (const struct tcp_sock*)s;
      rec->bytes_sent = BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans);
    }
    rec->sk_err = (__u32)BPF_CORE_READ(s, sk_err);
  }
  rec->flags &= ~CNM_FLAG_IN_SLOT;
  rec->flags |= CNM_FLAG_CLOSE_RECOVERED;
  rec->closed = 1;
  rec->end_ns = bpf_ktime_get_ns();
  count_in(CNM_CNT_CLOSED, CNM_RUN_DAEMON);
  count_in(CNM_CNT_CLOSE_RECOVERED, CNM_RUN_DAEMON);
  if (emit_closed(0, rec) != 0) count_in(CNM_CNT_RINGBUF_FULL, CNM_RUN_DAEMON);
}

static __always_inline long refresh_entry(struct cnm_conn* c, struct refresh_ctx* r) {
  const __u64 sk = c->sk, start = c->start_ns;
  if (sk == 0 || start == 0) return 0;  // a free slot, one being filled, or a dead entry
  if (r->seen++ < r->skip) return 0;
  if (r->done >= r->budget) return 1;  // stop
  struct tcp_fields t;
  const struct sock* s = (const struct sock*)sk;
  if (read_tcp_fields(s, &t, false, CNM_RUN_DAEMON)) {
    const int state = BPF_CORE_READ(s, __sk_common.skc_state);
    if (state == TCP_CLOSE && bpf_ktime_get_ns() - start > LOST_CLOSE_AFTER_NS) {
      recover_close(c, s, start, &t);
    } else {
      const bool fin_out = fin_queued_in(state);
      const bool fin_in = fin_received(s, false);
      if (c->sk == sk && c->start_ns == start) apply_tcp_counters(c, &t, fin_out, fin_in);
    }
  }
  r->done++;
  return 0;
}

static long refresh_slot(struct bpf_map* map, __u32* key, struct cnm_conn* c,
                         struct refresh_ctx* r) {
  return refresh_entry(c, r);
}

static long refresh_one(struct bpf_map* map, __u64* key, struct cnm_conn* c,
                        struct refresh_ctx* r) {
  return refresh_entry(c, r);
}

SEC("raw_tp")
int refresh_open(__u64* ctx) {
  struct refresh_ctx r = {.skip = ctx[0], .budget = ctx[1]};
  if (slot_bits != 0) bpf_for_each_map_elem(&slots, refresh_slot, &r, 0);
  bpf_for_each_map_elem(&conns, refresh_one, &r, 0);
  return (int)r.done;
}

#endif  // CNM_LEGACY

char LICENSE[] SEC("license") = "Dual BSD/GPL";
