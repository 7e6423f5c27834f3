// The HTTP API over the unix socket: authentication, bad requests, 50 concurrent clients,
// the socket's mode and group, readiness over sd_notify.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include <chrono>

#include "tests/probe/net_env.h"
#include "tests/probe/probe_daemon.h"
#include "tests/probe/unix_client.h"

namespace cnm::test {
namespace {

// Sends raw bytes on the daemon's socket and returns what it answers, up to the end of the
// reply's head (the server keeps the connection open for keep-alive).
std::string raw_request(const std::string& socket_path, const std::string& bytes) {
  const int fd = connect_to(socket_path);
  if (fd < 0) return "connect failed";
  (void)send_all(fd, bytes);  // the server may close early on an oversized request
  set_timeout(fd, std::chrono::seconds(5));
  std::string out;
  char buf[4096];
  ssize_t n;
  while (out.find("\r\n\r\n") == std::string::npos && (n = ::read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

const char* kRoutes[] = {"/health", "/debug/stats", "/metrics",
                         "/network_tracer/connections?client_id=x"};

TEST(ProbeApi, NoTokenOrWrongTokenGets401AndNothingElse) {
  ProbeDaemon d;
  for (const char* route : kRoutes) {
    for (const std::string& auth : {std::string(), std::string("Bearer wrong"),
                                    "Bearer " + d.token() + "x", "Basic " + d.token(), d.token()}) {
      const auto r = d.get_with(route, auth);
      EXPECT_EQ(r.status, 401) << route << " with '" << auth << "'";
      EXPECT_EQ(r.body, "") << route;
    }
    EXPECT_EQ(d.get(route).status, 200) << route;
  }
  // Unknown routes are not revealed without a token either.
  EXPECT_EQ(d.get_with("/nope", "").status, 401);
  EXPECT_EQ(d.get("/nope").status, 404);
}

TEST(ProbeApi, HealthContractForTheInstaller) {
  ProbeDaemon d;
  const auto h = d.get("/health");
  ASSERT_EQ(h.status, 200);
  EXPECT_LT(h.body.size(), 1024u);
  const auto j = nlohmann::json::parse(h.body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_GE(j["programs_attached"], 1);
  // This kernel takes the BTF-typed tracepoint, which the daemon prefers.
  EXPECT_EQ(j["hooks"][0], "tp_btf/inet_sock_set_state");
  EXPECT_EQ(j["version"], CNM_VERSION);
}

TEST(ProbeApi, HookSetSettingPicksTheRungAndStatsSayWhichRuns) {
  ProbeDaemon raw("network_config:\n  hook_set: raw_tp\n");
  EXPECT_EQ(raw.get_json("/health")["hooks"][0], "raw_tp/inet_sock_set_state");
  const auto rs = raw.get_json("/debug/stats");
  EXPECT_EQ(rs["config"]["hook_set"], "raw_tp");
  EXPECT_EQ(rs["rung"]["name"], "raw_tp") << rs.dump();
  EXPECT_EQ(rs["rung"]["closed_channel"], "ring_buffer");
  ProbeDaemon btf("network_config:\n  hook_set: tp_btf\n");
  EXPECT_EQ(btf.get_json("/health")["hooks"][0], "tp_btf/inet_sock_set_state");
  EXPECT_NE(btf.log().find("hook chosen: tp_btf/inet_sock_set_state"), std::string::npos)
      << btf.log();
  ProbeDaemon perf("network_config:\n  hook_set: raw_tp_perf\n");
  const auto ps = perf.get_json("/debug/stats");
  EXPECT_EQ(ps["rung"]["name"], "raw_tp_perf") << ps.dump();
  EXPECT_EQ(ps["rung"]["closed_channel"], "perf_buffer");
  EXPECT_EQ(ps["conn_map_slots"], 0);
  // What it goes without, against the best rung, is said.
  EXPECT_NE(ps["rung"]["hooks_lost"].dump().find("snapshot"), std::string::npos) << ps.dump();
  ProbeDaemon best;  // auto: the best this kernel runs
  EXPECT_EQ(best.get_json("/debug/stats")["rung"]["name"], "tp_btf");
}

TEST(ProbeApi, HealthIs503WhenNetworkMonitoringIsDisabled) {
  // ProbeDaemon waits for 200, so drive this one by hand through the same files.
  TempDir dir;
  const auto sock = (dir / "s.sock").string();
  write_file(dir / "c.yaml", "auth_token_file_path: " + (dir / "tok").string() +
                                 "\nsystem_probe_config:\n" + "  sysprobe_socket: " + sock +
                                 "\nnetwork_config:\n  enabled: false\n");
  const auto cmd = cnm_probe_path() + " --config " + (dir / "c.yaml").string() + " 2>" +
                   (dir / "log").string() + " & pid=$!; for i in $(seq 100); do [ -S " + sock +
                   " ] && break; sleep 0.05; done; " +
                   "curl -s -o /dev/null -w '%{http_code}' --unix-socket " + sock +
                   " -H \"Authorization: Bearer $(cat " + (dir / "tok").string() +
                   ")\" http://x/health; " + "kill -TERM $pid; wait $pid; echo \" rc=$?\"";
  const auto r = sh(cmd);
  EXPECT_EQ(r.out, "503 rc=0\n") << r.err << read_file(dir / "log");
}

TEST(ProbeApi, MalformedAndOversizedRequestsAreRefusedAndServingGoesOn) {
  ProbeDaemon d;
  const auto auth = "Authorization: Bearer " + d.token() + "\r\n";
  EXPECT_NE(raw_request(d.socket_path(), "GARBAGE\r\n\r\n").find("HTTP/1.1 400"),
            std::string::npos);
  EXPECT_NE(raw_request(d.socket_path(), "GET /health HTTP/9.9\r\n" + auth + "\r\n").find(" 400 "),
            std::string::npos);
  // A header far over the limit.
  const auto big_header =
      raw_request(d.socket_path(), "GET /health HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'a') +
                                       "\r\n" + auth + "\r\n");
  EXPECT_TRUE(big_header.empty() || big_header.find(" 200 ") == std::string::npos)
      << big_header.substr(0, 80);
  // A huge URI.
  const auto big_uri = raw_request(
      d.socket_path(), "GET /health?" + std::string(20000, 'q') + " HTTP/1.1\r\n" + auth + "\r\n");
  EXPECT_NE(big_uri.find(" 414 "), std::string::npos) << big_uri.substr(0, 80);
  // A body over the limit.
  const auto big_body =
      raw_request(d.socket_path(), "POST /health HTTP/1.1\r\n" + auth +
                                       "Content-Length: 100000\r\n\r\n" + std::string(100000, 'b'));
  EXPECT_NE(big_body.find(" 413 "), std::string::npos) << big_body.substr(0, 80);
  // Missing client_id.
  EXPECT_EQ(d.get("/network_tracer/connections").status, 400);
  EXPECT_EQ(d.get("/health").status, 200);
}

TEST(ProbeApi, FiftyConcurrentClientsAreAllServed) {
  ProbeDaemon d("network_config:\n  max_clients: 50\n");
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 50; ++i) {
    clients.emplace_back([&, i] {
      for (int j = 0; j < 20; ++j) {
        const auto path =
            j % 2 ? "/health" : "/network_tracer/connections?client_id=c" + std::to_string(i);
        (d.get(path).status == 200 ? ok : bad)++;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 1000);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(d.get_json("/debug/stats")["clients"], 50);
  // The table is full and every client called within the idle period: a 51st is refused, said
  // in JSON and counted, and the 50 keep their state.
  const auto refused = d.get("/network_tracer/connections?client_id=c50");
  EXPECT_EQ(refused.status, 503);
  const auto why = nlohmann::json::parse(refused.body, nullptr, false);
  EXPECT_NE(why.value("error", "").find("too many clients"), std::string::npos) << refused.body;
  EXPECT_EQ(why.value("max_clients", 0), 50) << refused.body;
  const auto stats = d.get_json("/debug/stats");
  EXPECT_EQ(stats["clients_refused"], 1);
  EXPECT_EQ(stats["clients_max"], 50);
  EXPECT_EQ(stats["clients_evicted"], 0);
  EXPECT_EQ(stats["config"]["max_clients"], 50);
  EXPECT_NE(d.get("/metrics").body.find("cnm_probe_clients_refused_total 1\n"), std::string::npos);
  EXPECT_EQ(d.get("/network_tracer/connections?client_id=c0").status, 200);
  // A HEAD answers what the GET would: the refusal's head (its length, no body) for a 51st,
  // counted as a refusal; a known client's 200, chunked.
  const auto head = [&](const std::string& id) {
    return raw_request(d.socket_path(), "HEAD /network_tracer/connections?client_id=" + id +
                                            " HTTP/1.1\r\nAuthorization: Bearer " + d.token() +
                                            "\r\nConnection: close\r\n\r\n");
  };
  const auto refused_head = head("c50");
  EXPECT_EQ(refused_head.rfind("HTTP/1.1 503 ", 0), 0u) << refused_head;
  EXPECT_NE(refused_head.find("Content-Length: " + std::to_string(refused.body.size()) + "\r\n"),
            std::string::npos)
      << refused_head;
  EXPECT_EQ(refused_head.substr(refused_head.find("\r\n\r\n") + 4), "");
  EXPECT_EQ(d.get_json("/debug/stats")["clients_refused"], 2);
  const auto known_head = head("c1");
  EXPECT_EQ(known_head.rfind("HTTP/1.1 200 ", 0), 0u) << known_head;
  EXPECT_NE(known_head.find("Transfer-Encoding: chunked"), std::string::npos) << known_head;
}

// The connections reply is streamed: a client that hangs up after the headers, its reply
// (~2000 connections, eight pieces) not read, leaves the daemon serving, and another client
// still gets every connection.
TEST(ProbeApi, AClientThatHangsUpMidReplyLeavesServingIntact) {
  ProbeDaemon d;
  ASSERT_EQ(d.get("/network_tracer/connections?client_id=full").status, 200);  // known first
  ExchangeSpec spec;
  spec.server_addr = "127.0.0.1";
  spec.count = 1000;
  spec.c2s = [](int) { return 1; };
  spec.s2c = [](int) { return 1; };
  const auto xs = run_exchanges(spec);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (d.get_json("/debug/stats")["closed_received"] < 2000 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

  const std::string auth = "Authorization: Bearer " + d.token() + "\r\n";
  const auto head =
      raw_request(d.socket_path(),
                  "GET /network_tracer/connections?client_id=gone HTTP/1.1\r\n" + auth + "\r\n");
  EXPECT_NE(head.find("HTTP/1.1 200"), std::string::npos) << head;
  EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;

  EXPECT_EQ(d.get("/health").status, 200);
  const auto all = d.get_json("/network_tracer/connections?client_id=full");
  int ours = 0;
  for (const auto& c : all["connections"])
    if (c["closed"] == true && (c["lport"] == xs[0].server_port || c["rport"] == xs[0].server_port))
      ++ours;
  EXPECT_EQ(ours, 2000);  // both ends of each
}

TEST(ProbeApi, SocketIsMode0660AndInTheLayoutsGroup) {
  // The layout's group (dd-agent by default) decides; "daemon" exists on every Debian host.
  const group* g = ::getgrnam("daemon");
  ASSERT_NE(g, nullptr);
  const gid_t gid = g->gr_gid;
  ProbeDaemon d("", "group: daemon\n");
  struct stat st {};
  ASSERT_EQ(::stat(d.socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, gid);
  struct stat tok {};
  ASSERT_EQ(::stat((d.dir() / "auth_token").c_str(), &tok), 0);
  EXPECT_EQ(tok.st_mode & 0777, 0600u);
}

TEST(ProbeApi, NotifiesSystemdWhenReady) {
  TempDir dir;
  const auto path = (dir / "notify").string();
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  {
    ProbeDaemon d("", "", {"NOTIFY_SOCKET=" + path});
    char buf[512] = {};
    const ssize_t n = ::recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    ASSERT_GT(n, 0);
    EXPECT_NE(std::string(buf).find("READY=1"), std::string::npos) << buf;
  }
  ::close(fd);
}

}  // namespace
}  // namespace cnm::test
