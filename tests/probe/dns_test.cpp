// DNS monitoring against real traffic: a UDP DNS responder of the test's own on loopback
// (IPv4 and IPv6) answers each query after a set delay with the rcode its query id asks for,
// or not at all; queries are built by libresolv (res_mkquery) and sent from real sockets.
// Every test runs under each of DNS monitoring's sources (probe/dns_source.h, forced by
// network_config.dns_source): /network_tracer/dns must count each query once, with its rcode,
// a latency of at least the delay, and timeouts for the unanswered. DnsCgroupSource.* checks
// what only the cgroup programs do: queries in another network namespace, traffic unharmed,
// nothing left attached once the daemon is gone, and the fallback where they cannot run.
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "probe/cgroup_paths.h"
#include "probe/dns_source.h"
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
  // On the loopback address of the family, or on ipv4_addr (AF_INET).
  explicit Responder(int family, const std::string& ipv4_addr = "") : family_(family) {
    fd_ = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    len_ = loopback(family, 0, addr_);
    if (!ipv4_addr.empty())
      ::inet_pton(AF_INET, ipv4_addr.c_str(), &reinterpret_cast<sockaddr_in*>(&addr_)->sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr_), len_) != 0)
      throw std::runtime_error("bind");
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr_), &len_);
    port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&addr_)->sin_port
                                    : reinterpret_cast<sockaddr_in6*>(&addr_)->sin6_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~Responder() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  int family() const { return family_; }
  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&addr_); }
  socklen_t addr_len() const { return len_; }

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
  sockaddr_storage addr_{};
  socklen_t len_ = 0;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Sends one query for NAME from a fresh socket (in the calling thread's network namespace) to
// the responder and waits up to 300 ms for an answer.
bool ask(const Responder& r, const char* name, int type, std::uint16_t id) {
  std::uint8_t q[512];
  const int n = res_mkquery(ns_o_query, name, ns_c_in, type, nullptr, 0, nullptr, q, sizeof q);
  if (n <= 0) return false;
  q[0] = static_cast<std::uint8_t>(id >> 8);
  q[1] = static_cast<std::uint8_t>(id);
  const int fd = ::socket(r.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ::sendto(fd, q, static_cast<std::size_t>(n), 0, r.addr(), r.addr_len());
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

// source: a name of probe::kDnsSourceNames ("auto" or a source).
std::string dns_config(const std::string& source, std::initializer_list<std::uint16_t> ports) {
  std::string list;
  for (auto p : ports) list += (list.empty() ? "" : ", ") + std::to_string(p);
  return "network_config:\n  dns_monitoring: true\n  dns_timeout_ms: 500\n  dns_source: " + source +
         "\n  dns_ports: [" + list + "]\n";
}

// /debug/stats' dns_source: the source that runs.
nlohmann::json dns_source(const ProbeDaemon& d) { return d.get_json("/debug/stats")["dns_source"]; }

class DnsMonitoring : public ::testing::TestWithParam<std::string> {
 protected:
  // A daemon with DNS monitoring on these ports through the test's source, which must run.
  std::unique_ptr<ProbeDaemon> daemon(std::initializer_list<std::uint16_t> ports) {
    auto d = std::make_unique<ProbeDaemon>(dns_config(GetParam(), ports));
    const auto src = dns_source(*d);
    EXPECT_EQ(src["name"], GetParam()) << src.dump() << "\n" << d->log();
    return d;
  }
};

INSTANTIATE_TEST_SUITE_P(
    Sources, DnsMonitoring,
    ::testing::Values(std::string(probe::dns_source_name(probe::DnsSource::kCgroupSkb)),
                      std::string(probe::dns_source_name(probe::DnsSource::kPacketSocket))),
    [](const auto& p) { return p.param; });

TEST_P(DnsMonitoring, CountsEachQueryOnceWithItsRcodeLatencyAndTimeouts) {
  Responder v4(AF_INET), v6(AF_INET6);
  const auto daemon_ptr = daemon({v4.port(), v6.port()});
  const ProbeDaemon& d = *daemon_ptr;
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

  // Each message counted once (loopback shows each twice, leaving and arriving: the packet
  // socket's filter keeps the arrival, the cgroup source the sender's egress), none unmatched.
  EXPECT_EQ(reply["stats"]["dns_responses_unmatched"], 0) << reply["stats"].dump();
  EXPECT_EQ(reply["stats"]["dns_packets"], 2 * (10 + 5 + 3 + 4) + 2) << reply["stats"].dump();
  EXPECT_EQ(reply["stats"]["dns_pending_current"], 0);
  EXPECT_EQ(schema_errors(reply, "dns.schema.json"), "");
  // The same counters are in /debug/stats and /metrics.
  EXPECT_EQ(d.get_json("/debug/stats")["dns_packets"], reply["stats"]["dns_packets"]);
  EXPECT_NE(d.get("/metrics").body.find("dns_packets"), std::string::npos);
}

TEST_P(DnsMonitoring, OnlyTheConfiguredPortsAreSeenAndGarbageIsCountedNotParsed) {
  Responder dns(AF_INET), other(AF_INET);
  const auto daemon_ptr = daemon({dns.port()});
  const ProbeDaemon& d = *daemon_ptr;
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

TEST_P(DnsMonitoring, AFrameOfAnotherProtocolThatLooksLikeADnsQueryIsNotOne) {
  Responder dns(AF_INET);
  const auto daemon_ptr = daemon({dns.port()});
  const ProbeDaemon& d = *daemon_ptr;
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

TEST_P(DnsMonitoring, DatagramsTheKernelDropsWhileTheDaemonCannotReadAreCounted) {
  // A DNS port whose "server" never reads: only the daemon's packet socket matters here.
  const int sink = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_storage to;
  socklen_t to_len = loopback(AF_INET, 0, to);
  ASSERT_EQ(::bind(sink, reinterpret_cast<sockaddr*>(&to), to_len), 0);
  ::getsockname(sink, reinterpret_cast<sockaddr*>(&to), &to_len);
  const auto port = ntohs(reinterpret_cast<sockaddr_in*>(&to)->sin_port);
  const auto daemon_ptr = daemon({port});
  const ProbeDaemon& d = *daemon_ptr;
  // Stopped, the daemon reads nothing: its socket's buffer (8 MiB, about ten thousand of these)
  // or, for the cgroup programs, the sending CPU's perf buffer (at most 1 MiB, about twelve
  // thousand) fills and the kernel drops the rest. The burst is sent from one CPU (the egress
  // program runs on the sender's), so it overflows one perf buffer on any number of CPUs.
  constexpr int kQueries = 30000;
  cpu_set_t was{}, one{};
  ASSERT_EQ(::sched_getaffinity(0, sizeof was, &was), 0);
  CPU_SET(::sched_getcpu(), &one);
  ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);
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
  ::sched_setaffinity(0, sizeof was, &was);
  ::close(fd);
  ::close(sink);
  // Each query is either read (dns_packets) or dropped (either source keeps one of loopback's
  // two copies, so one datagram is one packet either way): seen + dropped == sent.
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

TEST(DnsMonitoringOff, OffByDefaultAndTheRouteSaysSo) {
  ProbeDaemon d;
  EXPECT_TRUE(dns_source(d).is_null());
  const auto reply = d.get_json("/network_tracer/dns");
  EXPECT_EQ(reply["enabled"], false);
  EXPECT_TRUE(reply["dns"].empty());
  EXPECT_EQ(schema_errors(reply, "dns.schema.json"), "");
  EXPECT_EQ(d.get_with("/network_tracer/dns", "").status, 401);
}

// /network_tracer/dns once DOMAIN (type A) at SERVER:PORT has `answered` NOERROR answers
// counted (or after 5 s).
nlohmann::json dns_reply_with_answers(const ProbeDaemon& d, const std::string& server,
                                      std::uint16_t port, const std::string& domain, int answered) {
  nlohmann::json reply;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reply = d.get_json("/network_tracer/dns");
    const auto e = entry(reply, server, port, domain, "A");
    if (!e.is_null() && e["responses"]["noerror"] == answered) break;
  } while (std::chrono::steady_clock::now() < deadline);
  return reply;
}

// The programs of ours (dns_tap_*) attached to the root of the cgroup v2 hierarchy, by name,
// as the kernel lists them (BPF_PROG_QUERY, both attach types).
std::set<std::string> our_cgroup_programs() {
  std::string why;
  const auto root = probe::CgroupPaths::find_cgroup2_mount(&why);
  if (root.empty()) throw std::runtime_error(why);
  const int cg = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) throw std::runtime_error("open " + root.string() + ": " + std::strerror(errno));
  std::set<std::string> out;
  for (const auto type : {BPF_CGROUP_INET_EGRESS, BPF_CGROUP_INET_INGRESS}) {
    __u32 ids[64] = {}, count = 64, flags = 0;
    if (bpf_prog_query(cg, type, 0, &flags, ids, &count) != 0) {
      ::close(cg);
      throw std::runtime_error(std::string("bpf_prog_query: ") + std::strerror(errno));
    }
    for (__u32 i = 0; i < count; ++i) {
      const int fd = bpf_prog_get_fd_by_id(ids[i]);
      if (fd < 0) continue;  // detached meanwhile
      bpf_prog_info info{};
      __u32 len = sizeof info;
      if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
          std::string(info.name).rfind("dns_tap", 0) == 0)
        out.insert(info.name);
      ::close(fd);
    }
  }
  ::close(cg);
  return out;
}

// Waits up to 2 s for our programs to be gone from the cgroup (a link is released when the
// last file descriptor of it closes, as the process exits).
std::set<std::string> our_cgroup_programs_once_gone() {
  auto left = our_cgroup_programs();
  for (int i = 0; i < 40 && !left.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    left = our_cgroup_programs();
  }
  return left;
}

// A container's queries: a network namespace of the test's own (the test process stays in its
// cgroup), its resolver on its own loopback. The cgroup programs see every namespace; the
// packet socket sees only the interfaces of the daemon's.
TEST(DnsCgroupSource, SeesQueriesInAnotherNetworkNamespace) {
  Netns ns("cnmdns");
  std::unique_ptr<Responder> r;
  in_netns(ns.name, [&] { r = std::make_unique<Responder>(AF_INET); });
  const auto ask_in_ns = [&](const char* name, int n) {
    in_netns(ns.name, [&] {
      for (int i = 0; i < n; ++i)
        EXPECT_TRUE(ask(*r, name, ns_t_a, static_cast<std::uint16_t>(1000 + i)));
    });
  };
  {
    ProbeDaemon d(dns_config("cgroup_skb", {r->port()}));
    ASSERT_EQ(dns_source(d)["name"], "cgroup_skb") << d.log();
    ask_in_ns("container.cnm.test", 3);
    const auto reply = dns_reply_with_answers(d, "127.0.0.1", r->port(), "container.cnm.test", 3);
    const auto e = entry(reply, "127.0.0.1", r->port(), "container.cnm.test", "A");
    ASSERT_FALSE(e.is_null()) << reply.dump(1);
    EXPECT_EQ(e["queries"], 3) << e.dump();
    EXPECT_EQ(e["responses"]["noerror"], 3) << e.dump();
    EXPECT_GE(e["latency_us"]["max"].get<long>(), kDelayMs * 1000L) << e.dump();
    // That namespace's loopback shows each message once too.
    EXPECT_EQ(reply["stats"]["dns_packets"], 6) << reply["stats"].dump();
    EXPECT_EQ(reply["stats"]["dns_responses_unmatched"], 0) << reply["stats"].dump();
  }
  {
    ProbeDaemon d(dns_config("packet_socket", {r->port()}));
    ASSERT_EQ(dns_source(d)["name"], "packet_socket") << d.log();
    ask_in_ns("container.cnm.test", 1);
    Responder here(AF_INET);  // a query in the daemon's own namespace, as a marker
    ASSERT_TRUE(ask(here, "marker.cnm.test", ns_t_a, 1000));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto reply = d.get_json("/network_tracer/dns");
    EXPECT_TRUE(entry(reply, "127.0.0.1", r->port(), "container.cnm.test", "A").is_null())
        << "the packet socket saw another namespace's loopback: " << reply.dump(1);
  }
}

// The case the cgroup source does not make exact (probe/README.md): a client and a resolver both
// local, in two network namespaces joined by a veth pair. Each message passes the sender's
// egress and the receiver's ingress: the query counts once (the same query while it waits),
// the answer's second copy is unmatched.
TEST(DnsCgroupSource, AnExchangeBetweenTwoLocalNamespacesOverAVethIsSeenTwice) {
  NetnsPair pair("cnmdnsv");
  std::unique_ptr<Responder> r;
  in_netns(pair.b, [&] { r = std::make_unique<Responder>(AF_INET, pair.addr_b); });
  ProbeDaemon d(dns_config("cgroup_skb", {r->port()}));
  ASSERT_EQ(dns_source(d)["name"], "cgroup_skb") << d.log();
  in_netns(pair.a, [&] {
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(ask(*r, "veth.cnm.test", ns_t_a, static_cast<std::uint16_t>(1000 + i)));
  });
  nlohmann::json reply;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reply = d.get_json("/network_tracer/dns");
  } while (reply["stats"]["dns_packets"] < 12 && std::chrono::steady_clock::now() < deadline);
  const auto e = entry(reply, pair.addr_b, r->port(), "veth.cnm.test", "A");
  ASSERT_FALSE(e.is_null()) << reply.dump(1);
  EXPECT_EQ(e["queries"], 3) << e.dump();
  EXPECT_EQ(e["responses"]["noerror"], 3) << e.dump();
  EXPECT_EQ(reply["stats"]["dns_packets"], 12) << reply["stats"].dump();
  EXPECT_EQ(reply["stats"]["dns_responses_unmatched"], 3) << reply["stats"].dump();
}

// The programs return 1 (pass) on every path: with them attached, DNS and other UDP, TCP over
// loopback (IPv4 and IPv6) and TCP between two namespaces over a veth pair all still flow, in
// full. A program that returned 0 would drop every one of these.
TEST(DnsCgroupSource, TrafficStillFlowsWithTheProgramsAttached) {
  Responder dns(AF_INET), dns6(AF_INET6), other(AF_INET);
  NetnsPair pair("cnmdnsf");
  ProbeDaemon d(dns_config("cgroup_skb", {dns.port(), dns6.port()}));
  ASSERT_EQ(dns_source(d)["name"], "cgroup_skb") << d.log();
  ASSERT_EQ(our_cgroup_programs(), (std::set<std::string>{"dns_tap_egress", "dns_tap_ingress"}));
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(ask(dns, "flows.cnm.test", ns_t_a, static_cast<std::uint16_t>(1000 + i)));
    EXPECT_TRUE(ask(dns6, "flows6.cnm.test", ns_t_aaaa, static_cast<std::uint16_t>(1000 + i)));
    EXPECT_TRUE(ask(other, "not-dns-port.cnm.test", ns_t_a, static_cast<std::uint16_t>(1000 + i)));
  }
  const auto bytes = [](int i) { return std::uint64_t{100000} + static_cast<std::uint64_t>(i); };
  EXPECT_NO_THROW(run_exchanges({"", "", 4, "127.0.0.1", 20, bytes, bytes}));
  EXPECT_NO_THROW(run_exchanges({"", "", 6, "::1", 20, bytes, bytes}));
  EXPECT_NO_THROW(run_exchanges({pair.a, pair.b, 4, pair.addr_b, 20, bytes, bytes}));
  const auto reply = dns_reply_with_answers(d, "127.0.0.1", dns.port(), "flows.cnm.test", 5);
  const auto e = entry(reply, "127.0.0.1", dns.port(), "flows.cnm.test", "A");
  ASSERT_FALSE(e.is_null()) << reply.dump(1);
  EXPECT_EQ(e["responses"]["noerror"], 5) << e.dump();
}

