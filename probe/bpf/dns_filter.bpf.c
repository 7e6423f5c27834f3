// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// dns_filter: a socket filter for the daemon's packet socket (AF_PACKET, SOCK_DGRAM, so a
// packet starts at its IP header in both directions). It keeps only UDP datagrams to or from
// a DNS port (IPv4 unfragmented or a first fragment-free datagram, IPv6 without extension
// headers) and drops everything else in the kernel, before the packet is queued to the socket.
// Only UAPI types: the socket filter's context (struct __sk_buff) is rewritten by the verifier,
// not relocated, and with vmlinux.h's preserve_access_index every access to it became a CO-RE
// relocation, for which libbpf read and parsed the kernel's whole BTF (~10 ms) to load 60
// instructions, in the daemon and in the preflight's dry run.
#include <linux/bpf.h>
#include <linux/types.h>
#include <stdbool.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "dns_filter.h"

// Set by the daemon before load (network_config.dns_ports); 0 ends the list.
const volatile __u16 dns_ports[CNM_DNS_MAX_PORTS] = {53};

static __always_inline bool is_dns_port(__u16 port) {
  for (int i = 0; i < CNM_DNS_MAX_PORTS; i++) {
    if (dns_ports[i] == 0) return false;
    if (dns_ports[i] == port) return true;
  }
  return false;
}

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

#define LOOPBACK_IFINDEX 1  // the kernel's, in every network namespace
#define PACKET_OUTGOING 4

SEC("socket")
int dns_filter(struct __sk_buff* skb) {
  // Loopback shows each packet twice, as it leaves and as it arrives: keep the arrival (half
  // the socket's buffer, and a drop is one datagram lost, not one of its copies).
  if (skb->pkt_type == PACKET_OUTGOING && skb->ifindex == LOOPBACK_IFINDEX) return 0;
  __u8 first = 0;
  if (bpf_skb_load_bytes(skb, 0, &first, 1)) return 0;
  __u32 l4 = 0;
  __u8 proto = 0;
  // The link layer's protocol decides what the bytes are: a frame of another protocol whose
  // payload happens to start like an IP header is not IP.
  if (first >> 4 == 4 && skb->protocol == bpf_htons(ETH_P_IP)) {
    __u16 frag = 0;
    if (bpf_skb_load_bytes(skb, 9, &proto, 1) || bpf_skb_load_bytes(skb, 6, &frag, 2)) return 0;
    if (bpf_ntohs(frag) & 0x3fff) return 0;  // a fragment: no whole UDP header to read
    l4 = (first & 0x0f) * 4;
  } else if (first >> 4 == 6 && skb->protocol == bpf_htons(ETH_P_IPV6)) {
    if (bpf_skb_load_bytes(skb, 6, &proto, 1)) return 0;
    l4 = 40;
  } else {
    return 0;
  }
  if (proto != 17 /* UDP */ || l4 < 20) return 0;
  __u16 ports[2] = {};
  if (bpf_skb_load_bytes(skb, l4, ports, sizeof ports)) return 0;
  if (!is_dns_port(bpf_ntohs(ports[0])) && !is_dns_port(bpf_ntohs(ports[1]))) return 0;
  return skb->len;  // the whole datagram
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
