// fcontext rules from the Layout, the file-based status, and cnmctl's errors on a root without
// a policy store: no privileges needed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "common/layout.h"
#include "selinux/fcontext_rules.h"
#include "selinux/module_install.h"
#include "selinux/status.h"
#include "tests/support/test_support.h"

extern "C" {
#include <semanage/fcontext_record.h>
}

namespace cnm::selinux {
namespace {

using test::TempDir;

TEST(SelinuxFcontextRules, EscapesRegexMetacharacters) {
  EXPECT_EQ(escape_fcontext_path("/opt/a.b/c+d(e)"), "/opt/a\\.b/c\\+d\\(e\\)");
  EXPECT_EQ(escape_fcontext_path("/opt/datadog-agent/run"), "/opt/datadog-agent/run");
}

TEST(SelinuxFcontextRules, FollowTheLayout) {
  Layout l = default_layout("/");
  l.probe_binary = "/srv/probe.bin";
  l.run_dir = "/srv/run";
  l.selinux_type = "my_probe_t";
  const auto rules = fcontext_rules(l);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].expr, "/srv/probe\\.bin");
  EXPECT_EQ(rules[0].file_type, SEMANAGE_FCONTEXT_REG);
  EXPECT_EQ(rules[0].type, "my_probe_t");
  EXPECT_EQ(rules[1].expr, "/srv/run(/.*)?");
  EXPECT_EQ(rules[1].type, "my_probe_run_t");
  EXPECT_TRUE(rules[1].recursive);
  EXPECT_EQ(file_context("x_t", true), "system_u:object_r:x_t:s0");
  EXPECT_EQ(file_context("x_t", false), "system_u:object_r:x_t");
}

// Beside an Agent the Datadog installer put in place, its "stable" link stands for the package
// folder of any version: the rules match the binary a relabel of the tree finds there, and keep
// matching after an upgrade moves the link (file_contexts are full-match PCRE; std::regex's
// ECMAScript reads these the same way).
TEST(SelinuxFcontextRules, TheInstallersStableLinkMatchesAnyVersionsFolder) {
  TempDir root;
  test::write_file(root / "opt/datadog-packages/datadog-agent/stable/version-manifest.json", "{}");
  const auto rules = fcontext_rules(default_layout(root.path()));
  const std::regex binary(rules[0].expr), run(rules[1].expr);
  const std::string packages = "/opt/datadog-packages/datadog-agent/";
  for (const char* version : {"stable", "7.60.0-1", "7.61.0~rc.2-1"}) {
    EXPECT_TRUE(std::regex_match(packages + version + "/embedded/bin/system-probe", binary))
        << rules[0].expr;
    EXPECT_TRUE(std::regex_match(packages + version + "/run/sysprobe.sock", run)) << rules[1].expr;
  }
  EXPECT_FALSE(std::regex_match(packages + "a/b/embedded/bin/system-probe", binary));
  EXPECT_FALSE(std::regex_match("/opt/datadog-agent/embedded/bin/system-probe", binary));
  EXPECT_EQ(fcontext_expr("/opt/datadog-packages/datadog-agent/stablex/bin"),
            "/opt/datadog-packages/datadog-agent/stablex/bin");
}

TEST(SelinuxStatus, ReadsTheVersionInstallRecords) {
  TempDir root;
  const Layout l = default_layout(root.path());
  test::write_file(root / "etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=default\n");
  auto s = read_status(l);
  EXPECT_EQ(s.mode, "disabled");  // no /sys/fs/selinux under this root
  EXPECT_EQ(s.store.config_mode, "enforcing");
  EXPECT_FALSE(s.store_present);
  EXPECT_FALSE(s.module_installed);
  // What install writes after its commit (the module folder is libsemanage's).
  test::write_file(l.at(version_marker("/var/lib/selinux/default", l.selinux_module)), "4.5.6\n");
  s = read_status(l);
  EXPECT_TRUE(s.store_present);
  EXPECT_TRUE(s.module_installed);
  EXPECT_EQ(s.module_version, "4.5.6");
}

TEST(SelinuxCli, NoStoreIsAClearErrorAndChangesNothing) {
  TempDir root;
  const auto r = test::run({test::cnmctl(), "selinux", "install", "--root", root.path().string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("no SELinux configuration"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(root.path()));
  test::write_file(root / "etc/selinux/config", "SELINUX=permissive\nSELINUXTYPE=default\n");
  const auto r2 = test::run({test::cnmctl(), "selinux", "remove", "--root", root.path().string()});
  EXPECT_EQ(r2.exit_code, 1);
  EXPECT_NE(r2.err.find("no SELinux policy store at"), std::string::npos) << r2.err;
}

TEST(SelinuxCli, StatusJsonOnABareRoot) {
  TempDir root;
  const auto r =
      test::run({test::cnmctl(), "selinux", "status", "--root", root.path().string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("mode"), "disabled");
  EXPECT_EQ(j.at("module_installed"), false);
  EXPECT_TRUE(j.at("binary_labeled").is_null());
}

TEST(SelinuxCli, UsageErrors) {
  EXPECT_EQ(test::run({test::cnmctl(), "selinux"}).exit_code, 2);
  EXPECT_EQ(test::run({test::cnmctl(), "selinux", "install", "--policy", "/no/such.te"}).exit_code,
            2);
  EXPECT_EQ(test::run({test::cnmctl(), "selinux", "status", "--root", "/no/such/dir"}).exit_code,
            2);
}

}  // namespace
}  // namespace cnm::selinux
