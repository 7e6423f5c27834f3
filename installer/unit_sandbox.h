// The parts of cnm-probe's systemd unit that depend on the systemd that runs it: a directive or a
// value an older systemd does not know is dropped with a warning, and the unit loads without it.
#pragma once

#include <string>

#include "installer/apply.h"

namespace cnm {

// systemd's version from `systemctl --version` ("systemd 252 (252.38-1~deb12u1)"), 0 when it
// cannot be asked or answers otherwise.
int systemd_version(const CommandRunner& run);

// The unit's SystemCallFilter lines for systemd `version` (0: unknown). An allow-list (systemd's
// @system-service group plus what loading eBPF needs) only from kSyscallAllowListSystemd, the
// version the tests boot: an older systemd drops a group it does not know from an allow-list
// ("Unknown system call group, ignoring"; 239 brought @system-service, 231 the groups), which
// leaves the probe too few calls to start, and before 252's group lists clone3 may be missing,
// which glibc 2.34+ tries first for every thread and falls back from only on ENOSYS, not the
// filter's EPERM. Elsewhere only the deny-list: a group unknown there only denies less.
inline constexpr int kSyscallAllowListSystemd = 252;
std::string syscall_filter(int version);

// The read-only file system, with the config folder (the probe writes its token there) left
// writable: ProtectSystem=strict and ReadWritePaths= from systemd 232 (231 for ReadWritePaths);
// before, "strict" does not parse and the unit would run with no protection at all, so there
// ProtectSystem=full (/usr, /boot, /etc read-only) and the older ReadWriteDirectories=. Unknown
// (0): the current spelling.
inline constexpr int kProtectSystemStrictSystemd = 232;
std::string protect_system(int version, const std::string& config_dir);

}  // namespace cnm
