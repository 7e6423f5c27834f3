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
// The shortest token accepted: the Datadog Agent's own minimum (authTokenMinimalLen, 32), so
// a token it accepts is accepted here and a guessable one ("x") is refused by both.
inline constexpr std::size_t kMinTokenChars = 32;

// Returns the token in `path` (whitespace trimmed). When the file does not exist, writes a
// new random one (64 hex characters, mode 0600, atomically) and returns it. Throws
// std::runtime_error when the file exists but is empty, shorter than kMinTokenChars,
// unreadable, not a regular file or larger than kMaxTokenFileBytes. Logs a warning when
// users other than its owner and group may read or write it (the socket's mode still keeps
// them out, and the Agent does not refuse such a file either).
std::string load_or_create_token(const std::filesystem::path& path);

// Constant-time comparison of "Bearer TOKEN" header values against the token.
bool bearer_matches(std::string_view authorization_header, std::string_view token);

}  // namespace cnm::probe
