// DNS monitoring's sources, declared once: network_config.dns_source takes "auto" or one of
// these names, /debug/stats reports the one running under the same name, and the tests and the
// benchmark force each by it. Best first: "auto" tries them in this order.
//   cgroup_skb     two cgroup skb programs on the root of the cgroup v2 hierarchy (dns_tap):
//                  every socket's DNS datagrams, in every network namespace, no packet tap;
//                  needs cgroup2 and cgroup bpf_links (Linux 5.7)
//   packet_socket  an AF_PACKET socket with a socket filter (dns_filter) on the interfaces of
//                  the daemon's network namespace; the kernel clones each transmitted packet
//                  for it before the filter runs
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace cnm::probe {

inline constexpr std::string_view kDnsSourceCgroupSkb = "cgroup_skb";
inline constexpr std::string_view kDnsSourcePacketSocket = "packet_socket";
inline constexpr std::array<std::string_view, 2> kDnsSources = {kDnsSourceCgroupSkb,
                                                                kDnsSourcePacketSocket};
inline constexpr std::string_view kDnsSourceAuto = "auto";

// "auto" or one of kDnsSources.
inline bool is_dns_source_choice(std::string_view s) {
  if (s == kDnsSourceAuto) return true;
  for (auto n : kDnsSources)
    if (s == n) return true;
  return false;
}

// "auto, cgroup_skb, packet_socket" (for messages).
inline std::string dns_source_choices() {
  std::string out(kDnsSourceAuto);
  for (auto n : kDnsSources) (out += ", ") += n;
  return out;
}

}  // namespace cnm::probe
