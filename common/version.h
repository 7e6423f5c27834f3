// Dotted numeric versions as agents, Cilium and Istio print them: "7.24.1", "v1.14.2",
// "1:7.50.3-1" (Debian epoch and revision), "1.6.0-rc3". Only the numeric release part is
// compared; missing components count as 0 ("1.6" == "1.6.0").
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cnm {

struct Version {
  std::vector<std::uint32_t> parts;
  std::string suffix;  // whatever followed the numbers, e.g. "-rc3", "-1"

  static std::optional<Version> parse(std::string_view text);
  std::string str() const;  // numbers only, e.g. "7.24.1"
  std::uint32_t at(std::size_t i) const { return i < parts.size() ? parts[i] : 0; }

  friend std::strong_ordering operator<=>(const Version& a, const Version& b);
  friend bool operator==(const Version& a, const Version& b) { return (a <=> b) == 0; }
};

// Convenience for literals in version gates; aborts on a malformed literal (a programming error).
Version V(std::string_view literal);

}  // namespace cnm
