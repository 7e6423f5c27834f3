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
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cnm::probe {

// network_config.dns_source as parsed (probe/config.h): a value of this type is valid, so
// DnsMonitor takes it without checking it again.
enum class DnsSource { kAuto, kCgroupSkb, kPacketSocket };

// Each value's name, in the enum's order: auto, then the sources best first (auto tries them
// in this order).
inline constexpr std::array<std::string_view, 3> kDnsSourceNames = {"auto", "cgroup_skb",
                                                                    "packet_socket"};
static_assert(kDnsSourceNames.size() == static_cast<std::size_t>(DnsSource::kPacketSocket) + 1,
              "a name for each DnsSource");

constexpr std::string_view dns_source_name(DnsSource s) {
  return kDnsSourceNames[static_cast<std::size_t>(s)];
}

// The value a name stands for; nullopt for any other text.
inline std::optional<DnsSource> parse_dns_source(std::string_view s) {
  for (std::size_t i = 0; i < kDnsSourceNames.size(); ++i)
    if (s == kDnsSourceNames[i]) return static_cast<DnsSource>(i);
  return std::nullopt;
}

// "auto, cgroup_skb, packet_socket" (for messages).
inline std::string dns_source_choices() {
  std::string out;
  for (auto n : kDnsSourceNames) (out += out.empty() ? "" : ", ") += n;
  return out;
}

}  // namespace cnm::probe
