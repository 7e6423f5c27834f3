// The jail every part uses under --root: a path is resolved inside the root as a chroot would
// resolve it (an absolute symlink starts again at the root, ".." stops at it), for reads and
// writes alike. On the live host ("/") that is the kernel's own resolution.
//
// Linux 5.6+ does this in one call, openat2(RESOLVE_IN_ROOT). Older kernels (RHEL 7's 3.10)
// get a portable walk: one openat(O_PATH | O_NOFOLLOW) per component, symlinks read with
// readlinkat and expanded here, ".." taken on our own stack of folders (never asked of the
// kernel), so a link or a rename cannot lead the walk out of the root.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"

namespace cnm {

class RootDir {
 public:
  // Opens the root folder; throws std::system_error naming it when it cannot.
  explicit RootDir(const std::filesystem::path& root = "/");

  bool is_live() const { return live_; }
  const std::filesystem::path& path() const { return root_; }
  // root/host_path, lexically: for messages only, never to open.
  std::filesystem::path display(std::string_view host_path) const;

  // open(2) of host_path inside the root. Links in every part are followed inside the root,
  // the last part's too unless flags has O_NOFOLLOW. An empty fd, with errno set, on failure.
  UniqueFd open(std::string_view host_path, int flags, mode_t mode = 0) const;

  // The folder holding host_path's last part (O_RDONLY | O_DIRECTORY, resolved inside the
  // root) and that part's name, for the *at() calls that create, rename or remove it. An empty
  // fd, with errno set, when the folder cannot be opened; EINVAL for the root itself or a
  // path ending in "." or "..".
  struct Entry {
    UniqueFd dir;
    std::string name;
  };
  Entry parent(std::string_view host_path) const;

  // stat(2)/lstat(2) inside the root; false with errno set on failure.
  bool stat(std::string_view host_path, struct stat& st, bool follow = true) const;
  bool exists(std::string_view host_path) const;
  bool is_dir(std::string_view host_path) const;   // follows links (inside the root)
  bool is_file(std::string_view host_path) const;  // a regular file, links followed (inside)

  // The names in a folder (no "." or ".."); empty when it cannot be read.
  std::vector<std::string> list(std::string_view host_dir) const;

  // For libraries that take a path and resolve it themselves (libsemanage, libselinux): whether
  // the host's resolution of display(host_path) finds what the resolution inside the root
  // finds (or neither finds anything). False when a link on the way leads somewhere else.
  bool resolves_alike(std::string_view host_path) const;
  // The first path, from host_path's parents down through everything below it (links are
  // checked, never followed), that does not resolve alike; empty when every one does.
  std::string first_escape(std::string_view host_path) const;

  // host_path with every link resolved inside the root, as realpath(3) run in a chroot there
  // gives it ("/opt/x/stable/bin" -> "/opt/x/7.60.0-1/bin" where stable is a link, absolute or
  // not): a path the host resolves alike up to its end. nullopt when it does not exist.
  std::optional<std::string> real_path(std::string_view host_path) const;

  // Tests: force the portable walk even where openat2 exists (also $CNMKIT_NO_OPENAT2=1).
  static void force_portable_walk(bool on);

 private:
  std::filesystem::path root_;
  bool live_;
  UniqueFd fd_;
};

// Removes name under dirfd and, if it is a folder, everything in it, never following a link.
// Returns false with errno set on the first failure (ENOENT counts as done).
bool remove_tree_at(int dirfd, const std::string& name);

}  // namespace cnm
