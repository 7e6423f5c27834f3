#include "probe/dns_order.h"

#include <algorithm>
#include <iterator>

namespace cnm::probe {

void DnsOrder::add(std::uint64_t ts_ns, const std::uint8_t* data, std::size_t len) {
  held_.push_back({ts_ns, std::vector<std::uint8_t>(data, data + len)});
}

std::vector<DnsSample> DnsOrder::take_before(std::uint64_t cutoff_ns) {
  std::stable_sort(held_.begin(), held_.end(),
                   [](const DnsSample& a, const DnsSample& b) { return a.ts_ns < b.ts_ns; });
  const auto end = std::partition_point(held_.begin(), held_.end(),
                                        [&](const DnsSample& s) { return s.ts_ns < cutoff_ns; });
  std::vector<DnsSample> out(std::make_move_iterator(held_.begin()), std::make_move_iterator(end));
  held_.erase(held_.begin(), end);
  return out;
}

}  // namespace cnm::probe
