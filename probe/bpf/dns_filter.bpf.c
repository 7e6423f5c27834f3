// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// dns_filter: a socket filter for the daemon's packet socket (AF_PACKET, SOCK_DGRAM, so a
// packet starts at its IP header in both directions), DNS monitoring's fallback source. It
// keeps only UDP datagrams to or from a DNS port (dns_match.h) and drops everything else in the
// kernel, before the packet is queued to the socket. Only UAPI types: with vmlinux.h's
// preserve_access_index every access to the context became a CO-RE relocation, for which
// libbpf read and parsed the kernel's whole BTF (~10 ms) to load 60 instructions, in the daemon
// and in the preflight's dry run.
#include "dns_match.h"

#define PACKET_OUTGOING 4

SEC("socket")
int dns_filter(struct __sk_buff* skb) {
  // Loopback shows each packet twice, as it leaves and as it arrives: keep the arrival (half
  // the socket's buffer, and a drop is one datagram lost, not one of its copies).
  if (skb->pkt_type == PACKET_OUTGOING && skb->ifindex == CNM_LOOPBACK_IFINDEX) return 0;
  if (!cnm_is_dns_datagram(skb)) return 0;
  return skb->len;  // the whole datagram
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
