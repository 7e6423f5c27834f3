#include "checks/bpf_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace cnm {

namespace {

// libbpf prints to stderr by default; its messages are debug detail for us (-vv).
__attribute__((format(printf, 2, 0))) int libbpf_to_spdlog(libbpf_print_level level,
                                                           const char* fmt, va_list args) {
  (void)level;
  if (!spdlog::should_log(spdlog::level::debug)) return 0;
  char buf[4096];
  const int n = std::vsnprintf(buf, sizeof buf, fmt, args);
  std::string_view line(
      buf, n > 0 ? std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1) : 0);
  while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  spdlog::debug("libbpf: {}", line);
  return n;
}

}  // namespace

void route_libbpf_logs() { libbpf_set_print(libbpf_to_spdlog); }

namespace {

// RLIMIT_MEMLOCK as the process found it, before bpf_access() raised it.
rlimit& memlock_found() {
  static rlimit found = [] {
    rlimit r{};
    ::getrlimit(RLIMIT_MEMLOCK, &r);
    return r;
  }();
  return found;
}

}  // namespace

rlimit memlock_at_start() { return memlock_found(); }

const BpfAccess& bpf_access() {
  static const BpfAccess access = [] {
    BpfAccess a;
    // Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK, counted for the user across its
    // processes: with a probe already running as root, the preflight's own map would not fit
    // under a default limit. libbpf raises the limit on such kernels before its first call; so
    // does this (a root process may; limits.memlock judges the limit as found).
    memlock_found();
    const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    ::setrlimit(RLIMIT_MEMLOCK, &unlimited);
    // The raw system call: libbpf's own first call loads two probe programs (memory
    // accounting, object names), and a preflight that remembers its answers loads none.
    bpf_attr attr{};
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    const int fd = static_cast<int>(::syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
    if (fd >= 0) {
      ::close(fd);
      a.usable = true;
      return a;
    }
    a.error = errno;
    a.detail = std::strerror(errno);
    return a;
  }();
  return access;
}

bool has_capability(int cap) {
  cap_t caps = cap_get_proc();
  if (!caps) return false;
  cap_flag_value_t v = CAP_CLEAR;
  // cap_get_flag fails for capability numbers this libcap does not know: reported as absent.
  const bool ok = cap_get_flag(caps, static_cast<cap_value_t>(cap), CAP_EFFECTIVE, &v) == 0;
  cap_free(caps);
  return ok && v == CAP_SET;
}

}  // namespace cnm
