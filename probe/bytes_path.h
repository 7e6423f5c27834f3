// Bytes in memory put where a library that opens files only by path can read them: libbpf takes
// BTF only as a path (btf_custom_path). A memory file's path, /proc/self/fd/N, when the kernel
// has memfd_create (Linux 3.17; CentOS 7 runs 3.10) and /proc is mounted (a bare chroot has
// none); else a private file (0600) in the temp folder ($TMPDIR, else /tmp). Either is given up
// when this object dies: the memory file closed, the temp file removed.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "common/unique_fd.h"

namespace cnm::probe {

class BytesPath {
 public:
  enum class Holder { kMemoryFile, kTempFile };

  // `name` names the memory file (/proc/self/fd/N's link) or starts the temp file's name.
  // `first`: kTempFile skips the memory file, as a kernel without memfd_create or a host
  // without /proc does (tests). nullopt when neither could take the bytes.
  static std::optional<BytesPath> hold(std::span<const std::byte> bytes, const std::string& name,
                                       Holder first = Holder::kMemoryFile);
  BytesPath(BytesPath&& o) noexcept;
  BytesPath& operator=(BytesPath&& o) noexcept;
  ~BytesPath();

  const std::string& path() const { return path_; }
  Holder holder() const { return temp_file_ ? Holder::kTempFile : Holder::kMemoryFile; }

 private:
  BytesPath() = default;
  void remove_temp_file();
  UniqueFd memory_file_;
  bool temp_file_ = false;  // path_ is a temp file of this object's, removed at the end
  std::string path_;
};

}  // namespace cnm::probe
