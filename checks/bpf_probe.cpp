#include "checks/bpf_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/capability.h>
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

const BpfAccess& bpf_access() {
  static const BpfAccess access = [] {
    BpfAccess a;
    const int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cnm_probe", 4, 4, 1, nullptr);
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

bool bpf_prog_type_supported(int prog_type) {
  return libbpf_probe_bpf_prog_type(static_cast<bpf_prog_type>(prog_type), nullptr) == 1;
}

bool bpf_map_type_supported(int map_type) {
  return libbpf_probe_bpf_map_type(static_cast<bpf_map_type>(map_type), nullptr) == 1;
}

bool bpf_helper_supported(int prog_type, int helper) {
  return libbpf_probe_bpf_helper(static_cast<bpf_prog_type>(prog_type),
                                 static_cast<bpf_func_id>(helper), nullptr) == 1;
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
