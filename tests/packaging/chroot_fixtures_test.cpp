// Each host description under tests/checks/hosts, made a real root: a chroot holding nothing
// but the fixture's files and the static cnmctl. Inside, cnmctl believes it runs on that host
// (its os-release, its C library, no /proc or /sys unless the fixture has them) on this
// machine's kernel; its verdict must be the one `cnmctl preflight --root FIXTURE
// --kernel-release $(uname -r)` gives from outside. Needs root (chroot); fails without it.
// The root gets an empty /tmp, as every real host has: without /proc (the fixtures describe
// only a few of its files) the BTF cnmctl carries reaches libbpf through a temp file there.
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

std::filesystem::path hosts_dir() { return source_dir() / "tests/checks/hosts"; }

// The fixtures without a /sys of their own: inside the chroot, bpf() answers for this machine's
// kernel, so a fixture's /sys describing another kernel (centos-7.9-*: 3.10 without BTF) would
// make a host that exists nowhere. Those are judged from their files only
// (tests/checks/fixture_hosts_test.cpp).
std::vector<std::string> fixtures() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(hosts_dir()))
    if (e.is_directory() && !std::filesystem::exists(e.path() / "sys"))
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

nlohmann::json preflight(const std::vector<std::string>& argv) {
  const auto r = run(argv);
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

std::vector<std::string> failing(const nlohmann::json& j) {
  std::vector<std::string> ids;
  for (const auto& c : j["checks"])
    if (c["status"] == "fail") ids.push_back(c["id"]);
  return ids;
}

class ChrootFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(ChrootFixture, VerdictInsideIsTheVerdictFromOutside) {
  ASSERT_EQ(::geteuid(), 0u) << "chroot needs root";
  TempDir dir;
  const auto root = dir / "root";
  std::filesystem::copy(
      hosts_dir() / GetParam(), root,
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
  std::filesystem::copy_file(CNMCTL_PATH, root / "cnmctl");
  std::filesystem::create_directories(root / "tmp");
  struct utsname u {};
  ASSERT_EQ(::uname(&u), 0);

  const auto inside = preflight({"chroot", root.string(), "/cnmctl", "preflight", "--json"});
  const auto outside = preflight(
      {CNMCTL_PATH, "preflight", "--json", "--root", root.string(), "--kernel-release", u.release});
  ASSERT_TRUE(inside.is_object() && outside.is_object());
  EXPECT_TRUE(std::filesystem::is_empty(root / "tmp")) << "cnmctl left a temp file behind";
  EXPECT_EQ(inside["verdict"], outside["verdict"]) << inside.dump(2) << outside.dump(2);
  EXPECT_EQ(failing(inside), failing(outside));
  EXPECT_EQ(inside["host"]["distro_id"], outside["host"]["distro_id"]);
  EXPECT_EQ(inside["host"]["libc"], outside["host"]["libc"]);
}

INSTANTIATE_TEST_SUITE_P(Hosts, ChrootFixture, ::testing::ValuesIn(fixtures()), fixture_test_name);

}  // namespace
}  // namespace cnm::test
