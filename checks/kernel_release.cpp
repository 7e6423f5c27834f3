#include "checks/kernel_release.h"

#include "common/host_fs.h"

namespace cnm {
namespace {

// Reads a decimal number of at most 7 digits (no kernel component is bigger; this also
// keeps any arithmetic far from overflow). Returns nullopt when there is no digit.
std::optional<std::uint32_t> number(std::string_view s, std::size_t& i) {
  const std::size_t start = i;
  std::uint32_t n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (i - start >= 7) return std::nullopt;
    n = n * 10 + static_cast<std::uint32_t>(s[i] - '0');
    ++i;
  }
  if (i == start) return std::nullopt;
  return n;
}

}  // namespace

std::optional<KernelRelease> KernelRelease::parse(std::string_view text, std::string* why) {
  auto reject = [&](const char* reason) -> std::optional<KernelRelease> {
    if (why) *why = reason;
    return std::nullopt;
  };
  const std::string_view s = trim(text);
  if (s.empty()) return reject("empty kernel release");
  if (s.size() > 256) return reject("kernel release longer than 256 characters");
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
      return reject("kernel release contains whitespace or non-printable characters");
  }
  KernelRelease k;
  k.raw = std::string(s);
  std::size_t i = 0;
  const auto major = number(s, i);
  if (!major) return reject("kernel release does not start with a version number");
  if (i >= s.size() || s[i] != '.') return reject("kernel release has no minor version (X.Y)");
  ++i;
  const auto minor = number(s, i);
  if (!minor) return reject("kernel release has no minor version (X.Y)");
  k.major = *major;
  k.minor = *minor;
  if (i + 1 < s.size() && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
    ++i;
    const auto patch = number(s, i);
    if (!patch) return reject("kernel release sublevel is not a number");
    k.patch = *patch;
  }
  k.extra = std::string(s.substr(i));
  return k;
}

std::optional<std::uint32_t> KernelRelease::build() const {
  if (extra.size() < 2 || extra[0] != '-') return std::nullopt;
  std::size_t i = 1;
  return number(extra, i);
}

std::string KernelRelease::el_tag() const {
  // ".el7", ".el7_9", ".el8_6" as in 3.10.0-1160.el7.x86_64 or 4.18.0-372.el8_6.x86_64.
  const auto pos = extra.find(".el");
  if (pos == std::string::npos) return {};
  std::size_t i = pos + 3;
  const auto n = number(extra, i);
  if (!n) return {};
  return "el" + std::to_string(*n);
}

std::string KernelRelease::numeric() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace cnm
