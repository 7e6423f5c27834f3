// system-probe.yaml parsing: defaults from the layout, every key, warnings, line:column errors.
#include "probe/config.h"
#include "common/agent_keys.h"
#include "probe/dns_source.h"
#include "probe/ladder.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/test_support.h"

namespace cnm::probe {
namespace {

const Layout kLayout = default_layout("/srv/host");

TEST(ProbeConfig, EmptyFileGivesLayoutDefaults) {
  const auto c = parse_config("", "sp.yaml", kLayout);
  EXPECT_TRUE(c.network_enabled);
  EXPECT_EQ(c.socket_path, "/srv/host/opt/datadog-agent/run/sysprobe.sock");
  EXPECT_EQ(c.auth_token_path, "/srv/host/etc/datadog-agent/auth_token");
  EXPECT_EQ(c.max_tracked_connections, 65536u);
  EXPECT_EQ(c.max_closed_connections_buffered, 65536u);
  EXPECT_EQ(c.max_clients, 8u);
  EXPECT_EQ(c.max_clients, kDefaultMaxClients);  // the store's default, declared there
  EXPECT_FALSE(c.disable_ipv6);
  EXPECT_FALSE(c.per_call_hooks);
  EXPECT_EQ(c.hook_set, "auto");
  EXPECT_EQ(c.btf_path, "");
  EXPECT_FALSE(c.dns_monitoring);
  EXPECT_EQ(c.dns_ports, std::vector<std::uint16_t>{53});
  EXPECT_EQ(c.dns_timeout_ms, 5000u);
  EXPECT_EQ(c.dns_source, DnsSource::kAuto);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ProbeConfig, ReadsEveryKey) {
  const auto c = parse_config(R"(auth_token_file_path: /run/tok
system_probe_config:
  sysprobe_socket: /run/sp.sock
  btf_path: /opt/btf/5.4.0-1-amd64.btf
  log_level: debug
  max_tracked_connections: 1000
  max_closed_connections_buffered: 200
  disable_ipv6: true
  collect_dns_stats: true
network_config:
  enabled: false
  max_clients: 3
  per_call_hooks: true
  hook_set: kprobe
  dns_monitoring: true
  dns_source: packet_socket
  dns_ports: [53, 5353]
  dns_timeout_ms: 800
  max_dns_stats: 50
)",
                              "sp.yaml", kLayout);
  EXPECT_FALSE(c.network_enabled);
  EXPECT_EQ(c.socket_path, "/run/sp.sock");
  EXPECT_EQ(c.auth_token_path, "/run/tok");
  EXPECT_EQ(c.max_tracked_connections, 1000u);
  EXPECT_EQ(c.max_closed_connections_buffered, 200u);
  EXPECT_EQ(c.max_clients, 3u);
  EXPECT_TRUE(c.disable_ipv6);
  EXPECT_TRUE(c.per_call_hooks);
  EXPECT_EQ(c.hook_set, "kprobe");
  EXPECT_EQ(c.btf_path, "/opt/btf/5.4.0-1-amd64.btf");
  EXPECT_TRUE(c.dns_monitoring);
  EXPECT_EQ(c.dns_ports, (std::vector<std::uint16_t>{53, 5353}));
  EXPECT_EQ(c.dns_timeout_ms, 800u);
  EXPECT_EQ(c.max_dns_stats, 50u);
  EXPECT_EQ(c.dns_source, DnsSource::kPacketSocket);
  EXPECT_TRUE(c.warnings.empty());
}

// The Agent reads the limits and disable_ipv6 only under system_probe_config (common/
// agent_keys.h): their network_config spelling, which cnm-probe once documented, is read as that
// key with a warning saying where the Agent reads it, and must agree with it.
TEST(ProbeConfig, AKeyTheAgentReadsElsewhereIsReadThereWithAWarning) {
  const auto c = parse_config(
      "network_config:\n  max_tracked_connections: 42\n  disable_ipv6: true\n", "f", kLayout);
  EXPECT_EQ(c.max_tracked_connections, 42u);
  EXPECT_TRUE(c.disable_ipv6);
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_EQ(c.warnings[0],
            "f:2:3: network_config.max_tracked_connections: the Datadog Agent reads this key only "
            "as system_probe_config.max_tracked_connections (read as that here; write it there)");
  EXPECT_THROW(parse_config("network_config.max_tracked_connections: 42\n"
                            "system_probe_config.max_tracked_connections: 43\n",
                            "f", kLayout),
               std::runtime_error);
  for (const auto& m : kMovedKeys) {  // every moved key is one this daemon reads
    const auto text =
        std::string(m.agent_reads) + ": " + (m.agent_reads.ends_with("ipv6") ? "true" : "7") + "\n";
    EXPECT_TRUE(parse_config(text, "f", kLayout).warnings.empty()) << m.agent_reads;
  }
}

// DNS: cnm-probe's own opt-in, switched off by the Agent's switch set to false (one fleet
// setting, "no DNS", holds in both modes); the Agent's switch alone does not turn it on.
TEST(ProbeConfig, TheAgentsDnsSwitchOffTurnsCnmProbesOff) {
  const auto off = parse_config(
      "network_config.dns_monitoring: true\nsystem_probe_config.collect_dns_stats: false\n", "f",
      kLayout);
  EXPECT_FALSE(off.dns_monitoring);
  ASSERT_EQ(off.warnings.size(), 1u);
  EXPECT_NE(off.warnings[0].find("collect_dns_stats is false"), std::string::npos);
  const auto agent_only =
      parse_config("system_probe_config.collect_dns_stats: true\n", "f", kLayout);
  EXPECT_FALSE(agent_only.dns_monitoring);
  ASSERT_EQ(agent_only.warnings.size(), 1u);
  EXPECT_NE(agent_only.warnings[0].find("network_config.dns_monitoring"), std::string::npos);
  const auto both = parse_config(
      "network_config.dns_monitoring: true\nsystem_probe_config.collect_dns_stats: true\n", "f",
      kLayout);
  EXPECT_TRUE(both.dns_monitoring);
  EXPECT_TRUE(both.warnings.empty());
}

TEST(ProbeConfig, UnknownKeysWarnWithPosition) {
  const auto c = parse_config("network_config:\n  enabled: true\n  colour: blue\nextra: 1\n",
                              "sp.yaml", kLayout);
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_EQ(c.warnings[0], "sp.yaml:3:3: unknown key 'network_config.colour'");
  EXPECT_EQ(c.warnings[1], "sp.yaml:4:1: unknown key 'extra'");
}

// The Agent reads keys case-insensitively and takes "a.b: v" as a: {b: v}; the standalone daemon
// reads the same file the same way, so a snippet written for one means the same to the other.
TEST(ProbeConfig, KeysAreReadAsTheAgentReadsThem) {
  const auto c = parse_config(
      "network_config.dns_monitoring: true\n"
      "System_Probe_Config:\n  Max_Tracked_Connections: 77\n"
      "Network_Config:\n  hook_set: raw_tp\n"
      "system_probe_config.max_closed_connections_buffered: 99\n"
      "network_config:\n  hook_set: raw_tp\n",  // said twice, alike: fine
      "sp.yaml", kLayout);
  EXPECT_TRUE(c.dns_monitoring);
  EXPECT_EQ(c.max_tracked_connections, 77u);
  EXPECT_EQ(c.hook_set, "raw_tp");
  EXPECT_EQ(c.max_closed_connections_buffered, 99u);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
  // A section given alone, with nothing under it, sets nothing.
  EXPECT_TRUE(parse_config("network_config:\n", "sp.yaml", kLayout).network_enabled);
}

TEST(ProbeConfig, TwoSpellingsOfOneKeyThatDisagreeAreRefused) {
  const auto refusal = [](const std::string& text) -> std::string {
    try {
      parse_config(text, "sp.yaml", kLayout);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(
      refusal("network_config:\n  enabled: true\nnetwork_config.enabled: false\n"),
      "sp.yaml:3:1: network_config.enabled is set again, differently (first at sp.yaml:2:12): "
      "the Agent would read only one of them");
  EXPECT_EQ(
      refusal("network_config:\n  enabled: true\nNETWORK_CONFIG:\n  Enabled: false\n"),
      "sp.yaml:4:3: network_config.enabled is set again, differently (first at sp.yaml:2:12): "
      "the Agent would read only one of them");
  EXPECT_EQ(refusal("network_config: 3\n"), "sp.yaml:1:17: network_config must be a mapping");
}

TEST(ProbeConfig, MalformedYamlNamesLineAndColumn) {
  try {
    parse_config("network_config:\n  enabled: [true\n", "sp.yaml", kLayout);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("sp.yaml:3:1:")) << e.what();
  }
}

TEST(ProbeConfig, WrongTypesAndRangesFailWithPosition) {
  EXPECT_THROW(
      {
        try {
          parse_config("network_config:\n  max_tracked_connections: lots\n", "sp.yaml", kLayout);
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(),
                       "sp.yaml:2:28: bad value 'lots' for network_config.max_tracked_connections");
          throw;
        }
      },
      std::runtime_error);
  EXPECT_THROW(parse_config("network_config:\n  max_tracked_connections: 0\n", "f", kLayout),
               std::runtime_error);
  EXPECT_THROW(parse_config("network_config:\n  enabled: maybe\n", "f", kLayout),
               std::runtime_error);
  // Each client may hold 56 bytes per open connection: bounded tighter than the other limits.
  for (const char* n : {"0", "1025"}) {
    try {
      parse_config(std::string("network_config:\n  max_clients: ") + n + "\n", "sp.yaml", kLayout);
      ADD_FAILURE() << "max_clients: " << n << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "sp.yaml:2:16: network_config.max_clients must be in 1..1024");
    }
  }
  EXPECT_EQ(parse_config("network_config:\n  max_clients: 1024\n", "f", kLayout).max_clients,
            kMaxClientsLimit);
  EXPECT_THROW(parse_config("network_config: 3\n", "f", kLayout), std::runtime_error);
  try {
    parse_config("network_config:\n  hook_set: fentry\n", "sp.yaml", kLayout);
    ADD_FAILURE() << "hook_set: fentry accepted";
  } catch (const std::runtime_error& e) {
    // The rungs' names come from the ladder itself.
    EXPECT_EQ(std::string(e.what()),
              "sp.yaml:2:13: network_config.hook_set must be auto or one of " + rung_names() +
                  ", not \"fentry\"");
    EXPECT_NE(rung_names().find("raw_tp_perf"), std::string::npos);
  }
  EXPECT_THROW(parse_config("system_probe_config:\n  btf_path: x.btf\n", "f", kLayout),
               std::runtime_error);
  try {
    parse_config("network_config:\n  dns_ports: [53, 70000]\n", "sp.yaml", kLayout);
    ADD_FAILURE() << "port 70000 accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "sp.yaml:2:19: network_config.dns_ports: 70000 is not a port (1..65535)");
  }
  try {
    parse_config("network_config:\n  dns_source: tc\n", "sp.yaml", kLayout);
    ADD_FAILURE() << "dns_source: tc accepted";
  } catch (const std::runtime_error& e) {
    // The sources' names come from their one declaration (probe/dns_source.h).
    EXPECT_EQ(std::string(e.what()), "sp.yaml:2:15: network_config.dns_source must be one of " +
                                         dns_source_choices() + ", not \"tc\"");
    EXPECT_EQ(dns_source_choices(), "auto, cgroup_skb, packet_socket");
  }
  // Each name parses to its value, and back (auto included).
  for (std::size_t i = 0; i < kDnsSourceNames.size(); ++i) {
    const auto source = static_cast<DnsSource>(i);
    EXPECT_EQ(parse_config(
                  "network_config:\n  dns_source: " + std::string(dns_source_name(source)) + "\n",
                  "f", kLayout)
                  .dns_source,
              source);
  }
  EXPECT_EQ(parse_dns_source("Auto"), std::nullopt);
  EXPECT_EQ(parse_dns_source(""), std::nullopt);
  EXPECT_THROW(parse_config("network_config:\n  dns_ports: 53\n", "f", kLayout),
               std::runtime_error);
  EXPECT_THROW(parse_config("network_config:\n  dns_ports: []\n", "f", kLayout),
               std::runtime_error);
  EXPECT_THROW(parse_config("network_config:\n  dns_ports: [1,2,3,4,5,6,7,8,9]\n", "f", kLayout),
               std::runtime_error);
  EXPECT_THROW(parse_config("- a\n- b\n", "f", kLayout), std::runtime_error);
  EXPECT_THROW(
      parse_config("system_probe_config:\n  sysprobe_socket: relative.sock\n", "f", kLayout),
      std::runtime_error);
}

TEST(ProbeConfig, MissingFileGivesDefaultsWithWarning) {
  test::TempDir dir;
  const auto c = load_config(dir / "absent.yaml", kLayout);
  EXPECT_EQ(c.max_tracked_connections, 65536u);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("not found"), std::string::npos);
}

// --config through the bounded reader and the YAML budget: a FIFO, a device and a billion
// laughs are errors, at once.
TEST(ProbeConfig, FifoDeviceAndAliasBombAreRefused) {
  test::TempDir d;
  ASSERT_EQ(::mkfifo((d / "fifo.yaml").c_str(), 0600), 0);
  EXPECT_THROW(load_config(d / "fifo.yaml", kLayout), std::runtime_error);
  EXPECT_THROW(load_config("/dev/urandom", kLayout), std::runtime_error);
  std::string y = "a: &a [x,x,x,x,x,x,x,x,x]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    y += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) y += std::string(i ? ",*" : "*") + static_cast<char>(c - 1);
    y += "]\n";
  }
  try {
    parse_config(y, "bomb.yaml", kLayout);
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bomb.yaml:"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cnm::probe
