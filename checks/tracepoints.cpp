#include "checks/tracepoints.h"

#include <linux/btf.h>

#include <cstring>

namespace cnm {

std::string btf_string_section(std::string_view blob) {
  btf_header h{};
  if (blob.size() < sizeof h) return {};
  std::memcpy(&h, blob.data(), sizeof h);
  if (h.magic != BTF_MAGIC || h.hdr_len < sizeof h) return {};
  const std::uint64_t start = std::uint64_t{h.hdr_len} + h.str_off;
  if (start + h.str_len > blob.size()) return {};
  return std::string(blob.substr(start, h.str_len));
}

TracepointIndex::TracepointIndex(const HostFs& fs) : fs_(fs) {
  for (const char* d : {"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"}) {
    if (fs.is_dir(d)) {
      events_dir_ = d;
      source_ = std::string("tracefs at ") + d;
      return;
    }
  }
  // vmlinux BTF is a few MB; we only need its string table, no type parsing.
  if (const auto blob = fs.read("/sys/kernel/btf/vmlinux", 64 * 1024 * 1024)) {
    btf_strings_ = btf_string_section(blob->text);
    if (!btf_strings_.empty()) source_ = "vmlinux BTF (tracefs not mounted)";
  }
}

std::optional<bool> TracepointIndex::has(std::string_view category, std::string_view name) const {
  if (!events_dir_.empty())
    return fs_.exists(events_dir_ + "/" + std::string(category) + "/" + std::string(name));
  if (!btf_strings_.empty()) {
    std::string needle = "btf_trace_" + std::string(name);
    needle.insert(needle.begin(), '\0');
    needle.push_back('\0');
    return btf_strings_.find(needle) != std::string::npos;
  }
  return std::nullopt;
}

}  // namespace cnm
