// cgroup v2 id -> the cgroup's path, so a connection whose process has already exited (its
// /proc/PID/cgroup is gone by the time the daemon reads the record) still gets its container
// id from the cgroup id the kernel side recorded. On 64-bit kernels the id
// (bpf_get_current_cgroup_id, the kernfs node id) is the inode number of the cgroup's
// directory, so a walk of the cgroup2 mount maps ids to paths. A miss walks again, at most once
// a second (new containers' cgroups appear); paths once seen are kept (a container's cgroup may
// be gone when its last connection is read), up to kMaxPaths; an id that still misses after a
// walk waits a minute before it may walk again. Before Linux 5.5 the id carried a generation in
// its upper half and never equals an inode: there only /proc names containers.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>

namespace cnm::probe {

// The root of the cgroup v2 hierarchy as the daemon finds it once at start
// (CgroupPaths::find_cgroup2_mount), handed to each of its users: the TCP tracer's CgroupPaths
// and DNS monitoring's cgroup programs.
struct Cgroup2Mount {
  std::filesystem::path dir;  // empty: none
  std::string why_none;       // when dir is empty: why (for DNS monitoring's log and /debug/stats)
};

class CgroupPaths {
 public:
  static constexpr std::size_t kMaxPaths = 65536;
  // mount: where cgroup2 is mounted; empty: no cgroup2 (every lookup misses).
  explicit CgroupPaths(std::filesystem::path mount) : mount_(std::move(mount)) {}
  // Where the root of the cgroup v2 hierarchy is mounted: the first cgroup2 mount in
  // /proc/self/mountinfo whose root is "/" (in a cgroup namespace, the namespace's root), not a
  // bind mount of a cgroup inside it (whose folders' paths would lack the cgroups above it).
  // Empty when there is none; `why`, when given, then says why.
  static std::filesystem::path find_cgroup2_mount(std::string* why = nullptr);
  // "/system.slice/docker-<id>.scope" for the root's children, "/" for the root itself.
  std::optional<std::string> path_of(std::uint64_t id);

 private:
  void walk();
  std::filesystem::path mount_;
  std::unordered_map<std::uint64_t, std::string> paths_;
  std::unordered_map<std::uint64_t, std::chrono::steady_clock::time_point> misses_;
  std::chrono::steady_clock::time_point last_walk_{};
  bool walked_ = false;
};

}  // namespace cnm::probe
