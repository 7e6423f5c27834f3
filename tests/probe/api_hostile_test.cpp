// The API against hostile clients, on the real daemon over its unix socket: work before
// authentication is bounded (header count and bytes, a deadline per request head, the token
// checked as its header ends), a legitimate client is served within 100 ms while 500 hostile
// connections are held open, the daemon's memory stays bounded, HEAD consumes nothing, and
// pipelined requests are all answered in order. Every client loop is bounded in count and time.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "tests/probe/probe_daemon.h"
#include "tests/probe/unix_client.h"

namespace cnm::test {
namespace {

using Clock = std::chrono::steady_clock;

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

std::string get(const std::string& path, const std::string& token, bool close = false) {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n" +
         (close ? "Connection: close\r\n" : "") + "\r\n";
}

// A request with unbounded headers, sent without the token: refused after the header limit,
// long before the sender is done, with nothing kept.
TEST(ProbeApiHostile, MillionsOfHeadersAreCutOffEarlyAndCostNothing) {
  ProbeDaemon d;
  const long rss0 = d.rss_kib();
  for (int round = 0; round < 4; ++round) {
    const int fd = connect_to(d.socket_path());
    ASSERT_GE(fd, 0);
    std::string chunk;
    for (int i = 0; i < 10000; ++i) chunk += "X-Header-" + std::to_string(i) + ": yyyyyyyy\r\n";
    bool cut = !send_all(fd, "GET /health HTTP/1.1\r\n");
    std::size_t sent = 0;
    for (int i = 0; i < 100 && !cut; ++i) {  // up to a million headers, ~25 MB
      cut = !send_all(fd, chunk);
      if (!cut) sent += chunk.size();
    }
    EXPECT_TRUE(cut) << "the server read " << sent << " bytes of headers";
    EXPECT_LT(sent, 4u << 20);  // the socket buffers hold some; the server stopped reading
    ::close(fd);
  }
  EXPECT_EQ(d.get("/health").status, 200);
  EXPECT_LT(d.rss_kib() - rss0, 16 * 1024) << "RSS before " << rss0 << " KiB";
}

TEST(ProbeApiHostile, AWrongTokenIsRefusedAsItsHeaderEnds) {
  ProbeDaemon d;
  const int fd = connect_to(d.socket_path());
  ASSERT_GE(fd, 0);
  // The request never ends: the answer can only come from checking the token early.
  ASSERT_TRUE(send_all(fd, "GET /health HTTP/1.1\r\nAuthorization: Bearer wrong\r\nX-More: "));
  const auto t0 = Clock::now();
  const auto out = read_to_close(fd, std::chrono::milliseconds(1500));
  ::close(fd);
  EXPECT_EQ(out.rfind("HTTP/1.1 401 ", 0), 0u) << out;
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(1000));
}

// One byte at a time, each in time for a read timeout that restarts with it: the request head
// still has a deadline (2 s), then 408 and the connection closes.
TEST(ProbeApiHostile, ASlowRequestHeadHitsItsDeadline) {
  ProbeDaemon d;
  const int fd = connect_to(d.socket_path());
  ASSERT_GE(fd, 0);
  const std::string req = get("/health", d.token());
  const auto t0 = Clock::now();
  std::string out;
  for (std::size_t i = 0; i < req.size() && Clock::now() - t0 < std::chrono::seconds(8); ++i) {
    if (!send_all(fd, req.substr(i, 1))) break;
    out += read_to_close(fd, std::chrono::milliseconds(100));
    if (!out.empty()) break;
  }
  out += read_to_close(fd, std::chrono::milliseconds(500));
  ::close(fd);
  EXPECT_EQ(out.rfind("HTTP/1.1 408 ", 0), 0u) << out;
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(4));
}

// Three requests in one write: three answers, in order (none dropped behind the first).
TEST(ProbeApiHostile, PipelinedRequestsAreAllAnsweredInOrder) {
  ProbeDaemon d;
  const int fd = connect_to(d.socket_path());
  ASSERT_GE(fd, 0);
  std::string burst;
  for (int i = 0; i < 7; ++i) burst += get(i % 2 ? "/metrics" : "/health", d.token());
  burst += get("/debug/stats", d.token(), true);
  ASSERT_TRUE(send_all(fd, burst));
  const auto out = read_to_close(fd, std::chrono::seconds(5));
  ::close(fd);
  EXPECT_EQ(count(out, "HTTP/1.1 200 OK"), 8u) << out.substr(0, 400);
  const auto metrics = out.find("cnm_probe_");
  const auto stats = out.find("\"api_requests\"");
  EXPECT_NE(metrics, std::string::npos);
  EXPECT_NE(stats, std::string::npos);
  EXPECT_LT(metrics, stats);  // /debug/stats was last
}

