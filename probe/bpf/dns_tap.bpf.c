// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// dns_tap: DNS monitoring's preferred source, two cgroup skb programs attached (with bpf_links)
// to the root of the cgroup v2 hierarchy, so they see every socket's IP packets in every
// network namespace, each at its socket: egress as it leaves (before fragmentation), ingress as
// it is delivered (after reassembly). No packet tap: the packet socket's (dns_filter) costs a
// clone of every packet the host transmits (dev_queue_xmit_nit) before its filter runs.
//
// Both programs ALWAYS return 1: a cgroup skb program's 0 drops the packet. They never change
// it either (no helper here writes to a packet).
//
// Only the datagrams dns_match.h keeps reach user space, with a cnm_dns_tap_meta before them,
// through a perf event array: bpf_perf_event_output with the skb as its context copies the
// packet's bytes (skb->len << 32 in the flags) straight from the skb, linear or paged, in the
// kernel (bpf_skb_event_output; cgroup skb programs have it since Linux 5.4, commit 7c4b90d79d0f
// "bpf: Allow bpf_skb_event_output for a few prog types"). A ring buffer (Linux 5.8) would take
// a reservation of the largest size for every datagram and a bpf_skb_load_bytes of a length the
// verifier can bound; cgroup links need 5.7 anyway, so the perf buffer is no extra requirement
// and serves 5.7 too. Records the buffer refuses are counted here (lost), read by the daemon
// at once: perf's own lost records reach it only with the next record that fits.
#include "dns_tap.h"
// Read the headers in place (dns_match.h, cnm_dns_bytes): a TCP packet costs no helper call.
#define CNM_DNS_DIRECT_READ
#include "dns_match.h"

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} dns_events SEC(".maps");

__u64 lost = 0;  // records bpf_perf_event_output refused (the CPU's buffer was full)

static __always_inline void tap(struct __sk_buff* skb, __u8 direction) {
  if (!cnm_is_dns_datagram(skb)) return;
  __u32 copy = skb->len;
  if (copy > CNM_DNS_TAP_MAX_BYTES) copy = CNM_DNS_TAP_MAX_BYTES;
  struct cnm_dns_tap_meta meta = {
      .ts_ns = bpf_ktime_get_ns(), .len = skb->len, .direction = direction};
  if (bpf_perf_event_output(skb, &dns_events, BPF_F_CURRENT_CPU | ((__u64)copy << 32), &meta,
                            sizeof meta))
    __sync_fetch_and_add(&lost, 1);
}

SEC("cgroup_skb/egress")
int dns_tap_egress(struct __sk_buff* skb) {
  tap(skb, CNM_DNS_TAP_EGRESS);
  return 1;  // never drop
}

// A datagram between two local sockets is seen twice: at the sender's egress and at the
// receiver's ingress. Every packet that arrives on loopback (ifindex 1 in every network
// namespace) was sent by a socket of that namespace, so its sender's egress program already
// saw it: ingress skips loopback, which makes loopback exact. Over any other interface the
// sender may be remote (kept) or local in another namespace (a container's query to a
// resolver on the host over a veth: then both copies come; probe/README.md says what that
// counts).
SEC("cgroup_skb/ingress")
int dns_tap_ingress(struct __sk_buff* skb) {
  if (skb->ifindex != CNM_LOOPBACK_IFINDEX) tap(skb, CNM_DNS_TAP_INGRESS);
  return 1;  // never drop
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
