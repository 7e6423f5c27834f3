#include "checks/tracepoints.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "probe/btf_header.h"

namespace cnm {

TracepointIndex::TracepointIndex(const HostFs& fs) : fs_(fs) {
  for (const char* d : {"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"}) {
    if (fs.is_dir(d)) {
      events_dir_ = d;
      source_ = std::string("tracefs at ") + d;
      return;
    }
  }
  // vmlinux BTF is a few MB; we only need its string table, no type parsing.
  // Resolved inside the root like every host file; a regular file only (no FIFO or device).
  const UniqueFd fd = fs.dir().open("/sys/kernel/btf/vmlinux", O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd) {
    struct stat st {};
    if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        st.st_size <= 64 * 1024 * 1024) {
      void* m = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE,
                       fd.get(), 0);
      if (m != MAP_FAILED) {
        map_ = m;
        map_len_ = static_cast<std::size_t>(st.st_size);
      }
    }
  }
  std::string_view blob;
  if (map_) {
    blob = std::string_view(static_cast<const char*>(map_), map_len_);
  } else if (auto t = fs.read("/sys/kernel/btf/vmlinux", 64 * 1024 * 1024)) {
    owned_ = std::move(t->text);
    blob = owned_;
  }
  btf_strings_ = probe::btf_sections(blob).strings;
  if (!btf_strings_.empty()) source_ = "vmlinux BTF (tracefs not mounted)";
}

TracepointIndex::~TracepointIndex() {
  if (map_) ::munmap(map_, map_len_);
}

std::optional<bool> TracepointIndex::has(std::string_view category, std::string_view name) const {
  if (!events_dir_.empty())
    return fs_.exists(events_dir_ + "/" + std::string(category) + "/" + std::string(name));
  if (!btf_strings_.empty()) {
    // Names in the string table are NUL-terminated; match "btf_trace_NAME\0" preceded by a
    // NUL. memmem (two-way search) rather than std::string::find, which would stop at every
    // NUL of the 100k names when the needle starts with one.
    std::string needle = "btf_trace_" + std::string(name);
    needle.push_back('\0');
    const char* hay = btf_strings_.data();
    std::size_t off = 0;
    while (off < btf_strings_.size()) {
      const void* hit =
          ::memmem(hay + off, btf_strings_.size() - off, needle.data(), needle.size());
      if (!hit) return false;
      const auto at = static_cast<std::size_t>(static_cast<const char*>(hit) - hay);
      if (at == 0 || hay[at - 1] == '\0') return true;
      off = at + 1;
    }
    return false;
  }
  return std::nullopt;
}

}  // namespace cnm
