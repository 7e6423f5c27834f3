// One managed host of the fleet test: a real userland (cached debootstrapped roots, optional
// extra layers such as the CentOS 7.5 fixture's identity files) under a throwaway overlay, that
// Ansible reaches through its community.general.chroot connection. Each host has a holder
// process in its own mount and PID namespaces with /proc, /sys, /dev and a /run tmpfs mounted
// inside the root; `enter-host` (the connection's chroot executable) runs commands in those
// namespaces, so daemons a host starts (the probe) die with its holder and no mount leaks.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace cnm::test {

class FleetHost {
 public:
  // lowers: top layer first. The root is mounted at dir/NAME; on failure error() says why.
  FleetHost(const std::filesystem::path& dir, std::string name,
            const std::vector<std::filesystem::path>& lowers);
  ~FleetHost();
  FleetHost(const FleetHost&) = delete;
  FleetHost& operator=(const FleetHost&) = delete;

  const std::string& name() const { return name_; }
  const std::string& error() const { return error_; }
  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& upper() const { return upper_; }  // every change the host saw

  // Starts the holder; call after the root's files are in place.
  bool start();
  // Runs argv inside the host (its namespaces, chrooted).
  RunResult exec(const std::vector<std::string>& argv) const;

  // The script Ansible uses as its chroot executable: enter-host ROOT CMD...
  static std::filesystem::path write_enter_script(const std::filesystem::path& dir);

 private:
  std::string name_;
  std::filesystem::path root_, upper_, work_;
  std::filesystem::path enter_;
  pid_t unshare_pid_ = -1;
  pid_t holder_pid_ = -1;  // PID 1 of the host's PID namespace
  bool mounted_ = false;
  std::string error_;
};

}  // namespace cnm::test
