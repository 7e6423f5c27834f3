// A host file mapped read-only, for large files read once and searched (the C library): no
// copy, and pages the search never touches are never read. The caller opens it (inside the
// root, common/root_dir.h, without blocking); a file that is not regular (FIFO, device) or is
// over max_bytes maps nothing.
#pragma once

#include <cstddef>
#include <string_view>

namespace cnm {

class MappedFile {
 public:
  MappedFile(int fd, std::size_t max_bytes);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Empty when nothing was mapped.
  std::string_view bytes() const { return {static_cast<const char*>(map_), len_}; }

 private:
  void* map_ = nullptr;
  std::size_t len_ = 0;
};

}  // namespace cnm
