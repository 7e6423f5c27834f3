// DNS monitoring: a packet socket (AF_PACKET, SOCK_DGRAM, every interface of the daemon's
// network namespace) with the dns_filter socket filter attached, so only UDP datagrams to or
// from a DNS port reach user space; a thread reads them (kernel receive timestamps) into
// DnsStats and expires unanswered queries. No per-packet work for other traffic beyond the
// filter run (and the kernel's clone of each outgoing packet for a packet tap).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "probe/dns_stats.h"

struct dns_filter;

namespace cnm::probe {

class DnsMonitor {
 public:
  // Throws std::runtime_error when the socket or the filter cannot be set up.
  DnsMonitor(std::vector<std::uint16_t> ports, DnsStats& stats);
  ~DnsMonitor();
  DnsMonitor(const DnsMonitor&) = delete;
  DnsMonitor& operator=(const DnsMonitor&) = delete;

 private:
  void open_socket();  // the filter loaded and attached, the socket bound; throws
  void release();      // closes the socket and frees the filter (each may be absent)
  void run();
  std::vector<std::uint16_t> ports_;
  DnsStats& stats_;
  dns_filter* skel_ = nullptr;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace cnm::probe
