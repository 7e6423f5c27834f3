// What a release's two forms share: the release archive (.tar.gz, release_archive.cpp) and the
// same files unpacked in a folder (the packages' payload in /usr/lib/cnmkit,
// release_folder.cpp). Both refuse the whole release for one bad name or one file that differs
// from MANIFEST.sha256, before the installer writes a byte.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>

#include "installer/release_contents.h"

namespace cnm {

// Only plain relative paths: no "..", no absolute, no empty or "." parts, no backslashes or
// control characters (they hide traversal from humans reading a listing). "./x" gives "x".
std::string checked_release_name(const char* raw);

std::string lower_hex(std::string s);

// MANIFEST.sha256 in sha256sum's format ("HEX  path" or "HEX *path") -> path -> hex.
std::map<std::string, std::string> parse_manifest(const std::string& text);

// names: every file the release holds, the manifest included; read(name) gives a file's bytes.
// Each file must be in the manifest with its sha256, and each manifest line must be a file.
Release verified_release(const std::set<std::string>& names,
                         const std::function<std::string(const std::string&)>& read);

}  // namespace cnm
