// Container tags for processes that are gone by the time the daemon reads their connection:
// a forked child joins a cgroup v2 named like docker's (".../docker-<64 hex>.scope", made by the
// test under the host's cgroup2 mount), connects, closes and exits; the server closes its end
// only after the child was reaped, so the child's socket ends (and its record is made) when
// /proc/<child> no longer exists. The container id must come from the cgroup id the kernel side
// recorded.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <unistd.h>
#include <csignal>

#include <filesystem>

#include "probe/cgroup_paths.h"
#include "tests/probe/probe_daemon.h"

namespace cnm::test {
namespace {

constexpr const char* kId = "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc";

class ContainerTags : public ::testing::TestWithParam<ProbeMode> {};
INSTANTIATE_TEST_SUITE_P(Modes, ContainerTags, ::testing::ValuesIn(probe_modes()),
                         [](const auto& p) { return probe_mode_name(p.param); });

TEST_P(ContainerTags, ExitedProcessKeepsItsContainerIdFromItsCgroup) {
  const auto mount = probe::CgroupPaths::find_cgroup2_mount();
  ASSERT_FALSE(mount.empty()) << "no cgroup2 mount on this host";
  const auto parent = mount / ("cnmtest-" + std::to_string(::getpid()));
  const auto cg = parent / (std::string("docker-") + kId + ".scope");
  std::filesystem::create_directories(cg);
  // The cgroups go even when an assertion stops the test early (a live child keeps its cgroup
  // busy, so it is killed and reaped first).
  struct Cleanup {
    std::filesystem::path a, b;
    pid_t child = -1;
    ~Cleanup() {
      if (child > 0 && ::waitpid(child, nullptr, WNOHANG) == 0) {
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
      }
      ::rmdir(b.c_str());
      ::rmdir(a.c_str());
    }
  } cleanup{parent, cg};

  ProbeDaemon d(GetParam());
  std::uint16_t port = 0;
  const int l = loopback_listener(port);
  ASSERT_GE(l, 0);
  auto a = ipv4("127.0.0.1", port);
  const std::string procs = (cg / "cgroup.procs").string();

  const pid_t child = ::fork();
  if (child == 0) {  // only system calls from here
    const int p = ::open(procs.c_str(), O_WRONLY);
    if (p < 0 || ::write(p, "0", 1) != 1) ::_exit(2);  // "0": the writing process itself
    ::close(p);
    const int c = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ::_exit(3);
    if (::write(c, "hello", 5) != 5) ::_exit(4);
    ::close(c);
    ::_exit(0);
  }
  cleanup.child = child;
  const int s = ::accept(l, nullptr, nullptr);
  ASSERT_GE(s, 0);
  sockaddr_in peer{};
  socklen_t pl = sizeof peer;
  ::getpeername(s, reinterpret_cast<sockaddr*>(&peer), &pl);
  char buf[16];
  while (::read(s, buf, sizeof buf) > 0) {
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_FALSE(std::filesystem::exists("/proc/" + std::to_string(child)));
  ::close(s);  // the child's orphaned socket gets this FIN and ends now
  ::close(l);

  const int child_port = ntohs(peer.sin_port);
  const auto got = closed_by_lport(d, "containers", {child_port}, "127.0.0.1", port);
  ASSERT_EQ(got.size(), 1u) << d.get("/debug/stats").body;
  const auto& mine = got.begin()->second;
  EXPECT_EQ(mine["pid"], child) << mine.dump();
  EXPECT_EQ(mine["container_id"], kId) << mine.dump();
  EXPECT_EQ(mine["bytes_sent"], 5) << mine.dump();
}

}  // namespace
}  // namespace cnm::test
