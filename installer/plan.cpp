#include "installer/plan.h"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include "common/process.h"
#include "installer/apply.h"

namespace cnm {
namespace {

bool is_text(const std::string& s) { return s.find('\0') == std::string::npos; }

// A temp file holding content, removed when the object dies.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    const char* base = std::getenv("TMPDIR");
    path_ = std::string(base && *base ? base : "/tmp") + "/cnmkit-diff-XXXXXX";
    const int fd = ::mkstemp(path_.data());
    if (fd < 0) throw std::runtime_error("cannot create a temp file for the diff");
    std::size_t off = 0;
    while (off < content.size()) {
      const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    ::close(fd);
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// diffutils' `diff -u` (always on Debian) rather than a hand-written diff.
std::string unified_diff(const FileAction& f) {
  const TempFile after(f.after);
  std::optional<TempFile> before;
  if (f.before) before.emplace(*f.before);
  std::string out;
  run_command({"diff", "-u", "--label", f.before ? "a" + f.host_path : "/dev/null", "--label",
               "b" + f.host_path, before ? before->path() : "/dev/null", after.path()},
              &out);
  return out;
}

std::string mode_str(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m));
  return buf;
}

}  // namespace

bool Plan::changes() const {
  for (const auto& f : files)
    if (f.changes()) return true;
  return !services.empty();
}

// What changes in one file: a unified diff for text, the mode change, or the new size.
std::string file_change_text(const FileAction& f) {
  if (f.secret) return "  secret, not shown\n";
  if (f.before && *f.before == f.after)
    return "  mode " + mode_str(f.before_mode) + " -> " + mode_str(f.mode) + "\n";
  if (is_text(f.after) && (!f.before || is_text(*f.before))) return unified_diff(f);
  return "  binary file, " + std::to_string(f.after.size()) + " bytes\n";
}

nlohmann::json plan_json(const Plan& plan, bool with_diffs) {
  auto actions = nlohmann::json::array();
  for (const auto& f : plan.files) {
    actions.push_back({{"type", "file"},
                       {"path", f.host_path},
                       {"action", f.verb()},
                       {"changed", f.changes()},
                       {"mode", mode_str(f.mode)},
                       {"reason", f.reason}});
    if (with_diffs && f.changes()) actions.back()["diff"] = file_change_text(f);
  }
  for (const auto& s : plan.services) {
    actions.push_back(
        {{"type", "service"}, {"command", s.argv}, {"changed", true}, {"reason", s.reason}});
  }
  if (plan.health_check) actions.push_back({{"type", "health_check"}, {"changed", false}});
  return actions;
}

std::string plan_text(const Plan& plan, bool with_diffs) {
  std::string out;
  for (const auto& n : plan.notes) out += "note: " + n + "\n";
  for (const auto& f : plan.files) {
    out += std::string(f.verb()) + " " + f.host_path + " (" + mode_str(f.mode) + "): " + f.reason +
           "\n";
    if (with_diffs && f.changes()) out += file_change_text(f);
  }
  for (const auto& s : plan.services) {
    out += "run " + command_line(s.argv) + ": " + s.reason + "\n";
  }
  if (plan.health_check) out += "check the probe's " + *plan.health_check + " answers\n";
  if (!plan.changes()) out += "nothing to change\n";
  return out;
}

}  // namespace cnm
