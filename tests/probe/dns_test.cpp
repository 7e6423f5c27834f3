// DNS monitoring against real traffic: a UDP DNS responder of the test's own on loopback
// (IPv4 and IPv6) answers each query after a set delay with the rcode its query id asks for,
// or not at all; queries are built by libresolv (res_mkquery) and sent from real sockets.
// The daemon's packet socket sees them; /network_tracer/dns must count each query once, with
// its rcode, a latency of at least the delay, and timeouts for the unanswered.
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "tests/probe/probe_daemon.h"

namespace cnm::test {
namespace {

// The query id picks the answer: 1xxx NOERROR, 2xxx NXDOMAIN, 3xxx SERVFAIL, 4xxx none.
constexpr int kDelayMs = 30;

// The loopback address of this family (127.0.0.1 or ::1) with this port; returns its length.
socklen_t loopback(int family, std::uint16_t port, sockaddr_storage& a) {
  a = {};
  if (family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a);
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    v4->sin_port = htons(port);
    return sizeof *v4;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a);
  v6->sin6_family = AF_INET6;
  v6->sin6_addr = in6addr_loopback;
  v6->sin6_port = htons(port);
  return sizeof *v6;
}

class Responder {
 public:
  explicit Responder(int family) : family_(family) {
    fd_ = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_storage a;
    socklen_t len = loopback(family, 0, a);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0) throw std::runtime_error("bind");
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&a)->sin_port
                                    : reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~Responder() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  int family() const { return family_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      std::uint8_t m[512];
      sockaddr_storage from{};
      socklen_t fl = sizeof from;
      const ssize_t n = ::recvfrom(fd_, m, sizeof m, 0, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n < 12) continue;
      const int kind = (m[0] << 8 | m[1]) / 1000;
      if (kind == 4) continue;
      std::this_thread::sleep_for(std::chrono::milliseconds(kDelayMs));
      m[2] |= 0x80;  // QR: a response to the same question
      m[3] = static_cast<std::uint8_t>(kind == 2 ? ns_r_nxdomain : kind == 3 ? ns_r_servfail : 0);
      ::sendto(fd_, m, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), fl);
    }
  }
  int family_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Sends one query for NAME from a fresh socket and waits up to 300 ms for an answer.
bool ask(const Responder& r, const char* name, int type, std::uint16_t id) {
  std::uint8_t q[512];
  const int n = res_mkquery(ns_o_query, name, ns_c_in, type, nullptr, 0, nullptr, q, sizeof q);
  if (n <= 0) return false;
  q[0] = static_cast<std::uint8_t>(id >> 8);
  q[1] = static_cast<std::uint8_t>(id);
  const int fd = ::socket(r.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_storage a;
  const socklen_t len = loopback(r.family(), r.port(), a);
  ::sendto(fd, q, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&a), len);
  pollfd p{fd, POLLIN, 0};
  std::uint8_t reply[512];
  const bool answered = ::poll(&p, 1, 300) == 1 && ::recv(fd, reply, sizeof reply, 0) > 0;
  ::close(fd);
  return answered;
}

nlohmann::json entry(const nlohmann::json& reply, const std::string& server, int port,
                     const std::string& domain, const std::string& type) {
  for (const auto& e : reply["dns"])
    if (e["server"] == server && e["server_port"] == port && e["domain"] == domain &&
        e["query_type"] == type)
      return e;
  return nullptr;
}

// /network_tracer/dns once the IPv4 loopback entry of DOMAIN (type A) on PORT has its query's
// NOERROR answer counted (so both messages were read), or after 5 s.
nlohmann::json dns_reply_once_answered(const ProbeDaemon& d, std::uint16_t port,
                                       const std::string& domain) {
  nlohmann::json reply;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reply = d.get_json("/network_tracer/dns");
    const auto e = entry(reply, "127.0.0.1", port, domain, "A");
    if (!e.is_null() && e["responses"]["noerror"] == 1) break;
  } while (std::chrono::steady_clock::now() < deadline);
  return reply;
}

