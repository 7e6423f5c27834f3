#include "probe/container_id.h"

#include <cctype>

namespace cnm::probe {

std::string container_id_from_cgroup(std::string_view text) {
  // Scan each line's path for a run of exactly 64 hex digits (e.g. "/docker/<id>",
  // "/system.slice/docker-<id>.scope", "/kubepods/.../cri-containerd-<id>.scope").
  std::size_t run_start = 0, run = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const bool hex = i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i])) &&
                     !std::isupper(static_cast<unsigned char>(text[i]));
    if (hex) {
      if (run++ == 0) run_start = i;
      continue;
    }
    if (run == 64) return std::string(text.substr(run_start, 64));
    run = 0;
  }
  return {};
}

}  // namespace cnm::probe
