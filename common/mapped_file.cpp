#include "common/mapped_file.h"

#include <sys/mman.h>
#include <sys/stat.h>

namespace cnm {

MappedFile::MappedFile(int fd, std::size_t max_bytes) {
  if (fd < 0) return;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      static_cast<std::size_t>(st.st_size) <= max_bytes) {
    void* m = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (m != MAP_FAILED) {
      map_ = m;
      len_ = static_cast<std::size_t>(st.st_size);
    }
  }
}

MappedFile::~MappedFile() {
  if (map_) ::munmap(map_, len_);
}

}  // namespace cnm
