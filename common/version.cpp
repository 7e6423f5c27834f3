#include "common/version.h"

#include <cstdlib>

#include "common/host_fs.h"

namespace cnm {

std::optional<Version> Version::parse(std::string_view text) {
  text = trim(text);
  // Debian epoch "1:" precedes the upstream version.
  if (const auto colon = text.find(':'); colon != std::string_view::npos && colon < 6) {
    bool digits = colon > 0;
    for (std::size_t i = 0; i < colon; ++i) digits = digits && text[i] >= '0' && text[i] <= '9';
    if (digits) text.remove_prefix(colon + 1);
  }
  if (!text.empty() && (text.front() == 'v' || text.front() == 'V')) text.remove_prefix(1);
  Version v;
  std::size_t i = 0;
  while (true) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
    std::uint64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
      if (n > 0xffffffffULL) return std::nullopt;
      ++i;
    }
    v.parts.push_back(static_cast<std::uint32_t>(n));
    if (v.parts.size() > 8) return std::nullopt;
    if (i + 1 < text.size() && text[i] == '.' && text[i + 1] >= '0' && text[i + 1] <= '9') {
      ++i;
      continue;
    }
    break;
  }
  v.suffix = std::string(text.substr(i));
  return v;
}

std::string Version::str() const {
  std::string s;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) s += '.';
    s += std::to_string(parts[i]);
  }
  return s;
}

std::strong_ordering operator<=>(const Version& a, const Version& b) {
  const auto n = std::max(a.parts.size(), b.parts.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (auto c = a.at(i) <=> b.at(i); c != 0) return c;
  }
  return std::strong_ordering::equal;
}

Version V(std::string_view literal) {
  auto v = Version::parse(literal);
  if (!v) std::abort();
  return *v;
}

}  // namespace cnm
