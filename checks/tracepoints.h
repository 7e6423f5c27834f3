// Where a kernel tells which tracepoints it has: tracefs (events/CATEGORY/NAME/id), mounted at
// /sys/kernel/tracing or /sys/kernel/debug/tracing; or, when tracefs is not mounted, the
// vmlinux BTF, which declares a "btf_trace_NAME" typedef for every raw tracepoint.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/host_fs.h"

namespace cnm {

class TracepointIndex {
 public:
  explicit TracepointIndex(const HostFs& fs);
  ~TracepointIndex();
  TracepointIndex(const TracepointIndex&) = delete;
  TracepointIndex& operator=(const TracepointIndex&) = delete;

  // nullopt when neither source is available (cannot tell).
  std::optional<bool> has(std::string_view category, std::string_view name) const;
  const std::string& source() const { return source_; }  // "tracefs at ..." / "vmlinux BTF"

 private:
  const HostFs& fs_;
  std::string events_dir_;  // host path of tracefs events/, "" if none
  // vmlinux BTF: mapped when the kernel allows it (5.5 MB read 4 KiB per syscall costs
  // ~60 ms of CPU; the mapping costs ~1 ms), else read into owned_.
  void* map_ = nullptr;
  std::size_t map_len_ = 0;
  std::string owned_;
  std::string_view btf_strings_;  // BTF string section, empty if none
  std::string source_;
};

}  // namespace cnm
