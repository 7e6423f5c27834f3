#include "checks/libc_detect.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstring>
#include <filesystem>
#include <vector>

#include "common/mapped_file.h"

namespace cnm {
namespace {

// "2.36" (digits and dots, starting and ending with a digit) at the start of s.
std::optional<std::string> leading_version(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
  while (n > 0 && s[n - 1] == '.') --n;
  if (n == 0 || s.substr(0, n).find('.') == std::string_view::npos) return std::nullopt;
  return std::string(s.substr(0, n));
}

// Where distributions put libc.so.6: lib64 (RHEL, SUSE, Fedora, Amazon Linux), the multiarch
// folder (Debian, Ubuntu), then plain lib. arch is uname's machine, "aarch64" on 64-bit Arm (a
// release's "-arm64" is mapped so in checks/host_facts.cpp).
std::vector<std::string> glibc_candidates(std::string_view arch) {
  const std::string triplet = std::string(arch) + "-linux-gnu";
  return {"/lib64/libc.so.6",
          "/usr/lib64/libc.so.6",
          "/lib/" + triplet + "/libc.so.6",
          "/usr/lib/" + triplet + "/libc.so.6",
          "/lib/libc.so.6",
          "/usr/lib/libc.so.6"};
}

// The file name a symbolic link names (inside the root); "" when host_path is not a link.
std::string link_target_name(const RootDir& root, const std::string& host_path) {
  struct stat st {};
  if (!root.stat(host_path, st, false) || !S_ISLNK(st.st_mode)) return "";
  const auto entry = root.parent(host_path);
  if (!entry.dir) return "";
  char buf[PATH_MAX];
  const ssize_t n = ::readlinkat(entry.dir.get(), entry.name.c_str(), buf, sizeof buf);
  if (n <= 0) return "";
  return std::filesystem::path(std::string(buf, static_cast<std::size_t>(n))).filename().string();
}

std::optional<LibcInfo> detect_musl(const HostFs& fs, std::string_view arch) {
  const std::string loader = "/lib/ld-musl-" + std::string(arch) + ".so.1";
  if (!fs.exists(loader)) return std::nullopt;
  return LibcInfo{"musl", std::nullopt, loader};
}

// glibc up to 2.33 installs libc-2.NN.so with libc.so.6 linking to it; from 2.34 libc.so.6 is
// the library itself, and its banner (what running it prints) holds the version.
std::optional<LibcInfo> detect_glibc(const HostFs& fs, std::string_view arch) {
  const RootDir& root = fs.dir();
  for (const auto& candidate : glibc_candidates(arch)) {
    if (!root.exists(candidate)) continue;
    LibcInfo info{"glibc", std::nullopt, candidate};
    info.version = glibc_version_from_file_name(link_target_name(root, candidate));
    if (!info.version) {
      // libc.so.6 is about 2 MB; the banner sits in its read-only data.
      const UniqueFd fd = root.open(candidate, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      const MappedFile lib(fd.get(), 64u << 20);
      info.version = glibc_version_from_banner(lib.bytes());
    }
    return info;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> glibc_version_from_banner(std::string_view bytes) {
  static constexpr std::string_view kMark = "release version ";
  std::size_t off = 0;
  while (off < bytes.size()) {
    const void* hit = ::memmem(bytes.data() + off, bytes.size() - off, kMark.data(), kMark.size());
    if (!hit) return std::nullopt;
    const auto at = static_cast<std::size_t>(static_cast<const char*>(hit) - bytes.data());
    // Only glibc's own banner: "GNU C Library" earlier on the same NUL-terminated string.
    const auto nul = bytes.rfind('\0', at);
    const auto begin = nul == std::string_view::npos ? 0 : nul;
    const auto line = bytes.substr(begin, at - begin);
    if (line.find("GNU C Library") != std::string_view::npos)
      if (auto v = leading_version(bytes.substr(at + kMark.size(), 16))) return v;
    off = at + kMark.size();
  }
  return std::nullopt;
}

std::optional<std::string> glibc_version_from_file_name(std::string_view name) {
  static constexpr std::string_view kPrefix = "libc-";
  if (name.substr(0, kPrefix.size()) != kPrefix || name.size() < 3 ||
      name.substr(name.size() - 3) != ".so")
    return std::nullopt;
  const auto v = name.substr(kPrefix.size(), name.size() - kPrefix.size() - 3);
  auto parsed = leading_version(v);
  return parsed && parsed->size() == v.size() ? parsed : std::nullopt;
}

std::optional<LibcInfo> detect_libc(const HostFs& fs, std::string_view arch) {
  // A --root whose architecture nothing says (no proc/sys/kernel/arch, no suffix on the
  // kernel release) is looked at as either of the two the fleet runs.
  const bool known = !arch.empty() && arch != "unknown";
  for (const std::string_view a : known ? std::vector<std::string_view>{arch}
                                        : std::vector<std::string_view>{"x86_64", "aarch64"}) {
    // A glibc whose version reads is the host's C library even beside musl's loader: Debian's
    // and Ubuntu's `musl` package (musl-tools) installs /lib/ld-musl-ARCH.so.1 on glibc hosts.
    // A libc.so.6 without glibc's banner (a compatibility shim) does not outweigh musl's loader.
    auto glibc = detect_glibc(fs, a);
    if (glibc && glibc->version) return glibc;
    if (auto musl = detect_musl(fs, a)) return musl;
    if (glibc) return glibc;
  }
  return std::nullopt;
}

}  // namespace cnm
