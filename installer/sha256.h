// SHA-256 through Nettle (nettle-dev), as lowercase hex.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace cnm {

std::string sha256_hex(std::string_view data);
// Streams an open file from where it is to its end; throws std::system_error naming `shown`
// when it cannot be read.
std::string sha256_fd_hex(int fd, const std::string& shown);
// The same for a file by name (tests, tools).
std::string sha256_file_hex(const std::filesystem::path& p);

}  // namespace cnm