// HEAD on the connections route answers the GET's head without taking what the client has not
// read: a connection closed before the HEAD is still in the next GET.
TEST(ProbeApiHostile, HeadDoesNotConsumeAClientsClosedConnections) {
  ProbeDaemon d;
  ASSERT_EQ(d.get("/network_tracer/connections?client_id=h").status, 200);  // registers h
  std::uint16_t port = 0;
  const int listener = loopback_listener(port);
  ASSERT_GE(listener, 0);
  {
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in to = ipv4("127.0.0.1", port);
    ASSERT_EQ(::connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to), 0);
    const int a = ::accept(listener, nullptr, nullptr);
    ::close(c);
    ::close(a);
  }
  ::close(listener);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int fd = connect_to(d.socket_path());
  ASSERT_TRUE(send_all(fd,
                       "HEAD /network_tracer/connections?client_id=h HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer " +
                           d.token() + "\r\nConnection: close\r\n\r\n"));
  const auto head = read_to_close(fd, std::chrono::seconds(5));
  ::close(fd);
  EXPECT_EQ(head.rfind("HTTP/1.1 200 ", 0), 0u) << head;
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");  // no body
  const auto is_it = [&](const nlohmann::json& c) {
    return c["closed"] == true && (c["rport"] == port || c["lport"] == port);
  };
  const auto all = gather_connections(
      d, "h", [&](const nlohmann::json& got) { return std::any_of(got.begin(), got.end(), is_it); },
      5);
  const bool found = std::any_of(all.begin(), all.end(), is_it);
  EXPECT_TRUE(found) << all.dump().substr(0, 400);
}

// 500 hostile connections from 5 processes (slow heads, idle, endless headers, a wrong token
// re-sent) held open while a legitimate client asks /health 50 times: each answer within
// 100 ms, the daemon's memory bounded. Bounded: 6 s of hostility, then everything stops.
TEST(ProbeApiHostile, ALegitimateClientIsServedWithin100msWhile500HostileOnesHoldOn) {
  ProbeDaemon d;
  const long rss0 = d.rss_kib();
  constexpr int kProcs = 5, kPerProc = 100;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(ready[0]);
      std::vector<int> fds;
      for (int i = 0; i < kPerProc; ++i) fds.push_back(connect_to(d.socket_path()));
      (void)!::write(ready[1], "x", 1);
      const auto end = Clock::now() + std::chrono::seconds(6);
      for (int tick = 0; Clock::now() < end; ++tick) {
        for (std::size_t i = 0; i < fds.size(); ++i) {
          int& fd = fds[i];
          if (fd < 0) fd = connect_to(d.socket_path());  // closed by the server: come back
          if (fd < 0) continue;
          bool ok = true;
          switch (i % 4) {
            case 0:  // slowloris: one byte of a never-ending head per tick
              ok = send_all(fd, tick == 0 ? "GET /health HTTP/1.1\r\nX: " : "a");
              break;
            case 1:  // idle: connected, says nothing
              break;
            case 2:  // endless headers
              ok = send_all(fd, (tick == 0 ? std::string("GET / HTTP/1.1\r\n") : "") +
                                    std::string(200, 'h') + ": v\r\n");
              break;
            case 3:  // a wrong token again and again
              ok = send_all(fd, "GET /debug/stats HTTP/1.1\r\nAuthorization: Bearer nope\r\n\r\n");
              break;
          }
          char sink[4096];
          while (ok && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
          }
          if (!ok) {
            ::close(fd);
            fd = -1;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  ::close(ready[1]);
  char b;
  for (int p = 0; p < kProcs; ++p) ASSERT_EQ(::read(ready[0], &b, 1), 1);
  ::close(ready[0]);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // hostility under way

  std::vector<double> ms;
  long rss_max = 0;
  for (int i = 0; i < 50; ++i) {
    const auto t0 = Clock::now();
    const auto r = d.get("/health");
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    EXPECT_EQ(r.status, 200) << "request " << i << ": " << r.error;
    rss_max = std::max(rss_max, d.rss_kib());
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  for (const pid_t k : kids) ::waitpid(k, nullptr, 0);
  std::sort(ms.begin(), ms.end());
  std::printf(
      "legitimate /health under 500 hostile connections: median %.2f ms, max %.2f ms; "
      "daemon RSS %ld KiB before, %ld KiB at most\n",
      ms[ms.size() / 2], ms.back(), rss0, rss_max);
  EXPECT_LE(ms.back(), 100.0);
  EXPECT_LT(rss_max - rss0, 32 * 1024);
}

}  // namespace
}  // namespace cnm::test
