// The cgroup source's datagrams come through one perf buffer per CPU, so a query and its
// answer, sent on two CPUs, can be read answer first: DnsStats would count an unmatched
// response and then a query that waits for nothing. DnsOrder puts them back in the kernel's
// time order before DnsStats sees them. The daemon notes the clock, then reads every CPU's
// buffer, then takes what is stamped before that moment; what is stamped later stays for the
// next round. Why that is complete: an answer is sent only after its query was delivered, and
// a program writes its record before the packet goes on, so the query's record was visible
// before the answer's stamp; an answer stamped before the moment the round began therefore
// comes with (or after) its query. Pure logic: unit-tested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cnm::probe {

struct DnsSample {
  std::uint64_t ts_ns = 0;  // the kernel's stamp (CLOCK_MONOTONIC)
  std::vector<std::uint8_t> bytes;
};

class DnsOrder {
 public:
  void add(std::uint64_t ts_ns, const std::uint8_t* data, std::size_t len);
  // The samples stamped before cutoff_ns, oldest first (equal stamps in the order added); the
  // rest stay for a later call.
  std::vector<DnsSample> take_before(std::uint64_t cutoff_ns);
  std::size_t held() const { return held_.size(); }

 private:
  std::vector<DnsSample> held_;
};

}  // namespace cnm::probe
