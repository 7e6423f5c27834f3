#include "installer/install_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "common/atomic_file.h"
#include "installer/file_action.h"

namespace cnm {
namespace {

std::filesystem::path state_file(const Layout& l) { return l.at(l.state_dir) / "state.json"; }
std::filesystem::path journal_file(const Layout& l) { return l.at(l.state_dir) / "journal.json"; }

}  // namespace

void make_dir_0755(const std::filesystem::path& p) {
  std::filesystem::create_directory(p);
  // mkdir's mode is masked by the caller's umask: set it explicitly.
  std::filesystem::permissions(p, std::filesystem::perms(0755),
                               std::filesystem::perm_options::replace);
}

namespace {

// state_dir and each folder above it, outermost first ("var", "var/lib", "var/lib/cnmkit").
std::vector<std::string> state_dir_chain(const Layout& layout) {
  std::vector<std::string> chain;
  for (auto p = std::filesystem::path(layout.state_dir).lexically_normal(); p.has_relative_path();
       p = p.parent_path())
    chain.insert(chain.begin(), p.string());
  return chain;
}

// The state folder and its missing parents, made with one mkdir each (outermost first); returns
// the ones this process made. Two runs racing here each get only their own: EEXIST means the
// other made it. Nothing is recorded yet (state.json may only be written under the lock).
std::vector<std::string> make_state_dirs(const Layout& layout) {
  std::vector<std::string> made;
  for (const auto& d : state_dir_chain(layout)) {
    const auto target = layout.at(d);
    if (::mkdir(target.c_str(), 0755) == 0) {
      ::chmod(target.c_str(), 0755);  // mkdir's mode is masked by the umask
      made.push_back(d);
    } else if (errno != EEXIST) {
      throw std::system_error(errno, std::generic_category(), "cannot create " + target.string());
    } else if (!std::filesystem::is_directory(target)) {
      throw std::runtime_error(target.string() + " exists and is not a folder");
    }
  }
  return made;
}

}  // namespace

RunLock::RunLock(const Layout& layout, std::chrono::milliseconds wait) : layout_(layout) {
  const auto path = layout.at(layout.state_dir) / "lock";
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::vector<std::string> made;
  while (true) {
    if (!std::filesystem::is_directory(layout.at(layout.state_dir)))
      for (auto& d : make_state_dirs(layout)) made.push_back(std::move(d));
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd_ < 0) {
      // An uninstall that held the lock removed the state folder: start over.
      if (errno == ENOENT && std::chrono::steady_clock::now() < deadline) continue;
      throw std::system_error(errno, std::generic_category(), "cannot open " + path.string());
    }
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        const int e = errno;
        ::close(fd_);
        throw std::system_error(e, std::generic_category(), "cannot lock " + path.string());
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        ::close(fd_);
        fd_ = -1;
        throw std::runtime_error("another cnmctl run holds " + path.string() + "; waited " +
                                 std::to_string(wait.count() / 1000) +
                                 " s for it; nothing was changed");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // The holder may have been an uninstall that removed the file we locked: only the lock
    // on the file that is still at the path counts.
    struct stat held {
    }, now{};
    if (::fstat(fd_, &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev)
      break;
    ::close(fd_);
    fd_ = -1;
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
        for (auto it = dirs.rbegin(); it != dirs.rend(); ++it)
          ::rmdir(layout_.at(*it).c_str());  // only if still empty
      }
    } catch (const std::exception&) {
      // best effort: a leftover empty state folder is harmless
    }
  }
  ::close(fd_);  // releases the flock
}

std::chrono::milliseconds lock_wait_from_env() {
  const char* v = std::getenv("CNMKIT_LOCK_TIMEOUT");
  const double s = v && *v ? std::atof(v) : 120.0;
  return std::chrono::milliseconds(static_cast<long>(s * 1000));
}

bool journal_exists(const Layout& layout) {
  std::error_code ec;
  return std::filesystem::exists(journal_file(layout), ec);
}

InstallState::InstallState(const Layout& layout) : layout_(layout) {
  const auto text = read_whole(state_file(layout_));
  if (!text) return;
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("files") || !j.contains("dirs"))
    throw std::runtime_error(state_file(layout_).string() +
                             " is damaged; fix or remove it by hand");
  for (const auto& f : j["files"]) {
    FileRecord r;
    r.path = f.at("path").get<std::string>();
    r.existed = f.at("existed").get<bool>();
    r.mode = f.at("mode").get<mode_t>();
    r.uid = f.at("uid").get<uid_t>();
    r.gid = f.at("gid").get<gid_t>();
    // Absent in a state.json written before hashes were recorded: unknown.
    if (f.contains("sha256") && f["sha256"].is_string()) r.sha256 = f["sha256"].get<std::string>();
    r.carries_edit = f.value("carries_edit", false);
    files_.push_back(r);
  }
  for (const auto& d : j["dirs"]) dirs_.push_back(d.get<std::string>());
}

