#include "installer/btf_archive_input.h"

#include <stdexcept>

#include "common/file_read.h"
#include "installer/file_action.h"  // kMaxManagedFileBytes
#include "probe/btf_archive.h"

namespace cnm {

// The installer reads and writes the archive whole, as any file it manages.
static_assert(probe::kMaxBtfArchiveBytes <= kMaxManagedFileBytes);

BtfArchiveInput read_btf_archive_input(const std::filesystem::path& file) {
  // The one bounded, non-blocking reader, and the check of the bytes it read: what is checked
  // is what is installed.
  try {
    BtfArchiveInput in;
    in.bytes = *read_whole_file(file, probe::kMaxBtfArchiveBytes, "--btf-archive");
    in.releases = probe::check_btf_archive(in.bytes, file.string()).releases;
    return in;
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + "; nothing was installed");
  }
}

std::string btf_archive_destination(const std::string& bpf_object_dir) {
  return (std::filesystem::path(bpf_object_dir) / "btf" / probe::kBtfArchiveName).string();
}

}  // namespace cnm
