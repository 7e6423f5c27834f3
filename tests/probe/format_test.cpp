// Output formats: the connections JSON against the published schema (validated by python3
// jsonschema, the same tool scripts use), Prometheus text, container ids from cgroup paths.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "probe/conn_json.h"
#include "probe/container_id.h"
#include "probe/metrics.h"
#include "probe/tcp_failure.h"
#include "tests/support/test_support.h"

namespace cnm::probe {
namespace {

std::string validate_cmd(const std::filesystem::path& doc) {
  return "/usr/bin/python3 -c 'import json,sys,jsonschema; "
         "jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' " +
         (test::source_dir() / "probe/connections.schema.json").string() + " " + doc.string();
}

IpBytes ip(const char* text) {
  IpBytes b{};
  const int af = std::strchr(text, ':') ? AF_INET6 : AF_INET;
  EXPECT_EQ(::inet_pton(af, text, b.data()), 1) << text;
  return b;
}

StatMap all_stats() {
  return {{"conn_map_full", 1},   {"closed_ringbuf_full", 0},      {"closed_buffer_evicted", 2},
          {"clients_evicted", 0}, {"conn_map_entries_current", 3}, {"conn_map_max", 10},
          {"closed_buffered", 0}, {"closed_buffer_max", 10},       {"hook_runs_skipped", 0},
          {"clients_refused", 0}};
}

TEST(ConnectionsJson, MatchesTheSchema) {
  Connection c;
  c.family = 6;
  c.laddr = ip("::1");
  c.raddr = ip("fe80::1");
  c.lport = 443;
  c.rport = 51000;
  c.direction = Direction::kIncoming;
  c.pid = 42;
  c.comm = "nginx";
  c.netns = 4026531840u;
  c.container_id = std::make_shared<const std::string>(64, 'a');
  c.counters = {1, 2, 3, 4, 5};
  c.closed = true;
  Connection v4;
  v4.laddr = ip("10.0.0.1");
  v4.raddr = ip("10.0.0.2");
  const auto j = nlohmann::json::parse(connections_reply_text({c, v4}, all_stats()));
  EXPECT_EQ(j["connections"][0]["direction"], "incoming");
  EXPECT_EQ(j["connections"][0]["laddr"], "::1");
  EXPECT_EQ(j["connections"][0]["container_id"], std::string(64, 'a'));
  EXPECT_EQ(j["connections"][0]["bytes_sent"], 1);
  EXPECT_EQ(j["connections"][0]["packets_received"], 4);
  EXPECT_EQ(j["connections"][0]["retransmits"], 5);
  EXPECT_EQ(j["connections"][0]["closed"], true);
  EXPECT_EQ(j["connections"][0]["raddr"], "fe80::1");
  EXPECT_EQ(j["connections"][0]["family"], 6);
  EXPECT_EQ(j["connections"][1]["direction"], "local");
  EXPECT_EQ(j["connections"][1]["laddr"], "10.0.0.1");
  EXPECT_EQ(j["connections"][1]["raddr"], "10.0.0.2");
  EXPECT_EQ(j["connections"][1]["type"], "tcp");
  EXPECT_EQ(j["connections"][1]["closed"], false);
  EXPECT_EQ(j["stats"]["closed_buffer_evicted"], 2);
  test::TempDir dir;
  test::write_file(dir / "ok.json", j.dump());
  const auto ok = test::sh(validate_cmd(dir / "ok.json"));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  // The schema is strict enough to catch a broken reply.
  auto bad = j;
  bad["connections"][0].erase("bytes_sent");
  test::write_file(dir / "bad.json", bad.dump());
  EXPECT_NE(test::sh(validate_cmd(dir / "bad.json")).exit_code, 0);
  auto no_drop = j;
  no_drop["stats"].erase("conn_map_full");
  test::write_file(dir / "bad2.json", no_drop.dump());
  EXPECT_NE(test::sh(validate_cmd(dir / "bad2.json")).exit_code, 0);
}

// The reply is written by hand around nlohmann's string escaping: whatever a field holds, the
// text parses and gives the field back (invalid UTF-8 replaced), and counters keep all 64 bits.
TEST(ConnectionsJson, AnyCommAndTheLargestCountersMakeValidJson) {
  const std::string hostile[] = {"a\"b\\c",
                                 std::string("tab\tnl\n\x01\x7f", 10),
                                 "caf\xc3\xa9",
                                 "\xff\xfe",
                                 std::string(15, '"'),
                                 std::string(16, 'x'),  // TASK_COMM_LEN, no NUL left
                                 ""};
  for (const auto& comm : hostile) {
    Connection c;
    c.comm = comm;
    c.container_id = std::make_shared<const std::string>(comm);
    c.counters.bytes_sent = ~std::uint64_t{0};
    c.duration_ms = ~std::uint64_t{0};
    const std::string text = connections_reply_text({c}, all_stats());
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(text)) << text;
    const auto& got = j["connections"][0];
    const bool valid_utf8 = comm != "\xff\xfe";
    // Each invalid byte becomes U+FFFD.
    const std::string want = valid_utf8 ? comm : "\xef\xbf\xbd\xef\xbf\xbd";
    EXPECT_EQ(got["container_id"], want);
    // A comm is the kernel's: up to 16 bytes, ending at the first NUL.
    EXPECT_EQ(got["comm"], want.substr(0, std::min<std::size_t>(want.find('\0'), 16)));
    EXPECT_EQ(got["bytes_sent"].get<std::uint64_t>(), ~std::uint64_t{0});
    EXPECT_EQ(got["duration_ms"].get<std::uint64_t>(), ~std::uint64_t{0});
  }
  EXPECT_EQ(nlohmann::json::parse(connections_reply_text({}, {}))["connections"].size(), 0u);
}

// The daemon's reply: open connections, then closed ones from several of the store's batches
// in closing order, written 256 a piece; each once, with the deltas this client is due.
TEST(ConnectionsJson, ReplyInPiecesGivesEachConnectionOnceWithItsDelta) {
  auto conn = [](std::uint64_t sk, std::uint64_t sent, bool closed) {
    Connection c;
    c.id = {sk, sk};
    c.lport = static_cast<std::uint16_t>(sk);  // the reply's way to tell them apart
    c.counters.bytes_sent = sent;
    c.closed = closed;
    return c;
  };
  auto closed_batch = [&](std::uint64_t from, std::uint64_t to, std::uint64_t sent) {
    std::vector<Connection> v;
    for (std::uint64_t sk = from; sk <= to; ++sk) v.push_back(conn(sk, sent, true));
    return v;
  };
  ConnStore store(1000);
  std::vector<Connection> open;
  for (std::uint64_t sk = 1; sk <= 300; ++sk) open.push_back(conn(sk, 10, false));
  store.take("a", open);  // a has seen 1..300 open, 10 bytes each
  // Closed since: 1..200 (15 bytes in all), then 401..456 and 457..600 never seen open.
  store.add_closed(closed_batch(1, 200, 15));
  store.add_closed(closed_batch(401, 456, 20));
  store.add_closed(closed_batch(457, 600, 20));
  // The snapshot still lists 151..300: 151..200 closed after it was read, given once, closed.
  open.clear();
  for (std::uint64_t sk = 151; sk <= 300; ++sk) open.push_back(conn(sk, 12, false));
  ConnectionsReply reply(*store.take_shared("a", std::move(open)), {});
  std::string text;
  int pieces = 0;
  while (reply.next(text)) ++pieces;
  EXPECT_EQ(pieces, 2);  // 100 open + 400 closed, 256 a piece: the second starts in a batch
  const auto j = nlohmann::json::parse(text)["connections"];
  ASSERT_EQ(j.size(), 500u);
  std::vector<std::uint64_t> want_order;
  for (std::uint64_t sk = 201; sk <= 300; ++sk) want_order.push_back(sk);
  for (std::uint64_t sk = 1; sk <= 200; ++sk) want_order.push_back(sk);
  for (std::uint64_t sk = 401; sk <= 600; ++sk) want_order.push_back(sk);
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::uint64_t sk = want_order[i];
    ASSERT_EQ(j[i]["lport"], sk) << "position " << i;
    const bool closed = sk <= 200 || sk > 400;
    EXPECT_EQ(j[i]["closed"], closed) << i;
    const std::uint64_t want = sk > 400 ? 20 : sk <= 200 ? 5 : 2;  // never seen, seen, open
    EXPECT_EQ(j[i]["bytes_sent"], want) << "position " << i << " connection " << sk;
  }
  EXPECT_TRUE(nlohmann::json::parse(connections_reply_text({}, {}))["connections"].empty());
}

