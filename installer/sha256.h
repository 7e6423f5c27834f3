// SHA-256 through Nettle (nettle-dev), as lowercase hex.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace cnm {

std::string sha256_hex(std::string_view data);
// Streams the file; throws std::system_error when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& p);

}  // namespace cnm
