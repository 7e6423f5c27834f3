#include "probe/dns_packet.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <cctype>
#include <cstring>

#include "probe/ip_text.h"

namespace cnm::probe {
namespace {

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(static_cast<unsigned>(p[0]) << 8 | p[1]);
}

}  // namespace

std::optional<DnsPacket> parse_dns_datagram(const std::uint8_t* data, std::size_t len) {
  if (!data || len < 1) return std::nullopt;
  DnsPacket p;
  std::size_t l4 = 0, ip_end = len;
  if (data[0] >> 4 == 4) {
    if (len < 20) return std::nullopt;
    const std::size_t ihl = static_cast<std::size_t>(data[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > len || data[9] != IPPROTO_UDP) return std::nullopt;
    if (be16(data + 6) & 0x3fff) return std::nullopt;  // fragment
    ip_end = std::min<std::size_t>(len, be16(data + 2));
    p.family = 4;
    p.src = ip_text(data + 12, 4);
    p.dst = ip_text(data + 16, 4);
    l4 = ihl;
  } else if (data[0] >> 4 == 6) {
    if (len < 40 || data[6] != IPPROTO_UDP) return std::nullopt;  // no extension headers
    ip_end = std::min<std::size_t>(len, 40 + static_cast<std::size_t>(be16(data + 4)));
    p.family = 6;
    p.src = ip_text(data + 8, 6);
    p.dst = ip_text(data + 24, 6);
    l4 = 40;
  } else {
    return std::nullopt;
  }
  if (ip_end < l4 + 8) return std::nullopt;
  const std::uint8_t* udp = data + l4;
  p.sport = be16(udp);
  p.dport = be16(udp + 2);
  const std::size_t udp_len = be16(udp + 4);
  if (udp_len < 8 || l4 + udp_len > ip_end) return std::nullopt;
  const std::uint8_t* dns = udp + 8;
  const int dns_len = static_cast<int>(udp_len - 8);

  ns_msg msg;
  if (ns_initparse(dns, dns_len, &msg) < 0) return std::nullopt;
  p.id = ns_msg_id(msg);
  p.response = ns_msg_getflag(msg, ns_f_qr) != 0;
  p.rcode = ns_msg_getflag(msg, ns_f_rcode);
  if (ns_msg_count(msg, ns_s_qd) < 1) return std::nullopt;
  ns_rr rr;
  if (ns_parserr(&msg, ns_s_qd, 0, &rr) < 0) return std::nullopt;
  p.qname = ns_rr_name(rr);
  for (auto& ch : p.qname) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (p.qname == ".") p.qname.clear();
  p.qtype = ns_rr_type(rr);
  return p;
}

std::string dns_type_name(std::uint16_t qtype) {
  // The types resolvers ask for; any other in RFC 3597's generic form.
  switch (qtype) {
    case ns_t_a:
      return "A";
    case ns_t_ns:
      return "NS";
    case ns_t_cname:
      return "CNAME";
    case ns_t_soa:
      return "SOA";
    case ns_t_ptr:
      return "PTR";
    case ns_t_mx:
      return "MX";
    case ns_t_txt:
      return "TXT";
    case ns_t_aaaa:
      return "AAAA";
    case ns_t_srv:
      return "SRV";
    case ns_t_naptr:
      return "NAPTR";
    case 64:
      return "SVCB";
    case 65:
      return "HTTPS";
    case ns_t_any:
      return "ANY";
    default:
      return "TYPE" + std::to_string(qtype);
  }
}

}  // namespace cnm::probe
