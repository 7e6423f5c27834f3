#include "tests/ansible/fleet_host.h"

#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

extern char** environ;

namespace cnm::test {

FleetHost::FleetHost(const std::filesystem::path& dir, std::string name,
                     const std::vector<std::filesystem::path>& lowers)
    : name_(std::move(name)),
      root_(dir / name_),
      upper_(dir / (name_ + ".upper")),
      work_(dir / (name_ + ".work")),
      enter_(dir / "enter-host") {
  for (const auto& p : {root_, upper_, work_}) std::filesystem::create_directories(p);
  std::string lower;
  for (const auto& l : lowers) lower += (lower.empty() ? "" : ":") + l.string();
  const std::string opts =
      "lowerdir=" + lower + ",upperdir=" + upper_.string() + ",workdir=" + work_.string();
  if (::mount("overlay", root_.c_str(), "overlay", 0, opts.c_str()) != 0) {
    error_ = name_ + ": overlay mount: " + std::strerror(errno);
    return;
  }
  mounted_ = true;
}

bool FleetHost::start() {
  const auto ready = root_.string() + ".ready";
  const std::string script =
      "set -e; r=$1; mount -t proc proc \"$r/proc\"; mount --rbind /sys \"$r/sys\";"
      " mount --rbind /dev \"$r/dev\"; mount -t tmpfs -o mode=0755 tmpfs \"$r/run\";"
      " : > \"$r.ready\"; exec sleep infinity";
  std::vector<std::string> argv = {"unshare",       "--mount", "--pid",       "--fork",
                                   "--propagation", "private", "sh",          "-c",
                                   script,          "holder",  root_.string()};
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  if (::posix_spawnp(&unshare_pid_, "unshare", nullptr, nullptr, cargv.data(), environ) != 0) {
    error_ = name_ + ": cannot start unshare";
    return false;
  }
  for (int i = 0; i < 200 && !std::filesystem::exists(ready); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // The holder is unshare's only child (PID 1 inside); nsenter targets it.
  std::ifstream children("/proc/" + std::to_string(unshare_pid_) + "/task/" +
                         std::to_string(unshare_pid_) + "/children");
  children >> holder_pid_;
  if (!std::filesystem::exists(ready) || holder_pid_ <= 0) {
    error_ = name_ + ": the namespace holder did not come up";
    return false;
  }
  write_file(root_.string() + ".pid", std::to_string(holder_pid_));
  return true;
}

RunResult FleetHost::exec(const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {enter_.string(), root_.string()};
  full.insert(full.end(), argv.begin(), argv.end());
  return run(full);
}

std::filesystem::path FleetHost::write_enter_script(const std::filesystem::path& dir) {
  const auto path = dir / "enter-host";
  write_file(path,
             "#!/bin/sh\n"
             "# Ansible's chroot connection runs: enter-host ROOT sh -c CMD. Enter the host's\n"
             "# namespaces (its holder's PID is in ROOT.pid), then chroot.\n"
             "root=$1; shift\n"
             "exec nsenter --target \"$(cat \"$root.pid\")\" --mount --pid -- chroot \"$root\" "
             "\"$@\"\n");
  std::filesystem::permissions(path, std::filesystem::perms::owner_all |
                                         std::filesystem::perms::group_read |
                                         std::filesystem::perms::group_exec);
  return path;
}

FleetHost::~FleetHost() {
  // SIGKILL to PID 1 of the host's namespace, sent from this (ancestor) namespace, kills it and
  // with it every process in the namespace (the probe included); its mounts go with it. (unshare's
  // --kill-child does not: the kernel shields a namespace's init from its parent-death signal.)
  if (holder_pid_ > 0) ::kill(holder_pid_, SIGKILL);
  if (unshare_pid_ > 0) ::waitpid(unshare_pid_, nullptr, 0);
  if (mounted_) ::umount2(root_.c_str(), MNT_DETACH);
}

}  // namespace cnm::test