bool InstallState::journal_present() const { return journal_exists(layout_); }

const FileRecord* InstallState::find(const std::string& host_path) const {
  for (const auto& f : files_)
    if (f.path == host_path) return &f;
  return nullptr;
}

void InstallState::save() const {
  nlohmann::json j = {{"files", nlohmann::json::array()}, {"dirs", dirs_}};
  for (const auto& f : files_) {
    nlohmann::json e = {{"path", f.path}, {"existed", f.existed}, {"mode", f.mode},
                        {"uid", f.uid},   {"gid", f.gid},         {"carries_edit", f.carries_edit}};
    if (f.sha256) e["sha256"] = *f.sha256;
    j["files"].push_back(std::move(e));
  }
  atomic_write(state_file(layout_), j.dump(2) + "\n", 0600);
}

void InstallState::begin(const std::string& what) {
  record_missing_dirs(layout_.state_dir);
  atomic_write(journal_file(layout_), nlohmann::json({{"run", what}}).dump() + "\n", 0600);
}

void InstallState::end() {
  std::error_code ec;
  std::filesystem::remove(journal_file(layout_), ec);
}

std::filesystem::path InstallState::backup_path(const std::string& host_path) const {
  std::string rel = host_path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  return layout_.at(layout_.state_dir) / "backup" / rel;
}

bool InstallState::record_file(const std::string& host_path, const std::string& sha256) {
  if (find(host_path)) return false;
  FileRecord r;
  r.path = host_path;
  r.sha256 = sha256;
  const auto target = layout_.at(host_path);
  mode_t mode = 0;
  if (const auto original = read_whole(target, &mode)) {
    struct stat st {};
    if (::stat(target.c_str(), &st) != 0)
      throw std::system_error(errno, std::generic_category(), "cannot stat " + target.string());
    r.existed = true;
    r.mode = mode;
    r.uid = st.st_uid;
    r.gid = st.st_gid;
    const auto b = backup_path(host_path);
    std::filesystem::create_directories(b.parent_path());  // inside state_dir: 0700 is fine
    atomic_write(b, *original, 0600);
  }
  files_.push_back(r);
  save();
  return true;
}

void InstallState::set_written(const std::string& host_path, std::optional<std::string> sha256,
                               bool carries_edit) {
  for (auto& f : files_) {
    if (f.path != host_path) continue;
    if (f.sha256 == sha256 && f.carries_edit == carries_edit) return;
    f.sha256 = std::move(sha256);
    f.carries_edit = carries_edit;
    save();
    return;
  }
}

std::vector<std::string> InstallState::record_missing_dirs(const std::string& host_dir) {
  std::vector<std::string> missing;
  std::filesystem::path p = std::filesystem::path(host_dir).lexically_normal();
  while (p.has_relative_path()) {
    std::error_code ec;
    const auto st = std::filesystem::symlink_status(layout_.at(p.string()), ec);
    if (std::filesystem::is_directory(st)) break;
    if (std::filesystem::is_symlink(st) &&
        std::filesystem::is_directory(layout_.at(p.string()), ec))
      break;
    if (std::filesystem::exists(st))
      throw std::runtime_error(layout_.at(p.string()).string() + " exists and is not a folder");
    missing.insert(missing.begin(), p.string());
    p = p.parent_path();
  }
  if (missing.empty()) return missing;
  const bool state_dir_exists = std::filesystem::is_directory(layout_.at(layout_.state_dir));
  for (const auto& d : missing) dirs_.push_back(d);
  if (state_dir_exists) {
    save();
  } else {
    // The state folder itself: make it first, then the record can be saved inside it.
    for (const auto& d : missing) make_dir_0755(layout_.at(d));
    save();
  }
  return missing;
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

void InstallState::truncate(std::size_t files, std::size_t dirs) {
  for (std::size_t i = files; i < files_.size(); ++i) {
    std::error_code ec;
    std::filesystem::remove(backup_path(files_[i].path), ec);
  }
  if (files < files_.size()) files_.resize(files);
  if (dirs < dirs_.size()) dirs_.resize(dirs);
  save();
}

void InstallState::remove_all() {
  std::error_code ec;
  std::filesystem::remove_all(layout_.at(layout_.state_dir), ec);
  if (ec) throw std::system_error(ec, "cannot remove " + layout_.at(layout_.state_dir).string());
  files_.clear();
}

}  // namespace cnm
