// Every folder under tests/checks/hosts describes a host (release files and a kernel release)
// and says in its `expect` file what the preflight must conclude about it.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "checks/preflight.h"
#include "tests/support/test_support.h"

namespace cnm {
namespace {

std::filesystem::path hosts_dir() { return test::source_dir() / "tests/checks/hosts"; }

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(hosts_dir()))
    if (e.is_directory()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

class FixtureHost : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureHost, PreflightConcludesWhatTheFixtureExpects) {
  const auto dir = hosts_dir() / GetParam();
  std::ifstream expect(dir / "expect");
  ASSERT_TRUE(expect) << "fixture without an expect file: " << dir;

  std::vector<std::pair<std::string, std::string>> wants;
  PreflightOptions o;
  o.layout.root = dir;
  for (std::string line; std::getline(expect, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto colon = line.find(": ");
    const std::string key = line.substr(0, colon == std::string::npos ? line.size() - 1 : colon);
    const std::string value = colon == std::string::npos ? "" : line.substr(colon + 2);
    if (key == "args") {
      const auto w = split_words(value);
      for (std::size_t i = 0; i + 1 < w.size(); i += 2) {
        if (w[i] == "--cilium-version")
          o.cilium_version = w[i + 1];
        else if (w[i] == "--agent-version")
          o.agent_version = w[i + 1];
        else if (w[i] == "--kernel-release")
          o.kernel_release = w[i + 1];
        else if (w[i] == "--probe")  // the probe judged: cnmkit, or agent (the default)
          o.layout = default_layout(dir, parse_probe_mode(w[i + 1]));
        else
          FAIL() << "unknown fixture arg " << w[i];
      }
    } else {
      wants.emplace_back(key, value);
    }
  }
  const auto report = run_preflight(o);
  const auto j = to_json(report);
  ASSERT_FALSE(wants.empty());
  for (const auto& [key, value] : wants) {
    if (key == "verdict") {
      EXPECT_EQ(j["verdict"], value) << j.dump(2);
    } else if (key == "distro_id" || key == "distro_version" || key == "kernel_release") {
      const auto& got = j["host"][key];
      EXPECT_EQ(got.is_null() ? "" : got.get<std::string>(), value) << key;
    } else if (key == "libc") {  // "glibc 2.17", "musl" (no version), "none"
      const auto& libc = j["host"]["libc"];
      const std::string got =
          libc.is_null()
              ? "none"
              : libc["name"].get<std::string>() +
                    (libc["version"].is_null() ? "" : " " + libc["version"].get<std::string>());
      EXPECT_EQ(got, value) << libc.dump();
    } else if (key.rfind("check ", 0) == 0) {
      const std::string id = key.substr(6);
      bool found = false;
      for (const auto& c : j["checks"]) {
        if (c["id"] != id) continue;
        found = true;
        EXPECT_EQ(c["status"], value) << id << ": " << c["message"];
      }
      EXPECT_TRUE(found) << "no check " << id;
    } else if (key.rfind("feature ", 0) == 0) {
      const auto& got = j["features"][key.substr(8)];
      EXPECT_EQ(got.dump(), value) << key;
    } else {
      FAIL() << "unknown expectation " << key;
    }
  }
  // Whatever the host, every warn/fail carries a remedy, and nothing under --root was
  // reported as failing because it is live-only.
  for (const auto& c : report.checks) {
    if (c.status == Status::Warn || c.status == Status::Fail) {
      EXPECT_FALSE(c.remedy.empty()) << c.id;
    }
    EXPECT_FALSE(c.message.empty()) << c.id;
  }
}

INSTANTIATE_TEST_SUITE_P(Hosts, FixtureHost, ::testing::ValuesIn(fixture_names()),
                         cnm::test::fixture_test_name);

}  // namespace
}  // namespace cnm
