// libFuzzer target for a release archive as `cnmctl install --archive` reads it: the gzip
// stream check, libarchive's reader and disk writer into the staging folder, the name, type
// and size policy and the manifest. Each input must be accepted or refused with ArchiveError
// without crashing, and leave nothing in its $TMPDIR (a private folder made once).
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "installer/release_archive.h"

namespace {

// Beside the binary in the build tree, made afresh by each run (libFuzzer ends with _Exit, so
// nothing would remove a folder in /tmp).
const std::filesystem::path& work() {
  static const std::filesystem::path dir = [] {
    const auto d =
        std::filesystem::read_symlink("/proc/self/exe").parent_path() / "fuzz_release_work";
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d / "tmp");
    ::setenv("TMPDIR", (d / "tmp").c_str(), 1);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = work() / "release.tar.gz";
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  try {
    (void)cnm::read_release(file, std::nullopt);
  } catch (const cnm::ArchiveError&) {
  }
  // The staging folder goes whatever happened.
  if (!std::filesystem::is_empty(work() / "tmp")) __builtin_trap();
  return 0;
}
