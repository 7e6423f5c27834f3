#include "common/layout.h"

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace cnm {
namespace {

TEST(Layout, MapsHostPathsUnderRoot) {
  const auto live = default_layout();
  EXPECT_EQ(live.at("/etc/datadog-agent/system-probe.yaml"),
            "/etc/datadog-agent/system-probe.yaml");
  const auto l = default_layout("/tmp/r");
  EXPECT_EQ(l.at(l.config_file), "/tmp/r/etc/datadog-agent/system-probe.yaml");
  EXPECT_EQ(l.at("relative/x"), "/tmp/r/relative/x");
}

TEST(Layout, YamlOverridesFieldsAndRejectsUnknownKeys) {
  test::TempDir d;
  test::write_file(d / "layout.yaml", "user: netmon\nprobe_service: cnm-probe\n");
  const auto l = load_layout(d / "layout.yaml", d.path());
  EXPECT_EQ(l.user, "netmon");
  EXPECT_EQ(l.probe_service, "cnm-probe");
  EXPECT_EQ(l.group, "dd-agent");  // untouched default

  test::write_file(d / "bad.yaml", "user: a\nno_such_key: b\n");
  try {
    load_layout(d / "bad.yaml", d.path());
    FAIL() << "unknown key accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(":2:1: unknown"), std::string::npos) << e.what();
  }
  test::write_file(d / "broken.yaml", "user: [a\n");
  EXPECT_THROW(load_layout(d / "broken.yaml", d.path()), std::runtime_error);
}

// What a standalone install writes for its probe (probe_layout_file) must read back as the
// layout it was written from, whatever the paths hold: words YAML takes for null or booleans,
// a colon and blank, a leading quote, an empty value.
TEST(Layout, OverridesWrittenForTheProbeReadBackAsTheSameLayout) {
  test::TempDir d;
  EXPECT_EQ(layout_overrides_yaml(default_layout(d.path(), ProbeMode::Standalone)), "{}\n");
  for (const ProbeMode mode : {ProbeMode::Standalone, ProbeMode::Agent}) {
    Layout want = default_layout(d.path(), mode);
    want.probe_socket = "/run/net mon/probe: sock";
    want.auth_token_file = "'/etc/netmon/token";
    want.group = "yes";
    want.bpf_object_dir = "null";
    want.config_example = mode == ProbeMode::Agent ? "" : "~";
    want.state_dir = "/var/lib/netmon #state";
    test::write_file(d / "written.yaml", layout_overrides_yaml(want));
    const Layout got = load_layout(d / "written.yaml", d.path(), mode);
    const std::string text = test::read_file(d / "written.yaml");
    EXPECT_EQ(got.probe_socket, want.probe_socket) << text;
    EXPECT_EQ(got.auth_token_file, want.auth_token_file) << text;
    EXPECT_EQ(got.group, want.group) << text;
    EXPECT_EQ(got.bpf_object_dir, want.bpf_object_dir) << text;
    EXPECT_EQ(got.config_example, want.config_example) << text;
    EXPECT_EQ(got.state_dir, want.state_dir) << text;
    EXPECT_EQ(got.config_file, want.config_file) << text;  // a default, not written
    EXPECT_EQ(text.find("config_file"), std::string::npos) << text;
    EXPECT_EQ(layout_overrides_yaml(got), text);
    EXPECT_TRUE(same_fields(got, want)) << text;
    // The other mode reads only the shared state_dir from it: its own paths stay its defaults.
    const ProbeMode other = mode == ProbeMode::Agent ? ProbeMode::Standalone : ProbeMode::Agent;
    Layout other_want = default_layout(d.path(), other);
    other_want.state_dir = want.state_dir;
    EXPECT_TRUE(same_fields(load_layout(d / "written.yaml", d.path(), other), other_want)) << text;
  }
  Layout moved = default_layout(d.path(), ProbeMode::Standalone);
  EXPECT_TRUE(same_fields(moved, default_layout("/elsewhere", ProbeMode::Standalone)));
  moved.group = "netmon";
  EXPECT_FALSE(same_fields(moved, default_layout(d.path(), ProbeMode::Standalone)));
  EXPECT_EQ(probe_layout_file(default_layout(d.path(), ProbeMode::Standalone)),
            "/etc/cnmkit/installed-layout.yaml");
}

}  // namespace
}  // namespace cnm
