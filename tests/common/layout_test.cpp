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

}  // namespace
}  // namespace cnm
