#include "common/mounts.h"

namespace cnm {
namespace {

// The kernel escapes a space, tab, newline and backslash in paths as \ooo (fs/proc_namespace.c,
// seq_escape with " \t\n\\"); anything else is taken as it is.
std::string unescape_octal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<Mount> parse_line(std::string_view line) {
  // Fields are separated by one space (the kernel escapes spaces inside them); runs of spaces
  // are taken as one, as a hand-written table might have them.
  std::vector<std::string_view> f;
  for (std::size_t at = 0; at < line.size();) {
    const auto sp = line.find(' ', at);
    const auto end = sp == std::string_view::npos ? line.size() : sp;
    if (end > at) f.push_back(line.substr(at, end - at));
    at = end + 1;
  }
  // The separator comes after the six fixed fields and any optional ones (shared:N, master:N,
  // propagate_from:N, unbindable); FSTYPE and SOURCE must follow it.
  std::size_t dash = 6;
  while (dash < f.size() && f[dash] != "-") ++dash;
  // SUPER_OPTIONS is never empty; SOURCE is when a mount was made with "" as its device (the
  // kernel prints it as it is, show_mountinfo in fs/proc_namespace.c): two fields left.
  const std::size_t after = f.size() > dash ? f.size() - dash - 1 : 0;
  if (after < 2) return std::nullopt;
  const std::string_view source = after == 2 ? std::string_view() : f[dash + 2];
  return Mount{unescape_octal(f[3]), unescape_octal(f[4]), unescape_octal(f[5]),
               unescape_octal(f[dash + 1]), unescape_octal(source)};
}

}  // namespace

std::vector<Mount> parse_mountinfo(std::string_view text, bool truncated) {
  if (truncated) {
    // The limit cut the last line: what remains of it may parse as something it is not.
    const auto nl = text.rfind('\n');
    text = nl == std::string_view::npos ? std::string_view() : text.substr(0, nl + 1);
  }
  std::vector<Mount> out;
  for_each_line(text, [&](std::string_view line) {
    if (auto m = parse_line(line)) out.push_back(std::move(*m));
  });
  return out;
}

std::optional<std::vector<Mount>> read_mounts(const HostFs& fs, std::string* why) {
  static constexpr const char* kFile = "/proc/self/mountinfo";
  // Through the bounded reader: a FIFO or a link to /dev/zero is refused, not read.
  const auto t = fs.read_file(kFile, kMaxMountTableBytes);
  if (!t.ok()) {
    if (why) *why = std::string(kFile) + " " + describe_unread(t, kMaxMountTableBytes);
    return std::nullopt;
  }
  return parse_mountinfo(t.text, t.truncated);
}

const Mount* find_whole_mount(const std::vector<Mount>& ms, std::string_view type) {
  for (const auto& m : ms)
    if (m.type == type && m.root == "/") return &m;
  return nullptr;
}

}  // namespace cnm
