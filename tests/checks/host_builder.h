// Builds a host description folder for --root tests and runs the preflight on it in-process.
#pragma once

#include <string>

#include "checks/preflight.h"
#include "tests/support/test_support.h"

namespace cnm::test {

class HostBuilder {
 public:
  HostBuilder& file(const std::string& host_path, const std::string& content) {
    write_file(dir_.path() / host_path.substr(host_path.find_first_not_of('/')), content);
    return *this;
  }
  HostBuilder& kernel(const std::string& release) {
    return file("/proc/sys/kernel/osrelease", release + "\n");
  }
  HostBuilder& debian(const std::string& version = "12") {
    return file("/etc/os-release", "ID=debian\nVERSION_ID=\"" + version + "\"\n");
  }
  const std::filesystem::path& root() const { return dir_.path(); }

  PreflightReport run(PreflightOptions o = {}) const {
    o.layout.root = dir_.path();
    return run_preflight(o);
  }

 private:
  TempDir dir_;
};

// By value: callers often pass a temporary report.
inline CheckResult find_check(const PreflightReport& r, const std::string& id) {
  for (const auto& c : r.checks)
    if (c.id == id) return c;
  throw std::runtime_error("no check " + id);
}

inline std::string status_of(const PreflightReport& r, const std::string& id) {
  return to_string(find_check(r, id).status);
}

}  // namespace cnm::test
