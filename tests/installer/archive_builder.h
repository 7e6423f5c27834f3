// Builds release archives (tar.gz with their manifest) in tests, hostile ones included
// (tests/support/tar_writer.h writes them).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "installer/sha256.h"
#include "tests/support/tar_writer.h"

namespace cnm::test {

// Adds MANIFEST.sha256 for every regular entry unless with_manifest is false.
inline void write_archive(const std::filesystem::path& out, std::vector<ArEntry> entries,
                          bool with_manifest = true) {
  if (with_manifest) {
    std::string m;
    for (const auto& e : entries)
      if (e.type == AE_IFREG && e.hardlink.empty())
        m += sha256_hex(e.content) + "  " + e.name + "\n";
    entries.insert(entries.begin(), ArEntry{"MANIFEST.sha256", m});
  }
  write_tar(out, entries);
}

}  // namespace cnm::test
