// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// What DNS monitoring keeps of a packet, one statement for both of its sources (dns_filter, the
// packet socket's filter, and dns_tap, the cgroup programs): a UDP datagram to or from a DNS
// port, IPv4 unfragmented (a fragment has no whole UDP header to read) or IPv6 without
// extension headers. Both contexts start the packet at its IP header (an AF_PACKET SOCK_DGRAM
// socket's filter; a cgroup skb program, whose data the kernel moves back to the network header
// for the run). Only UAPI types: the context (struct __sk_buff) is rewritten by the verifier,
// not relocated, so no BTF is read to load these objects. Included once per object: it defines
// the object's dns_ports.
#pragma once

#include <linux/bpf.h>
#include <linux/types.h>
#include <stdbool.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "dns_filter.h"

// Set by the daemon before load (network_config.dns_ports); 0 ends the list.
const volatile __u16 dns_ports[CNM_DNS_MAX_PORTS] = {53};

#define CNM_ETH_P_IP 0x0800
#define CNM_ETH_P_IPV6 0x86DD
#define CNM_LOOPBACK_IFINDEX 1  // the kernel's, in every network namespace

static __always_inline bool cnm_is_dns_port(__u16 port) {
  for (int i = 0; i < CNM_DNS_MAX_PORTS; i++) {
    if (dns_ports[i] == 0) return false;
    if (dns_ports[i] == port) return true;
  }
  return false;
}

// One helper call for a packet of another IP protocol (most of what the cgroup programs see),
// two for a UDP datagram.
static __always_inline bool cnm_is_dns_datagram(struct __sk_buff* skb) {
  __u32 l4 = 0;
  // The packet's protocol decides what the bytes are: a frame of another protocol whose payload
  // happens to start like an IP header is not IP.
  if (skb->protocol == bpf_htons(CNM_ETH_P_IP)) {
    __u8 h[10];  // version and header length, ..., flags and fragment offset, TTL, protocol
    if (bpf_skb_load_bytes(skb, 0, h, sizeof h)) return false;
    if (h[0] >> 4 != 4 || h[9] != 17 /* UDP */) return false;
    if (((h[6] << 8) | h[7]) & 0x3fff) return false;  // a fragment: no whole UDP header to read
    l4 = (h[0] & 0x0f) * 4;
    if (l4 < 20) return false;
  } else if (skb->protocol == bpf_htons(CNM_ETH_P_IPV6)) {
    __u8 h[7];  // version, ..., next header
    if (bpf_skb_load_bytes(skb, 0, h, sizeof h)) return false;
    if (h[0] >> 4 != 6 || h[6] != 17 /* UDP, no extension header */) return false;
    l4 = 40;
  } else {
    return false;
  }
  __u16 ports[2] = {};
  if (bpf_skb_load_bytes(skb, l4, ports, sizeof ports)) return false;
  return cnm_is_dns_port(bpf_ntohs(ports[0])) || cnm_is_dns_port(bpf_ntohs(ports[1]));
}
