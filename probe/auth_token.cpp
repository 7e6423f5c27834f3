#include "probe/auth_token.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <stdexcept>
#include <system_error>

#include "common/atomic_file.h"
#include "common/file_read.h"
#include "common/host_fs.h"
#include "common/random_token.h"

namespace cnm::probe {

std::string load_or_create_token(const std::filesystem::path& path) {
  // The one bounded reader: a FIFO, a device (a link to /dev/zero) or anything over 4 KiB is
  // refused with a clear error rather than read (a token is 64 characters).
  auto text = read_whole_file(path, kMaxTokenFileBytes, "auth token", true);
  if (!text) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    const auto token = random_token();
    atomic_write(path, token + "\n", 0600);
    return token;
  }
  const std::string token(trim(*text));
  if (token.empty()) throw std::runtime_error("auth token " + path.string() + ": file is empty");
  if (token.size() < kMinTokenChars)
    throw std::runtime_error("auth token " + path.string() + ": " + std::to_string(token.size()) +
                             " characters; at least " + std::to_string(kMinTokenChars) +
                             " are required (remove the file and the daemon creates a random one)");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH)) != 0)
    spdlog::warn("auth token {}: mode {:04o} lets every local user read or change it; chmod o-rw",
                 path.string(), st.st_mode & 07777);
  return token;
}

bool bearer_matches(std::string_view header, std::string_view token) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (token.empty() || header.substr(0, kPrefix.size()) != kPrefix) return false;
  const auto given = header.substr(kPrefix.size());
  if (given.size() != token.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < token.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  return diff == 0;
}

}  // namespace cnm::probe
