// The API server in-process (no root, no BPF) against hostile local clients: silent
// connections from many processes must not lock a token holder out of /health, and clients
// that never read a large streamed reply must not hold the workers (or more than a bounded
// buffer each). Small ApiLimits keep each case cheap.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "probe/http_server.h"
#include "tests/probe/api_server_fixture.h"
#include "tests/probe/unix_client.h"
#include "tests/support/test_support.h"

namespace cnm::probe {
namespace {

using namespace test_api;

using namespace std::chrono_literals;
using test::connect_to;
using test::read_to_close;
using test::send_all;
using test::set_timeout;

// Waits up to `limit` for a counter to stay the same over 100 ms; false when it kept changing.
bool settled(const std::atomic<std::size_t>& v, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  std::size_t last = v;
  while (std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(100ms);
    const std::size_t now = v;
    if (now == last) return true;
    last = now;
  }
  return false;
}

// Decodes a chunked body; false when it is malformed or has no last chunk.
bool dechunk(const std::string& body, std::string& out) {
  std::size_t at = 0;
  while (true) {
    const auto eol = body.find("\r\n", at);
    if (eol == std::string::npos) return false;
    const std::size_t n = std::stoul(body.substr(at, eol - at), nullptr, 16);
    at = eol + 2;
    if (n == 0) return body.compare(at, 2, "\r\n") == 0;
    if (body.size() < at + n + 2) return false;
    out.append(body, at, n);
    at += n + 2;
  }
}

// A slow reader: asks for the connections reply with a small receive buffer and does not read.
int slow_reader(const std::string& sock) {
  const int fd = connect_to(sock);
  if (fd < 0) return -1;
  const int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  if (!send_all(fd, request("/network_tracer/connections?client_id=slow", false))) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(ApiServer, SilentConnectionsFromManyProcessesDoNotLockOutTheTokenHolder) {
  ApiLimits limits;
  limits.max_connections = 64;
  limits.max_per_peer = 16;
  // Everything here runs as one user: the table's eviction order is what protects the
  // token holder, not the per-user cap.
  limits.max_unauthenticated_per_uid = limits.max_connections;
  // Longer than the test: only an eviction, never the idle timeout, closes the canary below.
  limits.idle_timeout = 60s;
  Served s(limits);

  // A silent connection older than all the others: the first to go once the table is full.
  const int canary = connect_to(s.sock);
  ASSERT_GE(canary, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(s.sock.size(), sizeof addr.sun_path) << s.sock;
  std::memcpy(addr.sun_path, s.sock.c_str(), std::min(s.sock.size(), sizeof addr.sun_path - 1));

  // Eight processes (2 * 64 connections between them), each holding 16 connections that
  // never send a byte, closing its oldest and opening another, without pause.
  Children children;
  const pid_t parent = ::getpid();
  for (int i = 0; i < 8; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {  // only async-signal-safe calls here: the parent has threads
      // Dies with the test process, even where the test cannot kill it (a crash); getppid()
      // covers a parent that died before prctl.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      // No copy of the server's descriptors (the loop accepts while we fork): the server's
      // close of a connection must reach its client, the canary's included. close_range is
      // Linux 5.9; the loop covers older kernels.
      if (::close_range(3, ~0U, 0) != 0)
        for (int fd = 3; fd < 1024; ++fd) ::close(fd);
      int ring[16];
      for (int& fd : ring) fd = -1;
      for (unsigned n = 0;; ++n) {
        int& slot = ring[n % 16];
        if (slot >= 0) ::close(slot);
        slot = ::socket(AF_UNIX, SOCK_STREAM, 0);
        if (slot >= 0 && ::connect(slot, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
          ::close(slot);
          slot = -1;
        }
      }
    }
    children.pids.push_back(pid);
  }
  // The canary's eviction proves the table is full and churning.
  EXPECT_TRUE(eventually([&] { return closed_by_server(canary); }, 10000ms))
      << "the oldest silent connection was never evicted: the table did not fill";
  ::close(canary);
  int ok = 0;
  for (int i = 0; i < 30; ++i) ok += get_status(s.sock, "/health") == 200;
  EXPECT_EQ(ok, 30) << "the token holder's /health calls that succeeded, of 30";
}

// One user past its cap of connections without the token evicts its own, in this order: silent
// ones that had their grace, then ones that sent part of a head, then silent ones still in
// their grace (a client descheduled between its connect and its write), oldest first.
TEST(ApiServer, OneUsersUnauthenticatedConnectionsEvictTheirOwnInOrder) {
  ApiLimits limits;
  limits.max_per_peer = 64;
  limits.max_unauthenticated_per_uid = 8;
  limits.silent_grace = 300ms;
  Served s(limits);
  const auto& sock = s.sock;
  const auto open = [&] {
    const int fd = connect_to(sock);
    EXPECT_GE(fd, 0);
    return fd;
  };
  // 4 silent past their grace, 1 that sent part of a head (no token yet), 12 fresh silent ones:
  // 17, then the token holder, for the user's 8. So 10 go: the 4 old silent ones, the partial
  // one, and the 5 oldest fresh ones.
  std::vector<int> old_silent, fresh;
  for (int i = 0; i < 4; ++i) old_silent.push_back(open());
  std::this_thread::sleep_for(400ms);
  const int partial = open();
  ASSERT_TRUE(send_all(partial, "GET /health HTTP/1.1\r\nHost: x\r\n"));
  for (int i = 0; i < 12; ++i) fresh.push_back(open());
  // The same user's token holder is served (connections are accepted in order: by its reply,
  // every eviction above was made).
  EXPECT_EQ(get_status(sock, "/health"), 200);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(closed_by_server(old_silent[i])) << "old silent " << i;
  EXPECT_TRUE(closed_by_server(partial)) << "part of a head goes before silent ones in grace";
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(closed_by_server(fresh[i])) << "fresh " << i;
  for (int i = 5; i < 12; ++i) EXPECT_FALSE(closed_by_server(fresh[i])) << "fresh " << i;
  // One of those left may still send its request and be answered.
  ASSERT_TRUE(send_all(fresh[11], request("/health", true)));
  EXPECT_EQ(read_to_close(fresh[11], 5000ms).rfind("HTTP/1.1 200", 0), 0u);
  for (const int fd : old_silent) ::close(fd);
  for (const int fd : fresh) ::close(fd);
  ::close(partial);
}

TEST(ApiServer, SlowReadersHoldNeitherTheWorkersNorMoreThanABoundedBuffer) {
  ApiLimits limits;
  limits.workers = 2;
  limits.max_streams = 4;
  limits.reply_buffer = 64 * 1024;
  limits.write_deadline = 60s;  // longer than this test: only the server's design saves it
  Served s(limits);
  const auto& sock = s.sock;
  auto& fake = s.fake;
  fake.pieces = 512;  // 8 MiB a reply

  // Twice as many readers that never read as there are workers.
  std::vector<int> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(slow_reader(sock));
    ASSERT_GE(slow.back(), 0);
  }
  // Every one's reply started: no worker waits on a slow reader.
  EXPECT_TRUE(eventually([&] { return fake.started == 4; })) << fake.started << " started";
  EXPECT_EQ(get_status(sock, "/health"), 200);
  EXPECT_EQ(get_status(sock, "/debug/stats"), 200);
  // Every streaming place is taken: a GET of the connections gets 503, and so does its HEAD,
  // announcing the GET's body length.
  const auto exchange = [&](const std::string& method) {
    const int fd = connect_to(sock);
    EXPECT_GE(fd, 0);
    EXPECT_TRUE(send_all(fd, method +
                                 " /network_tracer/connections?client_id=busy HTTP/1.1\r\n"
                                 "Authorization: Bearer " +
                                 kToken + "\r\nConnection: close\r\n\r\n"));
    const auto reply = read_to_close(fd, 5000ms);
    ::close(fd);
    return reply;
  };
  const auto get = exchange("GET"), head = exchange("HEAD");
  EXPECT_EQ(get.rfind("HTTP/1.1 503 ", 0), 0u) << get;
  EXPECT_EQ(head.rfind("HTTP/1.1 503 ", 0), 0u) << head;
  const auto length = [](const std::string& reply) {
    const auto at = reply.find("Content-Length: ");
    return at == std::string::npos ? std::string() : reply.substr(at, reply.find('\r', at) - at);
  };
  EXPECT_FALSE(length(get).empty()) << get;
  EXPECT_EQ(length(head), length(get)) << head;
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");  // no body
  // What a reader that does not read costs is bounded: reply_buffer and one piece in the
  // server, and what its socket holds, far below the 8 MiB reply. The server's end of a unix
  // stream socket has sk_sndbuf = wmem_default (it sets no SO_SNDBUF); unix_stream_sendmsg
  // sends skbs of at most sk_sndbuf / 2 and blocks once sk_wmem_alloc reaches sk_sndbuf, so
  // under 1.5 * wmem_default is queued: 2 * wmem_default bounds it. Measured once the replies
  // stopped producing (all four parked).
  EXPECT_TRUE(settled(fake.produced)) << fake.produced << " bytes produced and counting";
  const std::size_t wmem = std::stoul(test::read_file("/proc/sys/net/core/wmem_default"));
  const std::size_t bound = 4 * (limits.reply_buffer + kPiece + 2 * wmem);
  EXPECT_LT(fake.produced.load(), bound) << "bytes produced, wmem_default " << wmem;

  // A slow reader that reads at last gets the whole reply, then can ask again (keep-alive).
  const int fd = slow[0];
  std::string got;
  set_timeout(fd, 10s);
  char buf[65536];
  while (got.size() < 5 || got.compare(got.size() - 5, 5, "0\r\n\r\n") != 0) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0) << "after " << got.size() << " bytes";
    got.append(buf, static_cast<std::size_t>(n));
  }
  const auto body_at = got.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u);
  std::string body;
  ASSERT_TRUE(dechunk(got.substr(body_at + 4), body));
  EXPECT_EQ(body, std::string(512 * kPiece, 'c'));
  ASSERT_TRUE(send_all(fd, request("/health", true)));
  const auto again = read_to_close(fd, 5000ms);
  EXPECT_EQ(again.rfind("HTTP/1.1 200", 0), 0u) << again.substr(0, 40);
  for (const int r : slow) ::close(r);
  // The replies the others did not read are let go once their clients are gone.
  EXPECT_TRUE(eventually([&] { return fake.alive == 0; })) << fake.alive << " replies alive";
}

TEST(ApiServer, AReplyNotReadInTimeIsCutAndLetGo) {
  ApiLimits limits;
  limits.write_deadline = 300ms;
  limits.reply_buffer = 16 * 1024;
  Served s(limits);
  auto& fake = s.fake;
  const int fd = slow_reader(s.sock);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(eventually([&] { return fake.started == 1; }));
  EXPECT_TRUE(eventually([&] { return fake.alive == 0; }))
      << "the parked reply outlived its deadline";
  // The client sees the reply end without its last chunk: cut, not complete.
  const auto got = read_to_close(fd, 5000ms);
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_LT(got.size(), 512 * kPiece);
  ::close(fd);
}

TEST(ApiServer, StreamsPastMaxStreamsAre503AndHealthStillAnswers) {
  ApiLimits limits;
  limits.max_streams = 1;
  Served s(limits);
  const auto& sock = s.sock;
  auto& fake = s.fake;
  const int fd = slow_reader(sock);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(eventually([&] { return fake.started == 1; }));
  EXPECT_EQ(get_status(sock, "/network_tracer/connections?client_id=b"), 503);
  EXPECT_EQ(fake.started, 1u);  // refused before the route ran (no snapshot taken)
  EXPECT_EQ(get_status(sock, "/health"), 200);
  ::close(fd);
  // The place is given back with the reply.
  EXPECT_TRUE(eventually([&] { return fake.alive == 0; }));
  EXPECT_EQ(get_status(sock, "/network_tracer/connections?client_id=b"), 200);
}

// probe/README.md states the API's contract with ApiLimits' defaults: the copies agree.
TEST(ApiServer, ReadmeStatesTheDefaultLimits) {
  const ApiLimits d;
  std::string text;  // the README with every run of whitespace one space: lines wrap anywhere
  for (const char c : test::read_file(test::source_dir() / "probe/README.md"))
    if (!std::isspace(static_cast<unsigned char>(c)))
      text += c;
    else if (!text.empty() && text.back() != ' ')
      text += ' ';
  for (const auto& said : {
           "At most " + std::to_string(d.max_connections) + " connections in all",
           std::to_string(d.max_per_peer) + " per connecting process",
           "at most " + std::to_string(d.max_unauthenticated_per_uid) +
               " connections that never presented the token",
           "sent nothing for " + std::to_string(d.silent_grace.count()) + " ms",
           "more than " + std::to_string(d.max_queued) + " waiting",
           "at most " + std::to_string(d.reply_buffer / 1024) + " KiB of reply",
           "At most " + std::to_string(d.max_streams) + " `/network_tracer/connections` replies",
           "A reply has " + std::to_string(d.write_deadline.count() / 1000) + " s to be written",
       })
    EXPECT_NE(text.find(said), std::string::npos) << said;
}

}  // namespace
}  // namespace cnm::probe
