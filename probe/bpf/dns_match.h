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

// Points *AT to LEN bytes at OFF (from the IP header); false when the packet is shorter. A
// socket filter reads with bpf_skb_load_bytes into BUF: BPF_PROG_TYPE_SOCKET_FILTER has no
// direct packet access. A cgroup skb program may read the linear part in place (skb->data to
// skb->data_end, Linux 4.20: commit b39b5f411dcf "bpf: add cg_skb_is_valid_access for
// BPF_PROG_TYPE_CGROUP_SKB"; the cgroup source needs cgroup links, 5.7, so every kernel it runs
// on has it): dns_tap.bpf.c defines CNM_DNS_DIRECT_READ, and a packet of another protocol, most
// of what its programs see, is turned away without a helper call. Bytes past the linear part
// (headers in a page fragment) are still copied by the helper, so both ways read the same bytes
// and keep the same datagrams.
static __always_inline bool cnm_dns_bytes(struct __sk_buff* skb, __u32 off, __u8* buf, __u32 len,
                                          const __u8** at) {
#ifdef CNM_DNS_DIRECT_READ
  const __u8* p = (const __u8*)(long)skb->data + off;
  if (p + len <= (const __u8*)(long)skb->data_end) {
    *at = p;
    return true;
  }
#endif
  *at = buf;
  return bpf_skb_load_bytes(skb, off, buf, len) == 0;
}

// One read for a packet of another IP protocol (most of what the cgroup programs see), two for
// a UDP datagram: in place where the program may (cnm_dns_bytes), else one helper call each.
static __always_inline bool cnm_is_dns_datagram(struct __sk_buff* skb) {
  __u32 l4 = 0;
  const __u8* h;
  // The packet's protocol decides what the bytes are: a frame of another protocol whose payload
  // happens to start like an IP header is not IP.
  if (skb->protocol == bpf_htons(CNM_ETH_P_IP)) {
    __u8 buf[10];  // version and header length, ..., flags and fragment offset, TTL, protocol
    if (!cnm_dns_bytes(skb, 0, buf, sizeof buf, &h)) return false;
    if (h[0] >> 4 != 4 || h[9] != 17 /* UDP */) return false;
    if (((h[6] << 8) | h[7]) & 0x3fff) return false;  // a fragment: no whole UDP header to read
    l4 = (h[0] & 0x0f) * 4;
    if (l4 < 20) return false;
  } else if (skb->protocol == bpf_htons(CNM_ETH_P_IPV6)) {
    __u8 buf[7];  // version, ..., next header
    if (!cnm_dns_bytes(skb, 0, buf, sizeof buf, &h)) return false;
    if (h[0] >> 4 != 6 || h[6] != 17 /* UDP, no extension header */) return false;
    l4 = 40;
  } else {
    return false;
  }
  __u8 ports[4];  // source and destination port, big-endian
  if (!cnm_dns_bytes(skb, l4, ports, sizeof ports, &h)) return false;
  return cnm_is_dns_port((__u16)(h[0] << 8 | h[1])) || cnm_is_dns_port((__u16)(h[2] << 8 | h[3]));
}
