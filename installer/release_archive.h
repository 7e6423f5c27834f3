// The release archive (.tar.gz built by the `cnm_release` target): the probe daemon, its BPF
// objects, the SELinux module, the service unit and init script templates, the example config
// and MANIFEST.sha256 (sha256sum format). Reading it is all-or-nothing: every entry is checked,
// extracted by libarchive's disk writer with its secure flags into a private staging folder
// under $TMPDIR (never under --root; removed when the read ends) and hashed before the
// installer writes a single byte, and anything unexpected (.., absolute paths, links of any
// kind, devices, FIFOs, a name no release holds (release_contents.h), oversize, truncated or
// corrupt data, a file missing from or differing from the manifest) refuses the whole archive.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "installer/release_contents.h"

namespace cnm {

struct ArchiveLimits {
  std::size_t max_entry_bytes = kReleaseMaxFileBytes;   // per file
  std::size_t max_total_bytes = kReleaseMaxTotalBytes;  // whole release, uncompressed
  std::size_t max_entries = kReleaseMaxEntries;
};

// Throws ArchiveError with the offending entry's name. expected_sha256: hex of the archive file.
Release read_release(const std::filesystem::path& archive,
                     const std::optional<std::string>& expected_sha256,
                     const ArchiveLimits& limits = {});

// The same files unpacked in a folder with their MANIFEST.sha256, as the packages install
// them in /usr/lib/cnmkit (release_folder.cpp). Same policy and errors as the archive.
Release read_release_folder(const std::filesystem::path& dir, const ArchiveLimits& limits = {});

// The payload of the installed cnmkit package, found from this binary's own place
// (/usr/libexec/cnmkit/cnmctl-installer -> /usr/lib/cnmkit) when it holds a MANIFEST.sha256.
std::optional<std::filesystem::path> installed_payload();

}  // namespace cnm