// A bpf_link goes with the daemon's file descriptors: after a clean stop and after SIGKILL (a
// crash: no destructor runs) none of our programs is left on the cgroup.
TEST(DnsCgroupSource, NoProgramIsLeftAttachedOnceTheDaemonIsGone) {
  ASSERT_TRUE(our_cgroup_programs().empty()) << "a daemon of another test is still attached";
  {
    ProbeDaemon d(dns_config("cgroup_skb", {53}));
    EXPECT_EQ(our_cgroup_programs(), (std::set<std::string>{"dns_tap_egress", "dns_tap_ingress"}));
    EXPECT_EQ(d.stop(), 0);
    EXPECT_TRUE(our_cgroup_programs_once_gone().empty());
  }
  {
    ProbeDaemon d(dns_config("cgroup_skb", {53}));
    EXPECT_EQ(our_cgroup_programs().size(), 2u);
    ASSERT_EQ(::kill(d.pid(), SIGKILL), 0);
    d.stop();  // reaps it
    EXPECT_TRUE(our_cgroup_programs_once_gone().empty());
  }
}

// Where there is no cgroup v2 (every cgroup2 mount taken away in the daemon's mount namespace),
// "auto" falls back to the packet socket, says why in the log and in /debug/stats, and DNS is
// still counted; the cgroup source forced stops the daemon with the reason.
TEST(DnsCgroupSource, WithoutCgroup2AutoFallsBackToThePacketSocketAndSaysWhy) {
  Responder dns(AF_INET);
  {
    ProbeDaemon d(dns_config("auto", {dns.port()}), "", {}, false, without_cgroup2());
    const auto src = dns_source(d);
    EXPECT_EQ(src["name"], "packet_socket") << src.dump();
    EXPECT_NE(src["why_not_cgroup_skb"].get<std::string>().find("no cgroup2 mount"),
              std::string::npos)
        << src.dump();
    EXPECT_NE(d.log().find("falling back to a packet socket"), std::string::npos) << d.log();
    ASSERT_TRUE(ask(dns, "fallback.cnm.test", ns_t_a, 1000));
    const auto reply = dns_reply_once_answered(d, dns.port(), "fallback.cnm.test");
    EXPECT_FALSE(entry(reply, "127.0.0.1", dns.port(), "fallback.cnm.test", "A").is_null())
        << reply.dump(1);
  }
  {
    ProbeDaemon d(dns_config("auto", {dns.port()}));  // with cgroup2: the cgroup programs
    const auto src = dns_source(d);
    EXPECT_EQ(src["name"], "cgroup_skb") << src.dump();
    EXPECT_EQ(src["why_not_cgroup_skb"], "") << src.dump();
    EXPECT_FALSE(src["cgroup"].get<std::string>().empty()) << src.dump();
  }
  try {
    ProbeDaemon d(dns_config("cgroup_skb", {dns.port()}), "", {}, false, without_cgroup2());
    ADD_FAILURE() << "the forced cgroup source started without cgroup2:\n" << d.log();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("dns_source cgroup_skb: no cgroup2 mount"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cnm::test
