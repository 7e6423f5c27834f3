#include "installer/unit_sandbox.h"

#include <cctype>
#include <string_view>

namespace cnm {

int systemd_version(const CommandRunner& run) {
  std::string out;
  if (run({"systemctl", "--version"}, &out) != 0) return 0;
  constexpr std::string_view kWord = "systemd ";
  if (!std::string_view(out).starts_with(kWord)) return 0;
  int version = 0;
  for (std::size_t i = kWord.size();
       i < out.size() && std::isdigit(static_cast<unsigned char>(out[i])) && version < 100000; ++i)
    version = version * 10 + (out[i] - '0');
  return version;
}

std::string syscall_filter(int version) {
  // Never needed by the probe, and in groups every systemd since 231 knows.
  const std::string deny =
      "SystemCallFilter=~@mount @swap @reboot @raw-io @module @obsolete @cpu-emulation @clock\n"
      "SystemCallErrorNumber=EPERM";
  if (version < kSyscallAllowListSystemd) return deny;
  return "SystemCallFilter=@system-service bpf perf_event_open setns\n" + deny;
}

std::string protect_system(int version, const std::string& config_dir) {
  if (version > 0 && version < kProtectSystemStrictSystemd)
    return "ProtectSystem=full\nReadWriteDirectories=" + config_dir;
  return "ProtectSystem=strict\nReadWritePaths=" + config_dir;
}

}  // namespace cnm