std::string dns_config(std::initializer_list<std::uint16_t> ports) {
  std::string list;
  for (auto p : ports) list += (list.empty() ? "" : ", ") + std::to_string(p);
  return "network_config:\n  dns_monitoring: true\n  dns_timeout_ms: 500\n  dns_ports: [" + list +
         "]\n";
}

TEST(DnsMonitoring, CountsEachQueryOnceWithItsRcodeLatencyAndTimeouts) {
  Responder v4(AF_INET), v6(AF_INET6);
  ProbeDaemon d(dns_config({v4.port(), v6.port()}));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ask(v4, "ok.cnm.test", ns_t_a, 1000 + i));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ask(v4, "NX.cnm.test", ns_t_a, 2000 + i));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ask(v4, "fail.cnm.test", ns_t_aaaa, 3000 + i));
  for (int i = 0; i < 2; ++i) ASSERT_FALSE(ask(v4, "drop.cnm.test", ns_t_a, 4000 + i));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ask(v6, "ok6.cnm.test", ns_t_aaaa, 1000 + i));

  // The unanswered ones time out 500 ms after they were sent; the monitor expires every 200 ms.
  nlohmann::json reply;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    reply = d.get_json("/network_tracer/dns");
    const auto drop = entry(reply, "127.0.0.1", v4.port(), "drop.cnm.test", "A");
    if (!drop.is_null() && drop["timeouts"] == 2) break;
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(reply["enabled"], true);

  const auto ok = entry(reply, "127.0.0.1", v4.port(), "ok.cnm.test", "A");
  ASSERT_FALSE(ok.is_null()) << reply.dump(1);
  EXPECT_EQ(ok["queries"], 10) << ok.dump();
  EXPECT_EQ(ok["responses"]["noerror"], 10) << ok.dump();
  EXPECT_EQ(ok["timeouts"], 0) << ok.dump();
  EXPECT_EQ(ok["latency_us"]["count"], 10) << ok.dump();
  EXPECT_GE(ok["latency_us"]["sum"].get<long>(), 10L * kDelayMs * 1000) << ok.dump();
  EXPECT_GE(ok["latency_us"]["max"].get<long>(), kDelayMs * 1000L) << ok.dump();
  EXPECT_LT(ok["latency_us"]["max"].get<long>(), 300000L) << ok.dump();

  const auto nx = entry(reply, "127.0.0.1", v4.port(), "nx.cnm.test", "A");  // lower-cased
  ASSERT_FALSE(nx.is_null()) << reply.dump(1);
  EXPECT_EQ(nx["queries"], 5);
  EXPECT_EQ(nx["responses"]["nxdomain"], 5) << nx.dump();
  EXPECT_EQ(nx["responses"]["noerror"], 0) << nx.dump();

  const auto fail = entry(reply, "127.0.0.1", v4.port(), "fail.cnm.test", "AAAA");
  ASSERT_FALSE(fail.is_null()) << reply.dump(1);
  EXPECT_EQ(fail["responses"]["servfail"], 3) << fail.dump();

  const auto drop = entry(reply, "127.0.0.1", v4.port(), "drop.cnm.test", "A");
  ASSERT_FALSE(drop.is_null()) << reply.dump(1);
  EXPECT_EQ(drop["queries"], 2);
  EXPECT_EQ(drop["timeouts"], 2) << drop.dump();
  EXPECT_EQ(drop["latency_us"]["count"], 0) << drop.dump();

  const auto ok6 = entry(reply, "::1", v6.port(), "ok6.cnm.test", "AAAA");
  ASSERT_FALSE(ok6.is_null()) << reply.dump(1);
  EXPECT_EQ(ok6["queries"], 4);
  EXPECT_EQ(ok6["responses"]["noerror"], 4) << ok6.dump();

  // Each message counted once (the filter drops loopback's leaving copy), none unmatched.
  EXPECT_EQ(reply["stats"]["dns_responses_unmatched"], 0) << reply["stats"].dump();
  EXPECT_EQ(reply["stats"]["dns_packets"], 2 * (10 + 5 + 3 + 4) + 2) << reply["stats"].dump();
  EXPECT_EQ(reply["stats"]["dns_pending_current"], 0);
  EXPECT_EQ(schema_errors(reply, "dns.schema.json"), "");
  // The same counters are in /debug/stats and /metrics.
  EXPECT_EQ(d.get_json("/debug/stats")["dns_packets"], reply["stats"]["dns_packets"]);
  EXPECT_NE(d.get("/metrics").body.find("dns_packets"), std::string::npos);
}

