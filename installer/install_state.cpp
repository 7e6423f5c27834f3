#include "installer/install_state.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "common/atomic_file.h"
#include "installer/file_action.h"
#include "installer/sha256.h"

namespace cnm {
namespace {

constexpr const char* kKeptDir = "kept";

std::string journal_file(const Layout& l) { return l.state_dir + "/journal.json"; }

std::string relative_host_path(const std::string& host_path) {
  std::string rel = host_path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  return rel;
}

std::string parent_of(const std::string& host_path) {
  return std::filesystem::path(host_path).parent_path().string();
}

// state_dir and each folder above it, outermost first ("var", "var/lib", "var/lib/cnmkit").
std::vector<std::string> state_dir_chain(const Layout& layout) {
  std::vector<std::string> chain;
  for (auto p = std::filesystem::path(layout.state_dir).lexically_normal(); p.has_relative_path();
       p = p.parent_path())
    chain.insert(chain.begin(), p.string());
  return chain;
}

// The state folder and its missing parents, made all at once: built inside a temp folder
// (".NAME.cnmkit-XXXXXX" next to the first missing one, flocked while it is built) with a
// state.json that already records them, then renamed into place. A run killed before the
// rename leaves only the temp folder (the next run removes it); after it, the record is there.
// Returns the folders this process made; a racing run that renamed first made them instead.
std::vector<std::string> make_state_dirs(const Layout& layout, const RootDir& root) {
  const auto chain = state_dir_chain(layout);
  std::size_t first = 0;
  while (first < chain.size() && root.is_dir(chain[first])) ++first;
  if (first == chain.size()) return {};
  struct stat st {};
  if (root.stat(chain[first], st, false))
    throw std::runtime_error(root.display(chain[first]).string() + " exists and is not a folder");
  const std::string parent = first == 0 ? "/" : chain[first - 1];
  const std::string name = std::filesystem::path(chain[first]).filename().string();
  const UniqueFd pfd = root.open(parent, O_RDONLY | O_DIRECTORY);
  const auto fail = [&](const std::string& what) {
    throw std::system_error(errno, std::generic_category(),
                            what + " " + root.display(chain[first]).string());
  };
  if (!pfd) fail("cannot open the folder of");
  // A temp folder is unlocked between its mkdir and its flock: a racing run's cleanup below
  // could take it for a killed run's and remove it (seen: "cannot hold a folder next to ...:
  // No such file or directory"). Cleanup and creation are therefore serialised on the parent
  // folder's own flock, held for those few calls only.
  if (::flock(pfd.get(), LOCK_EX) != 0) fail("cannot lock the folder of");
  for (const auto& entry : root.list(parent)) {
    if (temp_file_target(entry) != std::string_view(name)) continue;
    const UniqueFd old(
        ::openat(pfd.get(), entry.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (old && ::flock(old.get(), LOCK_EX | LOCK_NB) == 0) remove_tree_at(pfd.get(), entry);
  }
  const std::string tmp = temp_name_for(name);
  if (::mkdirat(pfd.get(), tmp.c_str(), 0755) != 0) fail("cannot create a folder next to");
  const UniqueFd held(
      ::openat(pfd.get(), tmp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!held || ::flock(held.get(), LOCK_EX) != 0) fail("cannot hold a folder next to");
  ::flock(pfd.get(), LOCK_UN);
  std::vector<std::string> made(chain.begin() + static_cast<long>(first), chain.end());
  try {
    ::fchmod(held.get(), 0755);  // mkdir's mode is masked by the umask
    UniqueFd inner(::dup(held.get()));
    for (std::size_t i = 1; i < made.size(); ++i) {
      const auto part = std::filesystem::path(made[i]).filename().string();
      if (::mkdirat(inner.get(), part.c_str(), 0755) != 0) fail("cannot create");
      ::fchmodat(inner.get(), part.c_str(), 0755, 0);
      inner.reset(::openat(inner.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      if (!inner) fail("cannot open");
    }
    const nlohmann::json j = {{"files", nlohmann::json::array()}, {"dirs", made}};
    atomic_write_at(inner.get(), "state.json", j.dump(2) + "\n", 0600, std::nullopt,
                    root.display(state_file(layout)).string());
  } catch (...) {
    remove_tree_at(pfd.get(), tmp);
    throw;
  }
  // RENAME_NOREPLACE (Linux 3.15+) never replaces a folder another run just made, even an
  // empty one; before 3.15 renameat refuses a non-empty one, which a made chain always is.
  int rc = ::renameat2(pfd.get(), tmp.c_str(), pfd.get(), name.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && (errno == EINVAL || errno == ENOSYS))
    rc = ::renameat(pfd.get(), tmp.c_str(), pfd.get(), name.c_str());
  if (rc != 0) {
    remove_tree_at(pfd.get(), tmp);  // another run made them first
    return {};
  }
  ::fsync(pfd.get());
  return made;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

// Calls each(dirfd, dir, name, st) for every entry below `top` that is not a folder, folders
// walked without following links (cnmkit's own state folder: nothing there is another's).
template <typename Each>
void for_each_file_below(const RootDir& root, const std::string& top, Each&& each) {
  std::vector<std::string> todo{top};
  while (!todo.empty()) {
    const std::string dir = std::move(todo.back());
    todo.pop_back();
    const UniqueFd dfd = root.open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!dfd) continue;
    for (const auto& entry : root.list(dir)) {
      struct stat st {};
      if (::fstatat(dfd.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(st.st_mode))
        todo.push_back(dir + "/" + entry);
      else
        each(dfd.get(), dir, entry, st);
    }
  }
}

}  // namespace

void make_dir_0755(const RootDir& root, const std::string& host_path) {
  const auto e = root.parent(host_path);
  const auto shown = root.display(host_path).string();
  if (!e.dir) throw std::system_error(errno, std::generic_category(), "cannot create " + shown);
  if (::mkdirat(e.dir.get(), e.name.c_str(), 0755) != 0 && errno != EEXIST)
    throw std::system_error(errno, std::generic_category(), "cannot create " + shown);
  // mkdir's mode is masked by the caller's umask: set it explicitly.
  if (::fchmodat(e.dir.get(), e.name.c_str(), 0755, 0) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot chmod " + shown);
}

RunLock::RunLock(const Layout& layout, std::chrono::milliseconds wait) : layout_(layout) {
  const RootDir root(layout.root);
  const std::string path = layout.state_dir + "/lock";
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::vector<std::string> made;
  while (true) {
    if (!root.is_dir(layout.state_dir))
      for (auto& d : make_state_dirs(layout, root)) made.push_back(std::move(d));
    UniqueFd fd = root.open(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
    if (!fd) {
      // An uninstall that held the lock removed the state folder: start over.
      if (errno == ENOENT && std::chrono::steady_clock::now() < deadline) continue;
      throw std::system_error(errno, std::generic_category(),
                              "cannot open " + root.display(path).string());
    }
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR)
        throw std::system_error(errno, std::generic_category(),
                                "cannot lock " + root.display(path).string());
      if (std::chrono::steady_clock::now() >= deadline)
        throw std::runtime_error("another cnmctl run holds " + root.display(path).string() +
                                 "; waited " + std::to_string(wait.count() / 1000) +
                                 " s for it; nothing was changed");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // The holder may have been an uninstall that removed the file we locked: only the lock
    // on the file that is still at the path counts.
    struct stat held {
    }, now{};
    if (::fstat(fd.get(), &held) == 0 && root.stat(path, now, false) && same_file(held, now)) {
      fd_ = fd.release();
      break;
    }
  }
  // Under the lock: the folders this run made are recorded (so uninstall removes them).
  if (!made.empty()) {
    InstallState st(layout_);
    st.record_state_dirs(made);
    created_ = true;
  }
}

RunLock::~RunLock() {
  if (fd_ < 0) return;
  if (created_) {
    // A run that failed before writing anything (or had nothing to do) leaves no state behind.
    // Done while the lock is held; a waiter then sees the lock file gone and starts over.
    try {
      InstallState st(layout_);
      if (st.files().empty() && !st.journal_present()) {
        const auto dirs = st.dirs();
        st.remove_all();
        for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
          const auto e = st.root().parent(*it);
          if (e.dir) ::unlinkat(e.dir.get(), e.name.c_str(), AT_REMOVEDIR);  // only if empty
        }
      }
    } catch (const std::exception&) {
      // best effort: a leftover empty state folder is harmless
    }
  }
  ::close(fd_);  // releases the flock
}

std::optional<double> wait_seconds(const std::string& text) {
  // atof would read "abc" as 0 (no wait at all); NaN fails every comparison, so it is refused
  // by the range test written this way round.
  char* end = nullptr;
  errno = 0;
  const double s = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || errno != 0 || !(s >= 0 && s <= kMaxWaitSeconds))
    return std::nullopt;
  return s;
}

std::string wait_seconds_error(const std::string& text) {
  return "'" + text + "' is not a number of seconds from 0 to " + std::to_string(kMaxWaitSeconds);
}

std::chrono::milliseconds lock_wait_from_env() {
  const char* v = std::getenv("CNMKIT_LOCK_TIMEOUT");
  if (!v || !*v) return std::chrono::seconds(120);
  const auto s = wait_seconds(v);
  if (!s) throw std::invalid_argument("CNMKIT_LOCK_TIMEOUT=" + wait_seconds_error(v));
  return std::chrono::milliseconds(static_cast<long>(*s * 1000));
}

bool journal_exists(const Layout& layout) {
  return RootDir(layout.root).exists(journal_file(layout));
}

InstallState::InstallState(const Layout& layout) : layout_(layout), root_(layout.root) {
  const auto j = read_state_json(layout_);
  if (!j) return;
  if (!j->contains("files") || !j->contains("dirs") || !(*j)["files"].is_array() ||
      !(*j)["dirs"].is_array())
    throw damaged_state(layout_);
  try {
    for (const auto& f : (*j)["files"]) {
      FileRecord r;
      r.path = f.at("path").get<std::string>();
      r.existed = f.at("existed").get<bool>();
      r.mode = f.at("mode").get<mode_t>();
      r.uid = f.at("uid").get<uid_t>();
      r.gid = f.at("gid").get<gid_t>();
      // Absent in a state.json written before hashes were recorded: unknown.
      if (f.contains("sha256") && f["sha256"].is_string())
        r.sha256 = f["sha256"].get<std::string>();
      r.carries_edit = f.value("carries_edit", false);
      if (f.contains("pending_sha256") && f["pending_sha256"].is_string())
        r.pending_sha256 = f["pending_sha256"].get<std::string>();
      r.pending_carries_edit = f.value("pending_carries_edit", false);
      files_.push_back(std::move(r));
    }
    for (const auto& d : (*j)["dirs"]) dirs_.push_back(d.get<std::string>());
  } catch (const nlohmann::json::exception&) {
    throw damaged_state(layout_);
  }
  host_ = host_record_from_state(*j, layout_);
  reindex();
}

void InstallState::reindex() {
  index_.clear();
  for (std::size_t i = 0; i < files_.size(); ++i) index_[files_[i].path] = i;
}

bool InstallState::journal_present() const { return root_.exists(journal_file(layout_)); }

bool InstallState::anything_recorded() const {
  if (installed()) return true;
  for (const auto& entry : root_.list(layout_.state_dir))
    if (entry != kKeptDir && entry != "lock") return true;
  return false;
}

const FileRecord* InstallState::find(const std::string& host_path) const {
  const auto it = index_.find(host_path);
  return it == index_.end() ? nullptr : &files_[it->second];
}

void InstallState::save() const {
  nlohmann::json j = {{"files", nlohmann::json::array()}, {"dirs", dirs_}};
  put_host_record(host_, j);
  for (const auto& f : files_) {
    nlohmann::json e = {{"path", f.path}, {"existed", f.existed}, {"mode", f.mode},
                        {"uid", f.uid},   {"gid", f.gid},         {"carries_edit", f.carries_edit}};
    if (f.sha256) e["sha256"] = *f.sha256;
    if (f.pending_sha256) {
      e["pending_sha256"] = *f.pending_sha256;
      e["pending_carries_edit"] = f.pending_carries_edit;
    }
    j["files"].push_back(std::move(e));
  }
  atomic_write(root_, state_file(layout_), j.dump(2) + "\n", 0600);
}

void InstallState::begin(const std::string& what) {
  const auto missing = [&] {
    std::vector<std::string> out;
    for (const auto& d : state_dir_chain(layout_))
      if (!root_.is_dir(d)) out.push_back(d);
    return out;
  }();
  // The state folder itself: made first, then the record can be saved inside it.
  for (const auto& d : missing) {
    make_dir_0755(root_, d);
    dirs_.push_back(d);
  }
  if (!missing.empty()) save();
  atomic_write(root_, journal_file(layout_), nlohmann::json({{"run", what}}).dump() + "\n", 0600);
}

void InstallState::end() {
  const auto e = root_.parent(journal_file(layout_));
  if (e.dir) ::unlinkat(e.dir.get(), e.name.c_str(), 0);
}

std::string InstallState::backup_path(const std::string& host_path) const {
  return layout_.state_dir + "/backup/" + relative_host_path(host_path);
}

std::string InstallState::kept_path(const std::string& host_path) const {
  return layout_.state_dir + "/" + kKeptDir + "/" + relative_host_path(host_path);
}

std::vector<std::string> InstallState::kept_files() const {
  std::vector<std::string> out;
  for_each_file_below(root_, layout_.state_dir + "/" + kKeptDir,
                      [&](int, const std::string& dir, const std::string& name,
                          const struct stat&) { out.push_back(dir + "/" + name); });
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> InstallState::prepare(const std::vector<PlannedWrite>& writes) {
  // Folders the writes need that do not exist (a link to a folder inside the root counts as
  // one), outermost first, each once.
  std::vector<std::string> missing;
  // Recorded already by a run killed before it made them: made now, recorded once.
  std::set<std::string> seen, recorded(dirs_.begin(), dirs_.end());
  for (const auto& w : writes) {
    std::vector<std::string> chain;
    for (auto p = std::filesystem::path(parent_of(w.host_path)).lexically_normal();
         p.has_relative_path(); p = p.parent_path()) {
      const std::string d = p.string();
      if (seen.count(d) || root_.is_dir(d)) break;
      struct stat st {};
      if (root_.stat(d, st, false))
        throw std::runtime_error(root_.display(d).string() + " exists and is not a folder");
      chain.insert(chain.begin(), d);
    }
    for (auto& d : chain)
      if (seen.insert(d).second) missing.push_back(std::move(d));
  }
  std::set<std::string> backup_dirs;
  for (const auto& w : writes) {
    if (const auto it = index_.find(w.host_path); it != index_.end()) {
      files_[it->second].pending_sha256 = w.sha256;
      files_[it->second].pending_carries_edit = w.carries_edit;
      continue;
    }
    FileRecord r;
    r.path = w.host_path;
    r.pending_sha256 = w.sha256;
    r.pending_carries_edit = w.carries_edit;
    mode_t mode = 0;
    if (const auto original = read_whole(root_, w.host_path, &mode)) {
      struct stat st {};
      if (!root_.stat(w.host_path, st, false))
        throw std::system_error(errno, std::generic_category(),
                                "cannot stat " + root_.display(w.host_path).string());
      r.existed = true;
      r.mode = mode;
      r.uid = st.st_uid;
      r.gid = st.st_gid;
      const auto b = backup_path(w.host_path);
      // Inside state_dir: folders made as needed, recorded with it.
      std::vector<std::string> chain;
      for (auto p = std::filesystem::path(parent_of(b));
           p.string() != layout_.state_dir && p.has_relative_path() &&
           !backup_dirs.count(p.string());
           p = p.parent_path())
        chain.insert(chain.begin(), p.string());
      for (const auto& d : chain) {
        if (!root_.is_dir(d)) make_dir_0755(root_, d);
        backup_dirs.insert(d);
      }
      atomic_write(root_, b, *original, 0600);
    }
    files_.push_back(std::move(r));
    index_[files_.back().path] = files_.size() - 1;
  }
  for (const auto& d : missing)
    if (!recorded.count(d)) dirs_.push_back(d);
  save();
  return missing;
}

void InstallState::commit() {
  bool any = false;
  for (auto& f : files_) {
    if (!f.pending_sha256) continue;
    f.sha256 = std::move(f.pending_sha256);
    f.carries_edit = f.pending_carries_edit;
    f.pending_sha256.reset();
    f.pending_carries_edit = false;
    any = true;
  }
  if (any) save();
}

void InstallState::restore(const Snapshot& s) {
  std::set<std::string> kept;
  for (const auto& f : s.files) kept.insert(f.path);
  for (const auto& f : files_) {
    if (kept.count(f.path)) continue;
    const auto e = root_.parent(backup_path(f.path));
    if (e.dir) ::unlinkat(e.dir.get(), e.name.c_str(), 0);
  }
  files_ = s.files;
  dirs_ = s.dirs;
  host_ = s.host;
  reindex();
  save();
}

bool InstallState::settle_pending() {
  bool any = false;
  for (auto& f : files_) {
    if (!f.pending_sha256) continue;
    any = true;
    std::optional<std::string> current;
    try {
      current = read_whole(root_, f.path);
    } catch (const std::exception&) {
      // not a regular file: it does not hold what cnmkit was writing
    }
    if (current && sha256_hex(*current) == *f.pending_sha256) {
      f.sha256 = std::move(f.pending_sha256);
      f.carries_edit = f.pending_carries_edit;
    }
    f.pending_sha256.reset();
    f.pending_carries_edit = false;
  }
  if (any) save();
  return any;
}

void InstallState::set_written(const std::string& host_path, std::optional<std::string> sha256,
                               bool carries_edit) {
  const auto it = index_.find(host_path);
  if (it == index_.end()) return;
  auto& f = files_[it->second];
  if (f.sha256 == sha256 && f.carries_edit == carries_edit) return;
  f.sha256 = std::move(sha256);
  f.carries_edit = carries_edit;
  save();
}

void InstallState::record_state_dirs(const std::vector<std::string>& made) {
  const auto chain = state_dir_chain(layout_);
  auto in = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  std::vector<std::string> front;
  for (const auto& c : chain)
    if (in(made, c) || in(dirs_, c)) front.push_back(c);
  std::erase_if(dirs_, [&](const std::string& d) { return in(chain, d); });
  dirs_.insert(dirs_.begin(), front.begin(), front.end());
  save();
}

std::vector<std::string> InstallState::remove_stale_temps() const {
  // Folder -> the names cnmkit writes there.
  std::unordered_map<std::string, std::set<std::string>> targets;
  const auto add = [&](const std::string& host_path) {
    const auto p = std::filesystem::path(host_path);
    targets[p.parent_path().string()].insert(p.filename().string());
  };
  for (const auto& f : files_) add(f.path);
  std::vector<std::string> removed;
  // state_dir is cnmkit's alone: any temp file of atomic_write's below it is a killed run's
  // (a backup being written before its record was saved, say).
  for_each_file_below(
      root_, layout_.state_dir,
      [&](int dfd, const std::string& dir, const std::string& name, const struct stat& st) {
        if (S_ISREG(st.st_mode) && temp_file_target(name) && ::unlinkat(dfd, name.c_str(), 0) == 0)
          removed.push_back(dir + "/" + name);
      });
  for (const auto& [dir, names] : targets) {
    const UniqueFd dfd = root_.open(dir, O_RDONLY | O_DIRECTORY);
    if (!dfd) continue;
    for (const auto& entry : root_.list(dir)) {
      // ".NAME.cnmkit-XXXXXX" for NAME itself or its NAME.cnmkit-save[.N] copy.
      const auto target = temp_file_target(entry);
      bool ours = false;
      if (target) {
        const std::string t(*target);
        ours = names.count(t) > 0;
        for (const auto& n : names) ours = ours || t.starts_with(n + ".cnmkit-save");
      }
      struct stat st {};
      if (!ours || ::fstatat(dfd.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISREG(st.st_mode))
        continue;
      if (::unlinkat(dfd.get(), entry.c_str(), 0) == 0) removed.push_back(dir + "/" + entry);
    }
  }
  return removed;
}

void InstallState::remove_all() {
  const auto fail = [&] {
    throw std::system_error(errno, std::generic_category(),
                            "cannot remove " + root_.display(layout_.state_dir).string());
  };
  const auto e = root_.parent(layout_.state_dir);
  if (!e.dir) fail();
  struct stat st {};
  const bool is_folder =
      ::fstatat(e.dir.get(), e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
  if (!is_folder || !root_.exists(layout_.state_dir + "/" + kKeptDir)) {
    if (!remove_tree_at(e.dir.get(), e.name)) fail();
  } else {
    // Originals in kept/ have nowhere else to be: everything else goes, the folder stays.
    const UniqueFd dfd(
        ::openat(e.dir.get(), e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dfd) fail();
    for (const auto& entry : root_.list(layout_.state_dir))
      if (entry != kKeptDir && !remove_tree_at(dfd.get(), entry)) fail();
  }
  files_.clear();
  index_.clear();
  dirs_.clear();
  host_ = {};
}

}  // namespace cnm
