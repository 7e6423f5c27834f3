// One DNS message seen on the wire: the IP and UDP headers around it and the few header and
// question fields DNS monitoring needs. The DNS part is parsed by libresolv (ns_initparse,
// ns_parserr), which bounds every read by the message length. Pure logic: unit-tested with
// hostile input under ASan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace cnm::probe {

struct DnsPacket {
  int family = 4;
  std::string src, dst;  // addresses as text
  std::uint16_t sport = 0, dport = 0;
  std::uint16_t id = 0;
  bool response = false;
  int rcode = 0;
  std::string qname;  // lower case, no trailing dot ("" for the root)
  std::uint16_t qtype = 0;
};

// Parses an IPv4 or IPv6 datagram (starting at its IP header) carrying UDP with a DNS message
// in it. nullopt for anything else: not UDP, truncated headers, a fragment, a DNS message
// libresolv refuses or one without a question.
std::optional<DnsPacket> parse_dns_datagram(const std::uint8_t* data, std::size_t len);

// "A", "AAAA", "TYPE65" ... (libresolv's names).
std::string dns_type_name(std::uint16_t qtype);

}  // namespace cnm::probe