TEST(DnsMonitoring, OnlyTheConfiguredPortsAreSeenAndGarbageIsCountedNotParsed) {
  Responder dns(AF_INET), other(AF_INET);
  ProbeDaemon d(dns_config({dns.port()}));
  ASSERT_TRUE(ask(other, "elsewhere.cnm.test", ns_t_a, 1000));  // not a DNS port: filtered
  // Not a DNS message, to the DNS port.
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_storage to;
  const socklen_t to_len = loopback(AF_INET, dns.port(), to);
  ::sendto(fd, "hello", 5, 0, reinterpret_cast<sockaddr*>(&to), to_len);
  ::close(fd);
  ASSERT_TRUE(ask(dns, "seen.cnm.test", ns_t_a, 1001));
  const auto reply = dns_reply_once_answered(d, dns.port(), "seen.cnm.test");
  ASSERT_FALSE(entry(reply, "127.0.0.1", dns.port(), "seen.cnm.test", "A").is_null())
      << reply.dump(1);
  EXPECT_TRUE(entry(reply, "127.0.0.1", other.port(), "elsewhere.cnm.test", "A").is_null())
      << reply.dump(1);
  EXPECT_EQ(reply["dns"].size(), 1u) << reply.dump(1);
  EXPECT_EQ(reply["stats"]["dns_unparsable"], 1) << reply["stats"].dump();
  // The query to the other port and its answer never reached the daemon's socket: only the
  // garbage datagram and this query and answer did.
  EXPECT_EQ(reply["stats"]["dns_packets"], 2) << reply["stats"].dump();
  EXPECT_EQ(reply["stats"]["dns_responses_unmatched"], 0) << reply["stats"].dump();
}

TEST(DnsMonitoring, AFrameOfAnotherProtocolThatLooksLikeADnsQueryIsNotOne) {
  Responder dns(AF_INET);
  ProbeDaemon d(dns_config({dns.port()}));
  // A well-formed IPv4/UDP/DNS query to the DNS port, sent on loopback as the payload of a
  // frame of the local experimental ethertype 0x88B5: no host stack reads it as IP.
  std::uint8_t frame[512] = {};
  std::uint8_t* udp = frame + 20;
  const int n = res_mkquery(ns_o_query, "not-ip.cnm.test", ns_c_in, ns_t_a, nullptr, 0, nullptr,
                            udp + 8, sizeof frame - 28);
  ASSERT_GT(n, 0);
  const std::uint16_t total = static_cast<std::uint16_t>(28 + n);
  frame[0] = 0x45;
  frame[2] = static_cast<std::uint8_t>(total >> 8);
  frame[3] = static_cast<std::uint8_t>(total);
  frame[8] = 64;
  frame[9] = IPPROTO_UDP;
  const std::uint8_t lo[4] = {127, 0, 0, 1};
  std::memcpy(frame + 12, lo, 4);
  std::memcpy(frame + 16, lo, 4);
  udp[0] = 40000 >> 8;
  udp[1] = 40000 & 0xff;
  udp[2] = static_cast<std::uint8_t>(dns.port() >> 8);
  udp[3] = static_cast<std::uint8_t>(dns.port());
  udp[4] = static_cast<std::uint8_t>((8 + n) >> 8);
  udp[5] = static_cast<std::uint8_t>(8 + n);
  const int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(0x88B5);
  to.sll_ifindex = static_cast<int>(::if_nametoindex("lo"));
  to.sll_halen = 6;  // loopback's all-zero address
  ASSERT_EQ(::sendto(fd, frame, total, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), total)
      << std::strerror(errno);
  ::close(fd);
  // And a real query after it: once that is counted, the frame had its chance to be.
  ASSERT_TRUE(ask(dns, "real.cnm.test", ns_t_a, 1002));
  const auto reply = dns_reply_once_answered(d, dns.port(), "real.cnm.test");
  ASSERT_FALSE(entry(reply, "127.0.0.1", dns.port(), "real.cnm.test", "A").is_null())
      << reply.dump(1);
  EXPECT_TRUE(entry(reply, "127.0.0.1", dns.port(), "not-ip.cnm.test", "A").is_null())
      << reply.dump(1);
  EXPECT_EQ(reply["stats"]["dns_packets"], 2) << reply["stats"].dump();  // the real query, answer
  EXPECT_EQ(reply["stats"]["dns_unparsable"], 0) << reply["stats"].dump();
}

