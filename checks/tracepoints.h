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

  // nullopt when neither source is available (cannot tell).
  std::optional<bool> has(std::string_view category, std::string_view name) const;
  const std::string& source() const { return source_; }  // "tracefs at ..." / "vmlinux BTF"

 private:
  const HostFs& fs_;
  std::string events_dir_;   // host path of tracefs events/, "" if none
  std::string btf_strings_;  // BTF string section, "" if none
  std::string source_;
};

// Reads the string section of a raw BTF blob (struct btf_header from linux/btf.h);
// empty on a malformed blob.
std::string btf_string_section(std::string_view blob);

}  // namespace cnm
