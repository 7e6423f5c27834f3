// The packages installed by the real package managers: the .deb with dpkg in the cached Debian
// 12 root beside a stand-in `datadog-agent` package (tests/support/agent_package.h), which must
// stay exactly as its package made it; the .rpm with rpm into a scratch root. Needs root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/support/agent_package.h"
#include "tests/support/debian_root.h"

namespace cnm::test {
namespace {

RunResult in_root(const std::filesystem::path& root, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"chroot", root.string()});
  return run(argv);
}

TEST(DebianPackage, InstallsBesideTheAgentsPackageAndLeavesItIntact) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (overlay mount, chroot, dpkg)";
  const DebianRootOverlay host;
  ASSERT_EQ(host.error(), "");
  const auto& root = host.root();
  build_agent_deb(root / "var/tmp", {});
  auto r = in_root(root, {"dpkg", "-i", "/var/tmp/datadog-agent_7.50.0_amd64.deb"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = in_root(root, {"dpkg", "-i", "/var/tmp/cnmkit.deb"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  for (const char* pkg : {"datadog-agent", "cnmkit"}) {
    r = in_root(root, {"dpkg", "--verify", pkg});
    EXPECT_EQ(r.exit_code, 0) << pkg << ": " << r.out << r.err;
    EXPECT_EQ(r.out, "") << pkg << " has changed files";
  }
  r = in_root(root, {"dpkg", "-S", "/opt/datadog-agent/embedded/bin/system-probe"});
  EXPECT_EQ(r.out, "datadog-agent: /opt/datadog-agent/embedded/bin/system-probe\n") << r.err;

  // The installed static cnmctl runs there and sees the agent dpkg installed.
  r = in_root(root, {"cnmctl", "preflight", "--json"});
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out << r.err;
  bool agent_seen = false;
  for (const auto& c : j["checks"])
    if (c["id"] == "agent.version")
      agent_seen = c["message"].get<std::string>().find("7.50.0") != std::string::npos;
  EXPECT_TRUE(agent_seen) << j.dump(2);

  r = in_root(root, {"dpkg", "--purge", "cnmkit"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(std::filesystem::exists(root / "usr/bin/cnmctl"));
  EXPECT_FALSE(std::filesystem::exists(root / "usr/lib/cnmkit"));
  r = in_root(root, {"dpkg", "--verify", "datadog-agent"});
  EXPECT_EQ(r.out, "") << "removing cnmkit changed the agent's files";
}

TEST(RpmPackage, InstallsIntoAScratchRootAndVerifiesClean) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (rpm sets owners)";
  TempDir dir;
  const auto root = dir / "root";
  std::filesystem::create_directories(root);
  const std::vector<std::string> rpm = {"rpm", "--root", root.string(), "--dbpath",
                                        "/var/lib/rpm"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), rpm.begin(), rpm.end());
    return run(args);
  };
  auto r = with({"-i", "--nodeps", CNM_RPM_PACKAGE});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(::access((root / "usr/bin/cnmctl").c_str(), X_OK), 0);
  EXPECT_TRUE(std::filesystem::exists(root / "usr/lib/cnmkit/MANIFEST.sha256"));
  r = with({"-V", "cnmkit"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  r = with({"-qf", "/usr/lib/cnmkit/bin/system-probe"});
  EXPECT_EQ(r.out.rfind("cnmkit-", 0), 0u) << r.out << r.err;
  r = with({"-e", "cnmkit"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(std::filesystem::exists(root / "usr/bin/cnmctl"));
}

}  // namespace
}  // namespace cnm::test