TEST(DnsMonitoring, DatagramsTheKernelDropsWhileTheDaemonCannotReadAreCounted) {
  // A DNS port whose "server" never reads: only the daemon's packet socket matters here.
  const int sink = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_storage to;
  socklen_t to_len = loopback(AF_INET, 0, to);
  ASSERT_EQ(::bind(sink, reinterpret_cast<sockaddr*>(&to), to_len), 0);
  ::getsockname(sink, reinterpret_cast<sockaddr*>(&to), &to_len);
  const auto port = ntohs(reinterpret_cast<sockaddr_in*>(&to)->sin_port);
  ProbeDaemon d(dns_config({port}));
  // Stopped, the daemon reads nothing: its socket's buffer (8 MiB, about ten thousand of these)
  // fills and the kernel drops the rest.
  constexpr int kQueries = 30000;
  std::uint8_t q[512];
  const int n =
      res_mkquery(ns_o_query, "burst.cnm.test", ns_c_in, ns_t_a, nullptr, 0, nullptr, q, sizeof q);
  ASSERT_GT(n, 0);
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::kill(d.pid(), SIGSTOP), 0);
  for (int i = 0; i < kQueries; ++i) {
    q[0] = static_cast<std::uint8_t>(i >> 8);
    q[1] = static_cast<std::uint8_t>(i);
    ::sendto(fd, q, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&to), to_len);
  }
  ASSERT_EQ(::kill(d.pid(), SIGCONT), 0);
  ::close(fd);
  ::close(sink);
  // Each query is either read (dns_packets) or dropped (the filter keeps only loopback's
  // arriving copy, so one datagram is one packet either way): seen + dropped == sent.
  nlohmann::json st;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    st = d.get_json("/debug/stats");
  } while (st["dns_packets"].get<std::uint64_t>() + st["dns_socket_dropped"].get<std::uint64_t>() <
               kQueries &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_GT(st["dns_socket_dropped"].get<std::uint64_t>(), 0u) << st.dump();
  EXPECT_LT(st["dns_packets"].get<std::uint64_t>(), std::uint64_t{kQueries}) << st.dump();
  EXPECT_EQ(st["dns_packets"].get<std::uint64_t>() + st["dns_socket_dropped"].get<std::uint64_t>(),
            std::uint64_t{kQueries})
      << st.dump();
  EXPECT_EQ(st["dns_unparsable"], 0) << st.dump();
}

TEST(DnsMonitoring, OffByDefaultAndTheRouteSaysSo) {
  ProbeDaemon d;
  const auto reply = d.get_json("/network_tracer/dns");
  EXPECT_EQ(reply["enabled"], false);
  EXPECT_TRUE(reply["dns"].empty());
  EXPECT_EQ(schema_errors(reply, "dns.schema.json"), "");
  EXPECT_EQ(d.get_with("/network_tracer/dns", "").status, 401);
}

}  // namespace
}  // namespace cnm::test
