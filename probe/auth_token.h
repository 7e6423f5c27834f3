// The bearer token every API request must carry. The daemon creates it when absent so a
// fresh host works without an extra install step; clients read the same file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace cnm::probe {

// The largest token file read; a token is 64 characters.
inline constexpr std::size_t kMaxTokenFileBytes = 4096;

// Returns the token in `path` (whitespace trimmed). When the file does not exist, writes a
// new random one (64 hex characters, mode 0600, atomically) and returns it. Throws
// std::runtime_error when the file exists but is empty, unreadable, not a regular file or
// larger than kMaxTokenFileBytes.
std::string load_or_create_token(const std::filesystem::path& path);

// Constant-time comparison of "Bearer TOKEN" header values against the token.
bool bearer_matches(std::string_view authorization_header, std::string_view token);

}  // namespace cnm::probe
