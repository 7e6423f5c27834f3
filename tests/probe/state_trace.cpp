#include "tests/probe/state_trace.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace cnm::test {
namespace {

bool put(const std::filesystem::path& file, const std::string& value) {
  std::ofstream out(file);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

StateTrace::StateTrace(const std::string& filter) {
  if (::mount("nodev", mount_.path().c_str(), "tracefs", 0, nullptr) != 0) {
    why_off_ = std::string("cannot mount tracefs: ") + std::strerror(errno);
    return;
  }
  mounted_ = true;
  instance_ = mount_.path() / "instances" / ("cnmkit-test-" + std::to_string(::getpid()));
  std::error_code ec;
  if (!std::filesystem::create_directory(instance_, ec)) {
    why_off_ = "cannot create an ftrace instance: " + ec.message();
    instance_.clear();
    return;
  }
  const auto event = instance_ / "events/sock/inet_sock_set_state";
  if (!put(event / "filter", filter) || !put(event / "enable", "1")) {
    why_off_ = "no sock/inet_sock_set_state event to enable with filter '" + filter + "'";
    return;
  }
  on_ = true;
}

StateTrace::~StateTrace() {
  std::error_code ec;
  if (!instance_.empty()) {
    put(instance_ / "events/sock/inet_sock_set_state/enable", "0");
    std::filesystem::remove(instance_, ec);  // rmdir tears the instance down
  }
  if (mounted_) ::umount2(mount_.path().c_str(), MNT_DETACH);
}

std::string StateTrace::text() const {
  if (!on_) return "\n  (kernel trace unavailable: " + why_off_ + ")";
  std::ifstream in(instance_ / "trace");
  std::string out, line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') out += "\n  " + line;
  return out.empty() ? "\n  (no transition recorded)" : out;
}

}  // namespace cnm::test
