#include "common/root_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <deque>
#include <optional>
#include <system_error>

namespace cnm {
namespace {

std::atomic<bool> g_force_walk{false};

bool openat2_disabled() {
  if (g_force_walk.load()) return true;
  static const bool env = [] {
    const char* v = std::getenv("CNMKIT_NO_OPENAT2");
    return v && *v && std::string_view(v) != "0";
  }();
  return env;
}

// Set once openat2 answered ENOSYS (before Linux 5.6) or was refused by a seccomp filter.
std::atomic<bool> g_no_openat2{false};

constexpr int kMaxLinks = 40;  // what the kernel allows (MAXSYMLINKS)

std::string_view relative(std::string_view p) {
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  return p;
}

// Splits a path into its parts, in order, dropping empty ones and ".".
void push_parts_front(std::deque<std::string>& todo, std::string_view path) {
  std::vector<std::string> parts;
  std::size_t b = 0;
  while (b <= path.size()) {
    auto e = path.find('/', b);
    if (e == std::string_view::npos) e = path.size();
    const auto part = path.substr(b, e - b);
    if (!part.empty() && part != ".") parts.emplace_back(part);
    b = e + 1;
  }
  todo.insert(todo.begin(), parts.begin(), parts.end());
}

bool read_link_at(int dirfd, const char* name, std::string& out) {
  char buf[4096];
  const ssize_t n = ::readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0) return false;
  if (static_cast<std::size_t>(n) == sizeof buf) {
    errno = ENAMETOOLONG;
    return false;
  }
  out.assign(buf, static_cast<std::size_t>(n));
  return true;
}

// The portable walk (any kernel with O_PATH, 2.6.39+). `dirs` holds the folders entered below
// the root; ".." pops one and never goes above the root.
int walk_open(int rootfd, std::string_view rel, int flags, mode_t mode) {
  std::deque<std::string> todo;
  push_parts_front(todo, rel);
  std::vector<UniqueFd> dirs;
  const auto cur = [&] { return dirs.empty() ? rootfd : dirs.back().get(); };
  int links = 0;
  const bool follow_last = !(flags & O_NOFOLLOW);
  const auto expand = [&](const std::string& target) {
    if (++links > kMaxLinks) {
      errno = ELOOP;
      return false;
    }
    if (!target.empty() && target.front() == '/') dirs.clear();
    push_parts_front(todo, target);
    return true;
  };
  while (true) {
    if (todo.empty()) return ::openat(cur(), ".", flags & ~(O_CREAT | O_EXCL), mode);
    const std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == "..") {
      if (!dirs.empty()) dirs.pop_back();
      continue;
    }
    if (!todo.empty()) {
      UniqueFd fd(::openat(cur(), part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) return -1;
      struct stat st {};
      if (::fstatat(fd.get(), "", &st, AT_EMPTY_PATH) != 0) return -1;
      if (S_ISLNK(st.st_mode)) {
        std::string target;
        if (!read_link_at(fd.get(), "", target) || !expand(target)) return -1;
      } else if (S_ISDIR(st.st_mode)) {
        dirs.push_back(std::move(fd));
      } else {
        errno = ENOTDIR;
        return -1;
      }
      continue;
    }
    // The last part: opened without following; a link is expanded here when it may be.
    const int fd = ::openat(cur(), part.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
    const int err = errno;
    struct stat st {};
    const bool is_link =
        ::fstatat(cur(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
    if (!follow_last || !is_link) {
      errno = err;
      return fd;
    }
    if (fd >= 0) ::close(fd);  // O_PATH | O_NOFOLLOW opened the link itself
    std::string target;
    if (!read_link_at(cur(), part.c_str(), target) || !expand(target)) return -1;
  }
}

int in_root_open(int rootfd, std::string_view rel, int flags, mode_t mode) {
  if (!openat2_disabled() && !g_no_openat2.load()) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const std::string path(rel.empty() ? "." : rel);
    for (int attempt = 0; attempt < 8; ++attempt) {
      const long fd = ::syscall(SYS_openat2, rootfd, path.c_str(), &how, sizeof how);
      if (fd >= 0) return static_cast<int>(fd);
      if (errno == EAGAIN) continue;  // a rename raced the lookup: the kernel asks to retry
      if (errno != ENOSYS && errno != EPERM && errno != E2BIG) return -1;
      g_no_openat2 = true;  // before Linux 5.6, or filtered: the walk from now on
      break;
    }
  }
  return walk_open(rootfd, rel, flags, mode);
}

}  // namespace

void RootDir::force_portable_walk(bool on) { g_force_walk = on; }

RootDir::RootDir(const std::filesystem::path& root)
    : root_(root.empty() ? std::filesystem::path("/") : root),
      live_(root_ == "/"),
      fd_(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) {
  if (!fd_)
    throw std::system_error(errno, std::generic_category(), "cannot open " + root_.string());
}

std::filesystem::path RootDir::display(std::string_view host_path) const {
  const auto rel = relative(host_path);
  return live_ ? std::filesystem::path("/") / rel : root_ / rel;
}

UniqueFd RootDir::open(std::string_view host_path, int flags, mode_t mode) const {
  const auto rel = relative(host_path);
  if (live_) {
    const std::string abs = "/" + std::string(rel);
    return UniqueFd(::open(abs.c_str(), flags | O_CLOEXEC, mode));
  }
  return UniqueFd(in_root_open(fd_.get(), rel, flags, mode));
}

RootDir::Entry RootDir::parent(std::string_view host_path) const {
  std::string_view rel = relative(host_path);
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  const auto slash = rel.rfind('/');
  Entry e;
  e.name = std::string(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
  if (e.name.empty() || e.name == "." || e.name == "..") {
    errno = EINVAL;
    return e;
  }
  e.dir = open(slash == std::string_view::npos ? "" : rel.substr(0, slash), O_RDONLY | O_DIRECTORY);
  return e;
}

namespace {

// Where an open file is, as the kernel names it (/proc/self/fd/N).
std::optional<std::string> fd_path(int fd) {
  std::string where;
  if (!read_link_at(AT_FDCWD, ("/proc/self/fd/" + std::to_string(fd)).c_str(), where))
    return std::nullopt;
  return where;
}

}  // namespace

std::optional<std::string> RootDir::real_path(std::string_view host_path) const {
  const UniqueFd fd = open(host_path, O_PATH);
  if (!fd) return std::nullopt;
  auto where = fd_path(fd.get());
  if (!where) return std::nullopt;
  if (!live_) {
    // The kernel names the file from the host's root: the root's own name comes off the front.
    const auto top = fd_path(fd_.get());
    if (!top) return std::nullopt;
    if (*where == *top)
      where = "/";
    else if (*top == "/" || where->starts_with(*top + "/"))
      where = where->substr(*top == "/" ? 0 : top->size());
    else
      return std::nullopt;
  }
  // The name is the file's only if it still leads to it: a file removed since is named
  // "... (deleted)", and a name may have been replaced.
  struct stat named {
  }, opened{};
  if (!stat(*where, named, false) || ::fstat(fd.get(), &opened) != 0 ||
      named.st_dev != opened.st_dev || named.st_ino != opened.st_ino)
    return std::nullopt;
  return where;
}

bool RootDir::stat(std::string_view host_path, struct stat& st, bool follow) const {
  const UniqueFd fd = open(host_path, O_PATH | (follow ? 0 : O_NOFOLLOW));
  return fd && ::fstatat(fd.get(), "", &st, AT_EMPTY_PATH) == 0;
}

bool RootDir::exists(std::string_view host_path) const {
  struct stat st {};
  return stat(host_path, st, false);
}

bool RootDir::is_dir(std::string_view host_path) const {
  struct stat st {};
  return stat(host_path, st, true) && S_ISDIR(st.st_mode);
}

bool RootDir::is_file(std::string_view host_path) const {
  struct stat st {};
  return stat(host_path, st, true) && S_ISREG(st.st_mode);
}

std::vector<std::string> RootDir::list(std::string_view host_dir) const {
  std::vector<std::string> out;
  UniqueFd fd = open(host_dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
  if (!fd) return out;
  DIR* d = ::fdopendir(fd.release());
  if (!d) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view n = e->d_name;
    if (n != "." && n != "..") out.emplace_back(n);
  }
  ::closedir(d);
  return out;
}

bool RootDir::resolves_alike(std::string_view host_path) const {
  if (live_) return true;
  struct stat in_root {
  }, on_host{};
  const bool a = stat(host_path, in_root, true);
  const bool b = ::stat(display(host_path).c_str(), &on_host) == 0;
  if (a != b) return false;
  return !a || (in_root.st_dev == on_host.st_dev && in_root.st_ino == on_host.st_ino);
}

std::string RootDir::first_escape(std::string_view host_path) const {
  if (live_) return {};
  // The parents, outermost first, then the path itself.
  const std::string path(relative(host_path));
  for (std::size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1))
    if (!resolves_alike(path.substr(0, slash))) return "/" + path.substr(0, slash);
  if (!resolves_alike(path)) return "/" + path;
  // Below it: every link checked, folders entered (never through a link).
  std::vector<std::string> todo{path};
  std::size_t seen = 0;
  while (!todo.empty() && ++seen < 1000000) {
    const std::string dir = std::move(todo.back());
    todo.pop_back();
    for (const auto& name : list(dir)) {
      const std::string p = dir + "/" + name;
      struct stat st {};
      if (!stat(p, st, false)) continue;
      if (S_ISLNK(st.st_mode) && !resolves_alike(p)) return "/" + p;
      if (S_ISDIR(st.st_mode)) todo.push_back(p);
    }
  }
  return {};
}

bool remove_tree_at(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return true;
  if (errno != EISDIR && errno != EPERM) return false;
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return errno == ENOENT;
  std::vector<std::string> names;
  {
    DIR* d = ::fdopendir(::dup(fd.get()));
    if (!d) return false;
    while (const dirent* e = ::readdir(d)) {
      const std::string_view n = e->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    ::closedir(d);
  }
  for (const auto& n : names)
    if (!remove_tree_at(fd.get(), n)) return false;
  return ::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT;
}

}  // namespace cnm