TEST(Metrics, PrometheusTextCountersAndGauges) {
  const auto text = prometheus_text({{"conn_map_full", 7}, {"conn_map_entries_current", 3}});
  EXPECT_NE(
      text.find("# TYPE cnm_probe_conn_map_full_total counter\ncnm_probe_conn_map_full_total 7\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE cnm_probe_conn_map_entries_current "
                      "gauge\ncnm_probe_conn_map_entries_current 3\n"),
            std::string::npos)
      << text;
}

TEST(TcpFailureCause, FromTheSocketErrorAtClose) {
  auto is = [](unsigned err, int reset, int refused, int timeout) {
    const auto f = tcp_failures_from_errno(err);
    return f.reset == static_cast<std::uint64_t>(reset) &&
           f.refused == static_cast<std::uint64_t>(refused) &&
           f.timeout == static_cast<std::uint64_t>(timeout);
  };
  EXPECT_TRUE(is(0, 0, 0, 0)) << "closed by its process";
  EXPECT_TRUE(is(ECONNREFUSED, 0, 1, 0));
  EXPECT_TRUE(is(ECONNRESET, 1, 0, 0));
  EXPECT_TRUE(is(EPIPE, 1, 0, 0)) << "reset after the peer's FIN (CLOSE_WAIT)";
  EXPECT_TRUE(is(ETIMEDOUT, 0, 0, 1));
  EXPECT_TRUE(is(EHOSTUNREACH, 0, 0, 0)) << "none of the schema's three causes";
  EXPECT_TRUE(is(12345, 0, 0, 0));
}

TEST(ContainerId, FromCgroupPaths) {
  const std::string id = "4b2d1f0c6e5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c";
  EXPECT_EQ(container_id_from_cgroup("0::/system.slice/docker-" + id + ".scope\n"), id);
  EXPECT_EQ(container_id_from_cgroup("12:pids:/docker/" + id + "\n0::/\n"), id);
  EXPECT_EQ(
      container_id_from_cgroup("0::/kubepods/besteffort/pod1/cri-containerd-" + id + ".scope"), id);
  EXPECT_EQ(container_id_from_cgroup("0::/user.slice/user-0.slice/session-1.scope\n"), "");
  EXPECT_EQ(container_id_from_cgroup("0::/x/" + id + "0\n"), "");  // 65 digits: not an id
  EXPECT_EQ(container_id_from_cgroup(""), "");
}

}  // namespace
}  // namespace cnm::probe
