// DNS monitoring: the UDP datagrams to or from a DNS port, from one of two sources
// (probe/dns_source.h), read by a thread into DnsStats, which also expires unanswered queries.
//   cgroup_skb (preferred): bpf/dns_tap.bpf.c's two cgroup skb programs, attached with
//     bpf_links to the root of the cgroup v2 hierarchy (so every socket's traffic, in every
//     network namespace), pass the DNS datagrams with the kernel's CLOCK_MONOTONIC stamp through
//     per-CPU perf buffers. Other packets cost one program run and one helper call each, and
//     no clone. The links close with the daemon's last file descriptor: a daemon that exits or
//     crashes leaves no program attached.
//   packet_socket (fallback): an AF_PACKET SOCK_DGRAM socket on every interface of the daemon's
//     network namespace with bpf/dns_filter.bpf.c as its socket filter (kernel receive
//     timestamps); the kernel clones every transmitted packet for it before the filter runs.
// "auto" takes the cgroup programs when the host has a cgroup2 mount of the hierarchy's root,
// cgroup bpf_links (Linux 5.7) and the programs load; otherwise the packet socket, and the log
// and describe() say why.
#pragma once

#include <bpf/libbpf.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "probe/cgroup_paths.h"
#include "probe/dns_order.h"
#include "probe/dns_source.h"
#include "probe/dns_stats.h"

struct dns_filter;
struct dns_tap;

namespace cnm::probe {

class DnsMonitor {
 public:
  // ports: network_config.dns_ports as the config parser checked them (1 to
  // CNM_DNS_MAX_PORTS; not checked again here). source: kAuto, or a source forced (no fallback).
  // cgroup2: where the cgroup programs attach, as the daemon found it at start (or why there is
  // none). Throws std::runtime_error when no source (the forced one) can be set up.
  DnsMonitor(std::vector<std::uint16_t> ports, DnsStats& stats, DnsSource source,
             const Cgroup2Mount& cgroup2);
  ~DnsMonitor();
  DnsMonitor(const DnsMonitor&) = delete;
  DnsMonitor& operator=(const DnsMonitor&) = delete;

  DnsSource source() const { return source_; }  // the one running (never kAuto: see source_)
  // Where the cgroup programs are attached ("" on the packet socket).
  const std::string& cgroup() const { return cgroup_; }
  // Why the cgroup programs do not run ("" when they do).
  const std::string& why_not_cgroup() const { return why_not_cgroup_; }

 private:
  // The cgroup programs loaded and attached to cgroup2.dir, their perf buffers open; throws
  // (cgroup2.why_none when there is no cgroup2 mount).
  void open_tap(const Cgroup2Mount& cgroup2);
  // The source `wanted` names set up, by the steps auto takes (the cgroup programs, else the
  // packet socket), and returned: the one that runs, never kAuto. Throws, everything of it
  // released, when none (the forced one) can be set up.
  DnsSource set_up(DnsSource wanted, const Cgroup2Mount& cgroup2);
  // set_up's first step: true when the cgroup programs run; false, why_not_cgroup_ saying why,
  // where auto falls back; throws where wanted forces them.
  bool tap_opened(DnsSource wanted, const Cgroup2Mount& cgroup2);
  void open_socket();  // the filter loaded and attached, the socket bound; throws
  void release();      // detaches, closes and frees what is there (each may be absent)
  void run_tap();
  void run_socket();
  void take(const std::uint8_t* data, std::size_t len, std::uint64_t ts_ns);
  static bpf_perf_event_ret on_tap_event(void* ctx, int cpu, perf_event_header* event);

  std::vector<std::uint16_t> ports_;
  DnsStats& stats_;
  std::string cgroup_, why_not_cgroup_;
  // packet_socket
  dns_filter* filter_ = nullptr;
  int fd_ = -1;
  // cgroup_skb
  dns_tap* tap_ = nullptr;
  bpf_link* egress_ = nullptr;
  bpf_link* ingress_ = nullptr;
  perf_buffer* pb_ = nullptr;
  DnsOrder order_;
  std::uint64_t lost_read_ = 0;  // the programs' lost counter when last read
  // The source running, initialised by set_up() (which only returns a real source) and never
  // changed: declared after every member set_up() fills, so those are initialised before it runs.
  const DnsSource source_;

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace cnm::probe
