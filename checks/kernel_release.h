// Kernel release strings as uname -r prints them. There is no formal grammar: upstream is
// "VERSION.PATCHLEVEL.SUBLEVEL" followed by EXTRAVERSION and CONFIG_LOCALVERSION, which
// distributions fill freely: "4.4.0-210-generic", "3.10.0-957.el7.x86_64", "5.15.107+",
// "6.1.0-rc7", "4.4.0-ovh", "5.4" (no sublevel). We parse the leading numbers and keep the rest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cnm {

struct KernelRelease {
  std::uint32_t major = 0, minor = 0, patch = 0;
  std::string extra;  // everything after the numeric part, e.g. "-957.el7.x86_64"
  std::string raw;

  // The distribution build number: the first number after '-' ("-957.el7" -> 957,
  // "-210-generic" -> 210). RHEL 7 backports eBPF from build 957 (7.6) on.
  std::optional<std::uint32_t> build() const;
  // "el7", "el8"... when the release carries a RHEL-family tag; empty otherwise.
  std::string el_tag() const;

  std::uint64_t code() const {  // comparable like KERNEL_VERSION(a,b,c), without its 255 cap
    return (std::uint64_t{major} << 40) | (std::uint64_t{minor} << 20) | patch;
  }
  bool at_least(std::uint32_t a, std::uint32_t b, std::uint32_t c) const {
    return code() >= KernelRelease{a, b, c, {}, {}}.code();
  }
  std::string numeric() const;  // "3.10.0"

  // nullopt with a reason when the text does not start with MAJOR.MINOR.
  static std::optional<KernelRelease> parse(std::string_view text, std::string* why = nullptr);
};

}  // namespace cnm
