// One file the installer wants on the host: what is there now and what should be. Plans are
// lists of these, computed before anything is touched, so --dry-run and the real run agree.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>

#include "common/atomic_file.h"
#include "common/layout.h"
#include "common/root_dir.h"

namespace cnm {

struct FileAction {
  std::string host_path;              // absolute path on the host, e.g. /etc/datadog-agent/x
  std::optional<std::string> before;  // current content; nullopt when absent
  mode_t before_mode = 0;             // current permission bits (when present)
  std::string after;                  // wanted content
  mode_t mode = 0644;                 // wanted permission bits
  std::optional<FileOwner> owner;     // wanted owner when the file is created
  std::string reason;                 // why, for the plan
  // `after` is `before` with some lines changed (the config), not a whole new file: an
  // operator's edit in `before` is carried into what cnmkit writes.
  bool edits_in_place = false;
  // A secret (a probe's token): plans and diffs never show its content.
  bool secret = false;

  bool changes() const { return !before || *before != after || before_mode != mode; }
  const char* verb() const { return !before ? "create" : changes() ? "update" : "keep"; }
};

// Reads the current state of host_path under layout into a FileAction with `after` empty.
// Throws std::runtime_error when the path exists but is not a regular file or is unreadable.
FileAction current_file(const Layout& layout, const std::string& host_path);

// The largest file cnmkit reads whole (a file it replaces, backs up or restores, its state),
// at least a release's per-file limit (release_contents.h). Anything larger is refused, never
// read into memory.
inline constexpr std::size_t kMaxManagedFileBytes = 256u << 20;

// Reads a whole regular file inside the root (common/root_dir.h: links in the parents are
// followed inside it; the file itself must not be a link); nullopt when absent. Throws when
// present but a link, not a regular file, unreadable or larger than kMaxManagedFileBytes.
std::optional<std::string> read_whole(const RootDir& root, const std::string& host_path,
                                      mode_t* mode = nullptr);
// The same for a path outside any root (the archive's private staging folder).
std::optional<std::string> read_whole(const std::filesystem::path& p, mode_t* mode = nullptr);

}  // namespace cnm
