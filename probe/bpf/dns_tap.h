// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// Shared by dns_tap.bpf.c and the daemon: the header before each datagram in the perf buffer.
#pragma once

#include <linux/types.h>

#include "dns_filter.h"

#define CNM_DNS_TAP_EGRESS 0   // a local socket sent it
#define CNM_DNS_TAP_INGRESS 1  // a local socket received it (not on loopback)

// A datagram longer than this is passed cut to it (the daemon then counts it unparsable): a
// perf record's size is 16 bits (struct perf_event_header), and DNS over UDP rarely exceeds
// the 4096 bytes of the common EDNS buffer.
#define CNM_DNS_TAP_MAX_BYTES 16384

struct cnm_dns_tap_meta {
  __u64 ts_ns;     // bpf_ktime_get_ns(): CLOCK_MONOTONIC
  __u32 len;       // the datagram's length (skb->len); the bytes that follow may be fewer
  __u8 direction;  // CNM_DNS_TAP_EGRESS or CNM_DNS_TAP_INGRESS
  __u8 pad[3];
};
