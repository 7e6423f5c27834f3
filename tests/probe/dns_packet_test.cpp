// DNS datagram parsing: queries and answers built with libresolv's res_mkquery inside IPv4 and
// IPv6 UDP headers, and hostile input (every truncation, random bytes, lying lengths,
// fragments, a compression loop) that must give nullopt, never a crash (ASan in CI).
#include "probe/dns_packet.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <gtest/gtest.h>
#include <resolv.h>

#include <random>
#include <vector>

namespace cnm::probe {
namespace {

std::vector<std::uint8_t> dns_query(const char* name, int type, std::uint16_t id) {
  std::vector<std::uint8_t> q(512);
  const int n = res_mkquery(ns_o_query, name, ns_c_in, type, nullptr, 0, nullptr, q.data(),
                            static_cast<int>(q.size()));
  EXPECT_GT(n, 0) << name;
  q.resize(static_cast<std::size_t>(std::max(n, 0)));
  q[0] = static_cast<std::uint8_t>(id >> 8);
  q[1] = static_cast<std::uint8_t>(id);
  return q;
}

// The same message turned into a response with this rcode (QR set, RCODE in the low bits).
std::vector<std::uint8_t> as_response(std::vector<std::uint8_t> m, int rcode) {
  m[2] |= 0x80;
  m[3] = static_cast<std::uint8_t>((m[3] & 0xf0) | rcode);
  return m;
}

void put16(std::vector<std::uint8_t>& b, std::size_t at, std::size_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

// An IPv4 (family 4) or IPv6 datagram: the IP header, then the UDP header and payload.
std::vector<std::uint8_t> udp(int family, const char* src, const char* dst, std::uint16_t sport,
                              std::uint16_t dport, const std::vector<std::uint8_t>& payload) {
  const std::size_t ip = family == 4 ? 20 : 40, udp_len = 8 + payload.size();
  std::vector<std::uint8_t> b(ip + udp_len);
  if (family == 4) {
    b[0] = 0x45;
    put16(b, 2, b.size());  // total length
    b[8] = 64;              // TTL
    b[9] = 17;              // UDP
    inet_pton(AF_INET, src, &b[12]);
    inet_pton(AF_INET, dst, &b[16]);
  } else {
    b[0] = 0x60;
    put16(b, 4, udp_len);  // payload length
    b[6] = 17;             // next header: UDP
    b[7] = 64;             // hop limit
    inet_pton(AF_INET6, src, &b[8]);
    inet_pton(AF_INET6, dst, &b[24]);
  }
  put16(b, ip, sport);
  put16(b, ip + 2, dport);
  put16(b, ip + 4, udp_len);
  std::copy(payload.begin(), payload.end(), b.begin() + static_cast<long>(ip + 8));
  return b;
}

std::vector<std::uint8_t> udp4(const char* src, const char* dst, std::uint16_t sport,
                               std::uint16_t dport, const std::vector<std::uint8_t>& payload) {
  return udp(4, src, dst, sport, dport, payload);
}

std::vector<std::uint8_t> udp6(const char* src, const char* dst, std::uint16_t sport,
                               std::uint16_t dport, const std::vector<std::uint8_t>& payload) {
  return udp(6, src, dst, sport, dport, payload);
}

TEST(DnsPacket, QueryInIpv4) {
  const auto d = udp4("10.0.0.7", "10.0.0.53", 40000, 53, dns_query("Www.Example.COM", ns_t_a, 77));
  const auto p = parse_dns_datagram(d.data(), d.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->family, 4);
  EXPECT_EQ(p->src, "10.0.0.7");
  EXPECT_EQ(p->dst, "10.0.0.53");
  EXPECT_EQ(p->sport, 40000);
  EXPECT_EQ(p->dport, 53);
  EXPECT_EQ(p->id, 77);
  EXPECT_FALSE(p->response);
  EXPECT_EQ(p->qname, "www.example.com");
  EXPECT_EQ(p->qtype, ns_t_a);
  EXPECT_EQ(dns_type_name(p->qtype), "A");
}

TEST(DnsPacket, ResponseInIpv6WithItsRcode) {
  const auto d = udp6("fd00::53", "fd00::7", 53, 40001,
                      as_response(dns_query("missing.example", ns_t_aaaa, 9), ns_r_nxdomain));
  const auto p = parse_dns_datagram(d.data(), d.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->family, 6);
  EXPECT_EQ(p->src, "fd00::53");
  EXPECT_EQ(p->dst, "fd00::7");
  EXPECT_TRUE(p->response);
  EXPECT_EQ(p->rcode, ns_r_nxdomain);
  EXPECT_EQ(p->qname, "missing.example");
  EXPECT_EQ(dns_type_name(p->qtype), "AAAA");
  EXPECT_EQ(dns_type_name(4321), "TYPE4321");
}

TEST(DnsPacket, EveryTruncationIsRefusedOrParsedWithoutReadingPastTheEnd) {
  const auto d = udp4("127.0.0.1", "127.0.0.1", 1000, 53, dns_query("a.b.c.example", ns_t_a, 1));
  for (std::size_t n = 0; n < d.size(); ++n) {
    // A copy of exactly n bytes, so ASan sees any read beyond them.
    std::vector<std::uint8_t> cut(d.begin(), d.begin() + static_cast<long>(n));
    EXPECT_FALSE(parse_dns_datagram(cut.data(), cut.size())) << n << " bytes";
  }
  EXPECT_TRUE(parse_dns_datagram(d.data(), d.size()));
  // The DNS message itself cut short, inside consistent IP and UDP lengths: libresolv sees it.
  const auto q = dns_query("a.b.c.example", ns_t_a, 1);
  for (std::size_t n = 0; n < q.size(); ++n) {
    const auto cut = udp4("127.0.0.1", "127.0.0.1", 1000, 53,
                          std::vector<std::uint8_t>(q.begin(), q.begin() + static_cast<long>(n)));
    EXPECT_FALSE(parse_dns_datagram(cut.data(), cut.size())) << n << " bytes of DNS";
  }
}

TEST(DnsPacket, LyingLengthsFragmentsAndOtherProtocolsAreRefused) {
  const auto good = udp4("127.0.0.1", "127.0.0.1", 1000, 53, dns_query("x.example", ns_t_a, 1));
  auto longer_udp = good;
  put16(longer_udp, 24, good.size());  // UDP length beyond the datagram
  EXPECT_FALSE(parse_dns_datagram(longer_udp.data(), longer_udp.size()));
  auto fragment = good;
  fragment[6] = 0x20;  // more fragments
  EXPECT_FALSE(parse_dns_datagram(fragment.data(), fragment.size()));
  auto tcp = good;
  tcp[9] = 6;
  EXPECT_FALSE(parse_dns_datagram(tcp.data(), tcp.size()));
  auto bad_ihl = good;
  bad_ihl[0] = 0x4f;  // 60-byte header claimed
  EXPECT_FALSE(parse_dns_datagram(bad_ihl.data(), bad_ihl.size()));
  auto no_question = good;
  no_question[28 + 5] = 0;  // QDCOUNT 0
  EXPECT_FALSE(parse_dns_datagram(no_question.data(), no_question.size()));
  EXPECT_FALSE(parse_dns_datagram(nullptr, 0));
}

TEST(DnsPacket, CompressionPointerLoopInTheQuestionIsRefused) {
  // Header (1 question) then a name that is a pointer to itself (offset 12).
  std::vector<std::uint8_t> m = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  const auto d = udp4("127.0.0.1", "127.0.0.1", 1000, 53, m);
  EXPECT_FALSE(parse_dns_datagram(d.data(), d.size()));
}

TEST(DnsPacket, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  const auto base = udp4("127.0.0.1", "127.0.0.1", 1000, 53, dns_query("r.example", ns_t_a, 1));
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    auto d = base;
    // Keep the IP and UDP headers most of the time so the DNS parser is what gets the noise.
    const std::size_t from = i % 4 == 0 ? 0 : 28;
    for (std::size_t k = from; k < d.size(); ++k)
      if (rng() % 4 == 0) d[k] = static_cast<std::uint8_t>(rng());
    d.resize(from + rng() % (d.size() - from + 1));
    if (parse_dns_datagram(d.data(), d.size())) ++parsed;
  }
  // Both outcomes were exercised (ASan checks every read of both).
  EXPECT_GT(parsed, 0);
  EXPECT_LT(parsed, 20000);
}

}  // namespace
}  // namespace cnm::probe
